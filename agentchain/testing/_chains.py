"""Strategies for signed objects, chains and whole scenarios a verifier can judge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from agentchain import codec
from agentchain._build import Rng
from agentchain.codec import Approval, Attestation, Invocation, Link, Presentation
from agentchain.crypto import PrivateKey, PublicKey
from agentchain.issuer import approve, attest, delegate, invoke, issue
from agentchain.model import ApprovalRequirement, Descriptor
from agentchain.testing._data import (
    _ALGORITHMS,
    _ARG_KEYS,
    _DIGEST,
    _JSON_INT,
    AUDIENCE,
    ENCODINGS,
    NOW,
    _digest_sets,
    _narrowing,
    _nonempty,
    _within,
    actions,
    arguments,
    capabilities,
    caveats,
    private_keys,
    public_keys,
    resources,
    values,
)
from agentchain.verifier import Request, TrustPolicy, Verifier
from agentchain.wire import cbor

# ---------------------------------------------------------------------------
# signed objects and chains


def _encoding_args(encoding: str) -> dict[str, str]:
    return {} if encoding == "cbor" else {"encoding": encoding}


@dataclass(frozen=True, slots=True)
class Chain:
    """A token and the keys of its principals: ``keys[0]`` signed the root link,
    ``keys[i]`` holds link ``i - 1``, so ``keys[-1]`` is the holder."""

    token: Presentation
    keys: tuple[PrivateKey, ...]
    encoding: str
    now: int

    @property
    def root(self) -> PrivateKey:
        return self.keys[0]

    @property
    def holder(self) -> PrivateKey:
        return self.keys[-1]


@st.composite
def _chain(
    draw: st.DrawFn,
    *,
    encodings: tuple[str, ...],
    algorithms: tuple[str, ...],
    min_links: int,
    max_links: int,
    with_caveats: bool,
    now: int,
) -> Chain:
    encoding = draw(st.sampled_from(encodings))
    length = draw(st.integers(min_links, max_links))
    keys = tuple(draw(private_keys(algorithms=algorithms)) for _ in range(length + 1))
    rng = Rng(draw(st.binary(min_size=8, max_size=8)))
    caps = draw(st.lists(capabilities(), min_size=1, max_size=3))
    start = now + draw(st.integers(-60, 0))
    ttl = draw(st.integers(300 * length + 60, 3600))
    json = encoding == "jose"
    cavs = draw(st.lists(caveats(json=json), max_size=2)) if with_caveats else []
    token = issue(
        keys[0],
        keys[1].public_key,
        capabilities=caps,
        ttl=ttl,
        depth=length - 1 + draw(st.integers(0, 2)),
        caveats=cavs,
        descriptor=Descriptor(kind="agent", name="hop-1", code={"sha256": _DIGEST}),
        purpose=draw(st.none() | st.text(min_size=1, max_size=20)),
        now=start,
        rng=rng,
        **_encoding_args(encoding),  # type: ignore[arg-type]
    )
    for hop in range(1, length):
        parent = token.links[-1].claims
        caps = [
            draw(_narrowing(draw(st.sampled_from(parent.capabilities))))
            for _ in range(draw(st.integers(1, 2)))
        ]
        cavs = draw(st.lists(caveats(json=json), max_size=1)) if with_caveats else []
        hop_ttl = draw(st.none() | st.integers(120, 300))
        token = delegate(
            token,
            keys[hop],
            keys[hop + 1].public_key,
            capabilities=caps,
            ttl=None if hop_ttl is None else min(hop_ttl, parent.window.exp - (start + 10 * hop)),
            caveats=cavs,
            descriptor=Descriptor(kind="agent", name=f"hop-{hop + 1}", code={"sha256": _DIGEST}),
            now=start + 10 * hop,
            rng=rng,
        )
    return Chain(token=token, keys=keys, encoding=encoding, now=now)


def chains(
    *,
    encodings: Sequence[str] = ENCODINGS,
    algorithms: Sequence[str] = _ALGORITHMS,
    min_links: int = 1,
    max_links: int = 4,
    with_caveats: bool = True,
    now: int = NOW,
) -> SearchStrategy[Chain]:
    """Honest tokens built through issue and delegate, with every principal's key.

    Each link narrows its parent; windows nest and contain ``now``.
    """
    if not 1 <= min_links <= max_links <= 16:
        raise InvalidArgument("need 1 <= min_links <= max_links <= 16")
    return _chain(
        encodings=_nonempty(encodings, "encodings"),
        algorithms=_nonempty(algorithms, "algorithms"),
        min_links=min_links,
        max_links=max_links,
        with_caveats=with_caveats,
        now=now,
    )


def tokens(
    *, encodings: Sequence[str] = ENCODINGS, min_links: int = 1, max_links: int = 4
) -> SearchStrategy[Presentation]:
    """Tokens (presentations without an invocation) from :func:`chains`."""
    return chains(encodings=encodings, min_links=min_links, max_links=max_links).map(
        lambda c: c.token
    )


def links(*, encodings: Sequence[str] = ENCODINGS) -> SearchStrategy[Link]:
    """One link, at any position of an honest chain."""
    return tokens(encodings=encodings).flatmap(lambda t: st.sampled_from(t.links))


def attestations(
    *, encodings: Sequence[str] = ENCODINGS, now: int = NOW
) -> SearchStrategy[Attestation]:
    """Signed attestations (spec 9.1) by a drawn attester about a drawn subject."""
    return st.builds(
        lambda k, s, code, model, ttl, at, enc: (
            attest(k, s, code=code or None, model=model, config=None, ttl=ttl, now=at, **enc)
            if code or model
            else attest(k, s, model="m", ttl=ttl, now=at, **enc)
        ),
        private_keys(),
        public_keys(),
        _digest_sets(),
        st.none() | st.text(min_size=1, max_size=20),
        st.integers(1, 3600),
        st.integers(now - 3600, now + 60),
        st.sampled_from(_nonempty(encodings, "encodings")).map(_encoding_args),
    )


def approvals(*, encodings: Sequence[str] = ENCODINGS, now: int = NOW) -> SearchStrategy[Approval]:
    """Signed approvals (spec 9.2) of a drawn request digest."""
    return st.builds(
        lambda k, d, ttl, at, enc: approve(k, d, ttl=ttl, now=at, **enc),
        private_keys(),
        st.binary(min_size=32, max_size=32),
        st.integers(1, 3600),
        st.integers(now - 3600, now + 60),
        st.sampled_from(_nonempty(encodings, "encodings")).map(_encoding_args),
    )


def requests() -> SearchStrategy[Request]:
    """Requests as a resource server sees them."""
    return st.builds(Request, actions(), resources(), arguments())


# ---------------------------------------------------------------------------
# whole presentations with what a verifier needs to judge them


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """A presentation with the trust policy, request and time it was made for.

    Built so that every factor passes: the verifier this scenario describes
    (:meth:`verifier`) allows the request. Attestation is required for the
    request's action exactly when ``attestation_required`` is non-empty.
    """

    presentation: Presentation
    chain: Chain
    request: Request
    now: int
    audience: str = AUDIENCE
    attesters: tuple[PublicKey, ...] = ()
    attestation_required: tuple[str, ...] = ()

    @property
    def anchors(self) -> tuple[PublicKey, ...]:
        return (self.chain.root.public_key,)

    def trust_policy(self, **overrides: Any) -> TrustPolicy:
        options: dict[str, Any] = {
            "anchors": self.anchors,
            "audience": self.audience,
            "attesters": self.attesters,
            "attestation_required": self.attestation_required,
        }
        options.update(overrides)
        return TrustPolicy(**options)

    def verifier(self, **overrides: Any) -> Verifier:
        """A verifier with this scenario's fixed clock and a fresh in-memory store."""
        now = self.now
        return Verifier(self.trust_policy(**overrides), clock=lambda: now)

    def to_json(self) -> dict[str, object]:
        """Everything another implementation needs to verify this presentation."""
        return {
            "presentation": self.presentation.to_text(),
            "presentation_hex": self.presentation.to_bytes().hex(),
            "encoding": self.chain.encoding,
            "anchors": [k.to_jwk() for k in self.anchors],
            "attesters": [k.to_jwk() for k in self.attesters],
            "attestation_required": list(self.attestation_required),
            "audience": self.audience,
            "now": self.now,
            "request": {
                "action": self.request.action,
                "resource": self.request.resource,
                "args": codec.args_to_json(self.request.args),
                "args_cbor_hex": cbor.encode(dict(self.request.args)).hex(),  # type: ignore[arg-type]
            },
            "expected": "allow",
        }


