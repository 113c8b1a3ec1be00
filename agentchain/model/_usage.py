"""Usage limits and departures from a chain's history: the behaviour factor's data (spec 9.5).

Pure data and pure arithmetic: which window a time falls in, what a resource's
host is. Nothing here reads arguments (the policy layer does) or keeps state (the
store does).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final, Literal

from agentchain.crypto import PublicKey
from agentchain.errors import DecodeError
from agentchain.model._authority import action_covers, check_action
from agentchain.model._caveats import Selector

#: spec 9.5: a period is 1 second to 366 days
MAX_PERIOD: Final = 366 * 86_400
#: spec 9.5: limits, amounts and counters are integers in 0..2**53-1 (exact in every language,
#: a Lua number included); a counter saturates there
MAX_AMOUNT: Final = 2**53 - 1
#: spec 9.5: a learning window of 1 to 65535 allowed requests
MAX_LEARN: Final = 65_535
#: spec 9.5: a link's history remembers at most this many actions and hosts together
MAX_MARKS: Final = 64

#: what happens when a use would exceed a limit: deny, or pause for an approver
OnExceed = Literal["deny", "approve"]

_AUTHORITY: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(//([^/?#]*))?")


@dataclass(frozen=True, slots=True)
class UsageLimit:
    """spec 9.5: at most ``max`` per fixed window of ``period`` seconds.

    A rate limit (``selector`` None) counts each use as 1; a spend limit counts
    the number its selector picks from the arguments. It applies to the actions
    ``actions`` cover (all when empty). When a use would exceed it, the request is
    denied (``usage_exceeded``) or, with ``on_exceed == "approve"``, paused for
    ``approver`` (the root signer when None).
    """

    period: int
    max: int
    selector: Selector | None = None
    actions: tuple[str, ...] = ()
    on_exceed: OnExceed = "deny"
    approver: PublicKey | None = None

    def __post_init__(self) -> None:
        _uint(self.period, 1, MAX_PERIOD, "a limit's period")
        _uint(self.max, 0, MAX_AMOUNT, "a limit's max")
        for action in self.actions:
            check_action(action, pattern=True)
        if self.on_exceed not in ("deny", "approve"):
            raise DecodeError("schema_invalid", "a limit's on is 'deny' or 'approve'")
        if self.approver is not None and self.on_exceed != "approve":
            raise DecodeError("schema_invalid", "only a limit that pauses names an approver")

    def applies_to(self, action: str) -> bool:
        return not self.actions or any(action_covers(a, action) for a in self.actions)

    def window(self, now: int) -> tuple[int, int]:
        """spec 9.5: the fixed window holding ``now``: ``[k * period, (k + 1) * period)``."""
        start = now - now % self.period
        return start, start + self.period


@dataclass(frozen=True, slots=True)
class Novelty:
    """spec 9.5: after ``learn`` allowed requests under this link, a request whose action
    or resource host none of them used pauses for ``approver`` (the root signer when None)."""

    learn: int
    approver: PublicKey | None = None

    def __post_init__(self) -> None:
        _uint(self.learn, 1, MAX_LEARN, "a novelty rule's learn")


@dataclass(frozen=True, slots=True)
class Usage:
    """What one link asks of the behaviour factor: its limits and its novelty rule."""

    limits: tuple[UsageLimit, ...] = ()
    novelty: Novelty | None = None

    def __post_init__(self) -> None:
        if not self.limits and self.novelty is None:
            raise DecodeError("schema_invalid", "a usage claim states limits or novelty")


def _uint(value: object, low: int, high: int, what: str) -> None:
    if type(value) is not int or not low <= value <= high:
        raise DecodeError("schema_invalid", f"{what} is an integer in {low}..{high}")


def charge_of(value: object) -> int | None:
    """spec 9.5: what a number charges a spend limit: an integer as itself, a float
    (protocol 0.2) rounded up; None for anything else, a negative or a non-finite number."""
    if type(value) is int:
        return value if 0 <= value <= MAX_AMOUNT else None
    if type(value) is float and math.isfinite(value) and 0 <= value <= MAX_AMOUNT:
        return math.ceil(value)
    return None


def resource_host(resource: str) -> str:
    """spec 9.5: a resource's host: ``scheme://authority`` when it has an authority,
    else ``scheme:``; the scheme and the authority lower-cased."""
    match = _AUTHORITY.match(resource)
    if match is None:  # cannot happen for a checked resource (spec 4.2): absolute URIs only
        return resource
    scheme, authority = match.group(1).lower(), match.group(3)
    return f"{scheme}:" if authority is None else f"{scheme}://{authority.lower()}"
