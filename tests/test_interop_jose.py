"""JOSE interop both ways (spec/jose.md J.7), with libraries we do not use at runtime for JWS.

- jwcrypto (test-only) and joserfc verify every kind of object we sign, both algorithms;
- we verify a whole presentation whose every object jwcrypto signed over our claims.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from typing import Any

import pytest
from joserfc import jws as joserfc_jws
from joserfc.jwk import import_key
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from agentchain import (
    AgentchainError,
    Outcome,
    PrivateKey,
    Request,
    SignatureError,
    codec,
    decode_presentation_unverified,
)
from agentchain.codec import (
    JWT_TYP_APPROVAL,
    JWT_TYP_ATTESTATION,
    JWT_TYP_INVOCATION,
    JWT_TYP_LINK,
    JWT_TYP_REVOCATION,
    Approval,
    Attestation,
    Invocation,
    Link,
    decode_unverified,
    request_digest,
)
from agentchain.model import (
    ApprovalClaims,
    AttestationClaims,
    Capability,
    InvocationClaims,
    LinkClaims,
    Window,
)
from agentchain.wire import jws
from tests.helpers import (
    AUD,
    EDDSA,
    ES256,
    NOW,
    REQUEST,
    interop_presentation,
    key,
    make_verifier,
)
from tests.test_interop_cose import low_s

ALGS = [EDDSA, ES256]
CODE = {"sha256": hashlib.sha256(b"calendar-reader v1").digest()}


def keys(alg: str) -> dict[str, PrivateKey]:
    return {name: key(f"interop-{name}", alg) for name in ("alice", "agent", "sub", "attester")}


def jwcrypto_verify(compact: bytes, signer: PrivateKey) -> tuple[dict[str, Any], bytes]:
    token = jwcrypto_jws.JWS()
    token.deserialize(compact.decode(), key=jwcrypto_jwk.JWK(**signer.public_key.to_jwk()))
    return dict(token.jose_header), bytes(token.payload)


def joserfc_verify(compact: bytes, signer: PrivateKey) -> tuple[dict[str, Any], bytes]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc flags EdDSA as superseded by RFC 9864 names
        obj = joserfc_jws.deserialize_compact(
            compact.decode(), import_key(dict(signer.public_key.to_jwk())), algorithms=[signer.alg]
        )
    return dict(obj.headers()), bytes(obj.payload or b"")


def jwcrypto_sign(signer: PrivateKey, typ: str, claims: dict[Any, object]) -> bytes:
    """A JWS compact made by jwcrypto over our claims (its own signing and serializing).

    jwcrypto's ECDSA nonce is random and its s is not normalized: spec 3.5 accepts only
    low-S, so a high s is replaced by n - s, the same signature's other spelling.
    """
    token = jwcrypto_jws.JWS(json.dumps(claims).encode())
    token.add_signature(
        jwcrypto_jwk.JWK(**signer.to_jwk()),
        None,
        protected=json.dumps({"alg": signer.alg, "typ": typ}),
    )
    compact: str = token.serialize(compact=True)
    if signer.alg != ES256:
        return compact.encode()
    head, signature = compact.rsplit(".", 1)
    return f"{head}.{jws.b64encode(low_s(jws.b64decode(signature)))}".encode()


def our_presentation(alg: str) -> tuple[codec.Presentation, dict[str, PrivateKey]]:
    k = keys(alg)
    p = interop_presentation(k, encoding="jose", label=f"interop-{alg}", code=CODE, args={"n": 3})
    return p, k


def verify(p: codec.Presentation | bytes, k: dict[str, PrivateKey]) -> Outcome:
    verifier = make_verifier(
        k["alice"].public_key,
        attesters=(k["attester"].public_key,),
        attestation_required=("calendar/read",),
    )
    request = Request(REQUEST.action, REQUEST.resource, {"n": 3})
    data = p.to_bytes() if isinstance(p, codec.Presentation) else p
    return verifier.verify(data, request).outcome


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("library", [jwcrypto_verify, joserfc_verify], ids=["jwcrypto", "joserfc"])
def test_they_verify_every_kind_we_sign(alg: str, library: Any) -> None:
    p, k = our_presentation(alg)
    assert verify(p, k) is Outcome.ALLOW
    assert p.invocation is not None
    signed: list[tuple[Link | Invocation | Attestation | Approval, PrivateKey, str]] = [
        (p.links[0], k["alice"], JWT_TYP_LINK),
        (p.links[1], k["agent"], JWT_TYP_LINK),
        (p.invocation, k["sub"], JWT_TYP_INVOCATION),
        (p.attestations[0], k["attester"], JWT_TYP_ATTESTATION),
        (p.approvals[0], k["alice"], JWT_TYP_APPROVAL),
    ]
    for obj, signer, typ in signed:
        header, payload = library(obj.encoded, signer)
        assert header == {"alg": alg, "typ": typ}
        assert payload == obj.envelope.payload


@pytest.mark.parametrize("alg", ALGS)
def test_they_refuse_what_they_should(alg: str) -> None:
    # the check above bites: a signature by another key fails in both libraries
    p, k = our_presentation(alg)
    for library in (jwcrypto_verify, joserfc_verify):
        with pytest.raises(Exception):  # noqa: B017 - each library has its own error type
            library(p.links[0].encoded, k["agent"])


@pytest.mark.parametrize("alg", ALGS)
def test_we_verify_what_jwcrypto_signs_over_our_claims(alg: str) -> None:
    ours, k = our_presentation(alg)
    root_claims, sub_claims = (link.claims for link in ours.links)
    root = jwcrypto_sign(k["alice"], JWT_TYP_LINK, codec.encode_claims(root_claims, "jose"))
    sub_link = LinkClaims(
        issuer=sub_claims.issuer,
        holder=sub_claims.holder,
        parent=hashlib.sha256(root).digest(),  # the parent digest is over jwcrypto's bytes
        iat=NOW,
        window=Window(NOW, NOW + 900),
        capabilities=(Capability("calendar/read", "https://cal.example/alice/*"),),
        caveats=(),
        depth=0,
        purpose=None,
        descriptor=sub_claims.descriptor,
    )
    sub = jwcrypto_sign(k["agent"], JWT_TYP_LINK, codec.encode_claims(sub_link, "jose"))
    chain = hashlib.sha256(sub).digest()
    args = {"n": 3}
    attestation = AttestationClaims(
        issuer=k["attester"].public_key.thumbprint,
        subject=k["sub"].public_key.thumbprint,
        iat=NOW,
        exp=NOW + 600,
        code=CODE,
        model=None,
        config={},
    )
    approval = ApprovalClaims(
        issuer=k["alice"].public_key.thumbprint,
        request=request_digest(chain, AUD, REQUEST.action, REQUEST.resource, args),
        iat=NOW,
        exp=NOW + 300,
    )
    signed_attestation = jwcrypto_sign(
        k["attester"], JWT_TYP_ATTESTATION, codec.encode_claims(attestation, "jose")
    )
    signed_approval = jwcrypto_sign(
        k["alice"], JWT_TYP_APPROVAL, codec.encode_claims(approval, "jose")
    )
    # spec 5.7: the invocation names both attachments by digest
    invocation = InvocationClaims(
        chain,
        AUD,
        REQUEST.action,
        REQUEST.resource,
        args,
        NOW,
        b"\x09" * 16,
        attestations=(hashlib.sha256(signed_attestation).digest(),),
        approvals=(hashlib.sha256(signed_approval).digest(),),
    )
    container = {
        "ver": 2,
        "links": [root.decode(), sub.decode()],
        "invocation": jwcrypto_sign(
            k["sub"], JWT_TYP_INVOCATION, codec.encode_claims(invocation, "jose")
        ).decode(),
        "attestations": [signed_attestation.decode()],
        "approvals": [signed_approval.decode()],
    }
    data = json.dumps(container).encode()  # jwcrypto's spelling; json's default separators
    p = decode_presentation_unverified(data)
    assert p.encoding == "jose" and p.links[0].claims == root_claims
    assert verify(data, k) is Outcome.ALLOW
    # and the same objects with one claim changed after signing are refused
    forged = root.split(b".")
    forged_payload = json.loads(jws.b64decode(forged[1].decode()))
    forged_payload["dep"] = 9
    forged[1] = jws.b64encode(json.dumps(forged_payload).encode()).encode()
    with pytest.raises(SignatureError):
        make_verifier(k["alice"].public_key).verify(
            json.dumps({**container, "links": [b".".join(forged).decode(), sub.decode()]}).encode(),
            REQUEST,
        )


def test_jwcrypto_high_s_is_refused_as_malformed() -> None:
    # spec 3.5 applies to JOSE too: the high-S spelling of a valid jwcrypto signature
    alice = key("interop-alice", ES256)
    ours, _ = our_presentation(ES256)
    low = jwcrypto_sign(alice, JWT_TYP_LINK, codec.encode_claims(ours.links[0].claims, "jose"))
    head, signature = low.rsplit(b".", 1)
    sig = jws.b64decode(signature.decode())
    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    high = sig[:32] + (n - int.from_bytes(sig[32:], "big")).to_bytes(32, "big")
    link = decode_unverified(LinkClaims, head + b"." + jws.b64encode(high).encode())
    with pytest.raises(SignatureError) as info:
        alice.public_key.verify(link.envelope.signature, link.envelope.signed)
    assert info.value.code == "signature_malformed"
    jwcrypto_verify(link.encoded, alice)  # while jwcrypto accepts it: the rule is ours


@pytest.mark.parametrize(
    ("header", "payload", "code"),
    [
        ({"jku": "https://mallory.example/keys"}, None, "jose_header_forbidden"),
        ({"x5u": "https://mallory.example/cert"}, None, "jose_header_forbidden"),
        ({"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}}, None, "jose_header_forbidden"),
        ({}, b'{"ver":1,"ver":1}', "json_duplicate_key"),
        ({}, b'{"ver":1.0}', "json_invalid"),
    ],
)
def test_what_joserfc_accepts_and_this_profile_refuses(
    header: dict[str, object], payload: bytes | None, code: str
) -> None:
    # spec/jose.md J.7: why parsing is ours; each row is a reading joserfc allows
    alice = key("interop-alice", EDDSA)
    claims = payload if payload is not None else json.dumps({"ver": 2}).encode()
    protected = json.dumps({"alg": EDDSA, "typ": JWT_TYP_LINK, **header}).encode()
    signing_input = jws.signing_input(protected, claims)
    compact = signing_input + b"." + jws.b64encode(alice.sign(signing_input)).encode()
    joserfc_verify(compact, alice)  # accepted there
    with pytest.raises(AgentchainError) as info:
        decode_unverified(LinkClaims, compact)
    assert info.value.code == code


@pytest.mark.parametrize("alg", ALGS)
def test_revocations_interoperate(alg: str) -> None:
    # R-8.5-5: a JOSE revocation is a plain JWS both libraries verify, and one that jwcrypto
    # signs over our claims verifies here
    from agentchain import revoke, verify_revocation

    revoker, subject = key("rev-interop", alg), key("rev-subject", alg)
    ours = revoke(revoker, subject=subject.public_key, before=NOW, now=NOW, encoding="jose")
    for library in (jwcrypto_verify, joserfc_verify):
        header, payload = library(ours.encoded, revoker)
        assert header == {"alg": alg, "typ": JWT_TYP_REVOCATION}
        assert payload == ours.envelope.payload
    theirs = jwcrypto_sign(revoker, JWT_TYP_REVOCATION, codec.encode_claims(ours.claims, "jose"))
    assert verify_revocation(theirs).claims == ours.claims
