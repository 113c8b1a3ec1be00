"""Deterministic CBOR: an encoder and a strict decoder (spec 5.2, RFC 8949).

Only a small subset of CBOR is allowed, in both directions::

    CBORValue = int | bytes | str | bool | None | list[CBORValue] | dict[int | str, CBORValue]

that is, integers in [-2**64, 2**64 - 1] (major types 0 and 1), byte strings
(2), UTF-8 text strings (3), arrays (4), maps (5) whose keys are integers or
text, and the simple values false, true and null. Floats, other simple values,
tags and indefinite lengths are refused.

Encoding follows RFC 8949 section 4.2.1 ("core deterministic encoding"):
arguments in their shortest form, definite lengths only, and map keys sorted by
the bytewise lexicographic order of their encodings. Note that this is *not*
the length-first order of RFC 7049 section 3.9 that ``cbor2``'s ``canonical``
mode implements: -1 (``20``) sorts after 100 (``18 64``) here.

The decoder accepts exactly the bytes the encoder produces and nothing else,
so every value has a single accepted encoding: ``encode(decode(b)) == b``
whenever ``decode(b)`` returns. It is written for hostile input:

* it raises only :class:`~agentchain.errors.DecodeError`;
* it is iterative (an explicit stack, never Python recursion), and bounded by
  ``max_depth``, ``max_items`` and ``max_string_bytes`` (spec 5.6);
* every declared length or count is checked against the limits and against
  the bytes actually left *before* anything is sliced or allocated;
* it runs in time linear in the input.

Depth convention: the depth of an item is the number of arrays and maps that
enclose it, counting itself if it is one. A top-level scalar has depth 0,
``[]`` and ``{}`` depth 1, ``[[1]]`` depth 2. ``max_depth`` bounds the deepest
container: ``max_depth=1`` allows ``[1, 2]`` and refuses ``[[]]``.

When one input breaks several rules, the first rule met in reading order
wins; within one item the checks run in this order: well-formedness of the
initial byte (reserved additional info -> ``cbor_malformed``, additional
info 31 -> ``cbor_indefinite``), key type (``cbor_unsupported``), truncation of
the argument (``cbor_malformed``), shortest form (``cbor_noncanonical``), tag
(``cbor_tag``), limits (``limit_exceeded``), truncation of the content
(``cbor_malformed``), then UTF-8 and key order.

This module imports only :mod:`agentchain.errors` (layer 2).
"""

from __future__ import annotations

import math
import struct
from operator import itemgetter
from typing import Final, TypeAlias

from agentchain.errors import Code, DecodeError

__all__ = ["CBORValue", "decode", "encode", "encode_bytes", "float_head", "number"]

#: The values this protocol puts on the wire (see the module docstring).
CBORValue: TypeAlias = (
    "int | float | bytes | str | bool | list[CBORValue] | dict[int | str, CBORValue] | None"
)

# Major types (RFC 8949 section 3.1).
_UINT: Final = 0
_NINT: Final = 1
_BYTES: Final = 2
_TEXT: Final = 3
_ARRAY: Final = 4
_MAP: Final = 5
_TAG: Final = 6
_SIMPLE: Final = 7

# Additional information 24..27: the argument follows in 1, 2, 4 or 8 bytes
# (RFC 8949 section 3). Each width is the shortest form only for arguments at
# least this large (section 4.2.1): otherwise a narrower head would do.
_ARG_MIN: Final[tuple[int, ...]] = (24, 0x100, 0x1_0000, 0x1_0000_0000)

_FALSE: Final = 0xF4
_TRUE: Final = 0xF5
_NULL: Final = 0xF6

_UINT_MAX: Final = 2**64 - 1
_INT_MIN: Final = -(2**64)

# Floats (RFC 8949 section 3.3): initial byte and struct format of each width,
# narrowest first (spec 5.2: the shortest width that holds the value exactly).
_FLOAT_WIDTHS: Final = ((0xF9, ">e"), (0xFA, ">f"), (0xFB, ">d"))

# A guard against cyclic or absurdly deep values handed to the encoder, so
# they fail with ValueError rather than RecursionError. Far above any
# protocol limit (Limits.max_cbor_depth is 16) and below Python's default
# recursion limit.
_ENCODE_MAX_DEPTH: Final = 500


# --------------------------------------------------------------------------
# Encoder


