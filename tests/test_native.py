"""Two paths, one behaviour: the native core (agentchain_native) against the pure-Python reference.

Every test here runs the same input through both backends of :mod:`agentchain._native` and
requires the same outcome: the same value, or the same exception type with the same registry
code (and, for CBOR, the same message, which names the byte where decoding stopped: the same
first violation). An untyped exception from either path fails the test as it is.

Inputs: every CBOR, COSE and JWS byte string of vectors/v1 and single-byte mutations of each;
hypothesis values, non-canonical encodings and raw bytes; the mutation strategies of
agentchain.testing; keys and signatures, strict-rule edge cases included.

Without the native core these tests are skipped with the reason, except under ``CI=true``,
where a missing core is a failure: CI must prove both paths.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentchain import _native, codec
from agentchain.codec._signed import _open
from agentchain.crypto import PublicKey
from agentchain.errors import AgentchainError, DecodeError, InvalidKey
from agentchain.limits import Limits
from agentchain.model import ObjectKind
from agentchain.testing import mutations, noncanonical_encodings, private_keys, values
from agentchain.wire import cbor, cose, jws

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "v1"
PURE = _native.backend("pure")
LIMITS = Limits()
#: the limits codec._open gives decode_sign1 (the payload may be as long as the object)
SIGN1 = {
    "max_depth": LIMITS.max_cbor_depth,
    "max_items": LIMITS.max_cbor_items,
    "max_string_bytes": LIMITS.max_object_bytes,
}
BIG = {"max_depth": 1000, "max_items": 10**6, "max_string_bytes": 10**6}


def _native_or_skip() -> _native.Backend:
    if not _native.available():
        reason = _native.unavailable_reason()
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true must run both paths, and the native core is missing: {reason}")
        pytest.skip(reason)
    return _native.backend("native")


@pytest.fixture(scope="module")
def native() -> _native.Backend:
    return _native_or_skip()


Outcome = tuple[Any, ...]


def outcome(
    fn: Callable[..., object], *args: object, message: bool = False, **kw: object
) -> Outcome:
    """("ok", value) or ("error", type, code[, message]); anything else propagates."""
    try:
        return ("ok", fn(*args, **kw))
    except AgentchainError as exc:
        return ("error", type(exc).__name__, exc.code, *((exc.message,) if message else ()))


def strict(value: object) -> object:
    """The value with every type made visible, so True != 1 and b"" != "" in comparisons."""
    if isinstance(value, list):
        return ["list", *map(strict, value)]
    if isinstance(value, dict):
        return ["dict", *((strict(k), strict(v)) for k, v in value.items())]
    return (type(value).__name__, value)


def same_cbor(native: _native.Backend, data: bytes, **limits: int) -> None:
    """R-5.2-11: the same value, or the same code and message (the byte that stopped it)."""
    want = outcome(PURE.cbor_decode, data, message=True, **limits)
    got = outcome(native.cbor_decode, data, message=True, **limits)
    if want[0] == "ok" and got[0] == "ok":
        assert strict(got[1]) == strict(want[1]), data.hex()
    else:
        assert got == want, data.hex()


def same(native: _native.Backend, name: str, *args: object, **kw: Any) -> Outcome:
    want = outcome(getattr(PURE, name), *args, **kw)
    got = outcome(getattr(native, name), *args, **kw)
    assert got == want, (name, args)
    return want


# --------------------------------------------------------------------------
# the byte strings of the conformance vectors


def _walk(value: object) -> Iterator[object]:
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())


@functools.cache
def vector_bytes() -> tuple[list[bytes], list[bytes]]:
    """(every CBOR byte string, every JWS compact) the vectors hold, each once, in a fixed order.

    Containers of each text form, the objects and payloads inside CBOR containers, the
    compacts inside JOSE containers, and the hex fields (payload encodings, keys, ...).
    """
    cbor_items: dict[bytes, None] = {}
    compacts: dict[bytes, None] = {}
    for path in sorted(VECTORS.glob("*.json")):
        for item in _walk(json.loads(path.read_text(encoding="utf-8"))):
            if not isinstance(item, str):
                continue
            if re.fullmatch(r"(?:[0-9a-f]{2})+", item):
                cbor_items[bytes.fromhex(item)] = None
                continue
            text = item.strip()
            if not text.startswith(("ac2c.", "ac2j.")):
                continue
            try:
                container = jws.b64decode(text[5:])
            except DecodeError:
                continue
            if text.startswith("ac2j."):
                try:
                    parsed = json.loads(container)
                except ValueError:
                    continue
                for inner in _walk(parsed):
                    if isinstance(inner, str) and inner.count(".") == 2:
                        compacts[inner.encode("utf-8")] = None
                continue
            cbor_items[container] = None
            try:
                decoded = cbor.decode(container, **BIG)
            except DecodeError:
                continue
            for inner in _walk(decoded):
                if isinstance(inner, bytes):
                    cbor_items[inner] = None
                    if inner[:1] == b"\x84":  # a COSE_Sign1: its payload too
                        try:
                            payload = cbor.decode(inner, **BIG)
                        except DecodeError:
                            continue
                        if isinstance(payload, list) and len(payload) == 4:
                            for part in payload:
                                if isinstance(part, bytes):
                                    cbor_items[part] = None
    return list(cbor_items), list(compacts)


def test_vectors_hold_what_the_differential_tests_need() -> None:
    cbor_items, compacts = vector_bytes()
    assert len(cbor_items) > 500
    assert len(compacts) > 100
    assert sum(1 for b in cbor_items if b[:1] == b"\x84") > 200


def test_vector_cbor_items(native: _native.Backend) -> None:
    # R-5.2-1 R-5.2-11: every CBOR byte string of the vectors, under several limits
    for data in vector_bytes()[0]:
        same_cbor(native, data)
        same_cbor(native, data, **BIG)
        same_cbor(native, data, max_depth=2, max_items=8, max_string_bytes=64)


def test_vector_sign1(native: _native.Backend) -> None:
    # R-5.4-1 R-5.4-2 R-5.4-3: every byte string of the vectors as a COSE_Sign1
    accepted = 0
    for data in vector_bytes()[0]:
        accepted += same(native, "decode_sign1", data, **SIGN1)[0] == "ok"
        same(native, "decode_sign1", data, max_depth=3, max_items=6, max_string_bytes=200)
    assert accepted > 200


def _mutants(data: bytes, head: int, stride: int) -> Iterator[bytes]:
    """Single-byte mutations: every byte of the first ``head`` bytes (the array, the protected
    header), then every ``stride``-th byte; each changed three ways (low bit, high bit, all
    bits), and removed or doubled at the strided positions."""
    for at in range(min(len(data), head)):
        for mask in (0x01, 0x80, 0xFF):
            yield data[:at] + bytes((data[at] ^ mask,)) + data[at + 1 :]
    for at in range(head, len(data), stride):
        for mask in (0x01, 0x80, 0xFF):
            yield data[:at] + bytes((data[at] ^ mask,)) + data[at + 1 :]
        yield data[:at] + data[at + 1 :]
        yield data[: at + 1] + data[at:]


#: CI (set by .ci/run) mutates every byte of one object in 25, a developer's run a sample
CI = bool(os.environ.get("CI"))
HEAD, STRIDE, EVERY = (16, 1, 25) if CI else (6, 29, 100)


def test_vector_cbor_mutations(native: _native.Backend) -> None:
    # R-5.2-2 R-5.2-3 R-5.2-4 R-5.2-5 R-5.2-6 R-5.2-7 R-5.2-8 R-5.2-9 R-5.2-10 R-5.2-11
    # R-5.4-1 R-5.4-2 R-5.4-3: one changed byte; the same value, or the same first violation
    objects = vector_bytes()[0]
    for i, data in enumerate(objects):
        deep = i % EVERY == 0  # every byte of this one, the head of the others
        for mutant in _mutants(data, HEAD, STRIDE if deep else len(data) + 1):
            same_cbor(native, mutant)
            same(native, "decode_sign1", mutant, **SIGN1)


def _compact_mutants(data: bytes, stride: int) -> Iterator[bytes]:
    """One character of a compact for another (base64url symbols, a dot, padding, non-ASCII)."""
    positions = [*range(min(len(data), 40)), *range(40, len(data), stride)]
    for at in positions:
        for char in (b"A", b"_", b".", b"=", b"+", b"\xc3\xa9"):
            if data[at : at + 1] != char:
                yield data[:at] + char + data[at + 1 :]
        yield data[:at] + data[at + 1 :]


def test_vector_compacts(native: _native.Backend) -> None:
    # spec/jose.md: decode_compact and base64url give the same answers on every vector compact
    for data in vector_bytes()[1]:
        for cap in (16_384, 200):
            same(native, "decode_compact", data, max_bytes=cap, max_string_bytes=4096)
        for part in data.decode("utf-8").split("."):
            same(native, "b64decode", part)
        for mutant in _compact_mutants(data, STRIDE * 4 if CI else 397):
            same(native, "decode_compact", mutant, max_bytes=16_384, max_string_bytes=4096)


# --------------------------------------------------------------------------
# generated inputs


@given(data=st.binary(max_size=64))
def test_random_bytes(native: _native.Backend, data: bytes) -> None:
    # R-5.2-8 R-5.2-11: any bytes at all
    same_cbor(native, data)
    same_cbor(native, data, max_depth=1, max_items=1, max_string_bytes=1)
    same(native, "decode_sign1", data, **SIGN1)


def test_every_binary16_float_head(native: _native.Backend) -> None:
    # R-5.2-12: all 65,536 half-width floats, and each truncated: the same value or refusal
    for bits in range(0x10000):
        same_cbor(native, b"\xf9" + bits.to_bytes(2, "big"))
    for head in (b"\xf9\x3e", b"\xfa\x3e\xaa\xaa", b"\xfb\x3f\xf1\x99\x99\x99\x99\x99"):
        same_cbor(native, head)


@given(single=st.integers(0, 2**32 - 1), double=st.integers(0, 2**64 - 1), value=st.floats())
def test_wider_float_heads_and_encoded_floats(
    native: _native.Backend, single: int, double: int, value: float
) -> None:
    # R-5.2-12: any binary32 or binary64 head (the value, then the width, decides), and the
    # shortest encoding of any float, alone and as a map value
    same_cbor(native, b"\xfa" + single.to_bytes(4, "big"))
    same_cbor(native, b"\xfb" + double.to_bytes(8, "big"))
    if math.isfinite(value):
        same_cbor(native, cbor.encode(value))
        same_cbor(native, cbor.encode({"amount": value, "n": [value, 1]}))


def _encoded(encode: Callable[[Any], object], value: object) -> Outcome:
    """("ok", bytes) or ("error", type, message): what an encoder does with ``value``."""
    try:
        return ("ok", encode(value))
    except (TypeError, ValueError) as exc:
        return ("error", type(exc).__name__, str(exc))


def same_encoding(native: _native.Backend, value: object) -> bytes | None:
    """The backend's cbor_encode gives the reference's bytes, or its very error; the core
    itself answers None or those bytes. Returns what the core itself answered."""
    import agentchain_native

    want = _encoded(cbor.encode, value)
    found = agentchain_native.cbor_encode(value)
    if found is not None:
        assert want == ("ok", found), value
    assert _encoded(native.cbor_encode, value) == want
    assert _encoded(PURE.cbor_encode, value) == want
    return found


def _exact(value: object) -> bool:
    """Plain data of the exact types, ints and numbers in range, shallow: the core's own."""
    kind = type(value)
    if value is None or kind in (bool, bytes):
        return True
    if kind is int:
        return -(2**64) <= value <= 2**64 - 1  # type: ignore[operator]
    if kind is float:
        return math.isfinite(value)  # type: ignore[arg-type]
    if kind is str:
        return not any(0xD800 <= ord(c) <= 0xDFFF for c in value)  # type: ignore[attr-defined]
    if kind is list:
        return all(map(_exact, value))  # type: ignore[call-overload]
    if kind is dict:
        return all(
            type(k) in (int, str) and _exact(k) and _exact(v)
            for k, v in value.items()  # type: ignore[attr-defined]
        )
    return False


