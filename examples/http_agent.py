"""An agent calling the FastAPI example through agentchain's httpx.Auth (spec/http.md).

    AGENTCHAIN_PRIVATE_KEY="$(cat sub.jwk)" python examples/http_agent.py \\
        --service http://127.0.0.1:8000 --token sub.token transfer 300 bob

The agent's HTTP client needs one line: ``httpx.Client(auth=AgentChainAuth(token,
key, rules=RULES))``. When the service answers needs_approval, the agent shows the
approval request; with ``--approver-key`` (a demo stand-in for asking the person)
it approves the digest it computed itself and the client retries once.
Prints the status and the JSON answer of each call.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx
from fastapi_service import RULES

from agentchain import approve
from agentchain.client import (
    AgentChainAuth,
    ApprovalLike,
    ApprovalNeeded,
    ApprovalRequiredError,
)
from agentchain.errors import AgentchainError
from agentchain.keys import load_private_key, private_key_from_env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--service", required=True)
    parser.add_argument("--token", type=Path, required=True)
    parser.add_argument("--key", type=Path, help="default: $AGENTCHAIN_PRIVATE_KEY")
    parser.add_argument("--approver-key", type=Path, help="demo: approve as this person")
    parser.add_argument("command", choices=("transfer", "balance", "get"))
    parser.add_argument("values", nargs="*")
    args = parser.parse_args()
    key = load_private_key(args.key) if args.key else private_key_from_env()
    approver = load_private_key(args.approver_key) if args.approver_key else None

    def on_approval(needed: ApprovalNeeded) -> ApprovalLike | None:
        print(f"approval needed: {needed.summary}", file=sys.stderr)
        return approve(approver, needed.digest) if approver is not None else None

    auth = AgentChainAuth(
        args.token.read_text().strip(),
        key,
        rules=RULES,
        on_approval=on_approval,
    )
    with httpx.Client(base_url=args.service, auth=auth, timeout=10) as client:
        try:
            if args.command == "transfer":
                amount, to = int(args.values[0]), args.values[1]
                response = client.post("/transfers", json={"amount": amount, "to": to})
            elif args.command == "balance":
                response = client.get(f"/accounts/{args.values[0]}")
            else:
                response = client.get(args.values[0])
        except ApprovalRequiredError as exc:
            print(json.dumps({"status": 403, "code": exc.code, "digest": exc.needed.digest.hex()}))
            return 3
        except AgentchainError as exc:
            print(json.dumps({"status": None, "code": exc.code, "detail": exc.message}))
            return 2
    print(json.dumps({"status": response.status_code, "body": response.json()}))
    return 0 if response.is_success else 1


if __name__ == "__main__":
    sys.exit(main())
