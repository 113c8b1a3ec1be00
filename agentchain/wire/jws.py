"""JWS compact serialization (RFC 7515 section 7.1), restricted to what agentchain emits.

The JOSE profile (spec/jose.md) is deliberately narrower than RFC 7515 so that
one object has one spelling and no header can steer verification (RFC 8725):

- three strict unpadded base64url parts; no padding, whitespace, stray bits or
  characters outside the alphabet; the size cap is checked on the text first;
- the protected header is a strict JSON object whose members are exactly
  ``alg`` and ``typ``, and optionally ``kid`` (a hint only, never used to find
  a key); key-carrying or key-locating headers (``jku``, ``jwk``, ``x5u``,
  ``x5c``, ...) and any other member are refused, ``crit`` included: we
  understand no extension;
- ``alg`` is one of the caller's allowlist (the crypto registry's names);
  binding it to the signer's key type is the verifier's step, with the key it
  chose;
- strict JSON everywhere: duplicate member names, NaN/Infinity, numbers that
  overflow binary64, oversized integers and deep nesting are refused (nesting
  before parsing); a number with a fraction or exponent is a binary64 float,
  an integer when integral (spec/jose.md, spec 5.2).

Layer 2: imports the error registry and the number rule of :mod:`cbor`. Verifying
signatures is the caller's job.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from dataclasses import dataclass
from typing import Final

from agentchain.errors import DecodeError
from agentchain.wire import cbor

#: integers on the JSON wire stay exact in every language (spec/jose.md)
MAX_INT: Final = 2**53 - 1

_HEADER_REQUIRED: Final = frozenset({"alg", "typ"})
_HEADER_OPTIONAL: Final = frozenset({"kid"})
_B64URL: Final = re.compile(r"[A-Za-z0-9_\-]*")
#: the value of each base64url character, for the trailing-bits check
_B64_VALUE: Final = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}
_TO_STD: Final = bytes.maketrans(b"-_", b"+/")
#: unused low bits of the last character when len % 4 is 2 (one byte) or 3 (two bytes)
_TRAILING_BITS: Final = {2: 0x0F, 3: 0x03}
_MAX_HEADER_CHARS: Final = 2048


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict unpadded base64url: one spelling per byte string."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise DecodeError("base64_invalid", "not unpadded base64url")
    try:
        # the alphabet is checked above, so mapping '-_' to '+/' is all urlsafe_b64decode does
        data = binascii.a2b_base64(
            (text + "=" * (-len(text) % 4)).encode("ascii").translate(_TO_STD)
        )
    except (binascii.Error, ValueError):
        raise DecodeError("base64_invalid", "not unpadded base64url") from None
    # non-zero trailing bits spell the same bytes twice: the last character's unused
    # low bits must be zero (the same test as re-encoding and comparing, without the copy)
    mask = _TRAILING_BITS.get(len(text) % 4, 0)
    if mask and _B64_VALUE[text[-1]] & mask:
        raise DecodeError("base64_invalid", "base64url has non-zero trailing bits")
    return data


# ---------------------------------------------------------------------------
# strict JSON


#: a JSON string (to its closing quote, or to the end if unterminated) or a bracket; the
#: two branches of the string are disjoint, so one pass over the text is linear
_JSON_TOKEN: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


def _check_nesting(text: str, max_depth: int) -> None:
    """A cheap scan before json sees the text: nesting depth, outside strings."""
    if text.count("[") + text.count("{") <= max_depth:
        return  # the depth never exceeds the number of opening brackets, in strings or not
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > max_depth:
                raise DecodeError("limit_exceeded", f"JSON nested deeper than {max_depth}")
        elif char in "]}":
            depth -= 1


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    seen: set[str] = set()  # name the first member spelt twice, in the text's order
    for name, _ in pairs:
        if name in seen:
            raise DecodeError("json_duplicate_key", f"JSON object repeats member {name[:40]!r}")
        seen.add(name)
    raise AssertionError("unreachable: a dict shorter than its pairs repeats a name")


def _float(text: str) -> float:
    """A JSON number with a fraction or an exponent: the nearest binary64 (spec/jose.md).

    One spelling per number, as in CBOR (spec 5.2): an integral value in the integer
    range is an integer and is written as one (``12``, never ``12.0`` or ``1.2e1``).
    """
    try:
        value = cbor.number(float(text))
    except ValueError:  # 1e400 overflows to an infinity
        raise DecodeError("json_invalid", f"JSON number {text[:40]} is not finite") from None
    if type(value) is int:
        raise DecodeError("json_invalid", f"JSON number {text[:40]} is an integer spelt as float")
    return value


def _no_constant(text: str) -> object:
    raise DecodeError("json_invalid", f"JSON has no {text}")


def _bounded_int(text: str) -> int:
    # the length first: no long digit string is ever converted (JSON puts at most one "-")
    value = int(text) if len(text) - text.startswith("-") <= 16 else MAX_INT + 1
    if abs(value) > MAX_INT:
        raise DecodeError("json_invalid", "JSON integer outside -(2^53-1)..2^53-1")
    return value


def _check_values(value: object, max_items: int, max_string_bytes: int) -> None:
    """Walk the parsed value: item count, string size, no lone surrogates."""
    stack = [value]
    items = 0
    while stack:
        item = stack.pop()
        items += 1
        if items > max_items:
            raise DecodeError("limit_exceeded", f"JSON holds more than {max_items} items")
        if isinstance(item, str):
            try:
                size = len(item.encode("utf-8"))
            except UnicodeEncodeError:
                raise DecodeError("json_invalid", "JSON string holds a lone surrogate") from None
            if size > max_string_bytes:
                raise DecodeError("limit_exceeded", f"JSON string over {max_string_bytes} bytes")
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())


#: what json.loads would build on every call with these hooks; decode() keeps no state
_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_no_duplicates,
    parse_float=_float,
    parse_int=_bounded_int,
    parse_constant=_no_constant,
)


def loads(
    data: bytes, *, max_bytes: int, max_depth: int, max_items: int, max_string_bytes: int
) -> object:
    """Parse strict JSON (RFC 8259 I-JSON, integers only): caps first, then the parse."""
    if len(data) > max_bytes:
        raise DecodeError("limit_exceeded", f"JSON over {max_bytes} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("json_invalid", "JSON is not UTF-8") from None
    _check_nesting(text, max_depth)
    try:
        value: object = _DECODER.decode(text)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise DecodeError("json_invalid", "not valid JSON") from None
    # Every item (key, value, container) takes at least one byte of the text, no string is
    # longer in UTF-8 than its spelling, and only a \u escape makes a lone surrogate (the text
    # is strict UTF-8): the walk can find nothing in a short text without one, so skip it.
    if len(data) > min(max_items, max_string_bytes) or b"\\u" in data:
        _check_values(value, max_items, max_string_bytes)
    return value


def dumps(value: object) -> bytes:
    """The one JSON spelling we emit: sorted members, no whitespace, UTF-8."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


