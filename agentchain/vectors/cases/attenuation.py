"""attenuation.json: authority only narrows (capabilities, depth, caveats)."""

from __future__ import annotations

import hashlib
from typing import Any

from agentchain import codec
from agentchain._build import Rng
from agentchain.issuer import issue
from agentchain.vectors.build import CAL, KEYS, NOW, RESOURCE, chain, present, present_raw
from agentchain.vectors.cases._common import TYP_LINK, alice
from agentchain.vectors.suite import Suite, allow, deny, error, step


def add_cases(s: Suite) -> None:
    # a root of depth 2 (so depth is not what fails) granting calendar/events on /work/*;
    # each case signs one child link by hand, changing one claim
    h1, h2 = KEYS("h1"), KEYS("h2")
    tok = issue(
        alice(),
        h1.public_key,
        capabilities=[("calendar/events", CAL + "/work/*")],
        ttl=3600,
        depth=2,
        now=NOW,
        rng=Rng("att-root"),
    )
    root = tok.links[0].encoded

    def child(**changes: Any) -> bytes:
        base = {
            1: 1,
            2: h1.public_key.thumbprint,
            3: h2.public_key.to_cose_key(),
            4: hashlib.sha256(root).digest(),
            5: b"\x21" * 16,
            6: NOW,
            7: NOW,
            8: NOW + 600,
            9: [["calendar/events/read", CAL + "/work/*"]],
            10: [],
            11: 0,
            13: {1: "agent"},
        }
        for k, v in changes.items():
            base[int(k[1:])] = v
        return present_raw([root, codec.sign_object(h1, TYP_LINK, base)], h2)

    rows: list[tuple[str, str, dict[str, Any], Any, list[str], str]] = [
        (
            "att-narrower-action-ok",
            "a child narrowing the action by a segment",
            {},
            None,
            ["R-4.3-1", "R-4.1-2"],
            "attenuation",
        ),
        (
            "att-same-capability-ok",
            "a child with its parent's exact capability",
            {"k9": [["calendar/events", CAL + "/work/*"]]},
            "",
            ["R-4.3-1"],
            "attenuation",
        ),
        (
            "att-subpattern-ok",
            "x:/a/* covers x:/a/b/* (beside the request's own pattern)",
            {
                "k9": [
                    ["calendar/events", CAL + "/work/*"],
                    ["calendar/events", CAL + "/work/team/*"],
                ]
            },
            "",
            ["R-4.3-1"],
            "attenuation",
        ),
        (
            "att-action-wider",
            "child action calendar, parent calendar/events",
            {"k9": [["calendar", CAL + "/work/*"]]},
            "scope_widened",
            ["R-4.3-2"],
            "attenuation",
        ),
        (
            "att-action-star",
            "child action * under a concrete parent",
            {"k9": [["*", CAL + "/work/*"]]},
            "scope_widened",
            ["R-4.3-1", "R-4.3-2"],
            "attenuation",
        ),
        (
            "att-action-sibling-prefix",
            "child calendar/eventsX under calendar/events",
            {"k9": [["calendar/eventsX", CAL + "/work/*"]]},
            "scope_widened",
            ["R-4.1-2", "R-4.3-2"],
            "capability-match",
        ),
        (
            "att-resource-wider",
            "child resource /alice/* under /alice/work/*",
            {"k9": [["calendar/events", CAL + "/*"]]},
            "scope_widened",
            ["R-4.3-2"],
            "attenuation",
        ),
        (
            "att-resource-star",
            "child resource * under a concrete parent",
            {"k9": [["calendar/events", "*"]]},
            "scope_widened",
            ["R-4.3-1"],
            "attenuation",
        ),
        (
            "att-resource-prefix-not-segment",
            "child /alice/workshop/* under /alice/work/*",
            {"k9": [["calendar/events", CAL + "/workshop/*"]]},
            "scope_widened",
            ["R-4.2-5", "R-4.3-1"],
            "capability-match",
        ),
        (
            "att-resource-parent-itself",
            "child /alice/work under /alice/work/*",
            {"k9": [["calendar/events", CAL + "/work"]]},
            "scope_widened",
            ["R-4.2-5", "R-4.3-1"],
            "capability-match",
        ),
        (
            "att-one-of-two-wider",
            "two capabilities, the second wider",
            {"k9": [["calendar/events/read", CAL + "/work/*"], ["mail/send", "*"]]},
            "scope_widened",
            ["R-4.3-2"],
            "attenuation",
        ),
        (
            "att-time-nbf-before-parent",
            "child nbf one second before its parent's",
            {"k7": NOW - 1},
            "time_widened",
            ["R-4.4-2"],
            "attenuation",
        ),
        (
            "att-time-exp-after-parent",
            "child exp one second after its parent's",
            {"k8": NOW + 3601},
            "time_widened",
            ["R-4.4-2"],
            "attenuation",
        ),
        (
            "att-time-exp-equal-parent-ok",
            "child exp equal to its parent's",
            {"k8": NOW + 3600},
            "",
            ["R-4.4-2"],
            "attenuation",
        ),
        (
            "att-depth-equal",
            "child depth equal to its parent's",
            {"k11": 2},
            "depth_exceeded",
            ["R-4.5-1"],
            "attenuation",
        ),
        (
            "att-depth-greater",
            "child depth above its parent's",
            {"k11": 3},
            "depth_exceeded",
            ["R-4.5-1"],
            "attenuation",
        ),
        (
            "att-window-empty",
            "child window with exp = nbf",
            {"k8": NOW},
            "time_invalid",
            ["R-4.4-1"],
            "attenuation",
        ),
        (
            "att-caveat-scoped-other-action",
            "a scoped caveat for mail does not apply to calendar",
            {"k10": [{1: ["==", ".x", 1], 2: ["mail"]}]},
            "",
            ["R-4.6-2"],
            "caveat-semantics",
        ),
        (
            "att-caveat-scoped-applies",
            "a scoped caveat for calendar/events applies and fails on a missing selector",
            {"k10": [{1: ["==", ".x", 1], 2: ["calendar/events"]}]},
            "caveat_failed",
            ["R-4.6-2", "R-8.2-13"],
            "caveat-semantics",
        ),
    ]
    for case_id, desc, changes, code, rids, flag in rows:
        if code is None or code == "":
            expected = allow()
        elif code == "caveat_failed":
            expected = deny(code)
        else:
            expected = error(code)
        s.add(
            case_id,
            desc,
            flags=[flag],
            spec=[*rids, "R-8.2-3"],
            steps=[step(child(**changes), expected)],
        )
    # capability matching at request time (V7)
    cap_rows = [
        (
            "cap-request-action-prefix",
            "calendar/events covers calendar/events/read/all",
            "calendar/events/read/all",
            RESOURCE,
            "",
        ),
        (
            "cap-request-action-sibling",
            "calendar/events does not cover calendar/eventsX",
            "calendar/eventsX",
            RESOURCE,
            "capability_missing",
        ),
        (
            "cap-request-resource-prefix-itself",
            "/alice/* does not cover /alice",
            "calendar/events/read",
            CAL,
            "capability_missing",
        ),
        (
            "cap-request-resource-trailing-slash",
            "/alice/* does not cover /alice/",
            "calendar/events/read",
            CAL + "/",
            "capability_missing",
        ),
        (
            "cap-request-resource-longer-name",
            "/alice/* does not cover /alicex",
            "calendar/events/read",
            CAL + "x",
            "capability_missing",
        ),
        (
            "cap-request-resource-case",
            "resources compare without case folding",
            "calendar/events/read",
            CAL.upper().replace("HTTPS", "https") + "/x",
            "capability_missing",
        ),
        (
            "cap-request-resource-deep",
            "/alice/* covers /alice/a/b/c",
            "calendar/events/read",
            CAL + "/a/b/c",
            "",
        ),
        (
            "cap-request-other-action",
            "mail/send is not granted at all",
            "mail/send",
            RESOURCE,
            "capability_missing",
        ),
    ]
    tok, hold = chain(2, caps=(("calendar/events", CAL + "/*"),), label="cap")
    for case_id, desc, action, resource, code in cap_rows:
        s.add(
            case_id,
            desc,
            flags=["capability-match"],
            spec=["R-4.1-2", "R-4.2-5", "R-8.2-12"],
            steps=[
                step(
                    present(tok, hold, action=action, resource=resource),
                    deny(code) if code else allow(),
                    action=action,
                    resource=resource,
                )
            ],
        )
    tok2, hold2 = chain(
        2, caps=(("calendar", "*"),), sub_caps=(("calendar/events", CAL + "/*"),), label="cap-sub"
    )
    s.add(
        "cap-every-link-must-grant",
        "the root grants calendar on *, the child only /alice/*: a request for /bob is denied",
        flags=["capability-match"],
        spec=["R-8.2-12"],
        steps=[
            step(
                present(tok2, hold2, resource="https://cal.example/bob/x"),
                deny("capability_missing"),
                resource="https://cal.example/bob/x",
            )
        ],
    )
    tok3 = issue(
        alice(),
        h1.public_key,
        capabilities=[("calendar", CAL + "/*")],
        ttl=86_401,
        now=NOW,
        rng=Rng("ttl"),
    )
    s.add(
        "att-root-longer-than-max-ttl",
        "a root window of max_ttl + 1 seconds",
        flags=["attenuation", "time-boundary"],
        spec=["R-4.4-1", "R-8.2-3"],
        steps=[step(present(tok3, h1), error("time_invalid"))],
    )
    tok4 = issue(
        alice(),
        h1.public_key,
        capabilities=[("calendar", CAL + "/*")],
        ttl=86_400,
        now=NOW,
        rng=Rng("ttl-ok"),
    )
    s.add(
        "att-root-exactly-max-ttl",
        "a root window of exactly max_ttl seconds",
        flags=["attenuation", "time-boundary"],
        spec=["R-4.4-1"],
        steps=[step(present(tok4, h1), allow())],
    )
