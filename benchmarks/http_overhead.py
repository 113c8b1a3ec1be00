"""What the HTTP binding costs (issue 15's numbers to report).

    python benchmarks/http_overhead.py [--requests 3000] [--rounds 3]

1. Requests per second through a real uvicorn server (a subprocess on a loopback
   port) with AgentChainMiddleware in front of a trivial ASGI app, against the same
   app without it: allow path, a depth-2 chain (alice -> agent -> sub), keep-alive
   connections. The load generator is this process: it signs every invocation
   before the clock starts (one fresh invocation per request), then sends them from
   a few threads, so the server side is what is measured.
2. The middleware's own cost beyond ``Verifier.verify``: the same presentations
   verified in process by ``Verifier.verify`` and by the middleware (header
   parsing, request mapping, ``verify_async``, the problem/allow answer, the log
   record), each on a fresh verifier and store; medians over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import MutableMapping
from typing import Any

from agentchain import (
    MemoryStore,
    Presentation,
    PrivateKey,
    Request,
    TrustPolicy,
    Verifier,
    delegate,
    invoke,
    issue,
)
from agentchain.http import AgentChainMiddleware, authorization_value
from agentchain.observe import Observer

ALICE = PrivateKey.from_seed(b"bench alice".ljust(32, b"."))
AGENT = PrivateKey.from_seed(b"bench agent".ljust(32, b"."))
SUB = PrivateKey.from_seed(b"bench sub".ljust(32, b"."))
PATH = "/accounts/alice"


def token(origin: str) -> Presentation:
    caps = [("http/get", f"{origin}/accounts/*")]
    link = issue(ALICE, AGENT.public_key, capabilities=caps, depth=1, ttl=3600)
    return delegate(link, AGENT, SUB.public_key, capabilities=caps)


def headers(origin: str, count: int) -> list[str]:
    tok = token(origin)
    return [
        authorization_value(
            invoke(tok, SUB, audience=origin, action="http/get", resource=origin + PATH).to_text()
        )
        for _ in range(count)
    ]


async def plain_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"ok"})


def guarded_app(origin: str) -> AgentChainMiddleware:
    policy = TrustPolicy(anchors=(ALICE.public_key,), audience=origin)
    return AgentChainMiddleware(plain_app, verifier=Verifier(policy, store=MemoryStore()))


# -- 1: through uvicorn --------------------------------------------------------


def _serve(kind: str, port: int) -> None:
    """The server process: uvicorn, one worker, the app with or without the middleware."""
    import uvicorn  # noqa: PLC0415 - only the server process needs it

    origin = f"http://127.0.0.1:{port}"
    app = guarded_app(origin) if kind == "guarded" else plain_app
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start")


def _load(port: int, values: list[str], threads: int) -> float:
    """Send one GET per header value over keep-alive connections; requests per second."""
    chunks = [values[i::threads] for i in range(threads)]
    failures: list[int] = []

    def worker(chunk: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for value in chunk:
            conn.request("GET", PATH, headers={"Authorization": value})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures.append(response.status)
        conn.close()

    workers = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, e.g. {failures[0]}")
    return len(values) / elapsed


def through_uvicorn(kind: str, requests: int, threads: int) -> float:
    port = _free_port()
    process = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port)])
    try:
        _wait(port, process)
        origin = f"http://127.0.0.1:{port}"
        _load(port, headers(origin, 200), threads)  # warm-up: imports, caches, connections
        return _load(port, headers(origin, requests), threads)
    finally:
        process.terminate()
        process.wait(timeout=10)


# -- 2: the middleware's own cost ------------------------------------------------


def overhead(requests: int) -> tuple[float, float]:
    """Median seconds per request: Verifier.verify then the app, and the middleware's app.

    Interleaved, one request each in turn on two verifiers of their own, so a load
    spike on a shared machine hits both sides alike; medians drop the spikes.
    """
    origin = "http://127.0.0.1:9"
    direct_values = headers(origin, requests)
    middleware_values = headers(origin, requests)
    request = Request("http/get", origin + PATH)
    policy = TrustPolicy(anchors=(ALICE.public_key,), audience=origin)
    verifier = Verifier(policy, store=MemoryStore())
    app = AgentChainMiddleware(
        plain_app, verifier=Verifier(policy, store=MemoryStore()), observer=Observer()
    )
    sent: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent.append(message["status"])

    async def run() -> tuple[list[float], list[float]]:
        direct: list[float] = []
        through: list[float] = []
        for plain_value, value in zip(direct_values, middleware_values, strict=True):
            text = plain_value.split(" ", 1)[1]
            scope = {
                "type": "http",
                "method": "GET",
                "path": PATH,
                "raw_path": PATH.encode(),
                "query_string": b"",
                "headers": [(b"authorization", value.encode())],
            }
            # without the middleware a service still verifies, then runs its app
            start = time.perf_counter()
            verifier.verify(text, request)
            await plain_app(scope, receive, send)
            direct.append(time.perf_counter() - start)
            start = time.perf_counter()
            await app(scope, receive, send)
            through.append(time.perf_counter() - start)
        return direct, through

    direct, through = asyncio.run(run())
    if set(sent) != {200}:
        raise RuntimeError(f"the middleware answered {set(sent)}")
    return statistics.median(direct), statistics.median(through)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--serve", choices=("plain", "guarded"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve, args.port)
        return
    print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}, depth 2, allow path")
    plain = [through_uvicorn("plain", args.requests, args.threads) for _ in range(args.rounds)]
    guarded = [through_uvicorn("guarded", args.requests, args.threads) for _ in range(args.rounds)]
    p, g = statistics.median(plain), statistics.median(guarded)
    print(f"uvicorn, no middleware:   {p:8.0f} req/s (median of {args.rounds})")
    print(f"uvicorn, with middleware: {g:8.0f} req/s ({g / p:.0%} of the plain app)")
    runs = [overhead(args.requests) for _ in range(args.rounds)]
    verify = statistics.median(r[0] for r in runs)
    middleware = statistics.median(r[1] for r in runs)
    extra = middleware - verify
    print(f"Verifier.verify + app:    {verify * 1e6:8.1f} us/request (median, interleaved)")
    print(f"middleware + app:         {middleware * 1e6:8.1f} us/request")
    print(f"middleware beyond verify: {extra * 1e6:8.1f} us/request ({extra / verify:.1%})")


if __name__ == "__main__":
    main()
