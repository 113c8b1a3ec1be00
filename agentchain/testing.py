"""Hypothesis strategies for agentchain objects: for our tests and for other implementations'.

Import this module only in tests: it needs ``hypothesis`` (the ``testing`` extra), and
``import agentchain`` never imports it. Every strategy takes keyword-only arguments and
is deterministic given hypothesis' choices: keys come from drawn seeds
(:meth:`PrivateKey.from_seed`), times from :data:`NOW` plus drawn offsets, and link ids
and nonces from a drawn seed run through SHA-256. So a shrunk example is reproducible,
and a :class:`Scenario` can be written out (:meth:`Scenario.to_json`) and replayed
against another implementation.

When hypothesis is installed together with agentchain, its entry point
(:mod:`agentchain._hypothesis`) imports this module, which registers these strategies so that
``st.from_type(Presentation)`` and the like work. ``docs/testing.md`` shows how.

The ``encodings`` argument names the wire encodings to draw from: ``"cbor"`` and
``"jose"`` (spec/jose.md), both by default. Data drawn for a JOSE chain stays inside
what JSON can carry (no byte strings, integers within +-(2^53-1)); the issuer refuses
anything else (spec/jose.md J.5).
"""

from __future__ import annotations

import functools
import hashlib
import json as _json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from agentchain import codec, policy
from agentchain.codec import (
    Approval,
    ApprovalRequirement,
    Attestation,
    Caveat,
    Invocation,
    Link,
    Presentation,
)
from agentchain.crypto import COSE_ALG, EDDSA, ES256, PrivateKey, PublicKey
from agentchain.issuer import approve, attest, delegate, invoke, issue
from agentchain.model import Capability, Descriptor
from agentchain.vectors.build import Rng, jose_container, raw_jws
from agentchain.verifier import Request, TrustPolicy, Verifier
from agentchain.wire import cbor, cose, jws

__all__ = [
    "AUDIENCE",
    "ENCODINGS",
    "MUTATIONS",
    "NOW",
    "Chain",
    "Mutation",
    "Scenario",
    "actions",
    "approval_requirements",
    "approvals",
    "arguments",
    "attestations",
    "capabilities",
    "caveats",
    "chains",
    "descriptors",
    "invocations",
    "json_spellings",
    "links",
    "mutations",
    "noncanonical_encodings",
    "policy_inputs",
    "presentations",
    "private_keys",
    "public_keys",
    "requests",
    "resources",
    "scenarios",
    "seeded_key",
    "statements",
    "tokens",
    "values",
]

#: the default clock of every strategy: 2027-01-15T08:00:00Z
NOW: Final = 1_800_000_000
#: the audience of every scenario (the verifier's own name)
AUDIENCE: Final = "https://api.example"
#: the encodings this implementation can produce
ENCODINGS: Final = ("cbor", "jose")
#: the kinds of :class:`Mutation`
MUTATIONS: Final = (
    "bit_flip",
    "truncate",
    "splice_link",
    "reorder",
    "noncanonical",
    "noncanonical_signed",
    "text",
    "reserialized",
)

_ALGORITHMS: Final = (EDDSA, ES256)
_SEGMENTS: Final = ("calendar", "read", "write", "payments", "create", "mail", "send", "files")
_HOSTS: Final = ("https://api.example", "https://cal.example", "urn:x")
_PATHS: Final = ("a", "b", "events", "42", "new")
_ARG_KEYS: Final = ("amount", "to", "items", "n", "note")
_OPERATORS: Final = (
    *("==", "!=", "<", "<=", ">", ">=", "like", "in", "and", "or", "not", "all", "any"),
    *("xor", "", "=", "LIKE"),  # near misses
)
_DIGEST: Final = b"\x5a" * 32  # the code every scenario's holder declares and is attested for


# ---------------------------------------------------------------------------
# keys


@functools.lru_cache(maxsize=512)
def _key(seed: bytes, alg: str) -> PrivateKey:
    return PrivateKey.from_seed(seed, alg)


