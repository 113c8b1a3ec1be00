#!/usr/bin/env python3
"""Fuzz whole verification under a fixed trust policy built from seeds (fuzz/common.py).

An input is a presentation, binary or text form (when it starts with "ac1"). The
request is the one its invocation signed, when it decodes, so the fuzzer can reach
every factor and every outcome. Besides refusing only with AgentchainError: an
allowed request is always one the root link permits inside its window (authority
never grows), and the audit record is JSON.
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

    from agentchain import AgentchainError, MemoryStore, Outcome, Verifier, codec

FALLBACK = common.request_for(common.seed_presentations()[0])


@common.accept_only_agentchain_errors
def test_one_input(data: bytes) -> None:
    form: bytes | str = data.decode("utf-8", "surrogateescape") if data.startswith(b"ac1") else data
    try:
        request = common.request_for(codec.decode_presentation_unverified(form))
    except AgentchainError:
        request = FALLBACK
    verifier = Verifier(common.POLICY, store=MemoryStore(), clock=lambda: common.NOW)
    decision = verifier.verify(form, request)
    json.dumps(decision.audit)
    json.dumps(decision.to_json())
    if decision.outcome is Outcome.ALLOW:
        skew = common.POLICY.clock_skew
        for link in decision.chain.links:
            claims = link.claims
            if not any(c.permits(request.action, request.resource) for c in claims.capabilities):
                raise AssertionError("allowed beyond a link's capabilities: authority grew")
            if not claims.window.nbf - skew <= common.NOW < claims.window.exp + skew:
                raise AssertionError("allowed outside a link's window")
        if common.POLICY.anchor(decision.chain.links[0].claims.issuer) is None:
            raise AssertionError("allowed a chain whose root is not a trust anchor")


def seeds() -> list[bytes]:
    out: list[bytes] = []
    for p in common.seed_presentations():
        out.append(p.to_bytes())
        out.append(p.to_text().encode())
    out.extend(common.as_bytes(item) for item in common.vector_inputs())
    return out


if __name__ == "__main__":
    common.main(test_one_input, seeds)
