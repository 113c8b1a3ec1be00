"""Strict field access for claim maps and the shared value encodings (keys, digests, descriptors).

Readers reject what nobody read (``unknown_field``) and return typed values;
writers produce the same logical value in either encoding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final, Literal, overload

from agentchain import model
from agentchain.codec._keys import (
    D_CODE,
    D_CONFIG,
    D_KIND,
    D_MODEL,
    D_NAME,
    MAX_TIME,
    VERSION,
    Encoding,
    _keys,
)
from agentchain.codec._memo import ByteCache, plain_key
from agentchain.crypto import PublicKey
from agentchain.errors import DecodeError, InvalidKey, IssueError
from agentchain.model import Descriptor
from agentchain.wire import jws


def digest(data: bytes) -> bytes:
    """SHA-256, the protocol's one hash (link digests, chain digests, revocation ids)."""
    return hashlib.sha256(data).digest()


class _Fields:
    """Reads a decoded CBOR map field by field and rejects what nobody read."""

    def __init__(
        self,
        value: object,
        where: str,
        allowed: frozenset[Any],
        *,
        version: int | str | None = None,
    ) -> None:
        if not isinstance(value, dict):
            raise DecodeError("schema_invalid", f"{where} must be a map")
        self._map: dict[object, object] = value
        self._where = where
        if version is not None:
            # spec 5.5: the version first, so a later version's new claims read as
            # version_unsupported, never as unknown_field (R-5.5-3); any unsigned integer
            # other than 2 is another version (R-5.8-7), only a non-integer is mistyped
            found = self.uint(version, upper=2**64 - 1)
            if found != VERSION:
                raise DecodeError(
                    "version_unsupported", f"{where} version {found} is not {VERSION}"
                )
        unknown = [k for k in value if k not in allowed]
        if unknown:
            raise DecodeError(
                "unknown_field", f"{where} has unknown key(s) {sorted(map(str, unknown))}"
            )

    def _get(self, key: int | str, required: bool) -> object:
        if key not in self._map:
            if required:
                raise DecodeError("schema_invalid", f"{self._where} lacks key {key}")
            return None
        value = self._map[key]
        if value is None:  # spec 5.5: an optional claim present as null is of the wrong type
            raise DecodeError("schema_invalid", f"{self._where} key {key} is null")
        return value

    @overload
    def uint(
        self, key: int | str, *, required: Literal[True] = True, upper: int = MAX_TIME
    ) -> int: ...
    @overload
    def uint(
        self, key: int | str, *, required: Literal[False], upper: int = MAX_TIME
    ) -> int | None: ...
    def uint(self, key: int | str, *, required: bool = True, upper: int = MAX_TIME) -> int | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= upper:
            raise DecodeError(
                "schema_invalid", f"{self._where} key {key} must be an int in 0..{upper}"
            )
        return value

    @overload
    def text(self, key: int | str, *, required: Literal[True] = True) -> str: ...
    @overload
    def text(self, key: int | str, *, required: Literal[False]) -> str | None: ...
    def text(self, key: int | str, *, required: bool = True) -> str | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            raise DecodeError("schema_invalid", f"{self._where} key {key} must be a non-empty text")
        return value

    @overload
    def bstr(
        self, key: int | str, *, size: tuple[int, int], required: Literal[True] = True
    ) -> bytes: ...
    @overload
    def bstr(
        self, key: int | str, *, size: tuple[int, int], required: Literal[False]
    ) -> bytes | None: ...
    def bstr(self, key: int | str, *, size: tuple[int, int], required: bool = True) -> bytes | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        return self._bytes(key, value, size)

    def _bytes(self, key: int | str, value: object, size: tuple[int, int]) -> bytes:
        """A byte string claim: CBOR carries it as a byte string."""
        if not isinstance(value, bytes) or not size[0] <= len(value) <= size[1]:
            raise DecodeError(
                "schema_invalid", f"{self._where} key {key} must be {size[0]}..{size[1]} bytes"
            )
        return value

    @overload
    def array(self, key: int | str, *, required: Literal[True] = True) -> list[object]: ...
    @overload
    def array(self, key: int | str, *, required: Literal[False]) -> list[object] | None: ...
    def array(self, key: int | str, *, required: bool = True) -> list[object] | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, list):
            raise DecodeError("schema_invalid", f"{self._where} key {key} must be an array")
        return value

    def raw(self, key: int | str) -> object:
        return self._get(key, False)

    def digests(self, key: int | str, *, most: int) -> tuple[bytes, ...]:
        """An optional array of 1 to ``most`` SHA-256 digests; absent reads as empty."""
        items = self.array(key, required=False)
        if items is None:
            return ()
        if not items:
            raise DecodeError(
                "schema_invalid", f"{self._where} key {key}, when present, is non-empty"
            )
        if len(items) > most:
            raise DecodeError(
                "limit_exceeded", f"{self._where} key {key} names over {most} digests"
            )
        return tuple(self._bytes(key, item, (32, 32)) for item in items)


