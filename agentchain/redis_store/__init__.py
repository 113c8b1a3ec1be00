"""A :class:`~agentchain.store.Store` in Redis or Valkey: the shared state of a verifier fleet.

Several verifier processes, on several hosts, share one Redis primary; each
decision's check-and-record is one Lua script run atomically by the server
(``EVALSHA``, falling back to ``EVAL`` when the server has forgotten the
script), so two verifiers racing on one nonce see FRESH exactly once.

Why scripts and not ``SET key 1 NX PXAT``: a script compares the stored
``expires_at`` with the verifier's own ``now``, exactly as the memory and SQLite
stores do, so all three give the same answers (one conformance suite), and the
server's clock never decides a replay. Redis expires each key itself, which is
the pruning: a key lives ``expires_at - now`` seconds plus :data:`GRACE` from
the moment it is written, by Redis's clock, so memory stays bounded. Only
commands every Redis >= 5 and every Valkey has are used (GET, SET EX, EXISTS,
EVALSHA/EVAL/SCRIPT LOAD).

Every failure (unreachable or stopped server, timeout, refused command, script
error, foreign data under our keys, closed store) raises
:class:`~agentchain.errors.StoreError`: never a FRESH that was not recorded,
never "not revoked" from a lookup that did not happen. See docs/store.md and
docs/fleet.md.

:class:`RedisStore` is for synchronous verifiers; :class:`AsyncRedisStore` has
the same methods as coroutines, for the ASGI middleware.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from types import TracebackType
from typing import ClassVar

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from agentchain.errors import StoreError, UsageError
from agentchain.redis_store._protocol import (
    _CONSUME,
    _FIRST_REVOKED,
    _LOOKUP,
    _RECORD_REVOCATION,
    _REVOCATIONS,
    _REVOKE,
    _USE_NONCE,
    _blob,
    _check_connections,
    _check_record,
    _check_timeout,
    _check_url,
    _consume_call,
    _error,
    _first_revoked,
    _Keys,
    _lookup_reply,
    _nonce_status,
    _nonce_ttl,
    _parse_record,
    _parse_records,
    _record_value,
    _time,
    _usage_result,
    _where,
)
from agentchain.redis_store._protocol import (
    DEFAULT_CONNECTIONS as DEFAULT_CONNECTIONS,
)
from agentchain.redis_store._protocol import (
    DEFAULT_PREFIX as DEFAULT_PREFIX,
)
from agentchain.redis_store._protocol import (
    DEFAULT_TIMEOUT as DEFAULT_TIMEOUT,
)
from agentchain.redis_store._protocol import (
    GRACE as GRACE,
)
from agentchain.redis_store._protocol import (
    MAX_TTL as MAX_TTL,
)
from agentchain.store import (
    MAX_REVOCATION_RECORDS,
    NonceStatus,
    RevocationRecord,
    UsageResult,
    Use,
    check_use,
)


class RedisStore:
    """A :class:`~agentchain.store.Store` in Redis, shared by every verifier that uses it.

    Give it a ``redis.Redis`` client (``decode_responses`` off) or use
    :meth:`from_url`. ``prefix`` namespaces the keys: verifiers that must share
    replay protection and revocations use the same prefix; independent services
    on one Redis use different ones. One instance may be shared by the threads of
    a process (redis-py pools connections, and is safe across ``fork``).
    """

    #: records one revocation lookup may find before it fails closed
    MAX_REVOCATION_RECORDS: ClassVar[int] = MAX_REVOCATION_RECORDS

    def __init__(self, client: redis.Redis, *, prefix: str | bytes = DEFAULT_PREFIX) -> None:
        if not isinstance(client, redis.Redis):
            raise UsageError(f"client must be a redis.Redis, not {type(client).__name__}")
        self._client: redis.Redis | None = client
        self._owned = False
        self._keys = _Keys(prefix)
        self._where = _where(client.connection_pool.connection_kwargs)
        self._use_nonce = client.register_script(_USE_NONCE)
        self._revoke = client.register_script(_REVOKE)
        self._first_revoked = client.register_script(_FIRST_REVOKED)
        self._consume = client.register_script(_CONSUME)
        self._record_revocation = client.register_script(_RECORD_REVOCATION)
        self._revocations = client.register_script(_REVOCATIONS)
        self._lookup = client.register_script(_LOOKUP)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str | bytes = DEFAULT_PREFIX,
        timeout: float = DEFAULT_TIMEOUT,
        max_connections: int = DEFAULT_CONNECTIONS,
    ) -> RedisStore:
        """Connect to ``redis://host:port/db`` (or ``rediss://``, ``unix://``).

        Nothing is sent until the first call. ``timeout`` bounds connecting, each
        reply, and the wait for one of the ``max_connections`` pooled connections
        when every one is busy. A dropped connection is retried once at once (a
        pooled connection may have died with a restarted server), then StoreError.
        """
        retry = Retry(NoBackoff(), 1)
        pool = redis.BlockingConnectionPool.from_url(
            _check_url(url),
            max_connections=_check_connections(max_connections),
            timeout=_check_timeout(timeout),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=retry,
        )
        client = redis.Redis(connection_pool=pool, retry=retry)
        store = cls(client, prefix=prefix)
        store._owned = True
        return store

    def _live(self, doing: str) -> redis.Redis:
        if self._client is None:
            raise StoreError("store_error", f"{doing} {self._where}: the store is closed")
        return self._client

    def revoke(self, revocation_id: bytes, *, until: int | None = None) -> None:
        rid = _blob(revocation_id, "revocation_id")
        until_ = "" if until is None else str(_time(until, "until"))
        doing = "revoke in"
        self._live(doing)
        args: list[str | int] = [until_, int(time.time()), GRACE, MAX_TTL]
        try:
            self._revoke(keys=[self._keys.revocation(rid)], args=args)
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc

    def first_revoked(self, revocation_ids: Iterable[bytes]) -> bytes | None:
        ids = [_blob(r, "revocation_id") for r in revocation_ids]
        doing = "read revocations from"
        self._live(doing)
        if not ids:
            return None
        try:
            reply = self._first_revoked(keys=[self._keys.revocation(r) for r in ids])
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc
        return _first_revoked(ids, reply, self._where)

    def use_nonce(self, key: bytes, *, expires_at: int, now: int) -> NonceStatus:
        key_ = _blob(key, "key")
        expires_at = _time(expires_at, "expires_at")
        now = _time(now, "now")
        doing = "record a nonce in"
        self._live(doing)
        args = [expires_at, now, _nonce_ttl(expires_at, now)]
        try:
            reply = self._use_nonce(keys=[self._keys.nonce(key_)], args=args)
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc
        return _nonce_status(reply, self._where)

    def consume(self, use: Use, *, now: int) -> UsageResult:
        check_use(use, now)
        doing = "record a use in"
        self._live(doing)
        keys, args = _consume_call(self._keys, use, now)
        try:
            reply = self._consume(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc
        return _usage_result(use, reply, self._where)

    def record_revocation(self, record: RevocationRecord) -> None:
        record = _check_record(record)
        doing = "record a revocation in"
        self._live(doing)
        args: list[str | int] = [
            record.revoker.hex(),
            "" if record.before is None else record.before,
            "" if record.until is None else record.until,
            _record_value(record),
            int(time.time()),
            GRACE,
            MAX_TTL,
        ]
        try:
            self._record_revocation(keys=[self._keys.signed(record.target)], args=args)
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc

    def revocations(self, targets: Iterable[bytes]) -> tuple[RevocationRecord, ...]:
        ids = list(dict.fromkeys(_blob(t, "target") for t in targets))
        doing = "read revocations from"
        self._live(doing)
        if not ids:
            return ()
        try:
            reply = self._revocations(
                keys=[self._keys.signed(t) for t in ids], args=[self.MAX_REVOCATION_RECORDS + 1]
            )
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc
        return _parse_records(ids, reply, self._where, self.MAX_REVOCATION_RECORDS)

    def lookup_revocations(
        self, revocation_ids: Iterable[bytes], targets: Iterable[bytes]
    ) -> tuple[bytes | None, tuple[RevocationRecord, ...]]:
        ids = [_blob(r, "revocation_id") for r in revocation_ids]
        wanted = list(dict.fromkeys(_blob(t, "target") for t in targets))
        doing = "read revocations from"
        self._live(doing)
        keys = [self._keys.revocation(r) for r in ids] + [self._keys.signed(t) for t in wanted]
        if not keys:
            return None, ()
        try:
            reply = self._lookup(keys=keys, args=[len(ids), self.MAX_REVOCATION_RECORDS + 1])
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc
        return _lookup_reply(ids, wanted, reply, self._where, self.MAX_REVOCATION_RECORDS)

    def export_revocations(self) -> tuple[RevocationRecord, ...]:
        doing = "read revocations from"
        client = self._live(doing)
        out: list[RevocationRecord] = []
        try:
            for key in client.scan_iter(match=self._keys.signed_pattern(), count=500):
                target = self._keys.target_of(key)
                for field, value in client.hgetall(key).items():
                    out.append(_parse_record(target, field, value, self._where))
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc
        out.sort(key=lambda r: (r.target, r.revoker))
        return tuple(out)

    @property
    def prefix(self) -> bytes:
        return self._keys.prefix

    def close(self) -> None:
        """Stop using the server (and close the client if :meth:`from_url` made it).

        Idempotent; any later call raises StoreError.
        """
        client, self._client = self._client, None
        if client is not None and self._owned:
            try:
                client.close()
                # a client given a pool does not close it (redis-py): its sockets would
                # stay open until the garbage collector found them
                client.connection_pool.disconnect()
            except (RedisError, OSError) as exc:
                raise _error(self._where, "close", exc) from exc

    def __enter__(self) -> RedisStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._client is None else "open"
        return f"RedisStore({self._where}, prefix={self.prefix!r}, {state})"


class AsyncRedisStore:
    """:class:`RedisStore` for asyncio: the same methods and answers, each a coroutine.

    Give it a ``redis.asyncio.Redis`` client or use :meth:`from_url`; close it with
    :meth:`aclose` or ``async with``.
    """

    #: records one revocation lookup may find before it fails closed
    MAX_REVOCATION_RECORDS: ClassVar[int] = MAX_REVOCATION_RECORDS

    def __init__(
        self, client: redis.asyncio.Redis, *, prefix: str | bytes = DEFAULT_PREFIX
    ) -> None:
        if not isinstance(client, redis.asyncio.Redis):
            raise UsageError(f"client must be a redis.asyncio.Redis, not {type(client).__name__}")
        self._client: redis.asyncio.Redis | None = client
        self._owned = False
        self._keys = _Keys(prefix)
        self._where = _where(client.connection_pool.connection_kwargs)
        self._use_nonce = client.register_script(_USE_NONCE)
        self._revoke = client.register_script(_REVOKE)
        self._first_revoked = client.register_script(_FIRST_REVOKED)
        self._consume = client.register_script(_CONSUME)
        self._record_revocation = client.register_script(_RECORD_REVOCATION)
        self._revocations = client.register_script(_REVOCATIONS)
        self._lookup = client.register_script(_LOOKUP)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str | bytes = DEFAULT_PREFIX,
        timeout: float = DEFAULT_TIMEOUT,
        max_connections: int = DEFAULT_CONNECTIONS,
    ) -> AsyncRedisStore:
        """As :meth:`RedisStore.from_url`."""
        retry = AsyncRetry(NoBackoff(), 1)
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            _check_url(url),
            max_connections=_check_connections(max_connections),
            timeout=_check_timeout(timeout),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=retry,
        )
        client = redis.asyncio.Redis(connection_pool=pool, retry=retry)
        store = cls(client, prefix=prefix)
        store._owned = True
        return store

    def _live(self, doing: str) -> redis.asyncio.Redis:
        if self._client is None:
            raise StoreError("store_error", f"{doing} {self._where}: the store is closed")
        return self._client

    async def revoke(self, revocation_id: bytes, *, until: int | None = None) -> None:
        rid = _blob(revocation_id, "revocation_id")
        until_ = "" if until is None else str(_time(until, "until"))
        doing = "revoke in"
        self._live(doing)
        args: list[str | int] = [until_, int(time.time()), GRACE, MAX_TTL]
        try:
            await self._revoke(keys=[self._keys.revocation(rid)], args=args)
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc

    async def first_revoked(self, revocation_ids: Iterable[bytes]) -> bytes | None:
        ids = [_blob(r, "revocation_id") for r in revocation_ids]
        doing = "read revocations from"
        self._live(doing)
        if not ids:
            return None
        try:
            reply = await self._first_revoked(keys=[self._keys.revocation(r) for r in ids])
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc
        return _first_revoked(ids, reply, self._where)

    async def use_nonce(self, key: bytes, *, expires_at: int, now: int) -> NonceStatus:
        key_ = _blob(key, "key")
        expires_at = _time(expires_at, "expires_at")
        now = _time(now, "now")
        doing = "record a nonce in"
        self._live(doing)
        args = [expires_at, now, _nonce_ttl(expires_at, now)]
        try:
            reply = await self._use_nonce(keys=[self._keys.nonce(key_)], args=args)
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc
        return _nonce_status(reply, self._where)

    async def consume(self, use: Use, *, now: int) -> UsageResult:
        check_use(use, now)
        doing = "record a use in"
        self._live(doing)
        keys, args = _consume_call(self._keys, use, now)
        try:
            reply = await self._consume(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc
        return _usage_result(use, reply, self._where)

    async def record_revocation(self, record: RevocationRecord) -> None:
        record = _check_record(record)
        doing = "record a revocation in"
        self._live(doing)
        args: list[str | int] = [
            record.revoker.hex(),
            "" if record.before is None else record.before,
            "" if record.until is None else record.until,
            _record_value(record),
            int(time.time()),
            GRACE,
            MAX_TTL,
        ]
        try:
            await self._record_revocation(keys=[self._keys.signed(record.target)], args=args)
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc

    async def revocations(self, targets: Iterable[bytes]) -> tuple[RevocationRecord, ...]:
        ids = list(dict.fromkeys(_blob(t, "target") for t in targets))
        doing = "read revocations from"
        self._live(doing)
        if not ids:
            return ()
        try:
            reply = await self._revocations(
                keys=[self._keys.signed(t) for t in ids], args=[self.MAX_REVOCATION_RECORDS + 1]
            )
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc
        return _parse_records(ids, reply, self._where, self.MAX_REVOCATION_RECORDS)

    async def lookup_revocations(
        self, revocation_ids: Iterable[bytes], targets: Iterable[bytes]
    ) -> tuple[bytes | None, tuple[RevocationRecord, ...]]:
        ids = [_blob(r, "revocation_id") for r in revocation_ids]
        wanted = list(dict.fromkeys(_blob(t, "target") for t in targets))
        doing = "read revocations from"
        self._live(doing)
        keys = [self._keys.revocation(r) for r in ids] + [self._keys.signed(t) for t in wanted]
        if not keys:
            return None, ()
        try:
            reply = await self._lookup(keys=keys, args=[len(ids), self.MAX_REVOCATION_RECORDS + 1])
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc
        return _lookup_reply(ids, wanted, reply, self._where, self.MAX_REVOCATION_RECORDS)

    async def export_revocations(self) -> tuple[RevocationRecord, ...]:
        doing = "read revocations from"
        client = self._live(doing)
        out: list[RevocationRecord] = []
        try:
            async for key in client.scan_iter(match=self._keys.signed_pattern(), count=500):
                target = self._keys.target_of(key)
                for field, value in (await client.hgetall(key)).items():
                    out.append(_parse_record(target, field, value, self._where))
        except (RedisError, OSError) as exc:
            raise _error(self._where, doing, exc) from exc
        out.sort(key=lambda r: (r.target, r.revoker))
        return tuple(out)

    @property
    def prefix(self) -> bytes:
        return self._keys.prefix

    async def aclose(self) -> None:
        """Stop using the server (and close the client if :meth:`from_url` made it)."""
        client, self._client = self._client, None
        if client is not None and self._owned:
            try:
                # the pool too: a client given a pool does not close it by itself
                await client.aclose(close_connection_pool=True)
            except (RedisError, OSError) as exc:
                raise _error(self._where, "close", exc) from exc

    async def __aenter__(self) -> AsyncRedisStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._client is None else "open"
        return f"AsyncRedisStore({self._where}, prefix={self.prefix!r}, {state})"
