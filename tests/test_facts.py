"""A chain's request-independent facts (verifier/_facts.py): each one its definition over
the whole chain, gathered whole or on top of any prefix; remembered with the prefix cache
and read from it; and the decisions they feed the same as a verifier without them."""

from __future__ import annotations

import functools
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentchain import MemoryStore, Request, Verifier, codec, delegate
from agentchain.errors import UsageError
from agentchain.model import ApprovalRequirement, Usage, UsageLimit
from agentchain.testing import Chain, chains
from agentchain.verifier import PrefixCache, policy_fingerprint
from agentchain.verifier._facts import ChainFacts, chain_facts
from agentchain.verifier._revocation import chain_targets
from agentchain.verifier._types import Principal
from agentchain.wire import cbor
from tests.helpers import (
    AGENT,
    ALICE,
    MAIL,
    NOW,
    REQUEST,
    SUB,
    SUB2,
    Rng,
    make_policy,
    standard_presentation,
    standard_token,
)
from tests.test_native_chain import _core_or_skip

#: the root signer of the standard tokens (their trust anchor)
_ROOT = Principal(ALICE.public_key, None)


def _defined(links: tuple[codec.Link, ...], root: Principal) -> ChainFacts:
    """Each fact by its definition over the whole chain, written the plain way."""
    claims = [link.claims for link in links]
    principals = (root, *(Principal(c.holder, c.descriptor) for c in claims))
    ids = tuple(codec.link_id(c) for c in claims)
    grants: list[tuple[int, tuple[object, ...]]] = []
    for index, c in enumerate(claims):
        if not any(c.capabilities is caps for _, caps in grants):
            grants.append((index, c.capabilities))
    runs: list[tuple[int, int, tuple[object, ...]]] = []
    for index, c in enumerate(claims):
        if runs and runs[-1][2] is c.caveats:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1, c.caveats)
        else:
            runs.append((index, 1, c.caveats))
    return ChainFacts(
        principals=principals,
        digests=tuple(link.digest for link in links),
        ids=ids,
        targets=chain_targets(claims, ids=list(ids)),
        not_before=max(c.window.nbf for c in claims),
        expires=min(c.window.exp for c in claims),
        usage=any(c.usage is not None for c in claims),
        approvals=any(bool(c.approvals) for c in claims),
        grants=tuple(grants),  # type: ignore[arg-type]
        caveats=tuple(runs),  # type: ignore[arg-type]
    )


def _decoded(token: codec.Presentation) -> tuple[codec.Link, ...]:
    # as the verifier has them: decoded from bytes (so links of the same bytes share parts)
    return codec.decode_presentation_unverified(token.to_bytes()).links


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains(max_links=5), st.data())
def test_every_fact_is_its_definition_whole_or_on_top_of_any_prefix(
    chain: Chain, data: st.DataObject
) -> None:
    links = _decoded(chain.token)
    root = Principal(chain.root.public_key, None)
    whole = chain_facts(links, root, encode=cbor.encode)
    assert whole == _defined(links, root)
    cut = data.draw(st.integers(1, len(links)))
    prefix = chain_facts(links[:cut], root, encode=cbor.encode)
    # on top of a prefix, its facts name the root
    on_top = chain_facts(links, None, encode=cbor.encode, prefix=prefix)
    assert on_top == whole
    if cut == len(links):  # nothing new: the prefix's facts are the chain's
        assert on_top is prefix


def _usage_and_approvals(*, usage: bool, approvals: bool) -> tuple[codec.Link, ...]:
    token = delegate(
        standard_token(),
        SUB,
        SUB2.public_key,
        capabilities=[("calendar/read", "https://cal.example/alice/*")],
        usage=Usage(limits=(UsageLimit(period=60, max=3, actions=("calendar",)),))
        if usage
        else None,
        require_approval=[ApprovalRequirement(actions=("calendar/read",))] if approvals else (),
        now=NOW,
        rng=Rng("facts"),
    )
    return _decoded(token)


