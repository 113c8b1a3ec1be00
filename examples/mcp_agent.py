"""An agent calling the guarded MCP example server, over stdio or streamable HTTP.

    python examples/mcp_agent.py --token sub.token --key sub.jwk \\
        --stdio "python examples/mcp_server.py --trust anchors.jwks --audience mcp://payments" \\
        transfer '{"amount": 300, "to": "bob"}' --action payments/transfer
    python examples/mcp_agent.py --token sub.token --key sub.jwk \\
        --url http://127.0.0.1:8765/mcp balance '{"account": "alice"}'

Each call_tool carries a fresh invocation in its _meta (spec/mcp.md M.2). On
needs_approval the agent prints the approval request; with ``--approver-key`` (a
demo stand-in for asking the person) it approves the digest it computed itself
and calls again. Prints the tool result as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from agentchain import approve, decode_presentation_unverified
from agentchain.keys import load_private_key
from agentchain.mcp import approval_digest, call_tool_signed


@asynccontextmanager
async def session_for(args: argparse.Namespace) -> AsyncIterator[ClientSession]:
    if args.stdio:
        command, *rest = shlex.split(args.stdio)
        params = StdioServerParameters(command=command, args=rest)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session
        return
    async with (
        streamable_http_client(args.url) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def run(args: argparse.Namespace) -> dict[str, Any]:
    token = decode_presentation_unverified(args.token.read_text().strip())
    key = load_private_key(args.key)
    arguments = json.loads(args.arguments)
    call = {"audience": args.audience, "action": args.action}
    async with session_for(args) as session:
        result = await call_tool_signed(session, token, key, args.tool, arguments, **call)
        digest = approval_digest(
            result,
            token,
            name=args.tool,
            arguments=arguments,
            audience=args.audience,
            action=args.action,
        )
        if digest is not None and args.approver_key:
            print(f"approval needed: {result.structured_content}", file=sys.stderr)
            approval = approve(load_private_key(args.approver_key), digest)
            result = await call_tool_signed(
                session, token, key, args.tool, arguments, approvals=[approval], **call
            )
    return {"is_error": result.is_error, "structured": result.structured_content}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--token", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--audience", default="mcp://payments")
    parser.add_argument("--action", help="the tool's declared action, if not tools/call")
    parser.add_argument("--approver-key", type=Path)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stdio", help="the server's command line")
    where.add_argument("--url", help="the server's streamable HTTP endpoint")
    parser.add_argument("tool")
    parser.add_argument("arguments", nargs="?", default="{}")
    args = parser.parse_args()
    out = asyncio.run(run(args))
    print(json.dumps(out, sort_keys=True))
    return 1 if out["is_error"] else 0


if __name__ == "__main__":
    sys.exit(main())
