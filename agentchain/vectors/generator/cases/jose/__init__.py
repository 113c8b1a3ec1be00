"""jose.json: the JOSE encoding (spec/jose.md), every case a JSON container."""

from __future__ import annotations

from typing import Any

from agentchain.vectors.generator.cases.jose._compact import (
    compact_cases,
    limit_cases,
    signature_cases,
    tampered_cases,
)
from agentchain.vectors.generator.cases.jose._envelope import envelope_cases, json_cases
from agentchain.vectors.generator.cases.jose._mixing import (
    args_digest_cases,
    claim_cases,
    key_and_container_cases,
    mixing_cases,
)
from agentchain.vectors.generator.cases.jose._semantics import semantic_cases
from agentchain.vectors.generator.suite import Suite, step


def add_cases(s: Suite) -> None:
    def add(
        case_id: str,
        description: str,
        value: Any,
        expected: dict[str, object],
        *,
        flags: list[str],
        spec: list[str],
        **kw: Any,
    ) -> None:
        step_kw = {k: kw.pop(k) for k in ("action", "resource", "args", "now") if k in kw}
        s.add(
            case_id,
            description,
            flags=flags,
            spec=spec,
            steps=[step(value, expected, **step_kw)],
            encoding="jose",
            **kw,
        )

    envelope_cases(add)
    json_cases(add)
    compact_cases(add)
    signature_cases(add)
    tampered_cases(add)
    limit_cases(add)
    mixing_cases(add)
    claim_cases(add)
    args_digest_cases(add)
    key_and_container_cases(add)
    semantic_cases(s, add)