def encode(value: CBORValue) -> bytes:
    """The deterministic encoding of ``value`` (RFC 8949 section 4.2.1).

    Raises TypeError for a Python value outside :data:`CBORValue` (a float, a
    tuple, a bool or bytes map key...) and ValueError for an integer out of
    range, a text string that is not encodable as UTF-8 (lone surrogates),
    two keys with the same encoding, or nesting deeper than 500 (a cycle).
    These are programming errors, not :class:`DecodeError`.

    Subclasses of int and str (``IntEnum``, ``StrEnum``) encode as their
    plain values; ``bool`` is never an integer here (it is ``f4``/``f5``).
    """
    out: list[bytes] = []
    _encode_into(value, out, 0)
    return b"".join(out)


def encode_bytes(data: bytes) -> bytes:
    """``encode(data)`` for a byte string, without the type dispatch (a hot path: every
    COSE signature covers two byte strings encoded this way)."""
    return _head(_BYTES, len(data)) + data


def _head(major: int, arg: int) -> bytes:
    """The shortest head for ``major`` and ``arg`` (RFC 8949 sections 3, 4.2.1)."""
    mt = major << 5
    if arg < 24:
        return bytes((mt | arg,))
    if arg < 0x100:
        return bytes((mt | 24, arg))
    if arg < 0x1_0000:
        return bytes((mt | 25,)) + arg.to_bytes(2, "big")
    if arg < 0x1_0000_0000:
        return bytes((mt | 26,)) + arg.to_bytes(4, "big")
    return bytes((mt | 27,)) + arg.to_bytes(8, "big")


def _encode_into(value: object, out: list[bytes], depth: int) -> None:
    # bool before int: bool is an int subclass, but CBOR true/false are simple
    # values (RFC 8949 section 3.3), not the integers 1 and 0.
    if value is True:
        out.append(b"\xf5")
    elif value is False:
        out.append(b"\xf4")
    elif value is None:
        out.append(b"\xf6")
    elif isinstance(value, int):
        if value >= 0:
            if value > _UINT_MAX:
                raise ValueError(f"integer {value} is above 2**64 - 1")
            out.append(_head(_UINT, value))
        else:
            # Major type 1 carries -1 - n (RFC 8949 section 3.1).
            arg = -1 - value
            if arg > _UINT_MAX:
                raise ValueError(f"integer {value} is below -2**64")
            out.append(_head(_NINT, arg))
    elif isinstance(value, float):
        folded = number(value)  # ValueError for NaN and the infinities
        if isinstance(folded, int):
            _encode_into(folded, out, depth)
        else:
            out.append(float_head(folded))
    elif isinstance(value, bytes):
        out.append(_head(_BYTES, len(value)))
        out.append(value)
    elif isinstance(value, str):
        # Strict UTF-8: a lone surrogate raises UnicodeEncodeError (a ValueError).
        raw = value.encode("utf-8")
        out.append(_head(_TEXT, len(raw)))
        out.append(raw)
    elif isinstance(value, list):
        if depth >= _ENCODE_MAX_DEPTH:
            raise ValueError("value nested too deeply to encode (a cycle?)")
        out.append(_head(_ARRAY, len(value)))
        for item in value:
            _encode_into(item, out, depth + 1)
    elif isinstance(value, dict):
        if depth >= _ENCODE_MAX_DEPTH:
            raise ValueError("value nested too deeply to encode (a cycle?)")
        pairs: list[tuple[bytes, bytes]] = []
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, int | str):
                raise TypeError(f"CBOR map key must be int or str, not {type(key).__name__}")
            encoded_key: list[bytes] = []
            _encode_into(key, encoded_key, depth + 1)
            encoded_item: list[bytes] = []
            _encode_into(item, encoded_item, depth + 1)
            pairs.append((b"".join(encoded_key), b"".join(encoded_item)))
        # RFC 8949 section 4.2.1: keys sorted by the bytewise lexicographic
        # order of their deterministic encodings. Sort on the key alone so
        # that values are never compared.
        pairs.sort(key=itemgetter(0))
        for i in range(1, len(pairs)):
            if pairs[i][0] == pairs[i - 1][0]:  # e.g. an int and an IntEnum of it
                raise ValueError("two map keys have the same encoding")
        out.append(_head(_MAP, len(pairs)))
        for encoded_key_bytes, encoded_item_bytes in pairs:
            out.append(encoded_key_bytes)
            out.append(encoded_item_bytes)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as CBOR")


def number(value: float) -> int | float:
    """The one protocol value of a binary64 number (spec 5.2, 6.1).

    NaN and the infinities are no value (ValueError). A float whose value is an
    integer in the CBOR integer range ``[-2**64, 2**64 - 1]`` *is* that integer:
    ``12.0`` and ``-0.0`` are the integers 12 and 0 (so a number has one spelling
    in both encodings, as in JSON as JavaScript writes it). Any other float stays a
    float (a fraction, or a magnitude of at least 2**64).
    """
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a protocol number")
    if value.is_integer() and _INT_MIN <= value <= _UINT_MAX:
        return int(value)
    return float(value)


