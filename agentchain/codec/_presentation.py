"""The presentation container (spec 5.8) and the text forms of attachments (spec 5.1)."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from agentchain import _native
from agentchain._frozen import slot_init
from agentchain.codec._fields import _Fields, digest
from agentchain.codec._keys import (
    ASCII_WHITESPACE,
    P_APPROVALS,
    P_ATTESTATIONS,
    P_INVOCATION,
    P_LINKS,
    P_VERSION,
    TEXT_PREFIX_CBOR,
    TEXT_PREFIX_JOSE,
    VERSION,
    Encoding,
    _keys,
)
from agentchain.codec._signed import (
    Approval,
    Attestation,
    CBORDecode,
    Invocation,
    Link,
    decode_unverified,
    encoding_of,
)
from agentchain.codec._text import b64decode, b64encode, from_text
from agentchain.crypto import PublicKey
from agentchain.errors import DecodeError
from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.model import ApprovalClaims, AttestationClaims, InvocationClaims, LinkClaims
from agentchain.wire import cbor, jws

#: an object's encoding, read without a Python frame per object
_ENCODING: Final = operator.attrgetter("envelope.encoding")


def attachment_to_text(data: bytes) -> str:
    """Text form of one attestation or approval: a JWS compact is its own text form;
    a COSE object takes the same prefix as presentations."""
    if encoding_of(data) == "jose":
        return data.decode("ascii")
    return TEXT_PREFIX_CBOR + b64encode(data)


def attachment_from_text(text: str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The bytes of one attestation or approval from its text form (either encoding)."""
    text = text.strip(ASCII_WHITESPACE)
    if text.startswith(TEXT_PREFIX_CBOR):
        return from_text(text, limits)
    if len(text) > limits.max_object_bytes:
        raise DecodeError("limit_exceeded", f"text over the {limits.max_object_bytes}-byte cap")
    data = text.encode("utf-8")
    if encoding_of(data) != "jose":
        raise DecodeError("encoding_unknown", "neither a JWS compact nor an 'ac2c.' text form")
    return data


@slot_init
@dataclass(frozen=True, slots=True)
class Presentation:
    """Links, and the invocation when present; nothing in it is verified.

    Without an invocation this is what the protocol calls a *token*: what a
    delegator hands to its delegatee. ``Verifier.verify`` is the only way from
    this type to a verified chain. One presentation, one encoding: every item
    shares the encoding of the links (spec/jose.md), or construction fails
    with ``encoding_mixed``.
    """

    links: tuple[Link, ...]
    invocation: Invocation | None = None
    attestations: tuple[Attestation, ...] = ()
    approvals: tuple[Approval, ...] = ()

    def __post_init__(self) -> None:
        found = set(map(_ENCODING, self.links))
        found.update(map(_ENCODING, self.attestations))
        found.update(map(_ENCODING, self.approvals))
        if self.invocation is not None:
            found.add(self.invocation.envelope.encoding)
        if len(found) > 1:
            raise DecodeError("encoding_mixed", "a presentation mixes cbor and jose objects")

    @property
    def encoding(self) -> Encoding:
        return self.links[0].envelope.encoding if self.links else "cbor"

    @property
    def holder(self) -> PublicKey:
        return self.links[-1].claims.holder

    @property
    def chain_digest(self) -> bytes:
        return self.links[-1].digest

    def to_bytes(self) -> bytes:
        jose = self.encoding == "jose"
        k = _keys(self.encoding, "presentation")

        def item(data: bytes) -> object:
            return data.decode("ascii") if jose else data

        out: dict[Any, object] = {
            k[P_VERSION]: VERSION,
            k[P_LINKS]: [item(link.encoded) for link in self.links],
        }
        if self.invocation is not None:
            out[k[P_INVOCATION]] = item(self.invocation.encoded)
        if self.attestations:
            out[k[P_ATTESTATIONS]] = [item(a.encoded) for a in self.attestations]
        if self.approvals:
            out[k[P_APPROVALS]] = [item(a.encoded) for a in self.approvals]
        if jose:
            return jws.dumps(out)
        return _native.backend().cbor_encode(out)  # type: ignore[arg-type]

    def to_text(self) -> str:
        prefix = TEXT_PREFIX_JOSE if self.encoding == "jose" else TEXT_PREFIX_CBOR
        return prefix + b64encode(self.to_bytes())

    def __str__(self) -> str:
        """The text form (spec 5.1), what ``verify``, ``delegate`` and ``invoke`` take."""
        return self.to_text()

    @classmethod
    def from_text(cls, text: str, limits: Limits = DEFAULT_LIMITS) -> Presentation:
        """Decode a token or presentation from its text form, checking structure only."""
        if not isinstance(text, str):
            raise DecodeError("encoding_unknown", "the text form is text, not bytes")
        return decode_presentation_unverified(text, limits)


