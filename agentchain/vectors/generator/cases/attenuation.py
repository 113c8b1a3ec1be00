"""attenuation.json: authority only narrows (capabilities, depth, caveats)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from agentchain import codec
from agentchain._build import Rng
from agentchain.issuer import issue
from agentchain.vectors.generator.build import (
    CAL,
    KEYS,
    NOW,
    RESOURCE,
    chain,
    encoded_links,
    present,
    present_raw,
)
from agentchain.vectors.generator.cases._common import TYP_LINK, alice
from agentchain.vectors.generator.suite import Suite, allow, deny, error, step


@dataclass(frozen=True)
class AttenuationRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    changes: dict[str, Any]
    code: Any
    spec: list[str]
    flag: str


@dataclass(frozen=True)
class AttenuationCapRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    action: str
    resource: Any
    code: str


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
            1: codec.VERSION,
            3: h2.public_key.to_cose_key(),
            4: hashlib.sha256(root).digest(),
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

    rows: list[AttenuationRow] = [
        AttenuationRow(
            case_id="att-narrower-action-ok",
            description="a child narrowing the action by a segment",
            changes={},
            code=None,
            spec=["R-4.3-1", "R-4.1-2"],
            flag="attenuation",
        ),
        AttenuationRow(
            case_id="att-same-capability-ok",
            description="a child with its parent's exact capability",
            changes={"k9": [["calendar/events", CAL + "/work/*"]]},
            code="",
            spec=["R-4.3-1"],
            flag="attenuation",
        ),
        AttenuationRow(
            case_id="att-subpattern-ok",
            description="x:/a/* covers x:/a/b/* (beside the request's own pattern)",
            changes={
                "k9": [
                    ["calendar/events", CAL + "/work/*"],
                    ["calendar/events", CAL + "/work/team/*"],
                ]
            },
            code="",
            spec=["R-4.3-1"],
            flag="attenuation",
        ),
        AttenuationRow(
            case_id="att-action-wider",
            description="child action calendar, parent calendar/events",
            changes={"k9": [["calendar", CAL + "/work/*"]]},
            code="scope_widened",
            spec=["R-4.3-2"],
            flag="attenuation",
        ),
        AttenuationRow(
            case_id="att-action-star",
            description="child action * under a concrete parent",
            changes={"k9": [["*", CAL + "/work/*"]]},
            code="scope_widened",
            spec=["R-4.3-1", "R-4.3-2"],
            flag="attenuation",
        ),
        AttenuationRow(
            case_id="att-action-sibling-prefix",
            description="child calendar/eventsX under calendar/events",
            changes={"k9": [["calendar/eventsX", CAL + "/work/*"]]},
            code="scope_widened",
            spec=["R-4.1-2", "R-4.3-2"],
            flag="capability-match",
        ),
        AttenuationRow(
            case_id="att-resource-wider",
            description="child resource /alice/* under /alice/work/*",
            changes={"k9": [["calendar/events", CAL + "/*"]]},
            code="scope_widened",
            spec=["R-4.3-2"],
            flag="attenuation",
        ),
        AttenuationRow(
            case_id="att-resource-star",
            description="child resource * under a concrete parent",
            changes={"k9": [["calendar/events", "*"]]},
            code="scope_widened",
            spec=["R-4.3-1"],
            flag="attenuation",
        ),
        AttenuationRow(
            case_id="att-resource-prefix-not-segment",
            description="child /alice/workshop/* under /alice/work/*",
            changes={"k9": [["calendar/events", CAL + "/workshop/*"]]},
            code="scope_widened",
            spec=["R-4.2-5", "R-4.3-1"],
            flag="capability-match",
        ),
        AttenuationRow(
            case_id="att-resource-parent-itself",
            description="child /alice/work under /alice/work/*",
            changes={"k9": [["calendar/events", CAL + "/work"]]},
            code="scope_widened",
            spec=["R-4.2-5", "R-4.3-1"],
            flag="capability-match",
        ),
        AttenuationRow(
            case_id="att-one-of-two-wider",
            description="two capabilities, the second wider",
            changes={"k9": [["calendar/events/read", CAL + "/work/*"], ["mail/send", "*"]]},
            code="scope_widened",
            spec=["R-4.3-2"],
            flag="attenuation",
        ),
        AttenuationRow(
            case_id="att-time-nbf-before-parent",
            description="child nbf one second before its parent's",
            changes={"k7": NOW - 1},
            code="time_widened",
            spec=["R-4.4-2"],
            flag="attenuation",
        ),
        AttenuationRow(
            case_id="att-time-exp-after-parent",
            description="child exp one second after its parent's",
            changes={"k8": NOW + 3601},
            code="time_widened",
            spec=["R-4.4-2"],
            flag="attenuation",
        ),
        AttenuationRow(
            case_id="att-time-exp-equal-parent-ok",
            description="child exp equal to its parent's",
            changes={"k8": NOW + 3600},
            code="",
            spec=["R-4.4-2"],
            flag="attenuation",
        ),
        AttenuationRow(
            case_id="att-depth-equal",
            description="child depth equal to its parent's",
            changes={"k11": 2},
            code="depth_exceeded",
            spec=["R-4.5-1"],
            flag="attenuation",
        ),
        AttenuationRow(
            case_id="att-depth-greater",
            description="child depth above its parent's",
            changes={"k11": 3},
            code="depth_exceeded",
            spec=["R-4.5-1"],
            flag="attenuation",
        ),
        AttenuationRow(
            case_id="att-window-empty",
            description="child window with exp = nbf",
            changes={"k8": NOW},
            code="time_invalid",
            spec=["R-4.4-1"],
            flag="attenuation",
        ),
        AttenuationRow(
            case_id="att-caveat-scoped-other-action",
            description="a scoped caveat for mail does not apply to calendar",
            changes={"k10": [{1: ["==", ".x", 1], 2: ["mail"]}]},
            code="",
            spec=["R-4.6-2"],
            flag="caveat-semantics",
        ),
        AttenuationRow(
            case_id="att-caveat-scoped-applies",
            description=(
                "a scoped caveat for calendar/events applies and fails on a missing selector"
            ),
            changes={"k10": [{1: ["==", ".x", 1], 2: ["calendar/events"]}]},
            code="caveat_failed",
            spec=["R-4.6-2", "R-8.2-13"],
            flag="caveat-semantics",
        ),
    ]
    for row in rows:
        if row.code is None or row.code == "":
            expected = allow()
        elif row.code == "caveat_failed":
            expected = deny(row.code)
        else:
            expected = error(row.code)
        s.add(
            row.case_id,
            row.description,
            flags=[row.flag],
            spec=[*row.spec, "R-8.2-3"],
            steps=[step(child(**row.changes), expected)],
        )
    # capability matching at request time (V7)
    cap_rows = [
        AttenuationCapRow(
            case_id="cap-request-action-prefix",
            description="calendar/events covers calendar/events/read/all",
            action="calendar/events/read/all",
            resource=RESOURCE,
            code="",
        ),
        AttenuationCapRow(
            case_id="cap-request-action-sibling",
            description="calendar/events does not cover calendar/eventsX",
            action="calendar/eventsX",
            resource=RESOURCE,
            code="capability_missing",
        ),
        AttenuationCapRow(
            case_id="cap-request-resource-prefix-itself",
            description="/alice/* does not cover /alice",
            action="calendar/events/read",
            resource=CAL,
            code="capability_missing",
        ),
        AttenuationCapRow(
            case_id="cap-request-resource-trailing-slash",
            description="/alice/* does not cover /alice/",
            action="calendar/events/read",
            resource=CAL + "/",
            code="capability_missing",
        ),
        AttenuationCapRow(
            case_id="cap-request-resource-longer-name",
            description="/alice/* does not cover /alicex",
            action="calendar/events/read",
            resource=CAL + "x",
            code="capability_missing",
        ),
        AttenuationCapRow(
            case_id="cap-request-resource-case",
            description="resources compare without case folding",
            action="calendar/events/read",
            resource=CAL.replace("alice", "ALICE") + "/x",
            code="capability_missing",
        ),
        AttenuationCapRow(
            case_id="cap-request-resource-deep",
            description="/alice/* covers /alice/a/b/c",
            action="calendar/events/read",
            resource=CAL + "/a/b/c",
            code="",
        ),
        AttenuationCapRow(
            case_id="cap-request-other-action",
            description="mail/send is not granted at all",
            action="mail/send",
            resource=RESOURCE,
            code="capability_missing",
        ),
    ]
    tok, hold = chain(2, caps=(("calendar/events", CAL + "/*"),), label="cap")
    for cap_row in cap_rows:
        s.add(
            cap_row.case_id,
            cap_row.description,
            flags=["capability-match"],
            spec=["R-4.1-2", "R-4.2-5", "R-8.2-12"],
            steps=[
                step(
                    present(tok, hold, action=cap_row.action, resource=cap_row.resource),
                    deny(cap_row.code) if cap_row.code else allow(),
                    action=cap_row.action,
                    resource=cap_row.resource,
                )
            ],
        )
    # spec 4.2: spellings a server could normalize out of the grant /alice/* are refused
    # outright (issue 13), in the request as in the invocation that signs it
    links = encoded_links(tok)
    for tricky in TRICKY_RESOURCES:
        s.add(
            f"cap-resource-{tricky.slug}",
            f"{tricky.why}: {tricky.suffix!r} under /alice/* is not in normal form",
            flags=["resource-normal-form"],
            spec=[tricky.rid],
            steps=[
                step(
                    present_raw(links, hold, resource=CAL + tricky.suffix),
                    error("resource_invalid"),
                    resource=CAL + tricky.suffix,
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
    # spec 4.2 R-4.2-4: P in P/* may end in '/'; such a pattern is well formed and permits
    # nothing (every resource under it has an empty inner segment)
    tok_slash, hold_slash = chain(
        2, sub_caps=(("calendar", CAL + "/work//*"),), label="cap-empty-segment-pattern"
    )
    s.add(
        "cap-pattern-prefix-ends-in-slash",
        "the child grants calendar on https://cal.example/alice/work//*: a well-formed pattern "
        "(not resource_invalid) that covers no resource in normal form, so the request for "
        "/alice/work/standup is capability_missing",
        flags=["capability-match"],
        spec=["R-4.2-4", "R-8.2-12"],
        steps=[step(present(tok_slash, hold_slash), deny("capability_missing"))],
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


@dataclass(frozen=True)
class TrickyResource:
    """A spelling of a resource outside /alice/* that some server normalizes into it."""

    slug: str
    suffix: str  # after https://cal.example/alice
    why: str
    rid: str


TRICKY_RESOURCES = [
    TrickyResource(
        "dotdot-semicolon", "/..;/bob", "a path parameter: Tomcat and Spring", "R-4.2-7"
    ),
    TrickyResource(
        "double-escaped-dots", "/%252e%252e/bob", "servers that decode twice", "R-4.2-3"
    ),
    TrickyResource("double-escaped-slash", "%252fbob", "servers that decode twice", "R-4.2-3"),
    TrickyResource("fullwidth-dots", "/\uff0e\uff0e/bob", "NFKC turns U+FF0E into '.'", "R-4.2-1"),
    TrickyResource(
        "fullwidth-dots-escaped", "/%EF%BC%8E%EF%BC%8E/bob", "NFKC after decoding", "R-4.2-3"
    ),
    TrickyResource("two-dot-leader", "/\u2025/bob", "NFKC turns U+2025 into '..'", "R-4.2-1"),
    TrickyResource("two-dot-leader-escaped", "/%E2%80%A5/bob", "NFKC after decoding", "R-4.2-3"),
    TrickyResource("percent-u", "/%u002e%u002e/bob", "IIS %u escapes", "R-4.2-3"),
    TrickyResource("overlong-dot", "/%C0%AE%C0%AE/bob", "overlong UTF-8 decoders", "R-4.2-3"),
    TrickyResource("dotdot-nul", "/..%00/bob", "C strings end at NUL", "R-4.2-3"),
    TrickyResource("dotdot-space", "/..%20/bob", "Windows trims trailing spaces", "R-4.2-2"),
    TrickyResource("dotdot-dot", "/.../bob", "Windows trims trailing dots", "R-4.2-2"),
    TrickyResource("raw-non-ascii", "/caf\u00e9", "raw non-ASCII has many encodings", "R-4.2-1"),
    TrickyResource("invalid-escape", "/%zz/bob", "an escape that is not one", "R-4.2-3"),
    TrickyResource("lone-percent", "/a%", "an escape cut short", "R-4.2-3"),
    TrickyResource("lower-case-escape", "/%c3%a9", "escapes are upper-case hex", "R-4.2-3"),
    TrickyResource("escaped-unreserved", "/%62ob", "%62 is 'b': not needed", "R-4.2-3"),
    TrickyResource("escaped-dots", "/%2E%2E/bob", "%2E is '.': not needed", "R-4.2-3"),
    TrickyResource("escaped-backslash", "/..%5Cbob", "IIS and Windows read \\ as /", "R-4.2-3"),
    TrickyResource("backslash", "/..\\bob", "IIS and Windows read \\ as /", "R-4.2-1"),
    TrickyResource("dotdot-fragment", "/..#f", "a segment ends at '#'", "R-4.2-2"),
    TrickyResource("dotdot-query", "/..?q=1", "a segment ends at '?'", "R-4.2-2"),
    TrickyResource("empty-segment", "//bob", "servers merge '//'", "R-4.2-7"),
    TrickyResource("bidi-control", "/%E2%80%AEbob", "a format character", "R-4.2-3"),
]
