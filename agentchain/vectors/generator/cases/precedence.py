"""precedence.json: which code wins when several defects meet."""

from __future__ import annotations

from agentchain._build import container, sign1_parts, with_signature
from agentchain.vectors.generator.build import KEYS, NOW, chain, encoded_links, present, present_raw
from agentchain.vectors.generator.suite import Suite, deny, error, step


def add_cases(s: Suite) -> None:
    token, holder = chain(2, label="prec")
    links = encoded_links(token)
    bad_sig = with_signature(links[0], sign1_parts(links[0])[2][:32] + bytes(32))
    malformed_second = links[1][:-1]
    s.add(
        "prec-decode-before-signature",
        "link 0's signature is bad and link 1 is truncated: the decode error wins",
        flags=["precedence"],
        spec=["R-8.2-2"],
        steps=[step(container([bad_sig, malformed_second], b"\x01"), error("cbor_malformed"))],
    )
    s.add(
        "prec-first-link-first",
        "link 0 and link 1 both have bad signatures: link 0's is reported (same code)",
        flags=["precedence"],
        spec=["R-8.2-3"],
        steps=[
            step(
                present_raw([bad_sig, with_signature(links[1], bytes(64))], holder),
                error("signature_invalid"),
            )
        ],
    )
    s.add(
        "prec-forgery-over-expiry",
        "expired and invoked by the wrong key: the error wins",
        flags=["precedence"],
        spec=["R-8.2-1"],
        steps=[
            step(
                present_raw(links, KEYS("mallory"), iat=NOW + 10_000),
                error("signature_invalid"),
                now=NOW + 10_000,
            )
        ],
    )
    s.add(
        "prec-expired-over-audience",
        "expired and for another audience: expired (V4 before V6)",
        flags=["precedence"],
        spec=["R-8.2-14"],
        steps=[
            step(
                present(token, holder, audience="https://x.example", now=NOW + 10_000, label="aud"),
                deny("expired"),
                now=NOW + 10_000,
            )
        ],
    )
    s.add(
        "prec-audience-over-capability",
        "another audience and an action not granted: audience_mismatch (V6 before V7)",
        flags=["precedence"],
        spec=["R-8.2-14"],
        steps=[
            step(
                present(token, holder, audience="https://x.example", action="mail/send"),
                deny("audience_mismatch"),
                action="mail/send",
            )
        ],
    )
    cav, ch = chain(1, caveats=[[["==", ".a", 1]]], label="prec-cav")
    s.add(
        "prec-capability-over-caveat",
        "an action not granted and a failing caveat: capability_missing (V7 before V8)",
        flags=["precedence"],
        spec=["R-8.2-14"],
        steps=[
            step(
                present(cav, ch, action="mail/send", args={"a": 2}),
                deny("capability_missing"),
                action="mail/send",
                args={"a": 2},
            )
        ],
    )
    s.add(
        "prec-stale-over-mismatch",
        "stale and for another request: invocation_stale (V6.2 before V6.3)",
        flags=["precedence"],
        spec=["R-8.2-14", "R-8.2-8"],
        steps=[
            step(
                present(chain(1, ttl=3600, label="prec-stale")[0], KEYS("h1")),
                deny("invocation_stale"),
                action="calendar/events/write",
                now=NOW + 400,
            )
        ],
    )
