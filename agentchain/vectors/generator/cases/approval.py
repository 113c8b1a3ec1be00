"""approval.json: the human-approval factor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentchain import codec
from agentchain._build import claims_of, sign1_parts, with_signature
from agentchain.issuer import approve
from agentchain.model import ApprovalRequirement
from agentchain.model import parse_statement as parse
from agentchain.vectors.generator.build import (
    ACTION,
    AUD,
    KEYS,
    NOW,
    RESOURCE,
    chain,
    encoded_links,
    present,
    present_raw,
)
from agentchain.vectors.generator.cases._common import alice
from agentchain.vectors.generator.suite import Suite, allow, deny, error, needs_approval, step


@dataclass(frozen=True)
class ApprovalRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    p: Any
    expected: dict[str, object]
    spec: list[str]
    kw: dict[str, Any]


@dataclass(frozen=True)
class ApprovalArgsRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    args: Any
    expected: dict[str, object]


@dataclass(frozen=True)
class ApprovalClaimsRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    claims: Any
    code: str


def add_cases(s: Suite) -> None:
    req = ApprovalRequirement(actions=("calendar/events",))
    token, holder = chain(2, require_approval=[[req]], label="appr")
    feats = ["approval"]
    digest = codec.request_digest(token.chain_digest, AUD, ACTION, RESOURCE, {})
    alice_key = alice()

    def pres(
        *approvals: codec.Approval, args: dict[str, Any] | None = None, label: str = "appr"
    ) -> codec.Presentation:
        return present(token, holder, approvals=approvals, args=args, label=label)

    good = approve(alice_key, digest, now=NOW)
    other = approve(
        alice_key,
        codec.request_digest(token.chain_digest, AUD, ACTION, RESOURCE, {"x": 1}),
        now=NOW,
    )
    rows: list[ApprovalRow] = [
        ApprovalRow(
            case_id="appr-needed-none",
            description="approval required, none attached: needs_approval",
            p=pres(),
            expected=needs_approval(),
            spec=["R-9.2-1", "R-9.2-3", "R-9.2-9"],
            kw={},
        ),
        ApprovalRow(
            case_id="appr-granted",
            description="approval required and attached for this exact request",
            p=pres(good),
            expected=allow(),
            spec=["R-9.2-5", "R-9.2-6"],
            kw={},
        ),
        ApprovalRow(
            case_id="appr-for-another-invocation",
            description="an approval for the same action with other arguments",
            p=pres(other),
            expected=deny("approval_mismatch"),
            spec=["R-9.2-5", "R-9.2-8"],
            kw={},
        ),
        ApprovalRow(
            case_id="appr-by-someone-else",
            description="an approval by mallory",
            p=pres(approve(KEYS("mallory"), digest, now=NOW)),
            expected=deny("approval_mismatch"),
            spec=["R-9.2-8", "R-8.2-18"],
            kw={},
        ),
        ApprovalRow(
            case_id="appr-expired",
            description="the approval expired beyond the skew",
            p=pres(approve(alice_key, digest, now=NOW - 400)),
            expected=deny("approval_expired"),
            spec=["R-9.2-7"],
            kw={},
        ),
        ApprovalRow(
            case_id="appr-too-long",
            description="an approval lasting longer than max_attachment_ttl",
            p=pres(approve(alice_key, digest, ttl=3601, now=NOW)),
            expected=deny("approval_expired"),
            spec=["R-9.2-6", "R-9.2-7"],
            kw={},
        ),
    ]
    for row in rows:
        s.add(
            row.case_id,
            row.description,
            flags=["approval"],
            spec=[*row.spec, "R-8.2-20"],
            steps=[step(row.p, row.expected, **row.kw)],
            features=feats,
        )
    g2 = present(token, holder, approvals=[good], label="appr-2")
    s.add(
        "appr-replayed",
        "the same approval on two fresh invocations of the same request",
        flags=["approval", "replay"],
        spec=["R-9.2-10"],
        steps=[step(pres(good), allow()), step(g2, deny("approval_replayed"))],
        features=feats,
    )
    s.add(
        "appr-not-burnt-by-denial",
        "first denied by audience (approval not consumed), then a fresh invocation passes",
        flags=["approval", "replay"],
        spec=["R-9.2-11"],
        steps=[
            step(
                present(token, holder, approvals=[good], audience="https://x.example", label="a3"),
                deny("audience_mismatch"),
            ),
            step(g2, allow()),
        ],
        features=feats,
    )
    gsig = sign1_parts(good.encoded)[2]
    forged = with_signature(good.encoded, gsig[:40] + bytes([gsig[40] ^ 1]) + gsig[41:])
    _consumption_cases(s, token, holder, good, forged)
    s.add(
        "appr-forged-by-approver",
        "an approval naming the root as issuer with a bad signature: an error",
        flags=["approval", "signature-forgery"],
        spec=["R-8.2-18"],
        steps=[
            step(
                present_raw(encoded_links(token), holder, approvals=[forged]),
                error("signature_invalid"),
            )
        ],
        features=feats,
    )
    # conditional requirements
    cond = ApprovalRequirement(when=parse([">", ".amount", 100]))
    ctok, ch = chain(1, require_approval=[[cond]], label="appr-cond")
    for args_row in (
        ApprovalArgsRow(
            case_id="appr-when-false",
            description="when amount > 100 and amount is 50: not required",
            args={"amount": 50},
            expected=allow(),
        ),
        ApprovalArgsRow(
            case_id="appr-when-true",
            description="when amount > 100 and amount is 500: required",
            args={"amount": 500},
            expected=needs_approval(),
        ),
        ApprovalArgsRow(
            case_id="appr-when-error",
            description="when amount > 100 and amount is missing: ERROR applies the requirement",
            args={},
            expected=needs_approval(),
        ),
    ):
        s.add(
            args_row.case_id,
            args_row.description,
            flags=["approval"],
            spec=["R-9.2-1", "R-9.2-2"],
            steps=[
                step(present(ctok, ch, args=args_row.args), args_row.expected, args=args_row.args)
            ],
            features=feats,
        )
    named = ApprovalRequirement(approver=KEYS("approver").public_key, actions=("calendar",))
    ntok, nh = chain(1, require_approval=[[named]], label="appr-named")
    nd = codec.request_digest(ntok.chain_digest, AUD, ACTION, RESOURCE, {})
    s.add(
        "appr-named-approver",
        "a requirement naming its approver; the root's approval does not count",
        flags=["approval"],
        spec=["R-9.2-3", "R-9.2-8"],
        steps=[
            step(
                present(ntok, nh, approvals=[approve(alice_key, nd, now=NOW)]),
                deny("approval_mismatch"),
            )
        ],
        features=feats,
    )
    s.add(
        "appr-named-approver-granted",
        "the named approver approves",
        flags=["approval"],
        spec=["R-9.2-3", "R-9.2-6"],
        steps=[
            step(present(ntok, nh, approvals=[approve(KEYS("approver"), nd, now=NOW)]), allow())
        ],
        features=feats,
    )
    base = claims_of(good.encoded)
    for claims_row in (
        ApprovalClaimsRow(
            case_id="appr-claims-version-2",
            description="approval version 2",
            claims={**base, 1: 2},
            code="version_unsupported",
        ),
        ApprovalClaimsRow(
            case_id="appr-claims-empty-window",
            description="approval exp = iat",
            claims={**base, 5: base[4]},
            code="time_invalid",
        ),
        ApprovalClaimsRow(
            case_id="appr-claims-unknown-key",
            description="approval claim 6",
            claims={**base, 6: 0},
            code="unknown_field",
        ),
    ):
        data = codec.sign_object(alice_key, codec.TYP_APPROVAL, claims_row.claims)
        s.add(
            claims_row.case_id,
            claims_row.description,
            flags=["approval", "claims-schema"],
            spec=["R-9.2-4"],
            steps=[
                step(
                    present_raw(encoded_links(token), holder, approvals=[data]),
                    error(claims_row.code),
                )
            ],
            features=feats,
        )


def _consumption_cases(
    s: Suite,
    token: codec.Presentation,
    holder: Any,
    good: codec.Approval,
    forged: bytes,
) -> None:
    """Issue 17: which approvals are consumed, for how long, and whose approvals V3 checks."""
    feats = ["approval"]
    alice_key = alice()
    digest = codec.request_digest(token.chain_digest, AUD, ACTION, RESOURCE, {})
    second = approve(alice_key, digest, now=NOW - 1)  # the same request, other bytes
    assert second.digest != good.digest
    s.add(
        "appr-every-counting-approval-consumed",
        "two approvals of the same request by the same approver carried together: both are "
        "consumed, so the second one is replayed on a later invocation (not only the first)",
        flags=["approval", "replay"],
        spec=["R-9.2-10"],
        steps=[
            step(present(token, holder, approvals=[good, second], label="appr-c1"), allow()),
            step(
                present(token, holder, approvals=[second], label="appr-c2"),
                deny("approval_replayed"),
            ),
        ],
        features=["approval", "replay"],
    )
    # the approval counts until exp + skew - 1 (exp NOW + 300, skew 60): its use is
    # remembered at least that long, not only until exp
    late = NOW + 359
    s.add(
        "appr-use-remembered-until-exp-plus-skew",
        "an approval used at NOW, then again at exp + skew - 1 on a fresh invocation: still "
        "remembered (retention exp + skew + 1, not exp)",
        flags=["approval", "replay"],
        spec=["R-9.2-10", "R-9.4-3"],
        steps=[
            step(present(token, holder, approvals=[good], label="appr-r1"), allow()),
            step(
                present(token, holder, approvals=[good], now=late, label="appr-r2"),
                deny("approval_replayed"),
                now=late,
            ),
        ],
        features=["approval", "replay"],
    )
    other = codec.request_digest(token.chain_digest, AUD, ACTION, RESOURCE, {"x": 1})
    s.add(
        "appr-stale-for-another-request",
        "an expired approval of another request: approval_mismatch, not approval_expired "
        "(approval_expired is only for an approval of this request)",
        flags=["approval"],
        spec=["R-9.2-7", "R-9.2-8"],
        steps=[
            step(
                present(token, holder, approvals=[approve(alice_key, other, now=NOW - 400)]),
                deny("approval_mismatch"),
            )
        ],
        features=feats,
    )
    s.add(
        "appr-ttl-at-max",
        "an approval lasting exactly max_attachment_ttl (3600 s) counts: the bound is <=",
        flags=["approval"],
        spec=["R-9.2-6"],
        steps=[
            step(
                present(token, holder, approvals=[approve(alice_key, digest, ttl=3600, now=NOW)]),
                allow(),
            )
        ],
        features=feats,
    )
    plain, plain_holder = chain(1, label="appr-plain")
    s.add(
        "appr-root-checked-without-requirements",
        "no link requires approval, yet an approval naming the root signer as issuer has a "
        "bad signature: the root signer is always an approver whose approvals V3 checks",
        flags=["approval", "signature-forgery"],
        spec=["R-8.2-18"],
        steps=[
            step(
                present_raw(encoded_links(plain), plain_holder, approvals=[forged]),
                error("signature_invalid"),
            )
        ],
        features=feats,
    )
    named = ApprovalRequirement(approver=KEYS("approver").public_key, actions=("calendar",))
    ntok, nh = chain(1, require_approval=[[named]], label="appr-named-root")
    s.add(
        "appr-root-checked-when-another-is-named",
        "every requirement names another approver, and a root-signed approval has a bad "
        "signature: still checked (signature_invalid), not ignored",
        flags=["approval", "signature-forgery"],
        spec=["R-8.2-18", "R-9.2-3"],
        steps=[
            step(
                present_raw(encoded_links(ntok), nh, approvals=[forged]),
                error("signature_invalid"),
            )
        ],
        features=feats,
    )
