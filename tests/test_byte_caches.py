"""The pure-Python path's caches keyed by exact bytes (issue 16 item 4): each is bounded,
a hit returns what computing again would, and a different byte is a different entry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentchain import codec
from agentchain.codec import L_DEPTH, L_PURPOSE
from agentchain.codec._fields import _decode_key
from agentchain.codec._memo import ByteCache, caches, clear_caches, plain_key
from agentchain.crypto import PrivateKey
from agentchain.errors import DecodeError, InvalidKey, UsageError
from agentchain.model import Descriptor
from agentchain.verifier import chain_targets, revoked_link
from tests.helpers import AGENT, ALICE, resign, standard_token


@pytest.fixture(autouse=True)
def empty_caches() -> Iterator[None]:
    clear_caches()
    yield
    clear_caches()


def _cache(name: str) -> ByteCache[object, object]:
    return next(c for c in caches() if c.name == name)


def test_a_byte_cache_is_bounded_and_drops_its_oldest_entry_first() -> None:
    cache: ByteCache[bytes, int] = ByteCache("test", 2)
    cache.put(b"a", 1)
    cache.put(b"b", 2)
    cache.put(b"b", 3)  # a key already held replaces its value and evicts nothing
    assert (cache.get(b"a"), cache.get(b"b"), len(cache)) == (1, 3, 2)
    cache.put(b"c", 4)
    assert (cache.get(b"a"), cache.get(b"b"), cache.get(b"c"), len(cache)) == (None, 3, 4, 2)
    with pytest.raises(ValueError, match="at least one"):
        ByteCache("empty", 0)


def test_a_decoded_links_id_is_its_claims_id_and_is_keyed_by_its_payload_bytes() -> None:
    links = standard_token().links
    ids = _cache("link ids")
    for link in links:
        assert codec.decoded_link_id(link) == codec.link_id(link.claims)
    assert len(ids) == 2
    # the same bytes again: the entry already held, nothing added
    again = codec.decode_presentation_unverified(standard_token().to_bytes()).links
    assert [codec.decoded_link_id(ln) for ln in again] == [codec.link_id(ln.claims) for ln in links]
    assert len(ids) == 2
    # one byte of the payload changed (the depth): another entry, another id
    other = codec.decode_unverified(
        type(links[0].claims), resign(links[0], ALICE, {L_DEPTH: links[0].claims.depth - 1})
    )
    assert other.envelope.payload != links[0].envelope.payload
    assert codec.decoded_link_id(other) == codec.link_id(other.claims)
    assert codec.decoded_link_id(other) != codec.decoded_link_id(links[0])
    assert len(ids) == 3


def test_the_cbor_and_jose_twins_of_a_link_share_one_id_under_two_keys() -> None:
    # spec 8.5: the claim-level id is the same for both encodings; the cache keeps the
    # encoding in its key, so two payloads never share an entry
    cbor = standard_token(encoding="cbor").links[1]
    jose = standard_token(encoding="jose").links[1]
    assert codec.decoded_link_id(cbor) == codec.decoded_link_id(jose) == codec.link_id(cbor.claims)
    assert len(_cache("link ids")) == 2


def test_the_link_id_cache_stays_within_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _cache("link ids")
    monkeypatch.setattr(ids, "maxsize", 3)
    link = standard_token().links[0]
    for n in range(6):
        variant = codec.decode_unverified(
            type(link.claims), resign(link, ALICE, {L_PURPOSE: f"purpose {n}"})
        )
        assert codec.decoded_link_id(variant) == codec.link_id(variant.claims)
        assert len(ids) <= 3


def test_revocation_targets_are_the_same_with_the_ids_given_or_computed() -> None:
    links = standard_token().links
    claims = [ln.claims for ln in links]
    ids = [codec.decoded_link_id(ln) for ln in links]
    assert chain_targets(claims, ids=ids) == chain_targets(claims)
    assert revoked_link(claims, (), ids=ids) is None
    with pytest.raises(UsageError, match="one link id per link"):
        chain_targets(claims, ids=ids[:1])


def test_plain_key_spells_decoded_data_exactly_or_declines() -> None:
    assert plain_key({1: b"a"}) != plain_key({1: "a"}) != plain_key({"1": "a"})
    assert plain_key([1, [2]]) != plain_key([[1], 2])
    # a bool prints unlike 1 but equals it: data holding one is never a key, nor None, nor a float
    assert plain_key({1: True}) is None and plain_key([None]) is None and plain_key(0.5) is None
    assert plain_key(list(range(33))) is None and plain_key(list(range(32))) is not None


def _descriptor_map(name: str) -> dict[object, object]:
    return codec.encode_descriptor(
        Descriptor(kind="agent", name=name, code={"sha256": b"\x01" * 32})
    )


def test_descriptors_are_remembered_by_their_exact_data_and_the_cache_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = _cache("descriptors")
    first = codec.decode_descriptor(_descriptor_map("agent-1"))
    assert codec.decode_descriptor(_descriptor_map("agent-1")) is first and len(cache) == 1
    # one character of the name changed: another entry, another descriptor
    other = codec.decode_descriptor(_descriptor_map("agent-2"))
    assert other.name == "agent-2" and first.name == "agent-1" and len(cache) == 2
    # the same claims in JOSE spell their digests otherwise: their own entry, the same value
    jose = codec.encode_descriptor(first, "jose")
    assert codec.decode_descriptor(jose, "jose") == first and len(cache) == 3
    # a refusal is found every time and never stored
    for _ in range(2):
        with pytest.raises(DecodeError, match="kind"):
            codec.decode_descriptor({**_descriptor_map("x"), codec.D_KIND: "robot"})
    assert len(cache) == 3
    monkeypatch.setattr(cache, "maxsize", 2)
    for n in range(5):
        assert codec.decode_descriptor(_descriptor_map(f"n{n}")).name == f"n{n}"
        assert len(cache) <= 2


def test_keys_in_claims_are_remembered_by_their_exact_data_and_the_cache_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = _cache("keys")
    cose = ALICE.public_key.to_cose_key()
    first = _decode_key("cbor", dict(cose), "link holder")
    assert _decode_key("cbor", dict(cose), "link holder") is first and len(cache) == 1
    # one byte of x changed: another key (or a refusal), never alice's
    other = _decode_key("cbor", {**cose, -2: AGENT.public_key.raw()}, "link holder")
    assert other == AGENT.public_key != first and len(cache) == 2
    # kty true is not kty 1: refused, every time, and never stored
    for _ in range(2):
        with pytest.raises(InvalidKey):
            _decode_key("cbor", {**cose, 1: True}, "link holder")
    assert len(cache) == 2
    assert _decode_key("jose", codec.public_key_jwk(ALICE.public_key), "approver") == first
    assert len(cache) == 3
    monkeypatch.setattr(cache, "maxsize", 2)
    for n in range(4):
        key = PrivateKey.from_seed(bytes([n]) * 32).public_key
        assert _decode_key("cbor", key.to_cose_key(), "link holder") == key
        assert len(cache) <= 2
