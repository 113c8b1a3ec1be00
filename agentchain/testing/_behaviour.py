"""Strategies for the behaviour factor's claims (spec 9.5) and for signed revocations (8.5)."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from agentchain import model
from agentchain.codec import Encoding, Revocation
from agentchain.issuer import revoke
from agentchain.model import Novelty, Usage, UsageLimit
from agentchain.testing._chains import Scenario, scenarios
from agentchain.testing._data import ENCODINGS, NOW, _nonempty, _selectors, actions, public_keys


def usage_limits() -> SearchStrategy[UsageLimit]:
    """spec 9.5 limits: rate limits (no selector) and spend limits (a selector), each for
    all actions or some action patterns, denying or pausing (for the root or a named
    approver) when exceeded. Periods and maxima cover both ends of their ranges."""
    period = st.integers(1, 3_600) | st.sampled_from((86_400, model.MAX_PERIOD))
    maximum = st.integers(0, 1_000) | st.just(model.MAX_AMOUNT)
    scope = st.just(()) | st.lists(actions(pattern=True), min_size=1, max_size=2).map(tuple)
    selector = st.none() | _selectors().map(model.parse_selector)
    deny = st.builds(UsageLimit, period, maximum, selector, scope)
    pause = st.builds(
        UsageLimit,
        period,
        maximum,
        selector,
        scope,
        on_exceed=st.just("approve"),
        approver=st.none() | public_keys(),
    )
    return deny | pause


@st.composite
def _usage(draw: st.DrawFn, *, max_limits: int) -> Usage:
    limits = tuple(draw(st.lists(usage_limits(), max_size=max_limits)))
    novelty = st.builds(Novelty, st.integers(1, model.MAX_LEARN), st.none() | public_keys())
    # never neither: without limits, the novelty rule is the claim
    return Usage(limits, draw(novelty if not limits else st.none() | novelty))


def usages(*, max_limits: int = 4) -> SearchStrategy[Usage]:
    """What one link asks of the behaviour factor: 0 to ``max_limits`` limits and an optional
    novelty rule, never neither (spec 9.5)."""
    if not 0 <= max_limits <= 32:
        raise InvalidArgument("need 0 <= max_limits <= 32 (a link's max_caveats)")
    return _usage(max_limits=max_limits)


@st.composite
def _revoked(
    draw: st.DrawFn, *, encodings: tuple[str, ...], now: int
) -> tuple[Scenario, Revocation]:
    scenario = draw(scenarios(encodings=encodings, factors=False, now=now))
    chain = scenario.chain
    links = chain.token.links
    encoding: Encoding = "jose" if chain.encoding == "jose" else "cbor"
    at = scenario.now - draw(st.integers(0, 60))
    if draw(st.booleans()):
        # one link, revoked by its issuer or by the issuer of any link above it: keys[i]
        # issued link i, and keys[0..i] are entitled (spec 8.5)
        index = draw(st.integers(0, len(links) - 1))
        revoker = chain.keys[draw(st.integers(0, index))]
        return scenario, revoke(revoker, link=links[index], now=at, encoding=encoding)
    # every link a key holds or issued: the key itself, or anyone above it in the chain;
    # ``before`` after every link was issued, so it still covers them
    subject = draw(st.integers(0, len(chain.keys) - 1))
    revoker = chain.keys[draw(st.integers(0, subject))]
    before = draw(st.none() | st.just(max(link.claims.iat for link in links) + 1))
    return scenario, revoke(
        revoker,
        subject=chain.keys[subject].public_key,
        before=before,
        now=at,
        encoding=encoding,
    )


def revocations(
    *, encodings: Sequence[str] = ENCODINGS, now: int = NOW
) -> SearchStrategy[tuple[Scenario, Revocation]]:
    """An allowed :func:`~agentchain.testing.scenarios` scenario and a signed revocation that
    covers it: one of its links, or every link of one of its holders' keys, signed by a
    principal entitled to revoke it (spec 8.5). A verifier that accepts the revocation
    (``Verifier.accept_revocation``) denies the scenario's request with ``revoked``."""
    return _revoked(encodings=_nonempty(encodings, "encodings"), now=now)