@given(value=values(max_leaves=20) | st.floats() | st.integers() | st.text())
def test_the_core_encodes_plain_data_as_the_reference(native: _native.Backend, value: Any) -> None:
    # R-5.2-1 to R-5.2-4: deterministic CBOR (shortest heads, shortest exact floats, an
    # integral float as its integer, map keys in the bytewise order of their encodings)
    found = same_encoding(native, value)
    assert (found is not None) == _exact(value), value


def test_the_core_leaves_the_rest_of_encoding_to_the_reference(native: _native.Backend) -> None:
    # what the core does not take, the reference encodes or refuses, with its own error
    import enum
    from collections import OrderedDict

    class Number(enum.IntEnum):
        ONE = 1

    class Word(enum.StrEnum):
        A = "a"

    class Text(str):
        pass

    deep: list[Any] = []
    for _ in range(100):
        deep = [deep]
    too_deep: list[Any] = []
    for _ in range(600):
        too_deep = [too_deep]
    left = [
        Number.ONE,
        Word.A,
        Text("t"),
        {Number.ONE: 1},
        {True: 1},
        {1.5: 2},
        {(1,): 2},
        (1, 2),
        bytearray(b"x"),
        OrderedDict(a=1),
        "\ud800",
        {"k": "\udfff"},
        2**64,
        -(2**64) - 1,
        10**40,
        math.nan,
        math.inf,
        -math.inf,
        [math.nan],
        deep,
        too_deep,
        {Number.ONE: 4, "1": 3},
    ]
    for value in left:
        assert same_encoding(native, value) is None, value
    taken: list[object] = [
        12.0,
        -0.0,
        0.5,
        1.5,
        0.1,
        65504.0,
        65504.5,
        65520.0,
        2.0**-24,
        2.0**-25,
        2.0**-14,
        2.0**-149,
        2.0**-150,
        5e-324,
        1e300,
        2.0**64,
        -(2.0**64),
        2.0**63,
        -(2.0**63) - 1,
        3.4028234663852886e38,
        2**64 - 1,
        -(2**64),
        0,
        23,
        24,
        255,
        256,
        65535,
        65536,
        2**32 - 1,
        2**32,
        -1,
        -24,
        -25,
        -256,
        -257,
        True,
        False,
        None,
        b"",
        "",
        "\u00e9" * 30,
        [],
        {},
        [[[]]],
        {1: 2, "a": 3, -1: 4, 10: 5, 256: 0, "": 1, "aa": 2, "b": 3},
        {"amount": 10, "to": [1, 2.5, {"x": None}]},
    ]
    for value in taken:
        assert same_encoding(native, value) is not None, value


