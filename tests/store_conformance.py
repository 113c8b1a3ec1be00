"""The stores under the conformance suite (tests/test_store_conformance.py) and how to open them.

Every kind is opened by a :class:`StoreSpec`, so that the same store can be
opened again (a restart) or from another process (the races). The async Redis
client runs the same synchronous tests through :class:`BlockingAsyncStore`.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from agentchain.redis_store import AsyncRedisStore, RedisStore
from agentchain.store import (
    MemoryStore,
    NonceStatus,
    RevocationRecord,
    SQLiteStore,
    UsageResult,
    Use,
)

T = TypeVar("T")

#: every store the suite runs over; "memory" cannot be shared between processes
KINDS = ("memory", "sqlite", "redis", "redis-async")
SHARED_KINDS = ("sqlite", "redis", "redis-async")


class ClosableStore(Protocol):
    def revoke(self, revocation_id: bytes, *, until: int | None = None) -> None: ...
    def first_revoked(self, revocation_ids: Iterable[bytes]) -> bytes | None: ...
    def use_nonce(self, key: bytes, *, expires_at: int, now: int) -> NonceStatus: ...
    def consume(self, use: Use, *, now: int) -> UsageResult: ...
    def record_revocation(self, record: RevocationRecord) -> None: ...
    def revocations(self, targets: Iterable[bytes]) -> tuple[RevocationRecord, ...]: ...
    def export_revocations(self) -> tuple[RevocationRecord, ...]: ...
    def lookup_revocations(
        self, revocation_ids: Iterable[bytes], targets: Iterable[bytes]
    ) -> tuple[bytes | None, tuple[RevocationRecord, ...]]: ...
    def close(self) -> None: ...


class _ClosableMemoryStore(MemoryStore):
    def close(self) -> None:
        pass


class BlockingAsyncStore:
    """:class:`AsyncRedisStore` driven from synchronous code, on its own event loop."""

    def __init__(self, url: str, prefix: str) -> None:
        self._loop = asyncio.new_event_loop()
        self.inner = AsyncRedisStore.from_url(url, prefix=prefix)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._loop.is_closed():  # after close(): the store itself must refuse
            return asyncio.run(coroutine)
        return self._loop.run_until_complete(coroutine)

    def revoke(self, revocation_id: bytes, *, until: int | None = None) -> None:
        self.run(self.inner.revoke(revocation_id, until=until))

    def first_revoked(self, revocation_ids: Iterable[bytes]) -> bytes | None:
        return self.run(self.inner.first_revoked(revocation_ids))

    def use_nonce(self, key: bytes, *, expires_at: int, now: int) -> NonceStatus:
        return self.run(self.inner.use_nonce(key, expires_at=expires_at, now=now))

    def consume(self, use: Use, *, now: int) -> UsageResult:
        return self.run(self.inner.consume(use, now=now))

    def record_revocation(self, record: RevocationRecord) -> None:
        self.run(self.inner.record_revocation(record))

    def revocations(self, targets: Iterable[bytes]) -> tuple[RevocationRecord, ...]:
        return self.run(self.inner.revocations(targets))

    def export_revocations(self) -> tuple[RevocationRecord, ...]:
        return self.run(self.inner.export_revocations())

    def lookup_revocations(
        self, revocation_ids: Iterable[bytes], targets: Iterable[bytes]
    ) -> tuple[bytes | None, tuple[RevocationRecord, ...]]:
        return self.run(self.inner.lookup_revocations(revocation_ids, targets))

    def close(self) -> None:
        if not self._loop.is_closed():
            try:
                self._loop.run_until_complete(self.inner.aclose())
            finally:
                self._loop.close()


def unique_prefix() -> str:
    """Tests share one Redis: each gets its own key prefix, as separate services would."""
    return f"t{uuid.uuid4().hex[:12]}:"


@dataclass(frozen=True)
class StoreSpec:
    """Enough to open a store again: its kind and where it lives."""

    kind: str
    location: str = ""  # SQLite path or Redis URL
    prefix: str = ""  # Redis key prefix

    def open(self) -> ClosableStore:
        if self.kind == "memory":
            return _ClosableMemoryStore()
        if self.kind == "sqlite":
            return SQLiteStore(self.location, busy_timeout=20)
        if self.kind == "redis":
            return RedisStore.from_url(self.location, prefix=self.prefix)
        if self.kind == "redis-async":
            return BlockingAsyncStore(self.location, self.prefix)
        raise ValueError(self.kind)

    def argv(self) -> list[str]:
        return [self.kind, self.location, self.prefix]


def make_spec(kind: str, tmp_path: Path, redis_url: str | None) -> StoreSpec:
    if kind in {"redis", "redis-async"}:
        assert redis_url is not None
        return StoreSpec(kind, redis_url, unique_prefix())
    if kind == "sqlite":
        return StoreSpec(kind, str(tmp_path / "store.db"))
    return StoreSpec(kind)


# One racer process: opens its own store, waits for "go", then uses every key
# (odd seeds in a random order, even seeds all in the same order) and prints the
# keys it saw FRESH. The async client sends all its keys at once.
RACER = """
import asyncio, random, sys
sys.path.insert(0, sys.argv[1])
from tests.store_conformance import StoreSpec
from agentchain.store import NonceStatus

