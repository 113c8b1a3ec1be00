"""RedisStore and AsyncRedisStore beyond the conformance suite: key layout and expiry,
namespacing by prefix, persistence across a crash, and failing closed when the server
is unreachable, killed, hung, read-only or holds foreign data. Always a real redis-server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from agentchain import PrivateKey, Request, TrustPolicy, Verifier, invoke, issue
from agentchain import redis_store as redis_store_module
from agentchain.errors import StoreError, UsageError
from agentchain.redis_store import GRACE, MAX_TTL, AsyncRedisStore, RedisStore
from agentchain.redis_store import _protocol as redis_protocol
from agentchain.store import NonceStatus
from agentchain.verifier import Outcome
from tests.redis_server import RedisServer, free_port
from tests.store_conformance import unique_prefix

FRESH, REPLAYED = NonceStatus.FRESH, NonceStatus.REPLAYED


@pytest.fixture
def raw(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A plain client on the test server: to look at (and tamper with) what the store wrote."""
    client = redis.Redis.from_url(redis_server.url)
    yield client
    client.close()


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[RedisStore]:
    with RedisStore.from_url(redis_server.url, prefix=unique_prefix()) as s:
        yield s


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A server of the test's own, to kill, pause or restart."""
    server = RedisServer(tmp_path, appendfsync="always")
    server.start()
    yield server
    if server.process is not None:
        server.resume()  # in case a test left it stopped
    server.stop()


# -- layout and expiry --------------------------------------------------------------


def test_keys_live_under_the_prefix_and_expire_after_grace(
    store: RedisStore, raw: redis.Redis
) -> None:
    assert store.use_nonce(b"\x01\x02", expires_at=1060, now=1000) is FRESH
    key = store.prefix + b"n:0102"
    assert raw.get(key) == b"1060"
    # the lifetime is relative to the write, by Redis's clock: 60 s to run plus the grace
    assert 60 + GRACE - 2 <= raw.ttl(key) <= 60 + GRACE
    assert store.use_nonce(b"old", expires_at=900, now=1000) is FRESH  # already expired
    assert GRACE - 2 <= raw.ttl(store.prefix + b"n:" + b"old".hex().encode()) <= GRACE
    # an entry that would outlive MAX_TTL is kept without expiry rather than refused
    assert store.use_nonce(b"far", expires_at=2**52, now=0) is FRESH
    assert raw.ttl(store.prefix + b"n:" + b"far".hex().encode()) == -1
    assert sorted(raw.scan_iter(match=store.prefix + b"*")) == sorted(
        [key, store.prefix + b"n:" + b"old".hex().encode(), store.prefix + b"n:666172"]
    )