def test_a_jose_link_id_is_the_same_through_the_core(native: _native.Backend) -> None:
    # R-8.5-2: a link's id, the SHA-256 of its claims' CBOR without the parent, whichever
    # encoder makes that CBOR; every JOSE link of the vectors, and its CBOR twin's id
    from agentchain.model import LinkClaims

    checked = 0
    for data in vector_bytes()[1]:
        try:
            link = codec.decode_unverified(LinkClaims, data)
        except AgentchainError:
            continue
        assert codec.link_id(link.claims, encode=native.cbor_encode) == codec.link_id(link.claims)
        checked += 1
    assert checked > 10


@given(
    value=values(), limits=st.tuples(st.integers(-2, 20), st.integers(-2, 40), st.integers(-2, 50))
)
def test_values_under_limits(
    native: _native.Backend, value: Any, limits: tuple[int, int, int]
) -> None:
    # R-5.2-10: every limit, small and even zero or negative, answers the same
    data = cbor.encode(value)
    same_cbor(native, data)
    depth, items, size = limits
    same_cbor(native, data, max_depth=depth, max_items=items, max_string_bytes=size)
    same_cbor(native, data, max_depth=2**80, max_items=2**70, max_string_bytes=-(2**90))


@given(data=st.data())
def test_noncanonical_encodings(native: _native.Backend, data: st.DataObject) -> None:
    # R-5.2-5 R-5.2-6 R-5.2-7: every way the strategies spell a value otherwise
    value = data.draw(values())
    same_cbor(native, data.draw(noncanonical_encodings(value)), **BIG)