#: a whole CBOR presentation read in one step, or None (see decode_presentation_unverified)
OpenPlain: TypeAlias = Callable[
    [bytes, Limits, Callable[[bytes], Link | None] | None], "Presentation | None"
]


def container_encoding(data: bytes) -> Encoding:
    """A JOSE container is a JSON object (starts with '{'); a CBOR container is a map."""
    return "jose" if data[:1] == b"{" else "cbor"


def decode_presentation_unverified(
    data: bytes | str,
    limits: Limits = DEFAULT_LIMITS,
    *,
    known: Callable[[bytes], Link | None] | None = None,
    decode_link: Callable[[bytes, Limits], Link] | None = None,
    cbor_decode: CBORDecode | None = None,
    open_plain: OpenPlain | None = None,
) -> Presentation:
    """Decode a token or presentation from bytes or its text form, checking structure only.

    The encoding is detected (text prefix; for bytes, a JSON object or a CBOR
    map) and every item must be in it: otherwise ``encoding_mixed``.

    ``known`` maps a link digest to a link decoded earlier from the same bytes
    under the same limits (the verifier's prefix cache), or None: decoding is a
    pure function of the bytes, so such a link is not decoded again.

    ``decode_link`` decodes one link in place of ``decode_unverified(LinkClaims, ...)``:
    the verifier's native backend, which gives the same link or the same error.
    ``cbor_decode`` decodes the CBOR container and the other objects' payloads in place of
    :func:`agentchain.wire.cbor.decode` (the same backend: the same value or the same error).
    ``open_plain`` reads a CBOR presentation whole, or answers None and leaves it to this
    function (the native backend: it reads only the plain shape, where it can only agree).
    """
    raw = from_text(data, limits) if isinstance(data, str) else data
    if len(raw) > limits.max_presentation_bytes:
        raise DecodeError(
            "limit_exceeded", f"presentation over {limits.max_presentation_bytes} bytes"
        )
    encoding = container_encoding(raw)
    if isinstance(data, str) and data.strip(ASCII_WHITESPACE).startswith(TEXT_PREFIX_JOSE) != (
        encoding == "jose"
    ):
        raise DecodeError(
            "encoding_unknown", "the text prefix names another encoding than it holds"
        )
    if open_plain is not None and encoding == "cbor":
        found = open_plain(raw, limits, known)
        if found is not None:
            return found
    if encoding == "jose":
        top = jws.loads(
            raw,
            max_bytes=limits.max_presentation_bytes,
            max_depth=3,
            max_items=limits.max_links + 2 * limits.max_attachments + 16,
            max_string_bytes=limits.max_object_bytes,
        )
    else:
        top = (cbor_decode or cbor.decode)(
            raw,
            max_depth=3,
            max_items=limits.max_links + 2 * limits.max_attachments + 8,
            max_string_bytes=limits.max_object_bytes,
        )
    k = _keys(encoding, "presentation")
    f = _Fields(top, "presentation", frozenset(k.values()), version=k[P_VERSION])
    links_raw = f.array(k[P_LINKS])
    if not links_raw:
        raise DecodeError("chain_empty", "the presentation holds no link")
    if len(links_raw) > limits.max_links:
        raise DecodeError("limit_exceeded", f"more than {limits.max_links} links")
    links = []
    for item in links_raw:
        data = _item(encoding, item, "links")
        link = known(digest(data)) if known is not None else None
        if link is None:
            link = (
                decode_link(data, limits)
                if decode_link is not None
                else decode_unverified(LinkClaims, data, limits)
            )
        links.append(link)
    inv_raw = f.raw(k[P_INVOCATION])
    invocation = (
        decode_unverified(
            InvocationClaims,
            _item(encoding, inv_raw, "the invocation"),
            limits,
            cbor_decode=cbor_decode,
        )
        if inv_raw is not None
        else None
    )
    attestations = tuple(
        decode_unverified(
            AttestationClaims,
            _item(encoding, item, "attestations"),
            limits,
            cbor_decode=cbor_decode,
        )
        for item in _attachments(f.array(k[P_ATTESTATIONS], required=False), "attestations", limits)
    )
    approvals = tuple(
        decode_unverified(
            ApprovalClaims, _item(encoding, item, "approvals"), limits, cbor_decode=cbor_decode
        )
        for item in _attachments(f.array(k[P_APPROVALS], required=False), "approvals", limits)
    )
    if (attestations or approvals) and invocation is None:
        raise DecodeError("schema_invalid", "attachments ride only with an invocation")
    return Presentation(tuple(links), invocation, attestations, approvals)


