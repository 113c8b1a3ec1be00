"""The conformance-vector generator: ``agentchain vectors generate [--out DIR]``.

Deterministic: fixed seeds, a fixed clock and counter-based randomness, so two runs write
byte-identical files. Each case's expected result is stated by hand where the case is
built (:mod:`agentchain.vectors.generator.cases`); the verifier is never asked what to expect.
"""

from __future__ import annotations

from pathlib import Path

from agentchain.vectors.generator.cases import CATEGORIES
from agentchain.vectors.generator.suite import Suite


def build_suite() -> Suite:
    suite = Suite()
    for category, make in CATEGORIES:
        suite.category = category
        make(suite)
    return suite


def generate(out: Path) -> list[Path]:
    """Write every vector file under ``out``; returns the paths written."""
    written = []
    for rel, data in build_suite().files().items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written
