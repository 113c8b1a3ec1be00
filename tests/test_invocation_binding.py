"""Protocol 0.2, spec 5.7: the invocation binds its arguments by digest when asked, and
names every attachment it travels with, so nothing rides outside a signature."""

from __future__ import annotations

from typing import Any

import pytest

from agentchain import (
    ApprovalRequirement,
    ChainError,
    DecodeError,
    MemoryStore,
    Outcome,
    Presentation,
    Request,
    approve,
    attest,
    codec,
    delegate,
    invoke,
    issue,
)
from agentchain.issuer import INLINE_ARGS_MAX
from agentchain.limits import DEFAULT_LIMITS
from agentchain.model import InvocationClaims
from agentchain.wire import cbor
from tests.helpers import AGENT, ALICE, AUD, CAL, NOW, SUB, Rng, key, make_verifier

ACTION, RESOURCE = "calendar/events/create", CAL + "/work/standup"
BUILDER = key("builder")
CODE = {"sha256": b"\x11" * 32}


def _token(*, encoding: codec.Encoding = "cbor", caveats: Any = ()) -> Presentation:
    rng = Rng("binding")
    token = issue(
        ALICE,
        AGENT.public_key,
        capabilities=[("calendar", CAL + "/*")],
        depth=1,
        caveats=caveats,
        require_approval=[ApprovalRequirement(actions=("calendar/events",))],
        now=NOW,
        rng=rng,
        encoding=encoding,
    )
    return delegate(
        token, AGENT, SUB.public_key, capabilities=[("calendar", CAL + "/*")], now=NOW, rng=rng
    )


def _invoke(token: Presentation, label: str, **kw: Any) -> Presentation:
    return invoke(
        token, SUB, audience=AUD, action=ACTION, resource=RESOURCE, now=NOW, rng=Rng(label), **kw
    )


def _approval(token: Presentation, args: dict[str, object] | None = None) -> codec.Approval:
    digest = codec.request_digest(token.chain_digest, AUD, ACTION, RESOURCE, args or {})
    return approve(ALICE, digest, now=NOW, encoding=token.encoding)


def _attestation(token: Presentation) -> codec.Attestation:
    return attest(BUILDER, SUB.public_key, code=CODE, now=NOW, encoding=token.encoding)


ENCODINGS: tuple[codec.Encoding, ...] = ("cbor", "jose")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_invocation_names_its_attachments(encoding: codec.Encoding) -> None:
    # R-5.7-5: key 10 and key 11 hold the digests of what the container carries, in order
    token = _token(encoding=encoding)
    att, apv = _attestation(token), _approval(token)
    p = _invoke(token, "names", attestations=[att], approvals=[apv])
    assert p.invocation is not None
    assert p.invocation.claims.attestations == (att.digest,)
    assert p.invocation.claims.approvals == (apv.digest,)
    again = codec.decode_presentation_unverified(p.to_bytes())
    assert again.invocation is not None and again.invocation.claims == p.invocation.claims
    verifier = make_verifier(store=MemoryStore(), attesters=(BUILDER.public_key,))
    assert verifier.verify(p, Request(ACTION, RESOURCE, {})).outcome is Outcome.ALLOW


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_stripped_or_added_approval_is_invalid_and_spends_no_nonce(
    encoding: codec.Encoding,
) -> None:
    # R-5.7-5 R-5.7-6 R-8.2-4: the 0.1 attack (strip the approval, burn the nonce) fails
    token = _token(encoding=encoding)
    good = _approval(token)
    genuine = _invoke(token, "genuine", approvals=[good])
    assert genuine.invocation is not None
    store = MemoryStore()
    verifier = make_verifier(store=store)
    request = Request(ACTION, RESOURCE, {})
    stripped = Presentation(genuine.links, genuine.invocation)
    with pytest.raises(ChainError) as info:
        verifier.verify(stripped, request)
    assert info.value.code == "attachment_mismatch"
    other = _approval(token, {"x": 1})
    swapped = Presentation(genuine.links, genuine.invocation, (), (other,))
    with pytest.raises(ChainError) as info:
        verifier.verify(swapped, request)
    assert info.value.code == "attachment_mismatch"
    # the genuine presentation still verifies: the invalid ones spent nothing
    assert verifier.verify(genuine, request).outcome is Outcome.ALLOW
    bare = _invoke(token, "bare")
    assert bare.invocation is not None
    added = Presentation(bare.links, bare.invocation, (), (good,))
    with pytest.raises(ChainError) as info:
        make_verifier(store=MemoryStore()).verify(added, request)
    assert info.value.code == "attachment_mismatch"


