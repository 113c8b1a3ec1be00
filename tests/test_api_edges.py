"""Issue 14's API and output rough edges, each pinned: what a new user of the library and the
command line hit first (text forms everywhere, short reprs, messages that say what differs,
names, factors and join keys in the output, expired links, one time format)."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest

from agentchain import (
    ChainError,
    IssueError,
    JsonLinesAuditLog,
    Presentation,
    Request,
    Verifier,
    delegate,
    invoke,
)
from agentchain._build import Rng
from tests.helpers import (
    ALICE,
    AUD,
    CAL,
    NOW,
    REQUEST,
    SUB,
    key,
    make_policy,
    make_verifier,
    standard_presentation,
    standard_token,
)
from tests.test_cli import T1, Env, run

EPOCH_SECONDS = re.compile(r"\b1[0-9]{9}\b")


# -- the text form is accepted and produced everywhere ---------------------------------------


@pytest.mark.parametrize("encoding", ["cbor", "jose"])
def test_issuing_functions_take_the_text_form(encoding: str) -> None:
    token = standard_token(encoding=encoding)  # type: ignore[arg-type]
    text = token.to_text()
    # invoke and delegate take the text form as verify does (AttributeError before)
    presentation = invoke(
        text,
        SUB,
        audience=AUD,
        action=REQUEST.action,
        resource=REQUEST.resource,
        now=NOW,
        rng=Rng("t"),
    )
    assert make_verifier().verify(presentation, REQUEST).outcome.value == "allow"
    longer = delegate(
        text,
        SUB,
        key("sub2").public_key,
        capabilities=[("calendar/read", CAL + "/*")],
        now=NOW,
        rng=Rng("t"),
    )
    assert len(longer.links) == 3


def test_a_token_that_is_neither_object_nor_text_is_a_usage_error() -> None:
    with pytest.raises(Exception) as info:
        invoke(b"ac1c.xx", SUB, audience=AUD, action="a", resource=CAL)  # type: ignore[arg-type]
    assert getattr(info.value, "code", None) == "usage"


def test_presentation_from_text_and_str() -> None:
    presentation = standard_presentation()
    text = presentation.to_text()
    assert str(presentation) == text
    assert f"{presentation}" == text
    again = Presentation.from_text(text)
    assert again.to_bytes() == presentation.to_bytes()
    assert str(standard_token()) == standard_token().to_text()
    with pytest.raises(Exception) as info:
        Presentation.from_text("ac9x.AAAA")
    assert getattr(info.value, "code", None) == "encoding_unknown"


# -- Decision: a short repr, factors and a request id -----------------------------------------


def test_decision_repr_is_one_short_line() -> None:
    request = Request(REQUEST.action, REQUEST.resource, id="r-1")
    shown = repr(make_verifier().verify(standard_presentation(), request))
    assert shown == "Decision(outcome='allow', links=2, request_id='r-1')"
    denied = make_verifier().verify(
        standard_presentation(), Request(REQUEST.action, CAL + "/other", id="r-2")
    )
    assert repr(denied) == (
        "Decision(outcome='deny', reason='request_mismatch', links=2, request_id='r-2')"
    )


def test_decision_json_has_the_factor_states_and_the_request_id() -> None:
    decision = make_verifier().verify(standard_presentation(), REQUEST)
    data = decision.to_json()
    assert data["factors"] == {
        "signatures": "pass",
        "possession": "pass",
        "context": "pass",
        "behaviour": "not_required",
        "integrity": "not_required",
        "oversight": "not_required",
    }
    # no id given: the verifier made one up, and the audit record carries the same
    assert re.fullmatch(r"[0-9a-f]{32}", str(data["request_id"]))
    assert decision.audit["request_id"] == data["request_id"] == decision.request_id


# -- request_mismatch says which field differs, and how ---------------------------------------


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            Request("calendar/write", REQUEST.resource),
            "action: 'calendar/read', the request's is 'calendar/write'",
        ),
        (
            Request(REQUEST.action, CAL + "/x"),
            f"resource: '{CAL}/events', the request's is '{CAL}/x'",
        ),
        (
            Request(REQUEST.action, REQUEST.resource, {"n": 2}),
            "argument 'n': 1, the request's is 2",
        ),
        (
            Request(REQUEST.action, REQUEST.resource, {"n": True}),
            "argument 'n': 1, the request's is True",
        ),
        (
            Request(REQUEST.action, REQUEST.resource, {}),
            "argument 'n', which the request does not have",
        ),
        (
            Request(REQUEST.action, REQUEST.resource, {"n": 1, "m": 0}),
            "without 'm', which the request has",
        ),
    ],
)
def test_request_mismatch_names_the_field(request_: Request, expected: str) -> None:
    presentation = standard_presentation(args={"n": 1})
    decision = make_verifier().verify(presentation, request_)
    assert [r.code for r in decision.reasons] == ["request_mismatch"]
    assert expected in decision.reasons[0].message


# -- the root principal is named by the trust policy -----------------------------------------


def test_root_principal_name_comes_from_the_trust_policy(tmp_path: Path) -> None:
    # R-9.3-2
    log = tmp_path / "audit.jsonl"
    policy = make_policy(names={ALICE.public_key.kid: "mailto:alice@example.com"})
    verifier = Verifier(policy, clock=lambda: NOW, audit=JsonLinesAuditLog(str(log)))
    decision = verifier.verify(
        standard_presentation(), Request(REQUEST.action, REQUEST.resource, id="req-7")
    )
    assert decision.chain.principals[0].name == "mailto:alice@example.com"
    assert decision.to_json()["chain"][0]["name"] == "mailto:alice@example.com"  # type: ignore[index]
    record = json.loads(log.read_text().splitlines()[0])
    assert record["principals"][0]["name"] == "mailto:alice@example.com"
    assert record["principals"][0]["kind"] is None
    # the audit record joins the application's logs: its request id and the invocation nonce
    assert record["request_id"] == "req-7"
    assert record["nonce"] == standard_presentation().invocation.claims.nonce.hex()  # type: ignore[union-attr]
    # the delegates keep the names their links declared
    assert record["principals"][1]["name"] == "assistant"


def test_error_audit_records_carry_the_request_id(tmp_path: Path) -> None:
    # R-9.3-2
    log = tmp_path / "audit.jsonl"
    verifier = Verifier(make_policy(), clock=lambda: NOW, audit=JsonLinesAuditLog(str(log)))
    with pytest.raises(ChainError):
        verifier.verify(standard_token(), Request(REQUEST.action, REQUEST.resource, id="e-1"))
    record = json.loads(log.read_text())
    assert record["request_id"] == "e-1" and record["nonce"] is None


def test_a_made_up_request_id_is_one_per_verification_and_in_its_error_record() -> None:
    # R-9.3-2: without an id of its own, each verification gets a new one, which its
    # decision and its audit record carry, errors included; the caller's request is untouched
    records: list[dict[str, object]] = []
    verifier = Verifier(make_policy(), clock=lambda: NOW, audit=records.append)  # type: ignore[arg-type]
    request = Request(REQUEST.action, REQUEST.resource)
    with pytest.raises(ChainError):
        verifier.verify(standard_token(), request)
    decision = verifier.verify(standard_presentation(), request)
    made_up = [records[0]["request_id"], records[1]["request_id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", str(rid)) for rid in made_up)
    assert made_up[0] != made_up[1] == decision.request_id
    assert request.id is None


def test_made_up_request_ids_never_repeat_across_draws_or_a_fork() -> None:
    # R-9.3-2: ids are drawn from the OS in blocks; none is handed out twice, not across
    # a refill and not by a forked child, which must not reuse its parent's draw
    import os

    from agentchain.verifier import _run

    request = Request(REQUEST.action, REQUEST.resource)
    ids = [_run.new_request_id(request) for _ in range(3 * _run._REQUEST_IDS_PER_DRAW + 7)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in ids)
    assert _run._REQUEST_IDS  # ids left over from the last draw, which a child must not use
    left = set(_run._REQUEST_IDS)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe and exits
        try:
            os.write(writer, _run.new_request_id(request).encode())
        finally:
            os._exit(0)
    os.close(writer)
    child = os.read(reader, 64).decode()
    os.close(reader)
    os.waitpid(pid, 0)
    assert re.fullmatch(r"[0-9a-f]{32}", child)
    assert child not in left and child not in ids
    assert _run.new_request_id(Request(REQUEST.action, REQUEST.resource, id="mine")) == "mine"


def test_a_trust_policy_with_names_stays_immutable_and_picklable() -> None:
    policy = make_policy(names={ALICE.public_key.kid: "alice"})
    assert pickle.loads(pickle.dumps(policy)) == policy
    assert hash(policy) == hash(make_policy(names={ALICE.public_key.kid: "alice"}))
    with pytest.raises(TypeError):
        policy.names["x"] = "y"  # type: ignore[index]


def test_trust_policy_names_are_checked() -> None:
    with pytest.raises(Exception) as info:
        make_policy(names={ALICE.public_key.kid: 7})
    assert getattr(info.value, "code", None) == "usage"
    with pytest.raises(Exception) as info:
        Request(REQUEST.action, REQUEST.resource, id="")
    assert getattr(info.value, "code", None) == "usage"


# -- expired links: invoking is refused unless asked, delegating is refused --------------------


def test_invoking_on_an_expired_link_is_refused_unless_allowed() -> None:
    # R-4.7-3
    token = standard_token()  # sub link: NOW .. NOW + 900
    with pytest.raises(IssueError) as info:
        invoke(
            token,
            SUB,
            audience=AUD,
            action=REQUEST.action,
            resource=REQUEST.resource,
            now=NOW + 900,
        )
    assert info.value.code == "expired"
    assert "2027-01-15T08:15:00Z" in info.value.message  # RFC 3339, not epoch seconds
    assert not EPOCH_SECONDS.search(info.value.message)
    signed = invoke(
        token,
        SUB,
        audience=AUD,
        action=REQUEST.action,
        resource=REQUEST.resource,
        now=NOW + 900,
        allow_expired=True,
    )
    assert signed.invocation is not None
    # one second earlier is fine without the flag
    invoke(
        token, SUB, audience=AUD, action=REQUEST.action, resource=REQUEST.resource, now=NOW + 899
    )


def test_delegating_an_expired_link_says_when_it_expired() -> None:
    # R-4.7-1
    token = standard_token()
    with pytest.raises(IssueError) as info:
        delegate(
            token,
            SUB,
            key("sub2").public_key,
            capabilities=[("calendar/read", CAL + "/*")],
            now=NOW + 900,
        )
    assert info.value.code == "time_widened"
    assert "link 1 expired at 2027-01-15T08:15:00Z" in info.value.message


# -- one time format in messages -------------------------------------------------------------


def test_deny_messages_print_rfc3339() -> None:
    late = make_verifier(now=NOW + 3600 * 2).verify(standard_presentation(now=NOW + 100), REQUEST)
    assert [r.code for r in late.reasons] == ["expired"]
    message = late.reasons[0].message
    assert "link 0 expired at 2027-01-15T09:00:00Z" in message and not EPOCH_SECONDS.search(message)
    stale = make_verifier(now=NOW + 800).verify(standard_presentation(now=NOW), REQUEST)
    assert [r.code for r in stale.reasons] == ["invocation_stale"]
    assert not EPOCH_SECONDS.search(stale.reasons[0].message)
    assert "2027-01-15T08:00:00Z" in stale.reasons[0].message


def test_widening_messages_print_rfc3339() -> None:
    token = standard_token()
    with pytest.raises(IssueError) as info:
        delegate(
            token,
            SUB,
            key("sub2").public_key,
            capabilities=[("calendar/read", CAL + "/*")],
            ttl=10_000,
            now=NOW,
        )
    assert info.value.code == "time_widened"
    assert "2027-01-15T08:00:00Z" in info.value.message
    assert not EPOCH_SECONDS.search(info.value.message)


# -- the command line: factors, names, request ids, expired links ----------------------------


def test_cli_verify_shows_factors_root_name_and_request_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = Env(tmp_path, capsys)
    token = env.issue()
    search = {"to": "LIS"}
    presentation = env.invoke(
        token, "agent", "flights/search", "https://api.example/flights/x", search
    )
    code, out, _ = env.verify(
        presentation,
        "flights/search",
        "https://api.example/flights/x",
        search,
        "--json",
        "--request-id",
        "trace-42",
        "--at",
        T1,
    )
    assert code == 0
    data = json.loads(out)
    assert data["factors"]["context"] == "pass" and data["factors"]["oversight"] == "not_required"
    assert data["request_id"] == "trace-42"
    assert data["chain"][0]["name"] == "alice"  # keygen --name alice, read from the key file
    code, out, _ = env.verify(
        presentation, "flights/search", "https://api.example/flights/y", search, "--at", T1
    )
    assert "factors: signatures pass, possession pass, context fail" in out  # another resource
    assert " root alice" in out


def test_cli_invoke_on_an_expired_token_needs_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = Env(tmp_path, capsys)
    token = env.issue("--ttl", "30s")
    argv: list[str | Path] = [
        "invoke",
        "--token",
        token,
        "--key",
        env.key("agent"),
        "--aud",
        "https://api.example",
        "--action",
        "flights/search",
        "--resource",
        "https://api.example/flights/x",
        "--at",
        T1,
    ]
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert "expired" in err and "2030-01-01T12:00:30Z" in err
    code, out, err = run(capsys, *argv, "--allow-expired")
    assert code == 0 and out.startswith("ac2c.")


# -- the spec cites nothing outside the repository -------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
_FILE_NAME = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.(?:md|py|json|txt|cddl))\b")


def test_spec_cites_only_files_in_the_repository() -> None:
    missing = []
    for spec in sorted((ROOT / "spec").glob("*.md")):
        for name in sorted(set(_FILE_NAME.findall(spec.read_text(encoding="utf-8")))):
            places = (ROOT, ROOT / "spec", ROOT / "vectors", ROOT / "vectors" / "v1")
            if not any((place / name).exists() for place in places):
                missing.append(f"{spec.name}: {name}")
    assert missing == []
    assert not any("DESIGN" in s.read_text() for s in (ROOT / "spec").glob("*.md"))
