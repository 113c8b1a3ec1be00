"""Verifier state behind one small interface (spec 8.3, 9.4): in memory and SQLite."""

from agentchain.store._base import (
    MemoryStore,
    NonceStatus,
    Store,
)
from agentchain.store._sqlite import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    SQLiteStore,
)

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "MemoryStore",
    "NonceStatus",
    "SQLiteStore",
    "Store",
]
