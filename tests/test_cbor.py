"""Deterministic CBOR (agentchain.wire.cbor): vectors, every rejection, properties.

cbor2 is an independent implementation used only as a cross-check: it must
read everything we write, and agree byte for byte wherever its (RFC 7049,
length-first) canonical key order coincides with RFC 8949's bytewise order.
"""

from __future__ import annotations

import struct
import time
from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentchain.errors import DecodeError
from agentchain.wire.cbor import CBORValue, decode, encode, encode_bytes

# Generous limits for the properties, whose generated values may nest or grow
# past the protocol defaults; the limits themselves are tested separately.
BIG = {"max_depth": 1000, "max_items": 10**6, "max_string_bytes": 10**6}


def strict_equal(a: object, b: object) -> bool:
    """Equality that also compares types, so True != 1 and [] != ()."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    return a == b


# -- strategies

ints = st.integers(min_value=-(2**64), max_value=2**64 - 1)
#: the floats of the data model: finite, and not an integer of the integer range (spec 5.2)
floats = st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda x: not (x.is_integer() and -(2**64) <= x <= 2**64 - 1)
)
scalars = st.one_of(
    ints, floats, st.binary(max_size=40), st.text(max_size=20), st.booleans(), st.none()
)
keys = st.one_of(ints, st.text(max_size=10))


def values(key_strategy: st.SearchStrategy[Any] = keys) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=6),
            st.dictionaries(key_strategy, children, max_size=6),
        ),
        max_leaves=30,
    )


def _homogeneous_keys() -> st.SearchStrategy[Any]:
    """Values whose maps have only text keys, or only small non-negative int keys.

    For those, RFC 7049's length-first order and RFC 8949's bytewise order agree.
    """
    return st.one_of(values(st.text(max_size=10)), values(st.integers(0, 23)))


# -- RFC 8949 Appendix A (the supported subset) and boundary values

VECTORS: list[tuple[CBORValue, str]] = [
    (0, "00"),
    (1, "01"),
    (10, "0a"),
    (23, "17"),
    (24, "1818"),
    (25, "1819"),
    (100, "1864"),
    (255, "18ff"),
    (256, "190100"),
    (1000, "1903e8"),
    (65535, "19ffff"),
    (65536, "1a00010000"),
    (1000000, "1a000f4240"),
    (2**32 - 1, "1affffffff"),
    (2**32, "1b0000000100000000"),
    (1000000000000, "1b000000e8d4a51000"),
    (2**64 - 1, "1bffffffffffffffff"),
    (-(2**64), "3bffffffffffffffff"),
    (-1, "20"),
    (-10, "29"),
    (-24, "37"),
    (-25, "3818"),
    (-100, "3863"),
    (-1000, "3903e7"),
    (False, "f4"),
    (True, "f5"),
    (None, "f6"),
    (b"", "40"),
    (b"\x01\x02\x03\x04", "4401020304"),
    ("", "60"),
    ("a", "6161"),
    ("IETF", "6449455446"),
    ('"\\', "62225c"),
    ("\u00fc", "62c3bc"),
    ("\u6c34", "63e6b0b4"),
    ("\U00010151", "64f0908591"),
    ([], "80"),
    ([1, 2, 3], "83010203"),
    ([1, [2, 3], [4, 5]], "8301820203820405"),
    (list(range(1, 26)), "98190102030405060708090a0b0c0d0e0f101112131415161718181819"),
    ({}, "a0"),
    ({1: 2, 3: 4}, "a201020304"),
    ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
    (["a", {"b": "c"}], "826161a161626163"),
    (
        {"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"},
        "a56161614161626142616361436164614461656145",
    ),
    ("x" * 24, "7818" + "78" * 24),
    (b"\x00" * 256, "590100" + "00" * 256),
]


@pytest.mark.parametrize(("value", "hex_"), VECTORS, ids=[h[:24] for _, h in VECTORS])
def test_vectors(value: CBORValue, hex_: str) -> None:
    assert encode(value).hex() == hex_
    assert strict_equal(decode(bytes.fromhex(hex_)), value)


def test_keys_sorted_bytewise_not_length_first() -> None:
    # R-5.2-1
    # -1 encodes as 20 and 100 as 18 64: bytewise, 18 64 < 20, so 100 comes
    # first (RFC 8949 4.2.1); RFC 7049's length-first order, as cbor2 does it,
    # would put -1 first.
    assert encode({-1: 0, 100: 0}).hex() == "a21864002000"
    assert encode({100: 0, -1: 0}).hex() == "a21864002000"
    assert cbor2.dumps({-1: 0, 100: 0}, canonical=True).hex() == "a22000186400"
    assert decode(bytes.fromhex("a21864002000")) == {100: 0, -1: 0}
    with pytest.raises(DecodeError) as exc:
        decode(bytes.fromhex("a22000186400"))
    assert exc.value.code == "cbor_noncanonical"


def test_integer_keys_sort_before_text_keys() -> None:
    # Major type 0/1 heads are below major type 3 heads, whatever the length.
    assert encode({"a": 0, 2**64 - 1: 0}).hex() == "a21bffffffffffffffff00616100"


def test_decoded_containers_are_plain() -> None:
    value = decode(bytes.fromhex("a1616182a0f6"))
    assert type(value) is dict
    assert type(value["a"]) is list
    assert strict_equal(value, {"a": [{}, None]})


# -- every rejection, with its exact code

REJECTIONS: list[tuple[str, str, str]] = [
    # truncated, reserved, not well-formed
    ("", "cbor_malformed", "empty"),
    ("18", "cbor_malformed", "truncated 1-byte argument"),
    ("1901", "cbor_malformed", "truncated 2-byte argument"),
    ("1a000100", "cbor_malformed", "truncated 4-byte argument"),
    ("1b00000001000000", "cbor_malformed", "truncated 8-byte argument"),
    ("3b", "cbor_malformed", "truncated negative argument"),
    ("4201", "cbor_malformed", "truncated bytes payload"),
    ("636162", "cbor_malformed", "truncated text payload"),
    ("590100" + "00" * 255, "cbor_malformed", "bytes claim more than is left"),
    ("8201", "cbor_malformed", "array missing an element"),
    ("a101", "cbor_malformed", "map missing a value"),
    ("a2010203", "cbor_malformed", "map missing a pair"),
    ("9bffffffffffffffff", "limit_exceeded", "array claims 2**64-1 items"),
    ("f9", "cbor_malformed", "truncated half float"),
    ("fb00000000", "cbor_malformed", "truncated double"),
    ("f8", "cbor_malformed", "truncated simple value"),
    ("1c", "cbor_malformed", "reserved info 28"),
    ("1d", "cbor_malformed", "reserved info 29"),
    ("3e", "cbor_malformed", "reserved info 30 negative"),
    ("5c", "cbor_malformed", "reserved info 28 bytes"),
    ("9d", "cbor_malformed", "reserved info 29 array"),
    ("fc", "cbor_malformed", "reserved info 28 simple"),
    ("fe", "cbor_malformed", "reserved info 30 simple"),
    ("1f", "cbor_malformed", "info 31 on an unsigned"),
    ("ff", "cbor_malformed", "lone break"),
    ("62c328", "cbor_malformed", "invalid UTF-8"),
    ("6180", "cbor_malformed", "UTF-8 lone continuation byte"),
    ("62c080", "cbor_malformed", "UTF-8 overlong"),
    ("63eda080", "cbor_malformed", "UTF-8 encoded surrogate"),
    ("64f4908080", "cbor_malformed", "UTF-8 above U+10FFFF"),
    # non-shortest heads, and unsorted keys
    ("1805", "cbor_noncanonical", "5 in two bytes"),
    ("1817", "cbor_noncanonical", "23 in two bytes"),
    ("190010", "cbor_noncanonical", "16 in three bytes"),
    ("1900ff", "cbor_noncanonical", "255 in three bytes"),
    ("1a0000ffff", "cbor_noncanonical", "65535 in five bytes"),
    ("1b00000000ffffffff", "cbor_noncanonical", "2**32-1 in nine bytes"),
    ("3800", "cbor_noncanonical", "-1 in two bytes"),
    ("580100", "cbor_noncanonical", "bytes length not shortest"),
    ("780161", "cbor_noncanonical", "text length not shortest"),
    ("980100", "cbor_noncanonical", "array count not shortest"),
    ("b8010000", "cbor_noncanonical", "map count not shortest"),
    ("a202000100", "cbor_noncanonical", "int keys decreasing"),
    ("a22000186400", "cbor_noncanonical", "keys in length-first order"),
    ("a2616200616100", "cbor_noncanonical", "text keys decreasing"),
    ("a262616100616200", "cbor_noncanonical", "text keys length-first"),
    ("a26161000100", "cbor_noncanonical", "text key before int key"),
    ("a3010002000100", "cbor_noncanonical", "repeat that is not adjacent"),
    # duplicates
    ("a201000100", "cbor_duplicate_key", "int key twice"),
    ("a2616100616101", "cbor_duplicate_key", "text key twice"),
    ("81a2616100616101", "cbor_duplicate_key", "duplicate in a nested map"),
    # indefinite lengths
    ("5f", "cbor_indefinite", "indefinite bytes"),
    ("5f4100ff", "cbor_indefinite", "indefinite bytes with chunk"),
    ("7f", "cbor_indefinite", "indefinite text"),
    ("9f", "cbor_indefinite", "indefinite array"),
    ("9fff", "cbor_indefinite", "empty indefinite array"),
    ("bf", "cbor_indefinite", "indefinite map"),
    ("819f01ff", "cbor_indefinite", "nested indefinite array"),
    # tags
    ("c074323031332d30332d32315432303a30343a30305a", "cbor_tag", "tag 0"),
    ("c100", "cbor_tag", "tag 1"),
    ("c24101", "cbor_tag", "bignum tag 2"),
    ("d82060", "cbor_tag", "tag 32"),
    ("d9d9f700", "cbor_tag", "self-describe tag"),
    ("81c100", "cbor_tag", "nested tag"),
    # floats, undefined, other simple values, bad map keys
    ("f7", "cbor_unsupported", "undefined"),
    ("e0", "cbor_unsupported", "simple 0"),
    ("f3", "cbor_unsupported", "simple 19"),
    ("f820", "cbor_unsupported", "simple 32"),
    ("f8ff", "cbor_unsupported", "simple 255"),
    # floats (R-5.2-12): NaN and infinities in any width, integral values, wider than needed
    ("f97e00", "cbor_unsupported", "half NaN"),
    ("f97c00", "cbor_unsupported", "half infinity"),
    ("f9fc00", "cbor_unsupported", "half minus infinity"),
    ("fa7fc00000", "cbor_unsupported", "single NaN"),
    ("fb7ff0000000000000", "cbor_unsupported", "double infinity"),
    ("fb7ff8000000000001", "cbor_unsupported", "double NaN with payload"),
    ("f93c00", "cbor_noncanonical", "half float 1.0: an integer"),
    ("f98000", "cbor_noncanonical", "half float -0.0: the integer 0"),
    ("fa47c35000", "cbor_noncanonical", "single float 100000.0: an integer"),
    ("fb3ff8000000000000", "cbor_noncanonical", "double 1.5: fits a half"),
    ("fa3fc00000", "cbor_noncanonical", "single 1.5: fits a half"),
    ("fb43f0000000000000", "cbor_noncanonical", "double 2^64: fits a single"),
    ("fb43e0000000000000", "cbor_noncanonical", "double 2^63: an integer"),
    ("fac3800000", "cbor_noncanonical", "single -2^64: an integer"),
    ("a14000", "cbor_unsupported", "bytes key"),
    ("a18000", "cbor_unsupported", "array key"),
    ("a1a000", "cbor_unsupported", "map key"),
    ("a1f400", "cbor_unsupported", "false key"),
    ("a1f500", "cbor_unsupported", "true key"),
    ("a1f600", "cbor_unsupported", "null key"),
    ("a1f93c0000", "cbor_unsupported", "float key"),
    ("a1c10000", "cbor_unsupported", "tagged key"),
    # trailing bytes
    ("0000", "cbor_trailing", "two integers"),
    ("8000", "cbor_trailing", "after an array"),
    ("a0ff", "cbor_trailing", "break after a map"),
    ("6000", "cbor_trailing", "after a text"),
    ("8101" + "00" * 100, "cbor_trailing", "long tail"),
    # limits (defaults: depth 16, 2048 items, 4096-byte strings)
    ("81" * 17 + "00", "limit_exceeded", "depth 17"),
    ("81" * 16 + "a0", "limit_exceeded", "empty map at depth 17"),
    ("591001", "limit_exceeded", "bytes over 4096"),
    ("7b7fffffffffffffff", "limit_exceeded", "text claims 2**63-1 bytes"),
    ("5b8000000000000000", "limit_exceeded", "bytes claim 2**63 bytes"),
    ("bbffffffffffffffff", "limit_exceeded", "map claims 2**64-1 pairs"),
    ("990801" + "00" * 2049, "limit_exceeded", "2049 array items"),
]


@pytest.mark.parametrize(
    ("hex_", "code"), [r[:2] for r in REJECTIONS], ids=[r[2] for r in REJECTIONS]
)
def test_rejections(hex_: str, code: str) -> None:
    # R-5.2-2 R-5.2-3 R-5.2-4 R-5.2-5 R-5.2-6 R-5.2-7 R-5.2-8 R-5.2-9 R-5.2-10 R-5.2-11
    with pytest.raises(DecodeError) as exc:
        decode(bytes.fromhex(hex_))
    assert exc.value.code == code


@pytest.mark.parametrize(
    ("hex_", "code"),
    [
        # With a large item limit, an impossible count is caught as truncated,
        # before any list or dict is built for it.
        ("9bffffffffffffffff", "cbor_malformed"),
        ("bbffffffffffffffff", "cbor_malformed"),
        ("9a0001000000", "cbor_malformed"),
        ("a3010203", "cbor_malformed"),  # 3 pairs claimed, 4 bytes left
        # With a large string limit, an impossible length is truncated, not sliced.
        ("5b8000000000000000", "cbor_malformed"),
        ("7bffffffffffffffff", "cbor_malformed"),
    ],
)
def test_impossible_sizes_fail_fast_without_allocating(hex_: str, code: str) -> None:
    with pytest.raises(DecodeError) as exc:
        decode(bytes.fromhex(hex_), max_items=2**70, max_string_bytes=2**70)
    assert exc.value.code == code


# -- limits at their boundaries, and the depth convention


def test_depth_convention() -> None:
    # A top-level scalar has depth 0; each enclosing array or map adds one.
    assert decode(b"\x00", max_depth=1) == 0
    assert decode(b"\x80", max_depth=1) == []
    assert decode(b"\x82\x01\x02", max_depth=1) == [1, 2]
    assert decode(b"\xa1\x01\x02", max_depth=1) == {1: 2}
    for data in (b"\x81\x80", b"\xa1\x01\xa0", b"\x81\xa1\x01\x02"):
        with pytest.raises(DecodeError) as exc:
            decode(data, max_depth=1)
        assert exc.value.code == "limit_exceeded"
    # 16 nested containers are allowed by default, 17 are not.
    assert decode(b"\x81" * 15 + b"\x80") == [[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]
    assert decode(b"\x81" * 16 + b"\x00") is not None


def test_deep_nesting_rejected_quickly() -> None:
    data = b"\x81" * 100_000 + b"\x00"
    started = time.perf_counter()
    with pytest.raises(DecodeError) as exc:
        decode(data)
    assert exc.value.code == "limit_exceeded"
    assert time.perf_counter() - started < 1.0
    # Even with the depth limit out of the way, the decoder does not recurse.
    assert decode(data, max_depth=200_000, max_items=200_000) is not None


def test_item_limit_counts_elements_and_pairs_together() -> None:
    assert decode(b"\x99\x08\x00" + b"\x00" * 2048) == [0] * 2048
    # 2 (outer elements) + 2 (inner elements) + 1 (map pair) = 5 items
    data = bytes.fromhex("82" + "820102" + "a10102")
    assert decode(data, max_items=5) == [[1, 2], {1: 2}]
    with pytest.raises(DecodeError) as exc:
        decode(data, max_items=4)
    assert exc.value.code == "limit_exceeded"


def test_string_limit_boundary() -> None:
    assert decode(b"\x59\x10\x00" + b"a" * 4096) == b"a" * 4096
    assert decode(b"\x79\x10\x00" + b"a" * 4096) == "a" * 4096
    for head in (b"\x59\x10\x01", b"\x79\x10\x01"):
        with pytest.raises(DecodeError) as exc:
            decode(head + b"a" * 4097)
        assert exc.value.code == "limit_exceeded"
    # The limit counts bytes, not characters.
    with pytest.raises(DecodeError) as exc:
        decode(encode("ü" * 3), max_string_bytes=5)
    assert exc.value.code == "limit_exceeded"


# -- encoder misuse is a programming error, not a DecodeError


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        ((1, 2), TypeError),
        ({1, 2}, TypeError),
        (bytearray(b"x"), TypeError),
        (object(), TypeError),
        ({b"k": 1}, TypeError),
        ({True: 1}, TypeError),
        ({None: 1}, TypeError),
        ({(1,): 1}, TypeError),
        ({1.5: 1}, TypeError),
        (2**64, ValueError),
        (-(2**64) - 1, ValueError),
        ("\ud800", ValueError),
    ],
)
def test_encode_rejects(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        encode(value)


def test_encode_rejects_cycles() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="deeply"):
        encode(cyclic)


# -- floats (spec 5.2): one value, one encoding


@pytest.mark.parametrize(
    ("value", "hex_"),
    [
        (1.5, "f93e00"),
        (12.5, "f94a40"),
        (-4.1, "fbc010666666666666"),
        (0.1, "fb3fb999999999999a"),
        (65504.5, "fa477fe080"),  # beyond a half's range: a single
        (5.960464477539063e-08, "f90001"),  # the smallest half subnormal
        (1.401298464324817e-45, "fa00000001"),  # the smallest single subnormal
        (5e-324, "fb0000000000000001"),
        (1e300, "fb7e37e43c8800759c"),
        (1.8446744073709552e19, "fa5f800000"),  # 2^64: beyond the integers, a float
        (12.0, "0c"),  # integral: the integer
        (-0.0, "00"),  # negative zero is the integer 0
        (-1.8446744073709552e19, "3bffffffffffffffff"),  # -2^64 is an integer here
        (9007199254740993.0, "1b0020000000000000"),  # rounds to 2^53 on the way in
    ],
)
def test_floats_take_their_shortest_exact_width(value: float, hex_: str) -> None:
    # R-5.2-1 R-5.2-12
    assert encode(value).hex() == hex_
    decoded = decode(bytes.fromhex(hex_))
    integral = value.is_integer() and -(2**64) <= value <= 2**64 - 1
    assert decoded == value and type(decoded) is (int if integral else float)


@given(floats)
def test_every_float_round_trips_and_agrees_with_cbor2(value: float) -> None:
    # R-5.2-1: cbor2's canonical mode also picks the shortest exact width
    encoded = encode(value)
    assert strict_equal(decode(encoded), value)
    assert encoded == cbor2.dumps(value, canonical=True)


@given(floats)
def test_every_wider_spelling_of_a_float_is_refused(value: float) -> None:
    # R-5.2-12: each float has one accepted encoding

    shortest = encode(value)
    for initial, fmt in ((0xF9, ">e"), (0xFA, ">f"), (0xFB, ">d")):
        try:
            packed = struct.pack(fmt, value)
        except OverflowError:
            continue
        if struct.unpack(fmt, packed)[0] != value:
            continue
        spelling = bytes((initial,)) + packed
        if spelling == shortest:
            continue
        with pytest.raises(DecodeError) as exc:
            decode(spelling)
        assert exc.value.code == "cbor_noncanonical"


# -- properties


@given(values())
def test_round_trip(value: Any) -> None:
    encoded = encode(value)
    assert strict_equal(decode(encoded, **BIG), value)
    # cbor2, independently, reads what we write as the same value.
    assert strict_equal(cbor2.loads(encoded), value)


@given(_homogeneous_keys())
def test_agrees_with_cbor2_where_orders_coincide(value: Any) -> None:
    assert encode(value) == cbor2.dumps(value, canonical=True)


def _check_strict(data: bytes) -> None:
    """decode either returns the value whose encoding is exactly ``data``, or
    raises DecodeError: so every accepted input is the canonical one."""
    try:
        value = decode(data)
    except DecodeError:
        return
    assert encode(value) == data


@given(st.binary(max_size=64))
def test_arbitrary_bytes(data: bytes) -> None:
    _check_strict(data)


@given(values(), st.data())
def test_mutated_encodings(value: Any, data: st.DataObject) -> None:
    encoded = encode(value)
    index = data.draw(st.integers(0, len(encoded) - 1), label="index")
    mutation = data.draw(st.sampled_from(["flip", "set", "truncate", "append", "insert", "drop"]))
    if mutation == "flip":
        bit = data.draw(st.integers(0, 7), label="bit")
        mutated = bytearray(encoded)
        mutated[index] ^= 1 << bit
    elif mutation == "set":
        mutated = bytearray(encoded)
        mutated[index] = data.draw(st.integers(0, 255), label="byte")
    elif mutation == "truncate":
        mutated = bytearray(encoded[:index])
    elif mutation == "append":
        mutated = bytearray(encoded + data.draw(st.binary(min_size=1, max_size=8)))
    elif mutation == "insert":
        extra = data.draw(st.binary(min_size=1, max_size=4), label="extra")
        mutated = bytearray(encoded[:index] + extra + encoded[index:])
    else:
        mutated = bytearray(encoded[:index] + encoded[index + 1 :])
    _check_strict(bytes(mutated))
    if mutation in ("truncate", "append"):
        # A proper prefix of one item is truncated; an extension has a tail.
        with pytest.raises(DecodeError) as exc:
            decode(bytes(mutated), **BIG)
        assert exc.value.code == ("cbor_malformed" if mutation == "truncate" else "cbor_trailing")


@given(st.lists(st.tuples(keys, scalars), max_size=6))
def test_decoder_rejects_every_non_sorted_map(pairs: list[tuple[Any, Any]]) -> None:
    # Hand-build a map in the given (arbitrary) order: only the unique,
    # bytewise-increasing order may decode.
    encoded_pairs = [(encode(k), encode(v)) for k, v in pairs]
    body = b"".join(k + v for k, v in encoded_pairs)
    data = bytes([0xA0 + len(pairs)]) + body  # map head: major type 5, count < 24
    key_bytes = [k for k, _ in encoded_pairs]
    # The first key, in reading order, not above its predecessor decides the code.
    first_bad = next(
        (i for i in range(1, len(key_bytes)) if key_bytes[i] <= key_bytes[i - 1]), None
    )
    if first_bad is None:
        assert encode(decode(data, **BIG)) == data
    else:
        with pytest.raises(DecodeError) as exc:
            decode(data, **BIG)
        equal = key_bytes[first_bad] == key_bytes[first_bad - 1]
        assert exc.value.code == ("cbor_duplicate_key" if equal else "cbor_noncanonical")


@pytest.mark.parametrize("size", [0, 1, 23, 24, 255, 256, 65535, 65536])
def test_encode_bytes_is_encode_for_byte_strings(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    assert encode_bytes(data) == encode(data)
    assert decode(encode_bytes(data), max_string_bytes=size) == data
