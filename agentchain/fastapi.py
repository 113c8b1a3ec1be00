"""FastAPI sugar over :class:`agentchain.http.AgentChainMiddleware` (spec/http.md).

The middleware verifies; this dependency hands the route handler what it decided::

    app.add_middleware(AgentChainMiddleware, verifier=verifier, rules=[...])

    @app.post("/transfers")
    async def transfer(decision: AgentChainDecision) -> ...:
        decision.chain.principals  # who asked, through whom, for what purpose

Needs the ``http`` extra (FastAPI). Imported only by applications that use it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from agentchain import Decision
from agentchain.http.asgi import SCOPE_KEY


def agentchain_decision(request: Request) -> Decision:
    """The Decision the middleware made for this request (always an allow).

    Fails closed with a 500 when the middleware is not installed in front of the
    route: a handler that asks for a decision must never run without one.
    """
    decision = request.scope.get(SCOPE_KEY)
    if not isinstance(decision, Decision):
        raise HTTPException(status_code=500, detail="AgentChainMiddleware is not installed")
    return decision


def purpose_of(decision: Decision) -> str | None:
    """The purpose the last link of the chain states, if any."""
    return decision.chain.links[-1].claims.purpose


#: ``decision: AgentChainDecision`` in a route's parameters: the Decision, by dependency
AgentChainDecision = Annotated[Decision, Depends(agentchain_decision)]
