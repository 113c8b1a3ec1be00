"""A :class:`~agentchain.store.Store` in a SQLite file: the default for an embedded verifier.

It survives restarts and is shared safely by several verifier processes on one
host. Every failure (corrupt or foreign file, lock held beyond the busy timeout,
read-only file, missing directory, closed store) raises
:class:`~agentchain.errors.StoreError`: the store never answers FRESH or "not
revoked" when it could not actually look, so a replay or a revoked chain is
refused rather than let through. See docs/store.md for the contract.
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Final

from agentchain.errors import StoreError, UsageError
from agentchain.store._base import (
    MARK_BYTES,
    MAX_COUNT,
    MAX_REVOCATION_RECORDS,
    NonceStatus,
    RevocationRecord,
    UsageResult,
    UsageStatus,
    Use,
    bounded_revocations,
    check_use,
    decide_use,
    learn_marks,
    merge_revocation,
)

#: The schema this code writes, in ``PRAGMA user_version``. A newer file is refused:
#: an older library cannot know what a newer schema's rows mean.
SCHEMA_VERSION: Final = 2
#: ``PRAGMA application_id`` ("ACH1"): tells our file from some other application's database.
APPLICATION_ID: Final = 0x41434831

_USAGE_TABLES: Final = (
    # spec 9.5: usage counters (one per limit and window) and link histories
    "CREATE TABLE counters (key BLOB PRIMARY KEY NOT NULL, value INTEGER NOT NULL, "
    "expires_at INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE INDEX counters_expires_at ON counters (expires_at)",
    "CREATE TABLE histories (key BLOB PRIMARY KEY NOT NULL, count INTEGER NOT NULL, "
    "marks BLOB NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE INDEX histories_expires_at ON histories (expires_at)",
)
_SIGNED_TABLES: Final = (
    # spec 8.5: signed revocations, one row per (target, revoker): who revoked what, when
    # this store recorded it, and the signed object itself for export
    "CREATE TABLE signed_revocations (target BLOB NOT NULL, revoker BLOB NOT NULL, "
    "before INTEGER, until INTEGER, recorded_at INTEGER NOT NULL, revocation BLOB NOT NULL, "
    "PRIMARY KEY (target, revoker)) WITHOUT ROWID",
    "CREATE INDEX signed_revocations_until ON signed_revocations (until) WHERE until IS NOT NULL",
)

_SCHEMA: Final = (
    # until NULL = kept for good. WITHOUT ROWID: the blob key is the whole row's identity.
    "CREATE TABLE revocations (id BLOB PRIMARY KEY NOT NULL, until INTEGER) WITHOUT ROWID",
    "CREATE INDEX revocations_until ON revocations (until) WHERE until IS NOT NULL",
    "CREATE TABLE nonces (key BLOB PRIMARY KEY NOT NULL, expires_at INTEGER NOT NULL) "
    "WITHOUT ROWID",
    "CREATE INDEX nonces_expires_at ON nonces (expires_at)",
    *_USAGE_TABLES,
    *_SIGNED_TABLES,
    f"PRAGMA application_id = {APPLICATION_ID}",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)
#: schema 1 (nonces and revocations) -> 2 (usage counters and histories, signed
#: revocations): tables added; the revocations and nonces of schema 1 keep their meaning
_MIGRATE_1: Final = (*_USAGE_TABLES, *_SIGNED_TABLES, f"PRAGMA user_version = {SCHEMA_VERSION}")
_SIGNED_COLUMNS: Final = "target, revoker, before, until, recorded_at, revocation"
_PRUNE_SIGNED: Final = (
    "DELETE FROM signed_revocations WHERE (target, revoker) IN (SELECT target, revoker "
    "FROM signed_revocations WHERE until IS NOT NULL AND until < ?1 LIMIT ?2)"
)

_READ_SCHEMA: Final = (
    "SELECT (SELECT user_version FROM pragma_user_version), "
    "(SELECT application_id FROM pragma_application_id), "
    "(SELECT count(*) FROM sqlite_master)"
)

# Check and record in ONE statement, so SQLite's write lock makes it atomic across
# processes: a new key is inserted; an existing one is overwritten only if it has
# expired. rowcount is 1 when a row was written (FRESH) and 0 when the WHERE
# refused the update (REPLAYED). Same rule as MemoryStore: expired iff expires_at <= now.
_USE_NONCE: Final = (
    "INSERT INTO nonces (key, expires_at) VALUES (?1, ?2) "
    "ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at "
    "WHERE nonces.expires_at <= ?3"
)
# consume (spec 9.4): reads and writes inside one BEGIN IMMEDIATE transaction
_READ_NONCE: Final = "SELECT expires_at FROM nonces WHERE key = ?1"
_WRITE_NONCE: Final = "INSERT OR REPLACE INTO nonces (key, expires_at) VALUES (?1, ?2)"
_READ_COUNTER: Final = "SELECT value, expires_at FROM counters WHERE key = ?1"
_WRITE_COUNTER: Final = (
    "INSERT OR REPLACE INTO counters (key, value, expires_at) VALUES (?1, ?2, ?3)"
)
_READ_HISTORY: Final = "SELECT count, marks, expires_at FROM histories WHERE key = ?1"
_WRITE_HISTORY: Final = (
    "INSERT OR REPLACE INTO histories (key, count, marks, expires_at) VALUES (?1, ?2, ?3, ?4)"
)
# Revoking again never shortens a revocation: NULL (for good) wins, else the later time.
_REVOKE: Final = (
    "INSERT INTO revocations (id, until) VALUES (?1, ?2) "
    "ON CONFLICT (id) DO UPDATE SET until = CASE "
    "WHEN revocations.until IS NULL OR excluded.until IS NULL THEN NULL "
    "ELSE max(revocations.until, excluded.until) END"
)
# Bounded deletes (LIMIT through a subquery: plain DELETE ... LIMIT is a compile option).
_PRUNE_NONCES: Final = (
    "DELETE FROM nonces WHERE key IN (SELECT key FROM nonces WHERE expires_at <= ?1 LIMIT ?2)"
)
_PRUNE_COUNTERS: Final = (
    "DELETE FROM counters WHERE key IN (SELECT key FROM counters WHERE expires_at <= ?1 LIMIT ?2)"
)
_PRUNE_HISTORIES: Final = (
    "DELETE FROM histories WHERE key IN (SELECT key FROM histories WHERE expires_at <= ?1 LIMIT ?2)"
)
_PRUNE_REVOCATIONS: Final = (
    "DELETE FROM revocations WHERE id IN "
    "(SELECT id FROM revocations WHERE until IS NOT NULL AND until < ?1 LIMIT ?2)"
)

_HINTS: Final = {
    "SQLITE_BUSY": "locked by another connection beyond the busy timeout",
    "SQLITE_LOCKED": "locked by another connection beyond the busy timeout",
    "SQLITE_NOTADB": "not a SQLite database (a corrupt or foreign file)",
    "SQLITE_CORRUPT": "the database file is corrupt",
    "SQLITE_READONLY": "the database is read-only",
    "SQLITE_CANTOPEN": "cannot open the file (missing directory, or no permission?)",
    "SQLITE_IOERR": "the file system reported an I/O error",
    "SQLITE_FULL": "the disk is full",
}

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
# SQLite's oldest default limit on bound parameters is 999.
_QUERY_CHUNK: Final = 500


def _split_marks(data: bytes) -> tuple[bytes, ...]:
    if len(data) % MARK_BYTES:
        raise StoreError("store_error", "a history's marks are corrupt")
    return tuple(data[i : i + MARK_BYTES] for i in range(0, len(data), MARK_BYTES))


def _blob(value: object, what: str) -> bytes:
    # bytes(5) would silently make five zero bytes and a str would be stored as TEXT,
    # never equal to the BLOB: refuse anything not bytes-like.
    if not isinstance(value, bytes | bytearray | memoryview):
        raise UsageError(f"{what} must be bytes, not {type(value).__name__}")
    return bytes(value)


def _int64(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise UsageError(f"{what} must be an int, not {type(value).__name__}")
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise UsageError(f"{what} {value} is outside SQLite's 64-bit integers")
    return value


def _signed_row(row: tuple[object, ...]) -> RevocationRecord:
    """A row of signed_revocations; anything else in it is corruption, never a guess."""
    target, revoker, before, until, recorded_at, revocation = row
    try:
        return RevocationRecord(
            target=bytes(target),  # type: ignore[call-overload]
            revoker=bytes(revoker),  # type: ignore[call-overload]
            before=before,  # type: ignore[arg-type]
            until=until,  # type: ignore[arg-type]
            recorded_at=recorded_at,  # type: ignore[arg-type]
            revocation=bytes(revocation),  # type: ignore[call-overload]
        )
    except (UsageError, TypeError) as exc:
        raise StoreError("store_error", f"a signed revocation row is corrupt: {exc}") from exc


def _first_revoked(conn: sqlite3.Connection, ids: list[bytes]) -> bytes | None:
    # chunks in order: the first chunk holding a revoked id holds the answer
    for start in range(0, len(ids), _QUERY_CHUNK):
        chunk = ids[start : start + _QUERY_CHUNK]
        marks = ",".join("?" * len(chunk))
        found = {
            bytes(row[0])
            for row in conn.execute(
                f"SELECT id FROM revocations WHERE id IN ({marks})",  # noqa: S608 -- only "?" marks
                chunk,
            )
        }
        hit = next((r for r in chunk if r in found), None)
        if hit is not None:
            return hit
    return None


def _revocations(
    conn: sqlite3.Connection, targets: list[bytes], cap: int, where: str
) -> tuple[RevocationRecord, ...]:
    found: list[RevocationRecord] = []
    for start in range(0, len(targets), _QUERY_CHUNK):
        chunk = targets[start : start + _QUERY_CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT {_SIGNED_COLUMNS} FROM signed_revocations "  # noqa: S608 -- "?" marks only
            f"WHERE target IN ({marks}) ORDER BY target, revoker LIMIT ?",
            (*chunk, cap + 1),
        ).fetchall()
        found.extend(_signed_row(row) for row in rows)
        if len(found) > cap:
            break
    return bounded_revocations(found, cap, where)


class SQLiteStore:
    """A :class:`~agentchain.store.Store` kept in the SQLite file at ``path``.

    The file and its schema are created if absent (``readonly`` opens an existing
    store without ever writing: revocation checks work, recording nonces raises).
    ``busy_timeout`` is how many seconds to wait for another process's write lock
    before raising :class:`StoreError`. One instance may be shared by the threads
    of a process; each process opens its own (a SQLite connection must not cross
    ``fork``).

    Expired entries are pruned by :meth:`use_nonce` at most once a minute of the
    verifier's clock (or every :attr:`PRUNE_EVERY` calls), at most
    :attr:`PRUNE_BATCH` rows per table each time, so no request pays for a backlog.
    """

    #: Entries are deleted only this many seconds after they expire, so that
    #: processes whose clocks disagree by less than this still agree on every answer:
    #: a process whose clock runs ahead must not delete a nonce another still honours.
    PRUNE_GRACE: ClassVar[int] = 300
    #: Seconds of the verifier's clock between opportunistic prunes.
    PRUNE_INTERVAL: ClassVar[int] = 60
    #: use_nonce calls between prunes, whatever the clock says (it may have gone back).
    PRUNE_EVERY: ClassVar[int] = 1000
    #: Rows deleted per table and prune: bounds the work one request can be charged.
    PRUNE_BATCH: ClassVar[int] = 500
    #: Records one revocation lookup may find before it fails closed.
    MAX_REVOCATION_RECORDS: ClassVar[int] = MAX_REVOCATION_RECORDS

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        readonly: bool = False,
    ) -> None:
        if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, int | float):
            raise UsageError("busy_timeout must be a number of seconds")
        if not (math.isfinite(busy_timeout) and busy_timeout >= 0):
            raise UsageError(f"busy_timeout {busy_timeout} is not a finite number >= 0")
        self._path = Path(os.fspath(path)).absolute()
        self._busy_timeout = float(busy_timeout)
        self._readonly = readonly
        # One connection, serialized by this lock: SQLite connections are not safe for
        # concurrent use, and the lock also guards the pruning bookkeeping below.
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._writes = 0
        self._next_prune: int | None = None  # verifier time of the next prune; None = now
        self._conn: sqlite3.Connection | None = None
        try:
            self._conn = self._open()
        except sqlite3.Error as exc:
            self._close_quietly()
            raise self._error("cannot open", exc) from exc
        except StoreError:
            self._close_quietly()
            raise

    # -- opening ----------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        mode = "ro" if self._readonly else "rwc"
        conn = sqlite3.connect(
            f"{self._path.as_uri()}?mode={mode}",
            uri=True,
            timeout=self._busy_timeout,  # sqlite3_busy_timeout: wait, then SQLITE_BUSY
            isolation_level=None,  # autocommit: one statement = one transaction, BEGIN explicit
            check_same_thread=False,  # threads share it under self._lock
        )
        self._conn = conn  # so that a failure below still closes it
        if not self._readonly:
            # WAL: readers never wait for the writer, and commits are one append. Refuse
            # to run without it rather than silently fall back on, e.g., a network mount.
            mode_row = self._set_wal(conn)
            if mode_row is None or str(mode_row[0]).lower() != "wal":
                raise StoreError(
                    "store_error",
                    f"{self._path}: cannot use WAL journal mode (got {mode_row!r}); "
                    "is the file on a local file system?",
                )
        # FULL: every commit is fsynced before it returns, so a revocation (or a nonce)
        # that was acknowledged survives a crash or power loss.
        conn.execute("PRAGMA synchronous = FULL")
        self._check_schema(conn)
        return conn

    def _set_wal(self, conn: sqlite3.Connection) -> tuple[object, ...] | None:
        # Switching a new file to WAL needs an exclusive lock, and SQLite answers
        # SQLITE_BUSY at once there instead of calling the busy handler: when several
        # processes create the store together, all but one would fail. Retry until
        # the busy timeout, as the handler would. (Already WAL: succeeds at once.)
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                row: tuple[object, ...] | None = conn.execute(
                    "PRAGMA journal_mode = WAL"
                ).fetchone()
                return row
            except sqlite3.OperationalError as exc:
                code = getattr(exc, "sqlite_errorcode", None)
                busy = code is not None and code & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(0.005)

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        # The common case, an existing store, is a plain read: no write lock taken,
        # so opening does not wait behind another process's write.
        if self._schema_ok(conn):
            return
        if self._readonly:
            raise StoreError(
                "store_error",
                f"{self._path} holds no agentchain store of schema {SCHEMA_VERSION} "
                "(an older one is upgraded when first opened writable)",
            )
        # IMMEDIATE: two processes creating (or upgrading) the same file serialize here
        # and the second sees the first's schema on its re-check.
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not self._schema_ok(conn):
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                # a new file gets schema 2 whole; a schema 1 file (an older agentchain's)
                # is upgraded in place: its revocations and nonces keep their meaning
                for statement in _MIGRATE_1 if version == 1 else _SCHEMA:
                    conn.execute(statement)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _schema_ok(self, conn: sqlite3.Connection) -> bool:
        """True if the schema is current; False if the file is empty or of schema 1
        (to be created or upgraded).

        Raises StoreError for a file that is some other application's, or newer.
        """
        # ONE statement, so one snapshot: read separately, a creator committing in
        # between would show a half-made store (id set but version 0, or tables but no id).
        version, app_id, tables = conn.execute(_READ_SCHEMA).fetchone()
        if version == 0 and app_id == 0:
            if tables:
                raise StoreError(
                    "store_error", f"{self._path} is a database but not an agentchain store"
                )
            return False
        if app_id != APPLICATION_ID:
            raise StoreError("store_error", f"{self._path} is not an agentchain store")
        if version > SCHEMA_VERSION:
            raise StoreError(
                "store_error",
                f"{self._path} has store schema {version}, newer than {SCHEMA_VERSION}: "
                "upgrade agentchain",
            )
        if version == 1:
            if self._readonly:
                raise StoreError(
                    "store_error",
                    f"{self._path} has store schema 1: open it writable once to upgrade it "
                    f"to schema {SCHEMA_VERSION}",
                )
            return False
        if version != SCHEMA_VERSION:
            raise StoreError("store_error", f"{self._path} has unknown store schema {version}")
        return True

    # -- plumbing ---------------------------------------------------------

    def _error(self, doing: str, exc: sqlite3.Error) -> StoreError:
        name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
        # extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_READONLY_DBMOVED...) share the hint
        hint = next(
            (h for prefix, h in _HINTS.items() if name == prefix or name.startswith(prefix + "_")),
            None,
        )
        if name == "SQLITE_BUSY":
            hint = f"{hint} ({self._busy_timeout}s)"
        detail = f"{exc} ({name})" + (f": {hint}" if hint else "")
        return StoreError("store_error", f"{doing} {self._path}: {detail}")

    @contextmanager
    def _connection(self, doing: str) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock; every sqlite3.Error becomes a StoreError."""
        with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreError("store_error", f"{doing} {self._path}: the store is closed")
            if os.getpid() != self._pid:
                # A connection inherited through fork shares file locks with the parent:
                # using it could corrupt the file or break atomicity.
                raise StoreError(
                    "store_error",
                    f"{doing} {self._path}: opened in another process; open one store per process",
                )
            try:
                yield conn
            except BaseException as exc:
                # never leave a half-done transaction (and its write lock) behind
                if conn.in_transaction:
                    with suppress(sqlite3.Error):  # the original error is the one to report
                        conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._error(doing, exc) from exc
                raise

    def _close_quietly(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(sqlite3.Error):  # already failing: the caller raises the first error
                conn.close()

    # -- the Store interface ------------------------------------------------

    def revoke(self, revocation_id: bytes, *, until: int | None = None) -> None:
        rid = _blob(revocation_id, "revocation_id")
        until_ = None if until is None else _int64(until, "until")
        with self._connection("revoke in") as conn:
            # autocommit: committed (and fsynced, synchronous=FULL) before we return
            conn.execute(_REVOKE, (rid, until_))

    def first_revoked(self, revocation_ids: Iterable[bytes]) -> bytes | None:
        ids = [_blob(r, "revocation_id") for r in revocation_ids]
        with self._connection("read revocations from") as conn:
            return _first_revoked(conn, ids)

    def use_nonce(self, key: bytes, *, expires_at: int, now: int) -> NonceStatus:
        key_ = _blob(key, "key")
        expires_at = _int64(expires_at, "expires_at")
        now = _int64(now, "now")
        with self._connection("record a nonce in") as conn:
            self._writes += 1
            if self._prune_due(now):
                # One IMMEDIATE transaction: the prune and the record commit together
                # (one fsync), and a failure leaves neither half done.
                conn.execute("BEGIN IMMEDIATE")
                self._prune_locked(conn, now)
                written = conn.execute(_USE_NONCE, (key_, expires_at, now)).rowcount
                conn.execute("COMMIT")
            else:
                written = conn.execute(_USE_NONCE, (key_, expires_at, now)).rowcount
        return NonceStatus.FRESH if written == 1 else NonceStatus.REPLAYED

    def consume(self, use: Use, *, now: int) -> UsageResult:
        check_use(use, now)
        with self._connection("record a use in") as conn:
            self._writes += 1
            # One IMMEDIATE transaction holds SQLite's write lock from the first read to
            # the commit: every process's check-and-record is serialized, all or nothing.
            conn.execute("BEGIN IMMEDIATE")
            if self._prune_due(now):
                self._prune_locked(conn, now)
            used = [
                (row := conn.execute(_READ_NONCE, (key,)).fetchone()) is not None and row[0] > now
                for key, _ in use.keys
            ]
            totals = []
            for charge in use.charges:
                row = conn.execute(_READ_COUNTER, (charge.key,)).fetchone()
                totals.append(int(row[0]) if row is not None and row[1] > now else 0)
            histories: list[tuple[int, tuple[bytes, ...]]] = []
            for departure in use.departures:
                row = conn.execute(_READ_HISTORY, (departure.key,)).fetchone()
                if row is not None and row[2] > now:
                    histories.append((int(row[0]), _split_marks(bytes(row[1]))))
                else:
                    histories.append((0, ()))
            blocked = decide_use(use, now=now, used=used, totals=totals, histories=histories)
            if blocked is not None:
                conn.execute("COMMIT")  # nothing written (a prune may have been)
                return blocked
            for key, expires_at in use.keys:
                conn.execute(_WRITE_NONCE, (key, expires_at))
            recorded = []
            for charge, total in zip(use.charges, totals, strict=True):
                value = min(total + charge.amount, MAX_COUNT)
                conn.execute(_WRITE_COUNTER, (charge.key, value, charge.expires_at))
                recorded.append(value)
            for departure, (count, marks) in zip(use.departures, histories, strict=True):
                learned = b"".join(learn_marks(marks, departure.marks))
                conn.execute(
                    _WRITE_HISTORY,
                    (departure.key, min(count + 1, MAX_COUNT), learned, departure.expires_at),
                )
            conn.execute("COMMIT")
        return UsageResult(UsageStatus.RECORDED, None, tuple(recorded))

    def record_revocation(self, record: RevocationRecord) -> None:
        if not isinstance(record, RevocationRecord):
            raise UsageError("record_revocation takes a RevocationRecord")
        with self._connection("record a revocation in") as conn:
            # IMMEDIATE: the read and the write are one transaction under the write lock,
            # so two processes recording the same (target, revoker) never lose the wider
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                f"SELECT {_SIGNED_COLUMNS} FROM signed_revocations "  # noqa: S608 -- constant
                "WHERE target = ?1 AND revoker = ?2",
                (record.target, record.revoker),
            ).fetchone()
            old = _signed_row(row) if row is not None else None
            kept = merge_revocation(old, record)
            if kept is not old:
                conn.execute(
                    f"INSERT OR REPLACE INTO signed_revocations ({_SIGNED_COLUMNS}) "  # noqa: S608
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    (
                        kept.target,
                        kept.revoker,
                        kept.before,
                        kept.until,
                        kept.recorded_at,
                        kept.revocation,
                    ),
                )
            conn.execute("COMMIT")

    def revocations(self, targets: Iterable[bytes]) -> tuple[RevocationRecord, ...]:
        wanted = list(dict.fromkeys(_blob(t, "target") for t in targets))
        with self._connection("read revocations from") as conn:
            return _revocations(conn, wanted, self.MAX_REVOCATION_RECORDS, str(self._path))

    def lookup_revocations(
        self, revocation_ids: Iterable[bytes], targets: Iterable[bytes]
    ) -> tuple[bytes | None, tuple[RevocationRecord, ...]]:
        ids = [_blob(r, "revocation_id") for r in revocation_ids]
        wanted = list(dict.fromkeys(_blob(t, "target") for t in targets))
        # one lock, two autocommit reads: each answer is current when it is read (an
        # explicit read transaction for one snapshot doubled the cost, and buys nothing:
        # a revocation recorded between the two reads is simply seen by the next request)
        with self._connection("read revocations from") as conn:
            records = _revocations(conn, wanted, self.MAX_REVOCATION_RECORDS, str(self._path))
            return _first_revoked(conn, ids), records

    def export_revocations(self) -> tuple[RevocationRecord, ...]:
        with self._connection("read revocations from") as conn:
            rows = conn.execute(
                f"SELECT {_SIGNED_COLUMNS} FROM signed_revocations "  # noqa: S608 -- constant
                "ORDER BY target, revoker"
            ).fetchall()
        return tuple(_signed_row(row) for row in rows)

    # -- pruning ----------------------------------------------------------

    def _prune_due(self, now: int) -> bool:
        return (
            self._next_prune is None or now >= self._next_prune or self._writes >= self.PRUNE_EVERY
        )

    def _prune_locked(self, conn: sqlite3.Connection, now: int) -> int:
        cutoff = now - self.PRUNE_GRACE
        nonces = conn.execute(_PRUNE_NONCES, (cutoff, self.PRUNE_BATCH)).rowcount
        revocations = conn.execute(_PRUNE_REVOCATIONS, (cutoff, self.PRUNE_BATCH)).rowcount
        revocations += conn.execute(_PRUNE_SIGNED, (cutoff, self.PRUNE_BATCH)).rowcount
        counters = conn.execute(_PRUNE_COUNTERS, (cutoff, self.PRUNE_BATCH)).rowcount
        histories = conn.execute(_PRUNE_HISTORIES, (cutoff, self.PRUNE_BATCH)).rowcount
        self._writes = 0
        counts = (nonces, revocations, counters, histories)
        backlog = any(count >= self.PRUNE_BATCH for count in counts)
        # a full batch means more is waiting: take the next bite on the next call
        self._next_prune = now if backlog else now + self.PRUNE_INTERVAL
        return sum(counts)

    def prune(self, now: int | None = None) -> int:
        """Delete up to :attr:`PRUNE_BATCH` expired nonces and revocations; return how many.

        An entry goes once ``now`` (default: the wall clock) is :attr:`PRUNE_GRACE`
        seconds past its ``expires_at`` or ``until``; revocations without ``until``
        stay for good. Call it from a maintenance job if a store sees few requests.
        """
        now_ = int(time.time()) if now is None else _int64(now, "now")
        with self._connection("prune") as conn:
            conn.execute("BEGIN IMMEDIATE")
            deleted = self._prune_locked(conn, now_)
            conn.execute("COMMIT")
        return deleted

    # -- lifetime ---------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    def close(self) -> None:
        """Close the file. Idempotent; any later call raises StoreError."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None and os.getpid() == self._pid:
                try:
                    conn.close()
                except sqlite3.Error as exc:
                    raise self._error("close", exc) from exc

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._conn is None else ("readonly" if self._readonly else "open")
        return f"SQLiteStore({str(self._path)!r}, {state})"
