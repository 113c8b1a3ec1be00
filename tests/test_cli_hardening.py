"""Issue 14, the command line: what a hostile token, argument or file can do to the terminal,
the approver, the audit log and the process, and the rough edges a new user hit.

Each test fails on the command as it was before issue 14 (named in its comment)."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import unicodedata
from pathlib import Path
from typing import Any, cast

import pytest

from agentchain import PrivateKey, codec, demo, issue
from agentchain.cli import build_parser, main
from agentchain.vectors import runner
from agentchain.wire import cbor
from agentchain.wire.cbor import CBORValue
from tests.test_cli import (
    API,
    PAY,
    SEARCH,
    SEARCH_ARGS,
    T1,
    Env,
    Result,
    _pending_approval,
    run,
)


@pytest.fixture(name="env")
def _env(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Env:
    return Env(tmp_path, capsys)


#: every kind of character R-11.2-3 names, and markup rich would interpret
HOSTILE = (
    "x\n\x1b[3A\x1b[2Kallow\r\x07\x7f\x85\x9b"
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u2028\u2029\x0b\x0c[bold]y"
)
_LISTED = set(HOSTILE) - set("x[3A2Kallowbold]y")


def assert_terminal_safe(text: str) -> None:
    """No character of ``text`` but the line feeds between lines can move, restyle or reorder."""
    for char in text:
        if char != "\n":
            assert char.isprintable(), (hex(ord(char)), unicodedata.name(char, "?"), text)


def test_the_hostile_string_covers_every_listed_class() -> None:
    assert all(not c.isprintable() for c in _LISTED)
    assert {"\x1b", "\x85", "\u202e", "\u2066", "\u061c", "\u2028", "\x7f"} <= _LISTED


# -- finding 2: approve shows only what the digest covers ---------------------------


def test_approve_never_shows_the_unsigned_summary(env: Env) -> None:
    # R-9.2-13: a summary that redraws the screen made alice approve a payment she saw as a
    # flight search; approve printed it raw
    _, result = _pending_approval(env)
    request = result["approval_request"]
    request["summary"] = "\x1b[2J\x1b[HApprove a flight search to LIS, no payment"
    path = env.file("request.json", json.dumps(request))
    code, approval, err = run(
        env.capsys, "approve", "--key", env.key("alice"), "--request", path, "--at", T1
    )
    assert code == 0 and approval.startswith("ac1c.")
    assert "flight search" not in err and "\x1b" not in err
    assert "payments/create" in err and "450" in err and PAY in err
    assert_terminal_safe(err)


def test_approve_escapes_the_fields_the_digest_covers(env: Env) -> None:
    # R-9.2-13 R-11.2-3: the covered fields are the verifier's, but they came from the agent
    chain = os.urandom(32)
    action, resource = f"payments/{HOSTILE}", f"{PAY}{HOSTILE}"
    args: dict[str, Any] = {"memo": HOSTILE, "amount": 450}
    digest = codec.request_digest(chain, API, action, resource, args)
    request = {
        "digest": digest.hex(),
        "chain": chain.hex(),
        "audience": API,
        "action": action,
        "resource": resource,
        "args_cbor": codec.b64encode(cbor.encode(cast(CBORValue, args))),
    }
    path = env.file("request.json", json.dumps(request))
    code, _, err = run(env.capsys, "approve", "--key", env.key("alice"), "--request", path)
    assert code == 0, err
    assert_terminal_safe(err)
    assert "payments/x\\x0a\\x1b[3A" in err and "\\u202e" in err and "\\u2028" in err


# -- finding 3: every human output escapes -----------------------------------------


def _hostile_story(env: Env) -> tuple[Path, Path]:
    """A sub-agent key whose name is hostile, delegated to and invoking."""
    code, _, err = run(env.capsys, "keygen", "--out", env.dir / "evil.jwk", "--name", HOSTILE)
    assert code == 0, err
    token = env.issue()
    out = run(
        env.capsys, "delegate", "--token", token, "--key", env.key("agent"),
        "--to", env.pub("evil"), "--cap", "flights/search", f"{API}/flights/*",
        "--purpose", HOSTILE, "--model", HOSTILE, "--at", "2030-01-01T12:00:00Z",
    )  # fmt: skip
    assert out[0] == 0, out
    sub = env.file("evil.token", out[1])
    out = run(
        env.capsys, "invoke", "--token", sub, "--key", env.key("evil"), "--aud", API,
        "--action", "flights/search", "--resource", SEARCH, "--args", json.dumps({"q": HOSTILE}),
        "--at", T1,
    )  # fmt: skip
    assert out[0] == 0, out
    return sub, env.file("evil-presentation.txt", out[1])


def test_verify_human_output_escapes_names_from_the_token(env: Env) -> None:
    # R-11.2-3: the name "x\n\x1b[3A...allow" printed over verify's real deny line
    _, presentation = _hostile_story(env)
    for request_args in (SEARCH_ARGS, {"q": HOSTILE}):
        code, out, err = env.verify(
            presentation, "flights/search", SEARCH, request_args, "--at", T1
        )
        assert code in (0, 1), (out, err)
        assert_terminal_safe(out + err)
        assert "\\x1b[3A" in out  # shown, not obeyed
    # the verify line is the first, and the principals one a line each
    assert out.splitlines()[0] in ("allow", "deny")


def test_inspect_escapes_the_token_and_the_trust_file_label(env: Env) -> None:
    # R-11.2-3: the approver label of a --trust file was not escaped
    token, presentation = _hostile_story(env)
    anchor = env.dir / "anchor.pub.jwk"
    jwk = json.loads(env.pub("alice").read_text())
    anchor.write_text(json.dumps({**jwk, "name": HOSTILE}))
    approving = env.issue("--require-approval", "null", "--approver", env.pub("alice"))
    for target in (token, presentation, approving):
        code, out, err = run(env.capsys, "inspect", target, "--trust", anchor, "--at", T1)
        assert code == 0, err
        assert_terminal_safe(out + err)


def test_error_lines_escape_file_names_and_arguments(env: Env) -> None:
    # R-11.2-2 R-11.2-3: an error line echoed the file name raw
    for argv in (
        ("inspect", env.dir / f"missing{HOSTILE}"),
        ("issue", "--key", env.key("alice"), "--to", env.pub("agent"), "--cap", "a", "https://x/b",
         "--ttl", HOSTILE),
        ("issue", "--key", env.key("alice"), "--to", env.pub("agent"), "--cap", "a", "https://x/b",
         "--at", HOSTILE),
        ("verify", "--presentation", env.dir / HOSTILE, "--trust", env.pub("alice"),
         "--aud", API, "--action", "a", "--resource", "https://x/b"),
    ):  # fmt: skip
        code, out, err = run(env.capsys, *argv)
        assert code == 2, (argv, out, err)
        assert err.count("\n") == 1 and err.startswith("error: ")
        assert_terminal_safe(out + err)


def test_verify_of_an_invalid_presentation_escapes_its_message(env: Env) -> None:
    # R-11.2-3 R-11.3-1
    garbage = env.file("garbage.txt", f"ac1c.{HOSTILE}")
    code, out, err = env.verify(garbage, "a", "https://x/b", {})
    assert code == 1 and out.startswith("invalid: ")
    assert_terminal_safe(out + err)


# -- finding 4: the audit log ----------------------------------------------------------


def test_audit_log_lines_are_ascii_one_record_per_line(env: Env) -> None:
    # R-9.3-4: U+2028 and U+0085 were written raw, so splitlines() saw more lines than records
    _, presentation = _hostile_story(env)
    log = env.dir / "audit.jsonl"
    for request_args in ({"q": HOSTILE}, SEARCH_ARGS, {"q": "\u2028\x85\x0b\x1c\x1d\x1e"}):
        env.verify(presentation, "flights/search", SEARCH, request_args, "--at", T1,
                   "--audit-log", log)  # fmt: skip
    raw = log.read_bytes()
    assert raw.isascii()
    records = [json.loads(line) for line in raw.decode().splitlines()]
    assert len(records) == 3
    assert any(p["name"] == HOSTILE for p in records[0]["principals"])


# -- finding 5: bounded parsing, no traceback ------------------------------------------


_HUGE_INT = "9" * 5000
_DEEP = "[" * 3000 + "]" * 3000


@pytest.mark.parametrize(
    "text",
    [
        f'{{"amount": {_HUGE_INT}}}',
        f'{{"amount": -{_HUGE_INT}}}',
        f'{{"amount": 1.{_HUGE_INT}}}',
        f'{{"a": {_DEEP}}}',
        '{"a": ' + '{"b": ' * 3000 + "1" + "}" * 3001,
        '{"amount": NaN}',
        '{"amount": -Infinity}',
    ],
    ids=["huge", "huge-negative", "long-float", "deep-array", "deep-object", "nan", "infinity"],
)
def test_hostile_json_arguments_are_one_line_usage_errors(env: Env, text: str) -> None:
    # R-11.2-4: a 5,000-digit integer or 3,000-deep JSON raised a traceback
    token = env.issue()
    presentation = env.invoke(env.issue(), "agent", "flights/search", SEARCH, SEARCH_ARGS)
    for argv in (
        ("invoke", "--token", token, "--key", env.key("agent"), "--aud", API,
         "--action", "flights/search", "--resource", SEARCH, "--args", text),
        ("verify", "--presentation", presentation, "--trust", env.pub("alice"), "--aud", API,
         "--action", "flights/search", "--resource", SEARCH, "--args", text),
        ("issue", "--key", env.key("alice"), "--to", env.pub("agent"), "--cap", "a", "https://x/b",
         "--caveat", f'["==", ".x", {text}]'),
        ("issue", "--key", env.key("alice"), "--to", env.pub("agent"), "--cap", "a", "https://x/b",
         "--require-approval", f'["==", ".x", {text}]'),
    ):  # fmt: skip
        code, out, err = run(env.capsys, *argv)
        assert code == 2, (argv[0], out, err[:300])
        assert out == "" and err.startswith("error: usage: ") and err.count("\n") == 1


def test_a_deep_or_huge_key_or_request_file_is_a_usage_error(env: Env) -> None:
    # R-11.2-4: files go through the same bounded parser
    for content in (_DEEP, f'{{"kty": {_HUGE_INT}}}'):
        path = env.file("bad.jwk", content)
        path.chmod(0o600)
        for argv in (
            ("issue", "--key", path, "--to", env.pub("agent"), "--cap", "a", "https://x/b"),
            ("issue", "--key", env.key("alice"), "--to", path, "--cap", "a", "https://x/b"),
            ("approve", "--key", env.key("alice"), "--request", path),
        ):
            code, _, err = run(env.capsys, *argv)
            assert code == 2 and err.count("\n") == 1, err[:300]


@pytest.mark.parametrize("ttl", [f"{_HUGE_INT}s", "999999999999999999999999999999d", f"{2**53}s"])
def test_a_duration_beyond_any_token_time_is_a_usage_error(env: Env, ttl: str) -> None:
    # R-11.2-4: a TTL of 10^30 days reached the CBOR encoder, which raised ValueError
    token = env.issue()
    for argv in (
        ("issue", "--key", env.key("alice"), "--to", env.pub("agent"), "--cap", "a", "https://x/b"),
        ("delegate", "--token", token, "--key", env.key("agent"), "--to", env.pub("sub"),
         "--cap", "flights/search", SEARCH),
        ("attest", "--key", env.key("builder"), "--subject", env.pub("sub"),
         "--code-digest", "sha256:" + "ab" * 32),
    ):  # fmt: skip
        code, _, err = run(env.capsys, *argv, "--ttl", ttl)
        assert code == 2 and "duration" in err and err.count("\n") == 1, (argv[0], err[:200])


@pytest.mark.parametrize("encoding", ["cbor", "jose"])
def test_inspect_renders_an_exp_of_2_to_the_53_minus_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str
) -> None:
    # issue 14 finding 5: a valid token whose exp is 2^53-1 made the date rendering raise
    alice, agent = PrivateKey.from_seed(b"\x01" * 32), PrivateKey.from_seed(b"\x02" * 32)
    now = 1_800_000_000
    token = issue(
        alice,
        agent.public_key,
        capabilities=[("calendar/read", "*")],
        ttl=2**53 - 1 - now,
        now=now,
        encoding=encoding,  # type: ignore[arg-type]
    )
    path = tmp_path / "far.token"
    path.write_text(token.to_text())
    code, out, err = run(capsys, "inspect", path, "--at", "2027-01-15T08:00:00Z")
    assert code == 0, err
    assert f"{2**53 - 1} seconds after 1970-01-01T00:00:00Z" in out
    code, out, _ = run(capsys, "inspect", "--json", path)
    assert code == 0 and json.loads(out)["links"][0]["exp"] == 2**53 - 1


# -- finding 6: keygen and planted symlinks ---------------------------------------------


@pytest.mark.parametrize("planted", ["private", "public"])
@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_keygen_never_writes_through_a_planted_symlink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], planted: str, dangling: bool
) -> None:
    # R-11.1-3: the public key file was written through a symlink planted at its name
    victim = tmp_path / "victim.txt"
    if not dangling:
        victim.write_text("keep me")
    out = tmp_path / "k.jwk"
    link = out if planted == "private" else tmp_path / "k.pub.jwk"
    link.symlink_to(victim)
    code, stdout, err = run(capsys, "keygen", "--out", out)
    assert code == 2 and stdout == "", err
    assert err.startswith("error: usage: ") and err.count("\n") == 1
    if dangling:
        assert not victim.exists()
    else:
        assert victim.read_text() == "keep me"
    assert link.is_symlink()
    # nothing half-made is left: no private key without its public half
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [link.name, *([] if dangling else ["victim.txt"])]
    )


def test_keygen_refuses_an_existing_public_file_and_keeps_no_private_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # R-11.1-3
    (tmp_path / "k.pub.jwk").write_text("somebody's")
    code, _, err = run(capsys, "keygen", "--out", tmp_path / "k.jwk")
    assert code == 2 and "exists" in err
    assert not (tmp_path / "k.jwk").exists()
    assert (tmp_path / "k.pub.jwk").read_text() == "somebody's"


# -- rough edges --------------------------------------------------------------------------


def test_a_public_key_as_key_says_it_is_a_public_key(env: Env) -> None:
    # issue 14: it said key_file_exposed ... chmod 600
    renamed = env.dir / "alice-public.json"
    renamed.write_text(env.pub("alice").read_text())
    renamed.chmod(0o600)
    for key in (env.pub("alice"), renamed):
        code, _, err = run(env.capsys, "issue", "--key", key, "--to", env.pub("agent"),
                           "--cap", "a", "https://x/b")  # fmt: skip
        assert code == 2, err
        assert "is a public key" in err and "key_file_exposed" not in err
    # a private key others can read is still key_file_exposed (R-11.1-2)
    env.key("alice").chmod(0o644)
    code, _, err = run(env.capsys, "issue", "--key", env.key("alice"), "--to", env.pub("agent"),
                       "--cap", "a", "https://x/b")  # fmt: skip
    assert code == 2 and err.startswith("error: key_file_exposed: ")


def test_debug_keeps_the_exit_codes(env: Env) -> None:
    # R-11.2-1: --debug re-raised, turning exit 2 into 1
    env.key("alice").chmod(0o644)
    argv = (
        "issue",
        "--key",
        env.key("alice"),
        "--to",
        env.pub("agent"),
        "--cap",
        "a",
        "https://x/b",
    )
    code, _, err = run(env.capsys, "--debug", *argv)
    assert code == 2
    assert "Traceback" in err and err.rstrip().splitlines()[-1].startswith(
        "error: key_file_exposed"
    )
    code, _, err = run(env.capsys, "--debug", "issue", "--ttl", "forever", *argv[1:])
    assert code == 2
    garbage = env.file("garbage.txt", "ac1c.!!!")
    code, _, err = run(env.capsys, "inspect", garbage, "--debug")
    assert code == 1 and "Traceback" in err and "base64_invalid" in err


def test_version_and_a_bare_command(capsys: pytest.CaptureFixture[str]) -> None:
    # R-11.2-1
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("agentchain 0.")
    code, out, err = run(capsys)
    assert code == 2 and out == ""
    assert "--help" in err and err.splitlines()[-1].startswith("error: usage: ")


def _parsers(parser: argparse.ArgumentParser, path: str = "agentchain") -> Any:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


def test_every_option_of_every_command_has_help() -> None:
    missing = [
        f"{path} {action.option_strings[-1]}"
        for path, parser in _parsers(build_parser())
        for action in parser._actions
        if action.option_strings and not action.help
    ]
    assert missing == []
    helps = {path: parser.format_help() for path, parser in _parsers(build_parser())}
    assert len(helps) >= 15
    assert not [path for path, text in helps.items() if "``" in text or ":mod:" in text]


def test_inspect_with_trust_does_not_claim_no_trust_policy(env: Env) -> None:
    # R-11.1-1: it printed "checked without a trust policy" next to --trust
    token = env.issue()
    code, out, _ = run(env.capsys, "inspect", token, "--trust", env.pub("alice"))
    assert code == 0 and "UNVERIFIED" in out
    assert "without a trust policy" not in out and "against the given anchors" in out
    code, out, _ = run(env.capsys, "inspect", token)
    assert "against no trust anchor" in out


def test_vectors_run_with_a_missing_harness_says_so_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # issue 14: 573 lines of "errored: <id>: null" and nothing on stderr
    result: Result = run(capsys, "vectors", "run", "--impl", str(tmp_path / "no-such-file"))
    code, out, err = result
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "cannot start the harness" in err


_HOSTILE_HARNESS = """
import json, sys
hostile, features = sys.argv[1], json.loads(sys.argv[2])
for line in sys.stdin:
    message = json.loads(line)
    if message["cmd"] == "start":
        answer = {"ready": True, "version": 1,
                  "implementation": {"name": hostile, "version": hostile, "language": hostile,
                                     "encodings": ["cbor", "jose"],
                                     "algorithms": ["EdDSA", "ES256"], "features": features}}
    elif message["seq"] % 2:
        answer = {"seq": message["seq"], "errored": True, "context": hostile}
    else:
        answer = {"seq": message["seq"], "skipped": True, "reason": hostile}
    print(json.dumps(answer), flush=True)
