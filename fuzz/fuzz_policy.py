#!/usr/bin/env python3
"""Fuzz the caveat language: parse and evaluate (spec 6).

An input is JSON (the harness' own parsing; what is not JSON is skipped): either
``[statement, args]`` with a map of arguments, or a statement alone, evaluated over
``{}``. JSON lets in what CBOR cannot carry (floats, huge integers, NaN), so parse
must refuse those with a typed error. Besides refusing only with AgentchainError:
evaluation is total (a Result, never an exception), a parsed statement re-parses to
itself, and rendering it for people works.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the ignore: types-atheris omits the package's re-export of import_hook.instrument_imports
with atheris.instrument_imports(include=["agentchain"]):  # type: ignore[attr-defined]
    import common

    from agentchain import model, policy
    from agentchain.limits import Limits

LIMITS = Limits(max_policy_steps=2_000)


@common.accept_only_agentchain_errors
def test_one_input(data: bytes) -> None:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return
    args: object = {}
    if isinstance(value, list) and len(value) == 2 and isinstance(value[1], dict):
        value, args = value
    statement = model.parse_statement(value, limits=LIMITS)
    if model.parse_statement(statement.raw, limits=LIMITS) != statement:
        raise AssertionError("a parsed statement does not re-parse to itself")
    result = policy.evaluate([statement], args, limits=LIMITS)
    if result.outcome not in ("true", "false", "error"):
        raise AssertionError(f"evaluate returned {result.outcome!r}")
    model.statement_text(statement)


STATEMENTS = [
    ["==", ".to", "a@example.com"],
    ["!=", ".n", None],
    ["<=", ".amount", 500],
    [">", ".amount", -3],
    ["like", ".to", "*@example.\\*com"],
    ["in", ".n", [1, "1", True, [1], {"k": 1}]],
    ["and", [["<", ".a[0]", 3], ["not", ["==", '.["k\\"q"]', 1]]]],
    ["or", []],
    ["all", ".items", ["any", ".tags", ["like", ".", "x*"]]],
    ["any", ".items", [">=", ".price", 10]],
]
ARGS = [
    {},
    {"to": "a@example.com", "n": 1, "amount": 20, "a": [1, 2], 'k"q': 1},
    {"items": [{"tags": ["xa", "b"], "price": 12}, {"tags": [], "price": 3}]},
]


def seeds() -> list[bytes]:
    return [json.dumps([s, a]).encode() for s in STATEMENTS for a in ARGS]


if __name__ == "__main__":
    common.main(test_one_input, seeds)
