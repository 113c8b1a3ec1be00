"""An MCP server whose tools are guarded by agentchain (spec/mcp.md).

    python examples/mcp_server.py --trust anchors.jwks --audience mcp://payments
    python examples/mcp_server.py --trust anchors.jwks --audience mcp://payments \\
        --transport http --port 8765

``anchors.jwks`` holds the people (or identity providers) whose chains this server
trusts; ``--store`` keeps used nonces and approvals in SQLite, shared by every
process of the server. Each tool is one decorator: ``@guard.tool(...)``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from mcp.server.mcpserver import MCPServer

from agentchain import Verifier
from agentchain.keys import trust_policy
from agentchain.mcp import McpGuard
from agentchain.store import SQLiteStore


def build(trust: Path, audience: str, store: str | None = None) -> MCPServer:
    verifier = Verifier(
        trust_policy(audience=audience, anchors=trust),
        store=SQLiteStore(store) if store else None,
    )
    server = MCPServer("payments")
    guard = McpGuard(server, verifier)

    @guard.tool(action="payments/transfer")
    def transfer(amount: int, to: str) -> str:
        """Send ``amount`` (in cents) to ``to``."""
        return f"sent {amount} to {to}"

    @guard.tool()
    def balance(account: str) -> int:
        """The balance of ``account``, in cents."""
        return 120_000 if account == "alice" else 0

    @guard.tool()
    def note(text: str) -> str:
        """Keep a note (the chain's caveats decide how long it may be)."""
        return f"noted {len(text)} characters"

    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trust", type=Path, required=True, help="JWKS of the trust anchors")
    parser.add_argument("--audience", required=True, help="this server's name, e.g. mcp://payments")
    parser.add_argument("--store", help="SQLite file for nonces and approvals")
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = build(args.trust, args.audience, args.store)
    if args.transport == "stdio":
        server.run()
        return
    uvicorn.run(server.streamable_http_app(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
