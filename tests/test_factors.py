"""The factors beyond signatures: integrity (attestation), oversight (approval),
revocation, persistent replay state, and the audit record."""

from __future__ import annotations

import concurrent.futures
import copy
import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentchain import (
    ApprovalRequirement,
    ChainError,
    Descriptor,
    JsonLinesAuditLog,
    MemoryStore,
    Outcome,
    Presentation,
    PrivateKey,
    Request,
    SignatureError,
    TrustPolicy,
    Verifier,
    approve,
    attest,
    codec,
    delegate,
    invoke,
    issue,
    model,
    request_digest,
)
from agentchain.model import Caveat, parse_statement
from agentchain.store import SQLiteStore
from agentchain.verifier._types import _AUDIT_SLOT, Decision, PendingAudit
from agentchain.wire import cbor, cose

NOW = 1_800_000_000
API = "https://api.example"
ALICE = PrivateKey.from_seed(bytes([1]) * 32)
AGENT = PrivateKey.from_seed(bytes([2]) * 32)
SUB = PrivateKey.from_seed(bytes([3]) * 32)
BUILDER = PrivateKey.from_seed(bytes([4]) * 32)
MALLORY = PrivateKey.from_seed(bytes([5]) * 32)
BOB = PrivateKey.from_seed(bytes([6]) * 32)
CODE = {"sha256": hashlib.sha256(b"sub v1").digest()}
OTHER_CODE = {"sha256": hashlib.sha256(b"sub v2").digest()}
PAY = ("payments/create", f"{API}/payments/new")


def _rng() -> Callable[[int], bytes]:
    counter = iter(range(1, 1 << 30))
    return lambda n: next(counter).to_bytes(n, "big")


def _policy(**kw: Any) -> TrustPolicy:
    base: dict[str, Any] = {"anchors": (ALICE.public_key,), "audience": API}
    base.update(kw)
    return TrustPolicy(**base)


def _verifier(store: Any = None, **kw: Any) -> Verifier:
    return Verifier(_policy(**kw), store=store or MemoryStore(), clock=lambda: NOW + 10)


def _chain(**issue_kw: Any) -> tuple[Presentation, Presentation]:
    rng = _rng()
    agent_token = issue(
        ALICE,
        AGENT.public_key,
        capabilities=[("payments", f"{API}/payments/*"), ("flights", f"{API}/flights/*")],
        depth=1,
        now=NOW,
        rng=rng,
        **issue_kw,
    )
    sub_token = delegate(
        agent_token,
        AGENT,
        SUB.public_key,
        capabilities=[("flights/search", f"{API}/flights/*")],
        descriptor=Descriptor(kind="tool", name="sub", code=CODE),
        now=NOW,
        rng=rng,
    )
    return agent_token, sub_token


def _search(token: Presentation, **kw: Any) -> tuple[Presentation, Request]:
    args = {"to": "LIS"}
    p = invoke(
        token,
        SUB,
        audience=API,
        action="flights/search",
        resource=f"{API}/flights/x",
        args=args,
        now=NOW + 5,
        **kw,
    )
    return p, Request("flights/search", f"{API}/flights/x", args)


def _pay(token: Presentation, amount: int, **kw: Any) -> tuple[Presentation, Request]:
    args = {"amount": amount}
    p = invoke(
        token, AGENT, audience=API, action=PAY[0], resource=PAY[1], args=args, now=NOW + 5, **kw
    )
    return p, Request(*PAY, args)


# -- integrity --------------------------------------------------------------


def test_attestation_required_and_missing() -> None:
    # R-8.2-19, R-9.1-7
    _, sub = _chain()
    decision = _verifier(attestation_required=("flights",)).verify(*_search(sub))
    assert decision.outcome is Outcome.DENY
    assert [r.code for r in decision.reasons] == ["attestation_missing"]
    assert decision.audit["factors"]["integrity"] == "fail"  # type: ignore[index]


def test_attestation_required_and_present() -> None:
    # R-9.1-6
    _, sub = _chain()
    att = attest(BUILDER, SUB.public_key, code=CODE, now=NOW)
    v = _verifier(attestation_required=("flights",), attesters=(BUILDER.public_key,))
    decision = v.verify(*_search(sub, attestations=[att]))
    assert decision.outcome is Outcome.ALLOW
    holder = decision.chain.principals[-1]
    assert holder.attested is not None and dict(holder.attested.code) == CODE
    assert decision.audit["principals"][-1]["attested"]["code"] == {  # type: ignore[index]
        "sha256": CODE["sha256"].hex()
    }