@pytest.mark.parametrize(("usage", "approvals"), [(False, False), (True, False), (False, True)])
def test_usage_and_approval_requirements_are_found_below_the_prefix(
    usage: bool, approvals: bool
) -> None:
    links = _usage_and_approvals(usage=usage, approvals=approvals)
    prefix = chain_facts(links[:2], _ROOT, encode=cbor.encode)
    assert (prefix.usage, prefix.approvals) == (False, False)
    facts = chain_facts(links, None, encode=cbor.encode, prefix=prefix)
    assert (facts.usage, facts.approvals) == (usage, approvals)
    assert facts == _defined(links, _ROOT)


def test_links_of_the_same_capability_bytes_are_asked_once_in_link_order() -> None:
    links = _decoded(standard_token())
    # the standard token's two links grant different capabilities: two tuples, both asked
    facts = chain_facts(links, _ROOT, encode=cbor.encode)
    assert [index for index, _ in facts.grants] == [0, 1]
    # a third link with the second's capability bytes shares its tuple: not asked again
    third = _usage_and_approvals(usage=False, approvals=False)
    assert third[2].claims.capabilities is third[1].claims.capabilities
    assert [i for i, _ in chain_facts(third, _ROOT, encode=cbor.encode).grants] == [
        0,
        1,
    ]


def test_links_restating_one_caveat_tuple_are_one_run() -> None:
    # V8 asks a run once (charging every link): links with the same caveat bytes share
    # one tuple (codec._plain) and form one run; a link with other caveats starts another
    same = ["<=", ".n", 5]
    token = standard_token(root_caveats=[same], sub_caveats=[same])
    token = delegate(
        token,
        SUB,
        SUB2.public_key,
        capabilities=[("calendar/read", "https://cal.example/alice/*")],
        caveats=[["<=", ".n", 4]],
        now=NOW,
        rng=Rng("runs"),
    )
    links = _decoded(token)
    facts = chain_facts(links, _ROOT, encode=cbor.encode)
    assert [(first, count) for first, count, _ in facts.caveats] == [(0, 2), (2, 1)]


def test_the_cache_keeps_the_facts_of_the_prefix_a_verification_ended_with() -> None:
    cache = PrefixCache()
    verifier = Verifier(make_policy(), store=MemoryStore(), clock=lambda: NOW, prefix_cache=cache)
    data = standard_presentation(label="facts").to_bytes()
    verifier.verify(data, REQUEST)
    links = _decoded(codec.decode_presentation_unverified(data))
    policy = policy_fingerprint(verifier.policy)
    end, facts = cache.verified_facts(policy, links)
    assert end == 2 and facts is not None
    assert facts == _defined(links, facts.principals[0])
    assert [p.key for p in facts.principals] == [ALICE.public_key, AGENT.public_key, SUB.public_key]
    # the prefixes on the way are remembered as verified, without facts
    assert cache.verified_facts(policy, links[:1]) == (1, None)


def test_facts_of_other_links_are_refused() -> None:
    links = _decoded(standard_token())
    facts = chain_facts(links[:1], _ROOT, encode=cbor.encode)
    with pytest.raises(UsageError, match="facts of a prefix"):
        PrefixCache().add(b"policy", links, facts=facts)
    # and a whole chain's facts name its root signer
    with pytest.raises(UsageError, match="root signer"):
        chain_facts(links, None, encode=cbor.encode)


