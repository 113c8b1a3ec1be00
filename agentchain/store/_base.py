"""State a verifier keeps between requests: revocations and the replay cache (spec 8.3).

One small interface, :class:`Store`, so that the in-memory store (tests, one
process), an embedded store and a fleet-wide store are interchangeable without
touching the verifier. Identifiers are opaque byte strings chosen by the
verifier (link digests; the invocation's holder key and nonce).
"""

from __future__ import annotations

import enum
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


class MemoryStore:
    """A :class:`Store` in this process's memory: for tests and single-process verifiers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revoked: set[bytes] = set()
        self._nonces: dict[bytes, int] = {}

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
            if len(self._nonces) > 4096:  # bounded memory: drop what has expired
                self._nonces = {k: v for k, v in self._nonces.items() if v > now}
            self._nonces[key] = expires_at
            return NonceStatus.FRESH
