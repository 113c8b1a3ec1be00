"""policy.json: the caveat language."""

from __future__ import annotations

from typing import Any

from agentchain._build import claims_of, enc, head, pairs, raw_map, sign_raw
from agentchain.vectors.build import chain, present, present_raw
from agentchain.vectors.cases._common import TYP_LINK, alice, one_link, relink
from agentchain.vectors.suite import Suite, allow, deny, error, step


def _policy_case(
    s: Suite,
    *,
    case_id: str,
    desc: str,
    statement: Any,
    args: dict[str, Any],
    expected: str,
    rids: list[str],
    flags: list[str],
) -> None:
    """One caveat on a one-link chain; ``expected`` is allow, deny, or an error code."""
    link, holder = one_link(label="pol")
    claims = claims_of(link)
    claims[10] = [statement]
    data = present_raw([relink(claims)], holder, args=args)
    result = (
        allow()
        if expected == "allow"
        else deny("caveat_failed")
        if expected == "deny"
        else error(expected)
    )
    s.add(
        case_id,
        desc,
        flags=flags,
        spec=[*rids, "R-6.2-9"] if expected in ("allow", "deny") else rids,
        steps=[step(data, result, args=args)],
    )


def add_cases(s: Suite) -> None:
    a = {
        "amount": 500,
        "name": "Zo\u00eb",
        "tags": ["a", "b"],
        "flag": True,
        "blob": b"a",
        "nested": {"k": [1, 2]},
        "empty": [],
        "nil": None,
        "\u00e9t\u00e9": 1,
    }
    sem = ["caveat-semantics"]
    ts = ["caveat-semantics", "type-strictness"]
    ms = ["caveat-semantics", "missing-selector"]
    ec = ["caveat-semantics", "empty-connective"]
    na = ["caveat-semantics", "non-ascii"]
    rows: list[tuple[str, str, Any, str, list[str], list[str]]] = [
        (
            "pol-eq-true",
            "== on an equal integer",
            ["==", ".amount", 500],
            "allow",
            ["R-6.2-2"],
            sem,
        ),
        ("pol-eq-false", "== on another integer", ["==", ".amount", 501], "deny", ["R-6.2-2"], sem),
        ("pol-eq-bool-vs-int", "true is not 1", ["==", ".flag", 1], "deny", ["R-6.2-2"], ts),
        (
            "pol-eq-bytes-vs-text",
            "h'61' is not \"a\"",
            ["==", ".blob", "a"],
            "deny",
            ["R-6.2-2"],
            ts,
        ),
        (
            "pol-eq-deep-array",
            "arrays compare element by element",
            ["==", ".tags", ["a", "b"]],
            "allow",
            ["R-6.2-2"],
            sem,
        ),
        (
            "pol-eq-deep-map",
            "maps compare by keys and values",
            ["==", ".nested", {"k": [1, 2]}],
            "allow",
            ["R-6.2-2"],
            sem,
        ),
        ("pol-eq-null", "null equals null", ["==", ".nil", None], "allow", ["R-6.2-2"], sem),
        ("pol-ne-type", "!= across types is true", ["!=", ".flag", 1], "allow", ["R-6.2-2"], ts),
        (
            "pol-ne-missing",
            "!= on a missing selector is ERROR, not true",
            ["!=", ".nope", 1],
            "deny",
            ["R-6.2-6"],
            ms,
        ),
        ("pol-lt-boundary", "< at the boundary", ["<", ".amount", 500], "deny", ["R-6.2-3"], sem),
        (
            "pol-le-boundary",
            "<= at the boundary",
            ["<=", ".amount", 500],
            "allow",
            ["R-6.2-3"],
            sem,
        ),
        ("pol-gt-boundary", "> at the boundary", [">", ".amount", 500], "deny", ["R-6.2-3"], sem),
        (
            "pol-ge-boundary",
            ">= at the boundary",
            [">=", ".amount", 500],
            "allow",
            ["R-6.2-3"],
            sem,
        ),
        ("pol-lt-on-bool", "ordering a bool is ERROR", ["<", ".flag", 5], "deny", ["R-6.2-3"], ts),
        ("pol-lt-on-text", "ordering text is ERROR", ["<", ".name", 5], "deny", ["R-6.2-3"], ts),
        (
            "pol-not-of-type-error",
            "not of an ordering type error is still ERROR",
            ["not", ["<", ".name", 5]],
            "deny",
            ["R-6.2-7"],
            ts,
        ),
        ("pol-like-star", "like with a star", ["like", ".name", "Z*"], "allow", ["R-6.2-4"], sem),
        (
            "pol-like-anchored",
            "like is anchored at both ends",
            ["like", ".name", "Zo"],
            "deny",
            ["R-6.2-4"],
            sem,
        ),
        (
            "pol-like-non-ascii",
            "like matches a non-ASCII code point after a star",
            ["like", ".name", "Z*\u00eb"],
            "allow",
            ["R-6.2-4"],
            na,
        ),
        (
            "pol-like-escaped-star",
            "\\* is a literal star",
            ["like", ".name", "Zo\\*"],
            "deny",
            ["R-6.1-5", "R-6.2-4"],
            sem,
        ),
        (
            "pol-like-on-bytes",
            "like over bytes is ERROR",
            ["like", ".blob", "*"],
            "deny",
            ["R-6.2-4"],
            ts,
        ),
        (
            "pol-in-member",
            "in with a member",
            ["in", ".name", ["x", "Zo\u00eb"]],
            "allow",
            ["R-6.2-5"],
            na,
        ),
        (
            "pol-in-type-strict",
            "in compares like ==: true is not 1",
            ["in", ".flag", [1, "true"]],
            "deny",
            ["R-6.2-5"],
            ts,
        ),
        (
            "pol-in-empty",
            "in an empty list is false",
            ["in", ".amount", []],
            "deny",
            ["R-6.2-5"],
            ec,
        ),
        ("pol-and-empty", "and of nothing is TRUE", ["and", []], "allow", ["R-6.2-8"], ec),
        ("pol-or-empty", "or of nothing is FALSE", ["or", []], "deny", ["R-6.2-8"], ec),
        (
            "pol-all-empty",
            "all over [] is TRUE",
            ["all", ".empty", ["==", ".", 1]],
            "allow",
            ["R-6.2-8"],
            ec,
        ),
        (
            "pol-any-empty",
            "any over [] is FALSE",
            ["any", ".empty", ["==", ".", 1]],
            "deny",
            ["R-6.2-8"],
            ec,
        ),
        (
            "pol-all-true",
            "all elements match",
            ["all", ".tags", ["like", ".", "*"]],
            "allow",
            ["R-6.2-8"],
            sem,
        ),
        (
            "pol-any-true",
            "one element matches",
            ["any", ".tags", ["==", ".", "b"]],
            "allow",
            ["R-6.2-8"],
            sem,
        ),
        (
            "pol-all-non-array",
            "all over a non-array is ERROR",
            ["all", ".amount", ["==", ".", 1]],
            "deny",
            ["R-6.2-8"],
            ms,
        ),
        (
            "pol-or-absorbs-error",
            "or [TRUE, ERROR] is ERROR",
            ["or", [["==", ".amount", 500], ["==", ".nope", 1]]],
            "deny",
            ["R-6.2-7"],
            ms,
        ),
        (
            "pol-and-true",
            "and of two TRUE",
            ["and", [["==", ".amount", 500], ["in", ".name", ["Zo\u00eb"]]]],
            "allow",
            ["R-6.2-7"],
            sem,
        ),
        (
            "pol-not-false",
            "not FALSE is TRUE",
            ["not", ["==", ".amount", 1]],
            "allow",
            ["R-6.2-7"],
            sem,
        ),
        (
            "pol-not-missing",
            "not of a missing selector is ERROR, not TRUE",
            ["not", ["==", ".nope", 1]],
            "deny",
            ["R-6.2-6", "R-6.2-7"],
            ms,
        ),
        (
            "pol-index-out-of-range",
            "an index out of range is ERROR",
            ["==", ".tags[2]", "c"],
            "deny",
            ["R-6.2-6"],
            ms,
        ),
        (
            "pol-index-into-scalar",
            "a key applied to an integer is ERROR",
            ["==", ".amount.x", 1],
            "deny",
            ["R-6.2-6"],
            ms,
        ),
        ("pol-index", "an index selects", ["==", ".tags[1]", "b"], "allow", ["R-6.1-4"], sem),
        (
            "pol-bracket-key-non-ascii",
            "a bracketed non-ASCII key selects it",
            ["==", '.["\u00e9t\u00e9"]', 1],
            "allow",
            ["R-6.1-4", "R-6.2-1"],
            na,
        ),
        (
            "pol-root-selector",
            "the root . is the whole args map",
            ["==", ".", a],
            "allow",
            ["R-6.2-1"],
            sem,
        ),
        (
            "pol-quantifier-rebinds-root",
            "inside any, . is the element",
            ["any", ".nested.k", ["==", ".", 2]],
            "allow",
            ["R-6.2-8"],
            sem,
        ),
        (
            "pol-and-true-false",
            "and of TRUE and FALSE is FALSE",
            ["and", [["==", ".amount", 500], ["==", ".flag", False]]],
            "deny",
            ["R-6.2-7"],
            sem,
        ),
        (
            "pol-syntax-unknown-op",
            "an unknown operator",
            ["~=", ".a", 1],
            "caveat_invalid",
            ["R-6.1-2"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-arity",
            "== with four elements",
            ["==", ".a", 1, 2],
            "caveat_invalid",
            ["R-6.1-2"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-empty",
            "an empty statement",
            [],
            "caveat_invalid",
            ["R-6.1-2"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-not-array",
            "a statement that is text",
            "true",
            "caveat_invalid",
            ["R-6.1-2"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-ordering-bool",
            "< with a bool operand",
            ["<", ".a", True],
            "caveat_invalid",
            ["R-6.1-3"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-in-not-array",
            "in with a text operand",
            ["in", ".a", "abc"],
            "caveat_invalid",
            ["R-6.1-3"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-and-not-array",
            "and with a statement instead of a list",
            ["and", ["==", ".a", 1]],
            "caveat_invalid",
            ["R-6.1-3"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-like-not-text",
            "like with an integer pattern",
            ["like", ".a", 1],
            "caveat_invalid",
            ["R-6.1-3"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-selector-dot-bracket",
            "selector .a.[0]",
            ["==", ".a.[0]", 1],
            "caveat_invalid",
            ["R-6.1-4"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-selector-negative",
            "selector .a[-1]",
            ["==", ".a[-1]", 1],
            "caveat_invalid",
            ["R-6.1-4"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-selector-leading-zero",
            "selector .a[01]",
            ["==", ".a[01]", 1],
            "caveat_invalid",
            ["R-6.1-4"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-selector-no-dot",
            "selector amount",
            ["==", "amount", 1],
            "caveat_invalid",
            ["R-6.1-4"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-selector-non-ascii-name",
            "selector .\u00e9 (names are ASCII)",
            ["==", ".\u00e9", 1],
            "caveat_invalid",
            ["R-6.1-4"],
            ["caveat-syntax", "non-ascii"],
        ),
        (
            "pol-syntax-like-bad-escape",
            "like pattern with \\a",
            ["like", ".a", "\\a"],
            "caveat_invalid",
            ["R-6.1-5"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-like-trailing-backslash",
            "like pattern ending in a lone backslash",
            ["like", ".a", "x\\"],
            "caveat_invalid",
            ["R-6.1-5"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-map-int-key",
            "a literal map with an integer key",
            ["==", ".a", {1: 2}],
            "caveat_invalid",
            ["R-6.1-1"],
            ["caveat-syntax"],
        ),
    ]
    for case_id, desc, st, expected, rids, flags in rows:
        _policy_case(
            s,
            case_id=case_id,
            desc=desc,
            statement=st,
            args=a,
            expected=expected,
            rids=rids,
            flags=flags,
        )
    # a float literal cannot come from cbor.encode: write the caveat bytes by hand
    link, holder = one_link(label="pol")
    items = pairs(claims_of(link))
    float_caveat = head(4, 1) + head(4, 3) + enc("==") + enc(".amount") + b"\xf9\x3c\x00"
    payload = raw_map([(k, float_caveat if k == enc(10) else v) for k, v in items])
    s.add(
        "pol-syntax-float",
        "a float literal in a caveat",
        flags=["caveat-syntax", "cbor-unsupported"],
        spec=["R-6.1-1", "R-5.2-2"],
        steps=[
            step(
                present_raw([sign_raw(alice(), TYP_LINK, payload)], holder),
                error("cbor_unsupported"),
            )
        ],
    )
    # conjunction across links: each link's caveats must hold
    tok, h = chain(
        2, caveats=[[["<=", ".amount", 1000]], [["<=", ".amount", 100]]], label="pol-chain"
    )
    s.add(
        "pol-chain-conjunction",
        "root allows 1000, child 100: 500 is denied",
        flags=["caveat-semantics"],
        spec=["R-4.6-1", "R-8.2-13"],
        steps=[
            step(present(tok, h, args={"amount": 500}), deny("caveat_failed"), args={"amount": 500})
        ],
    )
