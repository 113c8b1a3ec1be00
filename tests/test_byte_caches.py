"""The pure-Python path's shortcuts (issue 16 item 4): caches keyed by exact bytes, each
bounded, a hit returning what computing again would and a different byte another entry;
and the COSE_Sign1 fixed-prefix walk, which answers as the general decoder does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentchain import codec, testing
from agentchain._display import rfc3339
from agentchain.codec import L_APPROVALS, L_DEPTH, L_PURPOSE, _claims, _plain, _signed
from agentchain.codec._fields import _decode_key
from agentchain.codec._keys import (
    I_APPROVALS,
    I_ARGS_DIGEST,
    I_ATTESTATIONS,
    L_USAGE,
    MAX_TIME,
    Encoding,
)
from agentchain.codec._memo import ByteCache, caches, clear_caches, plain_key
from agentchain.crypto import PrivateKey
from agentchain.errors import AgentchainError, DecodeError, InvalidKey, UsageError
from agentchain.limits import Limits
from agentchain.model import Descriptor, LinkClaims, statement_text
from agentchain.vectors.runner import default_vectors, load_cases
from agentchain.verifier import _run, chain_targets, revoked_link
from agentchain.wire import cbor, cose, jws
from tests.helpers import (
    AGENT,
    ALICE,
    NOW,
    REQUEST,
    claims_of,
    make_policy,
    resign,
    standard_presentation,
    standard_token,
    vector_cbor_invocations,
)


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


def _general_sign1(data: bytes, **limits: int) -> object:
    """decode_sign1 the general way (the fixed-prefix walk declined), its answer or its code."""
    with mock.patch.object(cose, "_sign1_parts", return_value=None):
        return _answer(data, **limits)


def _answer(data: bytes, **limits: int) -> object:
    try:
        return cose.decode_sign1(data, **limits)
    except DecodeError as exc:
        return exc.code


_LIMITS = {"max_depth": 16, "max_items": 2048, "max_string_bytes": 65536}


def test_the_cose_fixed_prefix_walk_answers_as_the_general_decoder_byte_for_byte() -> None:
    # spec 5.4 R-5.4-1, R-5.4-3: the walk only ever returns what the general decoder would;
    # every byte of a real link and an invocation, replaced by values that change a head's
    # major type, its length or its width, gives the same object or the same code either way
    presentation = standard_presentation()
    assert presentation.invocation is not None
    objects = [presentation.links[0].encoded, presentation.invocation.encoded]
    walked = 0
    for data in objects:
        assert cose._sign1_parts(data, 16, 2048, 65536) is not None  # the common shape walks
        for pos in range(len(data)):
            for byte in (0x00, 0x40, 0x57, 0x58, 0x59, 0x5A, 0x80, 0x84, 0xA0, 0xA1, 0xFF):
                mutated = data[:pos] + bytes([byte]) + data[pos + 1 :]
                walked += cose._sign1_parts(mutated, 16, 2048, 65536) is not None
                assert _answer(mutated, **_LIMITS) == _general_sign1(mutated, **_LIMITS)
        for cut in (1, 2, 40, len(data) - 1):
            assert _answer(data[:cut], **_LIMITS) == _general_sign1(data[:cut], **_LIMITS)
        assert _answer(data + b"\x00", **_LIMITS) == _general_sign1(data + b"\x00", **_LIMITS)
        # limits too tight for the shape: the general decoder's refusal, whatever the walk
        for tight in ({"max_depth": 1}, {"max_items": 3}, {"max_string_bytes": 63}):
            limits = {**_LIMITS, **tight}
            assert _answer(data, **limits) == _general_sign1(data, **limits) == "limit_exceeded"
    assert walked > 0  # some mutations (inside a payload) keep the shape and take the walk


def test_the_cose_walk_takes_shortest_heads_only() -> None:
    link = standard_token().links[0].encoded
    protected = cose._sign1_parts(link, 16, 2048, 65536)
    assert protected is not None
    header, payload, signature = protected
    # the same parts with the payload's length in a longer head than needed: not canonical
    long_head = b"\x84" + bytes([0x40 + len(header)]) + header + b"\xa0"
    long_head += b"\x5a" + len(payload).to_bytes(4, "big") + payload + b"\x58\x40" + signature
    assert cose._sign1_parts(long_head, 16, 2048, 65536) is None
    assert _answer(long_head, **_LIMITS) == "cbor_noncanonical"


def _claims_answer(payload: object, limits: Limits, encoding: Encoding = "cbor") -> object:
    try:
        return codec.decode_link_claims(payload, limits, encoding)
    except AgentchainError as exc:
        return (type(exc), exc.code, str(exc))


def _general_claims(payload: object, limits: Limits, encoding: Encoding = "cbor") -> object:
    """The member-by-member reading alone: the plain shape's reader left out."""
    with mock.patch.object(_claims, f"_plain_{encoding}_link", return_value=None):
        return _claims_answer(payload, limits, encoding)


