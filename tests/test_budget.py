"""The step budget bounds the real work of a verification (spec 6.3; issue 14, finding 1)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentchain import Limits, codec, policy
from agentchain.crypto import PrivateKey
from agentchain.issuer import delegate, invoke, issue
from agentchain.model import ApprovalRequirement, parse_statement
from agentchain.store import MemoryStore
from agentchain.verifier import Outcome, Request, TrustPolicy, Verifier

NOW = 1_800_000_000
AUD = "https://bank.example"
ACTION = "pay/send"
RESOURCE = "https://bank.example/accounts/alice"
CAPS = ((ACTION, "https://bank.example/*"),)
KEYS = [PrivateKey.from_seed(codec.digest(f"budget/{i}".encode())) for i in range(8)]


def _rng(label: str) -> Callable[[int], bytes]:
    counter = iter(range(1 << 30))
    return lambda size: codec.digest(f"{label}/{next(counter)}".encode())[:size]


def _verify(
    links: list[list[object]],
    args: dict[str, object],
    *,
    approvals: tuple[ApprovalRequirement, ...] = (),
) -> tuple[Outcome, str, float]:
    """A chain of ``len(links)`` links, link i adding the caveats links[i]; verified once."""
    rng = _rng("budget")
    token = issue(
        KEYS[0],
        KEYS[1].public_key,
        capabilities=CAPS,
        caveats=links[0],
        require_approval=approvals,
        depth=len(links),
        now=NOW,
        rng=rng,
    )
    for i in range(1, len(links)):
        token = delegate(
            token,
            KEYS[i],
            KEYS[i + 1].public_key,
            capabilities=CAPS,
            caveats=links[i],
            now=NOW,
            rng=rng,
        )
    holder = KEYS[len(links)]
    data = invoke(
        token, holder, audience=AUD, action=ACTION, resource=RESOURCE, args=args, now=NOW, rng=rng
    ).to_bytes()
    verifier = Verifier(
        TrustPolicy(anchors=(KEYS[0].public_key,), audience=AUD),
        store=MemoryStore(),
        clock=lambda: NOW,
        prefix_cache=False,
    )
    start = time.perf_counter()
    decision = verifier.verify(data, Request(ACTION, RESOURCE, args))
    elapsed = time.perf_counter() - start
    message = decision.reasons[0].message if decision.reasons else ""
    return decision.outcome, message, elapsed


def test_the_issue_14_attack_is_bounded() -> None:
    # R-6.3-2 R-6.3-3: a holder allowed to delegate adds, in five links of its own, a like
    # of 4,096 stars under `all` and invokes over 2,035 empty strings. It took 9.5 s with a
    # budget per link and one step per like; now every segment is charged, once per request.
    stars = ["all", ".xs", ["like", ".", "*" * 4096]]
    outcome, message, elapsed = _verify([[stars]] * 5, {"xs": [""] * 2035})
    assert outcome is Outcome.DENY
    assert "link 0" in message and "step budget of 10000 exhausted" in message
    assert elapsed < 0.5  # 9.5 s before; the bench's `worst` row measures it precisely


def test_links_restating_caveats_share_one_budget() -> None:
    # R-6.3-3: each link alone fits the budget (4,802 steps), the two together do not
    spend = ["all", ".xs", ["==", ".", 0]]
    args: dict[str, object] = {"xs": [0] * 1600}
    assert _verify([[spend], []], args)[0] is Outcome.ALLOW
    outcome, message, _ = _verify([[spend], [spend], [spend]], args)
    assert outcome is Outcome.DENY and "link 2" in message and "budget" in message


def test_approval_conditions_share_the_budget_of_the_caveats() -> None:
    # R-6.3-3: a `when` that would be FALSE is ERROR once the caveats spent the budget,
    # and ERROR applies the requirement (spec 9.2): never a fresh budget per requirement
    when = ApprovalRequirement(when=parse_statement(["==", ".z", 1]))  # 3 steps, FALSE
    spend = ["all", ".xs", ["==", ".", 0]]  # 4,802 steps over 1,600 elements
    top_up = ["all", ".ys", ["==", ".", 0]]  # 395 steps over 131 elements
    args: dict[str, object] = {"xs": [0] * 1600, "ys": [0] * 131, "z": 0}
    assert _verify([[spend]], args, approvals=(when,))[0] is Outcome.ALLOW
    # 9,999 steps of caveats: they hold, and the `when` finds 1 step left
    outcome, _, _ = _verify([[spend, spend, top_up]], args, approvals=(when,))
    assert outcome is Outcome.NEEDS_APPROVAL


_STATEMENTS = {
    "cheap": ["==", ".a", 1],  # true
    "spend": ["all", ".xs", ["==", ".", 0]],  # true, 1 + 3 per element
    "false": ["==", ".a", 2],
    "missing": ["==", ".nope", 1],  # error: the selector finds nothing
}


@given(
    names=st.lists(st.sampled_from(sorted(_STATEMENTS)), min_size=0, max_size=3),
    elements=st.integers(0, 40),
    limit=st.integers(1, 400),
    spent_before=st.integers(0, 400),
    times=st.integers(1, 8),
)
def test_a_repeated_ask_is_the_asks_one_by_one(
    names: list[str], elements: int, limit: int, spent_before: int, times: int
) -> None:
    # Evaluation.repeated (V8 over a run of links sharing one caveat tuple) answers, names
    # the ask and leaves the budget exactly as asking Evaluation.caveats ``times`` times in
    # a row, stopping at the first answer that is not true
    statements = [parse_statement(_STATEMENTS[n]) for n in names]
    args: dict[str, object] = {"a": 1, "xs": [0] * elements}
    limits = Limits(max_policy_steps=limit)

    def fresh() -> policy.Evaluation:
        evaluation = policy.Evaluation(args, limits=limits)
        evaluation.budget.take(min(spent_before, limit))  # what earlier links spent
        return evaluation

    one_by_one = fresh()
    expected = None
    for asked in range(times):
        result = one_by_one.caveats(statements)
        expected = (result, asked)
        if result.outcome != "true":
            break
    repeated = fresh()
    assert repeated.repeated(statements, times) == expected
    assert repeated.budget.left == one_by_one.budget.left


def test_a_repeated_ask_is_asked_at_least_once() -> None:
    with pytest.raises(ValueError, match="at least once"):
        policy.Evaluation({}).repeated([], 0)
