"""The MCP binding end to end (spec/mcp.md): the example server as a subprocess, over stdio
and over streamable HTTP, driven by the mcp SDK's ClientSession."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from agentchain import ApprovalRequirement, Caveat, Presentation, approve, delegate, issue
from agentchain.errors import AgentchainError
from agentchain.guard import sign_tool_call
from agentchain.keys import to_jwks
from agentchain.mcp import META_KEY, approval_digest, approval_request_of, call_tool_signed
from agentchain.model import parse_statement as parse
from tests.servers import AGENT, ALICE, MALLORY, SUB

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "examples" / "mcp_server.py"
AUD = "mcp://payments"
TOOLS = f"{AUD}/tools"


def token(root: Any = ALICE, tools: tuple[str, ...] = ("balance", "note")) -> Presentation:
    caps = [("payments/transfer", f"{TOOLS}/transfer")]
    caps += [("tools/call", f"{TOOLS}/{name}") for name in tools]
    link = issue(
        root,
        AGENT.public_key,
        capabilities=caps,
        depth=1,
        caveats=[Caveat(parse(["<=", ".amount", 1000]), ("payments",))],
        require_approval=[
            ApprovalRequirement(when=parse([">", ".amount", 200]), actions=("payments",))
        ],
    )
    return delegate(link, AGENT, SUB.public_key, capabilities=caps)


@pytest.fixture(scope="module")
def anchors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mcp") / "anchors.jwks"
    path.write_text(json.dumps(to_jwks([ALICE.public_key])))
    return path


@asynccontextmanager
async def stdio_session(anchors: Path) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable,
        args=[str(SERVER), "--trust", str(anchors), "--audience", AUD],
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def http_server(anchors: Path) -> Iterator[str]:
    port = _free_port()
    command = [sys.executable, str(SERVER), "--trust", str(anchors), "--audience", AUD]
    command += ["--transport", "http", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 20
        while True:  # bounded: until the port answers, the process dies, or 20 s pass
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode() if process.stderr else "died")
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the MCP server did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


@asynccontextmanager
async def http_session(url: str) -> AsyncIterator[ClientSession]:
    async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def refusal(result: CallToolResult) -> dict[str, Any]:
    # R-M.4-1: a refusal is a tool error with the code in its structured content
    assert result.is_error, result
    content = result.structured_content
    assert isinstance(content, dict)
    assert json.loads(result.content[0].text) == content  # type: ignore[union-attr]
    return content


async def scenario_core(session: ClientSession) -> None:
    """allow, deny, narrowed tools, needs_approval then approved, replay."""
    tok = token()

    async def call(name: str, args: dict[str, Any], **kw: Any) -> CallToolResult:
        return await call_tool_signed(session, tok, SUB, name, args, audience=AUD, **kw)

    # allow (the tool's own action, M.3)
    ok = await call("transfer", {"amount": 100, "to": "bob"}, action="payments/transfer")
    assert not ok.is_error and ok.content[0].text == "sent 100 to bob"  # type: ignore[union-attr]
    assert (await call("balance", {"account": "alice"})).structured_content == {"result": 120000}
    # deny: over the caveat's cap
    over = await call("transfer", {"amount": 5000, "to": "bob"}, action="payments/transfer")
    assert refusal(over)["code"] == "caveat_failed" and refusal(over)["outcome"] == "deny"
    # R-M.3-2: attenuation narrows an agent to some tools
    narrow = token(tools=("balance",))
    denied = await call_tool_signed(session, narrow, SUB, "note", {"text": "x"}, audience=AUD)
    assert refusal(denied)["code"] == "capability_missing"
    # R-M.3-1: the action must be the tool's own: signing tools/call for transfer is a mismatch
    wrong_action = await call("transfer", {"amount": 1, "to": "bob"})
    assert refusal(wrong_action)["code"] == "request_mismatch"
    # needs_approval, then approved (R-M.5-1); a server naming another digest is refused
    forged = CallToolResult(
        content=[],
        structured_content={"code": "approval_required", "approval_request": {"digest": "00"}},
        is_error=True,
    )
    with pytest.raises(AgentchainError):
        approval_digest(forged, tok, audience=AUD, name="transfer", arguments={"amount": 300})
    args = {"amount": 300, "to": "carol"}
    first = await call("transfer", args, action="payments/transfer")
    assert refusal(first)["outcome"] == "needs_approval"
    assert approval_request_of(first) is not None
    digest = approval_digest(
        first, tok, audience=AUD, name="transfer", arguments=args, action="payments/transfer"
    )
    assert digest is not None
    approved = await call(
        "transfer", args, action="payments/transfer", approvals=[approve(ALICE, digest)]
    )
    assert not approved.is_error, approved
    # replay: the same _meta twice
    # call_tool's ignores: META_KEY is an extra item of the SDK's RequestParamsMeta (PEP 728
    # extra_items), which mypy does not read yet
    meta = {
        META_KEY: sign_tool_call(tok, SUB, audience=AUD, name="balance", arguments={"account": "a"})
    }
    assert not (await session.call_tool("balance", {"account": "a"}, meta=meta)).is_error  # type: ignore[call-overload]
    again = await session.call_tool("balance", {"account": "a"}, meta=meta)  # type: ignore[call-overload]
    assert refusal(again)["code"] == "replay"


async def scenario_refusals(session: ClientSession) -> None:
    """invalid, missing, malformed, wrong audience, a float, a long string."""
    tok = token()
    # invalid: a root nobody trusts
    bad = await call_tool_signed(
        session, token(root=MALLORY), SUB, "balance", {"account": "a"}, audience=AUD
    )
    assert refusal(bad) == {
        "outcome": "invalid",
        "code": "root_untrusted",
        "detail": refusal(bad)["detail"],
    }
    # R-M.2-1: no presentation
    assert refusal(await session.call_tool("balance", {"account": "a"}))["code"] == (
        "presentation_missing"
    )
    # R-M.2-2: not a text form; a text form that does not decode (the ignores: see scenario_core)
    not_text = await session.call_tool("balance", {"account": "a"}, meta={META_KEY: 7})  # type: ignore[call-overload]
    assert refusal(not_text)["code"] == "header_invalid"
    garbage = await session.call_tool("balance", {"account": "a"}, meta={META_KEY: "zz.x"})  # type: ignore[call-overload]
    assert refusal(garbage)["code"] == "encoding_unknown"
    # wrong audience
    other = await call_tool_signed(
        session, tok, SUB, "balance", {"account": "a"}, audience="mcp://x"
    )
    assert refusal(other)["code"] == "audience_mismatch"
    # R-M.3-3: a float and a long string get the binding's codes, and the tool never runs
    signed = sign_tool_call(tok, SUB, audience=AUD, name="note", arguments={"text": "x"})
    floaty = await session.call_tool("note", {"text": "x", "n": 1.5}, meta={META_KEY: signed})  # type: ignore[call-overload]
    assert refusal(floaty)["code"] == "json_invalid"
    long = await session.call_tool("note", {"text": "x" * 5000}, meta={META_KEY: signed})  # type: ignore[call-overload]
    assert refusal(long)["code"] == "limit_exceeded"
    with pytest.raises(AgentchainError) as caught:
        await call_tool_signed(session, tok, SUB, "note", {"text": "x" * 5000}, audience=AUD)
    assert caught.value.code == "limit_exceeded"


def _run(
    factory: Callable[[], Any], *scenarios: Callable[[ClientSession], Awaitable[None]]
) -> None:
    async def main() -> None:
        async with factory() as session:
            for scenario in scenarios:
                await asyncio.wait_for(scenario(session), timeout=60)

    asyncio.run(main())


def test_mcp_over_stdio(anchors: Path) -> None:
    _run(lambda: stdio_session(anchors), scenario_core, scenario_refusals)


def test_mcp_over_streamable_http(anchors: Path) -> None:
    with http_server(anchors) as url:
        _run(lambda: http_session(url), scenario_core, scenario_refusals)


def test_tools_outside_the_guard_are_guarded_and_public_ones_are_not() -> None:
    """M.2: every tools/call is verified, tools registered without the guard included,
    except tools configured as public. In process (the SDK's in-memory transport)."""
    from mcp import Client
    from mcp.server.mcpserver import MCPServer

    from agentchain import TrustPolicy, Verifier
    from agentchain.mcp import McpGuard

    server = MCPServer("in-process")
    McpGuard(
        server,
        Verifier(TrustPolicy(anchors=(ALICE.public_key,), audience=AUD)),
        public=("ping",),
    )

    @server.tool()
    def unguarded(x: int) -> int:
        return x

    @server.tool()
    def ping() -> str:
        return "pong"

    async def main() -> tuple[CallToolResult, CallToolResult, CallToolResult]:
        async with Client(server) as client:
            refused = await client.call_tool("unguarded", {"x": 1})
            public = await client.call_tool("ping", {})
            tok = token(tools=("unguarded",))
            signed = await call_tool_signed(client, tok, SUB, "unguarded", {"x": 1}, audience=AUD)
            return refused, public, signed

    refused, public, signed = asyncio.run(main())
    assert refusal(refused)["code"] == "presentation_missing"
    assert not public.is_error and public.content[0].text == "pong"  # type: ignore[union-attr]
    assert not signed.is_error and signed.structured_content == {"result": 1}
