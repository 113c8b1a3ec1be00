"""The MCP binding (spec/mcp.md): a guard for every tool call, and a client helper.

Server side, one decorator per tool::

    server = MCPServer("payments")
    guard = McpGuard(server, verifier)

    @guard.tool(action="payments/transfer")
    async def transfer(amount: int, to: str) -> str: ...

The guard is server middleware: it verifies every ``tools/call`` on the server,
including tools registered without it (fail closed), before the SDK validates or
runs anything. The presentation travels in the request's ``_meta`` under
``agentchain/presentation``, so it works on every transport (stdio, streamable
HTTP). A refusal is a tool error (``isError``) whose structured content carries
the code and, for needs_approval, the approval request.

Client side::

    result = await call_tool_signed(session, token, key, "transfer", {"amount": 5},
                                    audience="mcp://payments")

Needs the ``mcp`` extra.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeVar

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent

from agentchain import (
    AgentchainError,
    Decision,
    Limits,
    Presentation,
    PrivateKey,
    Request,
    UsageError,
    Verifier,
    codec,
    request_digest,
)
from agentchain.guard import TOOL_ACTION, refusal, sign_tool_call, tool_request
from agentchain.limits import DEFAULT_LIMITS
from agentchain.observe import Observer

#: spec/mcp.md M.2: the ``_meta`` member of a tools/call request carrying the presentation
META_KEY: Final = "agentchain/presentation"

F = TypeVar("F", bound=Callable[..., Any])


class McpGuard:
    """Verifies every tool call on ``server`` (spec/mcp.md M.2 to M.4).

    ``audience`` names this MCP server (default: the verifier's audience).
    ``public`` tools are not verified (none by default). ``verifier`` may be a
    function returning the current Verifier (key rotation).
    """

    def __init__(
        self,
        server: MCPServer[Any],
        verifier: Verifier | Callable[[], Verifier],
        *,
        audience: str | None = None,
        public: Iterable[str] = (),
        observer: Observer | None = None,
    ) -> None:
        self._verifier = verifier if callable(verifier) else (lambda: verifier)
        first = self._verifier()
        if not isinstance(first, Verifier):
            raise UsageError("McpGuard needs a Verifier")
        self.server = server
        self.audience = audience if audience is not None else first.policy.audience
        self.public = frozenset(public)
        self.actions: dict[str, str] = {}
        self.observer = observer if observer is not None else Observer()
        server.middleware.append(self)

    def tool(
        self, name: str | None = None, *, action: str | None = None, **options: Any
    ) -> Callable[[F], F]:
        """``server.tool()``, and the action the chain must grant for it (default tools/call)."""

        def decorate(fn: F) -> F:
            tool_name = name or fn.__name__
            if action is not None:
                self.actions[tool_name] = action
            self.server.tool(name=tool_name, **options)(fn)
            return fn

        return decorate

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        params = ctx.params or {}
        name = params.get("name")
        if not isinstance(name, str) or name in self.public:
            return await call_next(ctx)  # no name: the SDK refuses it; public: not ours
        result = await self.verify(name, params.get("arguments") or {}, params.get("_meta"))
        problem = refusal(result)
        if problem is not None:
            # M.4: a refusal is a tool error the model can read, with the code structured
            text = json.dumps(problem, ensure_ascii=False, sort_keys=True)
            return CallToolResult(
                content=[TextContent(type="text", text=text)],
                structured_content=problem,
                is_error=True,
            )
        return await call_next(ctx)

    async def verify(
        self, name: str, arguments: object, meta: object
    ) -> Decision | AgentchainError:
        """The decision on one tool call, or the error that makes it invalid."""
        started = self.observer.clock()
        request: Request | None = None
        verifier = self._verifier()
        try:
            text = presentation_from_meta(meta)
            if not isinstance(arguments, Mapping):
                raise AgentchainError("schema_invalid", "tool arguments are not an object")
            request = tool_request(
                self.audience,
                name,
                arguments,
                action=self.actions.get(name),
                limits=verifier.policy.limits,
            )
            decision = await verifier.verify_async(text, request)
        except AgentchainError as exc:
            self.observer.report(exc, request, surface="mcp", started=started)
            return exc
        self.observer.report(decision, request, surface="mcp", started=started)
        return decision


def presentation_from_meta(meta: object) -> str:
    """spec/mcp.md M.2: the presentation's text form from a request's ``_meta``."""
    if not isinstance(meta, Mapping) or META_KEY not in meta:
        raise AgentchainError("presentation_missing", f"the call's _meta has no {META_KEY!r}")
    value = meta[META_KEY]
    if not isinstance(value, str) or not value:
        raise AgentchainError("header_invalid", f"_meta {META_KEY!r} is not a text form")
    return value


def signed_meta(
    token: Presentation,
    key: PrivateKey,
    *,
    audience: str,
    name: str,
    arguments: Mapping[str, object],
    action: str | None = None,
    approvals: Iterable[codec.Approval] = (),
    attestations: Iterable[codec.Attestation] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> dict[str, Any]:
    """The ``_meta`` for one signed tool call (a fresh invocation each time)."""
    text = sign_tool_call(
        token,
        key,
        audience=audience,
        name=name,
        arguments=arguments,
        action=action,
        approvals=approvals,
        attestations=attestations,
        limits=limits,
    )
    return {META_KEY: text}


async def call_tool_signed(
    session: Any,
    token: Presentation,
    key: PrivateKey,
    name: str,
    arguments: Mapping[str, object] | None = None,
    *,
    audience: str,
    action: str | None = None,
    approvals: Iterable[codec.Approval] = (),
    attestations: Iterable[codec.Attestation] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> CallToolResult:
    """``session.call_tool`` (a ClientSession or Client) with a signed invocation in ``_meta``."""
    args = dict(arguments or {})
    meta = signed_meta(
        token,
        key,
        audience=audience,
        name=name,
        arguments=args,
        action=action,
        approvals=approvals,
        attestations=attestations,
        limits=limits,
    )
    result: CallToolResult = await session.call_tool(name, args, meta=meta)
    return result


def approval_request_of(result: CallToolResult) -> dict[str, Any] | None:
    """The approval request of a needs_approval tool error, or None."""
    content = result.structured_content
    if not result.is_error or not isinstance(content, dict):
        return None
    if content.get("code") != "approval_required":
        return None
    request = content.get("approval_request")
    return request if isinstance(request, dict) else None


def approval_digest(
    result: CallToolResult,
    token: Presentation,
    *,
    audience: str,
    name: str,
    arguments: Mapping[str, object],
    action: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> bytes | None:
    """The digest to approve when ``result`` is a needs_approval refusal, else None.

    spec/mcp.md M.5: computed here from the call this client made (spec 9.2); a
    server that names another digest is refused with ``schema_invalid``.
    """
    server = approval_request_of(result)
    if server is None:
        return None
    request = tool_request(audience, name, arguments, action=action, limits=limits)
    digest = request_digest(
        token.chain_digest, audience, request.action, request.resource, request.args
    )
    if server.get("digest") != digest.hex():
        raise AgentchainError(
            "schema_invalid", "the server's approval request is not for this call"
        )
    return digest


__all__ = [
    "META_KEY",
    "TOOL_ACTION",
    "McpGuard",
    "approval_digest",
    "approval_request_of",
    "call_tool_signed",
    "presentation_from_meta",
    "signed_meta",
]