"""


def test_vectors_run_escapes_what_the_harness_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # R-11.2-3: the harness's name, its errors and its skip reasons reached the terminal raw
    harness = tmp_path / "hostile_harness.py"
    harness.write_text(_HOSTILE_HARNESS, encoding="utf-8")
    cases = runner.load_cases(runner.default_vectors())
    features = json.dumps(sorted({f for case in cases for f in case["features"]}))
    command = f"{sys.executable} {harness} {shlex.quote(HOSTILE)} {shlex.quote(features)}"
    for fmt in ("human", "markdown"):
        code, out, err = run(
            capsys, "vectors", "run", "--impl", command, "--only", "appr-", "--format", fmt
        )
        assert code == 1, err
        assert_terminal_safe(out + err)
        assert "\\x1b[3A" in out


def test_demo_never_writes_through_a_symlink_planted_after_the_old_file_went(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # R-11.1-3, the demo's sibling of finding 6: it removed the old file, then wrote by name
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    target = tmp_path / "alice.pub.jwk"
    target.write_text("an earlier run's")
    real_unlink = Path.unlink

    def unlink_then_plant(self: Path, missing_ok: bool = False) -> None:
        real_unlink(self, missing_ok=missing_ok)
        if self == target:
            self.symlink_to(victim)  # the race: a link appears between removal and creation

    monkeypatch.setattr(Path, "unlink", unlink_then_plant)
    with pytest.raises(FileExistsError):
        demo._fresh(target, "{}")
    assert victim.read_text() == "keep me"