def seeded_key(label: str, *, algorithm: str = EDDSA) -> PrivateKey:
    """The fixed key for ``label``: its seed is SHA-256 of the label (spec 3.6)."""
    return _key(hashlib.sha256(label.encode()).digest(), algorithm)


def private_keys(*, algorithms: Sequence[str] = _ALGORITHMS) -> SearchStrategy[PrivateKey]:
    """Keys derived from drawn 32-byte seeds, for any of ``algorithms``."""
    algs = _nonempty(algorithms, "algorithms")
    return st.tuples(st.binary(min_size=32, max_size=32), st.sampled_from(algs)).map(
        lambda pair: _key(*pair)
    )


def public_keys(*, algorithms: Sequence[str] = _ALGORITHMS) -> SearchStrategy[PublicKey]:
    """The public halves of :func:`private_keys`."""
    return private_keys(algorithms=algorithms).map(lambda k: k.public_key)


# ---------------------------------------------------------------------------
# authority: actions, resources, capabilities


def _segment() -> SearchStrategy[str]:
    return st.sampled_from(_SEGMENTS) | st.from_regex(
        r"[A-Za-z0-9_:\-][A-Za-z0-9_.:\-]{0,6}", fullmatch=True
    )


def actions(*, pattern: bool = False) -> SearchStrategy[str]:
    """Well-formed actions (spec 4.1); with ``pattern``, sometimes the universal ``*``."""
    concrete = st.lists(_segment(), min_size=1, max_size=3).map("/".join)
    return (st.just("*") | concrete) if pattern else concrete


def _uri(host: str, path: list[str]) -> str:
    if host.startswith("urn:"):
        return host + ":" + ":".join(path or ["r"])
    return host + "".join("/" + p for p in path)


def resources(*, pattern: bool = False) -> SearchStrategy[str]:
    """Well-formed resource URIs (spec 4.2); with ``pattern``, ``*`` or a ``P/*`` prefix."""
    path = st.lists(st.sampled_from(_PATHS), max_size=3)
    concrete = st.builds(_uri, st.sampled_from(_HOSTS), path)
    if not pattern:
        return concrete
    prefix = st.builds(_uri, st.sampled_from(_HOSTS[:2]), path).map(lambda uri: uri + "/*")
    return st.just("*") | prefix | concrete


def capabilities() -> SearchStrategy[Capability]:
    """An (action, resource) pattern pair."""
    return st.builds(Capability, actions(pattern=True), resources(pattern=True))


@st.composite
def _narrowing(draw: st.DrawFn, parent: Capability) -> Capability:
    """A capability ``parent`` covers (spec 4.3)."""
    action = parent.action
    if action == "*":
        action = draw(actions(pattern=True))
    elif draw(st.booleans()):
        action = f"{action}/{draw(_segment())}"
    resource = parent.resource
    if resource == "*":
        resource = draw(resources(pattern=True))
    elif resource.endswith("/*") and draw(st.booleans()):
        resource = resource[:-1] + draw(st.sampled_from(_PATHS)) + draw(st.sampled_from(("", "/*")))
    child = Capability(action, resource)
    if not parent.covers(child):
        raise AssertionError(f"{parent} does not cover {child}: a bug in this strategy")
    return child


def _within(cap: Capability) -> SearchStrategy[tuple[str, str]]:
    """A concrete (action, resource) that ``cap`` permits."""
    action = actions() if cap.action == "*" else st.just(cap.action) | st.just(cap.action + "/x")
    if cap.resource == "*":
        resource = resources()
    elif cap.resource.endswith("/*"):
        resource = st.sampled_from(_PATHS).map(lambda p: cap.resource[:-1] + p)
    else:
        resource = st.just(cap.resource)
    return st.tuples(action, resource)


# ---------------------------------------------------------------------------
# data and the policy language


#: spec/jose.md J.2: the integers JSON carries exactly
_JSON_INT: Final = 2**53 - 1


