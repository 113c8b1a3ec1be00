"""Measurements for docs/fleet.md: a fleet of verifiers on memory, SQLite and Redis.

Run from the repository root (it starts its own redis-server on a free loopback port)::

    PYTHONPATH=. .venv/bin/python benchmarks/fleet.py [--decisions 3000] [--no-restart]

It prints four tables:

1. decisions per second, 1 and 2 verifier processes, depth 2, allow path, each
   decision a new invocation (new nonce) of the same chain;
2. what the store costs per decision: each store call timed alone, and Redis's own
   time per script (INFO commandstats);
3. bytes of Redis memory per nonce and per revocation entry;
4. kill -9 under load, then restart with each persistence setting: how many
   presentations allowed before the crash are allowed again after it (replays through).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from agentchain import (  # noqa: E402
    Descriptor,
    Presentation,
    PrivateKey,
    Request,
    TrustPolicy,
    Verifier,
    delegate,
    invoke,
    issue,
)
from agentchain.errors import StoreError  # noqa: E402
from agentchain.redis_store import RedisStore  # noqa: E402
from agentchain.store import NonceStatus  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.store_conformance import StoreSpec, unique_prefix  # noqa: E402

NOW = int(time.time())
API = "https://api.example"
ACTION, RESOURCE = "flights/search", f"{API}/flights/x"
ALICE = PrivateKey.from_seed(bytes([1]) * 32)
AGENT = PrivateKey.from_seed(bytes([2]) * 32)
SUB = PrivateKey.from_seed(bytes([3]) * 32)


def _token() -> Presentation:
    """alice -> agent -> sub: a chain of depth 2."""
    agent = issue(
        ALICE, AGENT.public_key, capabilities=[("flights", f"{API}/flights/*")], depth=1, now=NOW
    )
    return delegate(
        agent,
        AGENT,
        SUB.public_key,
        capabilities=[(ACTION, f"{API}/flights/*")],
        descriptor=Descriptor(kind="tool", name="sub"),
        now=NOW,
    )


def _presentations(count: int) -> list[bytes]:
    token = _token()
    return [
        invoke(token, SUB, audience=API, action=ACTION, resource=RESOURCE, now=NOW).to_bytes()
        for _ in range(count)
    ]


def _verifier(store: object) -> Verifier:
    policy = TrustPolicy(anchors=(ALICE.public_key,), audience=API)
    return Verifier(policy, store=store, clock=lambda: NOW + 1)  # type: ignore[arg-type]


REQUEST = Request(ACTION, RESOURCE)


# -- 1. throughput ------------------------------------------------------------------


def worker(spec: StoreSpec, count: int) -> None:
    """One verifier process: prepare, wait for "go", decide ``count`` times, report."""
    items = _presentations(count)
    store = spec.open()
    verifier = _verifier(store)
    verifier.verify(_presentations(1)[0], REQUEST)  # warm: connection, scripts, caches
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    allowed = sum(verifier.verify(p, REQUEST).outcome.value == "allow" for p in items)
    elapsed = time.perf_counter() - started
    store.close()
    print(f"{allowed} {elapsed}", flush=True)


def _race(spec: StoreSpec, processes: int, count: int) -> float:
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", *spec.argv(), str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=600)[0].split() for p in procs]
    allowed = sum(int(r[0]) for r in results)
    assert allowed == processes * count, f"{allowed} of {processes * count} allowed"
    return allowed / max(float(r[1]) for r in results)


def throughput(url: str, tmp: Path, count: int, rounds: int) -> dict[tuple[str, int], float]:
    """Median decisions/s per (store, processes). Rounds interleave the cells, so that a
    change in the machine's other load during the run falls on every store alike."""
    runs: dict[tuple[str, int], list[float]] = {}
    for round_ in range(rounds):
        for processes in (1, 2):
            for kind in ("memory", "sqlite", "redis"):
                if kind == "memory":  # per process: not shared, the ceiling
                    spec = StoreSpec("memory")
                elif kind == "sqlite":
                    spec = StoreSpec("sqlite", str(tmp / f"bench-{processes}-{round_}.db"))
                else:
                    spec = StoreSpec("redis", url, unique_prefix())
                runs.setdefault((kind, processes), []).append(_race(spec, processes, count))
    return {cell: statistics.median(rates) for cell, rates in runs.items()}


# -- 2. the store's share of a decision ----------------------------------------------