def _objects(container: bytes) -> list[bytes]:
    try:
        decoded = cbor.decode(container, **BIG)
    except DecodeError:
        return []
    return [item for item in _walk(decoded) if isinstance(item, bytes)]


@given(mutation=mutations())
def test_mutated_presentations(native: _native.Backend, mutation: Any) -> None:
    # R-5.2-11 R-5.4-5: the mutation strategies of agentchain.testing, through both paths
    data = mutation.data
    if isinstance(data, str):
        text = data.strip()
        same(native, "b64decode", text[5:])
        try:
            data = jws.b64decode(text[5:])
        except DecodeError:
            return
    same_cbor(native, data)
    for item in _objects(data):
        same(native, "decode_sign1", item, **SIGN1)
        same_cbor(native, item)
    if data[:1] in (b"{", b"["):
        try:
            container = json.loads(data)
        except ValueError:
            return
        for inner in _walk(container):
            if isinstance(inner, str):
                same(
                    native,
                    "decode_compact",
                    inner.encode("utf-8"),
                    max_bytes=16_384,
                    max_string_bytes=4096,
                )


# --------------------------------------------------------------------------
# the prototype of the hot path: one signed object in one call


def _open_outcome(fn: Callable[[], tuple[Any, ...]]) -> Outcome:
    try:
        return ("ok", fn())
    except AgentchainError as exc:
        return ("error", type(exc).__name__, exc.code)