# ---------------------------------------------------------------------------
# JWS compact


@dataclass(frozen=True, slots=True)
class Compact:
    """A structurally valid JWS compact serialization whose signature has NOT been checked."""

    alg: str
    typ: str
    #: the header's ``kid`` when present: a hint for people, never used to choose a key
    kid: str | None
    #: the decoded protected header and payload bytes (JSON, UTF-8)
    protected: bytes
    payload: bytes
    signature: bytes
    #: the ASCII bytes of the compact serialization this object was decoded from
    encoded: bytes

    def to_be_signed(self) -> bytes:
        """The JWS signing input: ASCII(b64(header) '.' b64(payload)) (RFC 7515 5.1)."""
        return self.encoded[: self.encoded.rindex(b".")]


def protected_header(alg: str, typ: str) -> bytes:
    return dumps({"alg": alg, "typ": typ})


def signing_input(protected: bytes, payload: bytes) -> bytes:
    return f"{b64encode(protected)}.{b64encode(payload)}".encode("ascii")


def assemble(protected: bytes, payload: bytes, signature: bytes) -> bytes:
    return signing_input(protected, payload) + b"." + b64encode(signature).encode("ascii")


def _check_header(header: object, algorithms: frozenset[str]) -> tuple[str, str, str | None]:
    if not isinstance(header, dict):
        raise DecodeError("schema_invalid", "JWS protected header must be a JSON object")
    if "crit" in header:
        # RFC 7515 4.1.11: we understand no extension, so any crit is unsupported
        raise DecodeError("jose_crit_unsupported", "JWS header 'crit' names an extension")
    unknown = set(header) - _HEADER_REQUIRED - _HEADER_OPTIONAL
    if unknown:
        # jku, jwk, x5u, x5c, x5t, b64, ...: nothing in a header may locate or carry a key
        names = ", ".join(repr(n[:20]) for n in sorted(unknown)[:5])
        raise DecodeError("jose_header_forbidden", f"JWS header member(s) {names} not allowed")
    alg, typ, kid = header.get("alg"), header.get("typ"), header.get("kid")
    if not isinstance(alg, str):
        raise DecodeError("schema_invalid", "JWS header 'alg' is missing or not a string")
    if alg not in algorithms:
        raise DecodeError("alg_not_allowed", f"JWS algorithm {alg[:20]!r} is not allowed")
    if not isinstance(typ, str):
        raise DecodeError("schema_invalid", "JWS header 'typ' is missing or not a string")
    if kid is not None and not isinstance(kid, str):
        raise DecodeError("schema_invalid", "JWS header 'kid' must be a string")
    return alg, typ, kid