def per_call(url: str, tmp: Path, calls: int) -> list[tuple[str, float, float]]:
    rows = []
    ids = [bytes([i]) * 32 for i in range(2)]  # a depth-2 chain has two links to look up
    targets = [bytes([i]) * 32 for i in range(2, 7)]  # and five signed-revocation targets
    for kind in ("memory", "sqlite", "redis"):
        store = (
            StoreSpec("memory")
            if kind == "memory"
            else StoreSpec("sqlite", str(tmp / "calls.db"))
            if kind == "sqlite"
            else StoreSpec("redis", url, unique_prefix())
        ).open()
        started = time.perf_counter()
        for i in range(calls):
            store.use_nonce(i.to_bytes(32, "big"), expires_at=NOW + 400, now=NOW)
        nonce_us = (time.perf_counter() - started) / calls * 1e6
        started = time.perf_counter()
        for _ in range(calls):
            store.lookup_revocations(ids, targets)
        revoked_us = (time.perf_counter() - started) / calls * 1e6
        store.close()
        rows.append((kind, nonce_us, revoked_us))
    return rows


def decision_without_store(count: int) -> float:
    """us per decision with a store that does nothing: the verifier's own work."""

    class Null:
        def revoke(self, revocation_id: bytes, *, until: int | None = None) -> None:
            pass

        def first_revoked(self, revocation_ids: object) -> None:
            return None

        def use_nonce(self, key: bytes, *, expires_at: int, now: int) -> NonceStatus:
            return NonceStatus.FRESH

        def record_revocation(self, record: object) -> None:
            pass

        def revocations(self, targets: object) -> tuple[()]:
            return ()

        def export_revocations(self) -> tuple[()]:
            return ()

        def lookup_revocations(self, ids: object, targets: object) -> tuple[None, tuple[()]]:
            return None, ()

    items = _presentations(count)
    verifier = _verifier(Null())
    verifier.verify(items[0], REQUEST)
    started = time.perf_counter()
    for p in items:
        verifier.verify(p, REQUEST)
    return (time.perf_counter() - started) / count * 1e6


def round_trips_per_decision(url: str, count: int) -> float:
    """Commands Redis received per decision (each script call is one round trip)."""
    client = redis.Redis.from_url(url)
    store = RedisStore.from_url(url, prefix=unique_prefix())
    verifier = _verifier(store)
    items = _presentations(count + 1)
    verifier.verify(items[0], REQUEST)  # loads the scripts
    client.config_resetstat()
    for p in items[1:]:
        verifier.verify(p, REQUEST)
    stats = client.info("commandstats")
    store.close()
    client.close()
    # commands the scripts run inside Redis are counted too (GET, SET, EXISTS): only
    # the script calls, and anything else a client sent, are round trips
    sent = {"cmdstat_evalsha", "cmdstat_eval", "cmdstat_script|load", "cmdstat_ping"}
    calls = sum(int(v["calls"]) for k, v in stats.items() if k in sent)
    return calls / count


def server_script_cost(url: str) -> dict[str, float]:
    client = redis.Redis.from_url(url)
    stats = client.info("commandstats")
    client.close()
    return {
        name.removeprefix("cmdstat_"): float(value["usec_per_call"])
        for name, value in stats.items()
        if name in {"cmdstat_evalsha", "cmdstat_eval"}
    }


# -- 3. memory per entry -------------------------------------------------------------


def bytes_per_entry(url: str, entries: int) -> tuple[float, float]:
    client = redis.Redis.from_url(url)
    client.flushall()
    store = RedisStore.from_url(url)
    base = int(client.info("memory")["used_memory"])
    for i in range(entries):  # 32-byte keys, as the verifier's digests are
        store.use_nonce(i.to_bytes(32, "big"), expires_at=NOW + 400, now=NOW)
    nonces = int(client.info("memory")["used_memory"])
    for i in range(entries):
        store.revoke(i.to_bytes(32, "big"), until=NOW + 86400)
    revocations = int(client.info("memory")["used_memory"])
    store.close()
    client.flushall()
    client.close()
    return (nonces - base) / entries, (revocations - nonces) / entries


# -- 4. kill -9 under load ------------------------------------------------------------


