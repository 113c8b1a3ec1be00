#!/usr/bin/env python3
"""Fuzz the command line: argument and file parsing of ``agentchain`` (spec 11, issue 14).

An input picks a command line from ``TEMPLATES`` (its first byte) and fills it: the rest
splits at the first two ``0xff`` bytes into two argument values (A and B, UTF-8 with
replacement) and the content of a file (F) the command line names. Keys, tokens, a
presentation and an approval request made once at start-up fill the other places, so a
mutation reaches the parsing of ``--args``, ``--caveat``, ``--require-approval``, ``--at``,
``--ttl``, digests, key files, tokens and approval requests. ``main()`` runs in a temporary
directory; fuzzed values never name a path, so nothing is written outside it.

The contract (spec 11.2): ``main`` returns an exit code of the table (0 to 3), or argparse
leaves with ``SystemExit(0)`` (``--help``); any other exception is a finding (a traceback).
Everything printed must be safe for a terminal (R-11.2-3): no character other than the line
feed that Python does not call printable.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the ignore: types-atheris omits the package's re-export of import_hook.instrument_imports
with atheris.instrument_imports(include=["agentchain"]):  # type: ignore[attr-defined]
    import common

    from agentchain.cli import main

API = "https://api.example"
T = "2030-01-01T12:00:00Z"
T_INVOKE = "2030-01-01T12:01:00Z"
WORK = Path(tempfile.mkdtemp(prefix="agentchain-fuzz-cli-"))
FUZZED = WORK / "fuzzed.txt"
atexit.register(shutil.rmtree, WORK, ignore_errors=True)


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _made(argv: list[str], name: str) -> str:
    code, out, err = _run(argv)
    if code not in (0, 3):
        raise RuntimeError(f"setup step {argv[0]} failed: {err}")
    (WORK / name).write_text(out, encoding="utf-8")
    return out


def _setup() -> dict[str, str]:
    """Keys, a token, a presentation and an approval request, made once through the CLI."""
    os.chdir(WORK)
    for name in ("alice", "agent", "sub"):
        _run(["keygen", "--out", f"{name}.jwk", "--name", name])
    caps = ["--cap", "payments", f"{API}/payments/*", "--cap", "flights", f"{API}/flights/*"]
    token = _made(
        ["issue", "--key", "alice.jwk", "--to", "agent.pub.jwk", *caps, "--depth", "1",
         "--caveat", '["<=", ".amount", 500]', "--require-approval", '[">", ".amount", 200]',
         "--at", T],
        "agent.token",
    )  # fmt: skip
    args = '{"amount": 450, "to": "shop"}'
    presentation = _made(
        ["invoke", "--token", "agent.token", "--key", "agent.jwk", "--aud", API,
         "--action", "payments/create", "--resource", f"{API}/payments/new", "--args", args,
         "--at", T_INVOKE],
        "presentation.txt",
    )  # fmt: skip
    result = _made(
        ["verify", "--presentation", "presentation.txt", "--trust", "alice.pub.jwk",
         "--aud", API, "--action", "payments/create", "--resource", f"{API}/payments/new",
         "--args", args, "--at", T_INVOKE, "--json"],
        "verify.json",
    )  # fmt: skip
    request = json.dumps(json.loads(result)["approval_request"])
    return {
        "token": token,
        "presentation": presentation,
        "request": request,
        "private": (WORK / "agent.jwk").read_text(encoding="utf-8"),
        "public": (WORK / "sub.pub.jwk").read_text(encoding="utf-8"),
        "args": args,
    }


MADE = _setup()
PAY = f"{API}/payments/new"
#: command lines; "A" and "B" are the fuzzed values, "F" the fuzzed file
TEMPLATES: list[list[str]] = [
    ["issue", "--key", "alice.jwk", "--to", "agent.pub.jwk", "--cap", "A", "B", "--at", T],
    ["issue", "--key", "alice.jwk", "--to", "agent.pub.jwk", "--cap", "payments", PAY,
     "--caveat=A", "--require-approval=B", "--at", T],
    ["issue", "--key", "alice.jwk", "--to", "agent.pub.jwk", "--cap", "payments", PAY,
     "--ttl=A", "--code-digest=B", "--at", T],
    ["issue", "--key", "F", "--to", "agent.pub.jwk", "--cap", "payments", PAY, "--purpose=A"],
    ["issue", "--key", "alice.jwk", "--to", "F", "--cap", "payments", PAY, "--at=A"],
    ["delegate", "--token", "F", "--key", "agent.jwk", "--to", "sub.pub.jwk", "--cap",
     "payments", PAY, "--caveat=A", "--at", T],
    ["invoke", "--token", "agent.token", "--key", "agent.jwk", "--aud=A", "--action",
     "payments/create", "--resource", PAY, "--args=B", "--at", T_INVOKE],
    ["invoke", "--token", "F", "--key", "agent.jwk", "--aud", API, "--action=A",
     "--resource", PAY, "--args=B", "--at", T_INVOKE],
    ["verify", "--presentation", "F", "--trust", "alice.pub.jwk", "--aud", API, "--action=A",
     "--resource", PAY, "--args=B", "--at", T_INVOKE],
    ["verify", "--presentation", "presentation.txt", "--trust", "alice.pub.jwk", "--aud", API,
     "--action", "payments/create", "--resource=A", "--args=B", "--at", T_INVOKE,
     "--audit-log", "audit.jsonl"],
    ["inspect", "F", "--at=A"],
    ["inspect", "F", "--json", "--trust", "alice.pub.jwk"],
    ["approve", "--key", "alice.jwk", "--request", "F", "--at", T_INVOKE, "--ttl=A"],
    ["attest", "--key", "alice.jwk", "--subject", "F", "--code-digest=A", "--model=B"],
    ["revoke", "--store", "store.sqlite", "--token", "F", "--link=A"],
]  # fmt: skip


def _argv(template: list[str], a: str, b: str) -> list[str]:
    out = []
    for item in template:
        if item in ("A", "B"):  # a positional value: never let it pass for an option
            value = a if item == "A" else b
            out.append(value if not value.startswith("-") else f" {value}")
        elif item == "F":
            out.append(str(FUZZED))
        else:
            out.append(item.replace("=A", f"={a}").replace("=B", f"={b}"))
    return out


def _terminal_safe(text: str) -> bool:
    return all(char == "\n" or char.isprintable() for char in text)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    template = TEMPLATES[data[0] % len(TEMPLATES)]
    a, b, content = [*data[1:].split(b"\xff", 2), b"", b""][:3]
    text_a = a.decode("utf-8", "replace").replace("\x00", "")
    text_b = b.decode("utf-8", "replace").replace("\x00", "")
    FUZZED.write_bytes(content)
    FUZZED.chmod(0o600)
    (WORK / "audit.jsonl").unlink(missing_ok=True)
    try:
        code, out, err = _run(_argv(template, text_a, text_b))
    except SystemExit as done:  # argparse's --help
        if done.code not in (0, None):
            raise AssertionError(f"SystemExit({done.code!r})") from None
        return
    if code not in (0, 1, 2, 3):
        raise AssertionError(f"exit code {code!r} is not in the table of spec 11.2")
    if not _terminal_safe(out + err):
        raise AssertionError(f"unsafe output: {(out + err)[:400]!r}")


def seeds() -> list[bytes]:
    def seed(index: int, a: str = "", b: str = "", content: str = "") -> bytes:
        return bytes([index]) + a.encode() + b"\xff" + b.encode() + b"\xff" + content.encode()

    hostile = "x\n\x1b[3A\u202e\u2028\x85allow"
    return [
        seed(0, "payments/create", PAY),
        seed(0, hostile, "https://x/y"),
        seed(1, '["<=", ".amount", 100]', '[">", ".amount", 10]'),
        seed(1, '["all", ".items", ["like", ".", "a*"]]', "null"),
        seed(1, "[" * 80 + "]" * 80, "9" * 60),
        seed(2, "30m", "sha256:" + "ab" * 32),
        seed(2, "999999999999999999999999999999d", "sha256:"),
        seed(3, hostile, content=MADE["private"]),
        seed(3, "p", content=MADE["public"]),
        seed(4, T, content=MADE["public"]),
        seed(5, '["==", ".to", "shop"]', content=MADE["token"]),
        seed(6, API, MADE["args"]),
        seed(6, API, '{"amount": 1e400, "x": [1, {"y": null}]}'),
        seed(7, "payments/create", MADE["args"], MADE["token"]),
        seed(8, "payments/create", MADE["args"], MADE["presentation"]),
        seed(9, PAY, MADE["args"]),
        seed(10, T_INVOKE, content=MADE["presentation"]),
        seed(11, content=MADE["token"]),
        seed(12, "5m", content=MADE["request"]),
        seed(13, "sha256:" + "00" * 32, "m-1", MADE["public"]),
        seed(14, "0", content=MADE["token"]),
    ]


if __name__ == "__main__":
    common.main(test_one_input, seeds)
