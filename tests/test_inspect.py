"""``inspect`` flags what would fail verification, without a trust policy.

Every hand-made bad chain below is also given to the real verifier: the code it
raises must be among the findings, so inspect and verify cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from agentchain import Outcome, PrivateKey, codec
from agentchain._display import rfc3339
from agentchain.cli import main
from agentchain.codec import L_DEPTH, L_EXP, L_NBF, L_PARENT, TEXT_PREFIX_CBOR
from agentchain.errors import AgentchainError
from agentchain.inspection import findings
from agentchain.verifier import Request
from tests.helpers import (
    AGENT,
    ALICE,
    AUD,
    CAL,
    MALLORY,
    NOW,
    REQUEST,
    SUB,
    assemble,
    invoke_raw,
    key,
    link_claims,
    make_verifier,
    sign_link,
    standard_token,
)

SUB2 = key("inspect-sub2")


def _root_and_child(
    changes: dict[int, object] | None = None, signer: PrivateKey = AGENT
) -> list[bytes]:
    """alice -> agent (depth 1, 1 h, calendar) and agent -> sub with ``changes`` to its claims."""
    root = sign_link(
        ALICE,
        link_claims(
            ALICE.public_key, AGENT.public_key, None, caps=[("calendar", CAL + "/*")],
            exp=NOW + 3600, depth=1,
        ),
    )  # fmt: skip
    parent = codec.digest(root)
    claims = link_claims(
        AGENT.public_key, SUB.public_key, parent, caps=[("calendar/read", CAL + "/*")]
    )
    claims.update(changes or {})
    return [root, sign_link(signer, claims)]


def _widened() -> bytes:
    return invoke_raw(_root_and_child({9: [["mail/send", "https://mail.example/x"]]}), SUB)


CASES: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "scope widened": (_widened, "scope_widened", "link 1"),
    "window outlives the parent": (
        lambda: invoke_raw(_root_and_child({L_EXP: NOW + 7200}), SUB),
        "time_widened",
        "link 1",
    ),
    "window starts before the parent": (
        lambda: invoke_raw(_root_and_child({L_NBF: NOW - 10}), SUB),
        "time_widened",
        "link 1",
    ),
    "depth not decreasing": (
        lambda: invoke_raw(_root_and_child({L_DEPTH: 1}), SUB),
        "depth_exceeded",
        "link 1",
    ),
    "parent linkage broken": (
        lambda: invoke_raw(_root_and_child({L_PARENT: b"\x00" * 32}), SUB),
        "chain_broken",
        "link 1",
    ),
    "link signed by someone other than the parent's holder": (
        lambda: invoke_raw(_root_and_child(signer=MALLORY), SUB),
        "signature_invalid",
        "link 1",
    ),
    "invocation signed by a thief": (
        lambda: invoke_raw(_root_and_child(), MALLORY),
        "signature_invalid",
        "the invocation",
    ),
    "invocation bound to another chain": (
        lambda: invoke_raw(_root_and_child(), SUB, chain=b"\x01" * 32),
        "chain_digest_mismatch",
        "the invocation",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_findings_agree_with_the_verifier(name: str) -> None:
    build, code, where = CASES[name]
    data = build()
    presentation = codec.decode_presentation_unverified(data)
    found = findings(presentation, now=NOW)
    assert (code, where) in [(f.code, f.where) for f in found], found
    # the real verifier rejects it with the same code
    with pytest.raises(AgentchainError) as raised:
        make_verifier().verify(data, Request("calendar/read", CAL, {}))
    assert raised.value.code == code


def test_an_honest_presentation_has_no_finding_until_it_expires() -> None:
    baseline = codec.decode_presentation_unverified(invoke_raw(_root_and_child(), SUB))
    assert findings(baseline, now=NOW) == []
    decision = make_verifier().verify(baseline, Request(REQUEST.action, REQUEST.resource, {}))
    assert decision.outcome is Outcome.ALLOW
    token = standard_token()
    assert findings(token, now=NOW) == []
    assert findings(token, now=NOW, anchors=[ALICE.public_key]) == []
    late = findings(token, now=NOW + 10**6)
    assert [(f.code, f.where) for f in late] == [("expired", "link 0"), ("expired", "link 1")]
    early = findings(token, now=NOW - 3600)
    assert {f.code for f in early} == {"not_yet_valid"}


def test_root_signature_is_checked_only_against_given_anchors() -> None:
    token = standard_token()
    found = findings(token, now=NOW, anchors=[MALLORY.public_key])
    assert [(f.code, f.where) for f in found] == [("root_untrusted", "link 0")]
    # a root signed by mallory while naming alice as issuer: the signature fails under alice
    forged = link_claims(ALICE.public_key, AGENT.public_key, None, caps=[("calendar", CAL)])
    presentation = codec.decode_presentation_unverified(assemble([sign_link(MALLORY, forged)]))
    assert findings(presentation, now=NOW) == []  # no anchor given: not checked
    found = findings(presentation, now=NOW, anchors=[ALICE.public_key])
    assert [(f.code, f.where) for f in found] == [("signature_invalid", "link 0")]


def test_stale_invocation_is_flagged() -> None:
    data = invoke_raw(_root_and_child(), SUB, iat=NOW - 3600)
    found = findings(codec.decode_presentation_unverified(data), now=NOW)
    assert [f.code for f in found] == ["invocation_stale"]
    data = invoke_raw(_root_and_child(), SUB, iat=NOW + 3600)
    found = findings(codec.decode_presentation_unverified(data), now=NOW)
    assert [f.code for f in found] == ["invocation_future"]


# -- through the command ----------------------------------------------------------


def _save(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "p.txt"
    path.write_text(TEXT_PREFIX_CBOR + codec.b64encode(data) + "\n", encoding="utf-8")
    return path


AT = rfc3339(NOW + 60)


def test_inspect_draws_a_widened_chain_with_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # R-11.1-1
    path = _save(tmp_path, _widened())
    assert main(["inspect", str(path), "--at", AT]) == 0
    out = capsys.readouterr().out
    assert out.startswith("UNVERIFIED")
    assert "would fail: scope_widened: grants mail/send on https://mail.example/x" in out
    assert "1 finding(s)" in out and "verify would refuse this" in out
    # the tree: the root signer, then each holder with its window, depth and grants
    assert "root signer (trust anchor)" in out
    assert f"kid {SUB.public_key.kid}" in out and f"kid {AGENT.public_key.kid}" in out
    assert f"window {rfc3339(NOW)} .. {rfc3339(NOW + 900)} (15m)" in out
    assert "depth 1: may delegate 1 more hop" in out and "depth 0: may not delegate" in out
    assert "may calendar on https://cal.example/alice/*" in out
    # the JSON says the same, as data
    assert main(["inspect", "--json", str(path), "--at", AT]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verified"] is False
    assert data["findings"] == [
        {
            "code": "scope_widened",
            "where": "link 1",
            "message": "grants mail/send on https://mail.example/x, beyond its parent",
        }
    ]
    assert data["links"][1]["window"] == [rfc3339(NOW), rfc3339(NOW + 900)]


def test_inspect_with_trust_names_the_root_and_checks_its_signature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pub = tmp_path / "alice.pub.jwk"
    pub.write_text(json.dumps({**ALICE.public_key.to_jwk(), "name": "alice"}))
    path = _save(tmp_path, invoke_raw(_root_and_child(), SUB, iat=NOW + 60))
    assert main(["inspect", str(path), "--at", AT, "--trust", str(pub)]) == 0
    out = capsys.readouterr().out
    assert "alice (trust anchor)" in out and "checked only against --trust" not in out
    assert "no finding at" in out
    assert f"invocation: {REQUEST.action} on {REQUEST.resource} for {AUD}" in out
    other = tmp_path / "mallory.pub.jwk"
    other.write_text(json.dumps(MALLORY.public_key.to_jwk()))
    assert main(["inspect", str(path), "--at", AT, "--trust", str(other)]) == 0
    assert "would fail: root_untrusted" in capsys.readouterr().out


def test_inspect_neutralizes_control_characters_in_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = "\x1b[2J\x1b]0;owned\x07[bold]x"
    links = _root_and_child({13: {1: "tool", 2: evil}})
    path = _save(tmp_path, invoke_raw(links, SUB))
    assert main(["inspect", str(path), "--at", AT]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2J" in out and "[bold]x" in out


def test_inspect_of_a_stolen_token_flags_the_thief(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _save(tmp_path, invoke_raw(_root_and_child(), SUB2, iat=NOW + 60))
    assert main(["inspect", str(path), "--at", AT]) == 0
    out = capsys.readouterr().out
    assert "would fail: signature_invalid: not signed by the last holder's key" in out