_ODD_VALUES: tuple[object, ...] = (
    None, True, 0, -1, 1, 2, 255, 256, 2**53 - 1, 2**53, "", "x", b"", b"\x00" * 32,
    [], [["pay", "https://x.example/*"]], {}, {1: "agent"},
)  # fmt: skip


def _walks(payload: object, limits: Limits) -> bool:
    try:
        return _claims._plain_cbor_link(payload, limits) is not None
    except AgentchainError:
        return True  # refused by a decoder the plain reading called: it took the shape


def test_the_plain_link_reading_answers_as_the_general_reading() -> None:
    # spec 5.5 R-5.5-3, R-5.5-4: the common shape read straight from the map gives the same
    # claims, and any other map, with a claim missing, null, of another type or out of range,
    # or carrying approvals, usage or an unknown key, the same first refusal and message
    links = [
        *standard_token().links,
        *standard_token(root_caveats=[["<=", ".n", 3], ["==", ".m", "x"]]).links,
    ]
    limits = Limits()
    taken = 0
    for link in links:
        payload = claims_of(link)
        assert _claims._plain_cbor_link(payload, limits) == link.claims  # the shape walks
        variants: list[dict[object, object]] = [payload]
        for key in [*payload, L_APPROVALS, L_USAGE, 99]:
            variants.append({k: v for k, v in payload.items() if k != key})
            variants += [{**payload, key: value} for value in _ODD_VALUES]
        for variant in variants:
            taken += _walks(variant, limits)
            assert _claims_answer(variant, limits) == _general_claims(variant, limits)
        for tight in (Limits(max_capabilities=1), Limits(max_caveats=1)):
            assert _claims_answer(payload, tight) == _general_claims(payload, tight)
    assert taken > len(links)  # variants that keep the shape (another iat, purpose...) walk too


_ODD_JSON: tuple[object, ...] = (
    None, True, False, 0, -1, 1, 2, 255, 256, 2**53 - 1, "", "x", "!!", "AA",
    jws.b64encode(b"\x07" * 31), jws.b64encode(b"\x07" * 32), jws.b64encode(b"\x07" * 33),
    jws.b64encode(b"\x07" * 32)[:-1] + "B",  # non-zero trailing bits
    [], [["pay", "https://x.example/*"]], [[]], {}, {"jwk": {}}, {"x": 1},
)  # fmt: skip


