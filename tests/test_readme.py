"""README.md's Python example is executed, so it cannot rot."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "README.md lost its Python example"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})  # our own README, executed on purpose


def test_readme_starts_with_the_two_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("```sh")
    assert lines[start + 1].endswith("agentchain demo")
    assert lines[start + 2].endswith("pytest")


TUTORIAL_MARK = "# tutorial: run in an empty directory"


def _cli_tutorial() -> str:
    blocks: list[str] = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    tutorial = [block for block in blocks if block.startswith(TUTORIAL_MARK)]
    assert len(tutorial) == 1, "README.md lost its command-line tutorial"
    return tutorial[0]


def test_readme_cli_tutorial_runs(tmp_path: Path) -> None:
    """The README's shell tutorial, run by bash with ``agentchain`` being this tree's CLI."""
    import os
    import subprocess
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "agentchain"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m agentchain "$@"\n')
    shim.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(README.parent),
    }
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _cli_tutorial()],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # what the tutorial's comments promise: allow, then needs_approval (exit 3), then allow
    # with alice's approval, then a denial (exit 1) after the revocation
    assert "UNVERIFIED" in out and "flight-search (tool)" in out and "no finding" in out
    outcomes = [line for line in out.splitlines() if line in ("allow", "deny", "needs_approval")]
    assert outcomes == ["allow", "needs_approval", "deny"]
    assert "exit 3" in out and "exit 1" in out and '"outcome": "allow"' in out
    assert "  revoked: " in out
    records = (work / "audit.jsonl").read_text().splitlines()
    assert len(records) == 4
    assert oct((work / "alice.jwk").stat().st_mode & 0o777) == "0o600"


def test_docs_cite_only_requirements_the_spec_has() -> None:
    root = README.parent
    spec_ids = set(re.findall(r"\[(R-\d+\.\d+-\d+)\]", (root / "spec/agentchain.md").read_text()))
    for doc in (README, root / "docs/guide.md", root / "docs/threat-model.md"):
        cited = set(re.findall(r"R-\d+\.\d+-\d+", doc.read_text(encoding="utf-8")))
        assert cited <= spec_ids, (doc.name, sorted(cited - spec_ids))
    # the documents the README points to exist
    for name in re.findall(r"`((?:docs|spec)/[\w./-]+)`", README.read_text(encoding="utf-8")):
        assert (root / name).is_file(), name


def test_both_tutorials_grant_the_same_capabilities() -> None:
    # issue 14: one tutorial granted payments, the other payments/create, for the same story
    text = README.read_text(encoding="utf-8")
    python = "".join(re.findall(r"```python\n(.*?)```", text, re.S))
    api_caps = set(re.findall(r'Capability\("([^"]+)", f"\{API\}([^"]+)"\)', python))
    cli_caps = set(re.findall(r'--cap (\S+) "\$API([^"]+)"', _cli_tutorial()))
    assert (
        api_caps
        == cli_caps
        == {
            ("payments/create", "/payments/*"),
            ("flights/search", "/flights/*"),
        }
    )
