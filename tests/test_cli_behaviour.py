"""The behaviour factor on the command line (spec 9.5, 11): limit options, decisions, inspect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentchain import codec
from tests.test_cli import API, PAY, T1, Env, ok, run


@pytest.fixture
def env(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Env:
    return Env(tmp_path, capsys)


PAY_600 = {"amount": 600, "currency": "EUR"}


def test_spend_limit_from_issue_is_enforced_and_reported(env: Env, tmp_path: Path) -> None:
    token = env.issue(
        "--spend-limit", ".amount", "1000/1d", "--limit-actions", "payments",
        "--on-exceed", "approve", "--rate-limit", "5/1h",
    )  # fmt: skip
    (link,) = codec.decode_presentation_unverified(token.read_text()).links
    usage = link.claims.usage
    assert usage is not None and [lim.max for lim in usage.limits] == [5, 1000]
    store = tmp_path / "store.db"
    first = env.invoke(token, "agent", "payments/create", PAY, PAY_600)
    code, out, _ = env.verify(
        first, "payments/create", PAY, PAY_600, "--at", T1, "--store", store, "--json"
    )
    assert code == 0, out
    data = json.loads(out)
    assert data["factors"]["behaviour"] == "pass"
    assert [(u["kind"], u["used"], u["remaining"]) for u in data["usage"]] == [
        ("rate", 1, 4),
        ("spend", 600, 400),
    ]
    # the second 600 EUR would pass 1,000: it pauses for alice, and says what remains
    second = env.invoke(token, "agent", "payments/create", PAY, PAY_600)
    code, out, _ = env.verify(second, "payments/create", PAY, PAY_600, "--at", T1, "--store", store)
    assert code == 3, out
    assert out.startswith("needs_approval\n")
    assert "factors: signatures pass, possession pass, context pass" in out
    assert "behaviour required" in out
    assert "usage: link 0 spend limit 1: 600 of 1000 used, 400 remaining" in out


def test_delegate_adds_a_limit_and_a_novelty_rule(env: Env) -> None:
    parent = env.issue()
    sub = env.delegate(parent, "--rate-limit", "1/1d", "--novelty", "3")
    out = ok(env.capsys, "inspect", sub)
    assert "limit requests at most 1 per 1d, then deny" in out
    assert "novelty after 3 requests, a new action or host needs approval by" in out
    code, out, _ = run(env.capsys, "inspect", sub, "--json")
    assert code == 0
    described = json.loads(out)["links"][1]["usage"]
    assert described["limits"][0]["max"] == 1 and described["novelty"]["learn"] == 3


def test_limit_options_misused_are_usage_errors(env: Env) -> None:
    for status, extra in (
        (2, ("--on-exceed", "approve")),  # nothing to exceed
        (2, ("--limit-actions", "payments")),
        (2, ("--rate-limit", "10/fortnight")),
        (2, ("--rate-limit", "ten/1d")),
        (2, ("--rate-limit", "1/1d", "--limit-approver", str(env.pub("alice")))),  # it denies
        (1, ("--spend-limit", "amount", "10/1d")),  # schema_invalid: not a selector
        (1, ("--novelty", "0")),  # schema_invalid: learn is 1..65535
    ):
        code, _, err = run(
            env.capsys, "issue", "--key", env.key("alice"), "--to", env.pub("agent"),
            "--cap", "payments/create", f"{API}/payments/*", *extra,
        )  # fmt: skip
        assert code == status, (extra, err)
        assert err.count("\n") == 1, err  # one line, no traceback
