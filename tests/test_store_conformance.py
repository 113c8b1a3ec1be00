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
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import redis
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from agentchain.errors import REGISTRY, Kind, StoreError, UsageError
from agentchain.redis_store import GRACE, AsyncRedisStore, RedisStore
from agentchain.store import (
    MARK_BYTES,
    MAX_COUNT,
    MAX_HISTORY_MARKS,
    REVOCATION_GRACE,
    Charge,
    Departure,
    MemoryStore,
    NonceStatus,
    RevocationRecord,
    SQLiteStore,
    UsageResult,
    UsageStatus,
    Use,
)
from tests.redis_server import RedisServer
from tests.store_conformance import (
    KINDS,
    SHARED_KINDS,
    ClosableStore,
    StoreSpec,
    make_spec,
    racer_argv,
    run_together,
    spender_argv,
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
    with pytest.raises(StoreError):
        opened.record_revocation(_record())
    with pytest.raises(StoreError):
        opened.revocations([b"t" * 32])
    with pytest.raises(StoreError):
        opened.export_revocations()
    with pytest.raises(StoreError):
        opened.lookup_revocations([b"a"], [b"t" * 32])


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
    outputs = run_together([racer_argv(shared_spec, seed, count) for seed in range(processes)])
    fresh = [bytes.fromhex(h) for out in outputs for h in out.split()]
    # every key FRESH in exactly one process, whichever won
    assert sorted(fresh) == [i.to_bytes(4, "big") for i in range(count)]


# -- consume: usage counters and histories with the nonce (spec 9.4, 9.5) ---------


def _charge(amount: int, limit: int = 1000, *, key: bytes = b"c", enforce: bool = True) -> Charge:
    return Charge(key, amount, limit, expires_at=2000, enforce=enforce)


def test_consume_records_every_part_or_none(store: ClosableStore) -> None:
    # R-9.4-5: check everything, then record all or nothing
    first = store.consume(Use(((b"n1", 2000),), (_charge(300), _charge(1, 5, key=b"r"))), now=100)
    assert first == UsageResult(UsageStatus.RECORDED, None, (300, 1))
    # the second charge would exceed: nothing is recorded, not the nonce, not the first charge
    blocked = store.consume(Use(((b"n2", 2000),), (_charge(300), _charge(5, 5, key=b"r"))), now=100)
    assert blocked == UsageResult(UsageStatus.EXCEEDED, 1, (300, 1))
    assert store.use_nonce(b"n2", expires_at=2000, now=100) is FRESH
    again = store.consume(Use(((b"n3", 2000),), (_charge(700), _charge(4, 5, key=b"r"))), now=100)
    assert again == UsageResult(UsageStatus.RECORDED, None, (1000, 5))
    assert store.consume(Use(((b"n4", 2000),), (_charge(1),)), now=100).status is (
        UsageStatus.EXCEEDED
    )
    assert store.consume(Use(((b"n5", 2000),), (_charge(0),)), now=100).totals == (1000,)


def test_consume_replayed_key_records_nothing(store: ClosableStore) -> None:
    assert store.consume(Use(((b"n", 2000),), (_charge(10),)), now=100).status is (
        UsageStatus.RECORDED
    )
    replayed = store.consume(Use(((b"m", 2000), (b"n", 2000)), (_charge(10),)), now=100)
    assert replayed == UsageResult(UsageStatus.REPLAYED, 1, (10,))
    # neither b"m" nor the charge was recorded
    assert store.use_nonce(b"m", expires_at=2000, now=100) is FRESH
    assert store.consume(Use((), (_charge(0),)), now=100).totals == (10,)
    # a key used by use_nonce is replayed for consume too: one set of used keys
    assert store.use_nonce(b"u", expires_at=2000, now=100) is FRESH
    assert store.consume(Use(((b"u", 2000),)), now=100).status is UsageStatus.REPLAYED


def test_consume_counter_restarts_after_its_window(store: ClosableStore) -> None:
    # R-9.5-3: a counter holds until its window's end (expires_at), then counts from 0
    assert store.consume(Use((), (_charge(900),)), now=1999).totals == (900,)
    assert store.consume(Use((), (_charge(200),)), now=1999).status is UsageStatus.EXCEEDED
    later = Charge(b"c", 200, 1000, expires_at=3000)
    assert store.consume(Use((), (later,)), now=2000) == UsageResult(
        UsageStatus.RECORDED, None, (200,)
    )


def test_consume_waived_charge_counts_but_is_not_refused(store: ClosableStore) -> None:
    # an approved use (enforce False) is recorded even past the limit: counters tell the truth
    assert store.consume(Use((), (_charge(900),)), now=100).status is UsageStatus.RECORDED
    waived = store.consume(Use((), (_charge(300, enforce=False),)), now=100)
    assert waived == UsageResult(UsageStatus.RECORDED, None, (1200,))
    assert store.consume(Use((), (_charge(0),)), now=100).status is UsageStatus.EXCEEDED


def test_consume_counter_saturates(store: ClosableStore) -> None:
    big = Charge(b"c", MAX_COUNT, MAX_COUNT, expires_at=2000)
    assert store.consume(Use((), (big,)), now=100).totals == (MAX_COUNT,)
    more = Charge(b"c", MAX_COUNT, MAX_COUNT, expires_at=2000, enforce=False)
    assert store.consume(Use((), (more,)), now=100).totals == (MAX_COUNT,)


_A, _B, _C = (bytes([i]) * MARK_BYTES for i in (1, 2, 3))


def _departure(*marks: bytes, learn: int = 2, enforce: bool = True) -> Departure:
    return Departure(b"h", learn, marks, expires_at=2000, enforce=enforce)


def test_consume_history_learns_then_refuses_departures(store: ClosableStore) -> None:
    # R-9.5-6: the first `learn` uses are learnt; after them a mark never seen departs
    assert store.consume(Use((), (), (_departure(_A),)), now=100).status is UsageStatus.RECORDED
    assert store.consume(Use((), (), (_departure(_B),)), now=100).status is UsageStatus.RECORDED
    assert store.consume(Use((), (), (_departure(_A, _B),)), now=100).status is (
        UsageStatus.RECORDED
    )
    departed = store.consume(Use(((b"n", 2000),), (), (_departure(_A, _C),)), now=100)
    assert departed == UsageResult(UsageStatus.DEPARTED, 0, ())
    assert store.use_nonce(b"n", expires_at=2000, now=100) is FRESH  # nothing recorded
    # approved (not enforced): recorded and learnt, so the next one passes
    assert store.consume(Use((), (), (_departure(_C, enforce=False),)), now=100).status is (
        UsageStatus.RECORDED
    )
    assert store.consume(Use((), (), (_departure(_C),)), now=100).status is UsageStatus.RECORDED
    # the history expires with its link: learning starts again
    assert store.consume(Use((), (), (_departure(bytes(16)),)), now=2000).status is (
        UsageStatus.RECORDED
    )


def test_consume_history_is_bounded(store: ClosableStore) -> None:
    marks = [i.to_bytes(MARK_BYTES, "big") for i in range(MAX_HISTORY_MARKS + 5)]
    for mark in marks:  # learn 10**6: still learning, so nothing departs
        store.consume(Use((), (), (_departure(mark, learn=10**6),)), now=100)
    learnt = Departure(b"h", 1, tuple(marks[:MAX_HISTORY_MARKS]), expires_at=2000)
    assert store.consume(Use((), (), (learnt,)), now=100).status is UsageStatus.RECORDED
    beyond = Departure(b"h", 1, (marks[-1],), expires_at=2000)
    assert store.consume(Use((), (), (beyond,)), now=100).status is UsageStatus.DEPARTED


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis", "redis-async"])
def test_consume_bad_arguments_are_usage_errors(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    opened = make_spec(kind, tmp_path, _redis_url(request, kind)).open()
    try:
        bad = [
            Use(((b"", 1),)),
            Use(((b"k", 2**60),)),
            Use((), (Charge(b"c", -1, 5, 10),)),
            Use((), (Charge(b"c", MAX_COUNT + 1, 5, 10),)),
            Use((), (), (Departure(b"h", 1, (b"short",), 10),)),
        ]
        for use in bad:
            with pytest.raises(UsageError):
                opened.consume(use, now=1)
        with pytest.raises(UsageError):
            opened.consume("use", now=1)  # type: ignore[arg-type]
    finally:
        opened.close()


def test_consume_closed_store_raises(shared_spec: StoreSpec) -> None:
    opened = shared_spec.open()
    opened.close()
    with pytest.raises(StoreError):
        opened.consume(Use(((b"k", 10),)), now=1)


def test_processes_never_take_a_counter_past_its_limit(shared_spec: StoreSpec) -> None:
    # R-9.4-5: 4 processes x 5 uses of 300 against 1,000: exactly three are recorded
    outputs = run_together([spender_argv(shared_spec, seed, 5, 300, 1000) for seed in range(4)])
    assert sum(int(out) for out in outputs) == 3


def test_sqlite_schema_1_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for statement in (
        "CREATE TABLE revocations (id BLOB PRIMARY KEY NOT NULL, until INTEGER) WITHOUT ROWID",
        "CREATE TABLE nonces (key BLOB PRIMARY KEY NOT NULL, expires_at INTEGER NOT NULL) "
        "WITHOUT ROWID",
        "INSERT INTO nonces VALUES (x'6b', 500)",
        "PRAGMA application_id = 1094928433",
        "PRAGMA user_version = 1",
    ):
        conn.execute(statement)
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema 2"):  # read-only: cannot upgrade, fails closed
        SQLiteStore(path, readonly=True)
    with SQLiteStore(path) as upgraded:
        assert upgraded.use_nonce(b"k", expires_at=500, now=100) is REPLAYED
        assert upgraded.consume(Use((), (_charge(5),)), now=100).totals == (5,)
        # one schema 2: the same upgrade made the signed revocations' table too
        record = _record(until=10**10)
        upgraded.record_revocation(record)
        assert upgraded.lookup_revocations([], [record.target]) == (None, (record,))


# -- signed revocations (spec 8.5, 9.4) ---------------------------------------------


def _record(
    target: bytes = b"t" * 32,
    revoker: bytes = b"r" * 32,
    *,
    before: int | None = None,
    until: int | None = None,
    recorded_at: int = 1000,
    signed: bytes = b"signed object",
) -> RevocationRecord:
    return RevocationRecord(
        target=target,
        revoker=revoker,
        before=before,
        until=until,
        recorded_at=recorded_at,
        revocation=signed,
    )


def test_revocation_records_keep_who_what_and_when(store: ClosableStore) -> None:
    # R-9.4-5, R-9.4-6
    a = _record(b"a" * 32, b"1" * 32, before=50, until=10**10, signed=b"\x84\x00")
    b = _record(b"b" * 32, b"2" * 32, recorded_at=7, signed=b"eyJ.x.y")
    c = _record(b"a" * 32, b"0" * 32, until=None)
    for record in (a, b, c):
        store.record_revocation(record)
    assert store.revocations([b"z" * 32]) == ()
    assert store.revocations([]) == ()
    assert store.revocations([b"a" * 32]) == (c, a)  # ordered by target, then revoker
    assert store.revocations(t for t in [b"b" * 32, b"a" * 32]) == (c, a, b)
    # a target asked twice still gives each of its records once
    assert store.revocations([b"a" * 32, b"z" * 32, b"a" * 32]) == (c, a)
    assert store.lookup_revocations([], [b"b" * 32, b"b" * 32]) == (None, (b,))
    assert store.export_revocations() == (c, a, b)


def test_the_memory_store_takes_any_bytes_as_a_target_and_refuses_the_rest() -> None:
    # R-9.4-6: targets are bytes; a bytearray, a memoryview or a subclass of bytes is read
    # as its bytes, from a list or an iterator alike; anything else is a usage error
    store = MemoryStore()
    a = _record(b"a" * 32, b"1" * 32)
    store.record_revocation(a)

    class Tagged(bytes):
        pass

    for target in (b"a" * 32, bytearray(b"a" * 32), memoryview(b"a" * 32), Tagged(b"a" * 32)):
        assert store.revocations([target, b"z" * 32]) == (a,)  # type: ignore[list-item]
        assert store.revocations(iter([b"z" * 32, target])) == (a,)  # type: ignore[arg-type]
    for wrong in ("a" * 32, 7, None, [b"a"]):
        with pytest.raises(UsageError):
            store.revocations([b"z" * 32, wrong])  # type: ignore[list-item]


def test_lookup_answers_both_kinds_at_once(store: ClosableStore) -> None:
    # R-9.4-2, R-9.4-6: V5's one call is first_revoked and revocations together
    record = _record(until=10**10)
    assert store.lookup_revocations([], []) == (None, ())
    assert store.lookup_revocations([b"d" * 32], [record.target]) == (None, ())
    store.record_revocation(record)
    store.revoke(b"e" * 32)
    ids = [b"d" * 32, b"e" * 32]
    assert store.lookup_revocations(ids, [record.target]) == (b"e" * 32, (record,))
    assert store.lookup_revocations(ids[:1], [b"x" * 32, record.target]) == (None, (record,))


def test_too_many_records_for_one_lookup_fail_closed(
    store: ClosableStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # R-9.4-6: bounded, and never a part: the record left out could be the one that revokes
    for cls in (MemoryStore, SQLiteStore, RedisStore, AsyncRedisStore):
        monkeypatch.setattr(cls, "MAX_REVOCATION_RECORDS", 3)
    target = b"t" * 32
    for i in range(3):
        store.record_revocation(_record(target, bytes([i]) * 32, until=10**10))
    assert len(store.revocations([target])) == 3
    store.record_revocation(_record(target, b"\xff" * 32, until=10**10))
    with pytest.raises(StoreError) as caught:
        store.revocations([target])
    assert caught.value.code == "store_error"
    with pytest.raises(StoreError):
        store.lookup_revocations([], [target])


def test_a_revocation_record_is_never_narrowed(store: ClosableStore) -> None:
    # R-9.4-6: per (target, revoker) the wider before wins, then the later until
    first = _record(before=100, until=5000, signed=b"first")
    store.record_revocation(first)
    store.record_revocation(_record(before=99, until=10**9, recorded_at=2000, signed=b"narrow"))
    assert store.revocations([first.target]) == (first,)
    store.record_revocation(first)  # idempotent: the first recording time stays
    assert store.revocations([first.target]) == (first,)
    later = _record(before=100, until=6000, recorded_at=3000, signed=b"later")
    store.record_revocation(later)
    assert store.revocations([first.target]) == (later,)
    # before is compared first: a wider before replaces even with an earlier until
    wider = _record(before=200, until=5500, recorded_at=3500, signed=b"wider")
    store.record_revocation(wider)
    assert store.revocations([first.target]) == (wider,)
    widest = _record(before=None, until=None, recorded_at=4000, signed=b"all")
    store.record_revocation(widest)
    store.record_revocation(_record(before=10**6, until=None, signed=b"narrow again"))
    assert store.export_revocations() == (widest,)


def test_revocation_records_are_shared_and_durable(shared_spec: StoreSpec) -> None:
    # R-9.4-5: visible to every handle once recorded, and after a restart
    first, second = shared_spec.open(), shared_spec.open()
    record = _record(until=10**10)
    try:
        assert second.revocations([record.target]) == ()
        first.record_revocation(record)
        assert second.revocations([record.target]) == (record,)
    finally:
        first.close()
        second.close()
    again = shared_spec.open()
    try:
        assert again.export_revocations() == (record,)
    finally:
        again.close()


def test_racing_recorders_keep_the_widest(shared_spec: StoreSpec) -> None:
    # R-9.4-5: record_revocation is atomic: concurrent recorders never lose the widest
    records = [_record(before=b, until=10**10, signed=b"%d" % b) for b in range(1, 25)]
    stores = [shared_spec.open() for _ in range(4)]
    try:
        threads = [
            threading.Thread(
                target=lambda s=s, i=i: [s.record_revocation(r) for r in records[i::4]]
            )
            for i, s in enumerate(stores)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert stores[0].export_revocations() == (records[-1],)
    finally:
        for s in stores:
            s.close()


def test_revocation_records_expire_once_their_until_is_past(
    spec: StoreSpec, request: pytest.FixtureRequest
) -> None:
    # R-9.4-7: bounded: an entry is forgotten once what it revokes is expired anyway
    store = spec.open()
    try:
        old = _record(b"o" * 32, until=1000)
        kept = _record(b"k" * 32, until=None)
        store.record_revocation(old)
        store.record_revocation(kept)
        later = 1000 + REVOCATION_GRACE + 1
        if isinstance(store, MemoryStore | SQLiteStore):
            store.prune(later)
            assert store.export_revocations() == (kept,)
        else:  # Redis expires the key itself: GRACE seconds after a past until
            server: RedisServer = request.getfixturevalue("redis_server")
            client = redis.Redis.from_url(server.url)
            try:
                keys = {k: client.ttl(k) for k in client.keys(spec.prefix + "s:*")}
            finally:
                client.close()
            ttls = sorted(keys.values())
            assert ttls[0] == -1  # the one without until: kept for good
            assert 0 < ttls[1] <= GRACE
    finally:
        store.close()


def test_foreign_revocation_data_is_a_store_error(
    redis_server: RedisServer,
) -> None:
    # R-9.4-4: never a guess from data that is not ours
    spec = make_spec("redis", Path("."), redis_server.url)
    store = spec.open()
    record = _record()
    client = redis.Redis.from_url(redis_server.url)
    try:
        client.hset(spec.prefix.encode() + b"s:" + record.target.hex().encode(), "x", "junk")
        with pytest.raises(StoreError):
            store.revocations([record.target])
        with pytest.raises(StoreError):
            store.record_revocation(record)
    finally:
        client.close()
        store.close()


def test_revocation_arguments_are_checked(store: ClosableStore) -> None:
    with pytest.raises(UsageError):
        store.record_revocation("not a record")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        store.revocations(["text"])  # type: ignore[list-item]
    with pytest.raises(UsageError):
        _record(target=b"short")
    with pytest.raises(UsageError):
        _record(before=-1)


# -- model-based: each persistent store agrees with MemoryStore ------------------

_IDS = [bytes([i]) * 4 for i in range(6)]
_MARKS = [bytes([i]) * MARK_BYTES for i in range(3)]
_TARGETS = [bytes([i]) * 32 for i in range(4)]


class StoreAgreesWithMemory(RuleBasedStateMachine):
    """Random revoke / first_revoked / use_nonce / consume / prune / reopen, time moving forward.

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

    @rule(
        keys=st.lists(st.sampled_from(_IDS[:3]), max_size=2, unique=True),
        charges=st.lists(
            st.tuples(
                st.sampled_from(_IDS[3:5]),
                st.integers(0, 40),
                st.integers(0, 100),
                st.integers(-5, 900),
                st.booleans(),
            ),
            max_size=2,
        ),
        departures=st.lists(
            st.tuples(
                st.integers(0, 3),
                st.lists(st.sampled_from(_MARKS), max_size=2),
                st.integers(-5, 900),
                st.booleans(),
            ),
            max_size=1,
        ),
        step=st.integers(0, 400),
    )
    def consume(
        self,
        keys: list[bytes],
        charges: list[tuple[bytes, int, int, int, bool]],
        departures: list[tuple[int, list[bytes], int, bool]],
        step: int,
    ) -> None:
        # R-9.4-5: the same answers as MemoryStore, and no enforced counter past its limit
        self.now += step
        use = Use(
            tuple((k, self.now + 300) for k in keys),
            tuple(
                Charge(k, a, lim, self.now + ttl, enforce) for k, a, lim, ttl, enforce in charges
            ),
            tuple(
                Departure(_IDS[5], learn, tuple(marks), self.now + ttl, enforce)
                for learn, marks, ttl, enforce in departures
            ),
        )
        expected = self.memory.consume(use, now=self.now)
        assert self.store.consume(use, now=self.now) == expected
        if expected.status is UsageStatus.RECORDED:
            for charge, total in zip(use.charges, expected.totals, strict=True):
                assert not charge.enforce or total <= charge.limit

    @rule(
        named=st.sampled_from(_TARGETS),
        revoker=st.sampled_from(_TARGETS[:2]),
        before=st.none() | st.integers(0, 3),
        until=st.none() | st.integers(10**5, 10**5 + 3),
    )
    def record_revocation(
        self, named: bytes, revoker: bytes, before: int | None, until: int | None
    ) -> None:
        # untils far past every clock this history reaches: nothing here may be pruned, so
        # every store must answer exactly as memory does (R-9.4-5)
        record = RevocationRecord(
            target=named,
            revoker=revoker,
            before=before,
            until=None if until is None else self.now + until,
            recorded_at=self.now,
            revocation=b"r%r%r" % (before, until),
        )
        self.memory.record_revocation(record)
        self.store.record_revocation(record)

    @rule(
        ids=st.lists(st.sampled_from(_IDS), max_size=3), named=st.lists(st.sampled_from(_TARGETS))
    )
    def lookup_revocations(self, ids: list[bytes], named: list[bytes]) -> None:
        # R-9.4-6
        _, expected = self.memory.lookup_revocations(ids, named)
        assert self.store.lookup_revocations(ids, named)[1] == expected
        assert self.store.revocations(named) == expected
        assert self.store.export_revocations() == self.memory.export_revocations()

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
