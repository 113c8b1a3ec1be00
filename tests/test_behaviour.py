"""The behaviour factor (spec 9.5): usage limits in links and departures from a chain's history."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentchain import (
    DecodeError,
    MemoryStore,
    Novelty,
    Outcome,
    Presentation,
    PrivateKey,
    Request,
    TrustPolicy,
    Usage,
    UsageLimit,
    Verifier,
    approve,
    codec,
    delegate,
    invoke,
    issue,
    model,
)
from agentchain.errors import REGISTRY, AgentchainError, Kind
from agentchain.model import parse_selector
from tests.store_conformance import make_spec, run_together

NOW = 1_800_000_000  # a multiple of 3,600: an hour's window starts here
DAY = 86_400
DAY_START = NOW - NOW % DAY  # the day (UTC) holding NOW
API = "https://bank.example"
ALICE = PrivateKey.from_seed(bytes([1]) * 32)
AGENT = PrivateKey.from_seed(bytes([2]) * 32)
SUB = PrivateKey.from_seed(bytes([3]) * 32)
SIB = PrivateKey.from_seed(bytes([4]) * 32)
BOB = PrivateKey.from_seed(bytes([6]) * 32)
PAY = "payments/create"
EUR_1000_A_DAY = UsageLimit(
    period=DAY, max=1000, selector=parse_selector(".amount"), actions=(PAY,)
)


def _rng() -> Callable[[int], bytes]:
    counter = iter(range(1, 1 << 30))
    return lambda n: next(counter).to_bytes(n, "big")


RNG = _rng()


def _token(usage: Usage | None, *, encoding: codec.Encoding = "cbor") -> Presentation:
    return issue(
        ALICE,
        AGENT.public_key,
        capabilities=[("payments", "*"), ("files", "*")],
        depth=2,
        ttl=7 * DAY,
        usage=usage,
        now=NOW,
        rng=RNG,
        encoding=encoding,
    )


def _verifier(store: Any = None, at: list[int] | None = None) -> Verifier:
    clock = at if at is not None else [NOW + 10]
    policy = TrustPolicy(anchors=(ALICE.public_key,), audience=API, max_ttl=7 * DAY)
    return Verifier(policy, store=store or MemoryStore(), clock=lambda: clock[0])


def _pay(
    token: Presentation,
    key: PrivateKey,
    amount: object,
    *,
    at: int = NOW + 10,
    action: str = PAY,
    resource: str = f"{API}/payments",
    approvals: tuple[codec.Approval, ...] = (),
) -> tuple[Presentation, Request]:
    args = {"amount": amount}
    presentation = invoke(
        token,
        key,
        audience=API,
        action=action,
        resource=resource,
        args=args,
        approvals=approvals,
        now=at,
        rng=RNG,
    )
    return presentation, Request(action, resource, args)


def test_codes_are_registered() -> None:
    assert REGISTRY["usage_exceeded"].kind is Kind.DENY
    assert REGISTRY["usage_amount_invalid"].kind is Kind.DENY


@pytest.mark.parametrize("encoding", ["cbor", "jose"])
def test_usage_claim_round_trips_in_both_encodings(encoding: codec.Encoding) -> None:
    # R-9.5-1: the usage claim (key 15, JOSE "ulim") carries limits and a novelty rule
    usage = Usage(
        limits=(
            EUR_1000_A_DAY,
            UsageLimit(period=3600, max=20),
            UsageLimit(period=60, max=5, on_exceed="approve", approver=BOB.public_key),
        ),
        novelty=Novelty(learn=10, approver=BOB.public_key),
    )
    token = _token(usage, encoding=encoding)
    again = codec.decode_presentation_unverified(token.to_bytes())
    assert again.links[0].claims.usage == usage
    claims = codec.encode_claims(token.links[0].claims, encoding)
    assert claims["ulim"] if encoding == "jose" else claims[15]  # the registered key


@pytest.mark.parametrize(
    ("usage", "code"),
    [
        ({}, "schema_invalid"),  # neither limits nor novelty
        ({1: []}, "schema_invalid"),
        ({1: [{1: 0, 2: 5}]}, "schema_invalid"),  # period 0
        ({1: [{1: 366 * DAY + 1, 2: 5}]}, "schema_invalid"),
        ({1: [{1: 60, 2: 2**53}]}, "schema_invalid"),
        ({1: [{1: 60, 2: 5, 3: "amount"}]}, "schema_invalid"),  # not a selector
        ({1: [{1: 60, 2: 5, 5: "pause"}]}, "schema_invalid"),
        ({1: [{1: 60, 2: 5, 4: []}]}, "schema_invalid"),
        ({1: [{1: 60, 2: 5, 7: 1}]}, "unknown_field"),
        ({2: {1: 0}}, "schema_invalid"),
        ({2: {1: 5, 3: 1}}, "unknown_field"),
        ({3: 1}, "unknown_field"),
    ],
)
def test_malformed_usage_claims_are_refused(usage: dict[int, object], code: str) -> None:
    # R-9.5-2: the usage claim's schema
    from tests.helpers import link_claims, sign_link

    claims = link_claims(ALICE.public_key, AGENT.public_key, None)
    claims[15] = usage
    with pytest.raises(DecodeError) as caught:
        codec.decode_unverified(model.LinkClaims, sign_link(ALICE, claims))
    assert caught.value.code == code


def test_approver_only_with_approve() -> None:
    with pytest.raises(DecodeError):
        UsageLimit(period=60, max=1, approver=BOB.public_key)


def test_spend_limit_allows_up_to_the_limit_then_denies() -> None:
    # R-9.5-3, R-9.5-4: 300 + 300 + 300 fit in 1,000; a fourth 300 does not
    token = _token(Usage(limits=(EUR_1000_A_DAY,)))
    verifier = _verifier()
    for used in (300, 600, 900):
        decision = verifier.verify(*_pay(token, AGENT, 300))
        assert decision.outcome is Outcome.ALLOW
        assert decision.audit["factors"]["behaviour"] == "pass"  # type: ignore[index]
        (report,) = decision.usage
        assert (report.used, report.remaining, report.kind) == (used, 1000 - used, "spend")
    denied = verifier.verify(*_pay(token, AGENT, 300))
    assert denied.outcome is Outcome.DENY
    assert denied.reasons[0].code == "usage_exceeded"
    assert denied.audit["factors"]["behaviour"] == "fail"  # type: ignore[index]
    assert denied.usage[0].used == 900
    # what still fits is allowed: the limit is a sum, not a count
    assert verifier.verify(*_pay(token, AGENT, 100)).outcome is Outcome.ALLOW
    audit = verifier.verify(*_pay(token, AGENT, 0)).audit
    assert audit["usage"] == [  # spec 9.3: the audit names what was consumed and what remains
        {
            "link": 0,
            "limit": 0,
            "kind": "spend",
            "amount": 0,
            "used": 1000,
            "max": 1000,
            "remaining": 0,
            "window": [DAY_START, DAY_START + DAY],
        }
    ]


def test_other_actions_are_not_counted_by_a_scoped_limit() -> None:
    token = _token(Usage(limits=(EUR_1000_A_DAY,)))
    verifier = _verifier()
    decision = verifier.verify(*_pay(token, AGENT, 5000, action="files/read", resource="s3:x"))
    assert decision.outcome is Outcome.ALLOW
    assert decision.usage == ()


def test_fixed_window_restarts_at_its_boundary() -> None:
    # R-9.5-3: windows are [k * period, (k + 1) * period) of the verifier's clock
    token = _token(Usage(limits=(UsageLimit(period=3600, max=2),)))
    clock = [NOW + 3598]
    verifier = _verifier(at=clock)
    for _ in range(2):
        assert verifier.verify(*_pay(token, AGENT, 1, at=clock[0])).outcome is Outcome.ALLOW
    assert verifier.verify(*_pay(token, AGENT, 1, at=clock[0])).reasons[0].code == (
        "usage_exceeded"
    )
    clock[0] = NOW + 3599  # still the same window
    assert verifier.verify(*_pay(token, AGENT, 1, at=clock[0])).outcome is Outcome.DENY
    clock[0] = NOW + 3600  # the next window: a fresh count
    decision = verifier.verify(*_pay(token, AGENT, 1, at=clock[0]))
    assert decision.outcome is Outcome.ALLOW
    assert decision.usage[0].window_start == NOW + 3600
    assert decision.usage[0].kind == "rate"


@pytest.mark.parametrize("amount", ["300", -1, True, None, [300], 2**53, {"v": 1}])
def test_amount_that_is_not_a_non_negative_number_is_denied(amount: object) -> None:
    # R-9.5-5: fail closed, with its own code, and nothing recorded
    token = _token(Usage(limits=(EUR_1000_A_DAY,)))
    verifier = _verifier()
    decision = verifier.verify(*_pay(token, AGENT, amount))
    assert decision.outcome is Outcome.DENY
    assert decision.reasons[0].code == "usage_amount_invalid"
    assert decision.audit["factors"]["behaviour"] == "fail"  # type: ignore[index]


def test_missing_amount_is_denied() -> None:
    token = _token(Usage(limits=(EUR_1000_A_DAY,)))
    presentation = invoke(
        token, AGENT, audience=API, action=PAY, resource=f"{API}/p", args={}, now=NOW, rng=RNG
    )
    decision = _verifier().verify(presentation, Request(PAY, f"{API}/p", {}))
    assert decision.reasons[0].code == "usage_amount_invalid"


def test_float_amounts_are_charged_rounded_up() -> None:
    # R-9.5-5: a float (protocol 0.2) charges its ceiling, so a fraction never slips under
    from agentchain.model import charge_of

    assert charge_of(299.01) == 300
    assert charge_of(300.0) == 300
    assert charge_of(float("nan")) is None
    assert charge_of(float("inf")) is None
    assert charge_of(-0.5) is None


@pytest.mark.parametrize("encoding", ["cbor", "jose"])
def test_float_amounts_through_the_verifier_count_their_ceiling(encoding: codec.Encoding) -> None:
    # R-9.5-5: the request's float travels the wire and is charged rounded up
    token = _token(Usage(limits=(EUR_1000_A_DAY,)), encoding=encoding)
    verifier = _verifier()
    first = verifier.verify(*_pay(token, AGENT, 999.25))
    assert first.outcome is Outcome.ALLOW
    assert (first.usage[0].amount, first.usage[0].used) == (1000, 1000)
    # 0.5 more would be 999.75 by the fractions, but the ceilings already spent 1000
    denied = verifier.verify(*_pay(token, AGENT, 0.5))
    assert denied.reasons[0].code == "usage_exceeded"
    assert verifier.verify(*_pay(token, AGENT, 0.0)).outcome is Outcome.ALLOW


def test_a_spend_selector_draws_on_the_requests_one_step_budget() -> None:
    # R-6.3-3, R-9.5-5: the selector of a spend limit costs what a caveat's selector costs
    # (1 + one per step), from the same budget as the caveats; exhausted, it fails closed
    from agentchain import Limits

    token = _token(Usage(limits=(EUR_1000_A_DAY,)))

    def verifier(steps: int) -> Verifier:
        policy = TrustPolicy(
            anchors=(ALICE.public_key,),
            audience=API,
            max_ttl=7 * DAY,
            limits=Limits(max_policy_steps=steps),
        )
        return Verifier(policy, store=MemoryStore(), clock=lambda: NOW + 10)

    assert verifier(2).verify(*_pay(token, AGENT, 5)).outcome is Outcome.ALLOW
    decision = verifier(1).verify(*_pay(token, AGENT, 5))
    assert decision.outcome is Outcome.DENY
    assert decision.reasons[0].code == "usage_amount_invalid"
    assert "step budget of 1 exhausted" in decision.reasons[0].message
    # a caveat spends from the same budget first: ["<=", ".amount", 10] costs 1 + 1
    capped = issue(
        ALICE,
        AGENT.public_key,
        capabilities=[("payments", "*")],
        caveats=[["<=", ".amount", 10]],
        ttl=7 * DAY,
        usage=Usage(limits=(EUR_1000_A_DAY,)),
        now=NOW,
        rng=RNG,
    )
    assert verifier(4).verify(*_pay(capped, AGENT, 5)).outcome is Outcome.ALLOW
    starved = verifier(3).verify(*_pay(capped, AGENT, 5))
    assert starved.audit["factors"]["context"] == "pass"  # type: ignore[index]
    assert starved.reasons[0].code == "usage_amount_invalid"


def test_a_child_cannot_escape_its_parents_limit_and_siblings_share_it() -> None:
    # R-9.5-4: every limit of every link applies; a use counts against all of them
    parent = _token(Usage(limits=(EUR_1000_A_DAY,)))
    # the child states a looser limit: it cannot loosen, the parent's still applies
    loose = Usage(limits=(UsageLimit(period=DAY, max=10**6, selector=parse_selector(".amount")),))
    child = delegate(
        parent,
        AGENT,
        SUB.public_key,
        capabilities=[("payments", f"{API}/*")],
        usage=loose,
        now=NOW,
        rng=RNG,
    )
    # a sibling without limits of its own
    sibling = delegate(
        parent, AGENT, SIB.public_key, capabilities=[("payments", f"{API}/*")], now=NOW, rng=RNG
    )
    verifier = _verifier()
    assert verifier.verify(*_pay(child, SUB, 600)).outcome is Outcome.ALLOW
    decision = verifier.verify(*_pay(sibling, SIB, 300))
    assert decision.outcome is Outcome.ALLOW
    assert decision.usage[0].used == 900  # the sibling's 300 on top of the child's 600
    denied = verifier.verify(*_pay(child, SUB, 200))
    assert denied.reasons[0].code == "usage_exceeded"
    assert [r.link for r in denied.usage] == [0, 1]


def test_a_child_adds_a_tighter_limit_of_its_own() -> None:
    parent = _token(Usage(limits=(EUR_1000_A_DAY,)))
    tight = Usage(limits=(UsageLimit(period=DAY, max=100, selector=parse_selector(".amount")),))
    child = delegate(
        parent,
        AGENT,
        SUB.public_key,
        capabilities=[("payments", f"{API}/*")],
        usage=tight,
        now=NOW,
        rng=RNG,
    )
    verifier = _verifier()
    denied = verifier.verify(*_pay(child, SUB, 300))
    assert denied.reasons[0].code == "usage_exceeded"
    assert "link 1 limit 0" in denied.reasons[0].message
    # nothing was recorded for the denied request: the parent's budget is untouched
    assert verifier.verify(*_pay(parent, AGENT, 1000)).outcome is Outcome.ALLOW


def test_exceeding_a_pausing_limit_needs_approval_and_the_approval_covers_it() -> None:
    # R-9.5-7: on approve, the request pauses for the named approver; their approval of
    # this request lets it through (and counts), once
    limit = UsageLimit(
        period=DAY,
        max=1000,
        selector=parse_selector(".amount"),
        actions=(PAY,),
        on_exceed="approve",
    )
    token = _token(Usage(limits=(limit,)))
    verifier = _verifier()
    assert verifier.verify(*_pay(token, AGENT, 900)).outcome is Outcome.ALLOW
    paused = verifier.verify(*_pay(token, AGENT, 300))
    assert paused.outcome is Outcome.NEEDS_APPROVAL
    assert paused.reasons[0].code == "approval_required"
    assert paused.audit["factors"]["behaviour"] == "required"  # type: ignore[index]
    request = paused.approval_request
    assert request is not None and request.approver == ALICE.public_key
    approval = approve(ALICE, request.digest, now=NOW + 10)
    allowed = verifier.verify(*_pay(token, AGENT, 300, approvals=(approval,)))
    assert allowed.outcome is Outcome.ALLOW
    assert allowed.usage[0].used == 1200 and allowed.usage[0].remaining == 0
    # the approval counts once
    replayed = verifier.verify(*_pay(token, AGENT, 300, approvals=(approval,)))
    assert replayed.reasons[0].code == "approval_replayed"


def test_pausing_limit_names_another_approver() -> None:
    limit = UsageLimit(period=DAY, max=0, on_exceed="approve", approver=BOB.public_key)
    token = _token(Usage(limits=(limit,)))
    verifier = _verifier()
    paused = verifier.verify(*_pay(token, AGENT, 1))
    assert paused.approval_request is not None
    assert paused.approval_request.approver == BOB.public_key
    # alice (the root) cannot waive bob's limit
    by_alice = approve(ALICE, paused.approval_request.digest, now=NOW + 10)
    assert verifier.verify(*_pay(token, AGENT, 1, approvals=(by_alice,))).outcome is (
        Outcome.NEEDS_APPROVAL
    )
    by_bob = approve(BOB, paused.approval_request.digest, now=NOW + 10)
    assert verifier.verify(*_pay(token, AGENT, 1, approvals=(by_bob,))).outcome is Outcome.ALLOW


def test_replay_is_still_refused_and_a_refused_use_burns_nothing() -> None:
    # R-9.5-8: the nonce is recorded with the counters, so a replay never counts twice
    token = _token(Usage(limits=(EUR_1000_A_DAY,)))
    verifier = _verifier()
    presentation, request = _pay(token, AGENT, 300)
    assert verifier.verify(presentation, request).outcome is Outcome.ALLOW
    replay = verifier.verify(presentation, request)
    assert replay.reasons[0].code == "replay"
    assert replay.usage[0].used == 300  # as found: nothing was added
    # a request denied for its amount leaves the nonce unused: the same invocation,
    # once the window allows it, is the same request and may proceed
    clock = [NOW + 10]
    verifier = _verifier(at=clock)
    assert verifier.verify(*_pay(token, AGENT, 1000)).outcome is Outcome.ALLOW
    presentation, request = _pay(token, AGENT, 1, at=DAY_START + DAY - 5)
    clock[0] = DAY_START + DAY - 5
    assert verifier.verify(presentation, request).reasons[0].code == "usage_exceeded"
    clock[0] = DAY_START + DAY
    assert verifier.verify(presentation, request).outcome is Outcome.ALLOW


def test_novelty_learns_then_pauses_on_a_new_action_or_host() -> None:
    # R-9.5-6: after `learn` allowed requests, an action or a host none of them used pauses
    token = _token(Usage(novelty=Novelty(learn=2)))
    verifier = _verifier()
    assert verifier.verify(*_pay(token, AGENT, 1)).outcome is Outcome.ALLOW
    learnt = verifier.verify(*_pay(token, AGENT, 1, action="files/read", resource="s3://b/k"))
    assert learnt.outcome is Outcome.ALLOW  # still learning: the second request
    assert verifier.verify(*_pay(token, AGENT, 2)).outcome is Outcome.ALLOW  # known
    host = verifier.verify(*_pay(token, AGENT, 1, resource="https://evil.example/x"))
    assert host.outcome is Outcome.NEEDS_APPROVAL
    assert host.audit["factors"]["behaviour"] == "required"  # type: ignore[index]
    assert "https://evil.example" in host.reasons[0].message
    action = verifier.verify(*_pay(token, AGENT, 1, action="files/write", resource="s3://b/k"))
    assert action.outcome is Outcome.NEEDS_APPROVAL
    # approved once, learnt: the host is no longer a departure
    assert host.approval_request is not None
    approval = approve(ALICE, host.approval_request.digest, now=NOW + 10)
    presentation, request = _pay(
        token, AGENT, 1, resource="https://evil.example/x", approvals=(approval,)
    )
    assert verifier.verify(presentation, request).outcome is Outcome.ALLOW
    again = verifier.verify(*_pay(token, AGENT, 7, resource="https://evil.example/y"))
    assert again.outcome is Outcome.ALLOW  # the mark is the host, not the path
    # R-4.2-7: an upper-cased spelling of the host is no resource at all (protocol 0.2), so it
    # can never pass as a host the history has not seen
    with pytest.raises(AgentchainError, match="resource_invalid"):
        _pay(token, AGENT, 7, resource="https://EVIL.example/y")


def test_novelty_history_is_per_link_and_shared_by_the_chains_below() -> None:
    parent = _token(Usage(novelty=Novelty(learn=1)))
    child = delegate(parent, AGENT, SUB.public_key, capabilities=[("files", "*")], now=NOW, rng=RNG)
    verifier = _verifier()
    assert (
        verifier.verify(*_pay(parent, AGENT, 1, action="files/read", resource="s3://b/k")).outcome
        is Outcome.ALLOW
    )
    # the sub-agent's first request under the parent's link is judged by its history
    assert (
        verifier.verify(*_pay(child, SUB, 1, action="files/read", resource="s3://b/j")).outcome
        is Outcome.ALLOW
    )
    assert (
        verifier.verify(*_pay(child, SUB, 1, action="files/delete", resource="s3://b/j")).outcome
        is Outcome.NEEDS_APPROVAL
    )


def test_chain_without_usage_reports_behaviour_not_required() -> None:
    token = _token(None)
    decision = _verifier().verify(*_pay(token, AGENT, 300))
    assert decision.outcome is Outcome.ALLOW
    assert decision.audit["factors"]["behaviour"] == "not_required"  # type: ignore[index]
    assert decision.audit["usage"] == []
    assert "usage" not in decision.to_json()


def test_async_verifier_gives_the_same_answers() -> None:
    import asyncio

    token = _token(Usage(limits=(EUR_1000_A_DAY,)))
    verifier = _verifier()
    outcomes = [
        asyncio.run(verifier.verify_async(*_pay(token, AGENT, 300))).outcome for _ in range(4)
    ]
    assert outcomes == [Outcome.ALLOW] * 3 + [Outcome.DENY]


def test_async_redis_store_gives_the_same_answers(redis_server: Any) -> None:
    import asyncio

    from agentchain.redis_store import AsyncRedisStore
    from tests.store_conformance import unique_prefix

    token = _token(Usage(limits=(EUR_1000_A_DAY,), novelty=Novelty(learn=5)))

    async def four() -> list[Outcome]:
        async with AsyncRedisStore.from_url(redis_server.url, prefix=unique_prefix()) as store:
            verifier = _verifier(store)
            return [
                (await verifier.verify_async(*_pay(token, AGENT, 300))).outcome for _ in range(4)
            ]

    assert asyncio.run(four()) == [Outcome.ALLOW] * 3 + [Outcome.DENY]


@settings(max_examples=40, deadline=None)
@given(
    limits=st.lists(st.integers(0, 50), min_size=1, max_size=3),
    amounts=st.lists(st.integers(0, 30), min_size=1, max_size=12),
)
def test_no_use_takes_a_counter_past_its_limit(limits: list[int], amounts: list[int]) -> None:
    # the property: whatever the amounts, every counter stays within its limit, and the
    # allowed amounts add up exactly to what every counter holds
    usage = Usage(
        limits=tuple(
            UsageLimit(period=DAY, max=m, selector=parse_selector(".amount")) for m in limits
        )
    )
    token = _token(usage)
    verifier = _verifier()
    allowed = 0
    for amount in amounts:
        decision = verifier.verify(*_pay(token, AGENT, amount))
        if decision.outcome is Outcome.ALLOW:
            allowed += amount
        else:
            assert decision.reasons[0].code == "usage_exceeded"
        for report in decision.usage:
            assert report.used <= report.max
    assert allowed <= min(limits)
    final = verifier.verify(*_pay(token, AGENT, 0))
    assert [r.used for r in final.usage] == [allowed] * len(limits)


# -- the done-when: 1,000 EUR a day, 300 EUR payments through separate processes --------

VERIFIER_PROCESS = """
import json, sys
sys.path.insert(0, sys.argv[1])
from agentchain import Request, TrustPolicy, Verifier, PrivateKey
from tests.store_conformance import StoreSpec