def test_the_plain_jose_link_reading_answers_as_the_general_reading() -> None:
    # spec/jose.md, spec 5.5 R-5.5-3, R-5.5-4: a JOSE link's claims in the common shape read
    # straight from the object give the same claims; any other object (a member missing,
    # null, of another type or out of range, an issuer or parent that is not 32 bytes of
    # strict base64url, approvals, usage, an unknown member) the same first refusal, message
    # and all, as the member-by-member reading
    tokens = [
        standard_token(encoding="jose"),
        standard_token(encoding="jose", root_caveats=[["<=", ".n", 3], ["==", ".m", "x"]]),
    ]
    limits = Limits()
    taken = 0
    links = [link for token in tokens for link in token.links]
    for link in links:
        payload = jws.loads(
            link.envelope.payload,
            max_bytes=limits.max_object_bytes,
            max_depth=limits.max_cbor_depth,
            max_items=limits.max_cbor_items,
            max_string_bytes=limits.max_string_bytes,
        )
        assert isinstance(payload, dict)
        assert _claims._plain_jose_link(payload, limits) == link.claims  # the shape walks
        variants: list[dict[str, object]] = [payload]
        for name in [*payload, "iss", "prt", "pur", "apr", "ulim", "zzz"]:
            variants.append({k: v for k, v in payload.items() if k != name})
            variants += [{**payload, name: value} for value in _ODD_JSON]
        for variant in variants:
            try:
                taken += _claims._plain_jose_link(variant, limits) is not None
            except AgentchainError:
                taken += 1  # refused by a decoder the plain reading called: it took the shape
            jose = _claims_answer(variant, limits, "jose")
            assert jose == _general_claims(variant, limits, "jose")
        for tight in (Limits(max_capabilities=1), Limits(max_caveats=1)):
            jose = _claims_answer(payload, tight, "jose")
            assert jose == _general_claims(payload, tight, "jose")
    assert taken > len(links)  # variants that keep the shape (another iat, purpose...) walk too


def _invocation_answer(payload: object) -> object:
    try:
        return codec.decode_invocation_claims(payload)
    except AgentchainError as exc:
        return (type(exc), exc.code, str(exc))


def _general_invocation(payload: object) -> object:
    with mock.patch.object(_claims, "_plain_cbor_invocation", return_value=None):
        return _invocation_answer(payload)


def test_the_plain_invocation_reading_answers_as_the_general_reading() -> None:
    # spec 5.5 R-5.5-3, R-5.5-4, spec 5.7: an invocation in the common shape read straight
    # from the map gives the same claims; any other map (a claim missing, null, of another
    # type or out of range, arguments by digest, attachments named, an unknown key, an
    # action or resource or argument key refused) the same first refusal and message
    invocations = [
        standard_presentation().invocation,
        standard_presentation(args={"n": 1, "to": "x@x.example"}, label="b").invocation,
    ]
    odd = (
        *_ODD_VALUES, "mail/send", "https://x.example/a/../b", "Mail", {1: 2}, {"a": [1]},
        *(b"\x01" * n for n in (15, 16, 31, 33, 64, 65)), MAX_TIME, MAX_TIME + 1,
    )  # fmt: skip
    walked = 0
    for invocation in invocations:
        assert invocation is not None
        payload = claims_of(invocation)
        assert _claims._plain_cbor_invocation(payload) == invocation.claims
        variants: list[dict[object, object]] = [payload]
        for key in [*payload, I_ARGS_DIGEST, I_ATTESTATIONS, I_APPROVALS, 99]:
            variants.append({k: v for k, v in payload.items() if k != key})
            variants += [{**payload, key: value} for value in odd]
        for variant in variants:
            try:
                walked += _claims._plain_cbor_invocation(variant) is not None
            except AgentchainError:
                walked += 1  # refused by a check the plain reading called: it took the shape
            assert _invocation_answer(variant) == _general_invocation(variant), variant
    assert walked > 2 * len(invocations)  # other values of the shape (iat, nonce...) walk too


def _general_link(data: bytes, limits: Limits) -> object:
    """decode_unverified of a link the general way (the plain reading declined)."""
    with mock.patch.object(_signed, "plain_link", return_value=None):
        return _link_answer(data, limits)


def _link_answer(data: bytes, limits: Limits) -> object:
    try:
        return codec.decode_unverified(LinkClaims, data, limits).claims
    except AgentchainError as exc:
        return (type(exc), exc.code, str(exc))


def _tokens() -> list[codec.Presentation]:
    return [
        standard_token(),
        standard_token(root_caveats=[["<=", ".n", 3], ["like", ".to", "*@x.example"]]),
        standard_token(sub_caveats=[["<=", ".a", 1.5], ["in", ".b", [True, None, "x"]]]),
    ]


def _payloads() -> list[bytes]:
    return [link.envelope.payload for token in _tokens() for link in token.links]


