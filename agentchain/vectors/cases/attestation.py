"""attestation.json: the attested-provenance factor."""

from __future__ import annotations

from typing import Any

from agentchain import codec
from agentchain._build import claims_of, sign1_parts, with_signature
from agentchain.issuer import attest
from agentchain.model import Descriptor
from agentchain.vectors.build import KEYS, NOW, chain, encoded_links, present, present_raw
from agentchain.vectors.suite import Suite, allow, deny, error, step


def add_cases(s: Suite) -> None:
    code = {"sha256": b"\xc0" * 32}
    desc = Descriptor(kind="agent", name="https://agents.example/h1", code=code, model="m-1")
    token, holder = chain(1, descriptors=[desc], label="att-x")
    att_key = KEYS("attester")
    pol = {"attesters": ["attester"], "attestation_required": ["calendar"]}

    def att(**kw: Any) -> codec.Attestation:
        base: dict[str, Any] = {"code": code, "model": "m-1", "now": NOW}
        base.update(kw)
        signer = base.pop("signer", att_key)
        subject = base.pop("subject", holder.public_key)
        return attest(signer, subject, **base)

    def pres(*atts: codec.Attestation, label: str = "att") -> codec.Presentation:
        return present(token, holder, attestations=atts, label=label)

    feats = ["attestation"]
    rows: list[tuple[str, str, Any, dict[str, object], dict[str, Any], list[str]]] = [
        (
            "attest-required-proven",
            "required, and a current trusted attestation proves code and model",
            pres(att()),
            allow(),
            pol,
            ["R-9.1-6"],
        ),
        (
            "attest-required-missing",
            "required, none attached",
            pres(),
            deny("attestation_missing"),
            pol,
            ["R-9.1-7"],
        ),
        (
            "attest-required-expired",
            "required, the only attestation expired",
            pres(att(now=NOW - 700)),
            deny("attestation_expired"),
            pol,
            ["R-9.1-4", "R-9.1-7"],
        ),
        (
            "attest-required-too-long",
            "required, an attestation lasting longer than max_attachment_ttl",
            pres(att(ttl=3601)),
            deny("attestation_expired"),
            pol,
            ["R-9.1-4"],
        ),
        (
            "attest-required-partial",
            "required, the attestation lacks the declared model",
            pres(att(model=None)),
            deny("attestation_mismatch"),
            pol,
            ["R-9.1-6", "R-9.1-7"],
        ),
        (
            "attest-contradiction-not-required",
            "not required, but a trusted attestation contradicts the code",
            pres(att(code={"sha256": b"\xba" * 32})),
            deny("attestation_mismatch"),
            {"attesters": ["attester"]},
            ["R-9.1-5"],
        ),
        (
            "attest-model-contradiction",
            "a trusted attestation names another model",
            pres(att(model="m-2")),
            deny("attestation_mismatch"),
            {"attesters": ["attester"]},
            ["R-9.1-5"],
        ),
        (
            "attest-untrusted-ignored",
            "an untrusted attester contradicting: ignored",
            pres(att(signer=KEYS("mallory"), code={"sha256": b"\xbb" * 32})),
            allow(),
            {"attesters": ["attester"]},
            ["R-9.1-2", "R-8.2-17"],
        ),
        (
            "attest-untrusted-does-not-prove",
            "required, only an untrusted attester's attestation",
            pres(att(signer=KEYS("mallory"))),
            deny("attestation_missing"),
            pol,
            ["R-9.1-2"],
        ),
        (
            "attest-other-subject",
            "required, the attestation is of another key",
            pres(att(subject=KEYS("mallory").public_key)),
            deny("attestation_missing"),
            pol,
            ["R-9.1-3"],
        ),
        (
            "attest-not-required-none",
            "not required, none attached",
            pres(),
            allow(),
            {"attesters": ["attester"]},
            ["R-8.2-19"],
        ),
        (
            "attest-required-pattern-other",
            "required for mail only: calendar passes",
            pres(),
            allow(),
            {"attesters": ["attester"], "attestation_required": ["mail"]},
            ["R-9.1-6"],
        ),
    ]
    for case_id, description, p, expected, policy_, rids in rows:
        s.add(
            case_id,
            description,
            flags=["attestation"],
            spec=[*rids, "R-8.2-19"],
            steps=[step(p, expected)],
            policy=policy_,
            features=feats,
        )
    good = att()
    gsig = sign1_parts(good.encoded)[2]
    forged = with_signature(good.encoded, gsig[:40] + bytes([gsig[40] ^ 1]) + gsig[41:])
    s.add(
        "attest-forged-trusted",
        "an attestation naming a trusted attester with a bad signature: an error",
        flags=["attestation", "signature-forgery"],
        spec=["R-8.2-17"],
        steps=[
            step(
                present_raw(encoded_links(token), holder, attestations=[forged]),
                error("signature_invalid"),
            )
        ],
        policy=pol,
        features=feats,
    )
    # attestation claims
    link = encoded_links(token)
    base = claims_of(good.encoded)
    crow = [
        ("attest-claims-unknown-key", "attestation claim 9", {**base, 9: 0}, "unknown_field"),
        (
            "attest-claims-empty-window",
            "attestation exp = iat",
            {**base, 5: base[4]},
            "time_invalid",
        ),
        (
            "attest-claims-nothing-attested",
            "attestation without code, model or config",
            {k: v for k, v in base.items() if k not in (6, 7, 8)},
            "schema_invalid",
        ),
        ("attest-claims-version-2", "attestation version 2", {**base, 1: 2}, "version_unsupported"),
    ]
    for case_id, description, claims, code_ in crow:
        data = codec.sign_object(att_key, codec.TYP_ATTESTATION, claims)
        s.add(
            case_id,
            description,
            flags=["attestation", "claims-schema"],
            spec=["R-9.1-1", "R-5.8-4"],
            steps=[step(present_raw(link, holder, attestations=[data]), error(code_))],
            policy=pol,
            features=feats,
        )
