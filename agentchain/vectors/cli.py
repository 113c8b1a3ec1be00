"""The ``agentchain vectors`` subcommand: generate, run, harness."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Final

from rich.progress import Progress

from agentchain._display import safe
from agentchain.errors import UsageError
from agentchain.vectors import runner

#: the checkout-only package the wheel leaves out (pyproject.toml)
GENERATOR: Final = "agentchain.vectors.generator"


def register(subparsers: Any) -> None:
    """Add ``vectors generate|run|harness`` to the CLI's subparsers."""
    p = subparsers.add_parser(
        "vectors",
        help="conformance vectors: generate, run, harness",
        description="conformance vectors: generate them, run an implementation over them, "
        "or serve this implementation behind the harness protocol (spec/harness.md)",
    )
    sub = p.add_subparsers(dest="vectors_command", required=True, parser_class=type(p))
    g = sub.add_parser("generate", help="write the vector files (deterministic)")
    g.add_argument("--out", default="vectors", help="directory to write (default: vectors)")
    g.set_defaults(func=_cmd_generate)
    r = sub.add_parser("run", help="run an implementation over the vectors (spec/harness.md)")
    r.add_argument("--impl", required=True, metavar="COMMAND", help="the harness command line")
    r.add_argument(
        "--format",
        choices=("human", "markdown", "json"),
        default="human",
        help="report as a table for people (default), markdown, or JSON",
    )
    r.add_argument("--vectors", metavar="DIR", help="vectors/v1 directory (default: the repo's)")
    r.add_argument("--timeout", type=float, default=runner.DEFAULT_TIMEOUT, help="seconds per case")
    r.add_argument("--only", metavar="PREFIX", help="run only cases whose id starts with PREFIX")
    r.set_defaults(func=_cmd_run)
    h = sub.add_parser("harness", help="this implementation behind the harness protocol")
    h.set_defaults(func=_cmd_harness)


def _cmd_generate(args: argparse.Namespace) -> int:
    # the generator builds the whole suite: imported only when asked for, not on every command
    try:
        from agentchain.vectors.generator.generate import generate  # noqa: PLC0415
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith(GENERATOR):
            raise
        # the wheel leaves the generator out (vectors/README.md, "Packaging")
        raise UsageError(
            "the vector generator is not installed (the wheel ships the vectors, the runner"
            " and the harness): run `agentchain vectors generate` from a checkout of the"
            " repository after `pip install -e .`"
        ) from None

    written = generate(Path(args.out))
    print(f"wrote {len(written)} files under {args.out}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    directory = Path(args.vectors) if args.vectors else runner.default_vectors()
    cases = runner.load_cases(directory)
    if not cases:
        print(f"error: usage: no vector cases under {directory}", file=sys.stderr)
        return 2
    if args.only:
        cases = [c for c in cases if c["id"].startswith(args.only)]
    if sys.stderr.isatty():
        report = _run_with_progress(args.impl, cases, args.timeout)
    else:
        report = runner.run(args.impl, cases, timeout=args.timeout)
    if "start" in report.details:
        # no case ran: one line saying why, not one line per case (JSON keeps its report,
        # which counts every case as errored, for the tools that read it)
        if args.format == "json":
            print(runner.render(report, args.format))
        why = str(report.details["start"]).removeprefix("cannot start the implementation: ")
        print(f"error: usage: cannot start the harness {args.impl!r}: {safe(why)}", file=sys.stderr)
        return 2
    shown = report if args.format == "json" else _for_terminal(report)
    print(runner.render(shown, args.format))
    return 0 if report.ok else 1


def _for_terminal(report: runner.Report) -> runner.Report:
    """The report with every string the implementation or the vector files gave escaped
    (spec 11.2, R-11.2-3): a harness's name or answer must not draw over the table."""

    def esc(value: object) -> object:
        return safe(value, markup=False) if isinstance(value, str) else value

    return runner.Report(
        implementation={k: esc(v) for k, v in report.implementation.items()},
        passed=list(report.passed),
        failed=[safe(cid, markup=False) for cid in report.failed],
        errored=[safe(cid, markup=False) for cid in report.errored],
        skipped={safe(k, markup=False): safe(v, markup=False) for k, v in report.skipped.items()},
        details={safe(k, markup=False): esc(v) for k, v in report.details.items()},
    )


def _run_with_progress(command: str, cases: list[dict[str, Any]], timeout: float) -> runner.Report:
    with Progress(transient=True) as bar:
        task = bar.add_task("vectors", total=len(cases))
        return runner.run(
            command,
            cases,
            timeout=timeout,
            progress=lambda done, _total: bar.update(task, completed=done),
        )


def _cmd_harness(args: argparse.Namespace) -> int:
    from agentchain.vectors.harness import serve  # noqa: PLC0415 - as for generate

    del args
    return serve()