def test_the_plain_link_reading_from_bytes_gives_the_general_claims_or_declines() -> None:
    # spec 5.2 R-5.2-1 and spec 5.5 R-5.5-3: whatever the bytes, the plain reading returns
    # the very claims the strict decoder and the general reading give, or nothing; every
    # byte of real payloads replaced by head values, cut short, or followed by a byte
    limits = Limits()
    read = 0
    for payload in _payloads():
        assert _plain.plain_link(payload, limits) == _general_claims(cbor.decode(payload), limits)
        variants = [payload[:cut] for cut in range(len(payload))] + [payload + b"\x00"]
        for pos in range(len(payload)):
            for byte in (0x00, 0x17, 0x18, 0x20, 0x41, 0x5F, 0x60, 0x7F, 0x81, 0x9F, 0xA1,
                         0xBF, 0xC0, 0xF4, 0xF6, 0xF9, 0xFF):  # fmt: skip
                variants.append(payload[:pos] + bytes([byte]) + payload[pos + 1 :])
        for variant in variants:
            plain = _plain.plain_link(variant, limits)
            if plain is None:
                continue
            read += 1
            assert plain == _general_claims(cbor.decode(variant), limits)
    assert read > 50  # the mutations that keep a valid link (another iat, name...) read


def test_decoding_a_link_answers_the_same_with_or_without_the_plain_reading() -> None:
    # the whole decode of a signed link, refusals included (code and message), both ways,
    # each link decoded first under the default limits (its values remembered), then under
    # limits that its remembered values break: nesting, items, strings, caveats, policy
    links = [link for token in _tokens() for link in token.links]
    links += standard_token(encoding="jose").links
    for link in links:
        for limits in (
            Limits(),
            Limits(max_cbor_items=12),
            Limits(max_cbor_depth=3),
            Limits(max_string_bytes=20),
            Limits(max_caveats=1),
            Limits(max_capabilities=1),
            Limits(max_policy_nodes=2),
            Limits(max_policy_depth=1),
        ):
            assert _link_answer(link.encoded, limits) == _general_link(link.encoded, limits)


def test_values_read_under_other_limits_are_read_again() -> None:
    # spec 5.6: max_cbor_items counts the whole payload, its remembered values included;
    # R-5.6-4: a caveat count beyond max_caveats is refused whatever was remembered
    payload = _payloads()[2]  # the root with two caveats
    assert _plain.plain_link(payload, Limits()) is not None
    tight = Limits(max_cbor_items=10)
    assert _plain.plain_link(payload, tight) is None
    with pytest.raises(DecodeError) as refused:
        cbor.decode(payload, max_items=10)
    assert refused.value.code == "limit_exceeded"
    # a caveat limit the remembered caveats break: not taken from the cache
    assert _plain.plain_link(payload, Limits(max_caveats=1)) is None


def test_link_claim_values_are_remembered_by_their_exact_bytes_and_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caveats = _cache("link caveats")
    first = standard_token(root_caveats=[["<=", ".n", 3]]).links[0].envelope.payload
    other = standard_token(root_caveats=[["<=", ".n", 4]]).links[0].envelope.payload
    assert len(first) == len(other) and first != other
    clear_caches()  # making the tokens decoded them: start from nothing
    one, two = _plain.plain_link(first, Limits()), _plain.plain_link(other, Limits())
    assert one is not None and two is not None and len(caveats) == 2
    # one byte apart, two values: 3 and 4, each its own entry
    assert one.caveats != two.caveats
    assert [statement_text(c.statement) for c in two.caveats] == ['["<=",".n",4]']
    again = _plain.plain_link(first, Limits())
    assert again == one and len(caveats) == 2
    payloads = [
        standard_token(root_caveats=[["<=", ".n", 10 + n]]).links[0].envelope.payload
        for n in range(5)
    ]
    clear_caches()
    monkeypatch.setattr(caveats, "maxsize", 2)
    for n, payload in enumerate(payloads):
        read = _plain.plain_link(payload, Limits())
        assert (
            read is not None
            and statement_text(read.caveats[0].statement) == f'["<=",".n",{10 + n}]'
        )
        assert len(caveats) <= 2


