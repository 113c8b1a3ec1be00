"""COSE_Sign1 (RFC 9052 section 4.2), restricted to what agentchain emits (spec 5.4).

Every signed object is an untagged COSE_Sign1 array ``[protected, unprotected,
payload, signature]`` in deterministic CBOR. The protected header is exactly
``{1: alg, -65537: kind}`` (spec 5.4); the unprotected header is an empty map. Signatures cover
the stored protected and payload bytes (the Sig_structure below), never a
re-encoding. This module checks structure only; verifying the signature is the
caller's job, with a key it chose (layer 2: imports only errors and wire.cbor).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

from agentchain.errors import DecodeError
from agentchain.wire import cbor

#: RFC 9052 header labels we use
HEADER_ALG = 1
#: spec 5.3, 5.4 (0.2): the object's kind as a small integer under a private-use label
#: (RFC 9052 section 3: labels below -65536), in place of 0.1's 32-byte RFC 9596 typ text
HEADER_KIND = -65537


@dataclass(frozen=True, slots=True)
class Sign1:
    """A structurally valid COSE_Sign1 whose signature has NOT been checked."""

    alg: int
    #: the object kind (spec 5.3): 1 link, 2 invocation, 3 attestation, 4 approval
    typ: int
    protected: bytes
    payload: bytes
    signature: bytes
    #: the exact bytes this object was decoded from (or encoded to)
    encoded: bytes

    def to_be_signed(self) -> bytes:
        return sig_structure(self.protected, self.payload)


#: the deterministic encoding of a 4-array and its context string "Signature1"
_SIG1_PREFIX = b"\x84\x6aSignature1"


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """The bytes a COSE_Sign1 signature covers (RFC 9052 section 4.4), empty external_aad.

    ``["Signature1", protected, h'', payload]`` in deterministic CBOR, assembled
    from its parts: it runs for every signed object a verifier checks.
    """
    return _SIG1_PREFIX + cbor.encode_bytes(protected) + b"\x40" + cbor.encode_bytes(payload)


def protected_header(alg: int, typ: int) -> bytes:
    return cbor.encode({HEADER_ALG: alg, HEADER_KIND: typ})


def assemble(protected: bytes, payload: bytes, signature: bytes) -> bytes:
    return cbor.encode([protected, {}, payload, signature])


def decode_sign1(data: bytes, *, max_depth: int, max_items: int, max_string_bytes: int) -> Sign1:
    """Decode one COSE_Sign1 strictly; the payload stays bytes (decoded later)."""
    parts = _sign1_parts(data, max_depth, max_items, max_string_bytes)
    if parts is None:
        parts = _sign1_general(data, max_depth, max_items, max_string_bytes)
    protected, payload, signature = parts
    alg, typ = _protected_header(protected, max_string_bytes)
    return Sign1(
        alg=alg, typ=typ, protected=protected, payload=payload, signature=signature, encoded=data
    )


def _sign1_general(
    data: bytes, max_depth: int, max_items: int, max_string_bytes: int
) -> tuple[bytes, bytes, bytes]:
    """(protected, payload, signature) through the general decoder, or its refusal."""
    top = cbor.decode(
        data, max_depth=max_depth, max_items=max_items, max_string_bytes=max_string_bytes
    )
    if not isinstance(top, list) or len(top) != 4:
        raise DecodeError("schema_invalid", "COSE_Sign1 must be an array of four items")
    protected, unprotected, payload, signature = top
    if not isinstance(protected, bytes) or not isinstance(payload, bytes):
        raise DecodeError("schema_invalid", "COSE_Sign1 protected header and payload are bstr")
    if not isinstance(signature, bytes):
        raise DecodeError("schema_invalid", "COSE_Sign1 signature is a bstr")
    if unprotected != {}:
        # spec 5.4: nothing unauthenticated rides along (no kid hints, no x5chain)
        raise DecodeError("unknown_field", "COSE_Sign1 unprotected header must be empty")
    return protected, payload, signature


#: the first byte of every COSE_Sign1 (an array of four) and its unprotected header (an
#: empty map), the only ones spec 5.4 admits
_ARRAY4: Final = 0x84
_EMPTY_MAP: Final = 0xA0


def _sign1_parts(
    data: bytes, max_depth: int, max_items: int, max_string_bytes: int
) -> tuple[bytes, bytes, bytes] | None:
    """(protected, payload, signature) of a COSE_Sign1 in the one shape every valid object
    has: ``84``, a byte string, ``a0``, two byte strings, each head in its shortest form,
    and nothing after. A fixed-prefix walk over three heads instead of the general decoder.

    None for anything else, and where the limits are so tight the general decoder could
    refuse even this shape: the caller then decodes the general way, which finds the
    first violation and its code. So this returns only what the general decoder would.
    """
    if type(data) is not bytes or max_depth < 2 or max_items < 4:
        return None
    if not data or data[0] != _ARRAY4:
        return None
    end = len(data)
    parts: list[bytes] = []
    pos = 1
    for index in range(3):
        if index == 1:  # the unprotected header sits between the first two
            if pos >= end or data[pos] != _EMPTY_MAP:
                return None
            pos += 1
        if pos >= end:
            return None
        initial = data[pos]
        if initial < 0x58:  # major type 2 with the length in the head (0x40..0x57)
            if initial < 0x40:
                return None
            size, pos = initial - 0x40, pos + 1
        elif initial == 0x58:
            if pos + 1 >= end or data[pos + 1] < 24:
                return None
            size, pos = data[pos + 1], pos + 2
        elif initial == 0x59:
            if pos + 2 >= end:
                return None
            size, pos = (data[pos + 1] << 8) | data[pos + 2], pos + 3
            if size < 0x100:
                return None
        else:
            return None
        if size > max_string_bytes or pos + size > end:
            return None
        parts.append(data[pos : pos + size])
        pos += size
    if pos != end:
        return None
    return parts[0], parts[1], parts[2]


@functools.lru_cache(maxsize=256)
def _protected_header(protected: bytes, max_string_bytes: int) -> tuple[int, int]:
    """(alg, kind) of a protected header, or DecodeError. Remembered: a few byte strings
    recur in every object (one per object type and algorithm), and the answer depends
    only on them. Refusals raise, and lru_cache does not remember a raise."""
    header = cbor.decode(protected, max_depth=2, max_items=8, max_string_bytes=max_string_bytes)
    if not isinstance(header, dict):
        raise DecodeError("schema_invalid", "COSE protected header must be a map")
    unknown = set(header) - {HEADER_ALG, HEADER_KIND}
    if unknown:
        # 'crit' (label 2) lands here too: we understand no extension header
        raise DecodeError(
            "unknown_field", f"unknown COSE header label(s) {sorted(map(str, unknown))}"
        )
    alg = header.get(HEADER_ALG)
    typ = header.get(HEADER_KIND)
    if not isinstance(alg, int) or isinstance(alg, bool):
        raise DecodeError("schema_invalid", "COSE header alg (1) must be an int")
    if not isinstance(typ, int) or isinstance(typ, bool):
        raise DecodeError("schema_invalid", "COSE header kind (-65537) must be an int")
    return alg, typ
