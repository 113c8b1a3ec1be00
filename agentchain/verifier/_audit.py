"""The audit record (spec 9.3): one JSON object per decision, and a JSON Lines sink for it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence

from agentchain import codec
from agentchain._display import rfc3339
from agentchain.errors import AgentchainError
from agentchain.model import (
    Descriptor,
)
from agentchain.verifier._types import FACTORS, Principal, Request
from agentchain.wire import cbor

AuditSink = Callable[[Mapping[str, object]], None]


def _digests_json(digests: Mapping[str, bytes]) -> dict[str, str]:
    return {alg: value.hex() for alg, value in digests.items()}


def _descriptor_json(d: Descriptor | None) -> dict[str, object] | None:
    if d is None:
        return None
    code, config = d.code, d.config
    return {
        "code": _digests_json(code) if code else {},
        "model": d.model,
        "config": _digests_json(config) if config else {},
    }


def _principal_records(
    principals: Sequence[Principal], attested: Mapping[bytes, Descriptor]
) -> list[dict[str, object]]:
    """spec 9.3: every principal of the chain, root first, with what its link declared and
    what a trusted attestation proved (``attested``, by key thumbprint)."""
    records: list[dict[str, object]] = []
    for p in principals:
        d = p.descriptor
        proved = attested.get(p.key.thumbprint) if attested else None
        records.append(
            {
                "kid": p.key.kid,
                "name": p.anchor_name if d is None else d.name,
                "kind": None if d is None else d.kind,
                "role": "root" if d is None else "delegate",
                "declared": _descriptor_json(d),
                "attested": None if proved is None else _descriptor_json(proved),
            }
        )
    return records


def _error_record(
    exc: AgentchainError, request: Request, request_id: str, audience: str, now: int
) -> dict[str, object]:
    return {
        "version": 1,
        "time": rfc3339(now),
        "request_id": request_id,
        "nonce": None,  # the invocation did not verify: its nonce is the sender's word only
        "chain_id": None,
        "outcome": "invalid",
        "reasons": [exc.code],
        "principals": [],
        "audience": audience,
        "action": request.action,
        "resource": request.resource,
        "args_digest": codec.digest(cbor.encode(dict(request.args))).hex(),  # type: ignore[arg-type]
        "factors": {"signatures": "error", **dict.fromkeys(FACTORS[1:], "not_evaluated")},
        "usage": [],
    }


class JsonLinesAuditLog:
    """An audit sink appending one JSON object per line to a file (spec 9.3)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()

    def __call__(self, record: Mapping[str, object]) -> None:
        # ASCII only: U+2028, U+0085 and the like written raw split a line for readers that
        # split the way str.splitlines() does; escaped, one line is one record
        line = json.dumps(record, sort_keys=True, ensure_ascii=True) + "\n"
        with self._lock, open(self._path, "a", encoding="utf-8") as handle:
            handle.write(line)
