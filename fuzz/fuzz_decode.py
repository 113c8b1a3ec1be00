#!/usr/bin/env python3
"""Fuzz the decoders: a presentation in binary and text form, and each signed object.

The first byte of an input picks the decoder (an index into DECODERS; out of range:
ignored), the rest is its input. Besides refusing only with AgentchainError, every
decoder must be exact: what it accepts re-encodes to the very same bytes (spec 5.2).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the ignore: types-atheris omits the package's re-export of import_hook.instrument_imports
with atheris.instrument_imports(include=["agentchain"]):  # type: ignore[attr-defined]
    import common

    from agentchain import codec, model, revoke
    from agentchain.crypto import ALGORITHMS
    from agentchain.limits import DEFAULT_LIMITS
    from agentchain.wire import cbor, cose, jws


def _exact(ok: bool, what: str) -> None:
    if not ok:
        raise AssertionError(f"{what}: accepted bytes do not re-encode to themselves")


def _signed_parts(p: codec.Presentation) -> tuple[object, ...]:
    inv = p.invocation.encoded if p.invocation is not None else None
    return (
        tuple(link.encoded for link in p.links),
        inv,
        tuple(a.encoded for a in p.attestations),
        tuple(a.encoded for a in p.approvals),
    )


def _same_again(p: codec.Presentation, what: str) -> None:
    """JOSE's JSON container is not canonical (spec/jose.md): whitespace and member order may
    vary, the signed objects inside may not. Re-encoding keeps every signed object exactly."""
    again = codec.decode_presentation_unverified(p.to_bytes())
    _exact(_signed_parts(again) == _signed_parts(p), what)


def presentation_bytes(data: bytes) -> None:
    p = codec.decode_presentation_unverified(data)
    if p.encoding == "cbor":
        _exact(p.to_bytes() == data, "presentation")
    else:
        _same_again(p, "JOSE presentation")


def presentation_text(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    p = codec.decode_presentation_unverified(text)
    if p.encoding == "cbor":
        # spec 5.1: only ASCII whitespace around the text may be ignored
        _exact(p.to_text() == text.strip(codec.ASCII_WHITESPACE), "presentation text")
    else:
        _same_again(p, "JOSE presentation text")


def _claims_exact(
    decoded: codec.Link | codec.Invocation | codec.Attestation | codec.Approval | codec.Revocation,
    decode: Callable[[object, codec.Encoding], object],
    what: str,
) -> None:
    """CBOR claims re-encode to the very payload bytes (spec 5.2); JOSE claims, whose JSON is
    not canonical, map back to the same claims (spec/jose.md)."""
    env = decoded.envelope
    if env.encoding == "cbor":
        _exact(cbor.encode(codec.encode_claims(decoded.claims)) == env.payload, what)  # type: ignore[arg-type]
    else:
        again = decode(codec.encode_claims(decoded.claims, "jose"), "jose")
        _exact(again == decoded.claims, what)


def link(data: bytes) -> None:
    decoded = codec.decode_unverified(model.LinkClaims, data)
    _claims_exact(
        decoded, lambda c, e: codec.decode_link_claims(c, DEFAULT_LIMITS, e), "link claims"
    )


def invocation(data: bytes) -> None:
    decoded = codec.decode_unverified(model.InvocationClaims, data)
    _claims_exact(decoded, codec.decode_invocation_claims, "invocation claims")


def attestation(data: bytes) -> None:
    decoded = codec.decode_unverified(model.AttestationClaims, data)
    _claims_exact(decoded, codec.decode_attestation_claims, "attestation claims")


def approval(data: bytes) -> None:
    decoded = codec.decode_unverified(model.ApprovalClaims, data)
    _claims_exact(decoded, codec.decode_approval_claims, "approval claims")


def revocation(data: bytes) -> None:
    decoded = codec.decode_unverified(model.RevocationClaims, data)
    _claims_exact(decoded, codec.decode_revocation_claims, "revocation claims")


def cbor_item(data: bytes) -> None:
    value = cbor.decode(data, max_depth=16, max_items=2048, max_string_bytes=4096)
    _exact(cbor.encode(value) == data, "cbor")


def sign1(data: bytes) -> None:
    decoded = cose.decode_sign1(data, max_depth=16, max_items=2048, max_string_bytes=16_384)
    _exact(decoded.encoded == data, "COSE_Sign1")


def caveat(data: bytes) -> None:
    value = cbor.decode(data, max_depth=16, max_items=2048, max_string_bytes=4096)
    statement = model.parse_statement(value, limits=DEFAULT_LIMITS)
    _exact(cbor.encode(cast("cbor.CBORValue", statement.raw)) == data, "caveat")


_JSON_CAPS = {"max_bytes": 65_536, "max_depth": 16, "max_items": 2048, "max_string_bytes": 4096}


def json_value(data: bytes) -> None:
    """Strict JSON (spec/jose.md J.2). Not canonical, so exact means: what it accepts,
    written our one way, is accepted again as the same value."""
    value = jws.loads(data, **_JSON_CAPS)
    _exact(jws.loads(jws.dumps(value), **_JSON_CAPS) == value, "JSON")


def compact(data: bytes) -> None:
    """One JWS compact (spec/jose.md J.3): strict base64url has one spelling per byte string."""
    decoded = jws.decode_compact(
        data, algorithms=ALGORITHMS, max_bytes=16_384, max_string_bytes=4096
    )
    _exact(jws.assemble(decoded.protected, decoded.payload, decoded.signature) == data, "JWS")


def jwk(data: bytes) -> None:
    """A holder or approver key as JOSE claims carry it: exactly kty, crv, x (and y)."""
    value = jws.loads(data, **_JSON_CAPS)
    key = codec.decode_public_jwk(value, "fuzzed JWK")
    _exact(codec.public_key_jwk(key) == value, "JWK")


def caveat_json(data: bytes) -> None:
    """A caveat as a JOSE link carries it (plain or {"when", "actions"})."""
    value = jws.loads(data, **_JSON_CAPS)
    decoded = codec.decode_caveat(value, DEFAULT_LIMITS, "jose")
    again = codec.decode_caveat(codec.encode_caveat(decoded, "jose"), DEFAULT_LIMITS, "jose")
    _exact(again == decoded, "JOSE caveat")


#: selector byte -> decoder. Append only, so that saved inputs keep their meaning.
DECODERS: tuple[Callable[[bytes], None], ...] = (
    presentation_bytes,  # 0
    presentation_text,  # 1: "ac1c." text form
    link,  # 2
    invocation,  # 3
    attestation,  # 4
    approval,  # 5
    cbor_item,  # 6
    sign1,  # 7
    caveat,  # 8
    # JOSE (spec/jose.md); the entries above detect the encoding and take JOSE too
    json_value,  # 9
    compact,  # 10
    jwk,  # 11
    caveat_json,  # 12
    revocation,  # 13 (spec 8.5), either encoding
)


@common.accept_only_agentchain_errors
def test_one_input(data: bytes) -> None:
    if data and data[0] < len(DECODERS):
        DECODERS[data[0]](data[1:])


def seeds() -> list[bytes]:
    out: list[bytes] = []
    for p in common.seed_presentations():
        out.append(b"\x00" + p.to_bytes())
        out.append(b"\x01" + p.to_text().encode())
        out.extend(b"\x02" + link.encoded for link in p.links)
        if p.encoding == "cbor":
            out.extend(b"\x07" + link.encoded for link in p.links[:1])
            out.extend(b"\x06" + link.envelope.payload for link in p.links[:1])
            out.extend(
                b"\x08" + cbor.encode(cast("cbor.CBORValue", c.statement.raw))
                for link in p.links
                for c in link.claims.caveats
            )
        else:
            out.extend(b"\x0a" + link.encoded for link in p.links[:1])
            out.extend(b"\x09" + link.envelope.payload for link in p.links[:1])
            out.extend(b"\x09" + link.envelope.protected for link in p.links[:1])
            out.extend(
                b"\x0b" + jws.dumps(codec.public_key_jwk(link.claims.holder)) for link in p.links
            )
            out.extend(
                b"\x0c" + jws.dumps(codec.encode_caveat(c, "jose"))
                for link in p.links
                for c in link.claims.caveats
            )
        if p.invocation is not None:
            out.append(b"\x03" + p.invocation.encoded)
        out.extend(b"\x04" + a.encoded for a in p.attestations)
        out.extend(b"\x05" + a.encoded for a in p.approvals)
        revoker = common.key("revoker")
        out.append(b"\x0d" + revoke(revoker, link=p.links[0], encoding=p.encoding, now=0).encoded)
    for item in common.vector_inputs():
        out.append((b"\x01" if isinstance(item, str) else b"\x00") + common.as_bytes(item))
    return out


if __name__ == "__main__":
    common.main(test_one_input, seeds)
