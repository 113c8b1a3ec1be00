"""jose.json, part 4: the verifier's semantics over JOSE, and the factors."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from agentchain import codec
from agentchain._build import jose_parts, jose_resign
from agentchain.issuer import approve, attest
from agentchain.model import ApprovalRequirement, Descriptor
from agentchain.vectors.generator.build import (
    AUD,
    CAL,
    KEYS,
    NOW,
    chain,
    encoded_links,
    jose_present_raw,
    present,
)
from agentchain.vectors.generator.cases.jose._common import Add, b64
from agentchain.vectors.generator.suite import Suite, allow, deny, error, needs_approval, step


@dataclass(frozen=True)
class SemanticRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    changes: Any
    code: str
    spec: list[str]


@dataclass(frozen=True)
class SemanticDataRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    data: bytes
    code: str
    spec: list[str]
    flag: str
    policy: dict[str, Any]


@dataclass(frozen=True)
class FactorsRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    approvals: Any
    expected: dict[str, object]
    spec: list[str]


@dataclass(frozen=True)
class FactorsModelRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    model: str
    expected: dict[str, object]
    spec: list[str]


def semantic_cases(s: Suite, add: Add) -> None:
    """A representative handful of the spec's semantic checks, in the JOSE encoding."""
    token, h3 = chain(3, encoding="jose", label="jose-chain")
    links = encoded_links(token)
    other, _ = chain(3, encoding="jose", label="jose-other-chain", now=NOW - 60)
    other_links = encoded_links(other)
    h = {i: KEYS(f"h{i}") for i in (1, 2, 3)}
    rows: list[SemanticDataRow] = [
        SemanticDataRow(
            case_id="jose-chain-reordered",
            description="links 0, 2, 1",
            data=jose_present_raw([links[0], links[2], links[1]], h[2]),
            code="signature_invalid",
            spec=["R-7.1-2"],
            flag="chain-splice",
            policy={},
        ),
        SemanticDataRow(
            case_id="jose-chain-spliced-link",
            description="the middle link taken from another chain with the same keys",
            data=jose_present_raw([links[0], other_links[1], links[2]], h3),
            code="chain_broken",
            spec=["R-7.1-3", "R-J.6-1"],
            flag="chain-splice",
            policy={},
        ),
        SemanticDataRow(
            case_id="jose-chain-parent-rewritten",
            description="the last link's prt changed to the root's digest, re-signed by its issuer",
            data=jose_present_raw(
                [
                    links[0],
                    links[1],
                    jose_resign(links[2], h[2], {"prt": b64(hashlib.sha256(links[0]).digest())}),
                ],
                h3,
            ),
            code="chain_broken",
            spec=["R-7.1-3", "R-J.6-1"],
            flag="chain-splice",
            policy={},
        ),
        SemanticDataRow(
            case_id="jose-chain-root-untrusted",
            description="an honest chain under a policy whose only anchor is mallory",
            data=jose_present_raw(links, h3),
            code="root_untrusted",
            spec=["R-7.1-1"],
            flag="trust-anchor",
            policy={"anchors": ["mallory"]},
        ),
        SemanticDataRow(
            case_id="jose-chain-invocation-wrong-signer",
            description="the invocation signed by the middle holder",
            data=jose_present_raw(links, h[2]),
            code="signature_invalid",
            spec=["R-7.2-1"],
            flag="holder-binding",
            policy={},
        ),
        SemanticDataRow(
            case_id="jose-chain-invocation-other-chain",
            description="the invocation's chn is the digest of another chain's last link",
            data=jose_present_raw(links, h3, chain=hashlib.sha256(other_links[2]).digest()),
            code="chain_digest_mismatch",
            spec=["R-7.2-2", "R-J.6-1"],
            flag="holder-binding",
            policy={},
        ),
    ]
    # attenuation: a root of depth 1 on calendar/events /work/*; the child re-signed by h1
    att_token, att_holder = chain(
        2, encoding="jose", caps=(("calendar/events", CAL + "/work/*"),), label="jose-att"
    )
    root, child = encoded_links(att_token)
    root_exp = jose_parts(root)[1]["exp"]
    for row in (
        SemanticRow(
            case_id="jose-att-scope-widened",
            description="the child grants calendar on /* under a calendar/events /work/* root",
            changes={"cap": [["calendar", CAL + "/*"]]},
            code="scope_widened",
            spec=["R-4.3-2"],
        ),
        SemanticRow(
            case_id="jose-att-time-widened",
            description="the child expires one second after its parent",
            changes={"exp": root_exp + 1},
            code="time_widened",
            spec=["R-4.4-2"],
        ),
        SemanticRow(
            case_id="jose-att-depth-not-decreasing",
            description="the child's dep equals its parent's",
            changes={"dep": 1},
            code="depth_exceeded",
            spec=["R-4.5-1"],
        ),
    ):
        bad = jose_resign(child, h[1], row.changes)
        rows.append(
            SemanticDataRow(
                case_id=row.case_id,
                description=row.description,
                data=jose_present_raw([root, bad], att_holder),
                code=row.code,
                spec=[*row.spec, "R-8.2-3"],
                flag="attenuation",
                policy={},
            )
        )
    for data_row in rows:
        add(
            data_row.case_id,
            data_row.description,
            data_row.data,
            error(data_row.code),
            flags=[data_row.flag],
            spec=data_row.spec,
            policy=data_row.policy or None,
        )

    p = present(token, h3, label="jose-sem")
    exp = min(jose_parts(link)[1]["exp"] for link in links)
    late = present(token, h3, now=exp + 60, label="jose-late")
    add(
        "jose-time-at-exp-plus-skew",
        "invoked and verified at exp + skew: expired",
        late,
        deny("expired"),
        flags=["time-boundary"],
        spec=["R-4.4-1", "R-8.2-5"],
        now=exp + 60,
    )
    add(
        "jose-time-at-exp-plus-skew-minus-1",
        "invoked and verified at exp + skew - 1: allowed",
        present(token, h3, now=exp + 59, label="jose-late"),
        allow(),
        flags=["time-boundary"],
        spec=["R-4.4-1", "R-8.2-5"],
        now=exp + 59,
    )
    add(
        "jose-time-invocation-stale",
        "now - iat = window + skew + 1: stale",
        p,
        deny("invocation_stale"),
        flags=["time-boundary"],
        spec=["R-8.2-8"],
        now=NOW + 361,
    )
    add(
        "jose-ctx-audience-other-service",
        "an invocation made for another service",
        present(token, h3, audience="https://other.example", label="jose-sem"),
        deny("audience_mismatch"),
        flags=["audience"],
        spec=["R-8.2-7"],
    )
    add(
        "jose-ctx-request-other-action",
        "the request's action differs from the signed one",
        p,
        deny("request_mismatch"),
        flags=["request-binding"],
        spec=["R-8.2-9"],
        action="calendar/events/delete",
    )
    add(
        "jose-ctx-args-true-vs-1",
        "signed argument true (JSON), request argument 1: never equal",
        present(token, h3, args={"n": True}, label="jose-sem"),
        deny("request_mismatch"),
        flags=["request-binding", "type-strictness"],
        spec=["R-8.2-9"],
        args={"n": 1},
    )
    s.add(
        "jose-ctx-replay-same-presentation",
        "the same JOSE presentation twice: allowed, then replay",
        flags=["replay"],
        spec=["R-8.2-10"],
        steps=[step(p, allow()), step(p, deny("replay"))],
        encoding="jose",
    )
    assert p.invocation is not None
    nonce_key = hashlib.sha256(
        b"agentchain/nonce/v1" + h3.public_key.thumbprint + p.invocation.claims.nonce
    ).digest()
    add(
        "jose-ctx-replay-nonce-in-store",
        "the store already holds this JOSE invocation's nonce key",
        p,
        deny("replay"),
        flags=["replay"],
        spec=["R-8.2-10"],
        store={"used": [{"key": nonce_key.hex(), "expires_at": NOW + 361}]},
    )
    for i, name in ((0, "root"), (2, "last")):
        add(
            f"jose-rev-{name}",
            f"the {name} link is revoked by the digest of its compact text",
            p,
            deny("revoked"),
            flags=["revocation"],
            spec=["R-8.2-6", "R-J.6-1"],
            store={"revoked": [hashlib.sha256(links[i]).hexdigest()]},
        )
    cbor_token, _ = chain(3, label="jose-chain")
    add(
        "jose-rev-cbor-digest-no-effect",
        "the same logical root in CBOR is revoked: a different object, no effect",
        p,
        allow(),
        flags=["revocation", "valid"],
        spec=["R-8.2-6", "R-J.6-1"],
        store={"revoked": [cbor_token.links[0].digest.hex()]},
    )
    _factors(add)