def test_a_byte_cache_shared_between_threads_stays_within_its_bound() -> None:
    cache: ByteCache[bytes, int] = ByteCache("threads", 8)
    errors: list[BaseException] = []

    def fill(offset: int) -> None:
        try:
            for n in range(2000):
                key = (offset * 10_000 + n).to_bytes(4, "big")
                assert cache.put(key, n) == n
                found = cache.get(key)
                assert found is None or found == n  # another thread may have evicted it
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=fill, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(cache) <= 8


def test_a_large_value_is_read_the_general_way_every_time() -> None:
    # walking a large value to find its end would cost as much as decoding it: a link whose
    # caveats hold more than 64 items is not remembered, and decodes as the general reading
    token = standard_token(root_caveats=[["in", ".a", list(range(70))]])
    link = token.links[0]
    clear_caches()
    assert _plain.plain_link(link.envelope.payload, Limits()) is None
    assert len(_cache("link caveats")) == 0
    assert _link_answer(link.encoded, Limits()) == _general_link(link.encoded, Limits())
    small = standard_token(root_caveats=[["in", ".a", list(range(50))]]).links[0]
    assert _plain.plain_link(small.envelope.payload, Limits()) == small.claims


def _vector_links() -> list[codec.Link]:
    """Every CBOR link the conformance vectors carry that decodes (valid or not later)."""
    found: dict[bytes, codec.Link] = {}
    for case in load_cases(default_vectors()):
        for step in case["steps"]:
            text = step["presentation"].get("text")
            if not isinstance(text, str) or not text.startswith(codec.TEXT_PREFIX_CBOR):
                continue
            try:
                presentation = codec.decode_presentation_unverified(text)
            except AgentchainError:
                continue
            for link in presentation.links:
                found[link.envelope.payload] = link
    return list(found.values())


def test_a_link_id_read_from_the_payload_is_the_id_of_its_claims() -> None:
    # spec 8.5 (R-8.5-2): the id is SHA-256 of the claims map without parent; read from the
    # payload bytes it must be, byte for byte, what encoding the decoded claims gives, for
    # every CBOR link of the vectors (roots, children, every claim the generator writes)
    links = _vector_links()
    assert len(links) > 100 and any(link.claims.parent for link in links)
    for link in links:
        fast = _signed.payload_link_id(link.envelope.payload, link.claims.parent)
        assert fast == codec.link_id(link.claims), link.envelope.payload.hex()


def test_a_link_id_finds_the_holder_by_its_bytes_or_by_its_heads() -> None:
    # the holder's key (claim 3) ends where a key remembered by its bytes ends, or where
    # walking its heads ends: the same id either way, and the walk is skipped when known
    child = standard_token().links[1]
    payload, parent = child.envelope.payload, child.claims.parent
    assert payload[3] == 0x03  # version (1), then the holder: its value starts at 4
    walked = _signed._item_end(payload, 4)
    clear_caches()
    assert _plain.holder_end(payload, 4) is None  # nothing remembered: the heads are walked
    assert _signed.payload_link_id(payload, parent) == codec.link_id(child.claims)
    assert _plain.plain_link(payload, Limits()) == child.claims  # the holder learned
    assert _plain.holder_end(payload, 4) == walked
    assert _plain.holder_end(payload, 5) is None  # not where an item starts
    assert _signed.payload_link_id(payload, parent) == codec.link_id(child.claims)


def test_a_payload_of_another_shape_is_left_to_the_claims_encoding() -> None:
    child = standard_token().links[1]
    payload, parent = child.envelope.payload, child.claims.parent
    assert parent is not None
    assert _signed.payload_link_id(payload, parent) == codec.link_id(child.claims)
    # another parent than the one decoded, a cut payload, a non-map: no id, never a wrong one
    assert _signed.payload_link_id(payload, b"\x00" * 32) is None
    assert _signed.payload_link_id(payload[:40], parent) is None
    assert _signed.payload_link_id(b"\x80" + payload[1:], parent) is None
    assert _signed.payload_link_id(b"", parent) is None
    # the verifier's id for the link is the same either way
    with mock.patch.object(_signed, "payload_link_id", return_value=None):
        clear_caches()
        slow = codec.decoded_link_id(child)
    clear_caches()
    assert codec.decoded_link_id(child) == slow == codec.link_id(child.claims)