def test_open_cose_matches_codec(native: _native.Backend) -> None:
    # R-5.4-4 R-5.4-5: open_cose decodes as codec._open, and its signed bytes are the
    # reference's Sig_structure; checked on every vector object and its mutants
    core: Any = getattr(native, "_core")  # noqa: B009
    kw = {
        "max_object_bytes": LIMITS.max_object_bytes,
        "max_depth": LIMITS.max_cbor_depth,
        "max_items": LIMITS.max_cbor_items,
        "max_string_bytes": LIMITS.max_string_bytes,
    }

    def reference(data: bytes, kind: ObjectKind) -> tuple[Any, ...]:
        envelope, claims = _open(data, kind, LIMITS)
        e = envelope
        return (e.alg, e.typ, e.protected, e.payload, e.signature, strict(claims), e.signed)

    def candidate(data: bytes, typ: int) -> tuple[Any, ...]:
        alg, typ_, protected, payload, signature, claims, signed = core.open_cose(data, typ, **kw)
        return (alg, typ_, protected, payload, signature, strict(claims), signed)

    opened = 0
    objects = [b for b in vector_bytes()[0] if b[:1] == b"\x84"]
    for data in objects:
        for mutant in [data, *_mutants(data, HEAD, 53)]:
            if codec.encoding_of(mutant) != "cbor":
                continue  # the prototype is the CBOR branch of _open
            kinds: tuple[tuple[ObjectKind, int], ...] = (
                ("link", codec.TYP_LINK),
                ("invocation", codec.TYP_INVOCATION),
            )
            for kind, typ in kinds:
                want = _open_outcome(functools.partial(reference, mutant, kind))
                got = _open_outcome(functools.partial(candidate, mutant, typ))
                assert got == want, mutant.hex()
                opened += want[0] == "ok"
    assert opened > 100


# --------------------------------------------------------------------------
# keys and signatures (spec 3.4, 3.5)

_P = 2**255 - 19
_SPECIAL_Y = [0, 1, 2, _P - 1, _P, _P + 1, 2**255 - 1, *(_P - k for k in range(2, 20))]
_ORDER8 = [
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
]
#: point encodings at the edges of rules 3 and 4: small order, y >= p, x = 0 with a sign
EDGE_POINTS = [
    *((y | sign << 255).to_bytes(32, "little") for y in _SPECIAL_Y for sign in (0, 1)),
    *(bytes.fromhex(h) for h in _ORDER8),
    *(bytes(bytearray.fromhex(h)[:31]) + bytes((bytes.fromhex(h)[31] | 0x80,)) for h in _ORDER8),
]
_L = 2**252 + 27742317777372353535851937790883648493
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _same_key(native: _native.Backend, alg: str, raw: bytes) -> tuple[Any, Any]:
    want = outcome(PURE.public_key, alg, raw)
    got = outcome(native.public_key, alg, raw)
    assert got[0] == want[0] and got[1:] == want[1:] if got[0] == "error" else got[0] == want[0]
    return (want[1] if want[0] == "ok" else None, got[1] if got[0] == "ok" else None)