def test_attestation_from_untrusted_attester_is_ignored() -> None:
    # R-9.1-2
    _, sub = _chain()
    att = attest(MALLORY, SUB.public_key, code=CODE, now=NOW)
    v = _verifier(attestation_required=("flights",), attesters=(BUILDER.public_key,))
    decision = v.verify(*_search(sub, attestations=[att]))
    assert [r.code for r in decision.reasons] == ["attestation_missing"]
    # and an untrusted attestation contradicting the link is ignored too, not a mismatch
    lie = attest(MALLORY, SUB.public_key, code=OTHER_CODE, now=NOW)
    assert _verifier().verify(*_search(sub, attestations=[lie])).outcome is Outcome.ALLOW


def test_attestation_mismatch_denies_even_when_not_required() -> None:
    # R-9.1-5
    _, sub = _chain()
    att = attest(BUILDER, SUB.public_key, code=OTHER_CODE, now=NOW)
    decision = _verifier(attesters=(BUILDER.public_key,)).verify(*_search(sub, attestations=[att]))
    assert [r.code for r in decision.reasons] == ["attestation_mismatch"]


def test_attestation_of_another_key_does_not_count() -> None:
    # R-9.1-3
    _, sub = _chain()
    att = attest(BUILDER, MALLORY.public_key, code=CODE, now=NOW)
    v = _verifier(attestation_required=("flights",), attesters=(BUILDER.public_key,))
    assert [r.code for r in v.verify(*_search(sub, attestations=[att])).reasons] == [
        "attestation_missing"
    ]


def test_attestation_expired() -> None:
    # R-9.1-4
    _, sub = _chain()
    att = attest(BUILDER, SUB.public_key, code=CODE, ttl=60, now=NOW - 200)
    v = _verifier(attestation_required=("flights",), attesters=(BUILDER.public_key,))
    assert [r.code for r in v.verify(*_search(sub, attestations=[att])).reasons] == [
        "attestation_expired"
    ]


def test_forged_attestation_from_trusted_attester_is_an_error() -> None:
    # R-8.2-17
    _, sub = _chain()
    att = attest(BUILDER, SUB.public_key, code=CODE, now=NOW)
    sign1 = att.envelope
    bad_sig = bytes([sign1.signature[0] ^ 1]) + sign1.signature[1:]
    forged = codec.decode_unverified(
        model.AttestationClaims, cose.assemble(sign1.protected, sign1.payload, bad_sig)
    )
    p, req = _search(sub, attestations=[forged])
    with pytest.raises(SignatureError) as info:
        _verifier(attesters=(BUILDER.public_key,)).verify(p, req)
    assert info.value.code == "signature_invalid"


# -- oversight --------------------------------------------------------------

OVER_200 = ApprovalRequirement(when=parse_statement([">", ".amount", 200]), actions=("payments",))


def test_approval_flow_counts_once() -> None:
    # R-8.2-20, R-9.2-5, R-9.2-6, R-9.2-9, R-9.2-10
    agent, _ = _chain(require_approval=[OVER_200])
    store = MemoryStore()
    v = _verifier(store)
    assert v.verify(*_pay(agent, 150)).outcome is Outcome.ALLOW
    pending = v.verify(*_pay(agent, 450))
    assert pending.outcome is Outcome.NEEDS_APPROVAL
    assert [r.code for r in pending.reasons] == ["approval_required"]
    ask = pending.approval_request
    assert ask is not None and ask.approver == ALICE.public_key
    assert "450" in ask.summary and PAY[0] in ask.summary
    assert ask.digest == request_digest(ask.chain, API, PAY[0], PAY[1], {"amount": 450})
    approval = approve(ALICE, ask.digest, now=NOW)
    assert v.verify(*_pay(agent, 450, approvals=[approval])).outcome is Outcome.ALLOW
    # counts once: the same approval on a fresh invocation of the same request
    again = v.verify(*_pay(agent, 450, approvals=[approval]))
    assert [r.code for r in again.reasons] == ["approval_replayed"]
    # and never for another request
    other = v.verify(*_pay(agent, 480, approvals=[approval]))
    assert [r.code for r in other.reasons] == ["approval_mismatch"]


def test_approval_by_someone_else_does_not_count() -> None:
    # R-9.2-8
    agent, _ = _chain(require_approval=[OVER_200])
    ask = _verifier().verify(*_pay(agent, 450)).approval_request
    assert ask is not None
    by_mallory = approve(MALLORY, ask.digest, now=NOW)
    decision = _verifier().verify(*_pay(agent, 450, approvals=[by_mallory]))
    assert [r.code for r in decision.reasons] == ["approval_mismatch"]