@pytest.mark.parametrize("backend", ["pure", "native"])
def test_a_known_prefix_is_not_read_again(
    monkeypatch: pytest.MonkeyPatch, backend: Literal["pure", "native"]
) -> None:
    # the point of remembering them: a chain on a known prefix reads only its new links;
    # and the native core's reading of a CBOR link hands its id over (nothing encodes it)
    if backend == "native":
        _core_or_skip()
    cache = PrefixCache()

    def verifier() -> Verifier:
        return Verifier(
            make_policy(),
            store=MemoryStore(),
            clock=lambda: NOW,
            prefix_cache=cache,
            backend=backend,
        )

    verifier().verify(standard_presentation(label="first").to_bytes(), REQUEST)
    read: list[bytes] = []
    original = codec.decoded_link_id

    def spy(link: codec.Link, **kwargs: object) -> bytes:
        read.append(link.digest)
        return original(link, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(codec, "decoded_link_id", spy)
    # the same token, a new invocation: every fact known
    decision = verifier().verify(standard_presentation(label="second").to_bytes(), REQUEST)
    assert decision.outcome.value == "allow" and read == []
    # one more link: only its own id is read
    token = delegate(
        standard_token(),
        SUB,
        SUB2.public_key,
        capabilities=[("calendar/read", "https://cal.example/alice/*")],
        now=NOW,
        rng=Rng("one more"),
    )
    data = standard_presentation(token, holder=SUB2, label="third").to_bytes()
    assert verifier().verify(data, REQUEST).outcome.value == "allow"
    assert read == ([] if backend == "native" else [token.links[2].digest])


def _decision(verifier: Verifier, data: bytes) -> tuple[object, ...]:
    d = verifier.verify(data, REQUEST)
    return (d.outcome, d.reasons, d.audit["principals"])


def test_time_at_every_links_bounds_decides_as_without_the_cache() -> None:
    # V4 on the bounds of the facts: at each edge of each link's window (nested, so the
    # latest nbf and the earliest exp are different links'), a verifier with a known prefix
    # denies or allows as one without, naming the same link
    token = delegate(
        standard_token(sub_ttl=600),
        SUB,
        SUB2.public_key,
        capabilities=[("calendar/read", "https://cal.example/alice/*")],
        ttl=300,
        now=NOW + 30,
        rng=Rng("time"),
    )
    links = token.links
    edges = set()
    skew = make_policy().clock_skew
    for link in links:
        window = link.claims.window
        edges |= {window.nbf - skew - 1, window.nbf - skew, window.exp + skew - 1}
        edges |= {window.exp + skew}
    prefix = standard_presentation(standard_token(sub_ttl=600), label="prefix").to_bytes()
    for at in sorted(edges):
        clock = functools.partial(int, at)
        data = standard_presentation(token, holder=SUB2, now=at, label=f"t{at}").to_bytes()
        cache = PrefixCache()
        warm = Verifier(make_policy(), store=MemoryStore(), clock=clock, prefix_cache=cache)
        cold = Verifier(make_policy(), store=MemoryStore(), clock=clock, prefix_cache=False)
        Verifier(
            make_policy(), store=MemoryStore(), clock=lambda: NOW + 30, prefix_cache=cache
        ).verify(prefix, REQUEST)
        assert cache.verified_facts(policy_fingerprint(warm.policy), _decoded(token))[0] == 2
        assert _decision(warm, data) == _decision(cold, data), at


class _ConfusedStore(MemoryStore):
    """Says a link is revoked by a digest it was not asked about."""

    def lookup_revocations(self, revocation_ids, targets):  # type: ignore[no-untyped-def]
        return b"\x07" * 32, ()


def test_a_store_naming_a_digest_not_asked_still_denies() -> None:
    verifier = Verifier(make_policy(), store=_ConfusedStore(), clock=lambda: NOW)
    decision = verifier.verify(standard_presentation().to_bytes(), REQUEST)
    assert decision.outcome.value == "deny"
    assert [r.code for r in decision.reasons] == ["revoked"]
    assert decision.reasons[0].message.startswith("a link (0707070707070707...)")


def test_a_request_is_not_among_the_facts() -> None:
    # the same known chain, asked for an action its capabilities do not grant: V7 still
    # judges this request (the facts hold the capability tuples, never an answer)
    cache = PrefixCache()
    verifier = Verifier(make_policy(), store=MemoryStore(), clock=lambda: NOW, prefix_cache=cache)
    verifier.verify(standard_presentation(label="a").to_bytes(), REQUEST)
    other = Request(action="mail/send", resource=MAIL)
    data = standard_presentation(action=other.action, resource=other.resource, label="b").to_bytes()
    decision = verifier.verify(data, other)
    assert decision.outcome.value == "deny"
    assert [r.code for r in decision.reasons] == ["capability_missing"]
    assert decision.reasons[0].message.startswith("link 1 ")
