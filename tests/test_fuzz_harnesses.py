"""The fuzz harnesses stay runnable: seeds build, replay cleanly, and vectors join them.

The fuzzing itself runs in CI through ``fuzz/run`` (fuzz/README.md); these tests keep
the plumbing from rotting between runs and check the harness contract.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from agentchain import DecodeError
from tests.helpers import standard_presentation

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"


def _common() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_common", FUZZ / "common.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["decode", "verify", "policy", "cli"])
def test_seeds_build_and_replay_cleanly(name: str, tmp_path: Path) -> None:
    harness = str(FUZZ / f"fuzz_{name}.py")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, harness, "--seeds", str(tmp_path)], check=True, env=env)
    assert len(list(tmp_path.iterdir())) >= 10
    done = subprocess.run(
        [sys.executable, harness, "--replay", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "replayed" in done.stderr


def test_presentations_in_vector_files_join_the_corpus(tmp_path: Path) -> None:
    p = standard_presentation()
    case = {
        "cases": [{"id": "x", "presentation": p.to_text(), "nested": [{"hex": p.to_bytes().hex()}]}]
    }
    (tmp_path / "v1").mkdir()
    (tmp_path / "v1" / "a.json").write_text(json.dumps(case), encoding="utf-8")
    (tmp_path / "v1" / "broken.json").write_text("{not json", encoding="utf-8")
    found = _common().vector_inputs(tmp_path)
    assert p.to_text() in found
    assert p.to_bytes() in found


def test_the_harness_contract_lets_only_agentchain_errors_through() -> None:
    common = _common()
    harness: Callable[[Callable[[bytes], None]], Callable[[bytes], None]]
    harness = common.accept_only_agentchain_errors

    @harness
    def refuses(data: bytes) -> None:
        raise DecodeError("cbor_malformed", "typed: fine")

    @harness
    def crashes(data: bytes) -> None:
        raise KeyError("untyped: a finding")

    refuses(b"")
    with pytest.raises(KeyError):
        crashes(b"")


def test_ci_runs_every_harness() -> None:
    assert os.access(FUZZ / "run", os.X_OK)
    assert "fuzz/run --seconds" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("harness", sorted(p.name for p in FUZZ.glob("fuzz_*.py")))
def test_agentchain_is_imported_only_under_instrumentation(harness: str) -> None:
    # atheris instruments only what is first imported inside instrument_imports(): one
    # `from agentchain import x` above the block imports the whole package uninstrumented,
    # and libFuzzer then runs blind (exec/s soars, the corpus stays empty, nothing is found)
    import ast

    tree = ast.parse((FUZZ / harness).read_text())
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            assert not any(
                n and (n == "agentchain" or n.startswith("agentchain.")) for n in names
            ), f"{harness}: line {node.lineno} imports agentchain outside instrument_imports()"
    assert any(
        isinstance(node, ast.With) and "instrument_imports" in ast.unparse(node.items[0])
        for node in tree.body
    ), f"{harness}: no `with atheris.instrument_imports(...)` block"
