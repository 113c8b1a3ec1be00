"""Interoperability with pycose, an independent COSE implementation (RFC 9052).

Our signed objects are untagged COSE_Sign1 arrays; the tagged form (CBOR tag 18,
the single byte 0xd2) is the same structure, and is what pycose reads and writes.
Both directions are checked: pycose verifies what we sign, and we verify what
pycose signs over our own link payload, with the protected header {1: alg, 16: typ}
and an empty unprotected header, exactly as spec 5.4 prescribes.
"""

from __future__ import annotations

import base64
from typing import Any

import cbor2
import pytest
from pycose.algorithms import EdDSA, Es256
from pycose.headers import Algorithm
from pycose.keys.cosekey import CoseKey
from pycose.keys.ec2 import EC2Key
from pycose.keys.okp import OKPKey
from pycose.messages.sign1message import Sign1Message

from agentchain import (
    DecodeError,
    Presentation,
    PrivateKey,
    SignatureError,
    revoke,
    verify_revocation,
)
from agentchain.codec import TYP_INVOCATION, TYP_LINK, TYP_REVOCATION, decode_unverified
from agentchain.model import InvocationClaims, LinkClaims
from tests.helpers import (
    AGENT,
    ALICE,
    EDDSA,
    ES256,
    REQUEST,
    SUB,
    key,
    make_verifier,
    standard_presentation,
    standard_token,
)

TAG_SIGN1 = b"\xd2"  # CBOR tag 18 (COSE_Sign1), major type 6, argument 18
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

ALGS = {EDDSA: EdDSA, ES256: Es256}


def tagged(untagged: bytes) -> bytes:
    out = TAG_SIGN1 + untagged
    # the same as building the tag with cbor2 around the decoded structure
    assert out == cbor2.dumps(cbor2.CBORTag(18, cbor2.loads(untagged)))
    return out


def untag(data: bytes) -> bytes:
    assert data[:1] == TAG_SIGN1, data[:4].hex()
    return data[1:]


def pycose_public(k: PrivateKey) -> Any:
    return CoseKey.from_dict(dict(k.public_key.to_cose_key()))


def pycose_private(k: PrivateKey) -> Any:
    jwk = k.to_jwk()
    d = base64.urlsafe_b64decode(jwk["d"] + "=" * (-len(jwk["d"]) % 4))
    cose: dict[int, Any] = dict(k.public_key.to_cose_key())
    if k.alg == EDDSA:
        return OKPKey(crv="Ed25519", x=cose[-2], d=d)
    return EC2Key(crv="P_256", x=cose[-2], y=cose[-3], d=d)


def pycose_sign(k: PrivateKey, typ: str, payload: bytes) -> bytes:
    """pycose's COSE_Sign1 over ``payload``, with exactly our header layout, untagged."""
    msg = Sign1Message(
        phdr={Algorithm: ALGS[k.alg], 16: typ}, uhdr={}, payload=payload, key=pycose_private(k)
    )
    return untag(msg.encode(tag=True))


def low_s(signature: bytes) -> bytes:
    """The other valid ECDSA signature for the same (r, s): (r, n - s), if s is high."""
    r, s = signature[:32], int.from_bytes(signature[32:], "big")
    return r + min(s, P256_N - s).to_bytes(32, "big")


def chain(alg: str) -> Presentation:
    """The standard chain with every key of ``alg``: ALICE -> AGENT -> SUB, invoked."""
    keys = {name: key(name, alg) for name in ("alice", "agent", "sub")}
    token = standard_token(root=keys["alice"], agent=keys["agent"], sub=keys["sub"])
    return standard_presentation(token, holder=keys["sub"])


# --------------------------------------------------------------------------
# pycose verifies what we signed


@pytest.mark.parametrize("alg", [EDDSA, ES256])
def test_pycose_verifies_our_links_and_invocation(alg: str) -> None:
    # R-5.4-4
    p = chain(alg)
    signers = [key("alice", alg), key("agent", alg), key("sub", alg)]
    assert p.invocation is not None
    objects = [*(link.encoded for link in p.links), p.invocation.encoded]
    typs = [TYP_LINK, TYP_LINK, TYP_INVOCATION]
    for data, signer, typ in zip(objects, signers, typs, strict=True):
        msg: Any = Sign1Message.decode(tagged(data))
        assert msg.phdr == {Algorithm: ALGS[alg], 16: typ}
        assert msg.uhdr == {}
        msg.key = pycose_public(signer)
        assert msg.verify_signature()
        # pycose reads the same claims as we do
        ours = cbor2.loads(data)
        assert msg.payload == ours[2]
        assert msg.signature == ours[3]


