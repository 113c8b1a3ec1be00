"""Shared fixtures for the chain, model, property and interop tests (a plain module).

Everything here is deterministic: keys come from fixed seeds, the clock is the
constant :data:`NOW`, and randomness is a counter run through SHA-256, so one
call with one label always yields the same bytes.

Two levels of building are offered:

* through the public API (:func:`standard_token`, :func:`standard_presentation`,
  :func:`linear_chain`): what an honest issuer would make;
* by hand (:func:`link_claims`, :func:`sign_link`, :func:`resign`,
  :func:`invocation_claims`, :func:`sign_invocation`, :func:`assemble`): raw claim
  maps signed with any key, so tests can make what the issuer refuses to make
  (widening, a wrong parent hash, a bad window, an unknown claim...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agentchain import (
    ApprovalRequirement,
    Descriptor,
    MemoryStore,
    Presentation,
    PrivateKey,
    PublicKey,
    Request,
    TrustPolicy,
    Verifier,
    _build,
    approve,
    attest,
    delegate,
    invoke,
    issue,
)
from agentchain._build import Rng, jose_container, raw_jws
from agentchain.codec import (
    L_CAPS,
    L_CAVEATS,
    L_DEPTH,
    L_DESCRIPTOR,
    L_EXP,
    L_HOLDER,
    L_IAT,
    L_ISSUER,
    L_NBF,
    L_PARENT,
    L_VERSION,
    TEXT_PREFIX_CBOR,
    TYP_INVOCATION,
    TYP_LINK,
    VERSION,
    Encoding,
    Link,
    Signed,
    decode_presentation_unverified,
    request_digest,
    sign_object,
)
from agentchain.crypto import EDDSA, ES256
from agentchain.errors import AgentchainError

__all__ = [
    "AGENT",
    "ALICE",
    "AUD",
    "CAL",
    "EDDSA",
    "ES256",
    "MAIL",
    "MALLORY",
    "NOW",
    "REQUEST",
    "ROOT_CAPS",
    "SUB",
    "SUB2",
    "SUB_CAPS",
    "Rng",
    "assemble",
    "claims_of",
    "interop_presentation",
    "invocation_claims",
    "invoke_raw",
    "jose_container",
    "jose_payload",
    "jose_present",
    "key",
    "linear_chain",
    "link_claims",
    "make_policy",
    "make_verifier",
    "raw_jws",
    "resign",
    "sign_invocation",
    "sign_link",
    "standard_presentation",
    "standard_token",
]

#: the fixed clock of every test: 2027-01-15T08:00:00Z
NOW = 1_800_000_000
#: the verifier's own name (its audience)
AUD = "https://cal.example"
CAL = "https://cal.example/alice"
MAIL = "https://mail.example/alice"

# ---------------------------------------------------------------------------
# keys


def key(name: str, alg: str = EDDSA) -> PrivateKey:
    """A fixed key per (name, alg): the seed is SHA-256 of the name."""
    return _build.seeded(name, alg)


ALICE = key("alice")  # the person: the trust anchor
AGENT = key("agent")
SUB = key("sub")
SUB2 = key("sub2")
MALLORY = key("mallory")  # never trusted, never a holder


# ---------------------------------------------------------------------------
# policy and verifier

#: the request the standard presentation is made for
REQUEST = Request("calendar/read", CAL + "/events")


def make_policy(*anchors: PublicKey, **overrides: Any) -> TrustPolicy:
    """A TrustPolicy for :data:`AUD` trusting ``anchors`` (ALICE by default)."""
    return TrustPolicy(anchors=anchors or (ALICE.public_key,), audience=AUD, **overrides)


def make_verifier(
    *anchors: PublicKey,
    now: int = NOW,
    store: MemoryStore | None = None,
    **overrides: Any,
) -> Verifier:
    """A Verifier with a fixed clock and a fresh store unless one is given."""
    return Verifier(
        make_policy(*anchors, **overrides),
        store=store if store is not None else MemoryStore(),
        clock=lambda: now,
    )


# ---------------------------------------------------------------------------
# honest building through the public API

ROOT_CAPS = (("calendar", CAL + "/*"), ("mail/send", MAIL))
SUB_CAPS = (("calendar/read", CAL + "/*"),)


def standard_token(
    *,
    root: PrivateKey = ALICE,
    agent: PrivateKey = AGENT,
    sub: PrivateKey = SUB,
    now: int = NOW,
    label: str = "standard",
    root_caps: Sequence[tuple[str, str]] = ROOT_CAPS,
    sub_caps: Sequence[tuple[str, str]] = SUB_CAPS,
    root_caveats: Sequence[object] = (),
    sub_caveats: Sequence[object] = (),
    root_ttl: int = 3600,
    sub_ttl: int = 900,
    encoding: Encoding = "cbor",
) -> Presentation:
    """alice (root) -> agent (depth 2, 1 h) -> sub (depth 1, 15 min): a two-link token."""
    rng = Rng(label)
    token = issue(
        root,
        agent.public_key,
        capabilities=root_caps,
        ttl=root_ttl,
        depth=2,
        caveats=root_caveats,
        descriptor=Descriptor(kind="agent", name="assistant"),
        # 0.2 links carry no random id: the label keeps tokens of different labels apart
        purpose="manage alice's calendar" if label == "standard" else f"calendar ({label})",
        now=now,
        rng=rng,
        encoding=encoding,
    )
    return delegate(
        token,
        agent,
        sub.public_key,
        capabilities=sub_caps,
        ttl=sub_ttl,
        caveats=sub_caveats,
        descriptor=Descriptor(kind="tool", name="calendar-reader"),
        now=now,
        rng=rng,
    )


def standard_presentation(
    token: Presentation | None = None,
    *,
    holder: PrivateKey = SUB,
    action: str = REQUEST.action,
    resource: str = REQUEST.resource,
    args: Mapping[str, object] | None = None,
    audience: str = AUD,
    now: int = NOW,
    label: str = "invocation",
) -> Presentation:
    """The standard token (or ``token``) invoked by its holder for :data:`REQUEST`."""
    return invoke(
        token if token is not None else standard_token(),
        holder,
        audience=audience,
        action=action,
        resource=resource,
        args=args,
        now=now,
        rng=Rng(label),
        allow_expired=True,  # time tests invoke at and beyond a link's exp on purpose
    )


def linear_chain(
    keys: Sequence[PrivateKey],
    *,
    caps: Sequence[tuple[str, str]] = SUB_CAPS,
    now: int = NOW,
    label: str = "linear",
    encoding: Encoding = "cbor",
) -> tuple[Presentation, PrivateKey]:
    """keys[0] issues to keys[1], which delegates to keys[2]...: len(keys) - 1 links.

    Returns the token and the final holder's key. Each link allows exactly the
    delegations that follow it, and every link is named after its index.
    """
    rng = Rng(label)
    links = len(keys) - 1
    token = issue(
        keys[0],
        keys[1].public_key,
        capabilities=caps,
        ttl=3600,
        depth=links - 1,
        descriptor=Descriptor(kind="agent", name="link-0"),
        now=now,
        rng=rng,
        encoding=encoding,
    )
    for i in range(1, links):
        token = delegate(
            token,
            keys[i],
            keys[i + 1].public_key,
            capabilities=caps,
            descriptor=Descriptor(kind="agent", name=f"link-{i}"),
            now=now,
            rng=rng,
        )
    return token, keys[-1]


# ---------------------------------------------------------------------------
# building by hand: raw claim maps signed with any key


def link_claims(
    issuer: PublicKey,
    holder: PublicKey,
    parent: bytes | None,
    *,
    caps: Sequence[tuple[str, str]] = SUB_CAPS,
    nbf: int = NOW,
    exp: int = NOW + 900,
    depth: int = 0,
    iat: int | None = None,
    caveats: Sequence[object] = (),
    descriptor: Mapping[int, object] | None = None,
) -> dict[int, object]:
    """A link's claim map (spec 5.5) exactly as the codec writes it."""
    claims: dict[int, object] = {
        L_VERSION: VERSION,
        L_HOLDER: holder.to_cose_key(),
        L_IAT: nbf if iat is None else iat,
        L_NBF: nbf,
        L_EXP: exp,
        L_CAPS: [list(c) for c in caps],
        L_CAVEATS: list(caveats),
        L_DEPTH: depth,
        L_DESCRIPTOR: dict(descriptor) if descriptor is not None else {1: "agent"},
    }
    if parent is not None:
        claims[L_PARENT] = parent
    else:  # spec 5.5 (0.2): only the root names its issuer
        claims[L_ISSUER] = issuer.thumbprint
    return claims


