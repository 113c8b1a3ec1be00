"""The store conformance suite: the same tests, with the same answers, over every store.

Memory, SQLite, Redis and the async Redis client (against a real redis-server)
meet the contract of spec 9.4 and docs/store.md: first_revoked's order,
check-and-record nonces with the verifier's clock, revocations that never
shorten, and the concurrency property that matters most: threads and processes
racing on one store see each nonce FRESH exactly once. A model-based test drives
each persistent store and MemoryStore with the same random history.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from agentchain.errors import REGISTRY, Kind, StoreError, UsageError
from agentchain.redis_store import GRACE
from agentchain.store import MemoryStore, NonceStatus, SQLiteStore
from tests.redis_server import RedisServer
from tests.store_conformance import (
    KINDS,
    SHARED_KINDS,
    ClosableStore,
    StoreSpec,
    make_spec,
    racer_argv,
    unique_prefix,
)

FRESH, REPLAYED = NonceStatus.FRESH, NonceStatus.REPLAYED


def _redis_url(request: pytest.FixtureRequest, kind: str) -> str | None:
    if not kind.startswith("redis"):
        return None
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.url


@pytest.fixture(params=KINDS)
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSpec:
    kind: str = request.param
    return make_spec(kind, tmp_path, _redis_url(request, kind))


@pytest.fixture(params=SHARED_KINDS)
def shared_spec(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSpec:
    kind: str = request.param
    return make_spec(kind, tmp_path, _redis_url(request, kind))


@pytest.fixture
def store(spec: StoreSpec) -> Iterator[ClosableStore]:
    opened = spec.open()
    try:
        yield opened
    finally:
        opened.close()


# -- the contract -------------------------------------------------------------


def test_code_is_registered() -> None:
    assert REGISTRY["store_error"].kind is Kind.ERROR
    assert StoreError("store_error", "x").code == "store_error"


def test_first_revoked_is_first_in_given_order(store: ClosableStore) -> None:
    # R-9.4-2
    a, b, c, d = b"a" * 32, b"b" * 32, b"c" * 32, b"d" * 32
    assert store.first_revoked([a, b, c]) is None
    store.revoke(c)
    store.revoke(b, until=10**10)
    assert store.first_revoked([a, b, c]) == b
    assert store.first_revoked([c, b, a]) == c
    assert store.first_revoked(x for x in [d, a, c]) == c  # any iterable, e.g. a generator
    assert store.first_revoked([a, d]) is None
    assert store.first_revoked([]) is None
    store.revoke(c)  # revoking twice is harmless
    assert store.first_revoked([c]) == c


def test_revocation_with_past_until_still_answers(store: ClosableStore) -> None:
    # R-9.4-1: once revoke returns, first_revoked sees it, whatever until says
    store.revoke(b"old", until=1000)
    assert store.first_revoked([b"x", b"old"]) == b"old"


def test_revocation_is_visible_to_another_handle(shared_spec: StoreSpec) -> None:
    # R-9.4-1: every verifier sharing the store sees it once revoke returns
    first, second = shared_spec.open(), shared_spec.open()
    try:
        assert second.first_revoked([b"r"]) is None
        first.revoke(b"r", until=10**10)
        assert second.first_revoked([b"r"]) == b"r"
    finally:
        first.close()
        second.close()


def test_nonce_fresh_then_replayed(store: ClosableStore) -> None:
    assert store.use_nonce(b"k", expires_at=200, now=100) is FRESH
    assert store.use_nonce(b"k", expires_at=200, now=100) is REPLAYED
    assert store.use_nonce(b"k", expires_at=300, now=150) is REPLAYED


def test_nonce_replayed_until_expiry_then_fresh(store: ClosableStore) -> None:
    assert store.use_nonce(b"k", expires_at=200, now=100) is FRESH
    assert store.use_nonce(b"k", expires_at=400, now=199) is REPLAYED
    # expired at expires_at exactly: the key may be used again, and is recorded anew
    assert store.use_nonce(b"k", expires_at=400, now=200) is FRESH
    assert store.use_nonce(b"k", expires_at=500, now=399) is REPLAYED
    assert store.use_nonce(b"k", expires_at=500, now=400) is FRESH


def test_nonce_already_expired_is_fresh_every_time(store: ClosableStore) -> None:
    # expires_at <= now: recorded, but never live
    assert store.use_nonce(b"k", expires_at=100, now=100) is FRESH
    assert store.use_nonce(b"k", expires_at=90, now=100) is FRESH


def test_nonce_keys_are_independent(store: ClosableStore) -> None:
    assert store.use_nonce(b"k1", expires_at=200, now=100) is FRESH
    assert store.use_nonce(b"k2", expires_at=200, now=100) is FRESH
    assert store.use_nonce(b"k1", expires_at=200, now=100) is REPLAYED
    assert store.use_nonce(b"k3", expires_at=200, now=100) is FRESH
    # a revocation id and a nonce key with the same bytes do not interfere
    store.revoke(b"k4")
    assert store.use_nonce(b"k4", expires_at=200, now=100) is FRESH
    assert store.first_revoked([b"k1", b"k2"]) is None


def test_keys_are_bytes_compared_exactly(store: ClosableStore) -> None:
    assert store.use_nonce(b"\x00", expires_at=200, now=100) is FRESH
    assert store.use_nonce(b"\x00\x00", expires_at=200, now=100) is FRESH
    assert store.use_nonce(b"\x00", expires_at=200, now=100) is REPLAYED
    store.revoke(b"\xff" * 32)
    assert store.first_revoked([b"\xff" * 31, b"\xff" * 33]) is None
    assert store.first_revoked([b"\xff" * 31, b"\xff" * 32]) == b"\xff" * 32


@pytest.mark.parametrize("kind", ["sqlite", "redis", "redis-async"])
def test_bad_arguments_are_usage_errors(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    opened = make_spec(kind, tmp_path, _redis_url(request, kind)).open()
    try:
        with pytest.raises(UsageError):
            opened.revoke("text")  # type: ignore[arg-type]
        with pytest.raises(UsageError):
            opened.first_revoked([5])  # type: ignore[list-item]
        with pytest.raises(UsageError):
            opened.use_nonce(b"k", expires_at=1.5, now=1)  # type: ignore[arg-type]
        with pytest.raises(UsageError):
            opened.use_nonce(b"k", expires_at=True, now=1)
        with pytest.raises(UsageError):
            opened.use_nonce(b"k", expires_at=2**64, now=1)
    finally:
        opened.close()


@pytest.mark.parametrize("kind", ["sqlite", "redis", "redis-async"])
def test_closed_store_raises(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # R-9.4-4: closed is one of the states in which a store cannot answer
    opened = make_spec(kind, tmp_path, _redis_url(request, kind)).open()
    opened.close()
    opened.close()  # idempotent
    with pytest.raises(StoreError) as caught:
        opened.use_nonce(b"k", expires_at=200, now=100)
    assert caught.value.code == "store_error"
    with pytest.raises(StoreError):
        opened.first_revoked([b"a"])
    with pytest.raises(StoreError):
        opened.revoke(b"a")


# -- concurrency ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
def test_threads_see_fresh_exactly_once(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # R-9.4-3: six threads on two handles, racing on 150 keys
    spec = make_spec(kind, tmp_path, _redis_url(request, kind))
    keys = [i.to_bytes(2, "big") for i in range(150)]
    shared = spec.open()
    other = shared if kind == "memory" else spec.open()
    fresh: list[bytes] = []
    fresh_lock = threading.Lock()

    def race(s: ClosableStore, order: list[bytes]) -> None:
        for key in order:
            if s.use_nonce(key, expires_at=10**9, now=1000) is FRESH:
                with fresh_lock:
                    fresh.append(key)

    threads = [
        threading.Thread(target=race, args=(shared if i % 2 else other, keys[i:] + keys[:i]))
        for i in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shared.close()
    other.close()
    assert sorted(fresh) == keys


def test_async_tasks_see_fresh_exactly_once(redis_server: RedisServer) -> None:
    # R-9.4-3: 4 x 100 concurrent coroutines through one async client's connection pool
    from agentchain.redis_store import AsyncRedisStore

    async def race() -> list[NonceStatus]:
        async with AsyncRedisStore.from_url(redis_server.url, prefix=unique_prefix()) as s:
            keys = [i.to_bytes(2, "big") for i in range(100)] * 4
            return await asyncio.gather(*(s.use_nonce(k, expires_at=10**9, now=1000) for k in keys))

    answers = asyncio.run(race())
    assert answers.count(FRESH) == 100
    assert answers.count(REPLAYED) == 300


def test_processes_see_fresh_exactly_once(shared_spec: StoreSpec) -> None:
    # R-9.4-3: K processes x M keys on one store; a new SQLite file is also raced to creation
    count, processes = 150, 5
    procs = [
        subprocess.Popen(
            racer_argv(shared_spec, seed, count),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(processes)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready", p.stderr.read() if p.stderr else ""
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outputs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0] * processes, [err for _, err in outputs]
    fresh = [bytes.fromhex(h) for out, _ in outputs for h in out.split()]
    # every key FRESH in exactly one process, whichever won
    assert sorted(fresh) == [i.to_bytes(4, "big") for i in range(count)]


# -- model-based: each persistent store agrees with MemoryStore ------------------

_IDS = [bytes([i]) * 4 for i in range(6)]


class StoreAgreesWithMemory(RuleBasedStateMachine):
    """Random revoke / first_revoked / use_nonce / prune / reopen, time moving forward.

    Nonce answers must be identical. Revocations must be identical except that one
    whose ``until`` is more than the grace period past may be forgotten by a store
    that prunes (MemoryStore never forgets): there, either answer is allowed, in order.
    """

    kind: ClassVar[str] = ""
    redis_url: ClassVar[str | None] = None

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.mkdtemp()
        self.spec = make_spec(self.kind, Path(self.tmp), self.redis_url)
        self.memory = MemoryStore()
        self.store = self.spec.open()
        self.now = 0
        self.until: dict[bytes, int | None] = {}  # effective until of each revoked id

    @initialize(start=st.integers(0, 10**6))
    def start(self, start: int) -> None:
        self.now = start

    @rule(rid=st.sampled_from(_IDS), until=st.none() | st.integers(-100, 2000))
    def revoke(self, rid: bytes, until: int | None) -> None:
        absolute = None if until is None else self.now + until
        self.memory.revoke(rid, until=absolute)
        self.store.revoke(rid, until=absolute)
        if rid in self.until:
            old = self.until[rid]
            absolute = None if old is None or absolute is None else max(old, absolute)
        self.until[rid] = absolute

    @rule(ids=st.lists(st.sampled_from(_IDS), max_size=6))
    def first_revoked(self, ids: list[bytes]) -> None:
        got = self.store.first_revoked(ids)
        expected = self.memory.first_revoked(ids)

        def forgettable(rid: bytes) -> bool:
            until = self.until.get(rid)
            return until is not None and until < self.now - GRACE

        definite = next((r for r in ids if r in self.until and not forgettable(r)), None)
        if not any(forgettable(r) for r in ids):
            assert got == expected
        elif got is None:
            assert definite is None
        else:
            assert got in ids and got in self.until
            assert definite is None or ids.index(got) <= ids.index(definite)

    @rule(key=st.sampled_from(_IDS[:3]), ttl=st.integers(-5, 600), step=st.integers(0, 400))
    def use_nonce(self, key: bytes, ttl: int, step: int) -> None:
        self.now += step
        expected = self.memory.use_nonce(key, expires_at=self.now + ttl, now=self.now)
        assert self.store.use_nonce(key, expires_at=self.now + ttl, now=self.now) is expected

    @rule()
    def prune(self) -> None:
        if isinstance(self.store, SQLiteStore):  # Redis expires keys by itself
            self.store.prune(now=self.now)

    @rule()
    def reopen(self) -> None:
        self.store.close()
        self.store = self.spec.open()

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class SQLiteAgrees(StoreAgreesWithMemory):
    kind = "sqlite"


class RedisAgrees(StoreAgreesWithMemory):
    kind = "redis"


class AsyncRedisAgrees(StoreAgreesWithMemory):
    kind = "redis-async"


@pytest.fixture
def machine_redis(redis_server: RedisServer) -> Iterator[None]:
    RedisAgrees.redis_url = AsyncRedisAgrees.redis_url = redis_server.url
    yield


# every SQLite write is fsynced (synchronous=FULL): shorter histories keep the CI
# profile's many examples affordable; 25 steps still reach pruning (up to 400 s a step)
TestSQLiteAgrees = SQLiteAgrees.TestCase
TestSQLiteAgrees.settings = settings(stateful_step_count=25)
TestRedisAgrees = pytest.mark.usefixtures("machine_redis")(RedisAgrees.TestCase)
TestRedisAgrees.settings = settings(stateful_step_count=25)
TestAsyncRedisAgrees = pytest.mark.usefixtures("machine_redis")(AsyncRedisAgrees.TestCase)
TestAsyncRedisAgrees.settings = settings(stateful_step_count=25)