def test_entries_really_expire(
    redis_server: RedisServer, raw: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bounded memory: Redis drops the entries itself once the verifier cannot need them
    # the clients and the key layout each read it
    monkeypatch.setattr(redis_store_module, "GRACE", 1)
    monkeypatch.setattr(redis_protocol, "GRACE", 1)
    with RedisStore.from_url(redis_server.url, prefix=unique_prefix()) as s:
        assert s.use_nonce(b"n", expires_at=100, now=100) is FRESH
        s.revoke(b"r", until=100)
        assert raw.exists(s.prefix + b"n:6e", s.prefix + b"r:72") == 2
        deadline = time.monotonic() + 5
        while raw.exists(s.prefix + b"n:6e", s.prefix + b"r:72") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert raw.exists(s.prefix + b"n:6e", s.prefix + b"r:72") == 0
        assert s.first_revoked([b"r"]) is None
        assert s.use_nonce(b"n", expires_at=100, now=100) is FRESH


def test_revoking_again_never_shortens(store: RedisStore, raw: redis.Redis) -> None:
    # R-9.4-1
    far = int(time.time()) + 86400
    key = store.prefix + b"r:" + b"a".hex().encode()
    store.revoke(b"a", until=far)
    ttl = raw.ttl(key)
    assert 86400 + GRACE - 2 <= ttl <= 86400 + GRACE
    store.revoke(b"a", until=far - 3600)  # earlier: changes nothing
    assert raw.get(key) == str(far).encode()
    assert raw.ttl(key) >= ttl - 2
    store.revoke(b"a", until=far + 3600)  # later: extends
    assert raw.get(key) == str(far + 3600).encode()
    store.revoke(b"a")  # for good: no expiry at all
    assert raw.get(key) == b"forever"
    assert raw.ttl(key) == -1
    store.revoke(b"a", until=far)  # and it stays for good
    assert raw.ttl(key) == -1
    assert store.first_revoked([b"a"]) == b"a"
    store.revoke(b"b", until=2**52)  # beyond MAX_TTL: kept without expiry
    assert raw.ttl(store.prefix + b"r:62") == -1
    assert MAX_TTL < 2**52


def test_prefixes_namespace_verifier_groups(redis_server: RedisServer) -> None:
    # one Redis, two services: nothing shared; one service, two verifiers: all shared
    shared = unique_prefix()
    a1, a2, b = (
        RedisStore.from_url(redis_server.url, prefix=p) for p in (shared, shared, unique_prefix())
    )
    with a1, a2, b:
        assert a1.use_nonce(b"k", expires_at=200, now=100) is FRESH
        assert a2.use_nonce(b"k", expires_at=200, now=100) is REPLAYED
        assert b.use_nonce(b"k", expires_at=200, now=100) is FRESH
        a2.revoke(b"r")
        assert a1.first_revoked([b"r"]) == b"r"
        assert b.first_revoked([b"r"]) is None


def test_scripts_reload_after_a_script_flush(store: RedisStore, raw: redis.Redis) -> None:
    # EVALSHA answers NOSCRIPT after SCRIPT FLUSH (or a restart): the store sends the script again
    assert store.use_nonce(b"k", expires_at=200, now=100) is FRESH
    raw.script_flush()
    assert store.use_nonce(b"k", expires_at=200, now=100) is REPLAYED
    raw.script_flush()
    store.revoke(b"r")
    raw.script_flush()
    assert store.first_revoked([b"x", b"r"]) == b"r"


def test_survives_a_crash_with_appendfsync_always(own_server: RedisServer) -> None:
    # R-9.4-1: acknowledged with appendonly + appendfsync always: kept through kill -9
    with RedisStore.from_url(own_server.url) as s:
        assert s.use_nonce(b"n", expires_at=2000, now=1000) is FRESH
        s.revoke(b"gone")
        own_server.restart()  # SIGKILL, then start again on the same port and directory
        assert s.use_nonce(b"n", expires_at=2000, now=1500) is REPLAYED
        assert s.first_revoked([b"gone"]) == b"gone"


# -- failing closed ------------------------------------------------------------------


def _all_calls_raise(s: RedisStore) -> None:
    with pytest.raises(StoreError) as caught:
        s.use_nonce(b"k", expires_at=200, now=100)
    assert caught.value.code == "store_error"
    with pytest.raises(StoreError):
        s.first_revoked([b"a"])
    with pytest.raises(StoreError):
        s.revoke(b"a")


def _clients_settle(raw: redis.Redis, expected: int) -> int:
    """How many clients the server has, once it has seen ``expected`` (or after a second)."""
    deadline = time.monotonic() + 1.0
    found = len(raw.client_list())
    while found != expected and time.monotonic() < deadline:
        time.sleep(0.01)
        found = len(raw.client_list())
    return found


def test_closing_a_store_closes_its_connections(
    redis_server: RedisServer, raw: redis.Redis
) -> None:
    # a store from_url made owns its pool: closing it hangs up on the server at once (a
    # client given a pool does not close it by itself, and its sockets would stay open
    # until the garbage collector found them)
    before = len(raw.client_list())
    s = RedisStore.from_url(redis_server.url, prefix=unique_prefix())
    s.use_nonce(b"k", expires_at=200, now=100)
    assert _clients_settle(raw, before + 1) == before + 1
    s.close()
    assert _clients_settle(raw, before) == before

    async def used_then_closed() -> None:
        async with AsyncRedisStore.from_url(redis_server.url, prefix=unique_prefix()) as a:
            await a.use_nonce(b"k", expires_at=200, now=100)
            assert _clients_settle(raw, before + 1) == before + 1

    asyncio.run(used_then_closed())
    assert _clients_settle(raw, before) == before


def test_closed_port_raises() -> None:
    # R-9.4-4: nothing listening
    with RedisStore.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout=1) as s:
        _all_calls_raise(s)
        with pytest.raises(StoreError, match="cannot reach"):
            s.use_nonce(b"k", expires_at=200, now=100)


def test_closed_port_raises_async() -> None:
    # R-9.4-4
    async def calls() -> None:
        url = f"redis://127.0.0.1:{free_port()}/0"
        async with AsyncRedisStore.from_url(url, timeout=1) as s:
            with pytest.raises(StoreError, match="cannot reach"):
                await s.use_nonce(b"k", expires_at=200, now=100)
            with pytest.raises(StoreError):
                await s.first_revoked([b"a"])
            with pytest.raises(StoreError):
                await s.revoke(b"a")

    asyncio.run(calls())


def test_killed_server_raises_then_recovers(own_server: RedisServer) -> None:
    # R-9.4-4: the server dies under a live store: errors, never FRESH; back when it is
    with RedisStore.from_url(own_server.url, timeout=1) as s:
        assert s.use_nonce(b"before", expires_at=2000, now=1000) is FRESH
        own_server.kill()
        _all_calls_raise(s)
        own_server.restart()
        assert s.use_nonce(b"before", expires_at=2000, now=1000) is REPLAYED
        assert s.use_nonce(b"after", expires_at=2000, now=1000) is FRESH