def claims_of(signed: Signed[Any]) -> dict[Any, Any]:
    """The exact claim map a link, or another signed object, carries (from its payload)."""
    return _build.claims_of(signed.encoded)


def sign_link(signer: PrivateKey, claims: Mapping[Any, object], typ: int = TYP_LINK) -> bytes:
    """A COSE_Sign1 link over ``claims``, signed by ``signer`` whatever the claims say."""
    return sign_object(signer, typ, dict(claims))


def resign(
    link: Link,
    signer: PrivateKey,
    changes: Mapping[Any, object] | None = None,
    *,
    drop: Sequence[int] = (),
) -> bytes:
    """``link``'s exact claims, with ``changes`` applied and ``drop`` removed, signed by ``signer``.

    ``resign(link, AGENT, {L_EXP: NOW + 10**6})`` moves exp; ``drop=[L_PARENT]`` orphans it.
    """
    return _build.resign(link.encoded, signer, changes, drop=drop)


#: the invocation claims of every hand-made test invocation unless a test says otherwise
REQUEST_CLAIMS: dict[str, Any] = {
    "audience": AUD,
    "action": REQUEST.action,
    "resource": REQUEST.resource,
    "iat": NOW,
}


def invocation_claims(chain: bytes, **claims: Any) -> dict[int, object]:
    """An invocation's claim map (spec 5.7) exactly as the codec writes it."""
    return _build.invocation_claims(chain, **(REQUEST_CLAIMS | claims))


