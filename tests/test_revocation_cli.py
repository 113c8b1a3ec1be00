"""Signed revocations end to end through the command line (spec 8.5, 11.1).

Two verifiers with two separate SQLite stores share nothing but an exported
revocation file; tokens and revocations in both encodings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentchain.store import SQLiteStore
from tests.test_cli import SEARCH, SEARCH_ARGS, T0, T1, Env, ok, run

ENCODINGS = ("cbor", "jose")
OTHER = {"cbor": "jose", "jose": "cbor"}


@pytest.fixture
def env(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Env:
    made = Env(tmp_path, capsys)
    ok(capsys, "keygen", "--out", tmp_path / "mallory.jwk", "--name", "mallory")
    return made


def _presentation(env: Env, token: Path, label: str) -> Path:
    path = env.invoke(token, "sub", "flights/search", SEARCH, SEARCH_ARGS)
    return path.rename(env.dir / f"{label}.txt")


def _decide(env: Env, presentation: Path, store: Path) -> list[str]:
    code, out, err = env.verify(
        presentation, "flights/search", SEARCH, SEARCH_ARGS, "--at", T1, "--store", store, "--json"
    )
    data = json.loads(out)
    assert code == (0 if data["outcome"] == "allow" else 1), (out, err)
    return [r["code"] for r in data["reasons"]]


def _records(store: Path) -> int:
    with SQLiteStore(store) as opened:
        return len(opened.export_revocations())


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_revocation_travels_between_two_verifiers_by_file(env: Env, encoding: str) -> None:
    # R-8.5-2, R-8.5-6, R-8.5-7, R-8.5-8, R-11.1-4
    token = env.delegate(env.issue("--format", encoding))
    a, b = env.dir / "a.sqlite", env.dir / "b.sqlite"
    assert _decide(env, _presentation(env, token, "p1"), a) == []
    assert _decide(env, _presentation(env, token, "p2"), b) == []

    # a stranger may sign what it likes; verifier A refuses to apply it to this chain
    code, out, err = run(
        env.capsys, "revoke", "--key", env.dir / "mallory.jwk", "--token", token, "--store", a
    )
    assert code == 1 and "revocation_unentitled" in err and out == ""
    assert _records(a) == 0

    # the agent revokes the link it issued, signed in the other encoding, applied at A
    out = ok(
        env.capsys,
        "revoke", "--key", env.key("agent"), "--token", token, "--link", "1",
        "--format", OTHER[encoding], "--at", T0, "--store", a,
    )  # fmt: skip
    assert out.startswith("ac1c." if OTHER[encoding] == "cbor" else "ey")
    assert _decide(env, _presentation(env, token, "p3"), a) == ["revoked"]
    assert _decide(env, _presentation(env, token, "p4"), b) == []  # B was not told

    # A exports, B imports: B now refuses the chain too
    exported = env.file("revocations.txt", ok(env.capsys, "revocations", "export", "--store", a))
    lines = exported.read_text().splitlines()
    assert lines[0].startswith("#") and len(lines) == 2
    out = ok(env.capsys, "revocations", "import", exported, "--store", b, "--at", T1)
    assert "imported 1" in out
    assert _decide(env, _presentation(env, token, "p5"), b) == ["revoked"]
    assert ok(env.capsys, "revocations", "export", "--store", b) == exported.read_text()


def test_a_tampered_file_imports_nothing(env: Env) -> None:
    # R-8.5-6: every entry is verified again on import; never an unsigned one
    good = ok(env.capsys, "revoke", "--key", env.key("sub"), "--subject", env.pub("sub")).strip()
    forged = env.key("agent").read_text()  # not even a revocation
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BA")
    store = env.dir / "c.sqlite"
    for bad in (tampered, forged.replace("\n", "")):
        path = env.file("bad.txt", f"# header\n{good}\n\n{bad}\n")
        code, _, err = run(env.capsys, "revocations", "import", path, "--store", store)
        assert code == 1 and "line 4" in err, err
        assert _records(store) == 0
    code, _, err = run(
        env.capsys, "revocations", "import", env.file("g.txt", good), "--store", store
    )
    assert code == 0 and _records(store) == 1


def test_a_key_revocation_covers_chains_in_both_encodings(env: Env) -> None:
    # R-8.5-3, R-8.5-8: the sub-agent's key is stolen; its delegator revokes the key
    tokens = {
        enc: env.delegate(env.issue("--format", enc)).rename(env.dir / f"sub-{enc}.token")
        for enc in ENCODINGS
    }
    store = env.dir / "d.sqlite"
    text = ok(
        env.capsys, "revoke", "--key", env.key("agent"), "--subject", env.pub("sub"),
        "--format", "jose", "--store", store,
    )  # fmt: skip
    assert text.count(".") == 2
    for enc, token in tokens.items():
        assert _decide(env, _presentation(env, token, f"k-{enc}"), store) == ["revoked"]


@pytest.mark.parametrize(("before", "revoked"), [(T0, False), ("2030-01-01T12:00:01Z", True)])
def test_issued_before_from_the_command_line(env: Env, before: str, revoked: bool) -> None:
    # R-8.5-3: links issued at T0; --before T0 spares them, one second later covers them
    token = env.delegate(env.issue())
    store = env.dir / "e.sqlite"
    ok(
        env.capsys, "revoke", "--key", env.key("alice"), "--subject", env.pub("agent"),
        "--before", before, "--store", store,
    )  # fmt: skip
    assert _decide(env, _presentation(env, token, "b"), store) == (["revoked"] if revoked else [])


def test_revoke_usage_errors(env: Env) -> None:
    token = env.issue()
    for argv in (
        ("revoke", "--key", env.key("alice")),
        ("revoke", "--key", env.key("alice"), "--token", token, "--subject", env.pub("sub")),
        ("revoke", "--key", env.key("alice"), "--subject", env.pub("sub"), "--link", "0"),
        ("revoke", "--key", env.key("alice"), "--token", token, "--link", "3"),
        ("revoke", "--key", env.key("alice"), "--subject", env.pub("sub"), "--before", "soon"),
    ):
        code, _, err = run(env.capsys, *argv)
        assert code == 2 and err.startswith("error: usage"), (argv, err)
