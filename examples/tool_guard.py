"""A tool function guarded by agentchain, outside MCP (spec/mcp.md M.6).

    python examples/tool_guard.py

A person (alice) lets an assistant send email to her own domain only; the
assistant delegates to a sub-agent that may only write to bob. The tool is a plain
function with one decorator; each call carries a fresh presentation. Prints one
line per call: what was asked, and what the guard answered.
"""

from __future__ import annotations

import asyncio

from agentchain import Caveat, PrivateKey, TrustPolicy, Verifier, delegate, issue
from agentchain.errors import AgentchainError
from agentchain.guard import NeedsApprovalError, ToolGuard, sign_tool_call
from agentchain.model import parse_statement as parse

AUDIENCE = "urn:example:mailer"

alice, assistant, sub = (PrivateKey.generate() for _ in range(3))
guard = ToolGuard(Verifier(TrustPolicy(anchors=(alice.public_key,), audience=AUDIENCE)))


@guard.tool()
def send_email(to: str, subject: str) -> str:
    return f"sent {subject!r} to {to}"


@guard.tool(action="mail/delete")
async def delete_mailbox(owner: str) -> str:
    return f"deleted the mailbox of {owner}"


def main() -> None:
    caps = [("tools/call", f"{AUDIENCE}/tools/*"), ("mail/delete", f"{AUDIENCE}/tools/*")]
    token = issue(
        alice,
        assistant.public_key,
        capabilities=caps,
        depth=1,
        caveats=[Caveat(parse(["like", ".to", "*@example.com"]), ("tools/call",))],
    )
    token = delegate(
        token,
        assistant,
        sub.public_key,
        capabilities=[("tools/call", f"{AUDIENCE}/tools/send_email")],
        caveats=[parse(["==", ".to", "bob@example.com"])],
    )

    def call(to: str) -> None:
        args = {"to": to, "subject": "hello"}
        text = sign_tool_call(token, sub, audience=AUDIENCE, name="send_email", arguments=args)
        try:
            print(f"send_email to {to}: {send_email(**args, presentation=text)}")
        except NeedsApprovalError as exc:
            print(f"send_email to {to}: needs approval: {exc.approval_request['summary']}")
        except AgentchainError as exc:
            print(f"send_email to {to}: refused ({exc.code})")

    call("bob@example.com")
    call("eve@example.com")
    call("bob@example.com" + "x")

    text = sign_tool_call(
        token,
        sub,
        audience=AUDIENCE,
        name="delete_mailbox",
        arguments={"owner": "alice"},
        action="mail/delete",
    )
    try:
        asyncio.run(delete_mailbox(owner="alice", presentation=text))
    except AgentchainError as exc:
        print(f"delete_mailbox alice: refused ({exc.code})")


if __name__ == "__main__":
    main()
