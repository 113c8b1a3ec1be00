"""time.json: validity windows and clock skew."""

from __future__ import annotations

from agentchain._build import Rng
from agentchain.issuer import delegate, issue
from agentchain.vectors.build import CAL, KEYS, NOW, chain, present
from agentchain.vectors.cases._common import alice
from agentchain.vectors.suite import Suite, allow, deny, step


def add_cases(s: Suite) -> None:
    token, holder = chain(2, ttl=900, now=NOW, label="time")  # nbf NOW, exp NOW + 900, skew 60
    exp = NOW + 900
    rows = [
        ("time-before-nbf-minus-skew", "now = nbf - skew - 1", NOW - 61, "not_yet_valid"),
        ("time-at-nbf-minus-skew", "now = nbf - skew: valid", NOW - 60, ""),
        ("time-at-nbf", "now = nbf", NOW, ""),
        ("time-before-exp", "now = exp - 1", exp - 1, ""),
        ("time-at-exp", "now = exp: inside the skew", exp, ""),
        ("time-at-exp-plus-skew-minus-1", "now = exp + skew - 1: last valid second", exp + 59, ""),
        ("time-at-exp-plus-skew", "now = exp + skew: expired", exp + 60, "expired"),
    ]
    for case_id, desc, now, code in rows:
        # the invocation is signed at `now` so that only the link window is at stake
        p = present(token, holder, now=now, label=case_id)
        s.add(
            case_id,
            desc,
            flags=["time-boundary"],
            spec=["R-8.2-5", "R-4.4-1"],
            steps=[step(p, deny(code) if code else allow(), now=now)],
        )
    p = present(token, holder)
    inv_rows = [
        ("time-invocation-future-at-skew", "iat = now + skew: accepted", NOW - 60, ""),
        ("time-invocation-future", "iat = now + skew + 1", NOW - 61, "invocation_future"),
        ("time-invocation-at-window", "now - iat = window + skew: accepted", NOW + 360, ""),
        ("time-invocation-stale", "now - iat = window + skew + 1", NOW + 361, "invocation_stale"),
    ]
    for case_id, desc, now, code in inv_rows:
        expected = deny(code) if code else allow()
        if now < NOW - 60:
            expected = deny("not_yet_valid")  # the links are not yet valid either: V4 first
        s.add(
            case_id,
            desc,
            flags=["time-boundary"],
            spec=["R-8.2-8"],
            steps=[step(p, expected, now=now)],
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
