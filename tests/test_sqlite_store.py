"""SQLiteStore beyond the store conformance suite (tests/test_store_conformance.py):
persistence, schema, concurrent creation, pruning, and failing closed on every kind of trouble."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from agentchain.errors import StoreError, UsageError
from agentchain.store import SCHEMA_VERSION, Charge, NonceStatus, SQLiteStore, Use

FRESH, REPLAYED = NonceStatus.FRESH, NonceStatus.REPLAYED
GRACE = SQLiteStore.PRUNE_GRACE


def _rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    """The table as another process would see it (committed rows only)."""
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute(f"SELECT * FROM {table}").fetchall())
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


# -- persistence --------------------------------------------------------------


def test_survives_restart(db: Path) -> None:
    # R-9.4-1
    with SQLiteStore(db) as first:
        first.revoke(b"gone")
        first.revoke(b"gone-until", until=5000)
        assert first.use_nonce(b"n", expires_at=2000, now=1000) is FRESH
    with SQLiteStore(db) as second:
        assert second.first_revoked([b"x", b"gone-until", b"gone"]) == b"gone-until"
        assert second.first_revoked([b"gone"]) == b"gone"
        assert second.use_nonce(b"n", expires_at=2000, now=1500) is REPLAYED
        assert second.use_nonce(b"n", expires_at=3000, now=2000) is FRESH


def test_path_with_uri_characters(tmp_path: Path) -> None:
    # the path goes into a file: URI: "?", "#", "%" and spaces must not be read as URI syntax
    odd = tmp_path / "a dir?x=1#frag%20" / "store ?.db"
    odd.parent.mkdir()
    with SQLiteStore(str(odd)) as s:
        s.revoke(b"r")
    assert odd.exists()
    assert _rows(odd, "revocations") == [(b"r", None)]


def test_revoking_again_never_shortens(db: Path) -> None:
    with SQLiteStore(db) as s:
        s.revoke(b"a", until=500)
        s.revoke(b"a", until=100)  # earlier: ignored
        s.revoke(b"b", until=100)
        s.revoke(b"b")  # for good wins
        s.revoke(b"b", until=900)
        s.revoke(b"c")
        s.revoke(b"c", until=100)
        assert _rows(db, "revocations") == [(b"a", 500), (b"b", None), (b"c", None)]


def test_schema_is_versioned(db: Path) -> None:
    SQLiteStore(db).close()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def _open_together(db: Path, openers: int) -> list[BaseException]:
    """``openers`` threads open ``db`` at the same moment and record one nonce each."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(openers)

    def open_and_use(i: int) -> None:
        barrier.wait()
        try:
            with SQLiteStore(db) as s:
                s.use_nonce(bytes([i]), expires_at=10, now=0)
        except BaseException as exc:  # reported by the caller, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=open_and_use, args=(i,)) for i in range(openers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


_SCHEMA_1 = (
    "CREATE TABLE revocations (id BLOB PRIMARY KEY NOT NULL, until INTEGER) WITHOUT ROWID",
    "CREATE INDEX revocations_until ON revocations (until) WHERE until IS NOT NULL",
    "CREATE TABLE nonces (key BLOB PRIMARY KEY NOT NULL, expires_at INTEGER NOT NULL) "
    "WITHOUT ROWID",
    "CREATE INDEX nonces_expires_at ON nonces (expires_at)",
    "PRAGMA application_id = 1094928433",
    "PRAGMA user_version = 1",
)


def test_schema_1_is_upgraded_in_place(db: Path) -> None:
    # a store written by agentchain before signed revocations keeps its rows
    conn = sqlite3.connect(db)
    for statement in _SCHEMA_1:
        conn.execute(statement)
    conn.execute("INSERT INTO revocations VALUES (?, NULL)", (b"old",))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema 1"):
        SQLiteStore(db, readonly=True)
    with SQLiteStore(db) as store:
        assert store.first_revoked([b"old"]) == b"old"
        assert store.export_revocations() == ()
        # the one schema 2 holds the behaviour factor's tables as well
        use = Use(((b"k", 2000),), (Charge(b"c", 5, 10, expires_at=2000),))
        assert store.consume(use, now=100).totals == (5,)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    conn.close()


def test_concurrent_creation_of_one_new_file(tmp_path: Path) -> None:
    # racing creators: none may see the schema half made, nor fail to switch to WAL
    for round_ in range(10):
        db = tmp_path / f"store{round_}.db"
        assert _open_together(db, 8) == []
        assert len(_rows(db, "nonces")) == 8


# -- failing closed ---------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [b"garbage", b"\x00" * 4096, bytes(range(256)) * 64, b"SQLite format 2\x00" + b"\xff" * 4000],
)
def test_corrupt_file_raises(db: Path, garbage: bytes) -> None:
    db.write_bytes(garbage)
    with pytest.raises(StoreError) as info:
        SQLiteStore(db)
    assert info.value.code == "store_error"
    assert str(db) in info.value.message