def values(*, max_leaves: int = 10, json: bool = False) -> SearchStrategy[Any]:
    """Protocol data (spec 5.2): ints, text, bytes, bools, null, arrays, text-keyed maps.

    With ``json``, only what the JOSE encoding carries: no byte strings, and integers
    within +-(2^53-1) (spec/jose.md J.2, J.5)."""
    big = _JSON_INT if json else 2**64 - 1
    scalars: SearchStrategy[Any] = (
        st.none()
        | st.booleans()
        | st.integers(-big - (0 if json else 1), big)
        | st.integers(-1000, 1000)
        | st.text(max_size=12)
    )
    if not json:
        scalars = scalars | st.binary(max_size=12)
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(_ARG_KEYS) | st.text(max_size=6), inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def arguments(*, max_leaves: int = 10, json: bool = False) -> SearchStrategy[dict[str, Any]]:
    """Invocation arguments: a map with text keys, the keys statements select mostly."""
    return st.dictionaries(
        st.sampled_from(_ARG_KEYS) | st.text(max_size=6),
        values(max_leaves=max_leaves, json=json),
        max_size=5,
    )


def _selectors() -> SearchStrategy[str]:
    key = st.sampled_from(_ARG_KEYS)
    return st.one_of(
        st.just("."),
        key.map(lambda k: "." + k),
        st.tuples(key, st.integers(0, 3)).map(lambda p: f".{p[0]}[{p[1]}]"),
        key.map(lambda k: f'.["{k}"]'),
        st.tuples(key, key).map(lambda p: f".{p[0]}.{p[1]}"),
    )


def _statement_data(max_leaves: int, json: bool = False) -> SearchStrategy[Any]:
    sel = _selectors()
    big = _JSON_INT if json else 2**64 - 1
    leaf = st.one_of(
        st.tuples(st.sampled_from(("==", "!=")), sel, values(max_leaves=3, json=json)).map(list),
        st.tuples(
            st.sampled_from(("<", "<=", ">", ">=")), sel, st.integers(-big - (not json), big)
        ).map(list),
        st.tuples(
            st.just("like"), sel, st.from_regex(r"(\*|[a-z]|\\\*|\\\\){0,6}", fullmatch=True)
        ).map(list),
        st.tuples(st.just("in"), sel, st.lists(values(max_leaves=2, json=json), max_size=4)).map(
            list
        ),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(st.sampled_from(("and", "or")), st.lists(inner, max_size=3)).map(list),
            inner.map(lambda s: ["not", s]),
            st.tuples(st.sampled_from(("all", "any")), sel, inner).map(list),
        ),
        max_leaves=max_leaves,
    )


def statements(*, max_leaves: int = 6, json: bool = False) -> SearchStrategy[policy.Statement]:
    """Well-formed policy statements (spec 6) over the argument keys :func:`arguments` uses;
    with ``json``, only literals the JOSE encoding carries."""
    return _statement_data(max_leaves, json).map(policy.parse)


def policy_inputs(*, max_leaves: int = 12) -> SearchStrategy[Any]:
    """Adversarial statement data: well-formed statements, near misses and arbitrary data.

    For totality properties: ``policy.parse`` must either raise a typed error or
    return a statement whose evaluation is a :class:`~agentchain.policy.Result`.
    """
    ops = st.sampled_from(_OPERATORS)
    junk = st.recursive(
        values(max_leaves=4) | ops | _selectors(),
        lambda inner: st.lists(inner, max_size=4) | st.tuples(ops, inner, inner).map(list),
        max_leaves=max_leaves,
    )
    deep = st.integers(1, 40).map(
        lambda n: functools.reduce(lambda s, _: ["not", s], range(n), ["==", ".", 1])
    )
    wide = st.integers(0, 400).map(lambda n: ["and", [["==", ".n", i] for i in range(n)]])
    return st.one_of(_statement_data(max_leaves), junk, deep, wide)


def caveats(*, json: bool = False) -> SearchStrategy[Caveat]:
    """Caveats: a statement, unscoped or scoped to one or two action patterns."""
    scope = st.just(()) | st.lists(actions(pattern=True), min_size=1, max_size=2).map(tuple)
    return st.builds(Caveat, statements(json=json), scope)


