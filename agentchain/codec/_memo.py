"""Bounded caches keyed by exact bytes: what decoding (and a link's id) would compute again.

Imports nothing of the codec: every codec module may keep its caches here. The native core
keeps a front of ``codec._plain``'s four caches (``native/src/lib.rs``, ``PARTS``), emptied
with them.

A verifier sees the same holder keys, descriptors and links over and over (agents fan
one token out to many sub-agents; every request re-presents its chain). Each value
cached here is a pure function of the bytes it is keyed by, so a hit returns exactly
what computing it again would: the cache can change the time an answer takes, never
the answer. A different byte is a different key. Refusals are never cached (they
raise before anything is stored), so an error is found, and reported, every time.

Every cache is bounded: when full, the oldest entry goes first (insertion order, as
:data:`agentchain.model._caveats._PARSED` does). A lookup is one dict operation; stores
take a lock (eviction walks the dict), so a cache is safe to share between threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Final, Generic, TypeVar

from agentchain import _native

__all__ = ["ByteCache", "caches", "clear_caches"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ByteCache(Generic[K, V]):
    """At most ``maxsize`` values, each keyed by the exact bytes it was computed from."""

    def __init__(self, name: str, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("a cache holds at least one entry")
        self.name = name
        self.maxsize = maxsize
        self._entries: dict[K, V] = {}
        #: :meth:`get` without a Python frame: the one dict, which is never replaced
        self.lookup: Final[Callable[[K], V | None]] = self._entries.get
        self._lock = threading.Lock()
        _CACHES.append(self)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def put(self, key: K, value: V) -> V:
        entries = self._entries
        with self._lock:  # one writer at a time: eviction walks the dict
            if key not in entries:
                while len(entries) >= self.maxsize:
                    oldest = next(iter(entries), None)
                    if oldest is None:
                        break
                    entries.pop(oldest, None)
            entries[key] = value
        return value

    def clear(self) -> None:
        self._entries.clear()


_CACHES: Final[list[ByteCache[Any, Any]]] = []


def caches() -> tuple[ByteCache[Any, Any], ...]:
    """Every cache of this module, for tests and benchmarks."""
    return tuple(_CACHES)


def clear_caches(*, links_only: bool = False) -> None:
    """Empty every cache here (the cost of bytes never seen before, for benchmarks); with
    ``links_only``, only what is remembered by a whole link's bytes (its id), so that a chain
    is new while its principals' keys, descriptors and capabilities may have been seen."""
    for cache in _CACHES:
        if not links_only or cache.name == "link ids":
            cache.clear()
    if not links_only:  # and the native core's front of the four link-value caches
        _native.clear_caches()


#: the types whose ``repr`` spells a decoded value exactly (no subclass prints like its base
#: here: a decoder makes only these), and which tell ``True`` from ``1`` and ``b"a"`` from "a"
_PLAIN: Final = frozenset({dict, list, str, bytes, int})
_SCALARS: Final = frozenset({str, bytes, int})


def plain_key(value: object, most: int = 32) -> str | None:
    """An exact spelling of small decoded data (maps, arrays, text, bytes, integers) to key a
    cache by, or None: not worth remembering (more than ``most`` items), or holding a type
    whose ``repr`` could name two values (a bool, a float, None, a subclass). Two maps with
    the same items in another order spell differently: a miss, never a wrong hit."""
    if type(value) is dict and len(value) <= most:  # the common case: a flat map
        for k, v in value.items():
            if type(k) not in _SCALARS or type(v) not in _SCALARS:
                break
        else:
            return repr(value)
    stack = [value]
    seen = 0
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind not in _PLAIN:
            return None
        if kind is dict:
            seen += len(item)  # type: ignore[arg-type]
            stack.extend(item.keys())  # type: ignore[attr-defined]
            stack.extend(item.values())  # type: ignore[attr-defined]
        elif kind is list:
            seen += len(item)  # type: ignore[arg-type]
            stack.extend(item)  # type: ignore[arg-type]
        if seen > most:
            return None
    return repr(value)
