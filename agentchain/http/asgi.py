"""Pure ASGI middleware: verify every request before the application sees it.

Works under Starlette, FastAPI and any ASGI application. The request body is
read (up to ``max_body_bytes``) and replayed to the application, because the
invocation binds it (spec/http.md H.4). The verification is
:meth:`Verifier.verify_async`: nothing blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from agentchain import AgentchainError, Decision, Outcome, Request, UsageError, Verifier
from agentchain.errors import Code
from agentchain.http.binding import (
    BindingError,
    BodyBinding,
    Problem,
    build_request,
    normal_origin,
    presentation_from_headers,
    problem_for_decision,
    problem_for_error,
)
from agentchain.observe import Observer

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: the scope key where the middleware leaves the Decision for the application
SCOPE_KEY: Final = "agentchain.decision"
#: factors a rule may require beyond what the chain and the trust policy ask for
_RULE_FACTORS: Final[dict[str, Code]] = {"integrity": "attestation_missing"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """What one group of routes requires (spec/http.md H.3).

    ``path`` is exact, or ends in ``/*`` for everything below it; ``methods``
    empty means every method. ``action`` replaces the default ``http/<method>``;
    ``binding`` is how the body is bound; ``factors`` must be ``pass`` in the
    decision (``integrity``: an attestation of the holder proved its code);
    ``public`` routes carry no presentation and are not verified.
    """

    path: str
    methods: frozenset[str] = frozenset()
    action: str | None = None
    binding: BodyBinding = "json"
    factors: frozenset[str] = frozenset()
    public: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "methods", frozenset(m.upper() for m in self.methods))
        object.__setattr__(self, "factors", frozenset(self.factors))
        if not self.path.startswith("/"):
            raise UsageError(f"a rule's path starts with '/': {self.path!r}")
        if unknown := self.factors - set(_RULE_FACTORS):
            known = sorted(_RULE_FACTORS)
            raise UsageError(f"a rule can require the factors {known}, not {sorted(unknown)}")

    def matches(self, method: str, path: str) -> bool:
        if self.methods and method not in self.methods:
            return False
        if self.path.endswith("/*"):
            return path.startswith(self.path[:-1])
        return path == self.path


_DEFAULT_RULE: Final = Rule(path="/*")


class AgentChainMiddleware:
    """Verify each HTTP request's presentation; answer 401/403/400 or call the app.

    ``verifier``'s trust policy names this service's audience, which is its origin
    unless ``origin`` says otherwise (spec/http.md H.3). ``rules`` are tried in
    order; a request no rule matches gets ``default``. On allow, the application
    finds the :class:`Decision` under ``scope["agentchain.decision"]`` (the FastAPI
    dependency reads it there).

    ``verifier`` may be a function returning the current Verifier, called once
    per request: key rotation swaps in a Verifier with the new trust policy (and
    the same store) without restarting the service.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: Verifier | Callable[[], Verifier],
        origin: str | None = None,
        rules: Sequence[Rule] = (),
        default: Rule = _DEFAULT_RULE,
        max_body_bytes: int = 1 << 20,
        observer: Observer | None = None,
    ) -> None:
        self._verifier = verifier if callable(verifier) else (lambda: verifier)
        first = self._verifier()
        if not isinstance(first, Verifier):
            raise UsageError("AgentChainMiddleware needs a Verifier")
        self.app = app
        self.origin = normal_origin(origin if origin is not None else first.policy.audience)
        self.rules = tuple(rules)
        self.default = default
        self.max_body_bytes = max_body_bytes
        self.observer = observer if observer is not None else Observer()

    def rule_for(self, method: str, path: str) -> Rule:
        for rule in self.rules:
            if rule.matches(method, path):
                return rule
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", "GET")).upper()
        rule = self.rule_for(method, str(scope.get("path", "")))
        if rule.public:
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # a websocket carries no body to bind: not covered, refused
            await send({"type": "websocket.close", "code": 1008})
            return
        started = self.observer.clock()
        request: Request | None = None
        verifier = self._verifier()
        authorization: list[str] = []
        content_type: str | None = None
        for raw_name, value in scope.get("headers", ()):
            name = raw_name.lower()  # ASGI servers send lower case; a test client may not
            if name == b"authorization":
                authorization.append(value.decode("latin-1"))
            elif name == b"content-type" and content_type is None:
                content_type = value.decode("latin-1")
        try:
            text = presentation_from_headers(authorization)
            body, receive = await _read_body(receive, self.max_body_bytes)
            request = build_request(
                method=method,
                origin=self.origin,
                target=_target(scope),
                body=body,
                content_type=content_type,
                action=rule.action,
                binding=rule.binding,
                limits=verifier.policy.limits,
            )
            decision = _required_factors(await verifier.verify_async(text, request), rule.factors)
        except AgentchainError as exc:
            self.observer.report(exc, request, surface="http", started=started)
            await _send_problem(send, problem_for_error(exc))
            return
        except _ClientGone:
            return
        self.observer.report(decision, request, surface="http", started=started)
        problem = problem_for_decision(decision)
        if problem is not None:
            await _send_problem(send, problem)
            return
        await self.app({**scope, SCOPE_KEY: decision}, receive, send)


def _required_factors(decision: Decision, factors: frozenset[str]) -> Decision:
    """A rule's factors must pass; where one does not, an allow becomes that factor's deny."""
    if not factors or decision.outcome is not Outcome.ALLOW:
        return decision
    states = decision.factors  # read without making the audit record
    for factor in sorted(factors):
        if states.get(factor) != "pass":
            code = _RULE_FACTORS[factor]
            raise _FactorMissingError(code, f"this route requires the {factor} factor to pass")
    return decision


class _FactorMissingError(BindingError):
    """A route's required factor did not pass: a 403 with that factor's deny code."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(code, message, status=403)


def _target(scope: Scope) -> str:
    """The request target as sent: raw path (percent-encoded) and query string."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes | bytearray) and raw:
        path = bytes(raw).decode("latin-1").partition("?")[0]
    else:
        path = quote(str(scope.get("path", "/")), safe="/:@!$&'()*+,;=-._~")
    query = scope.get("query_string", b"")
    return path + ("?" + query.decode("latin-1") if query else "")


class _ClientGone(Exception):  # noqa: N818 - control flow, never leaves this module
    """The client disconnected before its body arrived: nobody to answer."""


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, Receive]:
    """The whole body (at most ``limit`` bytes), and a receive that replays it once."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BindingError("limit_exceeded", f"body over {limit} bytes", status=413)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _send_problem(send: Send, problem: Problem) -> None:
    body = problem.body()
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in problem.headers()]
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
