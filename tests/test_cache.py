"""The verified-prefix cache (spec 8.4): same decisions, fewer signature checks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentchain import AgentchainError, Limits, MemoryStore, Request, Verifier, delegate
from agentchain.codec import L_EXP, decode_presentation_unverified
from agentchain.crypto import PublicKey
from agentchain.errors import UsageError
from agentchain.model import Descriptor
from agentchain.verifier import PrefixCache, policy_fingerprint
from tests.helpers import (
    AGENT,
    ALICE,
    NOW,
    REQUEST,
    SUB,
    SUB2,
    Rng,
    assemble,
    invoke_raw,
    make_policy,
    resign,
    standard_presentation,
    standard_token,
)


@contextmanager
def counting_signatures(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """Record every signature PublicKey.verify is asked to check (the pure backend's: a
    verifier counted so is built with backend="pure")."""
    calls: list[bytes] = []
    original = PublicKey.verify

    def spy(self: PublicKey, signature: bytes, message: bytes) -> None:
        calls.append(signature)
        original(self, signature, message)

    monkeypatch.setattr(PublicKey, "verify", spy)
    yield calls


def verifier(
    cache: PrefixCache | bool,
    *,
    now: int = NOW,
    store: MemoryStore | None = None,
    backend: Literal["auto", "pure", "native"] = "auto",
) -> Verifier:
    return Verifier(
        make_policy(),
        store=store or MemoryStore(),
        clock=lambda: now,
        prefix_cache=cache,
        backend=backend,
    )


def fan_out(label: str, *, args: dict[str, object] | None = None) -> bytes:
    """The standard two-link token, plus one new link to SUB2 (named by ``label``), invoked."""
    token = delegate(
        standard_token(),
        SUB,
        SUB2.public_key,
        capabilities=[("calendar/read", "https://cal.example/alice/*")],
        descriptor=Descriptor(kind="tool", name=label),
        now=NOW,
        rng=Rng(label),
    )
    return standard_presentation(token, holder=SUB2, args=args, label=label).to_bytes()


def outcome(v: Verifier, data: bytes, request: Request = REQUEST) -> tuple[str, ...]:
    try:
        d = v.verify(data, request)
    except AgentchainError as exc:
        return ("error", exc.code)
    return (d.outcome.value, *(r.code for r in d.reasons))


def test_a_seen_prefix_is_not_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # R-8.4-1: the cache saves signature checks and changes nothing else
    cache = PrefixCache()
    warm = verifier(cache, backend="pure")
    assert outcome(warm, standard_presentation(label="first").to_bytes()) == ("allow",)
    with counting_signatures(monkeypatch) as calls:
        assert outcome(warm, fan_out("new")) == ("allow",)
    assert len(calls) == 2  # the new link and the invocation; the two-link prefix is known
    with counting_signatures(monkeypatch) as calls:
        assert outcome(verifier(False, backend="pure"), fan_out("new2")) == ("allow",)
    assert len(calls) == 4  # without the cache: three links and the invocation


def test_the_cache_is_keyed_by_the_whole_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    # R-8.4-2: one cache shared by verifiers of two policies keeps their facts apart
    cache = PrefixCache()
    assert outcome(verifier(cache), standard_presentation(label="a").to_bytes()) == ("allow",)
    other = Verifier(
        make_policy(max_ttl=86_399),
        store=MemoryStore(),
        clock=lambda: NOW,
        prefix_cache=cache,
        backend="pure",
    )
    with counting_signatures(monkeypatch) as calls:
        assert outcome(other, standard_presentation(label="b").to_bytes()) == ("allow",)
    assert len(calls) == 3
    policy = make_policy()
    assert policy_fingerprint(policy) == policy_fingerprint(make_policy())
    for changed in (
        replace(policy, max_ttl=1),
        replace(policy, clock_skew=61),
        replace(policy, algorithms=frozenset({"Ed25519"})),
        replace(policy, limits=Limits(max_links=15)),
        replace(policy, anchors=(ALICE.public_key, AGENT.public_key)),
        replace(policy, audience="https://other.example"),
    ):
        assert policy_fingerprint(changed) != policy_fingerprint(policy)


def test_a_link_under_another_parent_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    # R-8.4-2: a cached last link whose presented parent differs finds nothing
    cache = PrefixCache()
    v = verifier(cache, backend="pure")
    presentation = decode_presentation_unverified(standard_presentation(label="p").to_bytes())
    assert outcome(v, presentation.to_bytes()) == ("allow",)
    root, sub_link = (link.encoded for link in presentation.links)
    forged_root = resign(presentation.links[0], ALICE, {L_EXP: NOW + 3000})
    spliced = invoke_raw([forged_root, sub_link], SUB)
    with counting_signatures(monkeypatch) as calls:
        assert outcome(v, spliced) == ("error", "chain_broken")
    assert len(calls) == 2  # the new root, then the old second link: no cache hit
    assert outcome(verifier(False), spliced) == ("error", "chain_broken")
    assert root != forged_root


def test_time_is_evaluated_on_every_request() -> None:
    # R-8.4-3: a cached prefix never skips V4
    cache = PrefixCache()
    assert outcome(verifier(cache), fan_out("t1")) == ("allow",)
    late = verifier(cache, now=NOW + 10_000)
    assert outcome(late, fan_out("t1")) == outcome(verifier(False, now=NOW + 10_000), fan_out("t1"))
    assert outcome(late, fan_out("t1"))[0] == "deny"


def test_revocation_is_evaluated_on_every_request() -> None:
    # R-8.4-3: revoking a link of a cached prefix takes effect at once
    cache = PrefixCache()
    store = MemoryStore()
    v = verifier(cache, store=store)
    assert outcome(v, fan_out("r1")) == ("allow",)
    root = decode_presentation_unverified(fan_out("r1")).links[0]
    store.revoke(root.digest)
    assert outcome(v, fan_out("r2")) == ("deny", "revoked")


def test_caveats_and_replay_are_evaluated_on_every_request() -> None:
    # R-8.4-3: caveats (V8) and the invocation (V6) are never cached
    token = standard_token(sub_caveats=[["<=", ".n", 5]])
    cache = PrefixCache()
    v = verifier(cache)
    ok = standard_presentation(token, args={"n": 5}, label="ok").to_bytes()
    assert outcome(v, ok, Request(REQUEST.action, REQUEST.resource, {"n": 5})) == ("allow",)
    too_much = standard_presentation(token, args={"n": 6}, label="big").to_bytes()
    assert outcome(v, too_much, Request(REQUEST.action, REQUEST.resource, {"n": 6})) == (
        "deny",
        "caveat_failed",
    )
    assert outcome(v, ok, Request(REQUEST.action, REQUEST.resource, {"n": 5})) == (
        "deny",
        "replay",
    )


def test_the_bound_holds_and_old_entries_go_first() -> None:
    # R-8.4-4
    cache = PrefixCache(maxsize=3)
    v = verifier(cache)
    links = decode_presentation_unverified(fan_out("b1")).links
    assert outcome(v, fan_out("b1")) == ("allow",)
    assert len(cache) == 3
    assert outcome(v, fan_out("b2")) == ("allow",)
    assert len(cache) == 3
    # b2 made young the longest prefix it found verified (b1's first two links) and added
    # its own chain; the root link's entry, which V1 only read a link from, went first
    policy_id = policy_fingerprint(v.policy)
    assert cache.verified_prefix(policy_id, links) == 3
    assert cache.link(policy_id, links[0].digest) is None
    assert cache.finder(policy_id)(links[0].digest) is None  # evicted with its entry
    assert cache.finder(policy_id)(links[1].digest) == links[1]
    for label in ("b3", "b4", "b5"):  # the finder's links are bounded with the entries
        assert outcome(v, fan_out(label)) == ("allow",)
        assert sum(map(len, cache._links.values())) == len(cache) == 3
    find = cache.finder(policy_id)
    cache.clear()
    assert len(cache) == 0
    assert find(links[1].digest) is None  # a finder made before sees the cache emptied
    with pytest.raises(UsageError):
        PrefixCache(maxsize=0)
    with pytest.raises(UsageError):
        Verifier(make_policy(), prefix_cache=None)  # type: ignore[arg-type]


def test_the_links_bytes_given_are_the_links_own() -> None:
    # the verifier gives the cache the bytes it read the links from (a link the native core
    # made makes its envelope only when read): the entries are the same as from the links
    links = decode_presentation_unverified(fan_out("given")).links
    encoded = tuple(link.encoded for link in links)
    policy_id = b"p" * 32
    by_links, by_bytes = PrefixCache(), PrefixCache()
    by_links.add(policy_id, links[:2])
    by_bytes._add_encoded(policy_id, links[:2], encoded[:2])
    for cache in (by_links, by_bytes):
        assert cache._entries == by_links._entries
        assert cache.verified_facts(policy_id, links) == (2, None)
        assert cache._verified_encoded(policy_id, links, encoded) == (2, None)
        # other bytes under the same digests are another chain: nothing found
        other = (encoded[0] + b"x", *encoded[1:])
        assert cache._verified_encoded(policy_id, links, other) == (0, None)
    for wrong in (encoded[:1], (*encoded, b"")):  # one per link, or refused
        with pytest.raises(UsageError):
            by_bytes._verified_encoded(policy_id, links, wrong)
        with pytest.raises(UsageError):
            by_bytes._add_encoded(policy_id, links, wrong)


def test_a_presentation_object_is_verified_from_its_bytes_cache_and_all() -> None:
    # spec 8.4 with 8.2 V1: an object is decoded again from its bytes under the policy's
    # limits, so it meets the same cache (keyed by exact bytes) as the bytes themselves
    cache = PrefixCache()
    assert outcome(verifier(cache), fan_out("o1")) == ("allow",)
    entries = len(cache)
    obj = decode_presentation_unverified(fan_out("o2"))
    assert verifier(cache).verify(obj, REQUEST).outcome.value == "allow"
    assert len(cache) == entries + 1  # the shared prefix was known: one new link recorded
    assert verifier(cache).verify(obj, REQUEST).outcome.value == "allow"  # now fully known
    assert len(cache) == entries + 1


def test_concurrent_use_keeps_the_cache_consistent() -> None:
    cache = PrefixCache(maxsize=8)
    datas = [fan_out(f"c{i}") for i in range(6)]
    expected = [outcome(verifier(False), d) for d in datas]
    results: list[list[tuple[str, ...]]] = []

    def worker() -> None:
        results.append([outcome(verifier(cache), d) for d in datas])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4
    assert len(cache) <= 8


def test_a_link_evicted_while_it_is_found_is_still_the_link() -> None:
    # PrefixCache.link takes no lock: another thread may evict the entry between the
    # lookup and the move to the young end, which then only loses its place
    from collections import OrderedDict

    cache = PrefixCache()
    assert outcome(verifier(cache), fan_out("evicted")) == ("allow",)
    policy_id, digest = next(iter(cache._entries))
    found = cache.link(policy_id, digest)
    assert found is not None

    class Evicting(OrderedDict[Any, Any]):
        def move_to_end(self, key: Any, last: bool = True) -> None:
            self.pop(key)  # what a concurrent add() evicting it would do
            super().move_to_end(key, last)

    cache._entries = Evicting(cache._entries)
    assert cache.link(policy_id, digest) is found
    assert cache.link(policy_id, digest) is None  # gone now, as evicted entries are


# -- the property: with and without the cache, every decision is the same (R-8.4-1)

_BASE = decode_presentation_unverified(fan_out("base"))
_LINKS = [link.encoded for link in _BASE.links]
_INVOCATION = _BASE.invocation.encoded if _BASE.invocation else b""


def _mutations() -> st.SearchStrategy[bytes]:
    """Presentations sharing a prefix with the base one: intact, tampered, re-signed, spliced."""
    flip = st.tuples(st.integers(0, 2), st.integers(0, 400), st.integers(1, 255)).map(
        lambda t: _flip(t[0], t[1], t[2])
    )
    later = st.integers(0, 3).map(lambda n: invoke_raw(_LINKS, SUB2, iat=NOW + n))
    truncated = st.integers(1, 2).map(lambda n: assemble(_LINKS[:n], _INVOCATION))
    extended = st.sampled_from(["x1", "x2"]).map(fan_out)
    resigned = st.sampled_from([SUB, AGENT]).map(
        lambda k: invoke_raw([*_LINKS[:2], resign(_BASE.links[2], k)], SUB2)
    )
    return st.one_of(flip, later, truncated, extended, resigned, st.just(fan_out("base")))


def _flip(index: int, position: int, xor: int) -> bytes:
    link = bytearray(_LINKS[index])
    link[position % len(link)] ^= xor
    links = list(_LINKS)
    links[index] = bytes(link)
    return assemble(links, _INVOCATION)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_mutations(), st.integers(0, 2000)), min_size=1, max_size=6))
def test_decisions_are_identical_with_and_without_the_cache(
    sequence: list[tuple[bytes, int]],
) -> None:
    # R-8.4-1: one verifier with a cache and one without, same store state, same inputs
    cache = PrefixCache(maxsize=4)
    with_store, without_store = MemoryStore(), MemoryStore()
    for data, offset in sequence:
        now = NOW + offset
        a = outcome(verifier(cache, now=now, store=with_store), data)
        b = outcome(verifier(False, now=now, store=without_store), data)
        assert a == b
