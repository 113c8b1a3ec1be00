"""The Redis side of the fleet store: key layout, the Lua scripts (each check-and-record one
atomic script, spec 9.4) and the parsing of their replies, shared by the sync and the async
client in :mod:`agentchain.redis_store`."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from redis.exceptions import (
    ConnectionError as RedisConnectionError,
)
from redis.exceptions import (
    ResponseError,
)
from redis.exceptions import (
    TimeoutError as RedisTimeoutError,
)

from agentchain.errors import StoreError, UsageError
from agentchain.store import (
    NonceStatus,
    RevocationRecord,
    UsageResult,
    UsageStatus,
    Use,
    bounded_revocations,
)

#: Seconds an entry outlives the moment the verifier could last need it, so that
#: verifiers whose clocks differ by less than this still agree (the same grace as
#: SQLiteStore.PRUNE_GRACE): one whose clock runs behind may still accept an
#: invocation another has already recorded.
GRACE: Final = 300
#: Entries that would live longer than this many seconds (about 68 years) are kept
#: without expiry: Redis refuses expiry times past 2**63 ms, and nothing is lost.
MAX_TTL: Final = 2**31
#: Lua numbers are doubles: times are exact integers only within +-2**53.
_TIME_LIMIT: Final = 2**53
#: Connections a store opens at most; more concurrent calls wait for one (``timeout``).
DEFAULT_CONNECTIONS: Final = 32
#: The prefix every key gets unless the caller names another.
DEFAULT_PREFIX: Final = "ac:"
#: Seconds to wait for a connection or a reply before raising StoreError.
DEFAULT_TIMEOUT: Final = 2.0

# spec 9.4 use_nonce: replayed iff recorded with now < expires_at; otherwise (re)record.
# KEYS[1] the nonce entry; ARGV: expires_at, now, seconds to keep ("0": no expiry).
# A value that is not a number (not ours) makes tonumber nil and the comparison an
# error: the script fails and the store raises, never answering FRESH.
_USE_NONCE: Final = """
local seen = redis.call('GET', KEYS[1])
if seen and tonumber(seen) > tonumber(ARGV[2]) then
  return 0
end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
end
return 1
"""

# spec 9.4 revoke: idempotent, never shortens. The value is the effective until, or
# 'forever'. KEYS[1] the revocation entry; ARGV: until ('' = for good), the wall
# clock of the revoking host, GRACE, MAX_TTL. The entry lives until until + GRACE by
# that clock, and at least GRACE from now; SET without EX drops any old expiry.
_REVOKE: Final = """
local old = redis.call('GET', KEYS[1])
if ARGV[1] == '' or old == 'forever' then
  redis.call('SET', KEYS[1], 'forever')
  return 1
end
local value = ARGV[1]
if old and tonumber(old) > tonumber(value) then
  value = old
end
local grace = tonumber(ARGV[3])
local keep = tonumber(value) + grace - tonumber(ARGV[2])
if keep < grace then
  keep = grace
end
if keep > tonumber(ARGV[4]) then
  redis.call('SET', KEYS[1], value)
else
  redis.call('SET', KEYS[1], value, 'EX', string.format('%d', keep))
end
return 1
"""

# spec 9.4 first_revoked: the 1-based position of the first revoked id in the given
# order, 0 for none. One round trip whatever the chain's length.
_FIRST_REVOKED: Final = """
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    return i
  end
end
return 0
"""


# spec 9.4 consume: check every part, then record all or nothing, in one script.
# KEYS: the used keys (n:), then the counters (u:), then the histories (h:).
# ARGV[1..4]: now, and how many of each; then per used key: expires_at, ttl; per
# counter: amount, limit, enforce (1/0), expires_at, ttl; per history: learn, enforce,
# expires_at, ttl, its marks (hex, 32 characters each). ttl "0": no expiry.
# Counters are hashes {v: value, e: expires_at}; histories {c: count, m: marks, e: ...}.
# Replies {status, index, totals...}: status 0 recorded, 1 replayed, 2 exceeded,
# 3 departed; index 1-based within its kind (0 when recorded).
_CONSUME: Final = """
local now = tonumber(ARGV[1])
local nk, nc, nh = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local max_count, max_marks = 9007199254740991, 64
local a = 5
local function setex(key, ttl, ...)
  redis.call('DEL', key)
  redis.call('HSET', key, ...)
  if ttl ~= '0' then redis.call('EXPIRE', key, ttl) end
end
local totals = {}
for j = 1, nc do
  local v = redis.call('HMGET', KEYS[nk + j], 'v', 'e')
  local total = 0
  if v[1] and tonumber(v[2]) > now then total = tonumber(v[1]) end
  totals[j] = total