def _factors(add: Add) -> None:
    req = ApprovalRequirement(actions=("calendar/events",))
    token, holder = chain(2, encoding="jose", require_approval=[[req]], label="jose-appr")
    digest = codec.request_digest(
        token.chain_digest, AUD, "calendar/events/read", CAL + "/work/standup", {}
    )
    other = codec.request_digest(
        token.chain_digest, AUD, "calendar/events/read", CAL + "/work/standup", {"x": 1}
    )
    alice = KEYS("alice")
    for row in (
        FactorsRow(
            case_id="jose-appr-needed-none",
            description="approval required, none attached: needs_approval",
            approvals=(),
            expected=needs_approval(),
            spec=["R-9.2-1", "R-9.2-9"],
        ),
        FactorsRow(
            case_id="jose-appr-granted",
            description="a JOSE approval for this exact request",
            approvals=(approve(alice, digest, now=NOW, encoding="jose"),),
            expected=allow(),
            spec=["R-9.2-5", "R-9.2-6"],
        ),
        FactorsRow(
            case_id="jose-appr-for-another-invocation",
            description="a JOSE approval of the same action with other arguments",
            approvals=(approve(alice, other, now=NOW, encoding="jose"),),
            expected=deny("approval_mismatch"),
            spec=["R-9.2-5", "R-9.2-8"],
        ),
    ):
        add(
            row.case_id,
            row.description,
            present(token, holder, approvals=row.approvals, label="jose-appr"),
            row.expected,
            flags=["approval"],
            spec=[*row.spec, "R-8.2-20"],
            features=["approval"],
        )
    code = {"sha256": b"\xc0" * 32}
    desc = Descriptor(kind="agent", name="https://agents.example/h1", code=code, model="m-1")
    token, h1 = chain(1, encoding="jose", descriptors=[desc], label="jose-att-x")
    attester = KEYS("attester")
    pol = {"attesters": ["attester"], "attestation_required": ["calendar"]}
    for model_row in (
        FactorsModelRow(
            case_id="jose-attest-required-proven",
            description="a trusted JOSE attestation proves the declared code and model",
            model="m-1",
            expected=allow(),
            spec=["R-9.1-6"],
        ),
        FactorsModelRow(
            case_id="jose-attest-model-contradiction",
            description="a trusted JOSE attestation names another model than the descriptor",
            model="m-2",
            expected=deny("attestation_mismatch"),
            spec=["R-9.1-5"],
        ),
    ):
        att = attest(
            attester, h1.public_key, code=code, model=model_row.model, now=NOW, encoding="jose"
        )
        add(
            model_row.case_id,
            model_row.description,
            present(token, h1, attestations=[att], label="jose-att"),
            model_row.expected,
            flags=["attestation"],
            spec=[*model_row.spec, "R-8.2-19"],
            policy=pol,
            features=["attestation"],
        )
