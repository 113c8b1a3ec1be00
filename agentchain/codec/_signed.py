"""The signed wrapper of one object (COSE_Sign1 or JWS compact): one generic type for all four.


Decoding here checks structure, never trust: every object it returns keeps the
exact bytes it came from, and its signature is still unchecked; the names say
so (``decode_unverified``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Generic, TypeAlias, TypeVar

from agentchain import _native
from agentchain._frozen import maker, slot_init
from agentchain.codec._claims import (
    CBOREncode,
    decode_claims,
    encode_claims,
    link_id,
)
from agentchain.codec._fields import digest
from agentchain.codec._keys import (
    JWT_TYP_APPROVAL,
    JWT_TYP_ATTESTATION,
    JWT_TYP_INVOCATION,
    JWT_TYP_LINK,
    JWT_TYP_REVOCATION,
    TYP_APPROVAL,
    TYP_ATTESTATION,
    TYP_INVOCATION,
    TYP_LINK,
    TYP_REVOCATION,
    Encoding,
)
from agentchain.codec._memo import ByteCache
from agentchain.codec._plain import _extent, holder_end, plain_link
from agentchain.crypto import ALGORITHMS, PrivateKey, by_cose_id
from agentchain.errors import DecodeError, IssueError
from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.model._claims import (
    ApprovalClaims,
    AttestationClaims,
    Claims,
    InvocationClaims,
    LinkClaims,
    ObjectKind,
    RevocationClaims,
)
from agentchain.wire import cbor, cose, jws


@slot_init
@dataclass(frozen=True, slots=True)
class Envelope:
    """The signed wrapper of one object, in either encoding; its signature is NOT checked.

    The verifier reads only ``alg``, ``signature`` and ``signed`` (the exact
    bytes the signature covers), so its steps are the same for both encodings.
    """

    encoding: Encoding
    #: the algorithm name from the protected header ("Ed25519" or "ES256")
    alg: str
    #: the kind marker: an integer in COSE (spec 5.3), the ``typ`` text in JOSE
    typ: int | str
    #: the protected header and the payload, as the bytes they were signed as
    protected: bytes
    payload: bytes
    signature: bytes
    #: what the signature covers: the COSE Sig_structure, or the JWS signing input
    signed: bytes
    #: the exact bytes this object was decoded from (for JOSE: the ASCII compact form)
    encoded: bytes


#: ``Envelope(...)``, faster (``_frozen.maker``): one per signed object of every verification
_ENVELOPE: Final = maker(Envelope)

#: kind -> (CBOR kind, JOSE typ)
_TYPS: Final[Mapping[ObjectKind, tuple[int, str]]] = {
    "link": (TYP_LINK, JWT_TYP_LINK),
    "invocation": (TYP_INVOCATION, JWT_TYP_INVOCATION),
    "attestation": (TYP_ATTESTATION, JWT_TYP_ATTESTATION),
    "approval": (TYP_APPROVAL, JWT_TYP_APPROVAL),
    "revocation": (TYP_REVOCATION, JWT_TYP_REVOCATION),
}


_JWS_FIRST: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def encoding_of(data: bytes) -> Encoding:
    """Which encoding a signed object's bytes are in: a JWS compact is ASCII base64url."""
    return "jose" if data[:1] and data[0] in _JWS_FIRST else "cbor"


def _open(data: bytes, kind: ObjectKind, limits: Limits) -> tuple[Envelope, object]:
    """Decode the envelope of one signed object of ``kind`` and parse its payload."""
    envelope = _envelope(data, kind, limits)
    return envelope, _payload(envelope, limits)


def _envelope(data: bytes, kind: ObjectKind, limits: Limits) -> Envelope:
    """The envelope of one signed object of ``kind``: size, COSE_Sign1 or JWS, typ, alg."""
    if len(data) > limits.max_object_bytes:
        raise DecodeError("limit_exceeded", f"signed object over {limits.max_object_bytes} bytes")
    encoding = encoding_of(data)
    signed: jws.Compact | cose.Sign1
    if encoding == "jose":
        signed = jws.decode_compact(
            data,
            algorithms=ALGORITHMS,
            max_bytes=limits.max_object_bytes,
            max_string_bytes=limits.max_string_bytes,
        )
    else:
        signed = cose.decode_sign1(
            data,
            max_depth=limits.max_cbor_depth,
            max_items=limits.max_cbor_items,
            max_string_bytes=limits.max_object_bytes,
        )
    typ = _TYPS[kind][encoding == "jose"]
    if signed.typ != typ:
        raise DecodeError("type_mismatch", f"expected {typ}, found {str(signed.typ)[:60]}")
    alg = signed.alg if isinstance(signed, jws.Compact) else by_cose_id(signed.alg).name
    return _ENVELOPE(
        encoding=encoding,
        alg=alg,
        typ=signed.typ,
        protected=signed.protected,
        payload=signed.payload,
        signature=signed.signature,
        signed=signed.to_be_signed(),
        encoded=data,
    )