def test_corrupt_pages_raise_on_use(db: Path) -> None:
    with SQLiteStore(db) as s:
        for i in range(300):
            s.revoke(i.to_bytes(32, "big"))
    data = bytearray(db.read_bytes())
    page = 4096
    assert len(data) > 2 * page  # the tables live past the header page
    data[page:] = bytes((i * 7 + 3) % 251 for i in range(len(data) - page))
    db.write_bytes(bytes(data))
    # open may or may not notice; the first read must
    with pytest.raises(StoreError), SQLiteStore(db) as s:
        s.first_revoked([(299).to_bytes(32, "big")])
    with pytest.raises(StoreError), SQLiteStore(db) as s:
        s.use_nonce(b"k", expires_at=10, now=0)


def test_foreign_database_refused(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE users (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not an agentchain store"):
        SQLiteStore(db)


def test_newer_schema_refused(db: Path) -> None:
    SQLiteStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(db)


def test_locked_database_raises_not_fresh(db: Path) -> None:
    s = SQLiteStore(db, busy_timeout=0.05)
    s.revoke(b"r")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            s.use_nonce(b"k", expires_at=10, now=0)
        with pytest.raises(StoreError, match="locked"):
            s.revoke(b"r2")
        with pytest.raises(StoreError, match="locked"):
            s.prune(now=0)
        # WAL: reads of committed state go on while a writer holds the lock
        assert s.first_revoked([b"r"]) == b"r"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # the failed attempt recorded nothing and left no transaction open
    assert s.use_nonce(b"k", expires_at=10, now=0) is FRESH
    assert s.use_nonce(b"k", expires_at=10, now=0) is REPLAYED
    s.close()


def test_locked_new_file_raises_on_open(db: Path) -> None:
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            SQLiteStore(db, busy_timeout=0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_missing_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open"):
        SQLiteStore(tmp_path / "no" / "such" / "dir" / "store.db")


def test_directory_as_path_raises(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        SQLiteStore(tmp_path)


def test_readonly_reads_and_refuses_writes(db: Path) -> None:
    with SQLiteStore(db) as s:
        s.revoke(b"r")
        s.use_nonce(b"n", expires_at=100, now=0)
    with SQLiteStore(db, readonly=True) as ro:
        assert ro.first_revoked([b"x", b"r"]) == b"r"
        with pytest.raises(StoreError, match="read-only"):
            ro.use_nonce(b"m", expires_at=100, now=0)
        with pytest.raises(StoreError, match="read-only"):
            ro.revoke(b"r2")
    assert _rows(db, "nonces") == [(b"n", 100)]


def test_readonly_needs_an_existing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        SQLiteStore(tmp_path / "absent.db", readonly=True)
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(StoreError, match="no agentchain store"):
        SQLiteStore(empty, readonly=True)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root ignores permission bits; test_readonly_* covers read-only via mode=ro",
)
def test_read_only_permissions_raise_on_write(tmp_path: Path) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    db = directory / "store.db"
    SQLiteStore(db).close()
    db.chmod(0o444)
    directory.chmod(0o555)
    try:
        # open may already fail (WAL needs its -shm file); if not, the write must
        with pytest.raises(StoreError), SQLiteStore(db) as s:
            s.use_nonce(b"k", expires_at=10, now=0)
    finally:
        directory.chmod(0o755)
        db.chmod(0o644)


def test_closed_store_raises(db: Path) -> None:
    s = SQLiteStore(db)
    s.close()
    s.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        s.use_nonce(b"k", expires_at=10, now=0)
    with pytest.raises(StoreError, match="closed"):
        s.first_revoked([b"r"])
    with pytest.raises(StoreError, match="closed"):
        s.revoke(b"r")
    with SQLiteStore(db) as t:
        pass
    with pytest.raises(StoreError, match="closed"):
        t.first_revoked([b"r"])


def test_inherited_across_fork_raises(db: Path) -> None:
    with SQLiteStore(db) as s:
        s._pid = -1  # as if this were a forked child using its parent's connection
        with pytest.raises(StoreError, match="another process"):
            s.use_nonce(b"k", expires_at=10, now=0)


def test_bad_arguments_are_usage_errors(db: Path) -> None:
    with SQLiteStore(db) as s:
        with pytest.raises(UsageError):
            s.revoke("text")  # type: ignore[arg-type]
        with pytest.raises(UsageError):
            s.first_revoked([5])  # type: ignore[list-item]
        with pytest.raises(UsageError):
            s.use_nonce(b"k", expires_at=2**63, now=0)
        with pytest.raises(UsageError):
            s.use_nonce(b"k", expires_at=1.5, now=0)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        SQLiteStore(db, busy_timeout=-1)


def test_error_never_lets_a_request_through(db: Path) -> None:
    # R-8.3-2 R-9.4-4
    """Through the verifier: a store failure is an exception, never an allow."""
    from agentchain import PrivateKey, Request, TrustPolicy, Verifier, invoke, issue
    from agentchain.verifier import Outcome

    anchor, agent = PrivateKey.generate(), PrivateKey.generate()
    token = issue(anchor, agent.public_key, capabilities=[("calendar/read", "*")], now=1000)
    audience, resource = "https://cal.example", "https://cal.example/alice"
    presentation = invoke(
        token, agent, audience=audience, action="calendar/read", resource=resource, now=1000
    )
    policy = TrustPolicy(anchors=(anchor.public_key,), audience=audience)
    request = Request("calendar/read", resource)
    with SQLiteStore(db) as s:
        verifier = Verifier(policy, store=s, clock=lambda: 1001)
        assert verifier.verify(presentation, request).outcome is Outcome.ALLOW
    with SQLiteStore(db) as s:  # after a restart: still a replay
        verifier = Verifier(policy, store=s, clock=lambda: 1002)
        replayed = verifier.verify(presentation, request)
        assert replayed.outcome is Outcome.DENY
        assert [r.code for r in replayed.reasons] == ["replay"]
    broken = SQLiteStore(db)
    broken.close()
    other = invoke(
        token, agent, audience=audience, action="calendar/read", resource=resource, now=1001
    )
    with pytest.raises(StoreError):
        Verifier(policy, store=broken, clock=lambda: 1001).verify(other, request)


# -- pruning ------------------------------------------------------------------


def test_prune_deletes_expired_nonces_after_grace(db: Path) -> None:
    with SQLiteStore(db) as s:
        s.use_nonce(b"old", expires_at=100, now=0)
        s.use_nonce(b"new", expires_at=10_000, now=0)
        assert s.prune(now=100 + GRACE - 1) == 0  # expired, but within the grace period
        assert s.prune(now=100 + GRACE) == 1
        assert _rows(db, "nonces") == [(b"new", 10_000)]


def test_prune_revocations_until_only(db: Path) -> None:
    with SQLiteStore(db) as s:
        s.revoke(b"forever")
        s.revoke(b"short", until=100)
        s.revoke(b"long", until=10_000)
        assert s.prune(now=100 + GRACE) == 0  # until is still inside the grace period
        assert s.prune(now=101 + GRACE) == 1
        assert _rows(db, "revocations") == [(b"forever", None), (b"long", 10_000)]
        assert s.prune(now=2**62) == 1
        assert _rows(db, "revocations") == [(b"forever", None)]  # never pruned
        assert s.first_revoked([b"short", b"long", b"forever"]) == b"forever"


def test_use_nonce_prunes_opportunistically(db: Path) -> None:
    with SQLiteStore(db) as s:
        s.use_nonce(b"a", expires_at=100, now=0)  # first call prunes (nothing yet)
        s.revoke(b"r", until=100)
        s.use_nonce(b"b", expires_at=10**6, now=101 + GRACE)  # a minute later: prunes again
        assert _rows(db, "nonces") == [(b"b", 10**6)]
        assert _rows(db, "revocations") == []
        s.use_nonce(b"c", expires_at=1, now=102 + GRACE)
        s.use_nonce(b"d", expires_at=10**6, now=160 + GRACE)  # within the minute: no prune
        assert (b"c", 1) in _rows(db, "nonces")
        s.use_nonce(b"e", expires_at=10**6, now=161 + GRACE)  # a minute on: prunes
        assert (b"c", 1) not in _rows(db, "nonces")


def test_prune_work_is_bounded(db: Path) -> None:
    batch = SQLiteStore.PRUNE_BATCH
    with SQLiteStore(db) as s:
        s.use_nonce(b"first", expires_at=10**6, now=0)
        conn = sqlite3.connect(db)
        with conn:
            conn.executemany(
                "INSERT INTO nonces VALUES (?, 5)", [(i.to_bytes(4, "big"),) for i in range(1200)]
            )
        conn.close()
        assert s.prune(now=10 + GRACE) == batch
        assert len(_rows(db, "nonces")) == 1201 - batch
        # a full batch leaves the next prune due at once: each use_nonce takes a bite
        s.use_nonce(b"x", expires_at=10**6, now=11 + GRACE)
        assert len(_rows(db, "nonces")) == 1202 - 2 * batch
        s.use_nonce(b"y", expires_at=10**6, now=11 + GRACE)
        assert sorted(k for k, _ in _rows(db, "nonces")) == [b"first", b"x", b"y"]