spec = StoreSpec(*sys.argv[2:5])
seed, count = int(sys.argv[5]), int(sys.argv[6])
keys = [i.to_bytes(4, "big") for i in range(count)]
if seed % 2:
    random.Random(seed).shuffle(keys)
store = spec.open()
print("ready", flush=True)
sys.stdin.readline()
if spec.kind == "redis-async":
    inner = store.inner
    async def all_at_once():
        return await asyncio.gather(
            *(inner.use_nonce(k, expires_at=10**9, now=1000) for k in keys)
        )
    answers = store.run(all_at_once())
else:
    answers = [store.use_nonce(k, expires_at=10**9, now=1000) for k in keys]
store.close()
print(" ".join(k.hex() for k, a in zip(keys, answers) if a is NonceStatus.FRESH), flush=True)
"""


def run_together(
    argvs: list[list[str]], *, inputs: list[str] | None = None, timeout: float = 60
) -> list[str]:
    """Start a process per argv, wait until every one prints "ready", then send each its
    input ("go" by default) at once, so they race; their outputs, in order. Every process
    must exit 0 (the assertion shows the errors); none outlives the call."""
    procs = [
        subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for argv in argvs
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready", p.stderr.read() if p.stderr else ""
        for p, text in zip(procs, inputs or ["go\n"] * len(procs), strict=True):
            assert p.stdin is not None
            p.stdin.write(text)
            p.stdin.flush()
        outputs = [p.communicate(timeout=timeout) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0] * len(procs), [err for _, err in outputs]
    return [out for out, _ in outputs]


def racer_argv(spec: StoreSpec, seed: int, count: int) -> list[str]:
    root = str(Path(__file__).resolve().parent.parent)
    return [sys.executable, "-c", RACER, root, *spec.argv(), str(seed), str(count)]


# One spender process: opens its own store, waits for "go", then tries ``count``
# uses, each with its own nonce and a charge of ``amount`` against one counter
# limited to ``limit``, and prints how many were recorded.
SPENDER = """
import sys
sys.path.insert(0, sys.argv[1])
from tests.store_conformance import StoreSpec
from agentchain.store import Charge, Use, UsageStatus

spec = StoreSpec(*sys.argv[2:5])
seed, count, amount, limit = (int(a) for a in sys.argv[5:9])
store = spec.open()
print("ready", flush=True)
sys.stdin.readline()
recorded = 0
for i in range(count):
    use = Use(
        keys=((b"n" + bytes([seed]) + i.to_bytes(4, "big"), 10**9),),
        charges=(Charge(b"budget", amount, limit, 10**9),),
    )
    recorded += store.consume(use, now=1000).status is UsageStatus.RECORDED
store.close()
print(recorded, flush=True)
"""


def spender_argv(spec: StoreSpec, seed: int, count: int, amount: int, limit: int) -> list[str]:
    root = str(Path(__file__).resolve().parent.parent)
    numbers = [str(n) for n in (seed, count, amount, limit)]
    return [sys.executable, "-c", SPENDER, root, *spec.argv(), *numbers]
