"""State a verifier keeps between requests: revocations and the replay cache (spec 8.3).

One small interface, :class:`Store`, so that the in-memory store (tests, one
process), an embedded store and a fleet-wide store are interchangeable without
touching the verifier. Identifiers are opaque byte strings chosen by the
verifier (link digests; the invocation's holder key and nonce).
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Final, Protocol, cast

from agentchain.errors import StoreError, UsageError


class NonceStatus(enum.Enum):
    FRESH = "fresh"  # first use: recorded now
    REPLAYED = "replayed"  # seen before and not yet expired


#: spec 9.5: a counter saturates here (2**53-1: exact in every language, a Lua number too)
MAX_COUNT: Final = 2**53 - 1
#: spec 9.5: a history remembers at most this many marks (actions and hosts together)
MAX_HISTORY_MARKS: Final = 64
#: spec 9.5: a mark is this many bytes (a truncated digest of an action or a host)
MARK_BYTES: Final = 16


@dataclass(frozen=True, slots=True)
class Charge:
    """One use of one usage limit (spec 9.5): add ``amount`` to the counter ``key``.

    The counter holds a value until ``expires_at`` (its window's end) and counts
    from 0 afterwards. When ``enforce`` (the limit is not waived by an approval),
    a use that would take the counter above ``limit`` is refused.
    """

    key: bytes
    amount: int
    limit: int
    expires_at: int
    enforce: bool = True


@dataclass(frozen=True, slots=True)
class Departure:
    """One use checked against a link's history (spec 9.5): the history ``key``
    counts allowed requests and remembers marks (actions and hosts) until ``expires_at``.

    When ``enforce`` and the history has counted at least ``learn`` requests, a
    mark it does not hold is a departure, and the use is refused.
    """

    key: bytes
    learn: int
    marks: tuple[bytes, ...]
    expires_at: int
    enforce: bool = True


class UsageStatus(enum.Enum):
    RECORDED = "recorded"  # nothing in the way: every part recorded now
    REPLAYED = "replayed"  # a key was already used and is unexpired: nothing recorded
    EXCEEDED = "exceeded"  # an enforced charge would exceed its limit: nothing recorded
    DEPARTED = "departed"  # an enforced history lacks a mark: nothing recorded


@dataclass(frozen=True, slots=True)
class Use:
    """Everything one allowed request records, all or nothing (spec 9.4 ``consume``).

    ``keys`` are used once, like :meth:`Store.use_nonce` (the invocation's nonce,
    the approvals it uses), each ``(key, expires_at)``.
    """

    keys: tuple[tuple[bytes, int], ...]
    charges: tuple[Charge, ...] = ()
    departures: tuple[Departure, ...] = ()


@dataclass(frozen=True, slots=True)
class UsageResult:
    """What :meth:`Store.consume` found.

    ``index`` is the position, in its own tuple of the :class:`Use`, of the key,
    charge or history that stopped it (None when recorded). ``totals`` has each
    charge's counter: after this use when recorded, as found otherwise.
    """

    status: UsageStatus
    index: int | None
    totals: tuple[int, ...]


#: Records a store returns for one lookup at most; a chain of max_links links asks for
#: 3 targets per link, so an honest store never comes near it (spec 9.4: bounded). A
#: lookup that finds more raises StoreError: answering with a part could leave out the
#: one record that revokes the chain.
MAX_REVOCATION_RECORDS: Final = 1024
#: Seconds past ``until`` before a store forgets a signed revocation (as for nonces:
#: processes whose clocks differ by less than this still agree).
REVOCATION_GRACE: Final = 300


@dataclass(frozen=True, slots=True)
class RevocationRecord:
    """One accepted signed revocation, as a store keeps it (spec 8.5, 9.4).

    Who revoked what, and when: ``revoker`` (the signer's thumbprint) revoked
    ``target`` (a domain-separated digest naming a link by issuer and id, or a key),
    the store recorded it at ``recorded_at``; ``revocation`` is the signed object
    exactly as received, so an export can be verified again by anyone. The store
    never judges it: the verifier checked its signature before recording it and
    checks the revoker's entitlement against every chain it is applied to.
    """

    target: bytes
    revoker: bytes
    #: covers links whose iat is strictly below this; None covers every link
    before: int | None
    #: the store may forget the record REVOCATION_GRACE seconds after this; None: never
    until: int | None
    recorded_at: int
    revocation: bytes

    def __post_init__(self) -> None:
        for name in ("target", "revoker"):
            value = getattr(self, name)
            if not isinstance(value, bytes) or len(value) != 32:
                raise UsageError(f"RevocationRecord.{name} must be 32 bytes")
        if not isinstance(self.revocation, bytes) or not self.revocation:
            raise UsageError("RevocationRecord.revocation must be the signed object's bytes")
        for name in ("before", "until", "recorded_at"):
            value = getattr(self, name)
            if value is None and name != "recorded_at":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**53:
                raise UsageError(f"RevocationRecord.{name} must be an int in 0..2**53-1")

    def reach(self) -> tuple[bool, int, bool, int]:
        """The order in which one revoker's records of one target replace each other:
        the wider ``before`` wins (None widest), then the later ``until`` (None latest)."""
        return (
            self.before is None,
            self.before or 0,
            self.until is None,
            self.until or 0,
        )


def bounded_revocations(
    found: list[RevocationRecord], cap: int, where: str
) -> tuple[RevocationRecord, ...]:
    """``found`` ordered by (target, revoker); StoreError if it holds more than ``cap``."""
    if len(found) > cap:
        raise StoreError(
            "store_error",
            f"read revocations from {where}: more than {cap} records for one chain; "
            "refusing to answer with a part of them",
        )
    if len(found) > 1:  # none or one: in order already
        found.sort(key=lambda r: (r.target, r.revoker))
    return tuple(found)


def merge_revocation(old: RevocationRecord | None, new: RevocationRecord) -> RevocationRecord:
    """spec 9.4: what a store keeps for one (target, revoker): never a narrower record."""
    if old is None or new.reach() > old.reach():
        return new
    return old


class Store(Protocol):
    """What the verifier needs from its state. Every method is atomic."""

    def revoke(self, revocation_id: bytes, *, until: int | None = None) -> None:
        """Record that ``revocation_id`` (a link digest) is revoked.

        ``until`` (seconds since the epoch) is when the entry may be forgotten:
        a time after which the link is expired anyway. None keeps it for good.
        """

    def first_revoked(self, revocation_ids: Iterable[bytes]) -> bytes | None:
        """The first of ``revocation_ids`` that is revoked, or None."""

    def use_nonce(self, key: bytes, *, expires_at: int, now: int) -> NonceStatus:
        """Record ``key`` until ``expires_at`` unless it is already recorded and unexpired.

        Check and record are one atomic step: two verifiers racing on one nonce
        see FRESH exactly once. The verifier uses this for invocation nonces and
        for approvals, which count once (keys are domain-separated digests).
        """

    def consume(self, use: Use, *, now: int) -> UsageResult:
        """Check every part of ``use``, then record all of it or nothing, atomically.

        In order: a key recorded and unexpired is REPLAYED; an enforced charge
        whose counter (0 once expired) plus its amount exceeds its limit is
        EXCEEDED; an enforced history that has counted ``learn`` or more and lacks
        a mark is DEPARTED. Otherwise every key is recorded, every counter grows
        by its amount (saturating at MAX_COUNT), every history counts one more and
        learns the marks it has room for (MAX_HISTORY_MARKS). Verifiers racing in
        any processes sharing the store never together take a counter past a
        limit it enforces.
        """

    def record_revocation(self, record: RevocationRecord) -> None:
        """Keep ``record`` (a verified signed revocation), atomically.

        One record per (target, revoker): a new one replaces the kept one only if
        its reach is wider (:func:`merge_revocation`), so recording never narrows a
        revocation and recording the same one twice changes nothing.
        """

    def revocations(self, targets: Iterable[bytes]) -> tuple[RevocationRecord, ...]:
        """Every record for any of ``targets``; StoreError beyond MAX_REVOCATION_RECORDS."""

    def export_revocations(self) -> tuple[RevocationRecord, ...]:
        """Every record the store keeps (for ``agentchain revocations export``)."""

    def lookup_revocations(
        self, revocation_ids: Iterable[bytes], targets: Iterable[bytes]
    ) -> tuple[bytes | None, tuple[RevocationRecord, ...]]:
        """``first_revoked(revocation_ids)`` and ``revocations(targets)`` in one call: what
        V5 asks, in one round trip for a network store."""


class AsyncStore(Protocol):
    """:class:`Store` for an event loop: the same methods and semantics, awaited.

    ``Verifier.verify_async`` awaits these, so a network store (Redis through
    redis.asyncio, say) never blocks the loop. Every method is atomic.
    """

    async def revoke(self, revocation_id: bytes, *, until: int | None = None) -> None:
        """As :meth:`Store.revoke`."""

    async def first_revoked(self, revocation_ids: Iterable[bytes]) -> bytes | None:
        """As :meth:`Store.first_revoked`."""

    async def use_nonce(self, key: bytes, *, expires_at: int, now: int) -> NonceStatus:
        """As :meth:`Store.use_nonce`: check and record in one atomic step."""

    async def consume(self, use: Use, *, now: int) -> UsageResult:
        """As :meth:`Store.consume`: check and record all or nothing in one atomic step."""

    async def record_revocation(self, record: RevocationRecord) -> None:
        """As :meth:`Store.record_revocation`."""

    async def revocations(self, targets: Iterable[bytes]) -> tuple[RevocationRecord, ...]:
        """As :meth:`Store.revocations`."""

    async def export_revocations(self) -> tuple[RevocationRecord, ...]:
        """As :meth:`Store.export_revocations`."""

    async def lookup_revocations(
        self, revocation_ids: Iterable[bytes], targets: Iterable[bytes]
    ) -> tuple[bytes | None, tuple[RevocationRecord, ...]]:
        """As :meth:`Store.lookup_revocations`."""


def is_async_store(store: Store | AsyncStore) -> bool:
    """Whether ``store``'s methods are coroutines (an :class:`AsyncStore`)."""
    return inspect.iscoroutinefunction(getattr(store, "use_nonce", None))


class ThreadedStore:
    """An :class:`AsyncStore` over a blocking :class:`Store` (SQLite, say): each call
    runs in a worker thread, so the event loop never waits on a file lock."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def revoke(self, revocation_id: bytes, *, until: int | None = None) -> None:
        await asyncio.to_thread(self._store.revoke, revocation_id, until=until)

    async def first_revoked(self, revocation_ids: Iterable[bytes]) -> bytes | None:
        ids = tuple(revocation_ids)  # consumed here, not in the worker thread
        return await asyncio.to_thread(self._store.first_revoked, ids)

    async def use_nonce(self, key: bytes, *, expires_at: int, now: int) -> NonceStatus:
        return await asyncio.to_thread(self._store.use_nonce, key, expires_at=expires_at, now=now)

    async def consume(self, use: Use, *, now: int) -> UsageResult:
        return await asyncio.to_thread(self._store.consume, use, now=now)

    async def record_revocation(self, record: RevocationRecord) -> None:
        await asyncio.to_thread(self._store.record_revocation, record)

    async def revocations(self, targets: Iterable[bytes]) -> tuple[RevocationRecord, ...]:
        ids = tuple(targets)
        return await asyncio.to_thread(self._store.revocations, ids)

    async def export_revocations(self) -> tuple[RevocationRecord, ...]:
        return await asyncio.to_thread(self._store.export_revocations)

    async def lookup_revocations(
        self, revocation_ids: Iterable[bytes], targets: Iterable[bytes]
    ) -> tuple[bytes | None, tuple[RevocationRecord, ...]]:
        ids, wanted = tuple(revocation_ids), tuple(targets)
        return await asyncio.to_thread(self._store.lookup_revocations, ids, wanted)


class _InlineStore:
    """An :class:`AsyncStore` over a :class:`MemoryStore`: its calls hold a lock for
    microseconds and never wait on I/O, so a thread hop would cost more than it saves."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def revoke(self, revocation_id: bytes, *, until: int | None = None) -> None:
        self._store.revoke(revocation_id, until=until)

    async def first_revoked(self, revocation_ids: Iterable[bytes]) -> bytes | None:
        return self._store.first_revoked(revocation_ids)

    async def use_nonce(self, key: bytes, *, expires_at: int, now: int) -> NonceStatus:
        return self._store.use_nonce(key, expires_at=expires_at, now=now)

    async def consume(self, use: Use, *, now: int) -> UsageResult:
        return self._store.consume(use, now=now)

    async def record_revocation(self, record: RevocationRecord) -> None:
        self._store.record_revocation(record)

    async def revocations(self, targets: Iterable[bytes]) -> tuple[RevocationRecord, ...]:
        return self._store.revocations(targets)

    async def export_revocations(self) -> tuple[RevocationRecord, ...]:
        return self._store.export_revocations()

    async def lookup_revocations(
        self, revocation_ids: Iterable[bytes], targets: Iterable[bytes]
    ) -> tuple[bytes | None, tuple[RevocationRecord, ...]]:
        return self._store.lookup_revocations(revocation_ids, targets)


def as_async_store(store: Store | AsyncStore) -> AsyncStore:
    """``store`` itself when it is async; otherwise an adapter that never blocks the loop."""
    if is_async_store(store):
        return store  # type: ignore[return-value]
    if isinstance(store, MemoryStore):
        return _InlineStore(store)
    return ThreadedStore(store)  # type: ignore[arg-type]


_PRUNE_AT = 4096


class MemoryStore:
    """A :class:`Store` in this process's memory: for tests and single-process verifiers."""

    #: records one revocation lookup may find before it fails closed
    MAX_REVOCATION_RECORDS: ClassVar[int] = MAX_REVOCATION_RECORDS

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revoked: set[bytes] = set()
        self._nonces: dict[bytes, int] = {}
        self._prune_at = _PRUNE_AT
        self._counters: dict[bytes, tuple[int, int]] = {}  # key -> (value, expires_at)
        # key -> (count, marks, expires_at)
        self._histories: dict[bytes, tuple[int, tuple[bytes, ...], int]] = {}
        #: signed revocations by target, then by revoker: V5 asks for a chain's targets on
        #: every request, so a lookup reads those alone, not every record the store keeps
        self._signed: dict[bytes, dict[bytes, RevocationRecord]] = {}

    def revoke(self, revocation_id: bytes, *, until: int | None = None) -> None:
        # kept for good: memory is per process and short-lived, pruning buys nothing here
        with self._lock:
            self._revoked.add(bytes(revocation_id))

    def first_revoked(self, revocation_ids: Iterable[bytes]) -> bytes | None:
        with self._lock:
            revoked = self._revoked
            return next((r for r in revocation_ids if r in revoked), None) if revoked else None

    def use_nonce(self, key: bytes, *, expires_at: int, now: int) -> NonceStatus:
        with self._lock:
            seen = self._nonces.get(key)
            if seen is not None and seen > now:
                return NonceStatus.REPLAYED
            if len(self._nonces) > self._prune_at:  # bounded memory: drop what has expired
                self._nonces = {k: v for k, v in self._nonces.items() if v > now}
                # amortized: with more live nonces than the mark (a busy service keeps
                # thousands within one invocation window), pruning again at the next
                # call would copy them all on every request
                self._prune_at = max(_PRUNE_AT, 2 * len(self._nonces))
            self._nonces[key] = expires_at
            return NonceStatus.FRESH

    def consume(self, use: Use, *, now: int) -> UsageResult:
        check_use(use, now)
        with self._lock:
            if len(self._counters) + len(self._histories) > self._prune_at:
                self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
                self._histories = {k: v for k, v in self._histories.items() if v[2] > now}
            totals = []
            for charge in use.charges:
                value, expires_at = self._counters.get(charge.key, (0, 0))
                totals.append(value if expires_at > now else 0)
            histories = []
            for departure in use.departures:
                count, marks, expires_at = self._histories.get(departure.key, (0, (), 0))
                histories.append((count, marks) if expires_at > now else (0, ()))
            blocked = decide_use(
                use,
                now=now,
                used=[self._nonces.get(k, 0) > now for k, _ in use.keys],
                totals=totals,
                histories=histories,
            )
            if blocked is not None:
                return blocked
            for key, expires_at in use.keys:
                self._nonces[key] = expires_at
            recorded = []
            for charge, total in zip(use.charges, totals, strict=True):
                value = min(total + charge.amount, MAX_COUNT)
                self._counters[charge.key] = (value, charge.expires_at)
                recorded.append(value)
            for departure, (count, marks) in zip(use.departures, histories, strict=True):
                self._histories[departure.key] = (
                    min(count + 1, MAX_COUNT),
                    learn_marks(marks, departure.marks),
                    departure.expires_at,
                )
            return UsageResult(UsageStatus.RECORDED, None, tuple(recorded))

    def record_revocation(self, record: RevocationRecord) -> None:
        if not isinstance(record, RevocationRecord):
            raise UsageError("record_revocation takes a RevocationRecord")
        with self._lock:
            held = self._signed.setdefault(record.target, {})
            held[record.revoker] = merge_revocation(held.get(record.revoker), record)

    def revocations(self, targets: Iterable[bytes]) -> tuple[RevocationRecord, ...]:
        given = _targets(targets)
        with self._lock:
            found = self._held(given)
        return bounded_revocations(found, self.MAX_REVOCATION_RECORDS, "memory")

    def _held(self, targets: tuple[bytes, ...]) -> list[RevocationRecord]:
        """The records for ``targets``, each target read once (the caller holds the lock)."""
        signed = self._signed
        if not signed:  # the common case: no signed revocation at all
            return []
        found: list[RevocationRecord] = []
        for target in dict.fromkeys(targets):
            held = signed.get(target)
            if held:
                found += held.values()
        return found

    def export_revocations(self) -> tuple[RevocationRecord, ...]:
        with self._lock:
            every = [r for held in self._signed.values() for r in held.values()]
        return tuple(sorted(every, key=lambda r: (r.target, r.revoker)))

    def lookup_revocations(
        self, revocation_ids: Iterable[bytes], targets: Iterable[bytes]
    ) -> tuple[bytes | None, tuple[RevocationRecord, ...]]:
        # first_revoked and revocations under one lock: one consistent reading, one
        # acquisition (V5 asks on every request)
        ids, given = tuple(revocation_ids), _targets(targets)
        with self._lock:
            revoked = self._revoked
            first = next((r for r in ids if r in revoked), None) if revoked else None
            found = self._held(given)
        return first, bounded_revocations(found, self.MAX_REVOCATION_RECORDS, "memory")

    def prune(self, now: int) -> int:
        """Forget signed revocations REVOCATION_GRACE seconds past their ``until``."""
        gone = 0
        with self._lock:
            for target, held in list(self._signed.items()):
                stale = [
                    revoker
                    for revoker, r in held.items()
                    if r.until is not None and r.until < now - REVOCATION_GRACE
                ]
                for revoker in stale:
                    del held[revoker]
                gone += len(stale)
                if not held:
                    del self._signed[target]
        return gone


def check_use(use: Use, now: int) -> None:
    """Refuse (UsageError) a :class:`Use` no store could record exactly."""
    if not isinstance(use, Use):
        raise UsageError(f"consume takes a Use, not {type(use).__name__}")
    _int(now, "now", -(2**53), 2**53)
    for key, expires_at in use.keys:
        _key(key)
        _int(expires_at, "expires_at", -(2**53), 2**53)
    for charge in use.charges:
        _key(charge.key)
        _int(charge.amount, "amount", 0, MAX_COUNT)
        _int(charge.limit, "limit", 0, MAX_COUNT)
        _int(charge.expires_at, "expires_at", -(2**53), 2**53)
    for departure in use.departures:
        _key(departure.key)
        _int(departure.learn, "learn", 0, MAX_COUNT)
        _int(departure.expires_at, "expires_at", -(2**53), 2**53)
        if not all(type(m) is bytes and len(m) == MARK_BYTES for m in departure.marks):
            raise UsageError(f"a mark is {MARK_BYTES} bytes")


def _key(value: object) -> None:
    if type(value) is not bytes or not 1 <= len(value) <= 64:
        raise UsageError("a store key is 1..64 bytes")


def _int(value: object, what: str, low: int, high: int) -> None:
    if type(value) is not int or not low <= value <= high:
        raise UsageError(f"{what} must be an int in {low}..{high}, not {value!r}")


def decide_use(
    use: Use,
    *,
    now: int,
    used: list[bool],
    totals: list[int],
    histories: list[tuple[int, tuple[bytes, ...]]],
) -> UsageResult | None:
    """The one rule of :meth:`Store.consume`, over the state a store read (expired
    entries already read as absent): the result that stops the use, or None."""
    found = tuple(totals)
    for index, replayed in enumerate(used):
        if replayed:
            return UsageResult(UsageStatus.REPLAYED, index, found)
    for index, (charge, total) in enumerate(zip(use.charges, totals, strict=True)):
        if charge.enforce and total + charge.amount > charge.limit:
            return UsageResult(UsageStatus.EXCEEDED, index, found)
    for index, (departure, (count, marks)) in enumerate(
        zip(use.departures, histories, strict=True)
    ):
        departs = not set(departure.marks) <= set(marks)
        if departure.enforce and count >= departure.learn and departs:
            return UsageResult(UsageStatus.DEPARTED, index, found)
    return None


def learn_marks(known: tuple[bytes, ...], new: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """``known`` with the marks of ``new`` it lacks, in order, up to MAX_HISTORY_MARKS."""
    out = list(known)
    for mark in new:
        if mark not in out and len(out) < MAX_HISTORY_MARKS:
            out.append(mark)
    return tuple(out)


def _targets(targets: Iterable[object]) -> tuple[bytes, ...]:
    """Revocation targets as bytes (the verifier's are bytes already: one pass over them);
    UsageError for anything that is not bytes-like."""
    given = tuple(targets)
    for target in given:
        if type(target) is not bytes:
            return tuple(map(_target, given))
    return cast("tuple[bytes, ...]", given)


def _target(value: object) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise UsageError(f"a revocation target must be bytes, not {type(value).__name__}")
    return bytes(value)