def test_clearing_only_the_links_keeps_the_caches_of_their_parts() -> None:
    # the bench's cold rows: a chain never seen, whose principals may have been
    codec.decode_presentation_unverified(standard_presentation().to_bytes(), Limits())
    for link in standard_token().links:
        codec.decoded_link_id(link)
    assert len(_cache("link ids")) and len(_cache("link holders"))
    clear_caches(links_only=True)
    assert not len(_cache("link ids")) and len(_cache("link holders"))
    clear_caches()
    assert not any(len(cache) for cache in caches())


def _respelled(value: object, draw: st.DrawFn) -> object:
    """``value`` spelled otherwise where the encoding is the same: an integral number as a
    float or back, a map's entries in another order."""
    if type(value) is int and abs(value) < 2**53 and draw(st.booleans()):
        return float(value)
    if type(value) is float and value.is_integer() and abs(value) < 2**63 and draw(st.booleans()):
        return int(value)
    if isinstance(value, list):
        return [_respelled(v, draw) for v in value]
    if isinstance(value, dict):
        keys = draw(st.permutations(list(value)))
        return {k: _respelled(value[k], draw) for k in keys}
    return value


@given(testing.values(), testing.values(), st.data())
def test_request_arguments_are_the_same_exactly_when_their_encodings_are(
    a: object, b: object, data: st.DataObject
) -> None:
    # R-8.2-8: the request check compares values as their deterministic encodings do;
    # _same_data judges the values directly and must agree with encoding both, always
    def encoded(value: object) -> bytes:
        return cbor.encode(value)  # type: ignore[arg-type]

    respelled = data.draw(st.composite(lambda draw: _respelled(a, draw))())
    for x, y in ((a, b), (a, respelled), (b, a)):
        assert _run._same_data(x, y) is (encoded(x) == encoded(y)), (x, y)
    for x, y in (
        (True, 1),
        (1, True),
        (b"a", "a"),
        (None, False),
        (0, False),
        (12, 12.0),
        ([1], [1.0]),
    ):
        assert _run._same_data(x, y) is (encoded(x) == encoded(y)), (x, y)


def test_a_resource_in_normal_form_is_remembered_and_a_refused_one_never() -> None:
    # spec 4.2: the answer is a pure function of the string, so only normal forms are kept
    from agentchain.model import _authority

    _authority._check_resource_once.cache_clear()
    _authority.check_resource("https://api.example/a", pattern=False)
    _authority.check_resource("https://api.example/a", pattern=False)
    info = _authority._check_resource_once.cache_info()
    assert (info.hits, info.misses, info.currsize) == (1, 1, 1)
    for _ in range(2):
        with pytest.raises(DecodeError) as caught:
            _authority.check_resource("https://api.example/a/../b", pattern=False)
        assert caught.value.code == "resource_invalid"
    assert _authority._check_resource_once.cache_info().currsize == 1
    assert _authority._check_resource_once.cache_info().maxsize == 4096


def test_a_well_formed_action_is_remembered_and_a_refused_one_never() -> None:
    # spec 4.1: the answer is a pure function of the string and whether it is a pattern
    from agentchain.model import _authority

    _authority._check_action_once.cache_clear()
    _authority.check_action("pay/send", pattern=False)
    _authority.check_action("pay/send", pattern=False)
    _authority.check_action("pay/send", pattern=True)
    info = _authority._check_action_once.cache_info()
    assert (info.hits, info.misses, info.currsize) == (1, 2, 2)
    for bad in ("pay/../send", "pay//send", "*"):
        for _ in range(2):
            with pytest.raises(DecodeError) as caught:
                _authority.check_action(bad, pattern=False)
            assert caught.value.code == "schema_invalid"
    assert _authority._check_action_once.cache_info().currsize == 2
    assert _authority._check_action_once.cache_info().maxsize == 4096
    _authority.check_action("*", pattern=True)  # the universal pattern, as a pattern only


