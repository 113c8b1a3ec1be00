"""verify_async against verify: the same checks, only the store's calls awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

import pytest

from agentchain import (
    ApprovalRequirement,
    Decision,
    MemoryStore,
    Presentation,
    Request,
    TrustPolicy,
    UsageError,
    Verifier,
    approve,
    delegate,
    invoke,
    issue,
    request_digest,
)
from agentchain.model import parse_statement as parse
from agentchain.store import (
    AsyncStore,
    NonceStatus,
    RevocationRecord,
    SQLiteStore,
    Store,
    ThreadedStore,
    UsageResult,
    Use,
    as_async_store,
    merge_revocation,
)
from tests.servers import AGENT, ALICE, SUB

AUD = "https://pay.example"
NOW = 1_800_000_000


class DictAsyncStore:
    """An AsyncStore whose every call suspends, as a network store's would."""

    def __init__(self) -> None:
        self.revoked: set[bytes] = set()
        self.nonces: dict[bytes, int] = {}
        self.signed: dict[tuple[bytes, bytes], RevocationRecord] = {}
        self.calls = 0
        self._usage = MemoryStore()  # the all-or-nothing step of chains with usage limits

    async def revoke(self, revocation_id: bytes, *, until: int | None = None) -> None:
        await asyncio.sleep(0)
        self.revoked.add(revocation_id)

    async def first_revoked(self, revocation_ids: Iterable[bytes]) -> bytes | None:
        await asyncio.sleep(0)
        return next((r for r in revocation_ids if r in self.revoked), None)

    async def use_nonce(self, key: bytes, *, expires_at: int, now: int) -> NonceStatus:
        await asyncio.sleep(0)
        self.calls += 1
        if self.nonces.get(key, 0) > now:
            return NonceStatus.REPLAYED
        self.nonces[key] = expires_at
        return NonceStatus.FRESH

    async def consume(self, use: Use, *, now: int) -> UsageResult:
        await asyncio.sleep(0)
        self.calls += 1
        return self._usage.consume(use, now=now)

    async def record_revocation(self, record: RevocationRecord) -> None:
        await asyncio.sleep(0)
        self.signed[record.target, record.revoker] = merge_revocation(
            self.signed.get((record.target, record.revoker)), record
        )

    async def revocations(self, targets: Iterable[bytes]) -> tuple[RevocationRecord, ...]:
        await asyncio.sleep(0)
        wanted = set(targets)
        return tuple(r for (t, _), r in sorted(self.signed.items()) if t in wanted)

    async def export_revocations(self) -> tuple[RevocationRecord, ...]:
        return tuple(r for _, r in sorted(self.signed.items()))

    async def lookup_revocations(
        self, revocation_ids: Iterable[bytes], targets: Iterable[bytes]
    ) -> tuple[bytes | None, tuple[RevocationRecord, ...]]:
        self.calls += 1
        return await self.first_revoked(revocation_ids), await self.revocations(targets)


def _token() -> Presentation:
    caps = [("payments", f"{AUD}/*")]
    token = issue(
        ALICE,
        AGENT.public_key,
        capabilities=caps,
        depth=1,
        now=NOW,
        require_approval=[ApprovalRequirement(when=parse([">", ".amount", 200]))],
    )
    return delegate(token, AGENT, SUB.public_key, capabilities=caps, now=NOW)


def _scenarios() -> list[tuple[str, Presentation | str, Request]]:
    token = _token()
    ok = Request("payments", f"{AUD}/t", {"amount": 5})
    big = Request("payments", f"{AUD}/t", {"amount": 500})
    wrong = Request("payments", f"{AUD}/u", {"amount": 5})
    allow = invoke(
        token,
        SUB,
        audience=AUD,
        action=ok.action,
        resource=ok.resource,
        args={"amount": 5},
        now=NOW,
    )
    needs = invoke(
        token,
        SUB,
        audience=AUD,
        action=big.action,
        resource=big.resource,
        args={"amount": 500},
        now=NOW,
    )
    digest = request_digest(token.chain_digest, AUD, big.action, big.resource, {"amount": 500})
    approval = approve(ALICE, digest, now=NOW)
    approved, again = (
        invoke(
            token,
            SUB,
            audience=AUD,
            action=big.action,
            resource=big.resource,
            args={"amount": 500},
            approvals=[approval],
            now=NOW,
        )
        for _ in range(2)
    )
    return [
        ("allow", allow, ok),
        ("replay", allow, ok),
        (
            "mismatch",
            invoke(
                token,
                SUB,
                audience=AUD,
                action="payments",
                resource=f"{AUD}/t",
                args={"amount": 5},
                now=NOW,
            ),
            wrong,
        ),
        ("needs_approval", needs, big),
        ("approved", approved, big),
        ("approval_replayed", again, big),
        ("invalid", "ac1c.AAAA", ok),
    ]