def approval_requirements() -> SearchStrategy[ApprovalRequirement]:
    """spec 9.2 requirements: a condition, action patterns and an approver, each optional."""
    return st.builds(
        ApprovalRequirement,
        when=st.none() | statements(max_leaves=3),
        actions=st.just(()) | st.lists(actions(pattern=True), min_size=1, max_size=2).map(tuple),
        approver=st.none() | public_keys(),
    )


def _digest_sets() -> SearchStrategy[dict[str, bytes]]:
    return st.dictionaries(
        st.sampled_from(("sha256", "sha384", "sha512")),
        st.binary(min_size=16, max_size=64),
        max_size=2,
    )


def descriptors() -> SearchStrategy[Descriptor]:
    """What a link says about its delegatee (spec 3.3)."""
    name = st.none() | st.text(min_size=1, max_size=20)
    return st.builds(
        Descriptor,
        kind=st.sampled_from(("human", "agent", "tool")),
        name=name,
        code=_digest_sets(),
        model=name,
        config=_digest_sets(),
    )


# ---------------------------------------------------------------------------
# signed objects and chains


def _nonempty(items: Sequence[str], what: str) -> tuple[str, ...]:
    out = tuple(items)
    if not out or not all(isinstance(i, str) for i in out):
        raise InvalidArgument(f"{what} must be a non-empty sequence of names")
    return out


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
            "rng": Rng(last.claims.id),
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


# ---------------------------------------------------------------------------
# non-canonical CBOR


def _items(value: object) -> list[object]:
    """Every item of ``value`` in encoding order (pre-order; map keys sorted as encoded)."""
    out: list[object] = [value]
    if isinstance(value, list):
        for item in value:
            out.extend(_items(item))
    elif isinstance(value, dict):
        for k, v in sorted(value.items(), key=lambda kv: cbor.encode(kv[0])):
            out.extend(_items(k))
            out.extend(_items(v))
    return out


_HEAD_SIZES: Final = ((0, 24), (1, 1 << 8), (2, 1 << 16), (4, 1 << 32), (8, 1 << 64))


def _head(major: int, arg: int, *, wide: bool = False) -> bytes:
    """A CBOR head; with ``wide``, one size longer than the shortest form (spec 5.2 refuses it)."""
    index = next(i for i, (_, limit) in enumerate(_HEAD_SIZES) if arg < limit) + int(wide)
    size = _HEAD_SIZES[index][0]
    if size == 0:
        return bytes([(major << 5) | arg])
    return bytes([(major << 5) | (23 + index)]) + arg.to_bytes(size, "big")


def _head_of(value: object) -> tuple[int, int]:
    if isinstance(value, bool) or value is None:
        return 7, {False: 20, True: 21, None: 22}[value]
    if isinstance(value, int):
        return (0, value) if value >= 0 else (1, -1 - value)
    if isinstance(value, bytes):
        return 2, len(value)
    if isinstance(value, str):
        return 3, len(value.encode())
    if isinstance(value, list):
        return 4, len(value)
    if isinstance(value, dict):
        return 5, len(value)
    raise TypeError(f"not protocol data: {type(value).__name__}")


