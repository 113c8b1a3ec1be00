"""``agentchain demo``: every step is a real decision of the real verifier over a real store."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from agentchain import (
    MemoryStore,
    Outcome,
    PrivateKey,
    PublicKey,
    Request,
    TrustPolicy,
    Verifier,
    codec,
    demo,
    invoke,
)
from agentchain.cli import main
from agentchain.store import SQLiteStore

NOW = 1_800_000_000

EXPECTED = [
    ("allow", []),
    ("deny", ["capability_missing"]),
    ("allow", []),
    ("needs_approval", ["approval_required"]),
    ("allow", []),
    ("deny", ["approval_mismatch"]),
    ("needs_approval", ["approval_required"]),
    ("invalid", ["signature_invalid"]),
    ("deny", ["attestation_mismatch"]),
    ("deny", ["revoked"]),
]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> demo.Scenario:
    return demo.run(tmp_path_factory.mktemp("demo"), now=NOW)


def test_every_step_decides_as_the_story_says(scenario: demo.Scenario) -> None:
    got = [(s.outcome, [r["code"] for r in s.reasons]) for s in scenario.steps]
    assert got == EXPECTED
    assert all(s.outcome == s.expected for s in scenario.steps)
    # the factors behind each decision come from the verifier's audit record
    factors = [s.factors for s in scenario.steps]
    assert factors[0]["integrity"] == "pass"  # the sub-agent's code is attested
    assert factors[2]["integrity"] == "not_required" and factors[2]["oversight"] == "not_required"
    assert factors[3]["oversight"] == "required" and factors[4]["oversight"] == "pass"
    assert factors[8]["integrity"] == "fail"
    assert scenario.steps[3].approval_request is not None
    assert "450" in scenario.steps[3].approval_request["summary"]
    # the behaviour factor: the daily spend limit counts 150 + 450, then pauses 180 for alice
    assert [s.usage[0]["used"] for s in scenario.steps[2:5:2]] == [150, 600]
    assert scenario.steps[3].usage == []  # paused by V10 first: V11 never counted it
    assert factors[2]["behaviour"] == factors[4]["behaviour"] == "pass"
    paused = scenario.steps[6]
    assert factors[6]["behaviour"] == "required" and factors[6]["oversight"] == "not_required"
    assert paused.usage == [
        {
            "link": 0,
            "limit": 0,
            "kind": "spend",
            "amount": 180,
            "used": 600,
            "max": 750,
            "remaining": 150,
            "window": paused.usage[0]["window"],
        }
    ]
    assert paused.approval_request is not None and "180" in paused.approval_request["summary"]


def test_the_audit_log_has_one_record_per_request(scenario: demo.Scenario) -> None:
    lines = scenario.files["audit log"].read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["outcome"] for r in records] == [outcome for outcome, _ in EXPECTED]
    assert [r["reasons"] for r in records] == [codes for _, codes in EXPECTED]
    assert records[0]["principals"][2]["attested"]["code"] == {
        alg: value.hex() for alg, value in scenario.token.links[1].claims.descriptor.code.items()
    }


def test_keys_tokens_and_store_are_real_files(scenario: demo.Scenario) -> None:
    directory = scenario.files["keys"]
    for name in demo.KEY_NAMES:
        assert stat.S_IMODE((directory / f"{name}.jwk").stat().st_mode) == 0o600
        assert "d" not in json.loads((directory / f"{name}.pub.jwk").read_text())
    token = codec.decode_presentation_unverified(scenario.files["tokens"].read_text())
    assert token.links == scenario.token.links

    # the revocation is in the store on disk: a fresh verifier sharing it denies the
    # sub-agent, one with a store of its own allows the same request
    def jwk(name: str) -> dict[str, str]:
        data = json.loads((directory / name).read_text())
        return {k: v for k, v in data.items() if k != "name"}

    alice = PublicKey.from_jwk(jwk("alice.pub.jwk"))
    sub = PrivateKey.from_jwk(jwk("flight-search.jwk"))
    request = Request("flights/search", f"{demo.API}/flights/search", {"to": "LIS"})
    trust = TrustPolicy(anchors=(alice,), audience=demo.API)
    at = NOW + 120
    presentation = invoke(
        token, sub, audience=demo.API, action=request.action, resource=request.resource,
        args=request.args, now=at,
    )  # fmt: skip
    with SQLiteStore(scenario.files["store"]) as store:
        shared = Verifier(trust, store=store, clock=lambda: at).verify(presentation, request)
    assert [r.code for r in shared.reasons] == ["revoked"]
    alone = Verifier(trust, store=MemoryStore(), clock=lambda: at).verify(presentation, request)
    assert alone.outcome is Outcome.ALLOW
    # the thief's step never reached a decision: no chain, an error
    assert scenario.steps[7].chain == [] and scenario.steps[7].factors == {"signatures": "error"}


def test_rerun_in_the_same_directory_replaces_its_files(tmp_path: Path) -> None:
    first = demo.run(tmp_path, now=NOW)
    second = demo.run(tmp_path, now=NOW)
    assert [s.outcome for s in second.steps] == [s.outcome for s in first.steps]
    assert len(second.files["audit log"].read_text().splitlines()) == len(EXPECTED)
    assert second.token.links[0].digest != first.token.links[0].digest  # fresh keys


def test_demo_command_narrates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("agentchain demo: alice -> travel agent -> flight-search sub-agent")
    # the chain as a tree, with names, windows, depth, grants, caveats and the pinned code
    assert "alice (trust anchor)" in out and "└── travel-agent (agent)" in out
    assert "flight-search (tool)" in out and "depth 0: may not delegate further" in out
    assert "approval by alice for payments when" in out and "(declared)" in out
    assert "ci-builder vouches that flight-search runs sha256:" in out
    for number, (outcome, codes) in enumerate(EXPECTED, 1):
        assert re.search(rf"\n{number}\. [^\n]+\n   {outcome.upper()}  ", out), number
        for code in codes:
            assert f"{code}: " in out
    assert out.count("ALLOW") == 3 and out.count("NEEDS_APPROVAL") == 2
    assert "budget: 600 of 750 EUR used today, 150 remaining" in out
    assert "UNEXPECTED" not in out
    assert f"Audit log (one JSON record per request): {tmp_path / 'audit.jsonl'}" in out


def test_demo_json_prints_every_decision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--json", "--dir", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["as_expected"] is True
    got = [(s["outcome"], [r["code"] for r in s["reasons"]]) for s in data["steps"]]
    assert got == EXPECTED
    assert [s["step"] for s in data["steps"]] == list(range(1, len(EXPECTED) + 1))
    assert set(data["steps"][3]) >= {"title", "why", "factors", "chain", "approval_request"}
    assert data["files"]["audit log"] == str(tmp_path / "audit.jsonl")


def test_demo_refuses_a_directory_it_did_not_make(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    precious = tmp_path / "verifier.sqlite"
    precious.write_text("someone's real store")
    assert main(["demo", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: usage: ") and "pick a new --dir" in err
    assert precious.read_text() == "someone's real store"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["verifier.sqlite"]