def test_hung_server_times_out(own_server: RedisServer) -> None:
    # R-9.4-4: SIGSTOP: connected, but no answer: StoreError after the timeout, not a hang
    with RedisStore.from_url(own_server.url, timeout=1) as s:
        assert s.use_nonce(b"warm", expires_at=2000, now=1000) is FRESH
        own_server.pause()
        started = time.monotonic()
        try:
            with pytest.raises(StoreError, match="no answer in time"):
                s.use_nonce(b"k", expires_at=2000, now=1000)
        finally:
            own_server.resume()
        assert time.monotonic() - started < 10  # two tries of 1 s, not a hang


def test_hung_server_times_out_async(own_server: RedisServer) -> None:
    # R-9.4-4
    async def call() -> None:
        async with AsyncRedisStore.from_url(own_server.url, timeout=1) as s:
            assert await s.use_nonce(b"warm", expires_at=2000, now=1000) is FRESH
            own_server.pause()
            try:
                with pytest.raises(StoreError, match="no answer in time"):
                    await s.use_nonce(b"k", expires_at=2000, now=1000)
            finally:
                own_server.resume()

    asyncio.run(call())


def test_read_only_replica_refuses(redis_server: RedisServer, tmp_path: Path) -> None:
    # R-9.4-4: pointed at a replica (say, after a bad failover): writes refused, StoreError
    primary = redis_server
    replica = RedisServer(tmp_path, extra=("--replicaof", "127.0.0.1", str(primary.port)))
    replica.start()
    try:
        with RedisStore.from_url(replica.url, prefix=unique_prefix()) as s:
            with pytest.raises(StoreError, match="refused"):
                s.use_nonce(b"k", expires_at=200, now=100)
            with pytest.raises(StoreError, match="refused"):
                s.revoke(b"r")
            assert s.first_revoked([b"r"]) is None  # reads work: a replica can answer those
    finally:
        replica.stop()


def test_foreign_data_under_our_keys_raises(store: RedisStore, raw: redis.Redis) -> None:
    # a value that is not ours is a script error, never a FRESH
    raw.set(store.prefix + b"n:" + b"k".hex().encode(), b"not a number")
    with pytest.raises(StoreError, match="refused"):
        store.use_nonce(b"k", expires_at=200, now=100)
    raw.hset(store.prefix + b"n:" + b"h".hex().encode(), "a", "b")
    with pytest.raises(StoreError):
        store.use_nonce(b"h", expires_at=200, now=100)
    raw.set(store.prefix + b"r:" + b"r".hex().encode(), b"garbage")
    with pytest.raises(StoreError):
        store.revoke(b"r", until=10)
    assert store.first_revoked([b"r"]) == b"r"  # present is revoked: the safe reading


def test_store_failure_never_lets_a_request_through(own_server: RedisServer) -> None:
    # R-8.3-2 R-9.4-4: through the verifier: allow, replay across verifiers, then an exception
    anchor, agent = PrivateKey.generate(), PrivateKey.generate()
    token = issue(anchor, agent.public_key, capabilities=[("calendar/read", "*")], now=1000)
    audience, resource = "https://cal.example", "https://cal.example/alice"
    presentation = invoke(
        token, agent, audience=audience, action="calendar/read", resource=resource, now=1000
    )
    policy = TrustPolicy(anchors=(anchor.public_key,), audience=audience)
    request = Request("calendar/read", resource)
    with RedisStore.from_url(own_server.url) as a, RedisStore.from_url(own_server.url) as b:
        assert (
            Verifier(policy, store=a, clock=lambda: 1001).verify(presentation, request).outcome
            is Outcome.ALLOW
        )
        replayed = Verifier(policy, store=b, clock=lambda: 1002).verify(presentation, request)
        assert [r.code for r in replayed.reasons] == ["replay"]
        own_server.kill()
        other = invoke(
            token, agent, audience=audience, action="calendar/read", resource=resource, now=1000
        )
        with pytest.raises(StoreError):
            Verifier(policy, store=a, clock=lambda: 1001).verify(other, request)


def test_bad_configuration_is_a_usage_error(redis_server: RedisServer) -> None:
    for url in ("http://127.0.0.1:6379/0", "127.0.0.1:6379", b"redis://x"):
        with pytest.raises(UsageError):
            RedisStore.from_url(url)  # type: ignore[arg-type]
    for timeout in (0, -1, True, "1"):
        with pytest.raises(UsageError):
            RedisStore.from_url(redis_server.url, timeout=timeout)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        RedisStore.from_url(redis_server.url, max_connections=0)
    with pytest.raises(UsageError):
        RedisStore.from_url(redis_server.url, prefix=5)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        RedisStore(redis.asyncio.Redis())  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        AsyncRedisStore(redis.Redis())  # type: ignore[arg-type]


def test_repr_names_the_server_never_the_password(redis_server: RedisServer) -> None:
    url = redis_server.url.replace("redis://", "redis://user:s3cret@")
    s = RedisStore.from_url(url, timeout=1)
    assert "s3cret" not in repr(s)
    with pytest.raises(StoreError) as caught:  # the test server has no such user
        s.use_nonce(b"k", expires_at=200, now=100)
    assert "s3cret" not in str(caught.value)
    s.close()
    assert "closed" in repr(s)