spec, now = StoreSpec(*sys.argv[2:5]), int(sys.argv[5])
alice = PrivateKey.from_seed(bytes([1]) * 32)
policy = TrustPolicy(anchors=(alice.public_key,), audience="https://bank.example", max_ttl=604800)
verifier = Verifier(policy, store=spec.open(), clock=lambda: now)
print("ready", flush=True)
sys.stdin.readline()
outcomes = []
for line in sys.stdin:
    presentation, args = json.loads(line)
    request = Request("payments/create", "https://bank.example/payments", args)
    outcomes.append(verifier.verify(bytes.fromhex(presentation), request).outcome.value)
print(json.dumps(outcomes), flush=True)
"""


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_concurrent_300_eur_payments_in_separate_processes_allow_exactly_three(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # issue 18's done-when: one store shared by four verifier processes, 1,000 EUR a day
    url = request.getfixturevalue("redis_server").url if kind == "redis" else None
    spec = make_spec(kind, tmp_path, url)
    spec.open().close()  # the SQLite file exists before the race
    token = _token(Usage(limits=(EUR_1000_A_DAY,)))
    root = str(Path(__file__).resolve().parent.parent)
    lines = []
    for _ in range(4):
        batch = []
        for _ in range(2):
            presentation, payment = _pay(token, AGENT, 300)
            batch.append(json.dumps([presentation.to_bytes().hex(), dict(payment.args)]))
        lines.append("go\n" + "\n".join(batch) + "\n")
    argv = [sys.executable, "-c", VERIFIER_PROCESS, root, *spec.argv(), str(NOW + 10)]
    outputs = run_together([argv] * 4, inputs=lines, timeout=120)
    outcomes = [o for out in outputs for o in json.loads(out)]
    assert sorted(outcomes) == ["allow"] * 3 + ["deny"] * 5