def test_named_approver() -> None:
    # R-9.2-3
    requirement = ApprovalRequirement(actions=("payments",), approver=BOB.public_key)
    agent, _ = _chain(require_approval=[requirement])
    ask = _verifier().verify(*_pay(agent, 10)).approval_request
    assert ask is not None and ask.approver == BOB.public_key
    by_alice = approve(ALICE, ask.digest, now=NOW)
    assert _verifier().verify(*_pay(agent, 10, approvals=[by_alice])).reasons[0].code == (
        "approval_mismatch"
    )
    by_bob = approve(BOB, ask.digest, now=NOW)
    assert _verifier().verify(*_pay(agent, 10, approvals=[by_bob])).outcome is Outcome.ALLOW


def test_approval_expired() -> None:
    # R-9.2-7
    agent, _ = _chain(require_approval=[OVER_200])
    ask = _verifier().verify(*_pay(agent, 450)).approval_request
    assert ask is not None
    old = approve(ALICE, ask.digest, ttl=30, now=NOW - 200)
    assert _verifier().verify(*_pay(agent, 450, approvals=[old])).reasons[0].code == (
        "approval_expired"
    )


def test_approval_condition_error_fails_towards_oversight() -> None:
    # R-9.2-2
    agent, _ = _chain(require_approval=[OVER_200])
    # no .amount: the condition is ERROR, so approval is required rather than skipped
    p = invoke(agent, AGENT, audience=API, action=PAY[0], resource=PAY[1], args={}, now=NOW + 5)
    assert _verifier().verify(p, Request(*PAY)).outcome is Outcome.NEEDS_APPROVAL


def test_approval_does_not_apply_to_other_actions() -> None:
    # R-9.2-1
    _, sub = _chain(require_approval=[OVER_200])
    assert _verifier().verify(*_search(sub)).outcome is Outcome.ALLOW


def test_scoped_caveat_only_binds_its_actions() -> None:
    # R-4.6-2
    agent, sub = _chain(caveats=[Caveat(parse_statement(["<=", ".amount", 500]), ("payments",))])
    assert _verifier().verify(*_search(sub)).outcome is Outcome.ALLOW  # no .amount: not in scope
    assert _verifier().verify(*_pay(agent, 500)).outcome is Outcome.ALLOW
    assert _verifier().verify(*_pay(agent, 501)).reasons[0].code == "caveat_failed"


@given(amount=st.integers(0, 1000), approved=st.integers(0, 1000))
def test_property_approval_never_authorizes_another_request(amount: int, approved: int) -> None:
    agent, _ = _chain(require_approval=[OVER_200])
    digest = request_digest(agent.chain_digest, API, PAY[0], PAY[1], {"amount": approved})
    approval = approve(ALICE, digest, now=NOW)
    decision = _verifier().verify(*_pay(agent, amount, approvals=[approval]))
    if amount <= 200:
        assert decision.outcome is Outcome.ALLOW  # no approval needed at all
    elif amount == approved:
        assert decision.outcome is Outcome.ALLOW
    else:
        assert decision.outcome is Outcome.DENY
        assert decision.reasons[0].code == "approval_mismatch"


# -- possession: a stolen chain is useless -----------------------------------


@given(seed=st.binary(min_size=32, max_size=32))
def test_property_stolen_chain_without_key_never_allows(seed: bytes) -> None:
    # R-7.2-1
    thief = PrivateKey.from_seed(seed)
    _, sub = _chain()
    claims = model.InvocationClaims(
        chain=sub.chain_digest,
        audience=API,
        action="flights/search",
        resource=f"{API}/flights/x",
        args={},
        iat=NOW,
        nonce=bytes(16),
    )
    inv = codec.decode_unverified(
        model.InvocationClaims,
        codec.sign_object(thief, codec.TYP_INVOCATION, codec.encode_claims(claims)),
    )
    p = Presentation(sub.links, inv)
    request = Request("flights/search", f"{API}/flights/x")
    if thief.public_key == SUB.public_key:
        return  # the 2**-256 case: the thief holds the key
    with pytest.raises(SignatureError):
        _verifier().verify(p, request)


# -- revocation -------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1])
def test_revoking_any_link_kills_the_chain(index: int) -> None:
    # R-8.2-6
    _, sub = _chain()
    store = MemoryStore()
    store.revoke(sub.links[index].digest)
    decision = _verifier(store).verify(*_search(sub))
    assert [r.code for r in decision.reasons] == ["revoked"]


