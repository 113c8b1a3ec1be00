"""usage.json: the behaviour factor: usage limits in links and departures from history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentchain import codec
from agentchain.codec import Presentation
from agentchain.issuer import approve
from agentchain.model import Novelty, Usage, UsageLimit, parse_selector
from agentchain.vectors.generator.build import (
    ACTION,
    AUD,
    CAL,
    KEYS,
    NOW,
    RESOURCE,
    chain,
    present,
)
from agentchain.vectors.generator.cases._common import alice, mutated_link
from agentchain.vectors.generator.suite import Suite, allow, deny, error, needs_approval, step

DAY = 86_400
FEATURES = ["behaviour"]
AMOUNT = parse_selector(".amount")


@dataclass(frozen=True)
class UsageClaimRow:
    """A malformed usage claim (link key 15) and the error it must raise."""

    case_id: str
    description: str
    claim: object
    code: str


def _spend(max_: int, **kw: Any) -> Usage:
    return Usage(limits=(UsageLimit(period=DAY, max=max_, selector=AMOUNT, **kw),))


def _pays(
    token: Presentation, holder: Any, label: str, amounts: list[object]
) -> list[tuple[Presentation, dict[str, object]]]:
    """One fresh invocation per amount (each its own nonce), all at NOW."""
    out = []
    for index, amount in enumerate(amounts):
        args = {"amount": amount}
        out.append((present(token, holder, args=args, label=f"{label}-{index}"), args))
    return out


def add_cases(s: Suite) -> None:
    token, holder = chain(1, usage=[_spend(1000)], label="use-spend")
    pays = _pays(token, holder, "use-spend", [300, 300, 300, 300, 100])
    s.add(
        "usage-spend-limit-reached",
        "1,000 a day: three payments of 300 are allowed, the fourth denied, 100 still fits",
        flags=["behaviour"],
        spec=["R-9.5-1", "R-9.5-3", "R-9.5-8", "R-9.4-5"],
        steps=[
            *(step(p, allow(), args=a) for p, a in pays[:3]),
            step(pays[3][0], deny("usage_exceeded"), args=pays[3][1]),
            step(pays[4][0], allow(), args=pays[4][1]),
        ],
        features=FEATURES,
    )
    s.add(
        "usage-replay-counts-once",
        "the same allowed invocation twice: replay, and the limit counted it once",
        flags=["behaviour", "replay"],
        spec=["R-9.5-8"],
        steps=[
            step(pays[0][0], allow(), args=pays[0][1]),
            step(pays[0][0], deny("replay"), args=pays[0][1]),
            step(pays[1][0], allow(), args=pays[1][1]),
            step(pays[2][0], allow(), args=pays[2][1]),
            step(pays[3][0], deny("usage_exceeded"), args=pays[3][1]),
        ],
        features=FEATURES,
    )
    rate = Usage(limits=(UsageLimit(period=3600, max=2),))
    rtoken, rholder = chain(1, usage=[rate], label="use-rate")
    calls = [present(rtoken, rholder, label=f"use-rate-{i}") for i in range(3)]
    s.add(
        "usage-rate-limit",
        "at most 2 requests an hour: the third is denied",
        flags=["behaviour"],
        spec=["R-9.5-3", "R-9.5-8"],
        steps=[
            step(calls[0], allow()),
            step(calls[1], allow()),
            step(calls[2], deny("usage_exceeded")),
        ],
        features=FEATURES,
    )
    scoped = Usage(limits=(UsageLimit(period=3600, max=0, actions=("payments",)),))
    stoken, sholder = chain(1, usage=[scoped], label="use-scoped")
    s.add(
        "usage-limit-for-other-actions",
        "a limit of 0 for payments does not count a calendar request",
        flags=["behaviour"],
        spec=["R-9.5-5"],
        steps=[step(present(stoken, sholder, label="use-scoped"), allow())],
        features=FEATURES,
    )
    for case_id, amount, why in (
        ("usage-amount-text", "300", "a text"),
        ("usage-amount-negative", -1, "a negative integer"),
        ("usage-amount-bool", True, "a bool"),
        ("usage-amount-too-big", 2**53, "beyond 2^53-1"),
        ("usage-amount-list", [300], "a list"),
    ):
        ((p, a),) = _pays(token, holder, case_id, [amount])
        s.add(
            case_id,
            f"a spend limit's amount is {why}: denied before the store",
            flags=["behaviour"],
            spec=["R-9.5-5"],
            steps=[step(p, deny("usage_amount_invalid"), args=a)],
            features=FEATURES,
        )
    for float_id, fraction, what in (
        ("usage-amount-negative-fraction", -0.5, "-0.5, whose ceiling 0 is in range"),
        ("usage-amount-float-too-big", 1e300, "the float 1e300, beyond 2^53-1"),
    ):
        ((p, a),) = _pays(token, holder, float_id, [fraction])
        s.add(
            float_id,
            f"a spend limit's amount is {what}: the float itself must lie in 0..2^53-1, so "
            "denied before the store",
            flags=["behaviour", "numbers"],
            spec=["R-9.5-5"],
            steps=[step(p, deny("usage_amount_invalid"), args=a)],
            features=FEATURES,
        )
    fractions = _pays(token, holder, "usage-amount-fraction", [0.5, 999.5, 0.5])
    s.add(
        "usage-amount-fraction-ceiling",
        "1,000 a day: 0.5 counts 1 and 999.5 counts 1000, so together they exceed the limit "
        "(rounding down, or summing the floats, would allow the second)",
        flags=["behaviour", "numbers"],
        spec=["R-9.5-5"],
        steps=[
            step(fractions[0][0], allow(), args=fractions[0][1]),
            step(fractions[1][0], deny("usage_exceeded"), args=fractions[1][1]),
            step(fractions[2][0], allow(), args=fractions[2][1]),
        ],
        features=FEATURES,
    )
    missing = present(token, holder, args={}, label="usage-amount-missing")
    s.add(
        "usage-amount-missing",
        "a spend limit's selector finds nothing",
        flags=["behaviour"],
        spec=["R-9.5-5"],
        steps=[step(missing, deny("usage_amount_invalid"))],
        features=FEATURES,
    )
    # a child link cannot loosen its parent's limit; every link's limit applies
    loose = _spend(10**6)
    ltoken, lholder = chain(2, usage=[_spend(1000), loose], label="use-loose")
    lpays = _pays(ltoken, lholder, "use-loose", [600, 600])
    s.add(
        "usage-child-cannot-loosen",
        "the parent allows 1,000 a day, the child 1,000,000: the second 600 is denied",
        flags=["behaviour", "attenuation"],
        spec=["R-9.5-4"],
        steps=[
            step(lpays[0][0], allow(), args=lpays[0][1]),
            step(lpays[1][0], deny("usage_exceeded"), args=lpays[1][1]),
        ],
        features=FEATURES,
    )
    # a limit that pauses: needs_approval, and the approver's approval covers the request
    ptoken, pholder = chain(1, usage=[_spend(100, on_exceed="approve")], label="use-pause")
    ((pp, pa),) = _pays(ptoken, pholder, "use-pause", [300])
    s.add(
        "usage-pause-for-approval",
        "300 against 100 a day that pauses: needs the root's approval",
        flags=["behaviour", "approval"],
        spec=["R-9.5-7", "R-9.5-8"],
        steps=[step(pp, needs_approval(), args=pa)],
        features=[*FEATURES, "approval"],
    )
    digest = codec.request_digest(ptoken.chain_digest, AUD, ACTION, RESOURCE, pa)
    approved = present(
        ptoken, pholder, args=pa, approvals=[approve(alice(), digest, now=NOW)], label="use-ok"
    )
    s.add(
        "usage-pause-approved",
        "the root approves this request: allowed past the limit, and the approval counts once",
        flags=["behaviour", "approval"],
        spec=["R-9.5-7", "R-8.2-18"],
        steps=[
            step(approved, allow(), args=pa),
            step(
                present(ptoken, pholder, args=pa, approvals=approved.approvals, label="use-ok2"),
                deny("approval_replayed"),
                args=pa,
            ),
        ],
        features=[*FEATURES, "approval"],
    )
    # departures: after one allowed request, another action pauses
    ntoken, nholder = chain(1, usage=[Usage(novelty=Novelty(learn=1))], label="use-novel")
    other = "calendar/events/delete"
    s.add(
        "usage-novelty-departure",
        "learn 1: after one read, a delete (an action never used) needs approval; a read not",
        flags=["behaviour"],
        spec=["R-9.5-6"],
        steps=[
            step(present(ntoken, nholder, label="use-novel-0"), allow()),
            step(
                present(ntoken, nholder, action=other, label="use-novel-1"),
                needs_approval(),
                action=other,
            ),
            step(
                present(ntoken, nholder, resource=CAL + "/home/x", label="use-novel-2"),
                allow(),
                resource=CAL + "/home/x",
            ),
        ],
        features=FEATURES,
    )
    base_limit = {1: 60, 2: 5}
    for row in (
        UsageClaimRow(
            "usage-claim-empty",
            "a usage claim with neither limits nor novelty",
            {},
            "schema_invalid",
        ),
        UsageClaimRow(
            "usage-claim-limits-empty", "an empty limits array", {1: []}, "schema_invalid"
        ),
        UsageClaimRow(
            "usage-claim-period-zero", "a period of 0", {1: [{1: 0, 2: 5}]}, "schema_invalid"
        ),
        UsageClaimRow(
            "usage-claim-max-too-big",
            "a max beyond 2^53-1",
            {1: [{1: 60, 2: 2**53}]},
            "schema_invalid",
        ),
        UsageClaimRow(
            "usage-claim-bad-selector",
            "a selector without its dot",
            {1: [{**base_limit, 3: "amount"}]},
            "schema_invalid",
        ),
        UsageClaimRow(
            "usage-claim-bad-on",
            "on is neither deny nor approve",
            {1: [{**base_limit, 5: "pause"}]},
            "schema_invalid",
        ),
        UsageClaimRow(
            "usage-claim-approver-on-deny",
            "an approver on a limit that denies",
            {1: [{**base_limit, 6: KEYS("approver").public_key.to_cose_key()}]},
            "schema_invalid",
        ),
        UsageClaimRow(
            "usage-claim-unknown-limit-key",
            "a limit with key 7",
            {1: [{**base_limit, 7: 1}]},
            "unknown_field",
        ),
        UsageClaimRow(
            "usage-claim-unknown-key", "a usage claim with key 3", {3: 1}, "unknown_field"
        ),
        UsageClaimRow("usage-claim-learn-zero", "novelty learn 0", {2: {1: 0}}, "schema_invalid"),
    ):
        s.add(
            row.case_id,
            row.description,
            flags=["behaviour", "claims-schema"],
            spec=["R-9.5-2"],
            steps=[step(mutated_link({15: row.claim}), error(row.code))],
        )
