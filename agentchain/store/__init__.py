"""Verifier state behind one small interface (spec 8.3, 9.4): memory, SQLite; sync and async."""

from agentchain.store._base import (
    MAX_REVOCATION_RECORDS,
    REVOCATION_GRACE,
    AsyncStore,
    MemoryStore,
    NonceStatus,
    RevocationRecord,
    Store,
    ThreadedStore,
    as_async_store,
    bounded_revocations,
    is_async_store,
    merge_revocation,
)
from agentchain.store._sqlite import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    SQLiteStore,
)

__all__ = [
    "APPLICATION_ID",
    "MAX_REVOCATION_RECORDS",
    "REVOCATION_GRACE",
    "SCHEMA_VERSION",
    "AsyncStore",
    "MemoryStore",
    "NonceStatus",
    "RevocationRecord",
    "SQLiteStore",
    "Store",
    "ThreadedStore",
    "as_async_store",
    "bounded_revocations",
    "is_async_store",
    "merge_revocation",
]