#: a strict CBOR decoder with the signature of :func:`agentchain.wire.cbor.decode`: that one,
#: or the native core's, which gives the same value or the same error (R-5.2-11)
CBORDecode: TypeAlias = Callable[..., object]


def _payload(envelope: Envelope, limits: Limits, cbor_decode: CBORDecode | None = None) -> object:
    """The payload of an envelope, strictly decoded (its claims not yet read)."""
    caps = {
        "max_depth": limits.max_cbor_depth,
        "max_items": limits.max_cbor_items,
        "max_string_bytes": limits.max_string_bytes,
    }
    if envelope.encoding == "jose":
        return jws.loads(envelope.payload, max_bytes=limits.max_object_bytes, **caps)
    return (cbor_decode or cbor.decode)(envelope.payload, **caps)


C = TypeVar("C", LinkClaims, InvocationClaims, AttestationClaims, ApprovalClaims, RevocationClaims)


@slot_init
@dataclass(frozen=True, slots=True)
class Signed(Generic[C]):
    """A decoded signed object whose signature is NOT yet checked (the verifier checks it).

    One type for the five kinds (spec 5.3): ``Signed[LinkClaims]`` is a link,
    and so on; the aliases below name them.
    """

    claims: C
    envelope: Envelope
    #: SHA-256 of the exact signed bytes: a link's child names it as ``parent`` and
    #: revocations name it; an invocation names its approvals by it (spec 5.5, 9.2)
    digest: bytes

    @property
    def encoded(self) -> bytes:
        return self.envelope.encoded

    @property
    def alg(self) -> str:
        return self.envelope.alg

    @property
    def encoding(self) -> Encoding:
        return self.envelope.encoding


Link: TypeAlias = Signed[LinkClaims]
Invocation: TypeAlias = Signed[InvocationClaims]
Attestation: TypeAlias = Signed[AttestationClaims]
Approval: TypeAlias = Signed[ApprovalClaims]
Revocation: TypeAlias = Signed[RevocationClaims]


def decode_unverified(
    kind: type[C],
    data: bytes,
    limits: Limits = DEFAULT_LIMITS,
    *,
    cbor_decode: CBORDecode | None = None,
) -> Signed[C]:
    """One signed object of ``kind`` in either encoding (detected from its first byte),
    structure checked only: its typ must be the kind's, its claims the kind's schema.
    ``cbor_decode`` decodes a CBOR payload in place of the reference's decoder (the
    verifier's native backend: the same value or the same error)."""
    envelope = _envelope(data, kind.KIND, limits)
    # a CBOR link in the common shape, its recurring claims remembered by their bytes
    # (codec._plain): the very claims the general reading gives, or None for that reading
    plain = (
        plain_link(envelope.payload, limits)
        if kind is LinkClaims and envelope.encoding == "cbor"
        else None
    )
    claims: C = (
        plain  # type: ignore[assignment]  # kind is LinkClaims here
        if plain is not None
        else decode_claims(kind, _payload(envelope, limits, cbor_decode), limits, envelope.encoding)
    )
    return Signed(claims=claims, envelope=envelope, digest=digest(data))


#: (encoding, a link's payload bytes) -> codec.link_id of the claims they decode to
_LINK_IDS: Final[ByteCache[tuple[str, bytes], bytes]] = ByteCache("link ids", 4096)


def decoded_link_id(link: Link, *, encode: CBOREncode = cbor.encode) -> bytes:
    """``codec.link_id(link.claims)``, remembered by the link's exact payload bytes.

    Only for a link this package decoded from its bytes (the verifier decodes every
    link it judges), whose claims are those of its payload.

    The claims are a pure function of the payload bytes (decoding with other limits
    either refuses them or reads the same claims), so the id is too; V5 asks for it
    on every request, for every link of the chain. A CBOR link's id is read from its
    payload as spec 8.5 defines it (:func:`payload_link_id`); a JOSE link's claims are
    encoded in CBOR first, by ``encode`` (a backend's encoder: the same bytes).
    """
    key = (link.envelope.encoding, link.envelope.payload)
    known = _LINK_IDS.get(key)
    if known is not None:
        return known
    found = None
    if link.envelope.encoding == "cbor":
        found = payload_link_id(link.envelope.payload, link.claims.parent)
    return _LINK_IDS.put(key, found if found is not None else link_id(link.claims, encode=encode))


def _item_end(data: bytes, at: int) -> int:
    """Where the CBOR item at ``at`` of a payload the strict decoder accepted ends (its
    items are bounded by the decoder's limits already); IndexError past anything else."""
    found = _extent(data, at, len(data), most=len(data))
    if found is None:
        raise IndexError("not a whole CBOR item")
    return found[0]