@pytest.mark.parametrize("alg", [EDDSA, ES256])
def test_pycose_refuses_our_link_under_another_key_or_payload(alg: str) -> None:
    link = chain(alg).links[0]
    msg: Any = Sign1Message.decode(tagged(link.encoded))
    msg.key = pycose_public(key("mallory", alg))
    assert not msg.verify_signature()
    changed = bytearray(link.encoded)
    changed[-70] ^= 1  # inside the payload, just before the 64-byte signature
    msg = Sign1Message.decode(tagged(bytes(changed)))
    msg.key = pycose_public(key("alice", alg))
    assert not msg.verify_signature()


# --------------------------------------------------------------------------
# we verify what pycose signed


def test_we_verify_pycose_eddsa_link_and_it_is_ours_byte_for_byte() -> None:
    token = standard_token()
    root = token.links[0]
    theirs = pycose_sign(ALICE, TYP_LINK, root.envelope.payload)
    link = decode_unverified(LinkClaims, theirs)
    ALICE.public_key.verify(link.envelope.signature, link.envelope.signed)
    assert link.envelope.protected == root.envelope.protected  # {1: -8, 16: typ}, canonical
    assert link.claims == root.claims
    # Ed25519 is deterministic, so the whole object is the one we made
    assert theirs == root.encoded
    # and a pycose signature over another payload does not verify as ours
    other = decode_unverified(
        LinkClaims,
        pycose_sign(ALICE, TYP_LINK, standard_token(label="x").links[0].envelope.payload),
    )
    with pytest.raises(SignatureError) as exc:
        ALICE.public_key.verify(other.envelope.signature, link.envelope.signed)
    assert exc.value.code == "signature_invalid"


def test_a_chain_signed_by_pycose_verifies_end_to_end() -> None:
    # every link re-signed by pycose, the invocation too: our verifier allows it
    p = standard_presentation()
    assert p.invocation is not None
    links = [
        pycose_sign(signer, TYP_LINK, link.envelope.payload)
        for signer, link in zip((ALICE, AGENT), p.links, strict=True)
    ]
    invocation = pycose_sign(SUB, TYP_INVOCATION, p.invocation.envelope.payload)
    theirs = Presentation(
        tuple(decode_unverified(LinkClaims, data) for data in links),
        decode_unverified(InvocationClaims, invocation),
    )
    decision = make_verifier().verify(theirs.to_bytes(), REQUEST)
    assert decision.outcome.value == "allow"


def test_we_verify_pycose_es256_link() -> None:
    # pycose's ECDSA uses a random nonce and does not normalize s: when s is high our
    # verifier refuses it as malformed (one signature per message), and (r, n - s),
    # the same signature in low-S form, verifies
    alice = key("alice", ES256)
    payload = chain(ES256).links[0].envelope.payload
    for _ in range(8):
        link = decode_unverified(LinkClaims, pycose_sign(alice, TYP_LINK, payload))
        signature, message = link.envelope.signature, link.envelope.signed
        if low_s(signature) == signature:
            alice.public_key.verify(signature, message)
        else:
            with pytest.raises(SignatureError) as exc:
                alice.public_key.verify(signature, message)
            assert exc.value.code == "signature_malformed"
            alice.public_key.verify(low_s(signature), message)
        # pycose itself verifies the low-S form too: it is a standard signature
        normalized = [link.envelope.protected, {}, link.envelope.payload, low_s(signature)]
        msg: Any = Sign1Message.decode(cbor2.dumps(cbor2.CBORTag(18, normalized)))
        msg.key = pycose_public(alice)
        assert msg.verify_signature()


def test_pycose_tagged_output_is_refused_as_is() -> None:
    # we accept only the untagged form (spec 5.4): the tag must be stripped
    data = TAG_SIGN1 + standard_token().links[0].encoded
    with pytest.raises(DecodeError) as exc:
        decode_unverified(LinkClaims, data)
    assert exc.value.code == "cbor_tag"


@pytest.mark.parametrize("alg", [EDDSA, ES256])
def test_revocations_interoperate_with_pycose(alg: str) -> None:
    # R-8.5-5: pycose verifies our COSE revocation under the key it names, and we verify a
    # revocation pycose signs over our claims (ES256 made low-S, as spec 3.5 requires)
    revoker = key("rev-cose", alg)
    ours = revoke(revoker, subject=key("rev-target", alg).public_key, now=1_800_000_000)
    msg: Any = Sign1Message.decode(tagged(ours.encoded))
    assert msg.phdr == {Algorithm: ALGS[alg], 16: TYP_REVOCATION}
    msg.key = CoseKey.from_dict(dict(ours.claims.revoker.to_cose_key()))
    assert msg.verify_signature()
    theirs = pycose_sign(revoker, TYP_REVOCATION, ours.envelope.payload)
    if alg == ES256:
        parts = cbor2.loads(theirs)
        theirs = cbor2.dumps([parts[0], parts[1], parts[2], low_s(parts[3])])
    assert verify_revocation(theirs).claims == ours.claims