end
local function reply(status, index)
  local out = {status, index}
  for j = 1, nc do out[#out + 1] = totals[j] end
  return out
end
for i = 1, nk do
  local seen = redis.call('GET', KEYS[i])
  if seen and tonumber(seen) > now then return reply(1, i) end
end
for j = 1, nc do
  local b = a + 2 * nk + 5 * (j - 1)
  if ARGV[b + 2] == '1' and totals[j] + tonumber(ARGV[b]) > tonumber(ARGV[b + 1]) then
    return reply(2, j)
  end
end
local counts, known = {}, {}
for h = 1, nh do
  local v = redis.call('HMGET', KEYS[nk + nc + h], 'c', 'm', 'e')
  counts[h], known[h] = 0, ''
  if v[1] and tonumber(v[3]) > now then counts[h], known[h] = tonumber(v[1]), v[2] end
end
local function holds(marks, mark)
  for p = 1, #marks, 32 do
    if string.sub(marks, p, p + 31) == mark then return true end
  end
  return false
end
local base = a + 2 * nk + 5 * nc
for h = 1, nh do
  local b = base + 5 * (h - 1)
  if ARGV[b + 1] == '1' and counts[h] >= tonumber(ARGV[b]) then
    local wanted = ARGV[b + 4]
    for p = 1, #wanted, 32 do
      if not holds(known[h], string.sub(wanted, p, p + 31)) then return reply(3, h) end
    end
  end
end
for i = 1, nk do
  local ttl = ARGV[a + 2 * (i - 1) + 1]
  if ttl == '0' then
    redis.call('SET', KEYS[i], ARGV[a + 2 * (i - 1)])
  else
    redis.call('SET', KEYS[i], ARGV[a + 2 * (i - 1)], 'EX', ttl)
  end
end
for j = 1, nc do
  local b = a + 2 * nk + 5 * (j - 1)
  local value = math.min(totals[j] + tonumber(ARGV[b]), max_count)
  totals[j] = value
  setex(KEYS[nk + j], ARGV[b + 4], 'v', string.format('%d', value), 'e', ARGV[b + 3])
end
for h = 1, nh do
  local b = base + 5 * (h - 1)
  local marks, wanted = known[h], ARGV[b + 4]
  for p = 1, #wanted, 32 do
    local mark = string.sub(wanted, p, p + 31)
    if #marks < 32 * max_marks and not holds(marks, mark) then marks = marks .. mark end
  end
  local count = math.min(counts[h] + 1, max_count)
  setex(KEYS[nk + nc + h], ARGV[b + 3], 'c', string.format('%d', count), 'm', marks,
        'e', ARGV[b + 2])
end
return reply(0, 0)
"""


def _consume_call(keys: _Keys, use: Use, now: int) -> tuple[list[bytes], list[str | int]]:
    """The KEYS and ARGV of the consume script for ``use`` (checked by check_use)."""
    names = [keys.nonce(k) for k, _ in use.keys]
    names += [keys.counter(c.key) for c in use.charges]
    names += [keys.history(d.key) for d in use.departures]
    args: list[str | int] = [now, len(use.keys), len(use.charges), len(use.departures)]
    for _, expires_at in use.keys:
        args += [expires_at, _nonce_ttl(expires_at, now)]
    for charge in use.charges:
        ttl = _nonce_ttl(charge.expires_at, now)
        args += [charge.amount, charge.limit, int(charge.enforce), charge.expires_at, ttl]
    for departure in use.departures:
        ttl = _nonce_ttl(departure.expires_at, now)
        marks = "".join(m.hex() for m in departure.marks)
        args += [departure.learn, int(departure.enforce), departure.expires_at, ttl, marks]
    return names, args


_USAGE_STATUS: Final = {
    0: UsageStatus.RECORDED,
    1: UsageStatus.REPLAYED,
    2: UsageStatus.EXCEEDED,
    3: UsageStatus.DEPARTED,
}


def _usage_result(use: Use, reply: object, where: str) -> UsageResult:
    if (
        isinstance(reply, list)
        and len(reply) == 2 + len(use.charges)
        and all(isinstance(v, int) for v in reply)
        and reply[0] in _USAGE_STATUS
    ):
        status = _USAGE_STATUS[reply[0]]
        index = None if status is UsageStatus.RECORDED else reply[1] - 1
        return UsageResult(status, index, tuple(reply[2:]))
    raise StoreError("store_error", f"record a use in {where}: unexpected reply {reply!r}")


# spec 9.4 record_revocation: one hash per target, one field per revoker (its hex
# thumbprint), the value "before:until:recorded_at:<hex of the signed object>" ('' for
# None). KEYS[1] the hash; ARGV: field, before, until, value, the revoking host's wall
# clock, GRACE, MAX_TTL. The wider record wins (RevocationRecord.reach); the hash lives
# until its latest until + GRACE, for good when one record has none.
_RECORD_REVOCATION: Final = """
local function reach(b, u)
  return {b == '' and 1 or 0, tonumber(b) or 0, u == '' and 1 or 0, tonumber(u) or 0}
end
local old = redis.call('HGET', KEYS[1], ARGV[1])
local replace = true
if old then
  local ob, ou = string.match(old, '^(%d*):(%d*):%d+:%x+$')
  if not ob then
    return redis.error_reply('foreign data under ' .. KEYS[1])
  end
  local n, o = reach(ARGV[2], ARGV[3]), reach(ob, ou)
  replace = false
  for i = 1, 4 do
    if n[i] ~= o[i] then
      replace = n[i] > o[i]
      break
    end
  end
end
if replace then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
end
local latest = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
  local u = string.match(v, '^%d*:(%d*):')
  if u == nil then
    return redis.error_reply('foreign data under ' .. KEYS[1])
  end
  if u == '' then
    latest = -1
    break
  end
  if tonumber(u) > latest then
    latest = tonumber(u)
  end
end
local grace = tonumber(ARGV[6])
local keep = latest + grace - tonumber(ARGV[5])
if keep < grace then
  keep = grace
end
if latest < 0 or keep > tonumber(ARGV[7]) then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('EXPIRE', KEYS[1], string.format('%d', keep))
end
return 1
"""

# spec 9.4 revocations: every record under the given target hashes, in one snapshot:
# a flat array of (key index, field, value) triples, at most ARGV[1] records.
_REVOCATIONS: Final = """
local out = {}
local count = 0
for i, key in ipairs(KEYS) do
  local pairs_ = redis.call('HGETALL', key)
  for j = 1, #pairs_, 2 do
    if count >= tonumber(ARGV[1]) then
      return out
    end
    table.insert(out, i)
    table.insert(out, pairs_[j])
    table.insert(out, pairs_[j + 1])
    count = count + 1
  end
end
return out
"""


# V5 in one round trip: KEYS = the digest keys (ARGV[1] of them), then the target hashes;
# ARGV[2] the record cap. Returns {position of the first revoked digest or 0, then the
# (target index, field, value) triples of _REVOCATIONS}.
_LOOKUP: Final = """
local n = tonumber(ARGV[1])
local out = {0}
for i = 1, n do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    out[1] = i
    break
  end
end
local count = 0
for i = n + 1, #KEYS do
  local pairs_ = redis.call('HGETALL', KEYS[i])
  for j = 1, #pairs_, 2 do
    if count >= tonumber(ARGV[2]) then
      return out
    end
    table.insert(out, i - n)
    table.insert(out, pairs_[j])
    table.insert(out, pairs_[j + 1])
    count = count + 1
  end
end
return out
"""


def _lookup_reply(
    ids: list[bytes], targets: list[bytes], reply: object, where: str, cap: int
) -> tuple[bytes | None, tuple[RevocationRecord, ...]]:
    if not isinstance(reply, list) or not reply:
        raise StoreError("store_error", f"read revocations from {where}: unexpected reply")
    return _first_revoked(ids, reply[0], where), _parse_records(targets, reply[1:], where, cap)


def _record_value(record: RevocationRecord) -> str:
    before = "" if record.before is None else str(record.before)
    until = "" if record.until is None else str(record.until)
    return f"{before}:{until}:{record.recorded_at}:{record.revocation.hex()}"


def _parse_record(target: bytes, field: object, value: object, where: str) -> RevocationRecord:
    """A stored record; anything that is not one of ours is a StoreError, never a guess."""
    try:
        if not isinstance(field, bytes) or not isinstance(value, bytes):
            raise ValueError("not a byte string")
        before, until, recorded_at, signed = value.decode("ascii").split(":")
        return RevocationRecord(
            target=target,
            revoker=bytes.fromhex(field.decode("ascii")),
            before=int(before) if before else None,
            until=int(until) if until else None,
            recorded_at=int(recorded_at),
            revocation=bytes.fromhex(signed),
        )
    except (ValueError, UnicodeDecodeError, UsageError) as exc:
        raise StoreError(
            "store_error", f"read revocations from {where}: foreign data: {exc}"
        ) from exc


def _parse_records(
    targets: list[bytes], reply: object, where: str, cap: int
) -> tuple[RevocationRecord, ...]:
    if not isinstance(reply, list) or len(reply) % 3:
        raise StoreError("store_error", f"read revocations from {where}: unexpected reply")
    out = []
    for i in range(0, len(reply), 3):
        index = reply[i]
        if not isinstance(index, int) or not 1 <= index <= len(targets):
            raise StoreError("store_error", f"read revocations from {where}: unexpected reply")
        out.append(_parse_record(targets[index - 1], reply[i + 1], reply[i + 2], where))
    return bounded_revocations(out, cap, where)


def _check_record(record: object) -> RevocationRecord:
    if not isinstance(record, RevocationRecord):
        raise UsageError("record_revocation takes a RevocationRecord")
    return record


def _blob(value: object, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise UsageError(f"{what} must be bytes, not {type(value).__name__}")
    return bytes(value)


def _time(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise UsageError(f"{what} must be an int, not {type(value).__name__}")
    if not -_TIME_LIMIT < value < _TIME_LIMIT:
        raise UsageError(f"{what} {value} is outside +-2**53, the times a Redis script holds")
    return value


def _prefix(prefix: str | bytes) -> bytes:
    if isinstance(prefix, str):
        prefix = prefix.encode()
    if not isinstance(prefix, bytes):
        raise UsageError(f"prefix must be str or bytes, not {type(prefix).__name__}")
    return prefix


def _check_url(url: object) -> str:
    if not isinstance(url, str):
        raise UsageError(f"the Redis URL must be a str, not {type(url).__name__}")
    scheme = urlsplit(url).scheme
    if scheme not in {"redis", "rediss", "unix"}:
        raise UsageError(f"{url!r} is not a redis://, rediss:// or unix:// URL")
    return url


def _check_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise UsageError(f"timeout must be a number of seconds > 0, not {timeout!r}")
    return float(timeout)


def _check_connections(count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise UsageError(f"max_connections must be an int >= 1, not {count!r}")
    return count


def _where(kwargs: dict[str, Any]) -> str:
    """host:port/db or the socket path, for messages; never the password."""
    if "path" in kwargs:
        return f"redis at {kwargs['path']}"
    host, port, db = kwargs.get("host", "localhost"), kwargs.get("port", 6379), kwargs.get("db", 0)
    return f"redis at {host}:{port}/{db}"


def _error(where: str, doing: str, exc: BaseException) -> StoreError:
    if isinstance(exc, RedisTimeoutError):
        hint = "no answer in time (server stopped, overloaded or unreachable?)"
    elif isinstance(exc, RedisConnectionError | OSError):
        hint = "cannot reach the server"
    elif isinstance(exc, ResponseError):
        hint = (
            "the server refused (script error, read-only replica, out of memory, "
            "or foreign data under our keys?)"
        )
    else:
        hint = "the client failed"
    return StoreError("store_error", f"{doing} {where}: {hint}: {exc}")


def _nonce_ttl(expires_at: int, now: int) -> int:
    """Seconds to keep a nonce entry (0: no expiry)."""
    ttl = max(expires_at - now, 0) + GRACE
    return 0 if ttl > MAX_TTL else ttl


def _nonce_status(reply: object, where: str) -> NonceStatus:
    if reply == 1:
        return NonceStatus.FRESH
    if reply == 0:
        return NonceStatus.REPLAYED
    raise StoreError("store_error", f"record a nonce in {where}: unexpected reply {reply!r}")


def _first_revoked(ids: list[bytes], reply: object, where: str) -> bytes | None:
    if not isinstance(reply, int) or not 0 <= reply <= len(ids):
        raise StoreError(
            "store_error", f"read revocations from {where}: unexpected reply {reply!r}"
        )
    return None if reply == 0 else ids[reply - 1]


class _Keys:
    """The key layout: ``<prefix>n:<hex>`` for nonces, ``<prefix>r:<hex>`` for revocations.

    Usage counters are ``<prefix>u:<hex>``, link histories ``<prefix>h:<hex>``
    (spec 9.5): verifiers sharing one Redis are namespaced by the prefix alone.
    """

    def __init__(self, prefix: str | bytes) -> None:
        self.prefix = _prefix(prefix)

    def nonce(self, key: bytes) -> bytes:
        return self.prefix + b"n:" + key.hex().encode()

    def revocation(self, revocation_id: bytes) -> bytes:
        return self.prefix + b"r:" + revocation_id.hex().encode()

    def counter(self, key: bytes) -> bytes:
        return self.prefix + b"u:" + key.hex().encode()

    def history(self, key: bytes) -> bytes:
        return self.prefix + b"h:" + key.hex().encode()

    def signed(self, target: bytes) -> bytes:
        return self.prefix + b"s:" + target.hex().encode()

    def signed_pattern(self) -> bytes:
        # glob metacharacters in the prefix are escaped: SCAN MATCH must see them literally
        escaped = bytes(b for c in self.prefix for b in ((b"\\"[0], c) if c in b"*?[]\\" else (c,)))
        return escaped + b"s:*"

    def target_of(self, key: bytes) -> bytes:
        return bytes.fromhex(key[len(self.prefix) + 2 :].decode("ascii"))
