"""Signed revocations (spec 8.5): the object, its targets, entitlement, V5, both encodings."""

from __future__ import annotations

import asyncio

import pytest

from agentchain import (
    DecodeError,
    MemoryStore,
    Presentation,
    PrivateKey,
    SignatureError,
    UsageError,
    Verifier,
    revoke,
    verify_revocation,
)
from agentchain.codec import (
    JWT_TYP_REVOCATION,
    TYP_REVOCATION,
    X_KEY,
    X_LINK,
    X_REVOKER,
    X_VERSION,
    Encoding,
    decode_unverified,
    sign_object,
)
from agentchain.errors import AgentchainError
from agentchain.model import RevocationClaims
from agentchain.verifier import key_target, link_target
from tests.helpers import (
    AGENT,
    ALICE,
    MALLORY,
    NOW,
    REQUEST,
    SUB,
    key,
    make_policy,
    standard_presentation,
    standard_token,
)

ENCODINGS: tuple[Encoding, ...] = ("cbor", "jose")


def _verifier(store: MemoryStore | None = None, now: int = NOW) -> Verifier:
    return Verifier(make_policy(), store=store or MemoryStore(), clock=lambda: now)


def _outcome(verifier: Verifier, encoding: Encoding = "cbor", label: str = "inv") -> list[str]:
    token = standard_token(encoding=encoding)
    decision = verifier.verify(standard_presentation(token, label=label), REQUEST)
    return [r.code for r in decision.reasons]


# -- the object -------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_round_trip_in_both_encodings(encoding: Encoding) -> None:
    # R-8.5-1
    token = standard_token(encoding=encoding)
    made = revoke(AGENT, link=token.links[1], before=NOW + 5, now=NOW, encoding=encoding)
    assert made.envelope.typ == (JWT_TYP_REVOCATION if encoding == "jose" else TYP_REVOCATION)
    verified = verify_revocation(made.encoded)
    assert verified.claims == made.claims
    assert verified.claims.revoker == AGENT.public_key
    assert verified.claims.exp == token.links[1].claims.window.exp
    assert verify_revocation(verified.text()).encoded == made.encoded


def test_exactly_one_target() -> None:
    # R-8.5-1
    base = {X_VERSION: 1, X_REVOKER: ALICE.public_key.to_cose_key(), 3: NOW}
    link = {1: ALICE.public_key.thumbprint, 2: b"i" * 16}
    for payload in (base, {**base, X_LINK: link, X_KEY: AGENT.public_key.thumbprint}):
        data = sign_object(ALICE, TYP_REVOCATION, payload)
        with pytest.raises(DecodeError) as caught:
            decode_unverified(RevocationClaims, data)
        assert caught.value.code == "schema_invalid"
    data = sign_object(ALICE, TYP_REVOCATION, {**base, X_LINK: link, 99: 1})
    with pytest.raises(DecodeError) as caught:
        decode_unverified(RevocationClaims, data)
    assert caught.value.code == "unknown_field"


def test_a_revocation_is_not_another_kind() -> None:
    # R-5.3-1
    made = revoke(ALICE, subject=AGENT.public_key, now=NOW)
    with pytest.raises(DecodeError) as caught:
        verify_revocation(standard_token().links[0].encoded)
    assert caught.value.code == "type_mismatch"
    assert verify_revocation(made).target == key_target(AGENT.public_key.thumbprint)


def test_forged_signature_is_refused() -> None:
    # R-8.5-5
    made = revoke(ALICE, subject=AGENT.public_key, now=NOW)
    forged = made.encoded[:-1] + bytes([made.encoded[-1] ^ 1])
    with pytest.raises(SignatureError) as caught:
        verify_revocation(forged)
    assert caught.value.code == "signature_invalid"
    store = MemoryStore()
    with pytest.raises(SignatureError):
        _verifier(store).accept_revocation(forged)
    assert store.export_revocations() == ()  # R-8.5-6: nothing unverified is recorded


def test_algorithm_outside_the_policy_is_refused() -> None:
    # R-8.5-5
    es = key("es-revoker", "ES256")
    made = revoke(es, subject=AGENT.public_key, now=NOW)
    with pytest.raises(AgentchainError) as caught:
        verify_revocation(made, algorithms=frozenset({"EdDSA"}))
    assert caught.value.code == "alg_not_allowed"