def _scalar_end(data: bytes, at: int) -> int:
    """:func:`_item_end` of an integer, byte string or text string (definite length, as a
    payload the strict decoder accepted holds), read from its head alone; any other item
    by the general walk."""
    initial = data[at]
    info = initial & 0x1F
    if initial >= 0x80 or info >= 28:  # an array, map, tag or float; or no length here
        return _item_end(data, at)
    end = at + 1 + (0 if info < 24 else 1 << (info - 24))
    if initial < 0x40:  # an integer: the head is the whole item
        return end
    return end + (info if info < 24 else int.from_bytes(data[at + 1 : end], "big"))


#: the parent claim's entry in a link's claims map: key 4, a 32-byte byte string
_PARENT_ENTRY: Final = b"\x04\x58\x20"


def payload_link_id(payload: bytes, parent: bytes | None) -> bytes | None:
    """spec 8.5: SHA-256 of the deterministic CBOR of a CBOR link's claims map without its
    ``parent`` claim, read from the payload bytes (the claims map itself, in deterministic
    order: keys 1 to 3 precede key 4), instead of encoding the claims again.

    ``parent`` is the parent claim the payload was decoded to (None for a root, whose
    payload has none: its id is the payload's digest). None when the payload is not of
    that shape, which a payload the strict decoder and the claims decoder accepted
    always is; the caller then encodes the claims (``link_id``).
    """
    if parent is None:
        return digest(payload)
    try:
        head = payload[0]
        if not 0xA1 <= head <= 0xB7:  # a map of 1 to 23 entries, its count in the head
            return None
        at = 1
        while payload[at] in (0x01, 0x02, 0x03):  # keys 1 to 3 (one byte each), their values
            # the version and the issuer by their heads; the holder's key (3) found among
            # those remembered by their bytes, else by walking its heads
            held = holder_end(payload, at + 1) if payload[at] == 0x03 else None
            at = _scalar_end(payload, at + 1) if held is None else held
        end = at + len(_PARENT_ENTRY) + 32
        if payload[at:end] != _PARENT_ENTRY + parent:
            return None
    except (IndexError, ValueError):
        return None
    return digest(bytes([head - 1]) + payload[1:at] + payload[end:])


def payload_args_digest(payload: bytes) -> bytes | None:
    """spec 5.7: the digest of a CBOR invocation's carried arguments (SHA-256 of their
    deterministic encoding), read from its payload bytes, where key 6 holds exactly that
    encoding: the invocation's claims map in deterministic order, keys 1 to 5 first. None
    for another shape (arguments bound by digest, key 9, have no key 6); the caller then
    encodes the arguments (``args_digest``)."""
    try:
        if not 0xA1 <= payload[0] <= 0xB7:
            return None
        at = 1
        while payload[at] in (0x01, 0x02, 0x03, 0x04, 0x05):  # a key of one byte; its value
            at = _scalar_end(payload, at + 1)  # version, chain, audience, action, resource
        if payload[at] != 0x06:
            return None
        end = _item_end(payload, at + 1)
    except (IndexError, ValueError):
        return None
    return digest(payload[at + 1 : end])


def sign_object(key: PrivateKey, typ: int, payload: object) -> bytes:
    """Encode ``payload`` deterministically and wrap it in a COSE_Sign1 signed by ``key``.
    The encoder is the default backend's (``agentchain._native``: the same bytes)."""
    payload_bytes = _native.backend().cbor_encode(payload)  # type: ignore[arg-type]
    protected = cose.protected_header(key.algorithm.cose_id, typ)
    signature = key.sign(cose.sig_structure(protected, payload_bytes))
    return cose.assemble(protected, payload_bytes, signature)


def sign_object_jose(key: PrivateKey, typ: str, payload: object) -> bytes:
    """Serialize ``payload`` as JSON and wrap it in a JWS compact signed by ``key``.

    Signing is ours, not a JOSE library's: ES256 stays deterministic (RFC 6979)
    and the header stays exactly ``{"alg", "typ"}`` (spec/jose.md).
    """
    payload_bytes = jws.dumps(payload)
    protected = jws.protected_header(key.alg, typ)
    signature = key.sign(jws.signing_input(protected, payload_bytes))
    return jws.assemble(protected, payload_bytes, signature)


def sign_claims(key: PrivateKey, claims: Claims, encoding: Encoding = "cbor") -> bytes:
    """Sign one object's claims in ``encoding``; the typ follows the claims' ``KIND``."""
    cbor_typ, jose_typ = _TYPS[claims.KIND]
    if encoding == "jose":
        return sign_object_jose(key, jose_typ, encode_claims(claims, "jose"))
    if encoding != "cbor":
        raise IssueError("encoding_unknown", f"no encoding {encoding!r}: use cbor or jose")
    return sign_object(key, cbor_typ, encode_claims(claims, "cbor"))
