"""Caveat evaluation (layer 5): judges a verified model's caveats over a request, never bytes."""

from agentchain.policy._evaluate import (
    LIKE_CHARS_PER_STEP,
    Budget,
    Evaluation,
    Result,
    Truth,
    evaluate,
    select,
)

__all__ = [
    "LIKE_CHARS_PER_STEP",
    "Budget",
    "Evaluation",
    "Result",
    "Truth",
    "evaluate",
    "select",
]