def float_head(value: float) -> bytes:
    """The shortest exact encoding of a non-integral finite float: ``f9``, ``fa`` or
    ``fb`` (RFC 8949 section 4.2.1, preferred serialization)."""
    for initial, fmt in _FLOAT_WIDTHS:
        try:
            packed = struct.pack(fmt, value)
        except OverflowError:  # too large for the narrower width
            continue
        if struct.unpack(fmt, packed)[0] == value:
            return bytes((initial,)) + packed
    raise AssertionError("unreachable: every float packs exactly into binary64")


# --------------------------------------------------------------------------
# Decoder


#: What the decoder keeps of a container it is filling while it reads a child
#: container: (array or None, map or None, items still to read, key waiting for
#: its value, encoded previous key). Plain tuples and locals: this loop runs for
#: every item of every object a verifier reads.
_Suspended: TypeAlias = (
    "tuple[list[CBORValue] | None, dict[int | str, CBORValue] | None, int, int | str, bytes]"
)


def _fail(code: Code, message: str, pos: int) -> DecodeError:
    return DecodeError(code, f"{message} (at byte {pos})")


def _float(buf: bytes, start: int, pos: int, info: int) -> float:
    """The float whose ``1 << (info - 24)`` bytes start at ``pos`` (spec 5.2): finite,
    not an integer of the CBOR integer range, and in its shortest exact width."""
    width = 1 << (info - 24)
    _initial, fmt = _FLOAT_WIDTHS[info - 25]
    value: float = struct.unpack(fmt, buf[pos : pos + width])[0]
    if not math.isfinite(value):
        raise _fail("cbor_unsupported", "NaN or an infinity is not a protocol number", start)
    if type(number(value)) is int:
        raise _fail("cbor_noncanonical", "an integral float must be encoded as an integer", start)
    if float_head(value) != buf[start : pos + width]:
        raise _fail("cbor_noncanonical", "float not in its shortest exact width", start)
    return value


