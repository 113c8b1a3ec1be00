"""Caveat evaluation (layer 5): judges a verified model's caveats over a request, never bytes."""

from agentchain.policy._evaluate import (
    Result,
    Truth,
    evaluate,
    select,
)

__all__ = [
    "Result",
    "Truth",
    "evaluate",
    "select",
]
