"""End-to-end behaviour through the public API: issue, delegate, invoke, verify.

Every test names the exact error code (an exception: the bytes are not a valid
presentation) or deny reason (a decision: valid, but not for this request now).
Hand-made links come from tests/helpers.py, signed with whatever key the attack
needs, so the verifier is tested on what an honest issuer would never produce.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import pytest

from agentchain import (
    AgentchainError,
    ChainError,
    Decision,
    DecodeError,
    InvalidKey,
    IssueError,
    Limits,
    MemoryStore,
    Outcome,
    Presentation,
    PublicKey,
    Request,
    SignatureError,
    UsageError,
    decode_presentation_unverified,
    delegate,
    invoke,
    issue,
)
from agentchain.codec import (
    L_CAPS,
    L_DEPTH,
    L_EXP,
    L_ISSUER,
    L_NBF,
    L_PARENT,
    TYP_INVOCATION,
    TYP_LINK,
    b64encode,
)
from agentchain.wire import cbor, cose
from tests.helpers import (
    AGENT,
    ALICE,
    AUD,
    CAL,
    EDDSA,
    ES256,
    MAIL,
    MALLORY,
    NOW,
    REQUEST,
    ROOT_CAPS,
    SUB,
    SUB2,
    SUB_CAPS,
    Rng,
    assemble,
    claims_of,
    invoke_raw,
    key,
    linear_chain,
    link_claims,
    make_verifier,
    resign,
    sign_invocation,
    sign_link,
    standard_presentation,
    standard_token,
)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def raises(exc_type: type[AgentchainError], code: str, fn: Callable[[], object]) -> None:
    """``fn()`` raises exactly ``exc_type`` (or a subclass) with ``code``."""
    with pytest.raises(exc_type) as info:
        fn()
    assert info.value.code == code, info.value


def verify(
    presentation: Presentation | bytes | str,
    request: Request = REQUEST,
    *,
    anchors: tuple[PublicKey, ...] = (ALICE.public_key,),
    **kw: object,
) -> Decision:
    """Verify at NOW (unless ``now=``) with a fresh store (unless ``store=``), trusting ALICE."""
    return make_verifier(*anchors, **kw).verify(presentation, request)  # type: ignore[arg-type]


def allowed(decision: Decision) -> None:
    assert decision.outcome is Outcome.ALLOW, decision.reasons
    assert decision.reasons == ()


def denied(decision: Decision, code: str) -> None:
    assert decision.outcome is Outcome.DENY
    assert [r.code for r in decision.reasons] == [code]


# --------------------------------------------------------------------------
# valid chains


ALG_PLANS: dict[str, Callable[[int], str]] = {
    "eddsa": lambda i: EDDSA,
    "es256": lambda i: ES256,
    "mixed": lambda i: (EDDSA, ES256)[i % 2],
}


@pytest.mark.parametrize("plan", sorted(ALG_PLANS))
@pytest.mark.parametrize("links", range(1, 9))
def test_valid_chain_of_any_depth_is_allowed(links: int, plan: str) -> None:
    # R-8.2-15
    keys = [key(f"k{i}", ALG_PLANS[plan](i)) for i in range(links + 1)]
    token, holder = linear_chain(keys, label=f"{plan}{links}")
    p = invoke(
        token, holder, audience=AUD, action="calendar/read", resource=CAL + "/x", now=NOW, rng=Rng()
    )
    d = verify(p.to_bytes(), Request("calendar/read", CAL + "/x"), anchors=(keys[0].public_key,))
    allowed(d)
    # principals: the root signer, then every holder in order, with what its link declared
    assert [pr.key for pr in d.chain.principals] == [k.public_key for k in keys]
    assert d.chain.principals[0].descriptor is None
    names = [pr.descriptor.name for pr in d.chain.principals[1:] if pr.descriptor]
    assert names == [f"link-{i}" for i in range(links)]
    assert [link.alg for link in d.chain.links] == [k.alg for k in keys[:-1]]
    assert d.chain.digest == p.links[-1].digest


def test_decision_to_json_shape() -> None:
    # R-8.2-15
    d = verify(standard_presentation())
    allowed(d)
    data = d.to_json()
    assert data.pop("request_id") == d.request_id
    assert data == {
        "outcome": "allow",
        "reasons": [],
        "factors": {
            "signatures": "pass",
            "possession": "pass",
            "context": "pass",
            "integrity": "not_required",
            "oversight": "not_required",
            "behaviour": "not_required",
        },
        "chain": [
            {"kid": ALICE.public_key.kid, "name": None, "kind": None},
            {"kid": AGENT.public_key.kid, "name": "assistant", "kind": "agent"},
            {"kid": SUB.public_key.kid, "name": "calendar-reader", "kind": "tool"},
        ],
    }
    assert d.invocation.action == REQUEST.action
    assert d.invocation.resource == REQUEST.resource
    denial = verify(standard_presentation(audience="https://other.example"))
    j = denial.to_json()
    assert j["outcome"] == "deny"
    assert [r["code"] for r in j["reasons"]] == ["audience_mismatch"]  # type: ignore[attr-defined]
    assert all(isinstance(r["message"], str) and r["message"] for r in j["reasons"])  # type: ignore[attr-defined]


def test_bytes_text_and_object_forms_verify_alike() -> None:
    p = standard_presentation()
    for form in (p, p.to_bytes(), p.to_text()):
        allowed(verify(form))


def test_mixed_algorithms_in_the_standard_chain() -> None:
    agent, sub = key("agent", ES256), key("sub", ES256)
    p = standard_presentation(standard_token(agent=agent, sub=sub), holder=sub)
    d = verify(p.to_bytes())
    allowed(d)
    assert [link.alg for link in d.chain.links] == [EDDSA, ES256]


# --------------------------------------------------------------------------
# errors: trust, signatures, linkage


def test_a_chain_alone_never_authorizes() -> None:
    # R-5.8-3
    token = standard_token()
    for form in (token, token.to_bytes(), token.to_text()):
        raises(ChainError, "invocation_missing", lambda f=form: verify(f))  # type: ignore[misc]


def test_untrusted_root() -> None:
    # R-7.1-1
    p = standard_presentation()
    raises(ChainError, "root_untrusted", lambda: verify(p, anchors=(MALLORY.public_key,)))
    # AGENT holds the root link, but only the root's signer counts
    raises(ChainError, "root_untrusted", lambda: verify(p, anchors=(AGENT.public_key,)))
    # alice's seed under ES256 is an unrelated key: anchors are keys, not names
    es_alice = key("alice", ES256).public_key
    raises(ChainError, "root_untrusted", lambda: verify(p, anchors=(es_alice,)))
    # several anchors: any one of them may sign the root
    allowed(verify(p, anchors=(MALLORY.public_key, ALICE.public_key)))


def test_root_signed_by_wrong_key() -> None:
    root = standard_token().links[0]
    # claims ALICE issued it, but MALLORY signed: the anchor is found, its signature fails
    forged = resign(root, MALLORY)
    raises(SignatureError, "signature_invalid", lambda: verify(invoke_raw([forged], AGENT)))
    # honest about the issuer: MALLORY is simply not an anchor
    own = resign(root, MALLORY, {L_ISSUER: MALLORY.public_key.thumbprint})
    raises(ChainError, "root_untrusted", lambda: verify(invoke_raw([own], AGENT)))


def test_middle_link_signed_by_wrong_key() -> None:
    # R-7.1-2
    root, sub = standard_token().links
    # the issuer field names the parent's holder (AGENT) but MALLORY signed: V2.3
    forged = resign(sub, MALLORY)
    raises(
        SignatureError,
        "signature_invalid",
        lambda: verify(invoke_raw([root.encoded, forged], SUB)),
    )
    # the issuer field names MALLORY, who signed: not the parent's holder, V2.1
    own = resign(sub, MALLORY, {L_ISSUER: MALLORY.public_key.thumbprint})
    raises(ChainError, "issuer_mismatch", lambda: verify(invoke_raw([root.encoded, own], SUB)))


def test_link_alg_must_match_the_signers_key() -> None:
    # R-3.1-2
    root, sub = standard_token().links
    # AGENT is an EdDSA key: a link it "signed" with ES256 is refused before any signature
    es_agent = key("agent", ES256)
    forged = resign(sub, es_agent)
    raises(InvalidKey, "alg_not_allowed", lambda: verify(invoke_raw([root.encoded, forged], SUB)))
    # an alg outside the allowlist (ES384, -35) is refused while decoding
    protected = cose.protected_header(-35, TYP_LINK)
    body = cose.assemble(protected, sub.envelope.payload, b"\x00" * 96)
    raises(InvalidKey, "alg_not_allowed", lambda: verify(invoke_raw([root.encoded, body], SUB)))


def test_alg_not_in_policy_allowlist() -> None:
    # R-3.1-3
    es_agent, es_sub = key("agent", ES256), key("sub", ES256)
    only_eddsa = frozenset({EDDSA})
    # the ES256 link (signed by es_agent) is refused
    p = standard_presentation(standard_token(agent=es_agent, sub=es_sub), holder=es_sub)
    raises(InvalidKey, "alg_not_allowed", lambda: verify(p, algorithms=only_eddsa))
    # every link EdDSA, but the ES256 holder signs the invocation: refused too
    p = standard_presentation(standard_token(sub=es_sub), holder=es_sub)
    raises(InvalidKey, "alg_not_allowed", lambda: verify(p, algorithms=only_eddsa))
    allowed(verify(p))
    # and the root itself
    raises(
        InvalidKey,
        "alg_not_allowed",
        lambda: verify(standard_presentation(), algorithms=frozenset({ES256})),
    )


def test_reordered_links() -> None:
    token = standard_token()
    root, sub = (link.encoded for link in token.links)
    raises(ChainError, "root_untrusted", lambda: verify(invoke_raw([sub, root], AGENT)))
    three = delegate(
        token, SUB, SUB2.public_key, capabilities=SUB_CAPS, now=NOW, rng=Rng("three")
    ).links
    l0, l1, l2 = (link.encoded for link in three)
    raises(ChainError, "issuer_mismatch", lambda: verify(invoke_raw([l0, l2, l1], SUB)))


def test_truncated_chain() -> None:
    token = standard_token()
    three = delegate(token, SUB, SUB2.public_key, capabilities=SUB_CAPS, now=NOW, rng=Rng("t"))
    l0, _, l2 = (link.encoded for link in three.links)
    # dropping agent -> sub: the last link is issued by SUB, the root's holder is AGENT
    raises(ChainError, "issuer_mismatch", lambda: verify(invoke_raw([l0, l2], SUB2)))
    # with AGENT delegating to itself, the key lines up but the parent hash does not
    rng = Rng("self")
    root = issue(
        ALICE, AGENT.public_key, capabilities=SUB_CAPS, ttl=3600, depth=3, now=NOW, rng=rng
    )
    selfie = delegate(root, AGENT, AGENT.public_key, capabilities=SUB_CAPS, now=NOW, rng=rng)
    full = delegate(selfie, AGENT, SUB.public_key, capabilities=SUB_CAPS, now=NOW, rng=rng)
    m0, _, m2 = (link.encoded for link in full.links)
    allowed(verify(standard_presentation(full)))
    raises(ChainError, "chain_broken", lambda: verify(invoke_raw([m0, m2], SUB)))


def test_link_spliced_from_another_chain_with_the_same_holder() -> None:
    # R-7.1-3
    # two chains alice -> agent -> sub, differing only in their randomness
    a = standard_token(label="chain-a")
    b = standard_token(label="chain-b")
    assert a.links[0].digest != b.links[0].digest
    # b's second link is issued by AGENT, signed by AGENT: only its parent hash is wrong
    spliced = [a.links[0].encoded, b.links[1].encoded]
    raises(ChainError, "chain_broken", lambda: verify(invoke_raw(spliced, SUB)))
    allowed(verify(invoke_raw([b.links[0].encoded, b.links[1].encoded], SUB)))


def test_parent_field_must_match_exactly() -> None:
    # R-7.1-3
    root, sub = standard_token().links
    # a root link with a parent
    rooted = resign(root, ALICE, {L_PARENT: b"\x00" * 32})
    raises(ChainError, "chain_broken", lambda: verify(invoke_raw([rooted], AGENT)))
    # a child link without one
    orphan = resign(sub, AGENT, drop=[L_PARENT])
    raises(ChainError, "chain_broken", lambda: verify(invoke_raw([root.encoded, orphan], SUB)))
    # the hash of the parent's payload, not of its signed bytes
    wrong = resign(sub, AGENT, {L_PARENT: sha(root.envelope.payload)})
    raises(ChainError, "chain_broken", lambda: verify(invoke_raw([root.encoded, wrong], SUB)))


def test_invocation_from_another_chain() -> None:
    # R-7.2-2
    # both chains end at SUB, so the invocation's signature verifies; its binding does not
    a = standard_token(label="chain-a")
    b = standard_token(label="chain-b")
    inv_b = standard_presentation(b).invocation
    assert inv_b is not None
    mixed = assemble([link.encoded for link in a.links], inv_b.encoded)
    raises(ChainError, "chain_digest_mismatch", lambda: verify(mixed))
    # bound to a prefix of the same chain: also another chain
    prefix = invoke_raw([link.encoded for link in a.links], SUB, chain=a.links[0].digest)
    raises(ChainError, "chain_digest_mismatch", lambda: verify(prefix))


def test_stolen_token_invoked_with_the_thiefs_key() -> None:
    # R-4.7-2
    token = standard_token()
    # invoke() refuses outright...
    raises(
        UsageError,
        "usage",
        lambda: invoke(token, MALLORY, audience=AUD, action="calendar/read", resource=CAL + "/x"),
    )
    # ...so the thief signs the invocation by hand: the holder key in the link decides
    stolen = invoke_raw([link.encoded for link in token.links], MALLORY)
    raises(SignatureError, "signature_invalid", lambda: verify(stolen))
    # the intermediate holder is not the final holder either
    raises(
        SignatureError,
        "signature_invalid",
        lambda: verify(invoke_raw([link.encoded for link in token.links], AGENT)),
    )
    allowed(verify(invoke_raw([link.encoded for link in token.links], SUB)))


def test_errors_come_before_denials() -> None:
    # R-8.2-1
    # expired, wrong audience AND signed by the wrong key: the forgery is what is reported
    token = standard_token()
    stolen = invoke_raw(
        [link.encoded for link in token.links], MALLORY, audience="https://x.example"
    )
    raises(SignatureError, "signature_invalid", lambda: verify(stolen, now=NOW + 10**6))


# --------------------------------------------------------------------------
# errors: attenuation and windows, crafted by hand


def crafted(
    *,
    root_changes: dict[int, object] | None = None,
    sub_changes: dict[int, object] | None = None,
) -> bytes:
    """alice -> agent (3600 s, depth 2) -> sub (900 s, depth 1), built by hand."""
    root_claims = link_claims(
        ALICE.public_key,
        AGENT.public_key,
        None,
        caps=ROOT_CAPS,
        exp=NOW + 3600,
        depth=2,
        link_id=b"\x01" * 16,
    )
    root_claims.update(root_changes or {})
    root = sign_link(ALICE, root_claims)
    sub_claims = link_claims(
        AGENT.public_key,
        SUB.public_key,
        sha(root),
        caps=SUB_CAPS,
        exp=NOW + 900,
        depth=1,
        link_id=b"\x02" * 16,
    )
    sub_claims.update(sub_changes or {})
    return invoke_raw([root, sign_link(AGENT, sub_claims)], SUB)


def test_crafted_baseline_is_valid() -> None:
    # the hand-made chain is exactly what the tests below alter, one field at a time
    allowed(verify(crafted()))
    # and it carries the same claims as what the issuer writes
    honest = standard_token().links[1]
    assert set(claims_of(decode_presentation_unverified(crafted()).links[1])) == set(
        claims_of(honest)
    )


@pytest.mark.parametrize(
    "caps",
    [
        [["contacts", CAL + "/*"]],  # another action
        [["*", CAL + "/*"]],  # any action
        [["calendarX", CAL + "/*"]],  # not below the granted action
        [["calendar/read", "*"]],  # any resource
        [["calendar/read", "https://cal.example/*"]],  # a wider prefix
        [["calendar/read", "https://cal.example/alice"]],  # the prefix itself
        [["calendar/read", "https://cal.example/aliceX/*"]],  # a sibling
        [["*", CAL + "/x"]],
        [["mail/send", MAIL], ["mail", MAIL]],  # the second one is wider
    ],
)
def test_scope_widened(caps: list[list[str]]) -> None:
    # R-4.3-2
    raises(ChainError, "scope_widened", lambda: verify(crafted(sub_changes={L_CAPS: caps})))


def test_scope_is_checked_against_the_parent_not_the_root() -> None:
    # the root grants all of calendar; the agent -> sub link only calendar/read.
    # SUB's own link to SUB2 may not take back calendar/write.
    token = standard_token()
    parent = token.links[-1]
    links = [link.encoded for link in token.links]
    for caps, ok in (
        ([("calendar/read", CAL + "/x")], True),
        ([("calendar/write", CAL + "/x")], False),
    ):
        child = sign_link(
            SUB,
            link_claims(SUB.public_key, SUB2.public_key, parent.digest, caps=caps, depth=0),
        )
        p = invoke_raw([*links, child], SUB2, action=caps[0][0], resource=caps[0][1])
        request = Request(caps[0][0], caps[0][1])
        if ok:
            allowed(verify(p, request))
        else:
            raises(ChainError, "scope_widened", lambda p=p, r=request: verify(p, r))  # type: ignore[misc]


@pytest.mark.parametrize(
    ("nbf", "exp"),
    [(NOW - 1, NOW + 900), (NOW, NOW + 3601), (NOW - 100, NOW + 3700)],
)
def test_time_widened(nbf: int, exp: int) -> None:
    # R-4.4-2
    raises(
        ChainError, "time_widened", lambda: verify(crafted(sub_changes={L_NBF: nbf, L_EXP: exp}))
    )
    # the same window exactly at the parent's edges is fine
    allowed(verify(crafted(sub_changes={L_NBF: NOW, L_EXP: NOW + 3600})))


@pytest.mark.parametrize("depth", [2, 3, 255])
def test_depth_exceeded(depth: int) -> None:
    # R-4.5-1
    raises(ChainError, "depth_exceeded", lambda: verify(crafted(sub_changes={L_DEPTH: depth})))


def test_depth_zero_parent_cannot_have_a_child() -> None:
    raises(
        ChainError,
        "depth_exceeded",
        lambda: verify(crafted(root_changes={L_DEPTH: 0}, sub_changes={L_DEPTH: 0})),
    )


@pytest.mark.parametrize(
    ("nbf", "exp", "code"),
    [
        (NOW, NOW, "time_invalid"),  # empty
        (NOW, NOW - 1, "time_invalid"),  # reversed
        (NOW, NOW + 86_401, "time_invalid"),  # one second over max_ttl
        (NOW, NOW + 86_400, None),  # exactly max_ttl
    ],
)
def test_root_window_validity(nbf: int, exp: int, code: str | None) -> None:
    # R-4.4-1
    presentation = crafted(
        root_changes={L_NBF: nbf, L_EXP: exp}, sub_changes={L_NBF: nbf, L_EXP: exp}
    )
    if code is None:
        allowed(verify(presentation))
    else:
        raises(ChainError, code, lambda: verify(presentation))


def test_window_longer_than_max_ttl() -> None:
    # R-4.4-1
    # the issuer does not know the verifier's max_ttl; the verifier enforces its own
    p = standard_presentation(standard_token(root_ttl=86_401))
    raises(ChainError, "time_invalid", lambda: verify(p))
    allowed(verify(standard_presentation(standard_token(root_ttl=86_400))))
    standard = standard_presentation()
    raises(ChainError, "time_invalid", lambda: verify(standard, max_ttl=3599))
    allowed(verify(standard, max_ttl=3600))


@pytest.mark.parametrize("where", ["root", "sub"])
@pytest.mark.parametrize("extra", [99, 1000, -1, "x"])
def test_unknown_link_claim(where: str, extra: object) -> None:
    # R-5.5-1
    changes = {extra: 1}
    kwargs = {"root_changes": changes} if where == "root" else {"sub_changes": changes}
    raises(DecodeError, "unknown_field", lambda: verify(crafted(**kwargs)))  # type: ignore[arg-type]


def test_unknown_invocation_claim() -> None:
    token = standard_token()
    links = [link.encoded for link in token.links]
    claims = claims_of_invocation(standard_presentation(token))
    claims[99] = 0
    raises(
        DecodeError, "unknown_field", lambda: verify(assemble(links, sign_invocation(SUB, claims)))
    )


def claims_of_invocation(p: Presentation) -> dict[int, object]:
    assert p.invocation is not None
    decoded = cbor.decode(p.invocation.envelope.payload)
    assert isinstance(decoded, dict)
    return dict(decoded)  # type: ignore[arg-type]


def test_unknown_presentation_field() -> None:
    p = standard_presentation()
    top = cbor.decode(p.to_bytes())
    assert isinstance(top, dict)
    top[99] = b""
    raises(DecodeError, "unknown_field", lambda: verify(cbor.encode(top)))


def test_wrong_cose_typ() -> None:
    # R-5.3-1
    p = standard_presentation()
    assert p.invocation is not None
    links = [link.encoded for link in p.links]
    # an invocation placed as a link
    raises(
        DecodeError,
        "type_mismatch",
        lambda: verify(assemble([*links, p.invocation.encoded], p.invocation.encoded)),  # type: ignore[union-attr]
    )
    # a link placed as the invocation
    raises(DecodeError, "type_mismatch", lambda: verify(assemble(links, links[-1])))
    # a link claim map signed under the invocation's typ
    claims = claims_of(p.links[1])
    relabelled = sign_link(AGENT, claims, typ=TYP_INVOCATION)
    raises(DecodeError, "type_mismatch", lambda: verify(invoke_raw([links[0], relabelled], SUB)))


def test_empty_chain() -> None:
    # R-5.8-2
    raises(DecodeError, "chain_empty", lambda: verify(assemble([], None)))


# --------------------------------------------------------------------------
# the issuer refuses to widen


def test_issuer_refuses_wider_capability() -> None:
    # R-4.7-1
    token = standard_token()
    for caps in (
        [("calendar/write", CAL + "/x")],
        [("calendar/read", "*")],
        [("calendar/read", CAL)],
        [("*", CAL + "/x")],
        [("calendar/read", CAL + "/x"), ("mail/send", MAIL)],
    ):
        raises(
            IssueError,
            "scope_widened",
            lambda c=caps: delegate(token, SUB, SUB2.public_key, capabilities=c, now=NOW),  # type: ignore[misc]
        )
    # narrower is fine
    narrower = delegate(
        token, SUB, SUB2.public_key, capabilities=[("calendar/read/x", CAL + "/x/*")], now=NOW
    )
    assert len(narrower.links) == 3


def test_issuer_refuses_longer_ttl() -> None:
    # R-4.7-1
    root = standard_token().links[:1]
    token = Presentation(root)  # alice -> agent, NOW .. NOW + 3600
    raises(
        IssueError,
        "time_widened",
        lambda: delegate(token, AGENT, SUB.public_key, capabilities=SUB_CAPS, ttl=3601, now=NOW),
    )
    raises(
        IssueError,
        "time_widened",
        lambda: delegate(
            token, AGENT, SUB.public_key, capabilities=SUB_CAPS, ttl=10, now=NOW + 3591
        ),
    )
    # starting before the parent is valid
    raises(
        IssueError,
        "time_widened",
        lambda: delegate(token, AGENT, SUB.public_key, capabilities=SUB_CAPS, ttl=10, now=NOW - 1),
    )
    # after the parent expired, even the default ttl (capped at the parent's exp) is empty
    raises(
        IssueError,
        "time_widened",
        lambda: delegate(token, AGENT, SUB.public_key, capabilities=SUB_CAPS, now=NOW + 3600),
    )
    exact = delegate(token, AGENT, SUB.public_key, capabilities=SUB_CAPS, ttl=3600, now=NOW)
    assert exact.links[1].claims.window == token.links[0].claims.window
    capped = delegate(token, AGENT, SUB.public_key, capabilities=SUB_CAPS, now=NOW + 3000)
    assert capped.links[1].claims.window.exp == NOW + 3600


def test_issuer_refuses_depth_not_smaller() -> None:
    # R-4.7-1
    token = Presentation(standard_token().links[:1])  # depth 2
    for depth in (2, 3):
        raises(
            IssueError,
            "depth_exceeded",
            lambda d=depth: delegate(  # type: ignore[misc]
                token, AGENT, SUB.public_key, capabilities=SUB_CAPS, depth=d, now=NOW
            ),
        )
    leaf = delegate(token, AGENT, SUB.public_key, capabilities=SUB_CAPS, depth=0, now=NOW)
    assert leaf.links[-1].claims.depth == 0
    # depth 0: no further delegation, not even with the default depth
    raises(
        IssueError,
        "depth_exceeded",
        lambda: delegate(leaf, SUB, SUB2.public_key, capabilities=SUB_CAPS, now=NOW),
    )
    # the default is one below the parent
    assert (
        delegate(token, AGENT, SUB.public_key, capabilities=SUB_CAPS, now=NOW)
        .links[-1]
        .claims.depth
        == 1
    )


def test_delegate_with_a_key_that_is_not_the_holder() -> None:
    # R-4.7-2
    token = standard_token()  # held by SUB
    for wrong in (AGENT, ALICE, MALLORY, key("sub", ES256)):
        raises(
            UsageError,
            "usage",
            lambda k=wrong: delegate(token, k, SUB2.public_key, capabilities=SUB_CAPS, now=NOW),  # type: ignore[misc]
        )
    # nor may a presentation (with an invocation) be delegated
    raises(
        UsageError,
        "usage",
        lambda: delegate(
            standard_presentation(), SUB, SUB2.public_key, capabilities=SUB_CAPS, now=NOW
        ),
    )


# --------------------------------------------------------------------------
# denials: time


def at(t: int, **kw: Any) -> Decision:
    """The standard token (issued at NOW), invoked and verified at time t."""
    return verify(standard_presentation(now=t), now=t, **kw)


def test_time_boundaries_with_skew() -> None:
    # R-8.2-5
    # links valid for NOW <= t < NOW + 900 (the sub link), skew 60 either side
    denied(at(NOW - 61), "not_yet_valid")
    allowed(at(NOW - 60))
    allowed(at(NOW))
    allowed(at(NOW + 900))  # exp itself, within skew
    allowed(at(NOW + 959))
    denied(at(NOW + 960), "expired")
    denied(at(NOW + 3659), "expired")  # root still valid: the sub link decides
    denied(at(NOW + 10**6), "expired")


def test_time_boundaries_without_skew() -> None:
    # R-8.2-5
    denied(at(NOW - 1, clock_skew=0), "not_yet_valid")
    allowed(at(NOW, clock_skew=0))
    allowed(at(NOW + 899, clock_skew=0))
    denied(at(NOW + 900, clock_skew=0), "expired")


def test_expired_root_with_crafted_unexpired_child_errors_first() -> None:
    # a child outliving its root is time_widened (an error), never a time denial
    raises(ChainError, "time_widened", lambda: verify(crafted(sub_changes={L_EXP: NOW + 4000})))


def inv_at(iat: int, now: int = NOW, **kw: Any) -> Decision:
    return verify(standard_presentation(now=iat), now=now, **kw)


def test_invocation_freshness_boundaries() -> None:
    # R-8.2-8
    # future: iat <= now + skew
    allowed(inv_at(NOW + 60))
    denied(inv_at(NOW + 61), "invocation_future")
    # stale: now - iat <= invocation_window + skew (300 + 60)
    allowed(inv_at(NOW - 360))
    denied(inv_at(NOW - 361), "invocation_stale")
    allowed(inv_at(NOW - 100, invocation_window=40))
    denied(inv_at(NOW - 101, invocation_window=40), "invocation_stale")
    denied(inv_at(NOW + 1, clock_skew=0), "invocation_future")


# --------------------------------------------------------------------------
# denials: revocation


def three_link_token(
    *, mid_caveats: tuple[object, ...] = (), root_caveats: tuple[object, ...] = ()
) -> Presentation:
    """alice -> agent -> sub -> sub2; ``mid_caveats`` sit on the agent -> sub link."""
    token = standard_token(root_caveats=root_caveats, sub_caveats=mid_caveats)
    return delegate(token, SUB, SUB2.public_key, capabilities=SUB_CAPS, now=NOW, rng=Rng("sub2"))


@pytest.mark.parametrize("index", [0, 1, 2])
def test_revoked_link_denies(index: int) -> None:
    token = three_link_token()
    store = MemoryStore()
    allowed(verify(standard_presentation(token, holder=SUB2), store=store))
    store.revoke(token.links[index].digest)
    d = verify(standard_presentation(token, holder=SUB2, label="again"), store=store)
    denied(d, "revoked")
    assert f"link {index}" in d.reasons[0].message


def test_revoking_a_parent_kills_every_descendant() -> None:
    store = MemoryStore()
    token = standard_token()
    store.revoke(token.links[0].digest)
    # a fresh delegation below the revoked root, made after the revocation
    other = delegate(
        Presentation(token.links[:1]), AGENT, SUB2.public_key, capabilities=SUB_CAPS, now=NOW
    )
    denied(verify(standard_presentation(other, holder=SUB2), store=store), "revoked")
    denied(verify(standard_presentation(token), store=store), "revoked")


def test_revoking_something_else_does_not_deny() -> None:
    store = MemoryStore()
    store.revoke(standard_token(label="other").links[0].digest)
    store.revoke(b"\x00" * 32)
    allowed(verify(standard_presentation(), store=store))


def test_revocation_is_checked_after_errors() -> None:
    store = MemoryStore()
    token = standard_token()
    store.revoke(token.links[0].digest)
    stolen = invoke_raw([link.encoded for link in token.links], MALLORY)
    raises(SignatureError, "signature_invalid", lambda: verify(stolen, store=store))


# --------------------------------------------------------------------------
# denials: the invocation in context


def test_audience_mismatch() -> None:
    # R-8.2-7
    for audience in ("https://other.example", AUD + "/", "https://CAL.example"):
        denied(verify(standard_presentation(audience=audience)), "audience_mismatch")


@pytest.mark.parametrize(
    ("signed", "request_"),
    [
        (("calendar/read", CAL + "/events", {}), Request("calendar/write", CAL + "/events")),
        (("calendar/read", CAL + "/events", {}), Request("calendar", CAL + "/events")),
        (("calendar/read", CAL + "/events", {}), Request("calendar/read", CAL + "/other")),
        (("calendar/read", CAL + "/events", {}), Request("calendar/read", CAL + "/events/x")),
        (("calendar/read", CAL + "/events", {"n": 1}), Request("calendar/read", CAL + "/events")),
        (
            ("calendar/read", CAL + "/events", {}),
            Request("calendar/read", CAL + "/events", {"n": 1}),
        ),
        (
            ("calendar/read", CAL + "/events", {"n": 1}),
            Request("calendar/read", CAL + "/events", {"n": True}),
        ),
        (
            ("calendar/read", CAL + "/events", {"n": True}),
            Request("calendar/read", CAL + "/events", {"n": 1}),
        ),
        (
            ("calendar/read", CAL + "/events", {"n": 0}),
            Request("calendar/read", CAL + "/events", {"n": False}),
        ),
        (
            ("calendar/read", CAL + "/events", {"s": "1"}),
            Request("calendar/read", CAL + "/events", {"s": b"1"}),
        ),
        (
            ("calendar/read", CAL + "/events", {"l": [1, 2]}),
            Request("calendar/read", CAL + "/events", {"l": [2, 1]}),
        ),
    ],
)
def test_request_mismatch(signed: tuple[str, str, dict[str, object]], request_: Request) -> None:
    # R-8.2-9
    action, resource, args = signed
    p = standard_presentation(action=action, resource=resource, args=args)
    denied(verify(p, request_), "request_mismatch")


def test_request_match_ignores_argument_order() -> None:
    # R-8.2-9
    p = standard_presentation(args={"a": 1, "b": [True, None, b"x"], "c": {"d": "e"}})
    allowed(
        verify(
            p,
            Request(
                REQUEST.action, REQUEST.resource, {"c": {"d": "e"}, "b": [True, None, b"x"], "a": 1}
            ),
        )
    )


def test_replay() -> None:
    store = MemoryStore()
    p = standard_presentation()
    allowed(verify(p, store=store))
    denied(verify(p, store=store), "replay")
    denied(verify(p.to_text(), store=store), "replay")  # another spelling, the same nonce
    allowed(verify(standard_presentation(label="fresh nonce"), store=store))
    # another verifier's store has not seen it
    allowed(verify(p, store=MemoryStore()))


def test_replay_is_remembered_for_the_whole_acceptance_window() -> None:
    store = MemoryStore()
    p = standard_presentation()
    allowed(verify(p, store=store))
    denied(verify(p, store=store, now=NOW + 360), "replay")  # last second it is fresh
    denied(verify(p, store=store, now=NOW + 361), "invocation_stale")


def test_capability_missing() -> None:
    # R-8.2-12
    # the root grants mail/send, the sub link does not: every link must grant
    p = standard_presentation(action="mail/send", resource=MAIL)
    d = verify(p, Request("mail/send", MAIL))
    denied(d, "capability_missing")
    assert "link 1" in d.reasons[0].message
    for action, resource in (
        ("calendar/write", CAL + "/x"),
        ("calendar", CAL + "/x"),
        ("calendar/read", CAL),
        ("calendar/read", "https://cal.example/bob/x"),
        ("calendar/readX", CAL + "/x"),
    ):
        p = standard_presentation(action=action, resource=resource, label=action + resource)
        denied(verify(p, Request(action, resource)), "capability_missing")
    allowed(
        verify(
            standard_presentation(action="calendar/read/x", resource=CAL + "/a/b"),
            Request("calendar/read/x", CAL + "/a/b"),
        )
    )


AMOUNT_CAP = ["<=", ".amount", 100]
WORK_CAL = ["==", ".calendar", "work"]


def test_caveat_on_a_middle_link() -> None:
    # R-8.2-13 R-6.2-9
    token = three_link_token(mid_caveats=(AMOUNT_CAP,))

    def run(args: dict[str, object]) -> Decision:
        p = standard_presentation(token, holder=SUB2, args=args, label=repr(args))
        return verify(p, Request(REQUEST.action, REQUEST.resource, args))

    allowed(run({"amount": 100}))
    d = run({"amount": 101})
    denied(d, "caveat_failed")
    assert "link 1" in d.reasons[0].message
    denied(run({}), "caveat_failed")  # missing: ERROR, fail closed
    denied(run({"amount": True}), "caveat_failed")  # a bool is not an int


def test_a_restated_caveat_is_one_evaluation_and_the_rest_still_count() -> None:
    # R-4.6-1: the verifier evaluates a link's caveats once per distinct set of parsed
    # statements; a link that adds a caveat to the restated one is still checked in full
    token = three_link_token(
        root_caveats=(AMOUNT_CAP,), mid_caveats=(AMOUNT_CAP, ["<=", ".amount", 50])
    )
    root, mid = token.links[0].claims.caveats, token.links[1].claims.caveats
    assert root[0].statement is mid[0].statement  # one parsed object per exact statement

    def run(args: dict[str, object]) -> Decision:
        p = standard_presentation(token, holder=SUB2, args=args, label=repr(args))
        return verify(p, Request(REQUEST.action, REQUEST.resource, args))

    allowed(run({"amount": 50}))
    d = run({"amount": 60})
    denied(d, "caveat_failed")
    assert "link 1: caveat 1" in d.reasons[0].message
    d = run({"amount": 101})
    denied(d, "caveat_failed")
    assert "link 0: caveat 0" in d.reasons[0].message


def test_caveats_are_a_conjunction_across_links() -> None:
    # R-4.6-1 R-8.2-13
    token = three_link_token(root_caveats=(WORK_CAL,), mid_caveats=(AMOUNT_CAP,))

    def run(args: dict[str, object]) -> Decision:
        p = standard_presentation(token, holder=SUB2, args=args, label=repr(args))
        return verify(p, Request(REQUEST.action, REQUEST.resource, args))

    allowed(run({"calendar": "work", "amount": 5}))
    d = run({"calendar": "home", "amount": 5})
    denied(d, "caveat_failed")
    assert "link 0" in d.reasons[0].message
    d = run({"calendar": "work", "amount": 500})
    denied(d, "caveat_failed")
    assert "link 1" in d.reasons[0].message
    denied(run({"calendar": "home", "amount": 500}), "caveat_failed")


def test_dot_segment_cannot_escape_a_resource_prefix() -> None:
    # .../alice/..?q is https://cal.example/?q once a server normalizes it
    escape = CAL + "/..?q=1"
    raises(UsageError, "usage", lambda: standard_presentation(resource=escape))
    raises(DecodeError, "schema_invalid", lambda: Request(REQUEST.action, escape))
    # signed by hand, the invocation does not even decode
    links = [link.encoded for link in standard_token().links]
    raises(DecodeError, "schema_invalid", lambda: verify(invoke_raw(links, SUB, resource=escape)))


# --------------------------------------------------------------------------
# the text form


def test_text_form_roundtrip() -> None:
    p = standard_presentation()
    text = p.to_text()
    assert text.startswith("ac1c.")
    assert decode_presentation_unverified(text).to_bytes() == p.to_bytes()


@pytest.mark.parametrize(
    "transform",
    [
        lambda t: "ac2c." + t[5:],
        lambda t: "AC1C." + t[5:],
        lambda t: "ac1j." + t[5:],
        lambda t: t[5:],
        lambda t: "ac1c" + t[5:],
        lambda t: "x" + t,
    ],
)
def test_text_bad_prefix(transform: Callable[[str], str]) -> None:
    # R-5.1-1
    text = transform(standard_presentation().to_text())
    raises(DecodeError, "encoding_unknown", lambda: verify(text))
    raises(DecodeError, "encoding_unknown", lambda: decode_presentation_unverified(text))


def _bad_base64(text: str) -> list[str]:
    body = text[5:]
    return [
        text + "=",
        text + "==",
        "ac1c." + body.replace("-", "+", 1) if "-" in body else "ac1c.+" + body[1:],
        "ac1c." + body.replace("_", "/", 1) if "_" in body else "ac1c./" + body[1:],
        text[:100] + " " + text[100:],
        text[:100] + "\n" + text[100:],
        text[:100] + "." + text[100:],
        text[:100] + "é" + text[100:],
        "ac1c.A",  # a length of 1 mod 4 is never valid
        "ac1c.AB",  # one byte 0x00, but the last 4 bits are 0001
        "ac1c.AAB",  # two bytes, but the last 2 bits are 01
        "ac1c.AAAAB",
    ]


def test_text_bad_base64() -> None:
    # R-5.1-2
    text = standard_presentation().to_text()
    for bad in _bad_base64(text):
        raises(DecodeError, "base64_invalid", lambda b=bad: decode_presentation_unverified(b))  # type: ignore[misc]
        raises(DecodeError, "base64_invalid", lambda b=bad: verify(b))  # type: ignore[misc]


def test_text_nonzero_trailing_bits_of_a_real_presentation() -> None:
    # pad the presentation's bytes so that its text has a partial last group
    for extra in range(3):
        raw = standard_presentation(label=f"trail{extra}").to_bytes() + b"\x00" * extra
        body = b64encode(raw)
        if len(body) % 4 == 0:
            continue
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        last = alphabet.index(body[-1])
        bad = "ac1c." + body[:-1] + alphabet[last | 1]
        assert alphabet[last | 1] != body[-1]
        raises(DecodeError, "base64_invalid", lambda b=bad: decode_presentation_unverified(b))  # type: ignore[misc]


def test_oversized_text_is_refused_before_decoding() -> None:
    # R-5.1-4
    huge = "ac1c." + "A" * 1_000_000
    junk = "ac1c." + "!" * 1_000_000  # would be base64_invalid if decoding came first
    wrong = "zz" * 500_000  # would be encoding_unknown if the prefix came first
    for text in (huge, junk, wrong):
        start = time.perf_counter()
        raises(DecodeError, "limit_exceeded", lambda t=text: verify(t))  # type: ignore[misc]
        assert time.perf_counter() - start < 0.5


def test_presentation_size_limit_boundary() -> None:
    # R-5.6-2
    p = standard_presentation()
    size = len(p.to_bytes())
    exact = Limits(max_presentation_bytes=size)
    under = Limits(max_presentation_bytes=size - 1)
    for form in (p.to_bytes(), p.to_text()):
        assert decode_presentation_unverified(form, exact).to_bytes() == p.to_bytes()
        raises(
            DecodeError,
            "limit_exceeded",
            lambda f=form: decode_presentation_unverified(f, under),  # type: ignore[misc]
        )
    allowed(verify(p.to_text(), limits=exact))
    raises(DecodeError, "limit_exceeded", lambda: verify(p.to_bytes(), limits=under))


def test_link_count_limit() -> None:
    keys = [key(f"k{i}") for i in range(6)]
    token, holder = linear_chain(keys)
    p = invoke(
        token, holder, audience=AUD, action="calendar/read", resource=CAL + "/x", now=NOW, rng=Rng()
    )
    raises(
        DecodeError,
        "limit_exceeded",
        lambda: decode_presentation_unverified(p.to_bytes(), Limits(max_links=4)),
    )
    assert len(decode_presentation_unverified(p.to_bytes(), Limits(max_links=5)).links) == 5
    # the issuer refuses to build past the limit as well, with depth to spare
    rng = Rng("deep")
    deep = issue(ALICE, keys[1].public_key, capabilities=SUB_CAPS, depth=10, now=NOW, rng=rng)
    for i in range(1, 5):
        deep = delegate(deep, keys[i], keys[i + 1].public_key, capabilities=SUB_CAPS, now=NOW)
    assert len(deep.links) == 5 and deep.links[-1].claims.depth == 6
    raises(
        IssueError,
        "depth_exceeded",
        lambda: delegate(
            deep,
            keys[5],
            SUB.public_key,
            capabilities=SUB_CAPS,
            now=NOW,
            limits=Limits(max_links=5),
        ),
    )
    longer = delegate(deep, keys[5], SUB.public_key, capabilities=SUB_CAPS, now=NOW)
    assert len(longer.links) == 6