def test_revoke_needs_one_target() -> None:
    with pytest.raises(UsageError):
        revoke(ALICE, now=NOW)
    with pytest.raises(UsageError):
        revoke(ALICE, link=standard_token().links[0], subject=AGENT.public_key, now=NOW)


# -- twins and targets --------------------------------------------------------


def test_twins_share_the_link_target() -> None:
    # R-8.5-2
    cbor_link = standard_token(encoding="cbor").links[1]
    jose_link = standard_token(encoding="jose").links[1]
    assert cbor_link.digest != jose_link.digest
    assert cbor_link.claims.id == jose_link.claims.id
    target = link_target(cbor_link.claims.issuer, cbor_link.claims.id)
    assert target == link_target(jose_link.claims.issuer, jose_link.claims.id)


@pytest.mark.parametrize("made_in", ENCODINGS)
@pytest.mark.parametrize("applied_to", ENCODINGS)
def test_a_link_revocation_covers_both_twins(made_in: Encoding, applied_to: Encoding) -> None:
    # R-8.5-2, R-8.5-8
    store = MemoryStore()
    verifier = _verifier(store)
    assert _outcome(verifier, applied_to, "before") == []
    link = standard_token(encoding=made_in).links[1]
    verifier.accept_revocation(revoke(AGENT, link=link, now=NOW, encoding=made_in).encoded)
    assert _outcome(verifier, applied_to, "after") == ["revoked"]


# -- entitlement ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("revoker", "index", "entitled"),
    [
        (ALICE, 1, True),  # the trust anchor, above every link
        (AGENT, 1, True),  # the issuer of link 1
        (ALICE, 0, True),  # the issuer of the root
        (AGENT, 0, False),  # the root's holder: below the root link
        (SUB, 1, False),  # the holder of link 1
        (MALLORY, 1, False),  # a stranger
    ],
)
def test_who_may_revoke_a_link(revoker: PrivateKey, index: int, entitled: bool) -> None:
    # R-8.5-4, R-8.5-7, R-8.5-8
    token = standard_token()
    made = revoke(revoker, link=token.links[index], now=NOW)
    store = MemoryStore()
    verifier = _verifier(store)
    if entitled:
        verifier.accept_revocation(made, chain=token)
    else:
        with pytest.raises(AgentchainError) as caught:
            verifier.accept_revocation(made, chain=token)
        assert caught.value.code == "revocation_unentitled"
        assert store.export_revocations() == ()
        # recorded without a chain (an import): kept, but it revokes nothing
        verifier.accept_revocation(made)
        assert len(store.export_revocations()) == 1
    assert _outcome(verifier) == (["revoked"] if entitled else [])


@pytest.mark.parametrize(
    ("revoker", "subject", "entitled"),
    [
        (SUB, SUB, True),  # a key revokes itself: everything it holds
        (AGENT, AGENT, True),  # everything it holds and issued
        (AGENT, SUB, True),  # the delegator revokes its delegatee's key
        (ALICE, SUB, True),  # the anchor, above every link
        (SUB, AGENT, False),  # a delegatee cannot revoke its delegator
        (MALLORY, SUB, False),
    ],
)
def test_who_may_revoke_a_key(revoker: PrivateKey, subject: PrivateKey, entitled: bool) -> None:
    # R-8.5-3, R-8.5-4, R-8.5-8
    made = revoke(revoker, subject=subject.public_key, now=NOW)
    verifier = _verifier()
    verifier.accept_revocation(made)
    assert _outcome(verifier) == (["revoked"] if entitled else [])


def test_key_revocation_kills_what_the_key_issued_and_holds_in_both_encodings() -> None:
    # R-8.5-2, R-8.5-3
    verifier = _verifier()
    verifier.accept_revocation(revoke(AGENT, subject=AGENT.public_key, now=NOW, encoding="jose"))
    for encoding in ENCODINGS:
        assert _outcome(verifier, encoding, f"k-{encoding}") == ["revoked"]


def test_a_revocation_that_names_nothing_in_the_chain_is_a_usage_error() -> None:
    made = revoke(ALICE, subject=MALLORY.public_key, now=NOW)
    with pytest.raises(UsageError):
        _verifier().accept_revocation(made, chain=standard_token())


