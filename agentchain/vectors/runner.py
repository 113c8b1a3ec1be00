"""The runner: drives any implementation over the vectors through the harness protocol.

``agentchain vectors run --impl "COMMAND"`` starts COMMAND as a subprocess, speaks the
line-delimited JSON protocol of spec/harness.md on its stdin and stdout, compares every
answer with the expected result, and reports a compliance table. A crash, a hang past the
per-case timeout, or an unreadable answer never stops the report: the case (and, after a
crash, every remaining case) is counted as errored.
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from agentchain.codec import PROTOCOL

PROTOCOL_VERSION: Final = 1
DEFAULT_TIMEOUT: Final = 10.0
_EOF: Final = object()


def load_cases(directory: Path) -> list[dict[str, Any]]:
    """Every case of every category file under ``directory`` (``vectors/v1``), in file order."""
    cases: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for case in doc.get("cases", []):
            cases.append({**case, "category": doc["category"]})
    return cases


def for_implementation(case: Mapping[str, Any]) -> dict[str, Any]:
    """The case as sent to an implementation: every input, no expected result."""
    steps = [
        {k: v for k, v in s.items() if k not in ("expected", "acceptable", "intermediates")}
        for s in case["steps"]
    ]
    sent = {k: v for k, v in case.items() if k not in ("steps", "category")}
    sent["steps"] = steps
    return sent


def matches(result: object, step: Mapping[str, Any]) -> bool:
    """spec/harness.md 4: the expected result or one of the acceptable alternatives, exactly."""
    allowed = [step["expected"], *step.get("acceptable", [])]
    return any(_normal(result) == _normal(a) for a in allowed)


def _normal(result: object) -> object:
    if not isinstance(result, dict):
        return result
    if "error" in result:
        return {"error": result["error"]}
    return {"outcome": result.get("outcome"), "reasons": list(result.get("reasons", []))}


@dataclass
class Report:
    implementation: dict[str, Any] = field(default_factory=dict)
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errored: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    details: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.errored

    def totals(self) -> dict[str, int]:
        return {
            "total": len(self.passed) + len(self.failed) + len(self.errored) + len(self.skipped),
            "passed": len(self.passed),
            "failed": len(self.failed),
            "errored": len(self.errored),
            "skipped": len(self.skipped),
        }

    def to_json(self) -> dict[str, object]:
        return {
            "implementation": self.implementation,
            **self.totals(),
            "failed_cases": self.failed,
            "errored_cases": self.errored,
            "skipped_cases": self.skipped,
            "details": self.details,
        }


class _Process:
    """The implementation's subprocess, read by a thread so that every read can time out."""

    def __init__(self, command: str) -> None:
        self.proc = subprocess.Popen(
            shlex.split(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self.lines: queue.Queue[object] = queue.Queue()
        self.dead = False
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        out = self.proc.stdout
        assert out is not None
        for line in out:
            self.lines.put(line)
        self.lines.put(_EOF)

    def send(self, message: Mapping[str, object]) -> None:
        stdin: IO[str] | None = self.proc.stdin
        assert stdin is not None
        stdin.write(json.dumps(message) + "\n")
        stdin.flush()

    def receive(self, timeout: float) -> dict[str, Any]:
        """The next JSON object the implementation writes; raises on EOF, timeout or garbage."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no answer within {timeout}s") from None
        if line is _EOF:
            self.dead = True
            raise EOFError(f"the implementation exited (status {self.proc.poll()})")
        message = json.loads(str(line))
        if not isinstance(message, dict):
            raise ValueError("an answer must be a JSON object")
        return message

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.send({"cmd": "stop"})
                self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _skip_reason(case: Mapping[str, Any], impl: Mapping[str, Any]) -> str | None:
    if case["encoding"] not in impl.get("encodings", []):
        return f"encoding {case['encoding']} not supported"
    missing = [a for a in case["algorithms"] if a not in impl.get("algorithms", [])]
    if missing:
        return f"algorithm(s) {', '.join(missing)} not supported"
    features = [f for f in case["features"] if f not in impl.get("features", [])]
    if features:
        return f"feature(s) {', '.join(features)} not supported"
    return None


def run(
    command: str,
    cases: Sequence[Mapping[str, Any]],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Run ``command`` over ``cases``; never raises for anything the implementation does."""
    report = Report()
    ids = [c["id"] for c in cases]
    try:
        impl = _Process(command)
    except OSError as exc:
        report.errored = ids
        report.details["start"] = f"cannot start the implementation: {exc}"
        return report
    try:
        try:
            impl.send({"cmd": "start", "version": PROTOCOL_VERSION, "protocol": PROTOCOL})
            hello = impl.receive(timeout)
            if not hello.get("ready") or hello.get("version") != PROTOCOL_VERSION:
                raise ValueError(f"not ready for protocol {PROTOCOL_VERSION}: {hello}")
            # spec/harness.md 3.1: a harness that does not declare this agentchain protocol
            # (an 0.1 harness declares none) is never judged against these vectors
            if hello.get("protocol") != PROTOCOL:
                raise ValueError(
                    f"the harness speaks agentchain {hello.get('protocol', '0.1')!r}, "
                    f"the vectors pin {PROTOCOL}"
                )
            report.implementation = dict(hello.get("implementation", {}))
        except (OSError, EOFError, TimeoutError, ValueError) as exc:
            report.errored = ids
            report.details["start"] = str(exc)
            return report
        for index, case in enumerate(cases):
            if progress is not None:
                progress(index, len(cases))
            _run_one(impl, case, index, report, timeout)
        if progress is not None:
            progress(len(cases), len(cases))
    finally:
        impl.close()
    return report


def _run_one(
    impl: _Process, case: Mapping[str, Any], seq: int, report: Report, timeout: float
) -> None:
    cid = case["id"]
    # a case the implementation declared it cannot run is skipped whatever happened before:
    # it would never have been sent, so a crash must not turn it into an error
    reason = _skip_reason(case, report.implementation)
    if reason is not None:
        report.skipped[cid] = reason
        return
    if impl.dead:
        report.errored.append(cid)
        report.details[cid] = "the implementation had exited"
        return
    try:
        impl.send({"cmd": "run", "seq": seq, "case": for_implementation(case)})
        answer = impl.receive(timeout)
    except (OSError, EOFError, TimeoutError, ValueError) as exc:
        report.errored.append(cid)
        report.details[cid] = str(exc)
        if isinstance(exc, TimeoutError):  # a hung implementation answers nothing more
            impl.dead = True
            impl.proc.kill()
        return
    if answer.get("seq") != seq:
        report.errored.append(cid)
        report.details[cid] = f"answer for seq {answer.get('seq')!r}, expected {seq}"
        return
    if answer.get("skipped"):
        report.skipped[cid] = str(answer.get("reason", "skipped by the implementation"))
        return
    if answer.get("errored"):
        report.errored.append(cid)
        report.details[cid] = answer.get("context")
        return
    results = answer.get("results")
    steps = case["steps"]
    if not isinstance(results, list) or len(results) != len(steps):
        report.errored.append(cid)
        report.details[cid] = f"expected {len(steps)} result(s), got {results!r}"
        return
    if all(matches(r, s) for r, s in zip(results, steps, strict=True)):
        report.passed.append(cid)
    else:
        report.failed.append(cid)
        report.details[cid] = {"expected": [s["expected"] for s in steps], "got": results}


# ---------------------------------------------------------------------------
# rendering


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2, sort_keys=True)
    t = report.totals()
    impl = report.implementation
    name = f"{impl.get('name', '?')} {impl.get('version', '')} ({impl.get('language', '?')})"
    rows = [(k, str(v)) for k, v in t.items()]
    if fmt == "markdown":
        lines = [f"### Conformance: {name}", "", "| result | cases |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in rows]
        for label, items in (("Failed", report.failed), ("Errored", report.errored)):
            if items:
                lines += ["", f"**{label}:**", ""] + [f"- `{cid}`" for cid in items]
        if report.skipped:
            lines += ["", "**Skipped:**", ""]
            lines += [f"- `{cid}`: {why}" for cid, why in report.skipped.items()]
        return "\n".join(lines)
    lines = [f"conformance of {name}"]
    lines += [f"  {k:<8} {v:>5}" for k, v in rows]
    for label, items in (("failed", report.failed), ("errored", report.errored)):
        for cid in items:
            lines.append(f"  {label}: {cid}: {_short(report.details.get(cid))}")
    if report.skipped:
        lines.append(f"  skipped: {len(report.skipped)} case(s) (--format json lists them)")
    lines.append("PASS" if report.ok else "FAIL")
    return "\n".join(lines)


def _short(detail: object) -> str:
    text = json.dumps(detail) if not isinstance(detail, str) else detail
    return text if len(text) <= 160 else text[:157] + "..."


def default_vectors() -> Path:
    """vectors/v1 of the source tree this package sits in, else the copy an installed wheel
    carries (agentchain/_vectors), else the working directory's."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "vectors" / "v1", package / "_vectors" / "v1"):
        if candidate.is_dir():
            return candidate
    return Path(os.getcwd()) / "vectors" / "v1"
