"""Observability: one log record per decision, and an optional OpenTelemetry span.

Every integration (the ASGI middleware, the MCP guard, the tool guard) reports
through an :class:`Observer`. Logging is the standard library's (logger
``agentchain.decision``); the span is made only when the ``opentelemetry`` API is
installed (the ``otel`` extra) and not turned off. This module imports nothing
beyond the standard library unless a span is asked for.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from agentchain.errors import AgentchainError, UsageError
from agentchain.verifier import Decision, Outcome, Request

LOGGER = logging.getLogger("agentchain.decision")
# a library's records go where the application sends them, and nowhere by default
logging.getLogger("agentchain").addHandler(logging.NullHandler())


def _otel_tracer(enabled: bool | None, tracer_provider: object | None) -> Any:
    if enabled is False:
        return None
    try:
        trace = importlib.import_module("opentelemetry.trace")
    except ImportError:
        if enabled:
            raise UsageError(
                "tracing needs the otel extra: pip install 'agentchain[otel]'"
            ) from None
        return None
    return trace.get_tracer("agentchain", tracer_provider=tracer_provider)


class Observer:
    """Reports each verification: a log record, and a span where OpenTelemetry is on.

    ``otel``: True requires the OpenTelemetry API, False turns spans off, None (the
    default) makes them when the API is installed; without an SDK configured they
    are the API's no-op spans. ``tracer_provider`` overrides the global one.
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        otel: bool | None = None,
        tracer_provider: object | None = None,
    ) -> None:
        self._logger = logger if logger is not None else LOGGER
        self._tracer = _otel_tracer(otel, tracer_provider)

    @staticmethod
    def clock() -> int:
        """The start time to hand to :meth:`report`, in nanoseconds."""
        return time.time_ns()

    def report(
        self,
        result: Decision | AgentchainError,
        request: Request | None,
        *,
        surface: str,
        started: int,
    ) -> None:
        """Log ``result`` and record its span (started at ``started``, ended now)."""
        attributes = attributes_of(result, request, surface=surface)
        outcome = attributes["agentchain.outcome"]
        level = logging.INFO if outcome == Outcome.ALLOW.value else logging.WARNING
        if self._logger.isEnabledFor(level):
            self._logger.log(
                level,
                "agentchain %s %s: %s %s (%s)",
                surface,
                outcome,
                attributes.get("agentchain.action", "-"),
                attributes.get("agentchain.resource", "-"),
                attributes.get("agentchain.code", "ok"),
                extra={"agentchain": attributes},
            )
        if self._tracer is not None:
            self._span(attributes, started, failed=outcome == "invalid")

    def _span(self, attributes: Mapping[str, Any], started: int, *, failed: bool) -> None:
        span = self._tracer.start_span(
            "agentchain.verify", start_time=started, attributes=dict(attributes)
        )
        if failed:
            status = importlib.import_module("opentelemetry.trace").StatusCode.ERROR
            span.set_status(status, str(attributes.get("agentchain.code")))
        span.end()


def attributes_of(
    result: Decision | AgentchainError, request: Request | None, *, surface: str
) -> dict[str, Any]:
    """The facts of one verification, as flat span attributes (also the log's extra)."""
    out: dict[str, Any] = {"agentchain.surface": surface}
    if request is not None:
        out["agentchain.action"] = request.action
        out["agentchain.resource"] = request.resource
    if isinstance(result, AgentchainError):
        out["agentchain.outcome"] = "invalid"
        out["agentchain.code"] = result.code
        return out
    out["agentchain.outcome"] = result.outcome.value
    if result.reasons:
        out["agentchain.code"] = result.reasons[0].code
    out["agentchain.chain_id"] = result.chain.digest.hex()
    out["agentchain.depth"] = len(result.chain.links)
    out["agentchain.principals"] = [p.kid for p in result.chain.principals]
    factors = result.audit.get("factors", {})
    if isinstance(factors, Mapping):
        for name, state in factors.items():
            out[f"agentchain.factor.{name}"] = str(state)
    return out