def test_a_stripped_or_added_attestation_is_invalid() -> None:
    # R-5.7-5: attestations are named too, in the order they are carried
    token = _token()
    first, second = _attestation(token), attest(BUILDER, SUB.public_key, model="m", now=NOW)
    p = _invoke(token, "att", attestations=[first, second], approvals=[_approval(token)])
    assert p.invocation is not None
    verifier = make_verifier(attesters=(BUILDER.public_key,))
    request = Request(ACTION, RESOURCE, {})
    for attestations in ((first,), (second, first), (first, second, first)):
        broken = Presentation(p.links, p.invocation, attestations, p.approvals)
        with pytest.raises(ChainError) as info:
            verifier.verify(broken, request)
        assert info.value.code == "attachment_mismatch"
    assert verifier.verify(p, request).outcome is Outcome.ALLOW


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_arguments_bound_by_digest(encoding: codec.Encoding) -> None:
    # R-5.7-3 R-5.7-4: a 100 KB argument stays out of the presentation, its digest in
    token = _token(encoding=encoding, caveats=[["<=", ".n", 3]])
    args: dict[str, object] = {"note": "x" * 100_000, "n": 3}
    approval = _approval(token, args)
    p = _invoke(token, "digest", args=args, args_by_digest=True, approvals=[approval])
    assert p.invocation is not None
    claims = p.invocation.claims
    assert claims.args == {} and claims.args_digest == codec.args_digest(args)
    assert len(p.to_bytes()) < 4096
    verifier = make_verifier()
    decision = verifier.verify(p, Request(ACTION, RESOURCE, args))
    assert decision.outcome is Outcome.ALLOW
    # other arguments: the signed digest does not match them
    other = make_verifier().verify(p, Request(ACTION, RESOURCE, {**args, "n": 2}))
    assert other.outcome is Outcome.DENY and other.reasons[0].code == "request_mismatch"
    # the caveat is judged over the request's arguments, which match the digest
    over = {**args, "n": 4}
    q = _invoke(token, "over", args=over, args_by_digest=True, approvals=[_approval(token, over)])
    denied = make_verifier().verify(q, Request(ACTION, RESOURCE, over))
    assert denied.outcome is Outcome.DENY and denied.reasons[0].code == "caveat_failed"


def test_invoke_chooses_the_digest_form_over_inline_args_max() -> None:
    # the default: arguments of up to INLINE_ARGS_MAX bytes of deterministic CBOR are
    # carried, one byte more and they go by digest; True and False override either way
    token = _token()
    # {"note": text of n bytes}: map header 1, key 5, text header 3 (n in 256..65535)
    assert len(cbor.encode({"note": "y" * (INLINE_ARGS_MAX - 9)})) == INLINE_ARGS_MAX
    at_max: dict[str, object] = {"note": "y" * (INLINE_ARGS_MAX - 9)}
    over: dict[str, object] = {"note": "y" * (INLINE_ARGS_MAX - 8)}
    for args, chosen, by_digest in (
        (at_max, None, False),
        (over, None, True),
        (over, False, False),
        (at_max, True, True),
    ):
        p = _invoke(token, "auto", args=args, args_by_digest=chosen)
        assert p.invocation is not None
        claims = p.invocation.claims
        assert (claims.args_digest is not None) is by_digest
        assert claims.args == ({} if by_digest else args)
        request = Request(ACTION, RESOURCE, args)
        decision = make_verifier().verify(p, request)
        assert decision.outcome is Outcome.NEEDS_APPROVAL  # the token asks for one: valid


def test_args_and_digest_exactly_one() -> None:
    # R-5.7-3: both, or neither, is a schema error
    both = InvocationClaims(
        chain=b"\x01" * 32,
        audience=AUD,
        action=ACTION,
        resource=RESOURCE,
        args={},
        iat=NOW,
        nonce=b"\x02" * 16,
        args_digest=b"\x03" * 32,
    )
    payload = codec.encode_claims(both, "cbor")
    assert isinstance(payload, dict)
    payload[codec.I_ARGS] = {}
    with pytest.raises(DecodeError) as info:
        codec.decode_claims(InvocationClaims, payload, DEFAULT_LIMITS, "cbor")
    assert info.value.code == "schema_invalid"
    del payload[codec.I_ARGS], payload[codec.I_ARGS_DIGEST]
    with pytest.raises(DecodeError) as info:
        codec.decode_claims(InvocationClaims, payload, DEFAULT_LIMITS, "cbor")
    assert info.value.code == "schema_invalid"