def crash(tmp: Path, appendfsync: str, load_seconds: float) -> dict[str, float]:
    """Verify fresh presentations in a loop; kill -9 Redis; restart it; replay what was allowed.

    ``appendfsync`` "no-persistence" runs Redis with appendonly off: the baseline.
    """
    server = RedisServer(tmp, appendfsync=None if appendfsync == "no-persistence" else appendfsync)
    server.start()
    try:
        items = _presentations(int(load_seconds * 4000))
        allowed: list[bytes] = []
        errors = 0
        done = threading.Event()
        store = RedisStore.from_url(server.url, timeout=0.5)
        verifier = _verifier(store)

        def load() -> None:
            nonlocal errors
            for p in items:
                if done.is_set():
                    return
                try:
                    if verifier.verify(p, REQUEST).outcome.value == "allow":
                        allowed.append(p)
                except StoreError:
                    errors += 1
                    time.sleep(0.01)

        loader = threading.Thread(target=load)
        started = time.perf_counter()
        loader.start()
        time.sleep(load_seconds / 2)
        server.kill()
        crashed_at = len(allowed)  # nothing is allowed while the server is down
        down = time.perf_counter()
        server.restart()  # same port, same directory: replays the append-only file
        restarted = time.perf_counter() - down
        time.sleep(load_seconds / 4)
        done.set()
        loader.join()
        elapsed = time.perf_counter() - started
        # every presentation allowed before the crash, sent again to a fresh verifier
        store2 = RedisStore.from_url(server.url)
        replays = sum(
            _verifier(store2).verify(p, REQUEST).outcome.value == "allow"
            for p in allowed[:crashed_at]
        )
        store2.close()
        store.close()
        return {
            "allowed_before_crash": crashed_at,
            "replays_through": replays,
            "store_errors": errors,
            "restart_seconds": restarted,
            "decisions_per_second": len(allowed) / elapsed,
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=2000, help="per process and run")
    parser.add_argument("--rounds", type=int, default=5, help="runs per cell; the median")
    parser.add_argument("--no-restart", action="store_true", help="skip the kill -9 test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        (tmp / "redis").mkdir()
        server = RedisServer(tmp / "redis", appendfsync="everysec")
        server.start()
        try:
            rates = throughput(server.url, tmp, args.decisions, args.rounds)
            print("\n| store | 1 process | 2 processes | vs memory (1 / 2) |")
            print("|---|---|---|---|")
            for kind in ("memory", "sqlite", "redis"):
                one, two = rates[kind, 1], rates[kind, 2]
                ratio = f"{one / rates['memory', 1]:.0%} / {two / rates['memory', 2]:.0%}"
                print(f"| {kind} | {one:,.0f}/s | {two:,.0f}/s | {ratio} |")
            own = decision_without_store(args.decisions)
            print(f"\nverifier's own work per decision (store doing nothing): {own:.0f} us")
            print("\n| store | use_nonce | lookup_revocations (2 ids, 5 targets) |")
            print("|---|---|---|")
            for kind, nonce_us, revoked_us in per_call(server.url, tmp, args.decisions):
                print(f"| {kind} | {nonce_us:.1f} us | {revoked_us:.1f} us |")
            print(f"\nRedis's own time per script call: {server_script_cost(server.url)} us")
            trips = round_trips_per_decision(server.url, 500)
            print(f"round trips to Redis per decision: {trips:.2f}")
            per_nonce, per_revocation = bytes_per_entry(server.url, 50_000)
            print(
                f"\nRedis memory: {per_nonce:.0f} bytes per nonce entry, "
                f"{per_revocation:.0f} bytes per revocation entry (50,000 of each)"
            )
        finally:
            server.stop()
        if not args.no_restart:
            print("\n| appendfsync | allowed before kill -9 | replays through | store errors "
                  "| restart | decisions/s under load |")  # fmt: skip
            print("|---|---|---|---|---|---|")
            for policy in ("no-persistence", "everysec", "always"):
                (tmp / policy).mkdir()
                r = crash(tmp / policy, policy, load_seconds=4.0)
                print(
                    f"| {policy} | {r['allowed_before_crash']:.0f} | {r['replays_through']:.0f} "
                    f"| {r['store_errors']:.0f} | {r['restart_seconds']:.2f} s "
                    f"| {r['decisions_per_second']:,.0f} |"
                )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(StoreSpec(*sys.argv[2:5]), int(sys.argv[5]))
    else:
        os.environ.setdefault("PYTHONHASHSEED", "0")
        main()
