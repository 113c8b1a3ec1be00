"""wire.json: the bytes of a presentation (text form, container, payload, COSE, claims)."""

from __future__ import annotations

from agentchain.vectors.generator.cases.wire._claims import claim_cases
from agentchain.vectors.generator.cases.wire._payload import cose_cases, payload_cases
from agentchain.vectors.generator.cases.wire._text import container_cases, text_cases
from agentchain.vectors.generator.suite import Suite


def add_cases(s: Suite) -> None:
    text_cases(s)
    container_cases(s)
    payload_cases(s)
    cose_cases(s)
    claim_cases(s)
