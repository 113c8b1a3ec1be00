"""wire.json, part 3: the claims of a link."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from agentchain.crypto import ES256
from agentchain.vectors.generator.build import (
    CAL,
    KEYS,
    invocation_claims,
    present_raw,
    sign_invocation,
)
from agentchain.vectors.generator.cases._common import mutated_link, one_link
from agentchain.vectors.generator.suite import Suite, error, step


@dataclass(frozen=True)
class ClaimRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    changes: dict[Any, object]
    drop: tuple[int, ...]
    code: str
    spec: list[str]


@dataclass(frozen=True)
class ClaimInvRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    changes: dict[Any, object]
    drop: tuple[int, ...]
    code: str
    spec: str


def claim_cases(s: Suite) -> None:
    okp = {1: 1, -1: 6, -2: b"\x00" * 32}
    p256 = KEYS("h1", ES256).public_key.to_cose_key()
    rows: list[ClaimRow] = [
        ClaimRow(
            case_id="claims-link-unknown-key",
            description="link claim 16: unassigned in 0.2 (key 15 holds both usage limits and "
            "novelty)",
            changes={16: 0},
            drop=(),
            code="unknown_field",
            spec=["R-5.5-1"],
        ),
        ClaimRow(
            case_id="claims-link-text-key",
            description="link claim keyed by text",
            changes={"x": 0},
            drop=(),
            code="unknown_field",
            spec=["R-5.5-1"],
        ),
        ClaimRow(
            case_id="claims-link-version-3",
            description="link version 3",
            changes={1: 3},
            drop=(),
            code="version_unsupported",
            spec=["R-5.5-2"],
        ),
        ClaimRow(
            case_id="claims-link-version-1",
            description="an 0.1 link (version 1) under protocol 0.2",
            changes={1: 1},
            drop=(),
            code="version_unsupported",
            spec=["R-5.5-2"],
        ),
        ClaimRow(
            case_id="claims-link-version-3-unknown-key",
            description="link version 3 with an unknown claim 99",
            changes={1: 3, 99: 0},
            drop=(),
            code="version_unsupported",
            spec=["R-5.5-3"],
        ),
        ClaimRow(
            case_id="claims-link-version-missing-unknown-key",
            description="a link without version and with an unknown claim 99: the version is "
            "checked first (schema_invalid, not unknown_field)",
            changes={99: 0},
            drop=(1,),
            code="schema_invalid",
            spec=["R-5.8-7", "R-5.5-3"],
        ),
        ClaimRow(
            case_id="claims-link-version-bool",
            description="link version true (1 in languages where true == 1): a mistyped "
            "version is schema_invalid, not version_unsupported",
            changes={1: True},
            drop=(),
            code="schema_invalid",
            spec=["R-5.8-7"],
        ),
        ClaimRow(
            case_id="claims-link-issuer-missing",
            description="link without issuer",
            changes={},
            drop=(2,),
            code="schema_invalid",
            spec=["R-5.5-4"],
        ),
        ClaimRow(
            case_id="claims-link-descriptor-missing",
            description="link without descriptor",
            changes={},
            drop=(13,),
            code="schema_invalid",
            spec=["R-5.5-4"],
        ),
        ClaimRow(
            case_id="claims-link-iat-bool",
            description="link iat true",
            changes={6: True},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-4"],
        ),
        ClaimRow(
            case_id="claims-link-purpose-null",
            description="optional purpose present as null",
            changes={12: None},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-4"],
        ),
        ClaimRow(
            case_id="claims-link-purpose-empty",
            description="purpose as empty text",
            changes={12: ""},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-4"],
        ),
        ClaimRow(
            case_id="claims-link-id-0-1",
            description="an 0.1 link id (key 5, withdrawn in 0.2)",
            changes={5: b"\x01" * 16},
            drop=(),
            code="unknown_field",
            spec=["R-5.5-1"],
        ),
        ClaimRow(
            case_id="claims-link-exp-too-large",
            description="exp 2^53",
            changes={8: 2**53},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-4"],
        ),
        ClaimRow(
            case_id="claims-link-depth-256",
            description="depth 256",
            changes={11: 256},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-4"],
        ),
        ClaimRow(
            case_id="claims-link-negative-nbf",
            description="nbf -1",
            changes={7: -1},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-4"],
        ),
        ClaimRow(
            case_id="claims-link-capabilities-empty",
            description="no capabilities",
            changes={9: []},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-5"],
        ),
        ClaimRow(
            case_id="claims-link-capability-three-items",
            description="a capability of three items",
            changes={9: [["calendar", CAL + "/*", "x"]]},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-5"],
        ),
        ClaimRow(
            case_id="claims-action-empty-segment",
            description="action calendar//events",
            changes={9: [["calendar//events", "*"]]},
            drop=(),
            code="schema_invalid",
            spec=["R-4.1-1"],
        ),
        ClaimRow(
            case_id="claims-action-trailing-slash",
            description="action calendar/",
            changes={9: [["calendar/", "*"]]},
            drop=(),
            code="schema_invalid",
            spec=["R-4.1-1"],
        ),
        ClaimRow(
            case_id="claims-action-inner-star",
            description="action calendar/*",
            changes={9: [["calendar/*", "*"]]},
            drop=(),
            code="schema_invalid",
            spec=["R-4.1-1"],
        ),
        ClaimRow(
            case_id="claims-action-space",
            description="action with a space",
            changes={9: [["calendar events", "*"]]},
            drop=(),
            code="schema_invalid",
            spec=["R-4.1-1"],
        ),
        ClaimRow(
            case_id="claims-resource-no-scheme",
            description="resource without a scheme",
            changes={9: [["calendar", "/alice/*"]]},
            drop=(),
            code="resource_invalid",
            spec=["R-4.2-1"],
        ),
        ClaimRow(
            case_id="claims-resource-space",
            description="resource with a space",
            changes={9: [["calendar", "https://cal.example/a b"]]},
            drop=(),
            code="resource_invalid",
            spec=["R-4.2-1"],
        ),
        ClaimRow(
            case_id="claims-resource-backslash",
            description="resource with a backslash",
            changes={9: [["calendar", "https://cal.example/a\\b"]]},
            drop=(),
            code="resource_invalid",
            spec=["R-4.2-1"],
        ),
        ClaimRow(
            case_id="claims-resource-dot-dot",
            description="resource with a .. segment",
            changes={9: [["calendar", CAL + "/../bob/*"]]},
            drop=(),
            code="resource_invalid",
            spec=["R-4.2-2"],
        ),
        ClaimRow(
            case_id="claims-resource-dot-in-query",
            description="resource whose query is a . segment",
            changes={9: [["calendar", CAL + "/x?/./y"]]},
            drop=(),
            code="resource_invalid",
            spec=["R-4.2-2"],
        ),
        ClaimRow(
            case_id="claims-resource-encoded-dot",
            description="resource with %2E",
            changes={9: [["calendar", CAL + "/%2E%2E/bob"]]},
            drop=(),
            code="resource_invalid",
            spec=["R-4.2-3"],
        ),
        ClaimRow(
            case_id="claims-resource-encoded-slash",
            description="resource with %2f",
            changes={9: [["calendar", CAL + "%2fbob"]]},
            drop=(),
            code="resource_invalid",
            spec=["R-4.2-3"],
        ),
        ClaimRow(
            case_id="claims-resource-upper-case-scheme",
            description="resource pattern HTTPS://cal.example/alice/*",
            changes={9: [["calendar", "HTTPS://cal.example/alice/*"]]},
            drop=(),
            code="resource_invalid",
            spec=["R-4.2-6"],
        ),
        ClaimRow(
            case_id="claims-resource-upper-case-host",
            description="resource pattern https://CAL.example/alice/*",
            changes={9: [["calendar", "https://CAL.example/alice/*"]]},
            drop=(),
            code="resource_invalid",
            spec=["R-4.2-7"],
        ),
        ClaimRow(
            case_id="claims-resource-inner-star",
            description="resource pattern with an inner *",
            changes={9: [["calendar", CAL + "/*/x"]]},
            drop=(),
            code="resource_invalid",
            spec=["R-4.2-4"],
        ),
        ClaimRow(
            case_id="claims-resource-bare-slash-star",
            description="resource pattern /* with an empty prefix",
            changes={9: [["calendar", "/*"]]},
            drop=(),
            code="resource_invalid",
            spec=["R-4.2-4"],
        ),
        ClaimRow(
            case_id="claims-descriptor-unknown-key",
            description="descriptor key 6",
            changes={13: {1: "agent", 6: 0}},
            drop=(),
            code="unknown_field",
            spec=["R-5.5-6"],
        ),
        ClaimRow(
            case_id="claims-descriptor-kind",
            description="descriptor kind robot",
            changes={13: {1: "robot"}},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-6"],
        ),
        ClaimRow(
            case_id="claims-descriptor-name-long",
            description="descriptor name of 257 characters",
            changes={13: {1: "agent", 2: "n" * 257}},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-6"],
        ),
        ClaimRow(
            case_id="claims-digest-set-empty",
            description="an empty code digest set",
            changes={13: {1: "agent", 3: {}}},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-7"],
        ),
        ClaimRow(
            case_id="claims-digest-set-name",
            description="a digest algorithm named SHA256",
            changes={13: {1: "agent", 3: {"SHA256": b"\x01" * 32}}},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-7"],
        ),
        ClaimRow(
            case_id="claims-digest-set-short",
            description="a 15-byte digest",
            changes={13: {1: "agent", 3: {"sha256": b"\x01" * 15}}},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-7"],
        ),
        ClaimRow(
            case_id="claims-digest-set-nine",
            description="a digest set of nine entries",
            changes={13: {1: "agent", 3: {f"a{i}": b"\x01" * 32 for i in range(9)}}},
            drop=(),
            code="limit_exceeded",
            spec=["R-5.5-7"],
        ),
        ClaimRow(
            case_id="claims-scoped-caveat-unknown-key",
            description="a scoped caveat with key 3",
            changes={10: [{1: ["==", ".a", 1], 2: ["calendar"], 3: 0}]},
            drop=(),
            code="unknown_field",
            spec=["R-5.5-8"],
        ),
        ClaimRow(
            case_id="claims-scoped-caveat-no-actions",
            description="a scoped caveat with an empty actions list",
            changes={10: [{1: ["==", ".a", 1], 2: []}]},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-8"],
        ),
        ClaimRow(
            case_id="claims-scoped-caveat-too-many-actions",
            description="a scoped caveat naming max_capabilities + 1 = 33 actions: "
            "limit_exceeded, as in an approval requirement (not schema_invalid)",
            changes={10: [{1: ["==", ".a", 1], 2: [f"a{i}" for i in range(33)]}]},
            drop=(),
            code="limit_exceeded",
            spec=["R-5.5-8"],
        ),
        ClaimRow(
            case_id="claims-approval-requirement-too-many-actions",
            description="an approval requirement naming 33 actions: limit_exceeded",
            changes={14: [{2: [f"a{i}" for i in range(33)]}]},
            drop=(),
            code="limit_exceeded",
            spec=["R-5.5-9"],
        ),
        ClaimRow(
            case_id="claims-scoped-caveat-bad-action",
            description="a scoped caveat naming action a//b",
            changes={10: [{1: ["==", ".a", 1], 2: ["a//b"]}]},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-8"],
        ),
        ClaimRow(
            case_id="claims-approvals-empty",
            description="an empty approval requirements array",
            changes={14: []},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-9"],
        ),
        ClaimRow(
            case_id="claims-approval-requirement-unknown-key",
            description="an approval requirement with key 4",
            changes={14: [{4: 0}]},
            drop=(),
            code="unknown_field",
            spec=["R-5.5-9"],
        ),
        ClaimRow(
            case_id="claims-approval-requirement-empty-actions",
            description="an approval requirement with no actions",
            changes={14: [{2: []}]},
            drop=(),
            code="schema_invalid",
            spec=["R-5.5-9"],
        ),
        ClaimRow(
            case_id="claims-holder-alg-label",
            description="holder COSE_Key with an alg label",
            changes={3: {**okp, 3: -8, -2: KEYS("h1").public_key.raw()}},
            drop=(),
            code="key_invalid",
            spec=["R-3.3-1"],
        ),
        ClaimRow(
            case_id="claims-holder-private-d",
            description="holder COSE_Key with a private d",
            changes={3: {**okp, -4: b"\x01" * 32, -2: KEYS("h1").public_key.raw()}},
            drop=(),
            code="key_invalid",
            spec=["R-3.3-1"],
        ),
        ClaimRow(
            case_id="claims-holder-short-x",
            description="holder Ed25519 x of 31 bytes",
            changes={3: {**okp, -2: b"\x01" * 31}},
            drop=(),
            code="key_invalid",
            spec=["R-3.3-1"],
        ),
        ClaimRow(
            case_id="claims-holder-kty-rsa",
            description="holder COSE_Key of kty RSA (3)",
            changes={3: {1: 3, -1: b"\x01", -2: b"\x01"}},
            drop=(),
            code="alg_not_allowed",
            spec=["R-3.3-2"],
        ),
        ClaimRow(
            case_id="claims-holder-x25519-with-alg-label",
            description="holder OKP key on X25519 (crv 4) with an alg label: kty and crv are "
            "judged before the label set (alg_not_allowed, not key_invalid)",
            changes={3: {**okp, -1: 4, 3: -8, -2: KEYS("h1").public_key.raw()}},
            drop=(),
            code="alg_not_allowed",
            spec=["R-3.3-5"],
        ),
        ClaimRow(
            case_id="claims-holder-x25519",
            description="holder OKP key on X25519 (crv 4)",
            changes={3: {**okp, -1: 4, -2: KEYS("h1").public_key.raw()}},
            drop=(),
            code="alg_not_allowed",
            spec=["R-3.3-2"],
        ),
        ClaimRow(
            case_id="claims-holder-p256-off-curve",
            description="holder P-256 point not on the curve",
            changes={3: {**p256, -3: bytes(31) + b"\x01"}},
            drop=(),
            code="key_invalid",
            spec=["R-3.3-3"],
        ),
        ClaimRow(
            case_id="claims-holder-p256-x-above-p",
            description="holder P-256 x coordinate above the field prime",
            changes={3: {**p256, -2: b"\xff" * 32}},
            drop=(),
            code="key_invalid",
            spec=["R-3.3-3"],
        ),
    ]
    for row in rows:
        s.add(
            row.case_id,
            row.description,
            flags=["claims-schema"],
            spec=[*row.spec, "R-8.2-2"],
            steps=[step(mutated_link(row.changes, row.drop), error(row.code))],
        )
    # invocation claims, re-signed by the holder
    link, holder = one_link()
    base = invocation_claims(hashlib.sha256(link).digest())
    inv_rows: list[ClaimInvRow] = [
        ClaimInvRow(
            case_id="claims-invocation-unknown-key",
            description="invocation claim 12 (reserved)",
            changes={12: 0},
            drop=(),
            code="unknown_field",
            spec="R-5.7-1",
        ),
        ClaimInvRow(
            case_id="claims-invocation-version-1",
            description="an 0.1 invocation (version 1) under protocol 0.2",
            changes={1: 1},
            drop=(),
            code="version_unsupported",
            spec="R-5.7-1",
        ),
        ClaimInvRow(
            case_id="claims-invocation-nonce-missing",
            description="invocation without nonce",
            changes={},
            drop=(8,),
            code="schema_invalid",
            spec="R-5.7-1",
        ),
        ClaimInvRow(
            case_id="claims-invocation-nonce-short",
            description="invocation nonce of 15 bytes",
            changes={8: b"\x07" * 15},
            drop=(),
            code="schema_invalid",
            spec="R-5.7-1",
        ),
        ClaimInvRow(
            case_id="claims-invocation-audience-empty",
            description="invocation audience empty",
            changes={3: ""},
            drop=(),
            code="schema_invalid",
            spec="R-5.7-1",
        ),
        ClaimInvRow(
            case_id="claims-invocation-action-pattern",
            description="invocation action * (a pattern, not concrete)",
            changes={4: "*"},
            drop=(),
            code="schema_invalid",
            spec="R-5.7-2",
        ),
        ClaimInvRow(
            case_id="claims-invocation-resource-pattern",
            description="invocation resource ending in /*",
            changes={5: CAL + "/*"},
            drop=(),
            code="resource_invalid",
            spec="R-4.2-4",
        ),
        ClaimInvRow(
            case_id="claims-invocation-args-int-key",
            description="invocation args keyed by an integer",
            changes={6: {1: 2}},
            drop=(),
            code="schema_invalid",
            spec="R-5.7-2",
        ),
        ClaimInvRow(
            case_id="claims-invocation-args-array",
            description="invocation args as an array",
            changes={6: []},
            drop=(),
            code="schema_invalid",
            spec="R-5.7-2",
        ),
        ClaimInvRow(
            case_id="claims-invocation-args-and-digest",
            description="invocation with both args and an args digest",
            changes={9: hashlib.sha256(b"\xa0").digest()},
            drop=(),
            code="schema_invalid",
            spec="R-5.7-3",
        ),
        ClaimInvRow(
            case_id="claims-invocation-args-neither",
            description="invocation with neither args nor an args digest",
            changes={},
            drop=(6,),
            code="schema_invalid",
            spec="R-5.7-3",
        ),
        ClaimInvRow(
            case_id="claims-invocation-args-digest-short",
            description="invocation args digest of 31 bytes (and no args)",
            changes={9: b"\x01" * 31},
            drop=(6,),
            code="schema_invalid",
            spec="R-5.7-3",
        ),
        ClaimInvRow(
            case_id="claims-invocation-approvals-empty",
            description="invocation naming an empty approvals array",
            changes={11: []},
            drop=(),
            code="schema_invalid",
            spec="R-5.7-5",
        ),
        ClaimInvRow(
            case_id="claims-invocation-attestations-not-digest",
            description="invocation naming an attestation by 16 bytes",
            changes={10: [b"\x02" * 16]},
            drop=(),
            code="schema_invalid",
            spec="R-5.7-5",
        ),
        ClaimInvRow(
            case_id="claims-invocation-approvals-too-many",
            description="invocation naming 9 approvals (max_attachments is 8)",
            changes={11: [bytes([i]) * 32 for i in range(9)]},
            drop=(),
            code="limit_exceeded",
            spec="R-5.7-5",
        ),
    ]
    for inv_row in inv_rows:
        claims = {**base, **inv_row.changes}
        for k in inv_row.drop:
            claims.pop(k)
        inv = sign_invocation(holder, claims)
        s.add(
            inv_row.case_id,
            inv_row.description,
            flags=["claims-schema"],
            spec=[inv_row.spec, "R-8.2-2"],
            steps=[step(present_raw([link], holder, invocation=inv), error(inv_row.code))],
        )
