"""approval.json: the human-approval factor."""

from __future__ import annotations

from typing import Any

from agentchain import codec
from agentchain._build import claims_of, sign1_parts, with_signature
from agentchain.codec import ApprovalRequirement
from agentchain.issuer import approve
from agentchain.policy import parse
from agentchain.vectors.build import (
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
from agentchain.vectors.cases._common import alice
from agentchain.vectors.suite import Suite, allow, deny, error, needs_approval, step


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
    rows: list[tuple[str, str, Any, dict[str, object], list[str], dict[str, Any]]] = [
        (
            "appr-needed-none",
            "approval required, none attached: needs_approval",
            pres(),
            needs_approval(),
            ["R-9.2-1", "R-9.2-3", "R-9.2-9"],
            {},
        ),
        (
            "appr-granted",
            "approval required and attached for this exact request",
            pres(good),
            allow(),
            ["R-9.2-5", "R-9.2-6"],
            {},
        ),
        (
            "appr-for-another-invocation",
            "an approval for the same action with other arguments",
            pres(other),
            deny("approval_mismatch"),
            ["R-9.2-5", "R-9.2-8"],
            {},
        ),
        (
            "appr-by-someone-else",
            "an approval by mallory",
            pres(approve(KEYS("mallory"), digest, now=NOW)),
            deny("approval_mismatch"),
            ["R-9.2-8", "R-8.2-18"],
            {},
        ),
        (
            "appr-expired",
            "the approval expired beyond the skew",
            pres(approve(alice_key, digest, now=NOW - 400)),
            deny("approval_expired"),
            ["R-9.2-7"],
            {},
        ),
        (
            "appr-too-long",
            "an approval lasting longer than max_attachment_ttl",
            pres(approve(alice_key, digest, ttl=3601, now=NOW)),
            deny("approval_expired"),
            ["R-9.2-6", "R-9.2-7"],
            {},
        ),
    ]
    for case_id, description, p, expected, rids, kw in rows:
        s.add(
            case_id,
            description,
            flags=["approval"],
            spec=[*rids, "R-8.2-20"],
            steps=[step(p, expected, **kw)],
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
    for case_id, description, args, expected in (
        (
            "appr-when-false",
            "when amount > 100 and amount is 50: not required",
            {"amount": 50},
            allow(),
        ),
        (
            "appr-when-true",
            "when amount > 100 and amount is 500: required",
            {"amount": 500},
            needs_approval(),
        ),
        (
            "appr-when-error",
            "when amount > 100 and amount is missing: ERROR applies the requirement",
            {},
            needs_approval(),
        ),
    ):
        s.add(
            case_id,
            description,
            flags=["approval"],
            spec=["R-9.2-1", "R-9.2-2"],
            steps=[step(present(ctok, ch, args=args), expected, args=args)],
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
    for case_id, description, claims, code_ in (
        ("appr-claims-version-2", "approval version 2", {**base, 1: 2}, "version_unsupported"),
        ("appr-claims-empty-window", "approval exp = iat", {**base, 5: base[4]}, "time_invalid"),
        ("appr-claims-unknown-key", "approval claim 6", {**base, 6: 0}, "unknown_field"),
    ):
        data = codec.sign_object(alice_key, codec.TYP_APPROVAL, claims)
        s.add(
            case_id,
            description,
            flags=["approval", "claims-schema"],
            spec=["R-9.2-4"],
            steps=[step(present_raw(encoded_links(token), holder, approvals=[data]), error(code_))],
            features=feats,
        )