def _item(encoding: Encoding, value: object, what: str) -> bytes:
    """One signed object of a container, which must be in the container's encoding.

    spec/jose.md: one chain, one encoding. A JWS compact in a CBOR container, or
    a COSE object (as bytes or as base64url text) in a JSON container, is
    ``encoding_mixed``; anything else that is not an object is ``schema_invalid``.
    """
    if encoding == "cbor":
        # spec/jose.md J.1: a signed object whose first byte is a base64url character IS a
        # JWS compact, well-formed or not; it is never handed to the JOSE parser from here
        if isinstance(value, bytes) and encoding_of(value) == "jose":
            raise DecodeError("encoding_mixed", f"{what}: a JOSE object in a CBOR container")
        if isinstance(value, str) and _JWS_SHAPE.fullmatch(value.encode("utf-8", "replace")):
            raise DecodeError("encoding_mixed", f"{what}: a JOSE object in a CBOR container")
        if not isinstance(value, bytes) or not value:
            raise DecodeError("schema_invalid", f"{what} are byte strings holding COSE_Sign1")
        return value
    if not isinstance(value, str) or not value:
        raise DecodeError("schema_invalid", f"{what} are strings holding a JWS compact")
    if value.startswith(TEXT_PREFIX_CBOR) or (value.count(".") == 0 and _base64url_of_cose(value)):
        raise DecodeError("encoding_mixed", f"{what}: a COSE object in a JSON container")
    data = value.encode("utf-8")
    if encoding_of(data) != "jose":
        raise DecodeError("schema_invalid", f"{what} are strings holding a JWS compact")
    return data


_JWS_SHAPE: Final = re.compile(rb"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")


def _base64url_of_cose(text: str) -> bool:
    try:
        data = b64decode(text)
    except DecodeError:
        return False
    return encoding_of(data) == "cbor" and data[:1] == b"\x84"  # COSE_Sign1: array of 4


def _attachments(raw: list[object] | None, what: str, limits: Limits) -> list[object]:
    if raw is None:
        return []
    if not raw:
        raise DecodeError("schema_invalid", f"{what}, when present, are a non-empty array")
    if len(raw) > limits.max_attachments:
        raise DecodeError("limit_exceeded", f"more than {limits.max_attachments} {what}")
    return raw