def _outcome(run: Callable[[], Decision] | Decision) -> tuple[str, ...]:
    try:
        decision = run() if callable(run) else run
    except Exception as exc:  # the error's code is the outcome
        return ("error", getattr(exc, "code", type(exc).__name__))
    return (decision.outcome.value, *(r.code for r in decision.reasons))


def _policy() -> TrustPolicy:
    return TrustPolicy(anchors=(ALICE.public_key,), audience=AUD)


@pytest.mark.parametrize("kind", ["async", "sqlite", "memory"])
def test_verify_async_agrees_with_verify(kind: str, tmp_path: Path) -> None:
    sync = Verifier(_policy(), clock=lambda: NOW)
    stores: dict[str, Store | AsyncStore] = {
        "async": DictAsyncStore(),
        "sqlite": SQLiteStore(str(tmp_path / "s.sqlite")),
        "memory": MemoryStore(),
    }
    store = stores[kind]
    verifier = Verifier(_policy(), store=store, clock=lambda: NOW)
    expected = [_outcome(partial(sync.verify, p, r)) for _, p, r in _scenarios()]

    async def run_all() -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for _, presentation, request in _scenarios():
            try:
                decision = await verifier.verify_async(presentation, request)
            except Exception as exc:
                out.append(("error", getattr(exc, "code", "")))
                continue
            out.append((decision.outcome.value, *(r.code for r in decision.reasons)))
        return out

    got = asyncio.run(run_all())
    assert got == expected
    assert [o[0] for o in got] == [
        "allow",
        "deny",
        "deny",
        "needs_approval",
        "allow",
        "deny",
        "error",
    ]
    assert got[1][1] == "replay" and got[5][1] == "approval_replayed"
    if isinstance(store, DictAsyncStore):
        assert store.calls > 0  # the async store, not a fallback, kept the state


def test_revocation_goes_through_the_async_store() -> None:
    store = DictAsyncStore()
    verifier = Verifier(_policy(), store=store, clock=lambda: NOW)
    token = _token()
    asyncio.run(store.revoke(token.links[0].digest))
    presentation = invoke(token, SUB, audience=AUD, action="payments", resource=f"{AUD}/t", now=NOW)
    decision = asyncio.run(verifier.verify_async(presentation, Request("payments", f"{AUD}/t")))
    assert [r.code for r in decision.reasons] == ["revoked"]


def test_sync_verify_refuses_an_async_store() -> None:
    verifier = Verifier(_policy(), store=DictAsyncStore(), clock=lambda: NOW)
    with pytest.raises(UsageError):
        verifier.verify("ac1c.AAAA", Request("payments", f"{AUD}/t"))


def test_adapters(tmp_path: Path) -> None:
    async_store: AsyncStore = DictAsyncStore()
    assert as_async_store(async_store) is async_store
    assert isinstance(as_async_store(SQLiteStore(str(tmp_path / "s.sqlite"))), ThreadedStore)
    assert not isinstance(as_async_store(MemoryStore()), ThreadedStore)  # inline: no I/O


def test_memory_store_prunes_in_amortized_time() -> None:
    """A busy service holds thousands of live nonces: each call must not copy them all."""
    store = MemoryStore()
    live = 10_000
    for i in range(live):
        assert (
            store.use_nonce(i.to_bytes(4, "big"), expires_at=2_000, now=1_000) is NonceStatus.FRESH
        )
    copies = 0
    for i in range(live, live + 2_000):
        before = id(store._nonces)
        store.use_nonce(i.to_bytes(4, "big"), expires_at=2_000, now=1_000)
        copies += id(store._nonces) != before
    assert copies <= 1, "pruned (copied every live nonce) on more than one call"
    # expired entries still go at the next prune
    for i in range(30_000):
        store.use_nonce(b"x" + i.to_bytes(4, "big"), expires_at=5_000, now=3_000)
    assert len(store._nonces) == 30_000  # the 12 000 expired ones were dropped
