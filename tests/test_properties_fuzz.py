"""Properties driven by agentchain.testing (extends tests/test_properties.py).

(a) every object round-trips, in every encoding: claims -> signed bytes -> claims;
(b) authority never grows, also when links are signed raw (``codec.sign_object``)
    with widened scope, time or depth, or a root signed raw with a window the
    issuer would refuse: an allowed request is one the root permits, inside its
    window, and every link's caveats hold;
(c) every mutation of an allowed presentation is refused (a typed error or a
    decision other than allow) unless it decodes to the identical presentation,
    and strict decoding is exact: what decodes re-encodes to the same bytes;
(d) decisions do not depend on the form: bytes, text, decoded object, and the same
    scenario rebuilt in each encoding of ``testing.ENCODINGS`` decide alike;
(e) the policy language is total and stays within its limits on adversarial input.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
from typing import Any, cast

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from agentchain import (
    AgentchainError,
    ApprovalRequirement,
    Capability,
    Caveat,
    DecodeError,
    Descriptor,
    IssueError,
    Outcome,
    Presentation,
    Request,
    codec,
    decode_presentation_unverified,
    delegate,
    invoke,
    issue,
    testing,
)
from agentchain.codec import (
    L_CAPS,
    L_DEPTH,
    L_EXP,
    L_NBF,
    TYP_LINK,
    Approval,
    Attestation,
    Invocation,
    Link,
    b64encode,
    decode_approval_requirement,
    decode_capability,
    decode_caveat,
    decode_descriptor,
    decode_link_claims,
    decode_unverified,
    encode_approval_requirement,
    encode_caveat,
    encode_descriptor,
    from_text,
    sign_claims,
    sign_object,
)
from agentchain.errors import REGISTRY, Kind
from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.model import (
    ApprovalClaims,
    AttestationClaims,
    InvocationClaims,
    LinkClaims,
    Statement,
    parse_statement,
)
from agentchain.policy import evaluate
from agentchain.wire import cbor, jws
from agentchain.wire.cbor import CBORValue
from tests.helpers import ALICE, AUD, NOW, Rng, claims_of, link_claims, make_verifier
from tests.test_properties import (
    _HOLDERS,
    _REQUEST_ACTIONS,
    _REQUEST_RESOURCES,
    Chooser,
    _concrete,
    hypothesis_chooser,
    random_chooser,
)

ENCODINGS = testing.ENCODINGS


def _share(parts: int) -> settings:
    """The profile's examples split across ``parts`` parametrized cases: adding an encoding
    widens what a property covers without multiplying the suite's time (CI budget)."""
    return settings(max_examples=max(10, settings().max_examples // parts))


PER_ENCODING = _share(len(ENCODINGS))

# --------------------------------------------------------------------------
# (a) round trip of every object


def _wire(value: object) -> object:
    """Through the wire and back: what a peer decodes from our encoding."""
    return cbor.decode(cbor.encode(value))  # type: ignore[arg-type]


def _exact(obj: Link | Invocation | Attestation | Approval) -> None:
    """The claims re-encode to the very signed object: CBOR byte for byte (spec 5.2); JOSE
    to the same payload and compact string (the emitter's one spelling, spec/jose.md J.2)."""
    env = obj.envelope
    if env.encoding == "cbor":
        assert cbor.encode(codec.encode_claims(obj.claims)) == env.payload  # type: ignore[arg-type]
    else:
        assert jws.dumps(codec.encode_claims(obj.claims, "jose")) == env.payload
        assert jws.assemble(env.protected, env.payload, env.signature) == obj.encoded


@pytest.mark.parametrize("encoding", ENCODINGS)
@PER_ENCODING
@given(data=st.data())
def test_links_roundtrip(encoding: str, data: st.DataObject) -> None:
    link: Link = data.draw(testing.links(encodings=(encoding,)))
    assert link.encoding == encoding
    again = decode_unverified(LinkClaims, link.encoded)
    assert again.claims == link.claims
    assert again.digest == link.digest
    _exact(link)


@pytest.mark.parametrize("encoding", ENCODINGS)
@PER_ENCODING
@given(data=st.data())
def test_invocations_roundtrip(encoding: str, data: st.DataObject) -> None:
    invocation: Invocation = data.draw(testing.invocations(encodings=(encoding,)))
    assert invocation.envelope.encoding == encoding
    again = decode_unverified(InvocationClaims, invocation.encoded)
    assert again.claims == invocation.claims
    _exact(invocation)


@pytest.mark.parametrize("encoding", ENCODINGS)
@PER_ENCODING
@given(data=st.data())
def test_attachments_roundtrip(encoding: str, data: st.DataObject) -> None:
    attestation = data.draw(testing.attestations(encodings=(encoding,)))
    approval = data.draw(testing.approvals(encodings=(encoding,)))
    assert attestation.envelope.encoding == approval.envelope.encoding == encoding
    assert decode_unverified(AttestationClaims, attestation.encoded).claims == attestation.claims
    assert decode_unverified(ApprovalClaims, approval.encoded).claims == approval.claims
    _exact(attestation)
    _exact(approval)


@pytest.mark.parametrize("encoding", ENCODINGS)
@PER_ENCODING
@given(data=st.data())
def test_presentations_roundtrip(encoding: str, data: st.DataObject) -> None:
    p: Presentation = data.draw(testing.presentations(encodings=(encoding,)))
    assert p.encoding == encoding
    raw, text = p.to_bytes(), p.to_text()
    for form in (raw, text):
        again = decode_presentation_unverified(form)
        assert again.to_bytes() == raw
        assert again.to_text() == text
        assert [link.claims for link in again.links] == [link.claims for link in p.links]
        assert (again.invocation is None) == (p.invocation is None)
        if again.invocation is not None and p.invocation is not None:
            assert again.invocation.claims == p.invocation.claims
        assert [a.claims for a in again.attestations] == [a.claims for a in p.attestations]
        assert [a.claims for a in again.approvals] == [a.claims for a in p.approvals]


@given(
    testing.capabilities(),
    testing.caveats(),
    testing.descriptors(),
    testing.approval_requirements(),
    testing.statements(),
)
def test_parts_roundtrip(
    cap: Capability,
    caveat: Caveat,
    descriptor: Descriptor,
    requirement: ApprovalRequirement,
    statement: Statement,
) -> None:
    assert decode_capability(_wire([cap.action, cap.resource]), DEFAULT_LIMITS) == cap
    assert decode_caveat(_wire(encode_caveat(caveat)), DEFAULT_LIMITS) == caveat
    assert decode_descriptor(_wire(encode_descriptor(descriptor))) == descriptor
    assert (
        decode_approval_requirement(_wire(encode_approval_requirement(requirement)), DEFAULT_LIMITS)
        == requirement
    )
    again = parse_statement(_wire(statement.raw))
    assert again == statement
    assert cbor.encode(cast(CBORValue, again.raw)) == cbor.encode(cast(CBORValue, statement.raw))


# --------------------------------------------------------------------------
# (b) authority never grows, with links signed raw


def _caveat_limit(c: Chooser) -> list[object]:
    return [["<=", ".n", c.integer(0, 20)]] if c.integer(0, 1) else []


def _raw_link(
    c: Chooser, signer_index: int, parent: Link | None, to_index: int, label: int, *, encoding: str
) -> Link:
    """A link signed directly, bypassing the issuer's refusals, usually wider than its parent."""
    signer = ALICE if parent is None else _HOLDERS[signer_index]
    to = _HOLDERS[to_index]
    if parent is None:
        nbf = NOW + c.integer(-200, 50)
        # up to twice the verifier's max_ttl: a window the issuer lets through is no wider
        claims = link_claims(
            signer.public_key,
            to.public_key,
            None,
            caps=c.caps(),
            nbf=nbf,
            exp=nbf + c.choice([60, 3600, 86_400, 86_401, 172_800]),
            depth=c.integer(0, 6),
            caveats=_caveat_limit(c),
            link_id=bytes([label]) * 16,
        )
    else:
        # the parent's claims in the model's CBOR keys, whatever its encoding
        claims = (
            claims_of(parent) if encoding == "cbor" else dict(codec.encode_claims(parent.claims))
        )
        claims.update(
            link_claims(
                signer.public_key,
                to.public_key,
                parent.digest,
                link_id=bytes([label]) * 16,
                caveats=_caveat_limit(c),
            )
        )
        window, depth = parent.claims.window, parent.claims.depth
        claims[L_NBF], claims[L_EXP], claims[L_DEPTH] = window.nbf, window.exp, max(depth - 1, 0)
        widen = c.integer(0, 3)
        if widen == 0:  # scope: one capability the parent may not cover
            claims[L_CAPS] = [list(cap) for cap in c.caps(parent.claims.capabilities)] + [
                [c.choice(["*", "calendar", "mail/send"]), c.choice(["*", "https://y/*"])]
            ]
        elif widen == 1:  # time: outlive or predate the parent
            if c.integer(0, 1):
                claims[L_EXP] = window.exp + c.integer(1, 5000)
            else:
                claims[L_NBF] = window.nbf - c.integer(1, 500)
        elif widen == 2:  # depth: no smaller than the parent's
            claims[L_DEPTH] = depth + c.integer(0, 3)
        else:  # an honest-looking link that drops the parent's caveats
            claims[L_CAPS] = [list(cap) for cap in c.caps(parent.claims.capabilities)]
    if encoding == "jose":
        # the same claims, signed raw as a JWS (the model only checks structure, not narrowing)
        model = decode_link_claims(claims, DEFAULT_LIMITS)
        return decode_unverified(LinkClaims, sign_claims(signer, model, "jose"))
    return decode_unverified(LinkClaims, sign_object(signer, TYP_LINK, claims))


def forge_and_verify(c: Chooser, encoding: str = "cbor") -> str:
    """Honest API calls and raw-signed links in any order; returns the outcome code."""
    holder = 0
    if c.integer(0, 2):
        token = issue(
            ALICE,
            _HOLDERS[0].public_key,
            capabilities=c.caps(),
            ttl=c.integer(1, 5000),
            depth=c.integer(0, 6),
            caveats=_caveat_limit(c),
            now=NOW + c.integer(-200, 50),
            rng=Rng("root"),
            encoding=encoding,  # type: ignore[arg-type]
        )
    else:
        token = Presentation((_raw_link(c, 0, None, 0, 0, encoding=encoding),))
    for i in range(c.integer(0, 5)):
        parent = token.links[-1]
        if c.integer(0, 2):
            with contextlib.suppress(IssueError):
                token = delegate(
                    token,
                    _HOLDERS[holder],
                    _HOLDERS[holder + 1].public_key,
                    capabilities=c.caps(parent.claims.capabilities),
                    ttl=c.maybe(lambda: c.integer(1, 1500)),
                    caveats=_caveat_limit(c),
                    now=parent.claims.window.nbf + c.integer(0, 100),
                    rng=Rng(f"link{i}"),
                )
                holder += 1
        else:
            raw = _raw_link(c, holder, parent, holder + 1, i + 1, encoding=encoding)
            token = Presentation((*token.links, raw))
            holder += 1
    leaf = token.links[-1].claims.capabilities
    if c.integer(0, 2):
        cap = c.choice(leaf)
        action, resource = _concrete(c, cap.action, cap.resource)
    else:
        action, resource = c.choice(_REQUEST_ACTIONS), c.choice(_REQUEST_RESOURCES)
    args = {"n": c.integer(0, 20)}
    t = token.links[-1].claims.window.nbf + c.integer(-5, 4000)
    p = invoke(
        token, _HOLDERS[holder], audience=AUD, action=action, resource=resource, args=args,
        now=t, rng=Rng("inv"), allow_expired=True,  # the model judges expiry too
    )  # fmt: skip
    assert p.encoding == encoding
    try:
        decision = make_verifier(now=t, clock_skew=0).verify(
            p.to_bytes(), Request(action, resource, args)
        )
    except AgentchainError as exc:
        assert REGISTRY[exc.code].kind is Kind.ERROR
        return exc.code
    if decision.outcome is not Outcome.ALLOW:
        return decision.reasons[0].code
    # the property, checked without the verifier's code: nothing beyond the root, nor any link
    root = token.links[0].claims
    assert root.window.exp - root.window.nbf <= 86_400
    for link in token.links:
        claims = link.claims
        assert any(cap.permits(action, resource) for cap in claims.capabilities)
        assert claims.window.nbf <= t < claims.window.exp
        for caveat in claims.caveats:
            op, selector, limit = cast("list[Any]", caveat.statement.raw)
            assert (op, selector) == ("<=", ".n")
            assert args["n"] <= limit
    return "allow"


@pytest.mark.parametrize("encoding", ENCODINGS)
@PER_ENCODING
@given(st.data())
def test_authority_never_grows_with_raw_signed_links(encoding: str, data: st.DataObject) -> None:
    forge_and_verify(hypothesis_chooser(data), encoding)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_raw_signed_widenings_are_all_reached_and_refused(encoding: str) -> None:
    # the generator is not vacuous: it allows, and it reaches every widening refusal
    r = random.Random(4321)
    seen: dict[str, int] = {}
    for _ in range(300):
        outcome = forge_and_verify(random_chooser(r), encoding)
        seen[outcome] = seen.get(outcome, 0) + 1
    assert seen.get("allow", 0) >= 20, seen
    for code in (
        "scope_widened",
        "time_widened",
        "depth_exceeded",
        "time_invalid",
        "caveat_failed",
    ):
        assert seen.get(code, 0) > 0, (code, seen)


# --------------------------------------------------------------------------
# (c) mutations


def _binary(data: bytes | str) -> bytes:
    return data if isinstance(data, bytes) else from_text(data)


def _signed_objects(p: Presentation) -> tuple[object, ...]:
    """What a presentation says: its signed objects, exactly (JOSE's container is not
    canonical, spec/jose.md J.2; the objects inside are)."""
    inv = p.invocation.encoded if p.invocation is not None else None
    return (
        tuple(link.encoded for link in p.links),
        inv,
        tuple(a.encoded for a in p.attestations),
        tuple(a.encoded for a in p.approvals),
    )


@given(testing.mutations())
def test_every_mutation_is_refused_or_is_the_same_presentation(mutation: testing.Mutation) -> None:
    scenario = mutation.scenario
    original = _signed_objects(scenario.presentation)
    decoded: Presentation | None = None
    with contextlib.suppress(AgentchainError):
        decoded = decode_presentation_unverified(mutation.data)
    if decoded is not None and decoded.encoding == "cbor":
        # strict decoding is exact: one accepted encoding per presentation
        assert decoded.to_bytes() == _binary(mutation.data)
    try:
        decision = scenario.verifier().verify(mutation.data, scenario.request)
    except AgentchainError as exc:
        assert not mutation.equivalent, (mutation.note, exc.code)
        assert REGISTRY[exc.code].kind is Kind.ERROR, exc.code
        return
    if mutation.equivalent:
        # JOSE JSON spelled otherwise and signed again: the same claims, the same decision
        assert decision.outcome is Outcome.ALLOW, mutation.note
        assert decoded is not None and decoded.invocation is not None
        assert scenario.presentation.invocation is not None
        assert decoded.invocation.claims == scenario.presentation.invocation.claims
    elif decision.outcome is Outcome.ALLOW:
        assert decoded is not None and _signed_objects(decoded) == original, mutation.note
    else:
        # a structural mutation never passes as a mere policy outcome: only attachments,
        # which count only when they verify, can change a decision without an error
        assert decoded is not None
        assert _signed_objects(decoded)[:2] == original[:2]


@pytest.mark.parametrize("accepted", [True, False])
@_share(2)
@given(data=st.data())
def test_json_spellings_of_a_jose_container_hold_the_same_objects(
    accepted: bool, data: st.DataObject
) -> None:
    # spec/jose.md J.2: whitespace, member order and escapes are allowed in the container
    # and change nothing; a repeated member, a fraction, a BOM or trailing data are refused
    scenario = data.draw(testing.scenarios(encodings=("jose",), max_links=2, factors=False))
    container = json.loads(scenario.presentation.to_bytes())
    spelled = data.draw(testing.json_spellings(container, accepted=accepted))
    if accepted:
        again = decode_presentation_unverified(spelled)
        assert _signed_objects(again) == _signed_objects(scenario.presentation)
        assert again.to_bytes() == scenario.presentation.to_bytes()
    else:
        with pytest.raises(DecodeError) as caught:
            decode_presentation_unverified(spelled)
        if spelled.startswith(b"{"):
            assert caught.value.code in {"json_duplicate_key", "json_invalid"}  # R-J.2-1, R-J.2-2
        # else a BOM: not "{", so by spec/jose.md J.1 not JSON, and refused as CBOR


@given(testing.mutations(kinds=("splice_link", "reorder", "noncanonical_signed")))
def test_spliced_reordered_and_resigned_chains_are_errors(mutation: testing.Mutation) -> None:
    if mutation.data == mutation.scenario.presentation.to_bytes():
        return  # a link spliced from an identical chain: nothing changed
    with pytest.raises(AgentchainError) as caught:
        mutation.scenario.verifier().verify(mutation.data, mutation.scenario.request)
    assert REGISTRY[caught.value.code].kind is Kind.ERROR


# --------------------------------------------------------------------------
# (d) one decision whatever the form and the encoding


def _decide(scenario: testing.Scenario, presentation: object) -> tuple[str, ...]:
    try:
        decision = scenario.verifier().verify(presentation, scenario.request)  # type: ignore[arg-type]
    except AgentchainError as exc:
        return ("error", exc.code)
    return (decision.outcome.value, *(r.code for r in decision.reasons))


@given(testing.mutations())
def test_bytes_and_text_decide_alike(mutation: testing.Mutation) -> None:
    raw = mutation.data
    if isinstance(raw, str):
        return  # the text mutations are judged as text only
    # the prefix names the encoding the bytes hold (spec/jose.md J.1: "{" is JSON); a
    # mismatched prefix is its own refusal, encoding_unknown (R-J.6-2)
    prefix = "ac1j." if raw.startswith(b"{") else "ac1c."
    text = prefix + b64encode(raw)
    assert _decide(mutation.scenario, raw) == _decide(mutation.scenario, text)


_small_limits = st.builds(
    Limits,
    max_links=st.integers(1, 5),
    max_object_bytes=st.integers(100, 2000),
    max_capabilities=st.integers(1, 3),
    max_string_bytes=st.integers(8, 200),
    max_cbor_items=st.integers(10, 200),
    max_attachments=st.integers(1, 2),
)


@given(testing.scenarios(max_links=5), _small_limits)
def test_forms_decide_alike_under_any_limits(scenario: testing.Scenario, limits: Limits) -> None:
    p = scenario.presentation
    decisions: set[tuple[str, ...]] = set()
    for form in (p, p.to_bytes(), p.to_text()):
        try:
            decision = scenario.verifier(limits=limits).verify(form, scenario.request)
        except AgentchainError as exc:
            decisions.add(("error", exc.code))
        else:
            decisions.add((decision.outcome.value,))
    assert len(decisions) == 1, decisions


def _rebuild(scenario: testing.Scenario, encoding: str) -> Presentation:
    """The scenario's chain and invocation made again through the API, in ``encoding``."""
    keys = scenario.chain.keys
    token: Presentation | None = None
    for index, link in enumerate(scenario.presentation.links):
        c = link.claims
        options: dict[str, Any] = {
            "capabilities": c.capabilities,
            "ttl": c.window.exp - c.window.nbf,
            "depth": c.depth,
            "caveats": c.caveats,
            "descriptor": c.descriptor,
            "purpose": c.purpose,
            "require_approval": c.approvals,
            "now": c.window.nbf,
            "rng": lambda n, value=c.id: value[:n],
        }
        if token is None:
            extra: dict[str, Any] = {} if encoding == "cbor" else {"encoding": encoding}
            token = issue(keys[0], c.holder, **options, **extra)
        else:
            token = delegate(token, keys[index], c.holder, **options)
    inv = scenario.presentation.invocation
    assert token is not None and inv is not None
    return invoke(
        token,
        scenario.chain.holder,
        audience=inv.claims.audience,
        action=inv.claims.action,
        resource=inv.claims.resource,
        args=inv.claims.args,
        now=inv.claims.iat,
        rng=lambda n: inv.claims.nonce[:n],
        allow_expired=True,
    )


@pytest.mark.parametrize(("first", "second"), list(itertools.product(ENCODINGS, repeat=2)))
@_share(len(ENCODINGS) ** 2)
@given(data=st.data())
def test_encodings_decide_alike(first: str, second: str, data: st.DataObject) -> None:
    scenario: testing.Scenario = data.draw(testing.scenarios(encodings=(first,), factors=False))
    try:
        again = _rebuild(scenario, second)
    except IssueError as exc:
        # spec/jose.md J.5: JSON has no byte strings nor integers beyond 2^53-1
        assert (first, second, exc.code) == ("cbor", "jose", "schema_invalid")
        assume(False)
    if first == second:
        # the issuer is deterministic given its inputs: the same bytes again
        assert again.to_bytes() == scenario.presentation.to_bytes()
    forms = [scenario.presentation, scenario.presentation.to_text(), again, again.to_text()]
    decisions = {_decide(scenario, form) for form in forms}
    assert decisions == {("allow",)}
    # and a request the chain does not grant is refused alike
    other = Request("other/action", scenario.request.resource, dict(scenario.request.args))
    denied = {
        _decide(testing.Scenario(**{**_fields(scenario), "request": other}), form) for form in forms
    }
    assert len(denied) == 1 and next(iter(denied))[0] != "allow"


def _fields(scenario: testing.Scenario) -> dict[str, Any]:
    return {name: getattr(scenario, name) for name in testing.Scenario.__dataclass_fields__}


# --------------------------------------------------------------------------
# (e) the policy language: total, and within its limits

TIGHT = Limits(max_policy_depth=6, max_policy_nodes=40, max_policy_steps=60, max_string_bytes=64)


def _measure(data: object) -> tuple[int, int]:
    """(depth, nodes) as spec 6.3 counts them: arrays and maps nest; map keys are not nodes."""
    depth, nodes = 0, 0
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        item, level = stack.pop()
        nodes += 1
        if isinstance(item, list):
            depth = max(depth, level)
            stack.extend((child, level + 1) for child in item)
        elif isinstance(item, dict):
            depth = max(depth, level)
            stack.extend((child, level + 1) for child in item.values())
    return depth, nodes


@given(testing.policy_inputs(), testing.arguments())
def test_the_policy_language_is_total_and_bounded(data: object, args: dict[str, Any]) -> None:
    depth, nodes = _measure(data)
    try:
        statement = parse_statement(data, limits=TIGHT)
    except DecodeError as exc:
        assert exc.code in {"caveat_invalid", "limit_exceeded"}
        return
    assert depth <= TIGHT.max_policy_depth, depth
    assert nodes <= TIGHT.max_policy_nodes, nodes
    first = evaluate([statement], args, limits=TIGHT)
    assert first.outcome in {"true", "false", "error"}
    assert evaluate([statement], args, limits=TIGHT) == first  # no hidden state


@given(testing.policy_inputs())
def test_oversized_statements_are_refused_as_over_the_limit(data: object) -> None:
    depth, nodes = _measure(data)
    if depth <= TIGHT.max_policy_depth and nodes <= TIGHT.max_policy_nodes:
        return
    with pytest.raises(DecodeError) as caught:
        parse_statement(data, limits=TIGHT)
    assert caught.value.code in {"caveat_invalid", "limit_exceeded"}


@given(testing.statements(), testing.statements(), testing.arguments())
def test_the_order_of_caveats_never_matters(a: Statement, b: Statement, args: Any) -> None:
    assert evaluate([a, b], args).outcome == evaluate([b, a], args).outcome
    both = parse_statement(["and", [a.raw, b.raw]]), parse_statement(["and", [b.raw, a.raw]])
    assert evaluate([both[0]], args).outcome == evaluate([both[1]], args).outcome


@given(st.integers(0, 200))
def test_the_step_budget_bounds_quantifiers(size: int) -> None:
    statement = parse_statement(["all", ".items", ["==", ".", 1]])
    result = evaluate([statement], {"items": [1] * size}, limits=TIGHT)
    # spec 6.3: one step for the statement, one per element visited, one per inner statement
    if 1 + 2 * size <= TIGHT.max_policy_steps:
        assert result.outcome == "true"
    else:
        assert result.outcome == "error" and "budget" in result.detail
