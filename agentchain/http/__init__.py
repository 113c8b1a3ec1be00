"""The HTTP binding (spec/http.md) and the ASGI middleware that enforces it.

The service side::

    app = AgentChainMiddleware(app, verifier=Verifier(policy), rules=[...])

The agent side is :class:`agentchain.client.AgentChainAuth` (an ``httpx.Auth``).
This package needs no third-party module: the middleware is pure ASGI.
"""

from agentchain.http.asgi import SCOPE_KEY, AgentChainMiddleware, Rule
from agentchain.http.binding import (
    BODY_MEMBER,
    SCHEME,
    BindingError,
    BodyBinding,
    Problem,
    authorization_value,
    body_args,
    build_request,
    default_action,
    normal_origin,
    normal_resource,
    presentation_from_headers,
    problem_for_decision,
    problem_for_error,
)

__all__ = [
    "BODY_MEMBER",
    "SCHEME",
    "SCOPE_KEY",
    "AgentChainMiddleware",
    "BindingError",
    "BodyBinding",
    "Problem",
    "Rule",
    "authorization_value",
    "body_args",
    "build_request",
    "default_action",
    "normal_origin",
    "normal_resource",
    "presentation_from_headers",
    "problem_for_decision",
    "problem_for_error",
]
