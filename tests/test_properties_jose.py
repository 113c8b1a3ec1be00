"""Property (spec/jose.md J.1): one logical chain and request, encoded as CBOR and as JOSE,
gets the same decision with the same reason codes, for random chains and requests.

Chains come from the random builder of test_properties (honest delegations, refused ones,
forged links); caveats, approval requirements and arguments are added at random. The
CBOR presentation is then re-signed object by object as JOSE with the same signers and
the same logical claims (only the digests, which are over each encoding's bytes, follow).
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from agentchain import (
    AgentchainError,
    IssueError,
    Presentation,
    PrivateKey,
    Request,
    codec,
    delegate,
    invoke,
    issue,
    model,
)
from agentchain.codec import decode_unverified, request_digest
from agentchain.issuer import approve
from agentchain.model import ApprovalRequirement, LinkClaims
from tests.helpers import (
    ALICE,
    AUD,
    NOW,
    REQUEST,
    Rng,
    link_claims,
    make_verifier,
    sign_link,
    standard_presentation,
    standard_token,
)
from tests.test_properties import (
    _HOLDERS,
    _REQUEST_ACTIONS,
    _REQUEST_RESOURCES,
    Chooser,
    _concrete,
    hypothesis_chooser,
    random_chooser,
)

_KEYS: dict[bytes, PrivateKey] = {k.public_key.thumbprint: k for k in (ALICE, *_HOLDERS)}
_CAVEATS = [["<=", ".n", 5], [">", ".n", 2], ["==", ".who", "bob"], ["like", ".who", "b*"]]


def _args(c: Chooser) -> dict[str, object]:
    args: dict[str, object] = {}
    if c.integer(0, 3):
        args["n"] = c.integer(-(2**53 - 1), 2**53 - 1) if c.integer(0, 5) == 0 else c.integer(0, 8)
    if c.integer(0, 1):
        args["who"] = c.choice(["bob", "bill", "eve"])
    if c.integer(0, 3) == 0:
        args["nested"] = [c.integer(0, 3), {"ok": c.choice([True, False, None])}]
    return args


def build(c: Chooser) -> tuple[Presentation, Request, int]:
    """A random CBOR presentation (as test_properties builds them) and a random request."""
    start = NOW + c.integer(-100, 100)
    token = issue(
        ALICE,
        _HOLDERS[0].public_key,
        capabilities=c.caps(),
        ttl=c.integer(1, 5000),
        depth=c.integer(0, 5),
        caveats=[c.choice(_CAVEATS)] if c.integer(0, 1) else [],
        require_approval=[ApprovalRequirement(actions=("mail",))] if c.integer(0, 3) == 0 else [],
        now=start,
        rng=Rng("root"),
    )
    for i in range(c.integer(0, 4)):
        holder, to = _HOLDERS[len(token.links) - 1], _HOLDERS[len(token.links)]
        parent = token.links[-1]
        if c.integer(0, 4):
            with contextlib.suppress(IssueError):
                token = delegate(
                    token,
                    holder,
                    to.public_key,
                    capabilities=c.caps(parent.claims.capabilities),
                    ttl=c.maybe(lambda: c.integer(1, 1500)),
                    caveats=[c.choice(_CAVEATS)] if c.integer(0, 2) == 0 else [],
                    now=start + c.integer(-10, 300),
                    rng=Rng(f"link{i}"),
                )
        else:  # forged: signed by the holder, whatever it says
            nbf = parent.claims.window.nbf + c.integer(-300, 300)
            claims = link_claims(
                holder.public_key,
                to.public_key,
                parent.digest,
                caps=c.caps(parent.claims.capabilities),
                nbf=nbf,
                exp=nbf + c.integer(1, 6000),
                depth=c.integer(0, 6),
                link_id=bytes([i]) * 16,
            )
            token = Presentation(
                (*token.links, decode_unverified(LinkClaims, sign_link(holder, claims)))
            )
    if c.integer(0, 2):
        cap = c.choice(token.links[-1].claims.capabilities)
        action, resource = _concrete(c, cap.action, cap.resource)
    else:
        action, resource = c.choice(_REQUEST_ACTIONS), c.choice(_REQUEST_RESOURCES)
    window = token.links[-1].claims.window
    t = window.nbf + c.integer(-5, min(window.exp - window.nbf + 5, 6000))
    args = _args(c)
    holder = _KEYS[token.holder.thumbprint]
    approvals = []
    if c.integer(0, 1):
        digest = request_digest(token.chain_digest, AUD, action, resource, args)
        approvals.append(approve(ALICE, digest, now=t - c.integer(0, 400)))
    p = invoke(
        token,
        holder,
        audience=AUD,
        action=action,
        resource=resource,
        args=args,
        approvals=approvals,
        now=t,
        rng=Rng("inv"),
        allow_expired=True,  # the model judges expiry too
    )
    # the request the verifier sees: usually the signed one, sometimes other args
    request_args = args if c.integer(0, 4) else _args(c)
    return p, Request(action, resource, request_args), t


def to_jose(p: Presentation) -> Presentation:
    """The same logical presentation, every object re-signed as JOSE by its signer."""
    digests: dict[bytes, bytes] = {}
    links = []
    for index, link in enumerate(p.links):
        claims = link.claims
        if claims.parent is not None:
            claims = replace(claims, parent=digests.get(claims.parent, claims.parent))
        signer = ALICE if index == 0 else _KEYS[claims.issuer]
        new = decode_unverified(LinkClaims, codec.sign_claims(signer, claims, "jose"))
        digests[link.digest] = new.digest
        links.append(new)
    assert p.invocation is not None
    inv = p.invocation.claims
    inv = replace(inv, chain=digests.get(inv.chain, inv.chain))
    invocation = codec.decode_unverified(
        model.InvocationClaims, codec.sign_claims(_KEYS[p.holder.thumbprint], inv, "jose")
    )
    approvals = []
    for a in p.approvals:
        c = a.claims
        old_chain_digest = p.chain_digest
        assert p.invocation.claims.chain == old_chain_digest
        new_request = request_digest(
            inv.chain, inv.audience, inv.action, inv.resource, dict(inv.args)
        )
        same = c.request == request_digest(
            old_chain_digest, inv.audience, inv.action, inv.resource, dict(inv.args)
        )
        c = replace(c, request=new_request if same else c.request)
        approvals.append(
            codec.decode_unverified(model.ApprovalClaims, codec.sign_claims(ALICE, c, "jose"))
        )
    return Presentation(tuple(links), invocation, (), tuple(approvals))


def outcome(p: Presentation, request: Request, t: int) -> tuple[str, ...]:
    verifier = make_verifier(now=t, clock_skew=0)
    try:
        decision = verifier.verify(p.to_bytes(), request)
    except AgentchainError as exc:
        return ("error", exc.code)
    return (decision.outcome.value, *(r.code for r in decision.reasons))


def same_decision(c: Chooser) -> tuple[str, ...]:
    p, request, t = build(c)
    jose = to_jose(p)
    assert jose.encoding == "jose" and len(jose.links) == len(p.links)
    for a, b in zip(p.links, jose.links, strict=True):
        assert a.claims.capabilities == b.claims.capabilities
        assert a.claims.window == b.claims.window and a.claims.holder == b.claims.holder
    cbor_outcome = outcome(p, request, t)
    assert outcome(jose, request, t) == cbor_outcome
    return cbor_outcome


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_same_decision_in_both_encodings(data: st.DataObject) -> None:
    # R-J.1-1
    same_decision(hypothesis_chooser(data))


def test_same_decision_on_a_fixed_sample() -> None:
    # R-J.1-1: and the sample is not vacuous: allows, denials of several kinds, errors
    r = random.Random(4321)
    seen: dict[str, int] = {}
    for _ in range(150):
        result = same_decision(random_chooser(r))
        name = result[0] if result[0] == "allow" else result[1] if len(result) > 1 else result[0]
        seen[name] = seen.get(name, 0) + 1
    assert seen.get("allow", 0) >= 10, seen
    for code in ("capability_missing", "caveat_failed"):
        assert seen.get(code, 0) > 0, (code, seen)
    assert len(seen) >= 5, seen


# --------------------------------------------------------------------------
# hostile JOSE bytes: only the library's own errors, never an allow


def _jose_valid() -> bytes:
    return standard_presentation(standard_token(encoding="jose")).to_bytes()


JOSE_VALID = _jose_valid()


def _jose_outcome(data: bytes | str) -> str:
    try:
        decision = make_verifier().verify(data, REQUEST)
    except AgentchainError as exc:
        return exc.code
    return decision.outcome.value


def test_the_unchanged_jose_presentation_is_allowed() -> None:
    assert _jose_outcome(JOSE_VALID) == "allow"


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, len(JOSE_VALID) - 1), value=st.integers(0, 255))
def test_any_jose_byte_set_to_any_value(position: int, value: int) -> None:
    changed = bytearray(JOSE_VALID)
    if changed[position] == value:
        return
    changed[position] = value
    assert _jose_outcome(bytes(changed)) != "allow"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_random_jose_text_raises_agentchain_error(text: str) -> None:
    for data in ("{" + text, "eyJ" + text, text):
        with contextlib.suppress(AgentchainError):
            decode_unverified(LinkClaims, data.encode("utf-8", "surrogatepass"))
        with contextlib.suppress(AgentchainError):
            codec.decode_presentation_unverified(data.encode("utf-8", "surrogatepass"))


def test_every_single_jose_character_change_is_refused() -> None:
    # each position once, to a character that keeps it base64url where it was
    for position, byte in enumerate(JOSE_VALID):
        changed = bytearray(JOSE_VALID)
        changed[position] = ord("B") if byte == ord("A") else ord("A")
        assert _jose_outcome(bytes(changed)) != "allow", position
