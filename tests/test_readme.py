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