class _JoseFields(_Fields):
    """The same strict reading over a JOSE claims object: byte strings are base64url text."""

    def _bytes(self, key: int | str, value: object, size: tuple[int, int]) -> bytes:
        if not isinstance(value, str):
            raise DecodeError("schema_invalid", f"{self._where} {key} must be base64url text")
        data = jws.b64decode(value)
        if not size[0] <= len(data) <= size[1]:
            raise DecodeError(
                "schema_invalid", f"{self._where} {key} must be {size[0]}..{size[1]} bytes"
            )
        return data


def _fields(
    encoding: Encoding,
    value: object,
    where: str,
    allowed: frozenset[Any],
    version: int | str | None = None,
) -> _Fields:
    if encoding == "jose":
        return _JoseFields(value, where, allowed, version=version)
    return _Fields(value, where, allowed, version=version)


def json_data(value: object, what: str) -> object:
    """``value`` as JSON data, or IssueError: JOSE cannot carry byte strings (spec/jose.md)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bytes):
            raise IssueError(
                "schema_invalid", f"{what} holds a byte string, which JOSE cannot express"
            )
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > jws.MAX_INT:
            raise IssueError("schema_invalid", f"{what} holds an integer beyond 2^53-1")
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Mapping):
            if not all(isinstance(k, str) for k in item):
                # json would turn 1 into "1": refuse rather than change the meaning
                raise IssueError("schema_invalid", f"{what} holds a map key that is not text")
            stack.extend(item.values())
    return value


def decode_public_key(value: object, where: str) -> PublicKey:
    if not isinstance(value, dict):
        raise DecodeError("schema_invalid", f"{where} must be a COSE_Key map")
    return PublicKey.from_cose_key(value)


_JWK_CORE: Final = ("kty", "crv", "x", "y")


def public_key_jwk(key: PublicKey) -> dict[str, str]:
    """spec/jose.md: a key inside claims is its bare public JWK (no alg, no kid)."""
    jwk = key.to_jwk()
    return {name: jwk[name] for name in _JWK_CORE if name in jwk}


def decode_public_jwk(value: object, where: str) -> PublicKey:
    """A bare public JWK inside claims (spec 3.3 R-3.3-5, jose.md J.5).

    The same defect gives the same code as in a COSE_Key: the key type and curve are
    judged first (``alg_not_allowed``), then any member beyond kty, crv, x, y (``alg``,
    ``kid``, ``y`` of an OKP key...) is ``key_invalid``, like an extra COSE_Key label.
    """
    if not isinstance(value, dict):
        raise DecodeError("schema_invalid", f"{where} must be a JWK object")
    extra = set(value) - set(_JWK_CORE)
    key = PublicKey.from_jwk({name: v for name, v in value.items() if name not in extra})
    if extra:
        raise InvalidKey("key_invalid", f"{where} has JWK member(s) beyond kty, crv, x, y")
    return key


#: (encoding, a COSE_Key or JWK spelled exactly) -> the PublicKey it imports as
_KEYS: Final[ByteCache[tuple[Encoding, str], PublicKey]] = ByteCache("keys", 1024)


def _decode_key(encoding: Encoding, value: object, where: str) -> PublicKey:
    """A public key inside claims. Remembered by its exact data: holder keys recur in every
    link and attachment that names them, and a PublicKey is immutable. A refused key
    raises every time (refusals are never remembered)."""
    spelled = plain_key(value, most=8)
    if spelled is not None and (known := _KEYS.get((encoding, spelled))) is not None:
        return known
    key = decode_public_jwk(value, where) if encoding == "jose" else decode_public_key(value, where)
    if spelled is not None:
        _KEYS.put((encoding, spelled), key)
    return key


def _encode_digests(digests: Mapping[str, bytes]) -> dict[str, bytes]:
    return dict(digests)


def _jose_digests(digests: Mapping[str, bytes]) -> dict[str, str]:
    return {alg: jws.b64encode(dig) for alg, dig in digests.items()}


def _decode_digests(value: object, where: str, encoding: Encoding = "cbor") -> dict[str, bytes]:
    if not isinstance(value, dict) or not value:
        raise DecodeError("schema_invalid", f"{where} must be a non-empty map")
    if len(value) > 8:
        raise DecodeError("limit_exceeded", f"{where} has more than 8 digests")
    out: dict[str, bytes] = {}
    for alg, value_dig in value.items():
        dig = (
            jws.b64decode(value_dig)
            if encoding == "jose" and isinstance(value_dig, str)
            else value_dig
        )
        if not isinstance(alg, str) or not isinstance(dig, bytes):
            raise DecodeError("schema_invalid", f"{where} maps text to bytes")
        out[alg] = dig
    return out


def encode_descriptor(d: Descriptor, encoding: Encoding = "cbor") -> dict[Any, object]:
    k = _keys(encoding, "descriptor")
    out: dict[Any, object] = {k[D_KIND]: d.kind}
    if d.name is not None:
        out[k[D_NAME]] = d.name
    if d.code:
        out[k[D_CODE]] = _digests_out(encoding, d.code)
    if d.model is not None:
        out[k[D_MODEL]] = d.model
    if d.config:
        out[k[D_CONFIG]] = _digests_out(encoding, d.config)
    return out


#: (encoding, the descriptor's data spelled exactly) -> the Descriptor it decodes to
_DESCRIPTORS: Final[ByteCache[tuple[Encoding, str], Descriptor]] = ByteCache("descriptors", 1024)


def decode_descriptor(value: object, encoding: Encoding = "cbor") -> Descriptor:
    """A link's descriptor (spec 5.5). Remembered by its exact data: an agent's descriptor
    recurs in every link that names it, and a Descriptor is immutable (its digest sets
    are read-only views), so the one decoded first can be shared."""
    key = plain_key(value)
    if key is not None and (known := _DESCRIPTORS.get((encoding, key))) is not None:
        return known
    descriptor = _decode_descriptor(value, encoding)
    if key is not None:
        _DESCRIPTORS.put((encoding, key), descriptor)
    return descriptor


def _decode_descriptor(value: object, encoding: Encoding) -> Descriptor:
    k = _keys(encoding, "descriptor")
    f = _fields(encoding, value, "descriptor", frozenset(k.values()))
    kind = f.text(k[D_KIND])
    code = f.raw(k[D_CODE])
    config = f.raw(k[D_CONFIG])
    return Descriptor(
        kind=kind,  # type: ignore[arg-type]  # checked by Descriptor.__post_init__
        name=f.text(k[D_NAME], required=False),
        code=_decode_digests(code, "descriptor code", encoding) if code is not None else {},
        model=f.text(k[D_MODEL], required=False),
        config=_decode_digests(config, "descriptor config", encoding) if config is not None else {},
    )


def _bytes_out(encoding: Encoding, data: bytes) -> object:
    return jws.b64encode(data) if encoding == "jose" else data


def _digests_out(encoding: Encoding, digests: Mapping[str, bytes]) -> object:
    return _jose_digests(digests) if encoding == "jose" else _encode_digests(digests)


def _key_out(encoding: Encoding, key: PublicKey) -> object:
    return public_key_jwk(key) if encoding == "jose" else key.to_cose_key()


def _statement_out(encoding: Encoding, statement: model.Statement) -> object:
    return json_data(statement.raw, "a caveat") if encoding == "jose" else statement.raw