def _true_caveat(args: Mapping[str, Any], top: int = 2**64 - 1) -> SearchStrategy[Any]:
    """Statement data that holds for ``args``."""
    options: list[SearchStrategy[Any]] = [st.just(["and", []]), st.just(["not", ["or", []]])]
    for k, v in args.items():
        if k in _ARG_KEYS:
            options.append(st.just(["==", "." + k, v]))
            options.append(st.just(["in", "." + k, [0, v]]))
            if isinstance(v, int) and not isinstance(v, bool) and v < top:
                options.append(st.just(["<", "." + k, v + 1]))
    return st.one_of(options)


@st.composite
def _scenario(
    draw: st.DrawFn, *, encodings: tuple[str, ...], max_links: int, factors: bool, now: int
) -> Scenario:
    chain = draw(chains(encodings=encodings, max_links=max_links, with_caveats=False, now=now))
    leaf = chain.token.links[-1].claims.capabilities
    # a request every link permits: the leaf's capabilities are covered by every parent's
    action, resource = draw(_within(draw(st.sampled_from(leaf))))
    json = chain.encoding == "jose"
    args = draw(
        st.dictionaries(st.sampled_from(_ARG_KEYS), values(max_leaves=4, json=json), max_size=3)
    )
    token = chain.token
    holder = chain.holder
    attesters: tuple[PublicKey, ...] = ()
    required: tuple[str, ...] = ()
    attached_attestations: list[Attestation] = []
    attached_approvals: list[Approval] = []
    if factors and draw(st.booleans()):
        # the last link made again with caveats that hold and an approval requirement for
        # this action (the root approves: the default approver)
        extra = draw(
            st.lists(_true_caveat(args, _JSON_INT if json else 2**64 - 1), min_size=1, max_size=2)
        )
        relinked = chain.token.links[:-1]
        last = chain.token.links[-1]
        # the last link again, now asking for approval of ``action``
        again: dict[str, Any] = {
            "capabilities": last.claims.capabilities,
            "ttl": last.claims.window.exp - last.claims.window.nbf,
            "depth": last.claims.depth,
            "caveats": extra,
            "descriptor": last.claims.descriptor,
            "require_approval": [ApprovalRequirement(actions=(action,))],
            "now": last.claims.window.nbf,
            "rng": Rng(last.digest),
        }
        if relinked:
            token = delegate(Presentation(relinked), chain.keys[-2], holder.public_key, **again)
        else:
            again.update(_encoding_args(chain.encoding))
            token = issue(chain.root, holder.public_key, **again)
        wanted = codec.request_digest(token.chain_digest, AUDIENCE, action, resource, args)
        encoding = _encoding_args(chain.encoding)
        attached_approvals.append(approve(chain.root, wanted, now=now - 5, **encoding))  # type: ignore[arg-type]
        attester = draw(private_keys())
        attesters = (attester.public_key,)
        required = (action,)
        attached_attestations.append(
            attest(attester, holder.public_key, code={"sha256": _DIGEST}, now=now - 5, **encoding)  # type: ignore[arg-type]
        )
        chain = Chain(token=token, keys=chain.keys, encoding=chain.encoding, now=now)
    presentation = invoke(
        token,
        holder,
        audience=AUDIENCE,
        action=action,
        resource=resource,
        args=args,
        attestations=attached_attestations,
        approvals=attached_approvals,
        now=now - draw(st.integers(0, 60)),
        rng=Rng(draw(st.binary(min_size=8, max_size=8))),
    )
    return Scenario(
        presentation=presentation,
        chain=chain,
        request=Request(action, resource, args),
        now=now,
        attesters=attesters,
        attestation_required=required,
    )


