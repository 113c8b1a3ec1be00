"""Verifier state behind one small interface (spec 8.3, 9.4, 9.5): memory, SQLite; sync, async."""

from agentchain.store._base import (
    MARK_BYTES,
    MAX_COUNT,
    MAX_HISTORY_MARKS,
    AsyncStore,
    Charge,
    Departure,
    MemoryStore,
    NonceStatus,
    Store,
    ThreadedStore,
    UsageResult,
    UsageStatus,
    Use,
    as_async_store,
    check_use,
    is_async_store,
)
from agentchain.store._sqlite import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    SQLiteStore,
)

__all__ = [
    "APPLICATION_ID",
    "MARK_BYTES",
    "MAX_COUNT",
    "MAX_HISTORY_MARKS",
    "SCHEMA_VERSION",
    "AsyncStore",
    "Charge",
    "Departure",
    "MemoryStore",
    "NonceStatus",
    "SQLiteStore",
    "Store",
    "ThreadedStore",
    "UsageResult",
    "UsageStatus",
    "Use",
    "as_async_store",
    "check_use",
    "is_async_store",
]
