"""signature.json: keys, curves and signatures that must not verify."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from agentchain import codec
from agentchain._build import sign1_parts, sign_raw, with_signature
from agentchain.crypto import EDDSA, ES256
from agentchain.vectors.generator.build import chain, invocation_claims, present, present_raw
from agentchain.vectors.generator.cases._common import (
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
from agentchain.vectors.generator.suite import Suite, allow, error, step
from agentchain.wire import cose


@dataclass(frozen=True)
class SignatureRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    new: bytes
    code: str
    spec: list[str]
    flag: str


@dataclass(frozen=True)
class SignatureKeyRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    raw: Any
    spec: str


@dataclass(frozen=True)
class SignatureEs256Row:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    new: bytes
    code: str
    spec: str
    flag: str


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
    rows: list[SignatureRow] = [
        SignatureRow(
            case_id="sig-ed25519-length-63",
            description="a 63-byte signature",
            new=sig[:63],
            code="signature_malformed",
            spec=["R-3.4-1"],
            flag="signature-length",
        ),
        SignatureRow(
            case_id="sig-ed25519-length-65",
            description="a 65-byte signature",
            new=sig + b"\x00",
            code="signature_malformed",
            spec=["R-3.4-1"],
            flag="signature-length",
        ),
        SignatureRow(
            case_id="sig-ed25519-empty",
            description="an empty signature",
            new=b"",
            code="signature_malformed",
            spec=["R-3.4-1"],
            flag="signature-length",
        ),
        SignatureRow(
            case_id="sig-ed25519-s-plus-l",
            description="S + L: the same signature, re-spelled (malleability)",
            new=r + (s_int + L).to_bytes(32, "little"),
            code="signature_malformed",
            spec=["R-3.4-2"],
            flag="ed25519-strict",
        ),
        SignatureRow(
            case_id="sig-ed25519-s-equals-l",
            description="S = L",
            new=r + L.to_bytes(32, "little"),
            code="signature_malformed",
            spec=["R-3.4-2"],
            flag="ed25519-strict",
        ),
        SignatureRow(
            case_id="sig-ed25519-s-all-ones",
            description="S = 2^256 - 1",
            new=r + b"\xff" * 32,
            code="signature_malformed",
            spec=["R-3.4-2"],
            flag="ed25519-strict",
        ),
        SignatureRow(
            case_id="sig-ed25519-r-noncanonical-y",
            description="R with y = p + 1 (non-canonical)",
            new=noncanon_r + s_bytes,
            code="signature_malformed",
            spec=["R-3.4-3"],
            flag="ed25519-strict",
        ),
        SignatureRow(
            case_id="sig-ed25519-r-noncanonical-sign",
            description="R = y 1 with the sign bit set (x = 0)",
            new=bytes.fromhex(SMALL_ORDER["identity"])[:31] + b"\x80" + s_bytes,
            code="signature_malformed",
            spec=["R-3.4-3"],
            flag="ed25519-strict",
        ),
        SignatureRow(
            case_id="sig-ed25519-r-off-curve",
            description="R not a curve point: fails the equation",
            new=_ed_off_curve() + s_bytes,
            code="signature_invalid",
            spec=["R-3.4-6"],
            flag="signature-forgery",
        ),
        SignatureRow(
            case_id="sig-ed25519-bit-flip",
            description="one bit of S flipped",
            new=flip,
            code="signature_invalid",
            spec=["R-3.4-6", "R-7.1-4"],
            flag="signature-forgery",
        ),
        SignatureRow(
            case_id="sig-ed25519-identity-zero",
            description="R = identity, S = 0 (verifies under OpenSSL for small-order keys)",
            new=bytes.fromhex(SMALL_ORDER["identity"]) + bytes(32),
            code="signature_malformed",
            spec=["R-3.4-4"],
            flag="ed25519-strict",
        ),
    ]
    for name, enc_hex in SMALL_ORDER.items():
        rows.append(
            SignatureRow(
                case_id=f"sig-ed25519-r-small-order-{name}",
                description=f"R of small order ({name})",
                new=bytes.fromhex(enc_hex) + s_bytes,
                code="signature_malformed",
                spec=["R-3.4-4"],
                flag="ed25519-strict",
            )
        )
    with_sign = bytes.fromhex(SMALL_ORDER["order8a"])[:31] + bytes(
        [bytes.fromhex(SMALL_ORDER["order8a"])[31] | 0x80]
    )
    rows.append(
        SignatureRow(
            case_id="sig-ed25519-r-small-order-order8a-neg",
            description="R of order 8, the other sign of x",
            new=with_sign + s_bytes,
            code="signature_malformed",
            spec=["R-3.4-4"],
            flag="ed25519-strict",
        )
    )
    for row in rows:
        s.add(
            row.case_id,
            row.description,
            flags=[row.flag],
            spec=[*row.spec, "R-7.1-4", "R-8.2-3"],
            steps=[step(with_sig(row.new), error(row.code))],
        )

    # small-order and non-canonical public keys A (the holder key a link names)
    okp = {1: 1, -1: 6}
    keys_rows = [
        SignatureKeyRow(
            case_id=f"key-ed25519-small-order-{n}",
            description=f"holder key of small order ({n})",
            raw=bytes.fromhex(h),
            spec="R-3.4-4",
        )
        for n, h in SMALL_ORDER.items()
    ]
    keys_rows += [
        SignatureKeyRow(
            case_id="key-ed25519-noncanonical-y",
            description="holder key with y = p (non-canonical)",
            raw=P.to_bytes(32, "little"),
            spec="R-3.4-3",
        ),
        SignatureKeyRow(
            case_id="key-ed25519-noncanonical-sign",
            description="holder key y = p - 1 with the sign bit set (x = 0)",
            raw=bytes.fromhex(SMALL_ORDER["p-minus-1"])[:31] + b"\xff",
            spec="R-3.4-3",
        ),
        SignatureKeyRow(
            case_id="key-ed25519-off-curve",
            description="holder key that is not a curve point",
            raw=_ed_off_curve(),
            spec="R-3.4-5",
        ),
    ]
    for key_row in keys_rows:
        s.add(
            key_row.case_id,
            key_row.description,
            flags=["key-validation", "ed25519-strict"],
            spec=[key_row.spec, "R-8.2-2"],
            steps=[step(mutated_link({3: {**okp, -2: key_row.raw}}), error("key_invalid"))],
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
    erows: list[SignatureEs256Row] = [
        SignatureEs256Row(
            case_id="sig-es256-high-s",
            description="(r, n - s): mathematically valid, refused by the low-S rule",
            new=rs(er, N256 - es),
            code="signature_malformed",
            spec="R-3.5-3",
            flag="ecdsa-malleability",
        ),
        SignatureEs256Row(
            case_id="sig-es256-r-zero",
            description="r = 0",
            new=rs(0, es),
            code="signature_malformed",
            spec="R-3.5-2",
            flag="ecdsa-malleability",
        ),
        SignatureEs256Row(
            case_id="sig-es256-s-zero",
            description="s = 0",
            new=rs(er, 0),
            code="signature_malformed",
            spec="R-3.5-2",
            flag="ecdsa-malleability",
        ),
        SignatureEs256Row(
            case_id="sig-es256-r-equals-n",
            description="r = n",
            new=rs(N256, es),
            code="signature_malformed",
            spec="R-3.5-2",
            flag="ecdsa-malleability",
        ),
        SignatureEs256Row(
            case_id="sig-es256-s-equals-n",
            description="s = n",
            new=rs(er, N256),
            code="signature_malformed",
            spec="R-3.5-2",
            flag="ecdsa-malleability",
        ),
        SignatureEs256Row(
            case_id="sig-es256-der",
            description="the signature in DER (70 bytes)",
            new=der,
            code="signature_malformed",
            spec="R-3.5-1",
            flag="signature-length",
        ),
        SignatureEs256Row(
            case_id="sig-es256-length-63",
            description="a 63-byte r || s",
            new=esig[:63],
            code="signature_malformed",
            spec="R-3.4-1",
            flag="signature-length",
        ),
        SignatureEs256Row(
            case_id="sig-es256-bit-flip",
            description="one bit of s flipped",
            new=esig[:40] + bytes([esig[40] ^ 1]) + esig[41:],
            code="signature_invalid",
            spec="R-7.1-4",
            flag="signature-forgery",
        ),
    ]
    # keep the flip inside the low half so that only the equation fails
    assert es < (N256 - 1) // 2 and es ^ (1 << 8 * 23) <= (N256 - 1) // 2
    for es256_row in erows:
        s.add(
            es256_row.case_id,
            es256_row.description,
            flags=[es256_row.flag],
            spec=[es256_row.spec, "R-8.2-3"],
            steps=[step(ewith(es256_row.new), error(es256_row.code))],
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
    # R-3.1-3: the subset is judged in V2/V3, so any decode error (V1) wins over it
    bad_inv = codec.sign_object(
        holder,
        codec.TYP_INVOCATION,
        {**invocation_claims(hashlib.sha256(link).digest()), 99: 0},
    )
    s.add(
        "alg-not-in-policy-after-decode",
        "an EdDSA chain at a verifier that allows only ES256, whose invocation has an unknown "
        "claim 99: the decode error (V1, unknown_field) wins over the algorithm (V2)",
        flags=["alg-confusion", "precedence"],
        spec=["R-3.1-3", "R-8.2-2"],
        steps=[step(present_raw([link], holder, invocation=bad_inv), error("unknown_field"))],
        policy={"algorithms": [ES256]},
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