def sign_invocation(
    signer: PrivateKey, claims: Mapping[Any, object], typ: int = TYP_INVOCATION
) -> bytes:
    return sign_object(signer, typ, dict(claims))


def assemble(links: Sequence[bytes], invocation: bytes | None = None) -> bytes:
    """The presentation container (spec 5.8) around raw link and invocation bytes."""
    return _build.container(links, invocation)


def invoke_raw(
    links: Sequence[bytes],
    holder: PrivateKey,
    *,
    chain: bytes | None = None,
    **claims: Any,
) -> bytes:
    """Sign an invocation for raw ``links`` by ``holder`` and assemble the presentation.

    The invocation binds to the last link's digest unless ``chain`` says otherwise.
    """
    return _build.present_raw(links, holder, chain=chain, **(REQUEST_CLAIMS | claims))


# ---------------------------------------------------------------------------
# JOSE by hand (spec/jose.md): hostile headers, payloads and containers


def jose_payload(link: Link) -> dict[str, Any]:
    """The JSON claims object a JOSE link carries."""
    return _build.jose_claims_of(link.encoded)


def jose_present(
    links: Sequence[bytes],
    holder: PrivateKey,
    *,
    action: str = REQUEST.action,
    resource: str = REQUEST.resource,
    args: Mapping[str, object] | None = None,
    iat: int = NOW,
) -> bytes:
    """A JOSE presentation: ``links`` and an invocation by ``holder`` bound to the last one."""
    return invoke_raw(
        links, holder, encoding="jose", action=action, resource=resource, args=args, iat=iat
    )


def interop_presentation(
    k: Mapping[str, PrivateKey],
    *,
    encoding: Encoding,
    label: str,
    code: Mapping[str, bytes],
    args: Mapping[str, Any],
) -> Presentation:
    """Every object kind in one presentation, for the interop checks: a root link by
    ``k["alice"]`` with a caveat and an approval requirement, a delegated link to
    ``k["sub"]`` declaring ``code``, an attestation by ``k["attester"]``, alice's approval
    of the request, and the invocation of :data:`REQUEST` with ``args``."""
    rng = Rng(label)
    token = issue(
        k["alice"],
        k["agent"].public_key,
        capabilities=[("calendar", "https://cal.example/alice/*")],
        depth=1,
        caveats=[["<=", ".n", 5]],
        require_approval=[ApprovalRequirement(actions=("calendar/read",))],
        now=NOW,
        rng=rng,
        encoding=encoding,
    )
    token = delegate(
        token,
        k["agent"],
        k["sub"].public_key,
        capabilities=[("calendar/read", "https://cal.example/alice/*")],
        descriptor=Descriptor(kind="tool", code=dict(code)),
        now=NOW,
        rng=rng,
    )
    att = attest(k["attester"], k["sub"].public_key, code=code, now=NOW, encoding=encoding)
    digest = request_digest(token.chain_digest, AUD, REQUEST.action, REQUEST.resource, args)
    apv = approve(k["alice"], digest, now=NOW, encoding=encoding)
    return invoke(
        token,
        k["sub"],
        audience=AUD,
        action=REQUEST.action,
        resource=REQUEST.resource,
        args=args,
        attestations=[att],
        approvals=[apv],
        now=NOW,
        rng=rng,
    )


def vector_cbor_invocations() -> list[Signed[Any]]:
    """Every invocation of a CBOR presentation in the conformance vectors that decodes."""
    from agentchain.vectors.runner import default_vectors, load_cases

    found = []
    for case in load_cases(default_vectors()):
        for step in case["steps"]:
            text = step["presentation"].get("text")
            if not isinstance(text, str) or not text.startswith(TEXT_PREFIX_CBOR):
                continue
            try:
                invocation = decode_presentation_unverified(text).invocation
            except AgentchainError:
                continue
            if invocation is not None:
                found.append(invocation)
    return found
