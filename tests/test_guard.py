"""The generic tool guard (spec/mcp.md M.6) and observability (logging, OpenTelemetry)."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentchain import (
    ApprovalRequirement,
    Decision,
    Presentation,
    TrustPolicy,
    UsageError,
    Verifier,
    approve,
    delegate,
    issue,
    request_digest,
)
from agentchain.errors import AgentchainError
from agentchain.guard import DeniedError, NeedsApprovalError, ToolGuard, sign_tool_call
from agentchain.model import parse_statement as parse
from agentchain.observe import Observer
from tests.servers import AGENT, ALICE, MALLORY, SUB

ROOT = Path(__file__).resolve().parent.parent
AUD = "urn:example:tools"


def token(root: Any = ALICE) -> Presentation:
    caps = [("tools/call", f"{AUD}/tools/*")]
    link = issue(
        root,
        AGENT.public_key,
        capabilities=caps,
        depth=1,
        require_approval=[ApprovalRequirement(when=parse([">", ".n", 10]))],
    )
    return delegate(link, AGENT, SUB.public_key, capabilities=caps)


def make_guard(observer: Observer | None = None) -> ToolGuard:
    policy = TrustPolicy(anchors=(ALICE.public_key,), audience=AUD)
    return ToolGuard(Verifier(policy), observer=observer)


def test_sync_and_async_tools_run_only_when_allowed() -> None:
    # R-M.6-1
    guard = make_guard()
    ran: list[str] = []

    @guard.tool()
    def count(n: int) -> int:
        ran.append("count")
        return n + 1

    @guard.tool(name="acount")
    async def acount(n: int, decision: Decision) -> int:
        ran.append("acount")
        assert decision.chain.principals[-1].key == SUB.public_key
        return n * 2

    tok = token()

    def sign(name: str, **args: Any) -> str:
        return sign_tool_call(tok, SUB, audience=AUD, name=name, arguments=args)

    assert count(3, presentation=sign("count", n=3)) == 4  # positional binds by name
    assert asyncio.run(acount(n=4, presentation=sign("acount", n=4))) == 8
    with pytest.raises(AgentchainError) as missing:
        count(n=1)
    assert missing.value.code == "presentation_missing"
    with pytest.raises(DeniedError) as replayed:
        text = sign("count", n=1)
        count(n=1, presentation=text)
        count(n=1, presentation=text)
    assert replayed.value.code == "replay"
    with pytest.raises(DeniedError) as mismatch:
        count(n=2, presentation=sign("count", n=1))
    assert mismatch.value.code == "request_mismatch"
    with pytest.raises(AgentchainError) as untrusted:
        bad = sign_tool_call(token(MALLORY), SUB, audience=AUD, name="count", arguments={"n": 1})
        count(n=1, presentation=bad)
    assert untrusted.value.code == "root_untrusted"
    with pytest.raises(AgentchainError) as floaty:
        count(n=1.5, presentation=sign("count", n=1))
    assert floaty.value.code == "json_invalid"
    assert ran == ["count", "acount", "count"]


def test_needs_approval_then_approved() -> None:
    guard = make_guard()

    @guard.tool()
    async def big(n: int) -> int:
        return n

    tok = token()
    text = sign_tool_call(tok, SUB, audience=AUD, name="big", arguments={"n": 50})
    with pytest.raises(NeedsApprovalError) as caught:
        asyncio.run(big(n=50, presentation=text))
    assert caught.value.code == "approval_required"
    wanted = request_digest(tok.chain_digest, AUD, "tools/call", f"{AUD}/tools/big", {"n": 50})
    assert caught.value.approval_request["digest"] == wanted.hex()
    approved = sign_tool_call(
        tok, SUB, audience=AUD, name="big", arguments={"n": 50}, approvals=[approve(ALICE, wanted)]
    )
    assert asyncio.run(big(n=50, presentation=approved)) == 50


def test_guard_needs_a_verifier() -> None:
    with pytest.raises(UsageError):
        ToolGuard(lambda: "not a verifier")  # type: ignore[arg-type, return-value]


def test_worked_example_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "tool_guard.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.splitlines() == [
        "send_email to bob@example.com: sent 'hello' to bob@example.com",
        "send_email to eve@example.com: refused (caveat_failed)",
        "send_email to bob@example.comx: refused (caveat_failed)",
        "delete_mailbox alice: refused (capability_missing)",
    ]


# -- observability ---------------------------------------------------------------


def test_one_log_record_and_one_span_per_decision(caplog: pytest.LogCaptureFixture) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    guard = make_guard(Observer(otel=True, tracer_provider=provider))

    @guard.tool()
    def echo(n: int) -> int:
        return n

    tok = token()
    caplog.set_level(logging.INFO, logger="agentchain")
    echo(n=1, presentation=sign_tool_call(tok, SUB, audience=AUD, name="echo", arguments={"n": 1}))
    with pytest.raises(AgentchainError):
        echo(n=1, presentation="ac1c.AAAA")
    records = [r for r in caplog.records if r.name == "agentchain.decision"]
    assert [r.levelno for r in records] == [logging.INFO, logging.WARNING]
    allow = records[0].agentchain  # type: ignore[attr-defined]
    assert allow["agentchain.outcome"] == "allow" and allow["agentchain.depth"] == 2
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["agentchain.verify", "agentchain.verify"]
    first, second = (dict(s.attributes or {}) for s in spans)
    assert first["agentchain.outcome"] == "allow"
    assert first["agentchain.principals"] == (
        ALICE.public_key.kid,
        AGENT.public_key.kid,
        SUB.public_key.kid,
    )
    assert first["agentchain.factor.possession"] == "pass"
    assert first["agentchain.factor.oversight"] == "not_required"
    assert second["agentchain.outcome"] == "invalid"
    assert second["agentchain.code"] == "cbor_trailing"
    assert spans[1].status.status_code.name == "ERROR"