@functools.lru_cache(maxsize=256)
def _header(
    text: str, max_string_bytes: int, algorithms: frozenset[str]
) -> tuple[bytes, str, str, str | None]:
    """(protected bytes, alg, typ, kid) of a header's exact base64url text, or DecodeError.

    Remembered: a few header texts recur in every object (one per type and algorithm),
    and the answer depends only on the text, the cap and the allowlist. lru_cache does
    not remember a raise, so a refused header is refused again, with the same code.
    """
    if len(text) > _MAX_HEADER_CHARS:
        raise DecodeError("limit_exceeded", f"JWS header over {_MAX_HEADER_CHARS} characters")
    protected = b64decode(text)
    header = loads(
        protected,
        max_bytes=_MAX_HEADER_CHARS,
        max_depth=4,
        max_items=64,
        max_string_bytes=max_string_bytes,
    )
    return (protected, *_check_header(header, algorithms))


def decode_compact(
    data: bytes, *, algorithms: frozenset[str], max_bytes: int, max_string_bytes: int
) -> Compact:
    """Decode one JWS compact serialization strictly; the payload stays bytes.

    The payload is parsed by the caller with :func:`loads` and the same caps.
    ``algorithms`` is the allowlist of ``alg`` names (the crypto registry's, which
    this layer does not import); any other ``alg`` is ``alg_not_allowed``.
    """
    # the cap is checked on the text, before any base64 or JSON work
    if len(data) > max_bytes:
        raise DecodeError("limit_exceeded", f"JWS over {max_bytes} bytes")
    parts = data.split(b".")
    if len(parts) != 3:
        raise DecodeError("schema_invalid", "JWS compact has exactly three parts")
    try:
        texts = [part.decode("ascii") for part in parts]
    except UnicodeDecodeError:
        raise DecodeError("base64_invalid", "JWS compact is not ASCII base64url") from None
    # the header first: an algorithm or member we refuse is reported as such
    protected, alg, typ, kid = _header(texts[0], max_string_bytes, algorithms)
    payload, signature = b64decode(texts[1]), b64decode(texts[2])
    return Compact(
        alg=alg,
        typ=typ,
        kid=kid,
        protected=protected,
        payload=payload,
        signature=signature,
        encoded=data,
    )
