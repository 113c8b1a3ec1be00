"""Strategies for keys, authority (actions, resources, capabilities), values, caveats."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from typing import Any, Final

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from agentchain import model
from agentchain.crypto import EDDSA, ES256, PrivateKey, PublicKey
from agentchain.model import ApprovalRequirement, Capability, Caveat, Descriptor

#: the default clock of every strategy: 2027-01-15T08:00:00Z
NOW: Final = 1_800_000_000
#: the audience of every scenario (the verifier's own name)
AUDIENCE: Final = "https://api.example"
#: the encodings this implementation can produce
ENCODINGS: Final = ("cbor", "jose")
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


def floats() -> SearchStrategy[float]:
    """The floats of the data model (spec 5.2): finite binary64 values that are not an
    integer of the CBOR integer range (``12.0`` is the integer 12, never a float)."""
    return st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda x: not (x.is_integer() and -(2**64) <= x <= 2**64 - 1)
    )


def values(*, max_leaves: int = 10, json: bool = False) -> SearchStrategy[Any]:
    """Protocol data (spec 5.2): ints, floats, text, bytes, bools, null, arrays, maps.

    With ``json``, only what the JOSE encoding carries: no byte strings, and integers
    within +-(2^53-1) (spec/jose.md J.2, J.5)."""
    big = _JSON_INT if json else 2**64 - 1
    scalars: SearchStrategy[Any] = (
        st.none()
        | st.booleans()
        | st.integers(-big - (0 if json else 1), big)
        | st.integers(-1000, 1000)
        | floats()
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
            st.sampled_from(("<", "<=", ">", ">=")),
            sel,
            st.integers(-big - (not json), big) | floats(),
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


def statements(*, max_leaves: int = 6, json: bool = False) -> SearchStrategy[model.Statement]:
    """Well-formed policy statements (spec 6) over the argument keys :func:`arguments` uses;
    with ``json``, only literals the JOSE encoding carries."""
    return _statement_data(max_leaves, json).map(model.parse_statement)


def policy_inputs(*, max_leaves: int = 12) -> SearchStrategy[Any]:
    """Adversarial statement data: well-formed statements, near misses and arbitrary data.

    For totality properties: ``model.parse_statement`` must either raise a typed error or
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


def _nonempty(items: Sequence[str], what: str) -> tuple[str, ...]:
    out = tuple(items)
    if not out or not all(isinstance(i, str) for i in out):
        raise InvalidArgument(f"{what} must be a non-empty sequence of names")
    return out
