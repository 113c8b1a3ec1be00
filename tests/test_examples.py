"""examples/ run as docs/integrations.md documents them: keys and tokens from the CLI, the
services as subprocesses on loopback ports, the agents as subprocesses."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
MCP_AUD = "mcp://payments"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(cwd: Path, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "agentchain", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """alice -> agent -> sub, for the HTTP service on ``port`` and the MCP server."""
    work = tmp_path_factory.mktemp("examples")
    port = _free_port()
    origin = f"http://127.0.0.1:{port}"
    for name in ("alice", "agent", "sub"):
        _cli(work, "keygen", "--out", f"{name}.jwk", "--name", f"urn:example:{name}")
    caps = [
        ("payments/transfer", f"{origin}/transfers"),
        ("http/get", f"{origin}/accounts/*"),
        ("payments/transfer", f"{MCP_AUD}/tools/transfer"),
        ("tools/call", f"{MCP_AUD}/tools/balance"),
    ]
    cap_args = [arg for action, resource in caps for arg in ("--cap", action, resource)]
    approval = ["--require-approval", '[">", ".amount", 200]', "--approval-actions", "payments"]
    token = _cli(
        work,
        *("issue", "--key", "alice.jwk", "--to", "agent.pub.jwk", "--depth", "1", "--ttl", "1h"),
        *cap_args,
        *approval,
    )
    (work / "agent.token").write_text(token)
    sub = _cli(
        work,
        *("delegate", "--token", "agent.token", "--key", "agent.jwk", "--to", "sub.pub.jwk"),
        *("--purpose", "pay the invoices"),
        *cap_args,
    )
    (work / "sub.token").write_text(sub)
    return work, port


@contextmanager
def running(command: list[str], cwd: Path, ready: str) -> Iterator[None]:
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:  # bounded: until it answers, dies, or 20 s pass
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode() if process.stderr else "died")
            try:
                httpx.get(ready, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[1]} did not start") from None
                time.sleep(0.05)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def _agent(
    work: Path, script: str, *argv: str, key_env: bool = False
) -> tuple[int, dict[str, object]]:
    env = dict(os.environ)
    if key_env:
        env["AGENTCHAIN_PRIVATE_KEY"] = (work / "sub.jwk").read_text()
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *argv],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout.splitlines()[-1])


def test_fastapi_service_and_http_agent(setup: tuple[Path, int]) -> None:
    work, port = setup
    service = f"http://127.0.0.1:{port}"
    command = [sys.executable, str(EXAMPLES / "fastapi_service.py"), "--trust", "alice.pub.jwk"]
    command += ["--port", str(port), "--store", "state.sqlite"]
    with running(command, work, f"{service}/health"):
        agent = ("--service", service, "--token", "sub.token")
        code, out = _agent(work, "http_agent.py", *agent, "transfer", "100", "bob", key_env=True)
        assert code == 0 and out["status"] == 200, out
        body = out["body"]
        assert isinstance(body, dict) and body["purpose"] == "pay the invoices"
        code, out = _agent(work, "http_agent.py", *agent, "balance", "alice", key_env=True)
        assert code == 0 and out["status"] == 200, out
        code, out = _agent(work, "http_agent.py", *agent, "get", "/admin", key_env=True)
        assert code == 1 and out["status"] == 403 and out["body"]["code"] == "capability_missing"  # type: ignore[index]
        code, out = _agent(work, "http_agent.py", *agent, "transfer", "300", "bob", key_env=True)
        assert code == 3 and out["code"] == "approval_required", out
        approved = ("--approver-key", "alice.jwk", "transfer", "300", "bob")
        code, out = _agent(work, "http_agent.py", *agent, *approved, key_env=True)
        assert code == 0 and out["status"] == 200, out
        unsigned = httpx.post(f"{service}/transfers", json={"amount": 1, "to": "x"}, timeout=10)
        assert unsigned.status_code == 401


def test_mcp_server_and_agent_over_stdio(setup: tuple[Path, int]) -> None:
    work, _ = setup
    (work / "anchors.jwks").write_text(
        json.dumps({"keys": [json.loads((work / "alice.pub.jwk").read_text())]})
    )
    server = (
        f"{sys.executable} {EXAMPLES / 'mcp_server.py'} --trust anchors.jwks --audience {MCP_AUD}"
    )
    base = ("--token", "sub.token", "--key", "sub.jwk", "--stdio", server)
    code, out = _agent(work, "mcp_agent.py", *base, "balance", '{"account": "alice"}')
    assert code == 0 and out["structured"] == {"result": 120000}, out
    transfer = ("--action", "payments/transfer", "transfer", '{"amount": 300, "to": "bob"}')
    code, out = _agent(work, "mcp_agent.py", *base, *transfer)
    assert code == 1 and out["structured"]["outcome"] == "needs_approval"  # type: ignore[index]
    code, out = _agent(work, "mcp_agent.py", *base, "--approver-key", "alice.jwk", *transfer)
    assert code == 0 and out["is_error"] is False, out


def test_mcp_server_and_agent_over_streamable_http(setup: tuple[Path, int]) -> None:
    work, _ = setup
    (work / "anchors.jwks").write_text(
        json.dumps({"keys": [json.loads((work / "alice.pub.jwk").read_text())]})
    )
    port = _free_port()
    command = [sys.executable, str(EXAMPLES / "mcp_server.py"), "--trust", "anchors.jwks"]
    command += ["--audience", MCP_AUD, "--transport", "http", "--port", str(port)]
    with running(command, work, f"http://127.0.0.1:{port}/"):
        base = ("--token", "sub.token", "--key", "sub.jwk", "--url", f"http://127.0.0.1:{port}/mcp")
        code, out = _agent(work, "mcp_agent.py", *base, "balance", '{"account": "alice"}')
        assert code == 0 and out["structured"] == {"result": 120000}, out
        code, out = _agent(work, "mcp_agent.py", *base, "transfer", '{"amount": 5, "to": "bob"}')
        assert code == 1 and out["structured"]["code"] == "request_mismatch"  # type: ignore[index]
