"""A FastAPI service behind agentchain's ASGI middleware (spec/http.md).

    python examples/fastapi_service.py --trust alice.pub.jwk --port 8000

Every request must carry ``Authorization: AgentChain <presentation>`` for this
service's origin (``--origin``, default ``http://127.0.0.1:<port>``). Routes:

* ``POST /transfers`` (action ``payments/transfer``): JSON ``{"amount": int, "to": str}``
* ``GET /accounts/{name}`` (action ``http/get``)
* ``GET /health``: public

``--trust`` takes a keygen ``.pub.jwk`` file or a JWKS file, and may be repeated
(key rotation: trust the old and the new anchor until the old one's links expire).
``--store`` keeps nonces and approvals in SQLite, shared by every worker process.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from agentchain import PublicKey, TrustPolicy, Verifier
from agentchain.fastapi import AgentChainDecision, purpose_of
from agentchain.http import AgentChainMiddleware, Rule
from agentchain.keys import keys_from_jwks, load_public_key
from agentchain.store import SQLiteStore

#: the service's rules; an agent passes the same list to AgentChainAuth(rules=...)
RULES = (
    Rule(path="/transfers", methods=frozenset({"POST"}), action="payments/transfer"),
    Rule(path="/health", public=True),
)


class Transfer(BaseModel):
    amount: int
    to: str


def create_app(verifier: Verifier) -> FastAPI:
    app = FastAPI(title="payments")

    @app.post("/transfers")
    async def transfer(body: Transfer, decision: AgentChainDecision) -> dict[str, Any]:
        # the decision names who asked, through whom, and why
        return {
            "sent": body.amount,
            "to": body.to,
            "by": [p.kid for p in decision.chain.principals],
            "purpose": purpose_of(decision),
            "factors": decision.audit["factors"],
        }

    @app.get("/accounts/{name}")
    async def account(name: str, decision: AgentChainDecision) -> dict[str, Any]:
        return {"account": name, "balance": 120_000, "agent": decision.chain.principals[-1].kid}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(AgentChainMiddleware, verifier=verifier, rules=RULES)
    return app


def trusted(paths: list[Path]) -> tuple[PublicKey, ...]:
    keys: list[PublicKey] = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        keys.extend(keys_from_jwks(text) if "keys" in json.loads(text) else [load_public_key(path)])
    return tuple(keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trust", type=Path, action="append", required=True)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--origin", help="this service's public origin (the audience)")
    parser.add_argument("--store", help="SQLite file for nonces and approvals")
    args = parser.parse_args()
    origin = args.origin or f"http://127.0.0.1:{args.port}"
    verifier = Verifier(
        TrustPolicy(anchors=trusted(args.trust), audience=origin),
        store=SQLiteStore(args.store) if args.store else None,
    )
    uvicorn.run(create_app(verifier), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
