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
from typing import Protocol


class NonceStatus(enum.Enum):
    FRESH = "fresh"  # first use: recorded now
    REPLAYED = "replayed"  # seen before and not yet expired


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

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revoked: set[bytes] = set()
        self._nonces: dict[bytes, int] = {}
        self._prune_at = _PRUNE_AT

    def revoke(self, revocation_id: bytes, *, until: int | None = None) -> None:
        # kept for good: memory is per process and short-lived, pruning buys nothing here
        with self._lock:
            self._revoked.add(bytes(revocation_id))

    def first_revoked(self, revocation_ids: Iterable[bytes]) -> bytes | None:
        with self._lock:
            return next((r for r in revocation_ids if r in self._revoked), None)

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