def test_revoking_parent_kills_every_descendant() -> None:
    agent, sub = _chain()
    rng = _rng()
    sibling = delegate(
        agent,
        AGENT,
        BOB.public_key,
        capabilities=[("flights", f"{API}/flights/*")],
        now=NOW,
        rng=rng,
    )
    store = MemoryStore()
    store.revoke(agent.links[0].digest)
    v = _verifier(store)
    assert v.verify(*_search(sub)).reasons[0].code == "revoked"
    p = invoke(sibling, BOB, audience=API, action="flights/x", resource=f"{API}/flights/a", now=NOW)
    assert v.verify(p, Request("flights/x", f"{API}/flights/a")).reasons[0].code == "revoked"


def test_revocation_of_a_child_leaves_the_parent() -> None:
    agent, sub = _chain()
    store = MemoryStore()
    store.revoke(sub.links[1].digest)
    assert _verifier(store).verify(*_pay(agent, 10)).outcome is Outcome.ALLOW


# -- persistent replay state --------------------------------------------------


def test_replay_rejected_after_restart(tmp_path: Path) -> None:
    # R-8.2-10
    _, sub = _chain()
    p, req = _search(sub)
    path = tmp_path / "state.sqlite"
    with SQLiteStore(path) as store:
        assert _verifier(store).verify(p, req).outcome is Outcome.ALLOW
    with SQLiteStore(path) as store:  # a new verifier process would open the file anew
        assert [r.code for r in _verifier(store).verify(p, req).reasons] == ["replay"]


# -- audit ------------------------------------------------------------------


def test_audit_record_names_every_principal_and_factor(tmp_path: Path) -> None:
    # R-9.3-1, R-9.3-2
    _, sub = _chain()
    log = tmp_path / "audit.jsonl"
    v = Verifier(_policy(), clock=lambda: NOW + 10, audit=JsonLinesAuditLog(str(log)))
    decision = v.verify(*_search(sub))
    with pytest.raises(ChainError):
        v.verify(sub, Request("flights/search", f"{API}/flights/x"))  # no invocation
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == 2
    record = lines[0]
    assert record == dict(decision.audit)
    assert record["outcome"] == "allow" and record["chain_id"] == sub.chain_digest.hex()
    assert [p["kid"] for p in record["principals"]] == [
        ALICE.public_key.kid,
        AGENT.public_key.kid,
        SUB.public_key.kid,
    ]
    assert record["principals"][2]["declared"]["code"] == {"sha256": CODE["sha256"].hex()}
    assert set(record["factors"]) == {
        "signatures",
        "possession",
        "context",
        "integrity",
        "oversight",
        "behaviour",
    }
    assert record["factors"]["context"] == "pass"
    assert record["factors"]["behaviour"] == "not_required"  # the chain states no usage
    assert record["usage"] == []
    assert record["args_digest"] == hashlib.sha256(cbor.encode({"to": "LIS"})).hexdigest()
    assert lines[1]["outcome"] == "invalid" and lines[1]["reasons"] == ["invocation_missing"]


def test_audit_record_of_a_deny_agrees_with_the_decision() -> None:
    agent, _ = _chain()
    p = invoke(agent, AGENT, audience=API, action="calendar/read", resource=f"{API}/c", now=NOW)
    decision = _verifier().verify(p, Request("calendar/read", f"{API}/c"))
    assert [r.code for r in decision.reasons] == ["capability_missing"]
    assert decision.audit["outcome"] == "deny"
    assert decision.audit["reasons"] == ["capability_missing"]
    assert decision.audit["factors"] == {  # context failed; later factors never ran
        "signatures": "pass",
        "possession": "pass",
        "context": "fail",
        "integrity": "not_evaluated",
        "oversight": "not_evaluated",
        "behaviour": "not_evaluated",
    }


def test_the_audit_record_is_made_when_first_read_and_never_changes() -> None:
    # spec 9.3's record, made lazily (PendingAudit): the same JSON whenever it is made
    agent, sub = _chain()
    v = _verifier()
    first = v.verify(*_search(sub))
    pending = _AUDIT_SLOT.__get__(first, Decision)
    assert isinstance(pending, PendingAudit)
    assert first.factors["possession"] == "pass"  # the factors, without the record
    assert _AUDIT_SLOT.__get__(first, Decision) is pending
    # another request on the same verifier (a deny) before the first record is read
    p = invoke(agent, AGENT, audience=API, action="calendar/read", resource=f"{API}/c", now=NOW)
    denied = v.verify(p, Request("calendar/read", f"{API}/c"))
    record = first.audit
    assert type(record) is dict and first.audit is record  # made once, then kept
    assert record == pending.make()  # making it again changes nothing
    assert (record["outcome"], record["reasons"], record["nonce"]) == (
        "allow",
        [],
        first.invocation.nonce.hex(),
    )
    assert record["factors"] == first.factors and denied.audit["outcome"] == "deny"
    assert json.loads(json.dumps(record)) == record  # a JSON object, as the sink writes it
    # the field behaves as the frozen dataclass's: equality, replace, copy, no writes
    assert dataclasses.replace(first).audit == record
    assert copy.copy(first).audit == record  # as pickling reads and writes the fields
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.audit = {}  # type: ignore[misc]