def test_edge_keys(native: _native.Backend) -> None:
    # R-3.4-3 R-3.4-4 R-3.4-5: small-order, non-canonical and off-curve keys, both paths
    for raw in EDGE_POINTS:
        _same_key(native, "Ed25519", raw)
    # R-3.1-4: the deprecated "EdDSA" is refused by both paths alike
    for raw in (b"", b"\x00" * 31, b"\x00" * 33, b"\x04" + b"\x00" * 64, b"\x04" + b"\xff" * 64):
        for alg in ("Ed25519", "ES256", "none", "EdDSA"):
            _same_key(native, alg, raw)


def test_thumbprints(native: _native.Backend) -> None:
    # spec 3.2: the native key's RFC 7638 thumbprint is the reference's, for both algorithms
    from agentchain.testing import seeded_key

    for i in range(6):
        for alg in ("Ed25519", "ES256"):
            public = seeded_key(f"thumb{i}", algorithm=alg).public_key
            native_key: Any = native.public_key(alg, public.raw())
            assert native_key.thumbprint == public.thumbprint


def _same_verify(native: _native.Backend, keys: tuple[Any, Any], sig: bytes, msg: bytes) -> None:
    pure_key, native_key = keys
    assert (pure_key is None) == (native_key is None)
    if pure_key is not None:
        want = outcome(pure_key.verify, sig, msg, message=True)
        assert outcome(native_key.verify, sig, msg, message=True) == want
        # the verifier's V3 path: the same key, imported once and kept by its bytes
        core, raw = native.chain, pure_key.raw()
        assert core is not None
        assert outcome(core.verify_cached, pure_key.alg, raw, sig, msg, message=True) == want


@given(key=private_keys(), message=st.binary(max_size=64), data=st.data())
def test_signatures(native: _native.Backend, key: Any, message: bytes, data: st.DataObject) -> None:
    # R-3.4-1 R-3.4-2 R-3.4-3 R-3.4-4 R-3.4-6 R-3.5-1 R-3.5-2 R-3.5-3: real signatures and
    # their malleated, truncated and edge-case twins give the same answer on both paths
    raw = key.public_key.raw()
    keys = _same_key(native, key.alg, raw)
    sig = key.sign(message)
    candidates = [sig, sig[:63], sig + b"\x00", b"", message + b"!"]
    if key.alg == "Ed25519":
        s = int.from_bytes(sig[32:], "little")
        candidates += [
            sig[:32] + (s + _L).to_bytes(32, "little"),
            sig[:32] + _L.to_bytes(32, "little"),
        ]
        candidates += [r + sig[32:] for r in EDGE_POINTS]
    else:
        r, s = sig[:32], int.from_bytes(sig[32:], "big")
        candidates += [r + (_N - s).to_bytes(32, "big"), bytes(32) + sig[32:], r + bytes(32)]
        candidates += [_N.to_bytes(32, "big") + sig[32:], r + _N.to_bytes(32, "big")]
    at = data.draw(st.integers(0, 63))
    candidates.append(
        sig[:at] + bytes((sig[at] ^ (1 << data.draw(st.integers(0, 7))),)) + sig[at + 1 :]
    )
    for candidate in candidates:
        _same_verify(native, keys, candidate, message)
    _same_verify(native, keys, sig, message + b"x")


@given(raw=st.binary(min_size=32, max_size=32) | st.sampled_from(EDGE_POINTS))
def test_random_ed25519_keys(native: _native.Backend, raw: bytes) -> None:
    # R-3.4-3 R-3.4-5: arbitrary 32-byte strings: mostly off the curve, some points
    _same_key(native, "Ed25519", raw)


def test_native_refusals_are_the_registry_types(native: _native.Backend) -> None:
    # the native core raises agentchain.errors types with registry codes, never its own
    with pytest.raises(DecodeError) as decode_error:
        native.cbor_decode(b"\x18\x01")
    assert decode_error.value.code == "cbor_noncanonical"
    with pytest.raises(InvalidKey) as key_error:
        native.public_key("Ed25519", bytes(32))
    assert key_error.value.code == "key_invalid"
    assert native.sig_structure(b"\xa0", b"x") == cose.sig_structure(b"\xa0", b"x")
    assert native.digest(b"abc") == PURE.digest(b"abc")
    assert isinstance(PURE.public_key("Ed25519", _ed_key_raw()), PublicKey)


def _ed_key_raw() -> bytes:
    from agentchain.testing import seeded_key

    return seeded_key("native").public_key.raw()