def decode(
    data: bytes,
    *,
    max_depth: int = 16,
    max_items: int = 2048,
    max_string_bytes: int = 4096,
) -> CBORValue:
    """The single CBOR item that is exactly ``data``, strictly checked.

    ``max_depth`` bounds container nesting (a top-level scalar has depth 0,
    ``[]`` depth 1), ``max_items`` the array elements plus map pairs of the
    whole item counted together, ``max_string_bytes`` the length of any one
    byte or text string. Raises :class:`DecodeError` and nothing else; see
    the module docstring for the codes and the order of the checks.
    """
    buf = bytes(data)  # no copy for bytes; a snapshot of a mutable buffer otherwise
    end = len(buf)
    if end == 0:
        raise _fail("cbor_malformed", "empty input", 0)

    pos = 0
    items = 0
    stack: list[_Suspended] = []
    # The container being filled (None, None at top level): exactly one of array
    # and mapping is set inside one. In a map, items alternate key and value;
    # has_key says a key waits for its value; prev_key is the previous key's
    # encoding, for the order check (every encoded key is non-empty, so > b"").
    array: list[CBORValue] | None = None
    mapping: dict[int | str, CBORValue] | None = None
    remaining = 0
    has_key = False
    key: int | str = 0
    prev_key = b""

    while True:
        # Inside a map, items alternate key, value; keys are read in place.
        is_key = mapping is not None and not has_key
        start = pos
        if pos >= end:
            raise _fail("cbor_malformed", "truncated: an item is missing", pos)
        initial = buf[pos]
        pos += 1
        major = initial >> 5
        info = initial & 0x1F

        # -- initial byte (RFC 8949 section 3): 28..30 are reserved; 31 is an
        # indefinite length for major types 2..5 (section 3.2), and not
        # well-formed for 0, 1, 6, or the lone "break" 0xff (section 3.2.4).
        if info >= 28:
            if info == 31 and _BYTES <= major <= _MAP:
                raise _fail("cbor_indefinite", "indefinite-length item", start)
            raise _fail("cbor_malformed", f"reserved initial byte 0x{initial:02x}", start)

        if is_key and major not in (_UINT, _NINT, _TEXT):
            raise _fail("cbor_unsupported", "map key is not an integer or a text string", start)

        # -- major type 7: only false, true, null are allowed. Floats and
        # other simple values are refused, but only once their bytes are
        # known to be present, so a truncated one still reads as truncated.
        if major == _SIMPLE:
            if initial == _FALSE:
                value: CBORValue = False
            elif initial == _TRUE:
                value = True
            elif initial == _NULL:
                value = None
            else:
                if info >= 24 and pos + (1 << (info - 24)) > end:
                    raise _fail("cbor_malformed", "truncated simple value or float", start)
                if info < 25:
                    raise _fail("cbor_unsupported", f"simple value 0x{initial:02x}", start)
                value = _float(buf, start, pos, info)
                pos += 1 << (info - 24)
        else:
            # -- the argument, in its shortest form (RFC 8949 section 4.2.1)
            if info < 24:
                arg = info
            elif info == 24:
                if pos >= end:
                    raise _fail("cbor_malformed", "truncated head", start)
                arg = buf[pos]
                pos += 1
                if arg < 24:
                    raise _fail("cbor_noncanonical", "argument not in shortest form", start)
            else:
                width = 1 << (info - 24)
                if pos + width > end:
                    raise _fail("cbor_malformed", "truncated head", start)
                arg = int.from_bytes(buf[pos : pos + width], "big")
                pos += width
                if arg < _ARG_MIN[info - 24]:
                    raise _fail("cbor_noncanonical", "argument not in shortest form", start)

            if major == _UINT:
                value = arg
            elif major in (_TEXT, _BYTES):
                # Limit and truncation before slicing: a head may claim 2**64 bytes.
                if arg > max_string_bytes:
                    raise _fail("limit_exceeded", f"string of {arg} bytes", start)
                if arg > end - pos:
                    raise _fail("cbor_malformed", "truncated string", start)
                if major == _BYTES:
                    value = buf[pos : pos + arg]
                else:
                    try:
                        # Python's strict decoder refuses overlong forms and
                        # surrogates, as RFC 3629 (cited by RFC 8949 3.1) does.
                        value = buf[pos : pos + arg].decode("utf-8")
                    except UnicodeDecodeError:
                        raise _fail("cbor_malformed", "invalid UTF-8 in text", start) from None
                pos += arg
            elif major == _NINT:
                value = -1 - arg
            elif major in (_ARRAY, _MAP):
                if len(stack) + (array is not None or mapping is not None) >= max_depth:
                    raise _fail("limit_exceeded", f"nesting deeper than {max_depth}", start)
                items += arg
                if items > max_items:
                    raise _fail("limit_exceeded", f"more than {max_items} items", start)
                # Every element takes at least one byte (a pair two): a count
                # the rest of the input cannot hold is truncated, and is
                # refused before anything is built for it.
                if (arg << 1 if major == _MAP else arg) > end - pos:
                    raise _fail("cbor_malformed", "truncated array or map", start)
                if arg == 0:
                    value = {} if major == _MAP else []
                else:
                    if array is not None or mapping is not None:
                        stack.append((array, mapping, remaining, key, prev_key))
                    if major == _MAP:
                        array, mapping = None, {}
                    else:
                        array, mapping = [], None
                    remaining, has_key, key, prev_key = arg, False, 0, b""
                    continue
            else:  # major == _TAG
                raise _fail("cbor_tag", f"tag {arg}", start)

        if is_key:
            # RFC 8949 section 4.2.1: keys strictly increasing in the bytewise
            # order of their encodings. Equal encodings are a duplicate (3.1
            # says maps with duplicate keys are not valid); anything else out
            # of order is non-deterministic. A repeat that is not adjacent is
            # necessarily out of order, so it is caught as non-canonical.
            encoded_key = buf[start:pos]
            if encoded_key == prev_key:
                raise _fail("cbor_duplicate_key", "map key repeated", start)
            if encoded_key < prev_key:
                raise _fail("cbor_noncanonical", "map keys not in bytewise order", start)
            prev_key = encoded_key
            key = value  # type: ignore[assignment]  # major type 0, 1 or 3: int or str
            has_key = True
            continue

        # A complete item: hand it to its container, closing every container
        # it completes.
        while True:
            if mapping is not None:
                mapping[key] = value
                has_key = False
            elif array is not None:
                array.append(value)
            else:
                # The top-level item is complete: it must be the whole input.
                if pos != end:
                    raise _fail("cbor_trailing", f"{end - pos} bytes after the item", pos)
                return value
            remaining -= 1
            if remaining:
                break
            value = array if mapping is None else mapping
            if stack:
                array, mapping, remaining, key, prev_key = stack.pop()
                # a map that holds a finished child was waiting for that value
                has_key = mapping is not None
            else:
                array, mapping = None, None
