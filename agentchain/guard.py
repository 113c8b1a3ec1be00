"""Guard tool calls: a decorator for any sync or async callable (spec/mcp.md M.3, M.6).

The MCP guard (:mod:`agentchain.mcp`) and this generic guard map a tool call to
a verifier request the same way: action ``tools/call`` (or the tool's own),
resource ``<audience>/tools/<name>``, and the call's arguments as the
invocation's arguments. For frameworks other than MCP::

    guard = ToolGuard(verifier)

    @guard.tool()
    def send_email(to: str, subject: str) -> str: ...

    send_email(to="bob@example.com", subject="hi", presentation=text)

and the agent signs each call with :func:`sign_tool_call`. A refused call raises
:class:`DeniedError` (a deny, or :class:`NeedsApprovalError` carrying the
approval request) or the verifier's AgentchainError (an invalid presentation);
the tool body never runs. Standard library only.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Final, ParamSpec, TypeVar, cast
from urllib.parse import quote

from agentchain import (
    AgentchainError,
    Decision,
    DecodeError,
    Limits,
    Outcome,
    Presentation,
    PrivateKey,
    Request,
    UsageError,
    Verifier,
    codec,
    invoke,
)
from agentchain.errors import Code
from agentchain.limits import DEFAULT_LIMITS
from agentchain.observe import Observer
from agentchain.wire import jws

#: spec/mcp.md M.3: the default action of a tool call
TOOL_ACTION: Final = "tools/call"
#: the keyword argument a guarded callable takes the presentation in
PRESENTATION_ARG: Final = "presentation"
#: a guarded callable that declares this parameter receives the Decision in it
DECISION_ARG: Final = "decision"

P = ParamSpec("P")
R = TypeVar("R")


def tool_resource(audience: str, name: str) -> str:
    """spec/mcp.md M.3: ``<audience>/tools/<name>``, the name percent-encoded."""
    return f"{audience.rstrip('/')}/tools/{quote(name, safe='')}"


def tool_args(
    arguments: Mapping[str, object], limits: Limits = DEFAULT_LIMITS
) -> dict[str, object]:
    """spec/mcp.md M.3: a tool call's arguments as protocol data, or the binding's codes.

    The arguments are JSON (MCP) or must be (other frameworks). A float is
    ``json_invalid`` (protocol 0.1 has none); strings and nesting over the limits
    are ``limit_exceeded``; a value JSON cannot carry is ``schema_invalid``.
    """
    try:
        text = json.dumps(dict(arguments), allow_nan=True, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise DecodeError("schema_invalid", f"tool arguments are not JSON data: {exc}") from None
    value = jws.loads(
        text.encode("utf-8"),
        max_bytes=limits.max_object_bytes // 2,
        max_depth=limits.max_cbor_depth - 1,
        max_items=limits.max_cbor_items,
        max_string_bytes=limits.max_string_bytes,
    )
    return cast(dict[str, object], value)


def tool_request(
    audience: str,
    name: str,
    arguments: Mapping[str, object],
    *,
    action: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Request:
    """spec/mcp.md M.3: the verifier request one tool call stands for."""
    return Request(
        action or TOOL_ACTION, tool_resource(audience, name), tool_args(arguments, limits)
    )


def sign_tool_call(
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
) -> str:
    """The agent's side: the presentation's text form for one tool call."""
    request = tool_request(audience, name, arguments, action=action, limits=limits)
    presentation = invoke(
        token,
        key,
        audience=audience,
        action=request.action,
        resource=request.resource,
        args=dict(request.args),
        approvals=approvals,
        attestations=attestations,
        limits=limits,
    )
    return presentation.to_text()


class DeniedError(AgentchainError):
    """A valid presentation that does not authorize this call; ``decision`` says why."""

    def __init__(self, decision: Decision) -> None:
        reason = decision.reasons[0]
        super().__init__(cast("Code", reason.code), reason.message)
        self.decision = decision


class NeedsApprovalError(DeniedError):
    """The call needs a human approval (code ``approval_required``); see ``approval_request``."""

    @property
    def approval_request(self) -> dict[str, object]:
        request = self.decision.approval_request
        return request.to_json() if request is not None else {}


def refusal(result: Decision | AgentchainError) -> dict[str, object] | None:
    """spec/mcp.md M.4: the structured error for a refused call; None for an allow."""
    if isinstance(result, AgentchainError):
        return {"outcome": "invalid", "code": result.code, "detail": result.message}
    if result.outcome is Outcome.ALLOW:
        return None
    reason = result.reasons[0]
    out: dict[str, object] = {
        "outcome": result.outcome.value,
        "code": reason.code,
        "detail": reason.message,
    }
    if result.approval_request is not None:
        out["approval_request"] = result.approval_request.to_json()
    return out


def _raise_unless_allowed(decision: Decision) -> Decision:
    if decision.outcome is Outcome.NEEDS_APPROVAL:
        raise NeedsApprovalError(decision)
    if decision.outcome is Outcome.DENY:
        raise DeniedError(decision)
    return decision


class ToolGuard:
    """Verifies every call of the callables it decorates (spec/mcp.md M.6).

    ``audience`` names the tool host (default: the verifier's audience).
    ``verifier`` may be a function returning the current Verifier (key rotation).
    """

    def __init__(
        self,
        verifier: Verifier | Callable[[], Verifier],
        *,
        audience: str | None = None,
        observer: Observer | None = None,
    ) -> None:
        self._verifier = verifier if callable(verifier) else (lambda: verifier)
        first = self._verifier()
        if not isinstance(first, Verifier):
            raise UsageError("ToolGuard needs a Verifier")
        self.audience = audience if audience is not None else first.policy.audience
        self.observer = observer if observer is not None else Observer()

    def request(self, name: str, arguments: Mapping[str, object], action: str | None) -> Request:
        limits = self._verifier().policy.limits
        return tool_request(self.audience, name, arguments, action=action, limits=limits)

    def check(
        self,
        name: str,
        arguments: Mapping[str, object],
        presentation: object,
        *,
        action: str | None = None,
    ) -> Decision:
        """Verify one call; return the allow Decision or raise."""
        started = self.observer.clock()
        request: Request | None = None
        try:
            text = _presentation_text(presentation)
            request = self.request(name, arguments, action)
            decision = self._verifier().verify(text, request)
        except AgentchainError as exc:
            self.observer.report(exc, request, surface="tool", started=started)
            raise
        self.observer.report(decision, request, surface="tool", started=started)
        return _raise_unless_allowed(decision)

    async def check_async(
        self,
        name: str,
        arguments: Mapping[str, object],
        presentation: object,
        *,
        action: str | None = None,
    ) -> Decision:
        """:meth:`check` for an event loop (the store's calls awaited)."""
        started = self.observer.clock()
        request: Request | None = None
        try:
            text = _presentation_text(presentation)
            request = self.request(name, arguments, action)
            decision = await self._verifier().verify_async(text, request)
        except AgentchainError as exc:
            self.observer.report(exc, request, surface="tool", started=started)
            raise
        self.observer.report(decision, request, surface="tool", started=started)
        return _raise_unless_allowed(decision)

    def tool(
        self, name: str | None = None, *, action: str | None = None
    ) -> Callable[[Callable[P, R]], Callable[..., R]]:
        """Decorate a sync or async callable: each call must carry ``presentation=``."""

        def decorate(fn: Callable[P, R]) -> Callable[..., R]:
            signature = inspect.signature(fn)
            wants_decision = DECISION_ARG in signature.parameters
            tool_name = name or fn.__name__

            def arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, object]:
                bound = signature.bind_partial(*args, **kwargs)
                return {k: v for k, v in bound.arguments.items() if k != DECISION_ARG}

            if inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def guarded_async(
                    *args: Any, presentation: object = None, **kwargs: Any
                ) -> Any:
                    decision = await self.check_async(
                        tool_name, arguments(args, kwargs), presentation, action=action
                    )
                    if wants_decision:
                        kwargs[DECISION_ARG] = decision
                    return await cast(Callable[..., Awaitable[Any]], fn)(*args, **kwargs)

                return cast(Callable[..., R], guarded_async)

            @functools.wraps(fn)
            def guarded(*args: Any, presentation: object = None, **kwargs: Any) -> R:
                decision = self.check(
                    tool_name, arguments(args, kwargs), presentation, action=action
                )
                if wants_decision:
                    kwargs[DECISION_ARG] = decision
                return fn(*args, **kwargs)

            return guarded

        return decorate


def _presentation_text(presentation: object) -> str | Presentation:
    """spec/mcp.md M.2: a call without a presentation is refused, not run."""
    if presentation is None or presentation == "":
        raise AgentchainError("presentation_missing", "the call carries no presentation")
    if isinstance(presentation, str | Presentation):
        return presentation
    raise AgentchainError("header_invalid", "the presentation is not a text form")
