"""signature.json: keys, curves and signatures that must not verify."""

from __future__ import annotations

import hashlib

from agentchain import codec
from agentchain._build import sign1_parts, sign_raw, with_signature
from agentchain.crypto import EDDSA, ES256
from agentchain.vectors.build import chain, invocation_claims, present, present_raw
from agentchain.vectors.cases._common import (
    ED_D,
    N256,
    SMALL_ORDER,
    TYP_LINK,
    L,
    P,
    alice,
    mutated_link,
    one_link,
)
from agentchain.vectors.suite import Suite, allow, error, step
from agentchain.wire import cose


def _ed_off_curve() -> bytes:
    """The smallest y whose x^2 has no square root: an encoding that is not a curve point."""
    y = 2
    while True:
        x2 = (y * y - 1) * pow(ED_D * y * y + 1, -1, P) % P
        if x2 != 0 and pow(x2, (P - 1) // 2, P) != 1:
            return y.to_bytes(32, "little")
        y += 1


def add_cases(s: Suite) -> None:
    link, holder = one_link()
    _, _, sig = sign1_parts(link)
    r, s_bytes = sig[:32], sig[32:]
    s_int = int.from_bytes(s_bytes, "little")

    def with_sig(new: bytes) -> bytes:
        return present_raw([with_signature(link, new)], holder)

    flip = bytes([sig[0]]) + sig[1:40] + bytes([sig[40] ^ 1]) + sig[41:]
    noncanon_r = (P + 1).to_bytes(32, "little")  # y = p + 1 >= p: non-canonical (not y = 1)
    rows: list[tuple[str, str, bytes, str, list[str], str]] = [
        (
            "sig-ed25519-length-63",
            "a 63-byte signature",
            sig[:63],
            "signature_malformed",
            ["R-3.4-1"],
            "signature-length",
        ),
        (
            "sig-ed25519-length-65",
            "a 65-byte signature",
            sig + b"\x00",
            "signature_malformed",
            ["R-3.4-1"],
            "signature-length",
        ),
        (
            "sig-ed25519-empty",
            "an empty signature",
            b"",
            "signature_malformed",
            ["R-3.4-1"],
            "signature-length",
        ),
        (
            "sig-ed25519-s-plus-l",
            "S + L: the same signature, re-spelled (malleability)",
            r + (s_int + L).to_bytes(32, "little"),
            "signature_malformed",
            ["R-3.4-2"],
            "ed25519-strict",
        ),
        (
            "sig-ed25519-s-equals-l",
            "S = L",
            r + L.to_bytes(32, "little"),
            "signature_malformed",
            ["R-3.4-2"],
            "ed25519-strict",
        ),
        (
            "sig-ed25519-s-all-ones",
            "S = 2^256 - 1",
            r + b"\xff" * 32,
            "signature_malformed",
            ["R-3.4-2"],
            "ed25519-strict",
        ),
        (
            "sig-ed25519-r-noncanonical-y",
            "R with y = p + 1 (non-canonical)",
            noncanon_r + s_bytes,
            "signature_malformed",
            ["R-3.4-3"],
            "ed25519-strict",
        ),
        (
            "sig-ed25519-r-noncanonical-sign",
            "R = y 1 with the sign bit set (x = 0)",
            bytes.fromhex(SMALL_ORDER["identity"])[:31] + b"\x80" + s_bytes,
            "signature_malformed",
            ["R-3.4-3"],
            "ed25519-strict",
        ),
        (
            "sig-ed25519-r-off-curve",
            "R not a curve point: fails the equation",
            _ed_off_curve() + s_bytes,
            "signature_invalid",
            ["R-3.4-6"],
            "signature-forgery",
        ),
        (
            "sig-ed25519-bit-flip",
            "one bit of S flipped",
            flip,
            "signature_invalid",
            ["R-3.4-6", "R-7.1-4"],
            "signature-forgery",
        ),
        (
            "sig-ed25519-identity-zero",
            "R = identity, S = 0 (verifies under OpenSSL for small-order keys)",
            bytes.fromhex(SMALL_ORDER["identity"]) + bytes(32),
            "signature_malformed",
            ["R-3.4-4"],
            "ed25519-strict",
        ),
    ]
    for name, enc_hex in SMALL_ORDER.items():
        rows.append(
            (
                f"sig-ed25519-r-small-order-{name}",
                f"R of small order ({name})",
                bytes.fromhex(enc_hex) + s_bytes,
                "signature_malformed",
                ["R-3.4-4"],
                "ed25519-strict",
            )
        )
    with_sign = bytes.fromhex(SMALL_ORDER["order8a"])[:31] + bytes(
        [bytes.fromhex(SMALL_ORDER["order8a"])[31] | 0x80]
    )
    rows.append(
        (
            "sig-ed25519-r-small-order-order8a-neg",
            "R of order 8, the other sign of x",
            with_sign + s_bytes,
            "signature_malformed",
            ["R-3.4-4"],
            "ed25519-strict",
        )
    )
    for case_id, desc, new, code, rids, flag in rows:
        s.add(
            case_id,
            desc,
            flags=[flag],
            spec=[*rids, "R-7.1-4", "R-8.2-3"],
            steps=[step(with_sig(new), error(code))],
        )

    # small-order and non-canonical public keys A (the holder key a link names)
    okp = {1: 1, -1: 6}
    keys_rows = [
        (
            f"key-ed25519-small-order-{n}",
            f"holder key of small order ({n})",
            bytes.fromhex(h),
            "R-3.4-4",
        )
        for n, h in SMALL_ORDER.items()
    ]
    keys_rows += [
        (
            "key-ed25519-noncanonical-y",
            "holder key with y = p (non-canonical)",
            P.to_bytes(32, "little"),
            "R-3.4-3",
        ),
        (
            "key-ed25519-noncanonical-sign",
            "holder key y = p - 1 with the sign bit set (x = 0)",
            bytes.fromhex(SMALL_ORDER["p-minus-1"])[:31] + b"\xff",
            "R-3.4-3",
        ),
        (
            "key-ed25519-off-curve",
            "holder key that is not a curve point",
            _ed_off_curve(),
            "R-3.4-5",
        ),
    ]
    for case_id, desc, raw, rid in keys_rows:
        s.add(
            case_id,
            desc,
            flags=["key-validation", "ed25519-strict"],
            spec=[rid, "R-8.2-2"],
            steps=[step(mutated_link({3: {**okp, -2: raw}}), error("key_invalid"))],
        )

    # ES256
    elink, eholder = one_link(ES256, label="es")
    _, _, esig = sign1_parts(elink)
    er, es = int.from_bytes(esig[:32], "big"), int.from_bytes(esig[32:], "big")

    def ewith(new: bytes) -> bytes:
        return present_raw([with_signature(elink, new)], eholder)

    def rs(r_: int, s_: int) -> bytes:
        return r_.to_bytes(32, "big") + s_.to_bytes(32, "big")

    der = bytes([0x30, 0x44, 0x02, 0x20]) + esig[:32] + bytes([0x02, 0x20]) + esig[32:]
    erows: list[tuple[str, str, bytes, str, str, str]] = [
        (
            "sig-es256-high-s",
            "(r, n - s): mathematically valid, refused by the low-S rule",
            rs(er, N256 - es),
            "signature_malformed",
            "R-3.5-3",
            "ecdsa-malleability",
        ),
        (
            "sig-es256-r-zero",
            "r = 0",
            rs(0, es),
            "signature_malformed",
            "R-3.5-2",
            "ecdsa-malleability",
        ),
        (
            "sig-es256-s-zero",
            "s = 0",
            rs(er, 0),
            "signature_malformed",
            "R-3.5-2",
            "ecdsa-malleability",
        ),
        (
            "sig-es256-r-equals-n",
            "r = n",
            rs(N256, es),
            "signature_malformed",
            "R-3.5-2",
            "ecdsa-malleability",
        ),
        (
            "sig-es256-s-equals-n",
            "s = n",
            rs(er, N256),
            "signature_malformed",
            "R-3.5-2",
            "ecdsa-malleability",
        ),
        (
            "sig-es256-der",
            "the signature in DER (70 bytes)",
            der,
            "signature_malformed",
            "R-3.5-1",
            "signature-length",
        ),
        (
            "sig-es256-length-63",
            "a 63-byte r || s",
            esig[:63],
            "signature_malformed",
            "R-3.4-1",
            "signature-length",
        ),
        (
            "sig-es256-bit-flip",
            "one bit of s flipped",
            esig[:40] + bytes([esig[40] ^ 1]) + esig[41:],
            "signature_invalid",
            "R-7.1-4",
            "signature-forgery",
        ),
    ]
    # keep the flip inside the low half so that only the equation fails
    assert es < (N256 - 1) // 2 and es ^ (1 << 8 * 23) <= (N256 - 1) // 2
    for case_id, desc, new, code, rid, flag in erows:
        s.add(
            case_id,
            desc,
            flags=[flag],
            spec=[rid, "R-8.2-3"],
            steps=[step(ewith(new), error(code))],
            policy={"anchors": ["alice-es256"]},
        )
    s.add(
        "sig-es256-low-s-accepted",
        "an honest ES256 link whose signer normalized s to the low half",
        flags=["valid", "ecdsa-malleability"],
        spec=["R-3.5-3", "R-3.6-1"],
        steps=[step(present_raw([elink], eholder), allow())],
        policy={"anchors": ["alice-es256"]},
    )

    # algorithm confusion
    _, payload, _ = sign1_parts(link)
    es_header = cose.protected_header(-7, TYP_LINK)
    forged = sign_raw(alice(), TYP_LINK, payload, protected=es_header)
    s.add(
        "alg-header-not-the-keys",
        "an Ed25519 anchor's link whose header says ES256",
        flags=["alg-confusion"],
        spec=["R-3.1-2", "R-8.2-3"],
        steps=[step(present_raw([forged], holder), error("alg_not_allowed"))],
    )
    s.add(
        "alg-not-in-policy",
        "an EdDSA chain at a verifier that allows only ES256",
        flags=["alg-confusion"],
        spec=["R-3.1-3", "R-8.2-3"],
        steps=[step(present_raw([link], holder), error("alg_not_allowed"))],
        policy={"algorithms": [ES256]},
    )
    token, eh = chain(1, holder_algs=[ES256], label="mixed-inv")
    s.add(
        "alg-invocation-not-in-policy",
        "EdDSA root, ES256 holder: the invocation's algorithm is outside the policy",
        flags=["alg-confusion"],
        spec=["R-3.1-3", "R-8.2-4"],
        steps=[step(present(token, eh), error("alg_not_allowed"))],
        policy={"algorithms": [EDDSA]},
    )
    inv = codec.sign_object(
        holder, codec.TYP_INVOCATION, invocation_claims(hashlib.sha256(link).digest())
    )
    ip, ipay, isig = sign1_parts(inv)
    is_int = int.from_bytes(isig[32:], "little")
    s.add(
        "sig-invocation-s-plus-l",
        "the invocation's S + L",
        flags=["ed25519-strict"],
        spec=["R-3.4-2", "R-8.2-4"],
        steps=[
            step(
                present_raw(
                    [link],
                    holder,
                    invocation=cose.assemble(
                        ip, ipay, isig[:32] + (is_int + L).to_bytes(32, "little")
                    ),
                ),
                error("signature_malformed"),
            )
        ],
    )
