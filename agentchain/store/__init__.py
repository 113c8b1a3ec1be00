"""Verifier state behind one small interface (spec 8.3, 9.4): memory, SQLite; sync and async."""

from agentchain.store._base import (
    AsyncStore,
    MemoryStore,
    NonceStatus,
    Store,
    ThreadedStore,
    as_async_store,
    is_async_store,
)
from agentchain.store._sqlite import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    SQLiteStore,
)

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "AsyncStore",
    "MemoryStore",
    "NonceStatus",
    "SQLiteStore",
    "Store",
    "ThreadedStore",
    "as_async_store",
    "is_async_store",
]
