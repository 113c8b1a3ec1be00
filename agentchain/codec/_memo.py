"""Bounded caches keyed by exact bytes: what decoding (and a link's id) would compute again.

A verifier sees the same holder keys, descriptors and links over and over (agents fan
one token out to many sub-agents; every request re-presents its chain). Each value
cached here is a pure function of the bytes it is keyed by, so a hit returns exactly
what computing it again would: the cache can change the time an answer takes, never
the answer. A different byte is a different key. Refusals are never cached (they
raise before anything is stored), so an error is found, and reported, every time.

Every cache is bounded: when full, the oldest entry goes first (insertion order, as
:data:`agentchain.model._caveats._PARSED` does). Lookups and stores are single dict
operations, safe to share between threads under the interpreter lock.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Final, Generic, TypeVar

from agentchain.codec._claims import link_id
from agentchain.codec._signed import Link

__all__ = ["ByteCache", "caches", "clear_caches", "decoded_link_id"]

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
        _CACHES.append(self)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def put(self, key: K, value: V) -> V:
        entries = self._entries
        if key not in entries and len(entries) >= self.maxsize:
            oldest = next(iter(entries), None)
            if oldest is not None:
                entries.pop(oldest, None)
        entries[key] = value
        return value

    def clear(self) -> None:
        self._entries.clear()


_CACHES: Final[list[ByteCache[Any, Any]]] = []


def caches() -> tuple[ByteCache[Any, Any], ...]:
    """Every cache of this module, for tests and benchmarks."""
    return tuple(_CACHES)


def clear_caches() -> None:
    """Empty every cache here (the cost of bytes never seen before, for benchmarks)."""
    for cache in _CACHES:
        cache.clear()


#: (encoding, a link's payload bytes) -> codec.link_id of the claims they decode to
_LINK_IDS: Final[ByteCache[tuple[str, bytes], bytes]] = ByteCache("link ids", 4096)


def decoded_link_id(link: Link) -> bytes:
    """``codec.link_id(link.claims)``, remembered by the link's exact payload bytes.

    Only for a link this package decoded from its bytes (the verifier decodes every
    link it judges), whose claims are those of its payload.

    The claims are a pure function of the payload bytes (decoding with other limits
    either refuses them or reads the same claims), so the id is too; V5 asks for it
    on every request, for every link of the chain.
    """
    key = (link.envelope.encoding, link.envelope.payload)
    known = _LINK_IDS.get(key)
    if known is not None:
        return known
    return _LINK_IDS.put(key, link_id(link.claims))