def _loose(value: object, target: int, style: str, counter: list[int]) -> bytes:
    """``value`` encoded canonically except item number ``target``, written in ``style``."""
    here = counter[0] == target
    counter[0] += 1
    major, arg = _head_of(value)
    indefinite = here and style == "indefinite" and major in (2, 3, 4, 5)
    duplicate = here and style == "duplicate_key" and isinstance(value, dict) and value
    count = arg + 1 if duplicate else arg
    if here and style == "bignum" and major in (0, 1):
        # a tagged bignum (RFC 8949 3.4.3): another spelling of the integer, refused as a tag
        magnitude = arg.to_bytes(max(1, (arg.bit_length() + 7) // 8), "big")
        return bytes([0xC2 + major]) + _head(2, len(magnitude)) + magnitude
    if indefinite:
        head = bytes([(major << 5) | 31])
    else:
        head = _head(major, count, wide=here and style == "wide_head")
    body = b""
    if isinstance(value, bytes):
        body = _head(2, arg) + value if indefinite else value
    elif isinstance(value, str):
        raw = value.encode()
        body = _head(3, arg) + raw if indefinite else raw
    elif isinstance(value, list):
        body = b"".join(_loose(v, target, style, counter) for v in value)
    elif isinstance(value, dict):
        pairs = sorted(value.items(), key=lambda kv: cbor.encode(kv[0]))
        if here and style == "unsorted":
            pairs.reverse()
        parts = [
            _loose(k, target, style, counter) + _loose(v, target, style, counter) for k, v in pairs
        ]
        if duplicate:
            parts.append(parts[0])
        body = b"".join(parts)
    return head + body + (b"\xff" if indefinite else b"")


def noncanonical_encodings(value: Any) -> SearchStrategy[bytes]:
    """Encodings of ``value`` that a strict decoder must refuse (spec 5.2).

    One item is written with a longer head than needed, as an indefinite-length
    item, as a tagged bignum, with its map keys out of order, or with a repeated
    key. Every result differs from ``cbor.encode(value)``.
    """
    items = _items(value)
    choices: list[tuple[int, str]] = []
    for index, item in enumerate(items):
        _, arg = _head_of(item)
        if arg < 2**32:
            choices.append((index, "wide_head"))
        if isinstance(item, int) and not isinstance(item, bool):
            choices.append((index, "bignum"))
        if isinstance(item, (bytes, str, list, dict)):
            choices.append((index, "indefinite"))
        if isinstance(item, dict) and len(item) >= 2:
            choices.append((index, "unsorted"))
        if isinstance(item, dict) and item:
            choices.append((index, "duplicate_key"))
    canonical = cbor.encode(value)
    return (
        st.sampled_from(choices)
        .map(lambda c: _loose(value, c[0], c[1], [0]))
        .filter(lambda b: b != canonical)
    )


# ---------------------------------------------------------------------------
# other spellings of JSON (spec/jose.md J.2)

#: spellings a strict reader accepts: J.2 allows whitespace, JSON has no member order,
#: and an escape is JSON; over signed bytes they change the bytes, not the meaning
JSON_ACCEPTED: Final = ("spaced", "reordered", "escaped")
#: spellings J.2 refuses: a repeated member, a fraction, an integer beyond 2^53-1,
#: a byte order mark, something after the value
JSON_REFUSED: Final = ("duplicate", "fraction", "big_int", "bom", "trailing")


def _spell(value: dict[str, Any], style: str) -> bytes:
    canonical = jws.dumps(value).decode("utf-8")
    first = sorted(value)[0]
    if style == "spaced":
        text = _json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + " \n\t\r"
    elif style == "reordered":
        text = _json.dumps(dict(sorted(value.items(), reverse=True)), ensure_ascii=False)
    elif style == "escaped":
        # the first member name's first character, and every "A" (only ever inside a string)
        text = _json.dumps(value, sort_keys=True, separators=(",", ":"))
        text = f'{{"\\u{ord(text[2]):04x}' + text[3:].replace("A", "\\u0041")
    elif style == "duplicate":
        text = canonical[:-1] + "," + _json.dumps(first) + ":" + _json.dumps(value[first]) + "}"
    elif style in ("fraction", "big_int"):
        name = next(k for k in sorted(value) if type(value[k]) is int)
        number = f"{value[name]}.0" if style == "fraction" else str(2**53 + abs(value[name]))
        text = _json.dumps({**value, name: "@"}, sort_keys=True, separators=(",", ":"))
        text = text.replace('"@"', number, 1)
    elif style == "bom":
        text = "\ufeff" + canonical
    elif style == "trailing":
        text = canonical + "{}"
    else:
        raise InvalidArgument(f"unknown JSON spelling {style!r}")
    return text.encode("utf-8")


def json_spellings(value: Mapping[str, Any], *, accepted: bool = True) -> SearchStrategy[bytes]:
    """Other spellings of the JSON object ``value``: with ``accepted``, ones a strict
    reader takes as the same object (whitespace, member order, escapes); without,
    ones spec/jose.md J.2 refuses (a repeated member, a fraction, an integer beyond
    2^53-1, a byte order mark, trailing data). None equals :func:`jws.dumps`'s."""
    obj = dict(value)
    if not obj:
        raise InvalidArgument("needs a JSON object with at least one member")
    styles = [
        style
        for style in (JSON_ACCEPTED if accepted else JSON_REFUSED)
        if style not in ("fraction", "big_int") or any(type(v) is int for v in obj.values())
    ]
    canonical = jws.dumps(obj)
    return (
        st.sampled_from(styles)
        .map(lambda style: _spell(obj, style))
        .filter(lambda b: b != canonical)
    )


def _loads(data: bytes) -> dict[str, Any]:
    value = _json.loads(data)
    if not isinstance(value, dict):
        raise AssertionError("a JOSE header, payload or container is a JSON object")
    return value


def _respelled(draw: st.DrawFn, compact: bytes, signer: PrivateKey, accepted: bool) -> bytes:
    """``compact`` with its header or payload spelled otherwise and signed again by ``signer``;
    or, refused too, with its signature's base64url padded (spec 5.1)."""
    h, p, _ = compact.split(b".")
    header, payload = jws.b64decode(h.decode()), jws.b64decode(p.decode())
    if not accepted and draw(st.integers(0, 5)) == 0:
        return compact + b"=="  # 64 signature bytes: 86 characters, two padding symbols
    if draw(st.booleans()):
        header = draw(json_spellings(_loads(header), accepted=accepted))
    else:
        payload = draw(json_spellings(_loads(payload), accepted=accepted))
    return raw_jws(header, payload, signer)


# ---------------------------------------------------------------------------
# mutations


@dataclass(frozen=True, slots=True)
class Mutation:
    """A changed presentation (``data``: bytes or text form) and what it was made from.

    A verifier must refuse it (a typed error, or a decision other than allow)
    unless it decodes to exactly the original presentation, or, when
    ``equivalent``, decide exactly as on the original: a JOSE object whose JSON
    was spelled otherwise and signed again by its signer says the same thing
    (spec/jose.md J.2: the signature covers the bytes as received).
    """

    kind: str
    scenario: Scenario
    data: bytes | str
    note: str = field(default="")
    equivalent: bool = field(default=False)


def _container(
    links_: Sequence[bytes],
    invocation: bytes | None,
    attestations_: Sequence[bytes],
    approvals_: Sequence[bytes],
) -> bytes:
    if links_ and links_[0][:1] != b"\x84":  # a JWS compact: the JSON container
        return jose_container(links_, invocation, attestations_, approvals_)
    out: dict[int, object] = {codec.P_VERSION: codec.VERSION, codec.P_LINKS: list(links_)}
    if invocation is not None:
        out[codec.P_INVOCATION] = invocation
    if attestations_:
        out[codec.P_ATTESTATIONS] = list(attestations_)
    if approvals_:
        out[codec.P_APPROVALS] = list(approvals_)
    return cbor.encode(out)  # type: ignore[arg-type]


def _parts(p: Presentation) -> tuple[list[bytes], bytes | None, list[bytes], list[bytes]]:
    return (
        [link.encoded for link in p.links],
        p.invocation.encoded if p.invocation is not None else None,
        [a.encoded for a in p.attestations],
        [a.encoded for a in p.approvals],
    )


_Mutator = Callable[[st.DrawFn, Scenario], tuple[bytes | str, str]]


def _bit_flip(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    data = bytearray(s.presentation.to_bytes())
    # aim inside one signed object half of the time: otherwise most flips break the container
    links_, inv, att, appr = _parts(s.presentation)
    objects = [*links_, *([inv] if inv is not None else []), *att, *appr]
    target = draw(st.none() | st.sampled_from(objects))
    start, size = (0, len(data)) if target is None else (bytes(data).find(target), len(target))
    if s.chain.encoding == "jose" and target is not None and draw(st.booleans()):
        # a JWS compact is text: one base64url symbol (or a dot) for another
        at = start + draw(st.integers(0, size - 1))
        symbol = draw(st.sampled_from(_B64URL + ".").filter(lambda c: ord(c) != data[at]))
        data[at] = ord(symbol)
        return bytes(data), f"character {at} -> {symbol!r}"
    at = start * 8 + draw(st.integers(0, size * 8 - 1))
    data[at // 8] ^= 1 << (at % 8)
    return bytes(data), f"bit {at}"


def _truncate(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    data = s.presentation.to_bytes()
    end = draw(st.integers(0, len(data) - 1))
    return data[:end], f"first {end} bytes"


def _splice_link(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    other = draw(chains(encodings=(s.chain.encoding,), max_links=3, now=s.now))
    links_, inv, att, appr = _parts(s.presentation)
    i = draw(st.integers(0, len(links_) - 1))
    j = draw(st.integers(0, len(other.token.links) - 1))
    links_[i] = other.token.links[j].encoded
    return _container(links_, inv, att, appr), f"link {i} <- other chain's link {j}"


def _reorder(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    links_, inv, att, appr = _parts(s.presentation)
    if len(links_) >= 2:
        order = draw(st.permutations(range(len(links_))).filter(lambda o: list(o) != sorted(o)))
        return _container([links_[k] for k in order], inv, att, appr), f"links in order {order}"
    # one link: duplicate it, or move the invocation into the links
    if inv is not None and draw(st.booleans()):
        return _container([inv], links_[0], att, appr), "link and invocation swapped"
    return _container(links_ * 2, inv, att, appr), "the link twice"


def _noncanonical(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    if s.chain.encoding == "jose":
        # the JSON container is not signed: any spelling J.2 accepts holds the same objects
        container = _loads(s.presentation.to_bytes())
        spelled = draw(json_spellings(container, accepted=draw(st.booleans())))
        return spelled, "container spelled otherwise"
    top = cbor.decode(s.presentation.to_bytes())
    return draw(noncanonical_encodings(top)), "container re-encoded non-canonically"


def _noncanonical_signed(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    """A link's payload re-encoded non-canonically and correctly signed again by its signer:
    signatures cover stored bytes, so the signature is valid, and strict decoding must refuse."""
    links_, inv, att, appr = _parts(s.presentation)
    i = draw(st.integers(0, len(links_) - 1))
    link = s.presentation.links[i]
    signer = s.chain.keys[i]
    if s.chain.encoding == "jose":
        # refused spellings fail decoding; accepted ones change the link's digest (J.6),
        # which its child or the invocation names: the chain breaks either way
        links_[i] = _respelled(draw, link.encoded, signer, accepted=draw(st.booleans()))
        return _container(links_, inv, att, appr), f"link {i} spelled otherwise, re-signed"
    payload = draw(noncanonical_encodings(cbor.decode(link.envelope.payload)))
    protected = cose.protected_header(COSE_ALG[signer.alg], codec.TYP_LINK)
    signature = signer.sign(cose.sig_structure(protected, payload))
    links_[i] = cose.assemble(protected, payload, signature)
    return _container(links_, inv, att, appr), f"link {i} payload non-canonical, re-signed"


_B64URL: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _text(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    text = s.presentation.to_text()
    prefix, body = text[:5], text[5:]
    choice = draw(st.integers(0, 4))
    if choice == 0:
        others = [
            p for p in ("ac1j.", "ac1c.", "ac2c.", "AC1C.", "AC1J.", "ac1j", "") if p != prefix
        ]
        return draw(st.sampled_from(others)) + body, "prefix"
    if choice == 1:
        return text + draw(st.sampled_from(("=", "==", "A", "AA"))), "padding or extra symbols"
    if choice == 2:
        at = draw(st.integers(5, len(text) - 1))
        return text[:at] + draw(st.sampled_from((" ", "\n", "+", "/", "."))) + text[
            at:
        ], "a stray character"
    if choice == 3:
        at = draw(st.integers(5, len(text) - 1))
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return text[:at] + draw(st.sampled_from(alphabet)) + text[at + 1 :], f"symbol {at} replaced"
    # spec 5.1: ASCII whitespace around the text is ignored, any other character refused
    space = draw(st.sampled_from((" ", "\n", "\t", "\r\n", "\u00a0", "\u2003", "\x1c", "\x85")))
    return space + prefix + body + space, f"surrounded by {space!r}"


def _reserialized(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    """The invocation spelled otherwise and correctly signed again by the holder: in JOSE
    with a spelling J.2 accepts (nothing names the invocation's bytes, so it must be
    decided as before); in CBOR non-canonically, which spec 5.2 refuses."""
    links_, _, att, appr = _parts(s.presentation)
    invocation = _present(s.presentation.invocation)
    holder = s.chain.holder
    if s.chain.encoding == "jose":
        inv = _respelled(draw, invocation.encoded, holder, accepted=True)
    else:
        payload = draw(noncanonical_encodings(cbor.decode(invocation.envelope.payload)))
        protected = cose.protected_header(COSE_ALG[holder.alg], codec.TYP_INVOCATION)
        inv = cose.assemble(protected, payload, holder.sign(cose.sig_structure(protected, payload)))
    return _container(links_, inv, att, appr), "invocation spelled otherwise, re-signed"


_MUTATORS: Final[dict[str, _Mutator]] = {
    "bit_flip": _bit_flip,
    "truncate": _truncate,
    "splice_link": _splice_link,
    "reorder": _reorder,
    "noncanonical": _noncanonical,
    "noncanonical_signed": _noncanonical_signed,
    "text": _text,
    "reserialized": _reserialized,
}


@st.composite
def _mutation(
    draw: st.DrawFn, *, base: SearchStrategy[Scenario], kinds: tuple[str, ...]
) -> Mutation:
    s = draw(base)
    kind = draw(st.sampled_from(kinds))
    data, note = _MUTATORS[kind](draw, s)
    equivalent = kind == "reserialized" and s.chain.encoding == "jose"
    return Mutation(kind=kind, scenario=s, data=data, note=note, equivalent=equivalent)


def mutations(
    *, scenarios: SearchStrategy[Scenario] | None = None, kinds: Sequence[str] = MUTATIONS
) -> SearchStrategy[Mutation]:
    """Mutations of allowed scenarios: bit flips (in JOSE also one symbol of a compact for
    another), truncation, a link spliced in from another chain, reordering, non-canonical
    re-encodings (also correctly re-signed ones; in JOSE, the container or a signed
    object's JSON spelled otherwise) and changes to the text form."""
    chosen = _nonempty(kinds, "kinds")
    unknown = set(chosen) - set(MUTATIONS)
    if unknown:
        raise InvalidArgument(f"unknown mutation kinds {sorted(unknown)}; known: {MUTATIONS}")
    base = (
        scenarios
        if scenarios is not None
        else _scenario(encodings=ENCODINGS, max_links=3, factors=True, now=NOW)
    )
    return _mutation(base=base, kinds=chosen)


# ---------------------------------------------------------------------------
# hypothesis' entry point


def _hypothesis_setup_hook() -> None:
    """Register the strategies for ``st.from_type`` (run when this module is imported, which
    hypothesis' entry point, :mod:`agentchain._hypothesis`, does when hypothesis is)."""
    registered: dict[type, SearchStrategy[Any]] = {
        PrivateKey: private_keys(),
        PublicKey: public_keys(),
        Capability: capabilities(),
        Caveat: caveats(),
        Descriptor: descriptors(),
        ApprovalRequirement: approval_requirements(),
        policy.Statement: statements(),
        Link: links(),
        Invocation: invocations(),
        Attestation: attestations(),
        Approval: approvals(),
        Presentation: presentations(),
        Request: requests(),
        Chain: chains(),
        Scenario: scenarios(),
        Mutation: mutations(),
    }
    for cls, strategy in registered.items():
        st.register_type_strategy(cls, strategy)


_hypothesis_setup_hook()