def test_mixed_order_keys(native: _native.Backend) -> None:
    # R-3.4-6: a key with a small-order component (A + T, T of order 8) is accepted, and the
    # cofactorless equation holds under it exactly when 8 divides k: both paths agree
    from tests.test_crypto import BASE, ORDER8, L, ed_add, ed_encode, ed_mul

    secret, nonce = 0x1234567 * 8 + 3, 0xABCDEF
    mixed = ed_encode(ed_add(ed_mul(secret, BASE), ORDER8[0]))
    keys = _same_key(native, "Ed25519", mixed)
    r_enc = ed_encode(ed_mul(nonce, BASE))
    verdicts = set()
    for i in range(24):
        message = b"mixed %d" % i
        k = int.from_bytes(hashlib.sha512(r_enc + mixed + message).digest(), "little") % L
        signature = r_enc + ((nonce + k * secret) % L).to_bytes(32, "little")
        want = outcome(keys[0].verify, signature, message)
        assert outcome(keys[1].verify, signature, message) == want
        assert (want[0] == "ok") == (k % 8 == 0)
        verdicts.add(want[0])
    assert verdicts == {"ok", "error"}


def test_mixed_order_r(native: _native.Backend) -> None:
    # R-3.4-4 R-3.4-6: R = rB + jT (T of order 8, j = 1..7) is not of small order, so the
    # encoding rules let it through, and the cofactorless equation decides: under a key with
    # the component T it holds exactly when j + k = 0 mod 8. The core checks R's encoding
    # and then compares the recomputed R with R's bytes (ed25519.rs): both paths agree
    from tests.test_crypto import BASE, ORDER8, L, ed_add, ed_encode, ed_mul

    secret, nonce = 0x7654321 * 8 + 5, 0x1357
    mixed_key = ed_encode(ed_add(ed_mul(secret, BASE), ORDER8[0]))
    keys = _same_key(native, "Ed25519", mixed_key)
    verdicts = set()
    for j in range(1, 8):
        r_enc = ed_encode(ed_add(ed_mul(nonce, BASE), ed_mul(j, ORDER8[0])))
        for i in range(4):
            message = b"mixed R %d %d" % (j, i)
            k = int.from_bytes(hashlib.sha512(r_enc + mixed_key + message).digest(), "little") % L
            signature = r_enc + ((nonce + k * secret) % L).to_bytes(32, "little")
            want = outcome(keys[0].verify, signature, message, message=True)
            assert outcome(keys[1].verify, signature, message, message=True) == want
            assert (want[0] == "ok") == ((j + k) % 8 == 0), (j, k % 8, want)
            verdicts.add(want[0])
    assert verdicts == {"ok", "error"}