def scenarios(
    *,
    encodings: Sequence[str] = ENCODINGS,
    max_links: int = 4,
    factors: bool = True,
    now: int = NOW,
) -> SearchStrategy[Scenario]:
    """Presentations the described verifier allows, with everything needed to verify them.

    With ``factors``, about half also carry a caveat, a required approval (attached)
    and a required attestation (attached), so every factor of spec 9 is exercised.
    """
    if not 1 <= max_links <= 16:
        raise InvalidArgument("need 1 <= max_links <= 16")
    return _scenario(
        encodings=_nonempty(encodings, "encodings"), max_links=max_links, factors=factors, now=now
    )


def presentations(
    *, encodings: Sequence[str] = ENCODINGS, with_invocation: bool | None = None
) -> SearchStrategy[Presentation]:
    """Presentations (with an invocation) and tokens (without), or only one of the two."""
    invoked = scenarios(encodings=encodings).map(lambda s: s.presentation)
    bare = tokens(encodings=encodings)
    if with_invocation is None:
        return invoked | bare
    return invoked if with_invocation else bare


def invocations(*, encodings: Sequence[str] = ENCODINGS) -> SearchStrategy[Invocation]:
    """The invocations of :func:`scenarios`."""
    return scenarios(encodings=encodings, factors=False).map(
        lambda s: _present(s.presentation.invocation)
    )


def _present(invocation: Invocation | None) -> Invocation:
    if invocation is None:
        raise AssertionError("a scenario always carries an invocation")
    return invocation
