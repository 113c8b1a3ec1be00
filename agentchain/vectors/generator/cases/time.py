"""time.json: validity windows and clock skew."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentchain._build import Rng
from agentchain.issuer import delegate, issue
from agentchain.vectors.generator.build import CAL, KEYS, NOW, chain, present
from agentchain.vectors.generator.cases._common import alice
from agentchain.vectors.generator.suite import Suite, allow, deny, step


@dataclass(frozen=True)
class TimeRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    now: Any
    code: str


@dataclass(frozen=True)
class TimeInvRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    now: Any
    code: str


def add_cases(s: Suite) -> None:
    token, holder = chain(2, ttl=900, now=NOW, label="time")  # nbf NOW, exp NOW + 900, skew 60
    exp = NOW + 900
    rows = [
        TimeRow(
            case_id="time-before-nbf-minus-skew",
            description="now = nbf - skew - 1",
            now=NOW - 61,
            code="not_yet_valid",
        ),
        TimeRow(
            case_id="time-at-nbf-minus-skew",
            description="now = nbf - skew: valid",
            now=NOW - 60,
            code="",
        ),
        TimeRow(case_id="time-at-nbf", description="now = nbf", now=NOW, code=""),
        TimeRow(case_id="time-before-exp", description="now = exp - 1", now=exp - 1, code=""),
        TimeRow(case_id="time-at-exp", description="now = exp: inside the skew", now=exp, code=""),
        TimeRow(
            case_id="time-at-exp-plus-skew-minus-1",
            description="now = exp + skew - 1: last valid second",
            now=exp + 59,
            code="",
        ),
        TimeRow(
            case_id="time-at-exp-plus-skew",
            description="now = exp + skew: expired",
            now=exp + 60,
            code="expired",
        ),
    ]
    for row in rows:
        # the invocation is signed at `now` so that only the link window is at stake
        p = present(token, holder, now=row.now, label=row.case_id)
        s.add(
            row.case_id,
            row.description,
            flags=["time-boundary"],
            spec=["R-8.2-5", "R-4.4-1"],
            steps=[step(p, deny(row.code) if row.code else allow(), now=row.now)],
        )
    p = present(token, holder)
    inv_rows = [
        TimeInvRow(
            case_id="time-invocation-future-at-skew",
            description="iat = now + skew: accepted",
            now=NOW - 60,
            code="",
        ),
        TimeInvRow(
            case_id="time-invocation-future",
            description="iat = now + skew + 1",
            now=NOW - 61,
            code="invocation_future",
        ),
        TimeInvRow(
            case_id="time-invocation-at-window",
            description="now - iat = window + skew: accepted",
            now=NOW + 360,
            code="",
        ),
        TimeInvRow(
            case_id="time-invocation-stale",
            description="now - iat = window + skew + 1",
            now=NOW + 361,
            code="invocation_stale",
        ),
    ]
    for inv_row in inv_rows:
        expected = deny(inv_row.code) if inv_row.code else allow()
        if inv_row.now < NOW - 60:
            expected = deny("not_yet_valid")  # the links are not yet valid either: V4 first
        s.add(
            inv_row.case_id,
            inv_row.description,
            flags=["time-boundary"],
            spec=["R-8.2-8"],
            steps=[step(p, expected, now=inv_row.now)],
        )
    # invocation timing with links valid: use a chain that starts earlier
    early, eh = chain(2, ttl=3600, now=NOW - 1000, label="time-early")
    p_future = present(early, eh, now=NOW + 61)
    s.add(
        "time-invocation-future-links-valid",
        "iat = now + skew + 1 with valid links",
        flags=["time-boundary"],
        spec=["R-8.2-8"],
        steps=[step(p_future, deny("invocation_future"))],
    )
    p_edge = present(early, eh, now=NOW + 60, label="edge")
    s.add(
        "time-invocation-future-edge-links-valid",
        "iat = now + skew with valid links",
        flags=["time-boundary"],
        spec=["R-8.2-8"],
        steps=[step(p_edge, allow())],
    )
    s.add(
        "time-second-link-expired",
        "root valid, the child expired: still expired",
        flags=["time-boundary"],
        spec=["R-8.2-5"],
        steps=[step(_expired_child(), deny("expired"), now=NOW + 1000)],
    )


def _expired_child() -> bytes:
    rng = Rng("expired-child")
    tok = issue(
        alice(),
        KEYS("h1").public_key,
        capabilities=[("calendar", CAL + "/*")],
        ttl=3600,
        depth=1,
        now=NOW,
        rng=rng,
    )
    tok = delegate(
        tok,
        KEYS("h1"),
        KEYS("h2").public_key,
        capabilities=[("calendar", CAL + "/*")],
        ttl=900,
        now=NOW,
        rng=rng,
    )
    return present(tok, KEYS("h2"), now=NOW + 1000).to_bytes()