def test_vector_chains_one_call(native: _native.Backend) -> None:
    # R-3.4-1 R-3.4-2 R-3.4-3 R-3.4-4 R-3.5-2 R-3.5-3 R-5.3-2 R-5.4-4: every link and
    # invocation of the vectors, checked under its signer's key in one native call
    # (verify_cose) and by the reference (codec._open, SHA-256, PublicKey.verify)
    from agentchain.crypto import PrivateKey

    core: Any = getattr(native, "_core")  # noqa: B009
    kw = {
        "max_object_bytes": LIMITS.max_object_bytes,
        "max_depth": LIMITS.max_cbor_depth,
        "max_items": LIMITS.max_cbor_items,
        "max_string_bytes": LIMITS.max_string_bytes,
    }
    checked: dict[str, int] = {}
    for path in sorted(VECTORS.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")).get("cases", []):
            if case.get("encoding") != "cbor":
                continue
            anchors = {}
            for spec in case.get("keys", {}).values():
                if "seed" in spec:
                    public = PrivateKey.from_seed(
                        bytes.fromhex(spec["seed"]), spec["alg"]
                    ).public_key
                    anchors[public.thumbprint] = public
            for step in case.get("steps", []):
                text = step.get("presentation", {}).get("text")
                try:
                    p = codec.decode_presentation_unverified(text)
                except (AgentchainError, TypeError):
                    continue
                root = p.links[0].claims.issuer
                signers = [anchors.get(root) if root is not None else None]
                signers += [link.claims.holder for link in p.links[:-1]]
                objects = [(link.encoded, codec.TYP_LINK) for link in p.links]
                if p.invocation is not None:
                    signers.append(p.links[-1].claims.holder)
                    objects.append((p.invocation.encoded, codec.TYP_INVOCATION))
                for signer, (data, typ) in zip(signers, objects, strict=True):
                    if signer is None:
                        continue
                    kind: ObjectKind = "link" if typ == codec.TYP_LINK else "invocation"

                    def reference(d: bytes = data, k: ObjectKind = kind, key: Any = signer) -> Any:
                        envelope, claims = _open(d, k, LIMITS)
                        if envelope.alg != key.alg:
                            raise InvalidKey("alg_not_allowed", "not the key's algorithm")
                        key.verify(envelope.signature, envelope.signed)
                        return (envelope.alg, strict(claims), hashlib.sha256(d).digest())

                    def candidate(d: bytes = data, t: int = typ, key: Any = signer) -> Any:
                        native_key = core.PublicKey(key.alg, key.raw())
                        alg, claims, digest = core.verify_cose(d, t, native_key, **kw)
                        return (alg, strict(claims), digest)

                    want = _open_outcome(reference)
                    assert _open_outcome(candidate) == want, (case["id"], kind)
                    checked[want[2] if want[0] == "error" else "ok"] = 1 + checked.get(
                        want[2] if want[0] == "error" else "ok", 0
                    )
    assert checked.get("ok", 0) > 100
    assert {"signature_malformed", "signature_invalid"} <= set(checked), checked


def test_input_types(native: _native.Backend) -> None:
    # the reference takes any bytes-like input (it snapshots it with bytes()) and refuses
    # others with the TypeError of bytes(); the native core does the same
    data = cbor.encode({1: [b"x", "y", -(2**64), 2**64 - 1, None, True]})
    for form in (bytearray(data), memoryview(data)):
        same_cbor(native, form)  # type: ignore[arg-type]
        same(native, "decode_sign1", form, **SIGN1)
    for backend in (PURE, native):
        with pytest.raises(TypeError):
            backend.cbor_decode("a string")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            backend.b64decode(b"Zm9v")  # type: ignore[arg-type]
    # a str with a lone surrogate is no base64url on either path
    same(native, "b64decode", "Zm\udc80v")


def test_verify_from_threads(native: _native.Backend) -> None:
    # native verification releases the GIL during the curve arithmetic: from several threads
    # at once, every answer is still the reference's
    from concurrent.futures import ThreadPoolExecutor

    from agentchain.testing import seeded_key

    keys = [
        seeded_key(f"threads{i}", algorithm=alg) for i in range(4) for alg in ("Ed25519", "ES256")
    ]
    jobs = []
    for i, key in enumerate(keys):
        message = b"thread %d" % i
        signature = key.sign(message)
        jobs += [(key, signature, message), (key, signature, message + b"!")]

    def answer(job: tuple[Any, bytes, bytes]) -> Outcome:
        key, signature, message = job
        return outcome(native.public_key(key.alg, key.public_key.raw()).verify, signature, message)

    expected = [outcome(key.public_key.verify, sig, msg) for key, sig, msg in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(5):
            assert list(pool.map(answer, jobs)) == expected


# --------------------------------------------------------------------------
# selection


def test_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _native.backend("pure").name == "pure"
    monkeypatch.setenv(_native.PURE_ENV, "1")
    assert _native.backend().name == "pure"
    assert _native.PURE_ENV in _native.unavailable_reason()
    monkeypatch.delenv(_native.PURE_ENV)
    assert _native.backend().name == ("native" if _native.available() else "pure")
    with pytest.raises(AgentchainError) as err:
        _native.backend("rust")  # type: ignore[arg-type]
    assert err.value.code == "usage"


def test_differential_fuzz_harness_seeds_replay(native: _native.Backend, tmp_path: Path) -> None:
    # fuzz/fuzz_native.py (run by fuzz/run in CI) builds its seeds and replays them without a
    # difference between the paths
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    harness = str(root / "fuzz" / "fuzz_native.py")
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, harness, "--seeds", str(tmp_path)], check=True, env=env)
    assert len(list(tmp_path.iterdir())) >= 100
    done = subprocess.run(
        [sys.executable, harness, "--replay", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "replayed" in done.stderr