def test_a_sink_gets_the_very_record_the_decision_keeps() -> None:
    _, sub = _chain()
    seen: list[object] = []
    v = Verifier(_policy(), store=MemoryStore(), clock=lambda: NOW + 10, audit=seen.append)
    decision = v.verify(*_search(sub))
    assert len(seen) == 1 and seen[0] is decision.audit
    assert type(_AUDIT_SLOT.__get__(decision, Decision)) is dict


def test_threads_reading_a_pending_record_read_equal_records() -> None:
    _, sub = _chain()
    decision = _verifier().verify(*_search(sub))
    assert type(_AUDIT_SLOT.__get__(decision, Decision)) is PendingAudit  # read by the threads
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        records = list(pool.map(lambda _: decision.audit, range(64)))
    assert all(r == records[0] for r in records) and records[0]["outcome"] == "allow"
    assert any(r is decision.audit for r in records)  # the record kept is one of those made


# -- the approval request and the factor states, as data ------------------------------------


def test_approval_request_json_has_exactly_the_spec_members() -> None:
    # R-9.2-12
    agent, _ = _chain(require_approval=[OVER_200])
    presentation, request = _pay(agent, 450)
    pending = _verifier().verify(presentation, request)
    ask = pending.approval_request
    assert ask is not None
    data = ask.to_json()
    assert set(data) == {
        "digest",
        "approver",
        "chain",
        "audience",
        "action",
        "resource",
        "args_cbor",
        "args",
        "summary",
    }
    assert (
        data["digest"]
        == request_digest(presentation.chain_digest, API, PAY[0], PAY[1], {"amount": 450}).hex()
    )
    assert data["approver"] == ALICE.public_key.kid
    assert data["chain"] == presentation.chain_digest.hex()
    assert (data["audience"], data["action"], data["resource"]) == (API, *PAY)
    # args_cbor is authoritative: the deterministic CBOR of the arguments, base64url
    assert codec.b64decode(str(data["args_cbor"])) == cbor.encode({"amount": 450})
    assert data["args"] == {"amount": 450}
    summary = str(data["summary"])
    assert "450" in summary and PAY[0] in summary and "once" in summary
    # the decision's JSON carries the same object
    assert pending.to_json()["approval_request"] == data


def test_factor_states_follow_the_spec_table() -> None:
    # R-9.3-3
    agent, sub = _chain(require_approval=[OVER_200])
    # nothing required, nothing attached: integrity and oversight are not_required
    plain = _verifier().verify(*_pay(agent, 150)).audit["factors"]
    assert plain == {
        "signatures": "pass",
        "possession": "pass",
        "context": "pass",
        "integrity": "not_required",
        "oversight": "not_required",
        "behaviour": "not_required",
    }
    # a current trusted attestation passes integrity even where none is required
    att = attest(BUILDER, SUB.public_key, code=CODE, now=NOW)
    attested = _verifier(attesters=(BUILDER.public_key,)).verify(*_search(sub, attestations=[att]))
    assert attested.audit["factors"]["integrity"] == "pass"  # type: ignore[index]
    # needs_approval: oversight is required
    pending = _verifier().verify(*_pay(agent, 450)).audit["factors"]
    assert pending["oversight"] == "required"  # type: ignore[index]
    assert pending["context"] == "pass"  # type: ignore[index]
    # an approval that counted: oversight passes
    ask = _verifier().verify(*_pay(agent, 450)).approval_request
    assert ask is not None
    approval = approve(ALICE, ask.digest, now=NOW)
    approved = _verifier().verify(*_pay(agent, 450, approvals=[approval])).audit["factors"]
    assert approved["oversight"] == "pass"  # type: ignore[index]
    # a failed integrity factor: oversight is never reached
    denied = _verifier(attestation_required=("flights",)).verify(*_search(sub)).audit["factors"]
    assert denied["integrity"] == "fail" and denied["oversight"] == "not_evaluated"  # type: ignore[index]