def test_the_audit_time_is_remembered_for_sixteen_seconds_at_most() -> None:
    # spec 9.3: the requests of one second share their audit record's time; the memo holds
    # the last sixteen seconds and answers what rfc3339 would, out of its range too
    _run._audit_time.cache_clear()
    for now in range(NOW, NOW + 40):
        assert _run._audit_time(now) == rfc3339(now)
    info = _run._audit_time.cache_info()
    assert (info.maxsize, info.currsize, info.hits) == (16, 16, 0)
    assert _run._audit_time(NOW + 39) == rfc3339(NOW + 39)
    assert _run._audit_time.cache_info().hits == 1
    assert _run._audit_time(2**53 - 1) == rfc3339(2**53 - 1)


@pytest.mark.parametrize(
    "value",
    [
        *(0, 23, 24, 255, 256, 2**16, 2**32, 2**64 - 1, -1, -(2**64)),
        *(b"", b"x" * 23, b"x" * 24, b"x" * 300, "", "\u00e9" * 40, "x" * 70_000),
        *([1, "a"], {"a": [1]}, 1.5, True, None),
    ],
)
def test_a_scalar_ends_where_the_general_walk_says(value: object) -> None:
    # payload_args_digest steps over an invocation's version, chain, audience, action and
    # resource by their heads alone: every head width of an integer and a string ends where
    # the general walk says; anything else is left to that walk
    data = cbor.encode(value) + b"\x00"  # type: ignore[arg-type]
    assert _signed._scalar_end(data, 0) == _signed._item_end(data, 0) == len(data) - 1


def test_carried_arguments_digest_read_from_the_payload_is_their_encodings_digest() -> None:
    # spec 5.7 / 9.3: the audit record's args_digest is SHA-256 of the arguments'
    # deterministic encoding; read from a CBOR invocation's payload it must be the same, for
    # every CBOR invocation of the vectors; one bound by digest has no carried arguments
    seen = 0
    for invocation in vector_cbor_invocations():
        found = codec.payload_args_digest(invocation.envelope.payload)
        if invocation.claims.args_digest is not None:
            assert found is None
        else:
            assert found == codec.args_digest(invocation.claims.args)
            seen += 1
    assert seen > 100
    assert codec.payload_args_digest(b"") is None
    assert codec.payload_args_digest(b"\xa1\x01") is None


def test_a_holder_principal_is_reused_for_the_same_key_and_descriptor_objects() -> None:
    # the chain's principals (spec 9.3) from its links: equal to a new Principal, one
    # object per (holder, descriptor) pair of objects, and the memo bounded
    from agentchain.verifier import _types

    key = PrivateKey.from_seed(b"\x07" * 32).public_key
    described = Descriptor(kind="agent", name="a")
    first = _types.holder_principal(key, described)
    assert first == _types.Principal(key, described)
    assert _types.holder_principal(key, described) is first
    other = _types.holder_principal(key, Descriptor(kind="agent", name="a"))  # equal, not the same
    assert other == first and other is not first
    assert _types.holder_principal(key, None).descriptor is None
    _types._HOLDERS.clear()
    keys = [PrivateKey.from_seed(bytes([i % 256, i // 256]) * 16).public_key for i in range(300)]
    with mock.patch.object(_types, "_MAX_HOLDERS", 100):
        made = [_types.holder_principal(k, described) for k in keys]
        assert len(_types._HOLDERS) <= 100
    assert [p.key for p in made] == keys


def test_a_verified_chain_names_its_principals_from_the_holder_memo() -> None:
    # two verifications of one chain share its principals' objects (each verifier with a
    # store of its own: the same invocation twice would be a replay)
    from agentchain import Verifier

    def principals() -> tuple[object, ...]:
        verifier = Verifier(make_policy(), clock=lambda: NOW, prefix_cache=False)
        return verifier.verify(standard_presentation(), REQUEST).chain.principals

    one, two = principals(), principals()
    assert one == two and len(one) > 1
    assert all(a is b for a, b in zip(one[1:], two[1:], strict=True))
