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
from typing import Any

from agentchain import AgentchainError, Decision, Outcome, Request, UsageError

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
        # without a provider of its own, the tracer follows the global one, which is a
        # proxy until an SDK is configured: no span is made (nor paid for) until then
        self._unconfigured: Any = None
        if self._tracer is not None and tracer_provider is None:
            trace = importlib.import_module("opentelemetry.trace")
            self._unconfigured = (trace.get_tracer_provider, trace.ProxyTracerProvider)

    def _tracing_off(self) -> bool:
        if self._unconfigured is None:
            return False
        get_provider, proxy = self._unconfigured
        return isinstance(get_provider(), proxy)

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
        """Log ``result`` and record its span (started at ``started``, ended now).

        The attributes are computed only when someone listens: a log level that is
        enabled, or a span that records (not the API's no-op span).
        """
        invalid = isinstance(result, AgentchainError)
        allowed = isinstance(result, Decision) and result.outcome is Outcome.ALLOW
        level = logging.INFO if allowed else logging.WARNING
        log = self._logger.isEnabledFor(level)
        span = None
        if self._tracer is not None and not self._tracing_off():
            span = self._tracer.start_span("agentchain.verify", start_time=started)
            if not span.is_recording():
                span.end()
                span = None
        if not log and span is None:
            return
        attributes = attributes_of(result, request, surface=surface)
        if log:
            self._logger.log(
                level,
                "agentchain %s %s: %s %s (%s)",
                surface,
                attributes["agentchain.outcome"],
                attributes.get("agentchain.action", "-"),
                attributes.get("agentchain.resource", "-"),
                attributes.get("agentchain.code", "ok"),
                extra={"agentchain": attributes},
            )
        if span is not None:
            span.set_attributes(attributes)
            if invalid:
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
    for name, state in result.factors.items():  # read without making the audit record
        out[f"agentchain.factor.{name}"] = str(state)
    return out
