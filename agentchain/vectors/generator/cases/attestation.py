"""attestation.json: the attested-provenance factor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentchain import codec
from agentchain._build import claims_of, sign1_parts, with_signature
from agentchain.issuer import attest
from agentchain.model import Descriptor
from agentchain.vectors.generator.build import KEYS, NOW, chain, encoded_links, present, present_raw
from agentchain.vectors.generator.suite import Suite, allow, deny, error, step


@dataclass(frozen=True)
class AttestationRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    p: Any
    expected: dict[str, object]
    policy: dict[str, Any]
    spec: list[str]


@dataclass(frozen=True)
class AttestationClaimsRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    claims: Any
    code: str


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
    rows: list[AttestationRow] = [
        AttestationRow(
            case_id="attest-required-proven",
            description="required, and a current trusted attestation proves code and model",
            p=pres(att()),
            expected=allow(),
            policy=pol,
            spec=["R-9.1-6"],
        ),
        AttestationRow(
            case_id="attest-required-missing",
            description="required, none attached",
            p=pres(),
            expected=deny("attestation_missing"),
            policy=pol,
            spec=["R-9.1-7"],
        ),
        AttestationRow(
            case_id="attest-required-expired",
            description="required, the only attestation expired",
            p=pres(att(now=NOW - 700)),
            expected=deny("attestation_expired"),
            policy=pol,
            spec=["R-9.1-4", "R-9.1-7"],
        ),
        AttestationRow(
            case_id="attest-required-too-long",
            description="required, an attestation lasting longer than max_attachment_ttl",
            p=pres(att(ttl=3601)),
            expected=deny("attestation_expired"),
            policy=pol,
            spec=["R-9.1-4"],
        ),
        AttestationRow(
            case_id="attest-required-partial",
            description="required, the attestation lacks the declared model",
            p=pres(att(model=None)),
            expected=deny("attestation_mismatch"),
            policy=pol,
            spec=["R-9.1-6", "R-9.1-7"],
        ),
        AttestationRow(
            case_id="attest-contradiction-not-required",
            description="not required, but a trusted attestation contradicts the code",
            p=pres(att(code={"sha256": b"\xba" * 32})),
            expected=deny("attestation_mismatch"),
            policy={"attesters": ["attester"]},
            spec=["R-9.1-5"],
        ),
        AttestationRow(
            case_id="attest-no-shared-algorithm-contradicts",
            description="not required; the link declares a sha256 code digest, a trusted "
            "attestation only a sha512 one: sets that share no algorithm do not agree, so they "
            "contradict (attestation_mismatch, not allow)",
            p=pres(att(code={"sha512": b"\xc0" * 64})),
            expected=deny("attestation_mismatch"),
            policy={"attesters": ["attester"]},
            spec=["R-9.1-5"],
        ),
        AttestationRow(
            case_id="attest-required-ttl-at-max",
            description="required, an attestation lasting exactly max_attachment_ttl (3600 s): "
            "current, the bound is <=",
            p=pres(att(ttl=3600)),
            expected=allow(),
            policy=pol,
            spec=["R-9.1-4"],
        ),
        AttestationRow(
            case_id="attest-model-contradiction",
            description="a trusted attestation names another model",
            p=pres(att(model="m-2")),
            expected=deny("attestation_mismatch"),
            policy={"attesters": ["attester"]},
            spec=["R-9.1-5"],
        ),
        AttestationRow(
            case_id="attest-untrusted-ignored",
            description="an untrusted attester contradicting: ignored",
            p=pres(att(signer=KEYS("mallory"), code={"sha256": b"\xbb" * 32})),
            expected=allow(),
            policy={"attesters": ["attester"]},
            spec=["R-9.1-2", "R-8.2-17"],
        ),
        AttestationRow(
            case_id="attest-untrusted-does-not-prove",
            description="required, only an untrusted attester's attestation",
            p=pres(att(signer=KEYS("mallory"))),
            expected=deny("attestation_missing"),
            policy=pol,
            spec=["R-9.1-2"],
        ),
        AttestationRow(
            case_id="attest-other-subject",
            description="required, the attestation is of another key",
            p=pres(att(subject=KEYS("mallory").public_key)),
            expected=deny("attestation_missing"),
            policy=pol,
            spec=["R-9.1-3"],
        ),
        AttestationRow(
            case_id="attest-not-required-none",
            description="not required, none attached",
            p=pres(),
            expected=allow(),
            policy={"attesters": ["attester"]},
            spec=["R-8.2-19"],
        ),
        AttestationRow(
            case_id="attest-required-pattern-other",
            description="required for mail only: calendar passes",
            p=pres(),
            expected=allow(),
            policy={"attesters": ["attester"], "attestation_required": ["mail"]},
            spec=["R-9.1-6"],
        ),
    ]
    for row in rows:
        s.add(
            row.case_id,
            row.description,
            flags=["attestation"],
            spec=[*row.spec, "R-8.2-19"],
            steps=[step(row.p, row.expected)],
            policy=row.policy,
            features=feats,
        )
    _every_link_cases(s, att_key)
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
        AttestationClaimsRow(
            case_id="attest-claims-unknown-key",
            description="attestation claim 9",
            claims={**base, 9: 0},
            code="unknown_field",
        ),
        AttestationClaimsRow(
            case_id="attest-claims-empty-window",
            description="attestation exp = iat",
            claims={**base, 5: base[4]},
            code="time_invalid",
        ),
        AttestationClaimsRow(
            case_id="attest-claims-nothing-attested",
            description="attestation without code, model or config",
            claims={k: v for k, v in base.items() if k not in (6, 7, 8)},
            code="schema_invalid",
        ),
        AttestationClaimsRow(
            case_id="attest-claims-version-2",
            description="attestation version 2",
            claims={**base, 1: 2},
            code="version_unsupported",
        ),
    ]
    for claims_row in crow:
        data = codec.sign_object(att_key, codec.TYP_ATTESTATION, claims_row.claims)
        s.add(
            claims_row.case_id,
            claims_row.description,
            flags=["attestation", "claims-schema"],
            spec=["R-9.1-1", "R-5.8-4"],
            steps=[step(present_raw(link, holder, attestations=[data]), error(claims_row.code))],
            policy=pol,
            features=feats,
        )


def _every_link_cases(s: Suite, att_key: Any) -> None:
    """spec 9.1 R-9.1-5: a contradiction is looked for on every principal, not the last only."""
    first = Descriptor(kind="agent", name="planner", code={"sha256": b"\xa1" * 32})
    last = Descriptor(kind="tool", name="search", code={"sha256": b"\xa2" * 32})
    token, holder = chain(2, descriptors=[first, last], label="att-every")
    middle = token.links[0].claims.holder  # the holder of link 0: principal 1 of 3
    honest_last = attest(att_key, holder.public_key, code={"sha256": b"\xa2" * 32}, now=NOW)
    lying_middle = attest(att_key, middle, code={"sha256": b"\xb1" * 32}, now=NOW)
    s.add(
        "attest-contradiction-middle-link",
        "a trusted attestation of the middle principal contradicts what link 0 declared, while "
        "the last holder's attestation agrees: attestation_mismatch (every link is checked)",
        flags=["attestation"],
        spec=["R-9.1-5", "R-8.2-19"],
        steps=[
            step(
                present(token, holder, attestations=[honest_last, lying_middle], label="att-e"),
                deny("attestation_mismatch"),
            )
        ],
        policy={"attesters": ["attester"]},
        features=["attestation"],
    )
