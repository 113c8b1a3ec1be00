"""The ``agentchain`` command, driven in-process through ``main`` and, a few times, as a
real subprocess. Times are pinned with ``--at`` so every run decides the same way."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentchain import PrivateKey, codec, issue, model
from agentchain.cli import main
from agentchain.wire import cbor

API = "https://api.example"
PAY = f"{API}/payments/new"
SEARCH = f"{API}/flights/search"
T0 = "2030-01-01T12:00:00Z"  # signing time of every link
T1 = "2030-01-01T12:01:00Z"  # invocation and verification time
LATER = "2030-01-02T12:00:00Z"  # long after every link expired
CODE = "sha256:" + hashlib.sha256(b"flight-search v1").hexdigest()

Result = tuple[int, str, str]


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> Result:
    capsys.readouterr()  # drop anything left over
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 0, (code, out, err)
    return out


def run_subprocess(*argv: str | Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentchain.cli", *map(str, argv)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def save(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


class Env:
    """Keys in a temp dir and the commands of the usual story, pinned in time."""

    def __init__(self, tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.dir = tmp
        self.capsys = capsys
        for name in ("alice", "agent", "sub", "builder"):
            ok(capsys, "keygen", "--out", tmp / f"{name}.jwk", "--name", name)

    def key(self, name: str) -> Path:
        return self.dir / f"{name}.jwk"

    def pub(self, name: str) -> Path:
        return self.dir / f"{name}.pub.jwk"

    def file(self, name: str, text: str) -> Path:
        return save(self.dir / name, text)

    def issue(self, *extra: str | Path) -> Path:
        out = ok(
            self.capsys,
            "issue",
            "--key",
            self.key("alice"),
            "--to",
            self.pub("agent"),
            "--cap",
            "payments/create",
            f"{API}/payments/*",
            "--cap",
            "flights/search",
            f"{API}/flights/*",
            "--depth",
            "1",
            "--at",
            T0,
            *extra,
        )
        return self.file("agent.token", out)

    def delegate(self, token: Path, *extra: str | Path) -> Path:
        out = ok(
            self.capsys,
            "delegate",
            "--token",
            token,
            "--key",
            self.key("agent"),
            "--to",
            self.pub("sub"),
            "--cap",
            "flights/search",
            f"{API}/flights/*",
            "--kind",
            "tool",
            "--at",
            T0,
            *extra,
        )
        return self.file("sub.token", out)

    def invoke(
        self,
        token: Path,
        holder: str,
        action: str,
        resource: str,
        args: dict[str, Any],
        *extra: str | Path,
    ) -> Path:
        out = ok(
            self.capsys,
            "invoke",
            "--token",
            token,
            "--key",
            self.key(holder),
            "--aud",
            API,
            "--action",
            action,
            "--resource",
            resource,
            "--args",
            json.dumps(args),
            "--at",
            T1,
            *extra,
        )
        return self.file(f"presentation-{holder}.txt", out)

    def verify(
        self,
        presentation: Path,
        action: str,
        resource: str,
        args: dict[str, Any],
        *extra: str | Path,
    ) -> Result:
        return run(
            self.capsys,
            "verify",
            "--presentation",
            presentation,
            "--trust",
            self.pub("alice"),
            "--aud",
            API,
            "--action",
            action,
            "--resource",
            resource,
            "--args",
            json.dumps(args),
            *extra,
        )


@pytest.fixture
def env(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Env:
    return Env(tmp_path, capsys)


SEARCH_ARGS = {"to": "LIS"}


def _sub_presentation(env: Env) -> Path:
    token = env.delegate(env.issue())
    return env.invoke(token, "sub", "flights/search", SEARCH, SEARCH_ARGS)


# -- keys -------------------------------------------------------------------


def test_keygen_writes_private_0600_and_public_and_prints_kid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ok(capsys, "keygen", "--out", tmp_path / "k.jwk", "--alg", "es256")
    private, public = tmp_path / "k.jwk", tmp_path / "k.pub.jwk"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    pub_jwk = json.loads(public.read_text())
    assert "d" not in pub_jwk and "d" in json.loads(private.read_text())
    from agentchain import PublicKey

    assert out.strip() == PublicKey.from_jwk(pub_jwk).kid


def test_keygen_through_a_subprocess(tmp_path: Path) -> None:
    proc = run_subprocess("keygen", "--out", tmp_path / "s.jwk", "--name", "s")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.strip()) > 20
    assert stat.S_IMODE((tmp_path / "s.jwk").stat().st_mode) == 0o600
    assert json.loads((tmp_path / "s.pub.jwk").read_text())["name"] == "s"


def test_private_key_readable_by_others_is_refused(env: Env) -> None:
    # R-11.1-2 R-11.2-1 R-11.2-2
    for mode in (0o644, 0o640, 0o604, 0o620):
        os.chmod(env.key("alice"), mode)
        code, out, err = run(
            env.capsys, "issue", "--key", env.key("alice"), "--to", env.pub("agent"),
            "--cap", "a/b", "https://x/*",
        )  # fmt: skip
        assert code == 2 and out == "", (mode, code, err)
        assert err.startswith("error: key_file_exposed: ") and err.count("\n") == 1
        assert f"{mode:04o}" in err and "chmod 600" in err
    # refused before it is read: an exposed file that is not even JSON gets the same answer
    exposed = env.file("exposed.jwk", "not json at all")
    os.chmod(exposed, 0o644)
    code, _, err = run(
        env.capsys, "attest", "--key", exposed, "--subject", env.pub("sub"), "--model", "m"
    )
    assert code == 2 and err.startswith("error: key_file_exposed: ")
    os.chmod(exposed, 0o600)
    code, _, err = run(
        env.capsys, "attest", "--key", exposed, "--subject", env.pub("sub"), "--model", "m"
    )
    assert code == 2 and "is not JSON" in err
    # back to 0600, the same key works
    os.chmod(env.key("alice"), 0o600)
    env.issue()


def test_keygen_refuses_to_overwrite_a_key(env: Env) -> None:
    before = env.key("alice").read_text()
    code, out, err = run(env.capsys, "keygen", "--out", env.key("alice"))
    assert code == 2 and out == "" and "refusing to overwrite" in err
    assert env.key("alice").read_text() == before


def test_keygen_creates_0600_even_under_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        proc = run_subprocess("keygen", "--out", tmp_path / "k.jwk")
    finally:
        os.umask(old)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE((tmp_path / "k.jwk").stat().st_mode) == 0o600


def test_private_key_and_token_from_stdin(env: Env) -> None:
    token = env.issue()
    # the key from stdin (a pipe from a secret manager, say)
    proc = run_subprocess(
        "delegate", "--token", token, "--key", "-", "--to", env.pub("sub"),
        "--cap", "flights/search", f"{API}/flights/*", "--at", T0,
        stdin=env.key("agent").read_text(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(codec.decode_presentation_unverified(proc.stdout).links) == 2
    # the token from stdin
    proc = run_subprocess(
        "delegate", "--token", "-", "--key", env.key("agent"), "--to", env.pub("sub"),
        "--cap", "flights/search", f"{API}/flights/*", "--at", T0,
        stdin=token.read_text(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # not both: stdin holds one input
    proc = run_subprocess(
        "delegate", "--token", "-", "--key", "-", "--to", env.pub("sub"),
        "--cap", "flights/search", f"{API}/flights/*", stdin=token.read_text(),
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: usage: ") and "stdin" in proc.stderr


def test_oversized_input_is_a_usage_error(env: Env) -> None:
    big = env.file("big.txt", "ac2c." + "A" * (1 << 20))
    code, out, err = run(env.capsys, "inspect", big)
    assert code == 2 and out == "" and "larger than" in err


def test_top_level_help_documents_exit_codes_and_an_example(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # R-11.2-1
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "agentchain demo" in out and "examples:" in out
    for line in ("0  success", "1  verify denied", "2  usage error", "3  verify decided"):
        assert line in out
    # python -m agentchain is the command too
    proc = subprocess.run(
        [sys.executable, "-m", "agentchain", "--help"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and "exit codes:" in proc.stdout


# -- the main flow and its errors ---------------------------------------------


def test_issue_delegate_invoke_verify_allows(env: Env) -> None:
    # R-11.3-1
    presentation = _sub_presentation(env)
    code, out, _ = env.verify(
        presentation, "flights/search", SEARCH, SEARCH_ARGS, "--at", T1, "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["outcome"] == "allow" and data["reasons"] == []
    # the root's name is the one its key file carries (keygen --name)
    assert [p["name"] for p in data["chain"]] == ["alice", "agent", "sub"]
    assert [p["kind"] for p in data["chain"]] == [None, "agent", "tool"]
    assert "approval_request" not in data
    # the human form: the outcome first, then the chain
    code, out, _ = env.verify(presentation, "flights/search", SEARCH, SEARCH_ARGS, "--at", T1)
    assert code == 0 and out.splitlines()[0] == "allow" and "tool sub" in out


def test_invoke_args_by_digest_keeps_a_large_argument_out(env: Env) -> None:
    # R-5.7-3 R-5.7-4: a 100 KB note is signed by digest; verify is given the note itself
    token = env.delegate(env.issue())
    big = {**SEARCH_ARGS, "note": "n" * 100_000}
    presentation = env.invoke(token, "sub", "flights/search", SEARCH, big, "--args-by-digest")
    assert presentation.stat().st_size < 4096
    code, out, _ = env.verify(presentation, "flights/search", SEARCH, big, "--at", T1, "--json")
    assert code == 0 and json.loads(out)["outcome"] == "allow"
    code, out, _ = env.verify(
        presentation, "flights/search", SEARCH, {**big, "note": "m"}, "--at", T1, "--json"
    )
    assert code == 1 and [r["code"] for r in json.loads(out)["reasons"]] == ["request_mismatch"]


@pytest.mark.parametrize("encoding", ["cbor", "jose"])
def test_invoke_binds_large_arguments_by_digest_by_itself(env: Env, encoding: str) -> None:
    # issue 13's case: a price and 100 KB of text, with no option; a float caveat judges them
    # (R-5.7-4). Over INLINE_ARGS_MAX bytes the invocation signs their digest, so the
    # presentation stays small; under it they are carried, as before.
    token = env.issue("--caveat", '["<=", ".price", 20.0]', "--format", encoding)
    pay = f"{API}/payments/p1"
    big = {"price": 12.5, "note": "x" * 100_000}
    presentation = env.invoke(token, "agent", "payments/create", pay, big)
    assert presentation.stat().st_size < 4096
    code, out, _ = env.verify(presentation, "payments/create", pay, big, "--at", T1, "--json")
    assert code == 0 and json.loads(out)["outcome"] == "allow"
    dear = {**big, "price": 25.0}
    code, out, _ = env.verify(
        env.invoke(token, "agent", "payments/create", pay, dear),
        "payments/create", pay, dear, "--at", T1, "--json",
    )  # fmt: skip
    assert code == 1 and [r["code"] for r in json.loads(out)["reasons"]] == ["caveat_failed"]
    # small arguments ride in the invocation; --args-by-digest and --args-inline choose
    small = {"price": 12.5}
    for extra, by_digest in (
        ((), False),
        (("--args-by-digest",), True),
        (("--args-inline",), False),
    ):
        text = env.invoke(token, "agent", "payments/create", pay, small, *extra).read_text()
        invocation = codec.Presentation.from_text(text.strip()).invocation
        assert invocation is not None
        assert (invocation.claims.args_digest is not None) is by_digest
        assert invocation.claims.args == ({} if by_digest else small)
    # forced inline, 100 KB cannot be signed: a one-line usage error, exit 2
    code, _, err = run(
        env.capsys, "invoke", "--token", token, "--key", env.key("agent"), "--aud", API,
        "--action", "payments/create", "--resource", pay, "--args", json.dumps(big),
        "--at", T1, "--args-inline",
    )  # fmt: skip
    assert code == 2 and "limit_exceeded" in err and "Traceback" not in err


def test_verify_prints_each_line_once(env: Env) -> None:
    presentation = _sub_presentation(env)
    code, out, _ = env.verify(presentation, "flights/search", SEARCH, SEARCH_ARGS, "--at", T1)
    assert code == 0
    assert sum(line.startswith("factors: ") for line in out.splitlines()) == 1


def test_wrong_action_is_request_mismatch(env: Env) -> None:
    presentation = _sub_presentation(env)
    code, out, _ = env.verify(
        presentation, "flights/book", SEARCH, SEARCH_ARGS, "--at", T1, "--json"
    )
    assert code == 1
    data = json.loads(out)
    assert data["outcome"] == "deny"
    assert [r["code"] for r in data["reasons"]] == ["request_mismatch"]


def test_verify_after_expiry_is_expired(env: Env) -> None:
    presentation = _sub_presentation(env)
    code, out, _ = env.verify(
        presentation, "flights/search", SEARCH, SEARCH_ARGS, "--at", LATER, "--json"
    )
    assert code == 1
    assert [r["code"] for r in json.loads(out)["reasons"]] == ["expired"]


def test_widening_delegate_is_one_line_error(env: Env) -> None:
    # R-11.2-2
    token = env.issue()
    argv: list[str | Path] = [
        "delegate", "--token", token, "--key", env.key("agent"), "--to", env.pub("sub"),
        "--cap", "calendar/read", f"{API}/calendar/alice", "--at", T0,
    ]  # fmt: skip
    code, out, err = run(env.capsys, *argv)
    assert code == 1 and out == ""
    assert err.startswith("error: scope_widened: ")
    assert err.count("\n") == 1 and "Traceback" not in err
    # the same through a real process, and with --debug the traceback shows
    proc = run_subprocess(*argv)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: scope_widened: ") and proc.stderr.count("\n") == 1
    proc = run_subprocess("--debug", *argv)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "IssueError" in proc.stderr


def test_token_from_stdin_through_a_subprocess(env: Env) -> None:
    token = env.issue()
    proc = run_subprocess("inspect", "--json", "-", stdin=token.read_text())
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["links"][0]["name"] == "agent"


def test_garbage_token_is_one_line_error(env: Env) -> None:
    # R-11.2-2 R-11.3-1
    garbage = env.file("garbage.txt", "ac2c.!!!not-base64!!!")
    code, out, err = run(env.capsys, "inspect", garbage)
    assert code == 1 and out == ""
    assert err.startswith("error: base64_invalid: ") and err.count("\n") == 1
    other = env.file("other.txt", "hello")
    code, _, err = run(
        env.capsys, "delegate", "--token", other, "--key", env.key("agent"), "--to",
        env.pub("sub"), "--cap", "a/b", "https://x/*",
    )  # fmt: skip
    assert code == 1 and err.startswith("error: encoding_unknown: ") and err.count("\n") == 1
    # verify reports an invalid presentation as a result, not a crash
    code, out, _ = env.verify(garbage, "a/b", "https://x/y", {}, "--json")
    assert code == 1
    data = json.loads(out)
    assert len(data.pop("request_id")) == 32  # made up: no --request-id
    assert data == {
        "outcome": "invalid",
        "reasons": [{"code": "base64_invalid", "message": "not unpadded base64url"}],
        "factors": {
            "signatures": "error",
            "possession": "not_evaluated",
            "context": "not_evaluated",
            "integrity": "not_evaluated",
            "oversight": "not_evaluated",
            "behaviour": "not_evaluated",
        },
        "chain": [],
    }


def test_usage_errors_exit_2(env: Env) -> None:
    # R-11.2-1
    code, out, err = run(env.capsys, "issue", "--key", env.key("alice"))
    assert code == 2 and out == "" and err.startswith("error: usage: ")
    code, _, err = run(env.capsys, "nonsense")
    assert code == 2 and err.startswith("error: usage: ")
    code, _, err = run(env.capsys, "inspect", env.dir / "missing.txt")
    assert code == 2 and "cannot read" in err
    token = env.issue()
    code, _, err = run(
        env.capsys, "delegate", "--token", token, "--key", env.key("agent"), "--to",
        env.pub("sub"), "--cap", "a/b", "https://x/*", "--ttl", "forever",
    )  # fmt: skip
    assert code == 2 and "bad duration" in err


# -- approvals ----------------------------------------------------------------


PAY_450 = {"amount": 450, "currency": "EUR"}


def _pending_approval(env: Env) -> tuple[Path, dict[str, Any]]:
    token = env.issue(
        "--require-approval", '[">", ".amount", 200]', "--approval-actions", "payments"
    )
    presentation = env.invoke(token, "agent", "payments/create", PAY, PAY_450)
    code, out, _ = env.verify(presentation, "payments/create", PAY, PAY_450, "--at", T1, "--json")
    assert code == 3
    return token, json.loads(out)


def test_approval_flow(env: Env) -> None:
    token, result = _pending_approval(env)
    assert result["outcome"] == "needs_approval"
    assert [r["code"] for r in result["reasons"]] == ["approval_required"]
    request = result["approval_request"]
    assert request["action"] == "payments/create" and request["args"] == PAY_450
    # a small payment needs no approval
    small = {"amount": 100, "currency": "EUR"}
    presentation = env.invoke(token, "agent", "payments/create", PAY, small)
    assert env.verify(presentation, "payments/create", PAY, small, "--at", T1)[0] == 0

    code, approval, err = run(
        env.capsys, "approve", "--key", env.key("alice"),
        "--request", env.file("verify.json", json.dumps(result)), "--at", T1,
    )  # fmt: skip
    assert code == 0
    assert approval.startswith("ac2c.")
    assert "payments/create" in err and '"amount": 450' in err and PAY in err
    decoded = codec.decode_unverified(model.ApprovalClaims, codec.from_text(approval))
    assert decoded.claims.request.hex() == request["digest"]
    # just the approval_request object is accepted as well, from stdin too
    code, _, _ = run(
        env.capsys, "approve", "--key", env.key("alice"),
        "--request", env.file("request.json", json.dumps(request)), "--at", T1,
    )  # fmt: skip
    assert code == 0

    approval_file = env.file("approval.txt", approval)
    presentation = env.invoke(
        token, "agent", "payments/create", PAY, PAY_450, "--approval", approval_file
    )
    code, out, _ = env.verify(presentation, "payments/create", PAY, PAY_450, "--at", T1, "--json")
    assert code == 0, out
    assert json.loads(out)["outcome"] == "allow"


def test_needs_approval_human_output_explains(env: Env) -> None:
    token = env.issue("--require-approval", "null")
    presentation = env.invoke(token, "agent", "flights/search", SEARCH, SEARCH_ARGS)
    request_out = env.dir / "req.json"
    code, out, _ = env.verify(
        presentation, "flights/search", SEARCH, SEARCH_ARGS, "--at", T1,
        "--request-out", request_out,
    )  # fmt: skip
    assert code == 3
    assert out.splitlines()[0] == "needs_approval"
    assert "Approve one request" in out and "agentchain approve" in out
    assert "--approval" in out
    code, approval, _ = run(
        env.capsys, "approve", "--key", env.key("alice"), "--request", request_out, "--at", T1
    )
    assert code == 0 and approval.startswith("ac2c.")


def test_approve_refuses_a_tampered_request(env: Env) -> None:
    _, result = _pending_approval(env)
    request = result["approval_request"]

    def refused(changed: dict[str, Any]) -> str:
        path = env.file("tampered.json", json.dumps(changed))
        code, out, err = run(
            env.capsys, "approve", "--key", env.key("alice"), "--request", path, "--at", T1
        )
        assert code == 2 and out == "", (code, out, err)
        assert err.startswith("error: usage: ") and err.count("\n") == 1
        return err

    digest = request["digest"]
    flipped = ("0" if digest[0] != "0" else "1") + digest[1:]
    assert "altered" in refused({**request, "digest": flipped})
    # the amount changed in the authoritative CBOR arguments (and in the display)
    cheaper: dict[int | str, cbor.CBORValue] = {"amount": 45, "currency": "EUR"}
    args_cbor = codec.b64encode(cbor.encode(cheaper))
    assert "altered" in refused({**request, "args_cbor": args_cbor, "args": cheaper})
    # ... or only in what the human would read
    assert "altered" in refused({**request, "args": cheaper})
    # ... or inside the whole verify output
    assert "altered" in refused({**result, "approval_request": {**request, "action": "x/y"}})
    # not the approver this request names
    path = env.file("request.json", json.dumps(request))
    code, _, err = run(env.capsys, "approve", "--key", env.key("agent"), "--request", path)
    assert code == 2 and "asks for approval by" in err
    # a verify result without a request
    code, _, err = run(
        env.capsys, "approve", "--key", env.key("alice"),
        "--request", env.file("allow.json", json.dumps({"outcome": "allow", "reasons": []})),
    )  # fmt: skip
    assert code == 2 and "no approval_request" in err


# -- attestations -------------------------------------------------------------


def test_attestation_flow(env: Env) -> None:
    token = env.delegate(env.issue(), "--code-digest", CODE)
    presentation = env.invoke(token, "sub", "flights/search", SEARCH, SEARCH_ARGS)
    policy: list[str | Path] = [
        "--attester",
        env.pub("builder"),
        "--require-attestation",
        "flights",
        "--at",
        T1,
    ]
    code, out, _ = env.verify(
        presentation, "flights/search", SEARCH, SEARCH_ARGS, *policy, "--json"
    )
    assert code == 1
    assert [r["code"] for r in json.loads(out)["reasons"]] == ["attestation_missing"]

    attestation = ok(
        env.capsys, "attest", "--key", env.key("builder"), "--subject", env.pub("sub"),
        "--code-digest", CODE, "--model", "m-1", "--at", T0,
    )  # fmt: skip
    assert attestation.startswith("ac2c.")
    attestation_file = env.file("attestation.txt", attestation)
    presentation = env.invoke(
        token, "sub", "flights/search", SEARCH, SEARCH_ARGS, "--attestation", attestation_file
    )
    code, out, _ = env.verify(
        presentation, "flights/search", SEARCH, SEARCH_ARGS, *policy, "--json"
    )
    assert code == 0, out

    # an attestation of other code contradicts the link
    other = "sha256:" + hashlib.sha256(b"patched").hexdigest()
    bad = ok(
        env.capsys, "attest", "--key", env.key("builder"), "--subject", env.pub("sub"),
        "--code-digest", other, "--at", T0,
    )  # fmt: skip
    presentation = env.invoke(
        token, "sub", "flights/search", SEARCH, SEARCH_ARGS,
        "--attestation", env.file("bad.txt", bad),
    )  # fmt: skip
    code, out, _ = env.verify(
        presentation, "flights/search", SEARCH, SEARCH_ARGS, *policy, "--json"
    )
    assert code == 1
    assert [r["code"] for r in json.loads(out)["reasons"]] == ["attestation_mismatch"]


def test_attest_needs_something_to_attest(env: Env) -> None:
    code, _, err = run(
        env.capsys, "attest", "--key", env.key("builder"), "--subject", env.pub("sub")
    )
    assert code == 2 and err.startswith("error: usage: ")


# -- the verifier's state: store and audit log ----------------------------------


def test_revoke_local_then_verify_with_the_same_store(env: Env) -> None:
    token = env.issue()
    sub_token = env.delegate(token)
    presentation = env.invoke(sub_token, "sub", "flights/search", SEARCH, SEARCH_ARGS)
    store = env.dir / "verifier.sqlite"
    out = ok(env.capsys, "revoke-local", "--store", store, "--token", token)
    root_digest = codec.decode_presentation_unverified(token.read_text()).links[0].digest
    assert out.strip() == root_digest.hex()
    code, out, _ = env.verify(
        presentation, "flights/search", SEARCH, SEARCH_ARGS, "--at", T1, "--store", store, "--json"
    )
    assert code == 1
    assert [r["code"] for r in json.loads(out)["reasons"]] == ["revoked"]
    code, _, err = run(
        env.capsys, "revoke-local", "--store", store, "--token", token, "--link", "5"
    )
    assert code == 2 and "--link" in err


def test_replay_across_runs_sharing_a_store_and_audit_log(env: Env) -> None:
    presentation = _sub_presentation(env)
    store, audit = env.dir / "verifier.sqlite", env.dir / "audit.jsonl"
    state: list[str | Path] = ["--at", T1, "--store", store, "--audit-log", audit, "--json"]
    code, out, _ = env.verify(presentation, "flights/search", SEARCH, SEARCH_ARGS, *state)
    assert code == 0 and json.loads(out)["outcome"] == "allow"
    code, out, _ = env.verify(presentation, "flights/search", SEARCH, SEARCH_ARGS, *state)
    assert code == 1
    assert [r["code"] for r in json.loads(out)["reasons"]] == ["replay"]
    # an invalid presentation is audited too
    garbage = env.file("garbage.txt", "ac2c.AAAA")
    code, _, _ = env.verify(garbage, "flights/search", SEARCH, SEARCH_ARGS, *state)
    assert code == 1
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [r["outcome"] for r in records] == ["allow", "deny", "invalid"]
    assert records[1]["reasons"] == ["replay"]
    assert records[0]["time"] == T1 and records[0]["action"] == "flights/search"
    # without a shared store each run starts afresh: no replay
    code, _, _ = env.verify(presentation, "flights/search", SEARCH, SEARCH_ARGS, "--at", T1)
    assert code == 0


def test_unusable_store_is_one_line_error(env: Env) -> None:
    presentation = _sub_presentation(env)
    not_a_db = env.file("not.sqlite", "this is not a database, it is text" * 100)
    code, out, err = env.verify(
        presentation, "flights/search", SEARCH, SEARCH_ARGS, "--at", T1, "--store", not_a_db
    )
    assert code == 1 and out == ""
    assert err.startswith("error: store_error: ") and err.count("\n") == 1


# -- inspect and demo -----------------------------------------------------------


def test_inspect_token_and_presentation(env: Env) -> None:
    # R-11.1-1
    token = env.issue(
        "--caveat", '["<=", ".amount", 500]', "--require-approval", '[">", ".amount", 200]'
    )
    out = ok(env.capsys, "inspect", token)
    assert out.startswith("UNVERIFIED")
    assert "may payments/create" in out and "if " in out and "approval by the root signer" in out
    data = json.loads(ok(env.capsys, "inspect", "--json", token))
    assert data["verified"] is False and "invocation" not in data
    (link,) = data["links"]
    assert link["name"] == "agent" and link["depth"] == 1
    assert link["approvals"] == [{"when": '[">",".amount",200]', "actions": [], "approver": None}]

    presentation = env.invoke(token, "agent", "payments/create", PAY, PAY_450)
    out = ok(env.capsys, "inspect", presentation)
    assert f"invocation: payments/create on {PAY} for {API}" in out
    data = json.loads(ok(env.capsys, "inspect", "--json", presentation))
    assert data["invocation"]["args"] == PAY_450 and data["invocation"]["chain_matches"] is True
    assert data["attestations"] == [] and data["approvals"] == []


def test_demo_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo", "--json", "--dir", tmp_path / "demo")
    assert code == 0
    data = json.loads(out)
    assert data["as_expected"] is True
    assert (tmp_path / "demo" / "audit.jsonl").exists()


def test_every_subcommand_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("keygen", "issue", "delegate", "invoke", "verify", "attest", "approve",
                    "revoke", "revoke-local", "revocations", "inspect", "demo"):  # fmt: skip
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        assert "example:" in capsys.readouterr().out


def test_debug_shows_the_traceback_wherever_it_stands(env: Env) -> None:
    garbage = env.file("garbage.txt", "ac2c.!!!")
    for argv in (("--debug", "inspect", garbage), ("inspect", garbage, "--debug")):
        proc = run_subprocess(*argv)
        assert proc.returncode != 0
        assert "Traceback" in proc.stderr and "base64_invalid" in proc.stderr
    proc = run_subprocess("inspect", garbage)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr


def test_a_reader_that_leaves_early_gets_no_traceback_and_no_error_line(tmp_path: Path) -> None:
    # `agentchain inspect --json T | head -3`: the pipe closes while the command still writes
    alice, agent = PrivateKey.from_seed(b"\x01" * 32), PrivateKey.from_seed(b"\x02" * 32)
    token = issue(alice, agent.public_key, capabilities=[("calendar/read", "*")])
    path = tmp_path / "agent.token"
    path.write_text(token.to_text())
    script = (
        "import sys\n"
        "from agentchain.cli import main\n"
        "class Closed:\n"
        "    def write(self, text): raise BrokenPipeError(32, 'Broken pipe')\n"
        "    def flush(self): pass\n"
        "    def isatty(self): return False\n"
        "    def fileno(self): return sys.__stdout__.fileno()\n"
        "sys.stdout = Closed()\n"
        f"sys.exit(main(['inspect', '--json', {str(path)!r}]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.stderr == ""
    assert proc.returncode == 2


# -- the arguments agents send (issue 13) -------------------------------------


@pytest.mark.parametrize(("price", "outcome"), [(12.5, "allow"), (20.5, "deny")])
def test_a_float_argument_under_a_float_caveat(env: Env, price: float, outcome: str) -> None:
    # R-5.2-12 R-6.2-3: invoke --args '{"price": 12.5}' against ["<=", ".price", 20.0]
    token = env.issue("--caveat", '["<=", ".price", 20.0]')
    pay = f"{API}/payments/p1"
    presentation = env.invoke(token, "agent", "payments/create", pay, {"price": price})
    code, out, _ = env.verify(
        presentation, "payments/create", pay, {"price": price}, "--at", T1, "--json"
    )
    data = json.loads(out)
    assert data["outcome"] == outcome and code == (0 if outcome == "allow" else 1)
    if outcome == "deny":
        assert [r["code"] for r in data["reasons"]] == ["caveat_failed"]


def test_a_request_spelling_an_integer_as_a_float_matches(env: Env) -> None:
    # R-5.2-12: the holder signed 12, the resource server parsed 12.0: one value
    token = env.issue("--caveat", '["<=", ".price", 20]')
    pay = f"{API}/payments/p1"
    presentation = env.invoke(token, "agent", "payments/create", pay, {"price": 12})
    code, out, _ = env.verify(
        presentation, "payments/create", pay, {"price": 12.0}, "--at", T1, "--json"
    )
    assert code == 0 and json.loads(out)["outcome"] == "allow"


def test_a_resource_outside_normal_form_is_one_line_error(env: Env) -> None:
    # R-4.2-7: '..;' is '..' to Tomcat and Spring
    token = env.issue()
    code, _, err = run(
        env.capsys,
        "invoke",
        "--token",
        token,
        "--key",
        env.key("agent"),
        "--aud",
        API,
        "--action",
        "payments/create",
        "--resource",
        f"{API}/payments/..;/admin",
        "--at",
        T1,
    )
    assert code != 0 and "resource_invalid" in err and len(err.strip().splitlines()) == 1