# -- issued-before ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "revoked"), [(NOW, False), (NOW + 1, True), (None, True), (NOW - 1, False)]
)
def test_issued_before_is_strict(before: int | None, revoked: bool) -> None:
    # R-8.5-3: iat < before; the standard links are issued at NOW
    verifier = _verifier()
    verifier.accept_revocation(revoke(ALICE, subject=AGENT.public_key, before=before, now=NOW))
    assert _outcome(verifier) == (["revoked"] if revoked else [])


def test_links_issued_later_survive_an_issued_before_revocation() -> None:
    # R-8.5-3: revoke everything issued before a time, then re-issue
    verifier = _verifier(now=NOW + 100)
    verifier.accept_revocation(revoke(ALICE, subject=ALICE.public_key, before=NOW + 50, now=NOW))
    old = standard_token()
    new = standard_token(now=NOW + 60, label="reissued")
    for token, expected in ((old, ["revoked"]), (new, [])):
        p = standard_presentation(token, now=NOW + 100, label=f"{expected}")
        assert [r.code for r in verifier.verify(p, REQUEST).reasons] == expected


# -- the store keeps the wider one -----------------------------------------------------


def test_a_narrower_revocation_never_narrows_a_wider_one() -> None:
    # R-9.4-6
    store = MemoryStore()
    verifier = _verifier(store)
    verifier.accept_revocation(revoke(ALICE, subject=AGENT.public_key, now=NOW))
    verifier.accept_revocation(revoke(ALICE, subject=AGENT.public_key, before=NOW, now=NOW + 1))
    (kept,) = store.export_revocations()
    assert kept.before is None and kept.revoker == ALICE.public_key.thumbprint
    assert kept.recorded_at == NOW
    assert _outcome(verifier) == ["revoked"]


def test_async_accept_and_verify() -> None:
    # R-8.5-8
    verifier = _verifier()

    async def run() -> list[str]:
        await verifier.accept_revocation_async(revoke(SUB, subject=SUB.public_key, now=NOW))
        token = standard_token()
        decision = await verifier.verify_async(standard_presentation(token), REQUEST)
        return [r.code for r in decision.reasons]

    assert asyncio.run(run()) == ["revoked"]


def test_deleting_v5_signed_check_would_fail_this() -> None:
    # R-8.5-8: the operator-local digest list is empty; only the signed revocation revokes
    store = MemoryStore()
    verifier = _verifier(store)
    token: Presentation = standard_token()
    verifier.accept_revocation(revoke(ALICE, link=token.links[0], now=NOW))
    assert store.first_revoked(link.digest for link in token.links) is None
    assert _outcome(verifier) == ["revoked"]


def test_revoke_is_deterministic() -> None:
    # revocations are deterministic: the same inputs sign the same bytes (spec 3.6)
    a = revoke(ALICE, subject=AGENT.public_key, now=NOW).encoded
    b = revoke(ALICE, subject=AGENT.public_key, now=NOW).encoded
    assert a == b


def test_a_revocation_applies_whatever_its_exp_says() -> None:
    # R-8.5-9: exp only lets a store forget it; a link revocation defaults to the link's exp
    token = standard_token()
    made = revoke(ALICE, subject=AGENT.public_key, exp=NOW - 10, now=NOW - 20)
    verifier = _verifier()
    verifier.accept_revocation(made)
    assert _outcome(verifier) == ["revoked"]
    assert (
        revoke(ALICE, link=token.links[0], now=NOW).claims.exp == token.links[0].claims.window.exp
    )
    assert revoke(ALICE, subject=AGENT.public_key, now=NOW).claims.exp is None


def test_a_store_without_the_revocation_methods_is_refused_up_front() -> None:
    # R-8.3-2: never a traceback at the first request; a typed error when the verifier is made
    class OldStore:
        def revoke(self, revocation_id: bytes, *, until: int | None = None) -> None: ...
        def first_revoked(self, revocation_ids: object) -> bytes | None: ...
        def use_nonce(self, key: bytes, *, expires_at: int, now: int) -> object: ...

    with pytest.raises(UsageError, match="lookup_revocations"):
        Verifier(make_policy(), store=OldStore())  # type: ignore[arg-type]
