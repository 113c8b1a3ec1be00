"""policy.json: the caveat language."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from agentchain import codec
from agentchain._build import claims_of, container, enc, head, pairs, raw_map, sign_raw
from agentchain.vectors.generator.build import chain, invocation_claims, present, present_raw
from agentchain.vectors.generator.cases._common import TYP_LINK, alice, one_link, relink
from agentchain.vectors.generator.suite import Suite, allow, deny, error, step


@dataclass(frozen=True)
class PolicyRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    st: Any
    expected: str
    spec: list[str]
    flags: list[str]


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
    rows: list[PolicyRow] = [
        PolicyRow(
            case_id="pol-eq-true",
            description="== on an equal integer",
            st=["==", ".amount", 500],
            expected="allow",
            spec=["R-6.2-2"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-eq-false",
            description="== on another integer",
            st=["==", ".amount", 501],
            expected="deny",
            spec=["R-6.2-2"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-eq-bool-vs-int",
            description="true is not 1",
            st=["==", ".flag", 1],
            expected="deny",
            spec=["R-6.2-2"],
            flags=ts,
        ),
        PolicyRow(
            case_id="pol-eq-bytes-vs-text",
            description="h'61' is not \"a\"",
            st=["==", ".blob", "a"],
            expected="deny",
            spec=["R-6.2-2"],
            flags=ts,
        ),
        PolicyRow(
            case_id="pol-eq-deep-array",
            description="arrays compare element by element",
            st=["==", ".tags", ["a", "b"]],
            expected="allow",
            spec=["R-6.2-2"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-eq-deep-map",
            description="maps compare by keys and values",
            st=["==", ".nested", {"k": [1, 2]}],
            expected="allow",
            spec=["R-6.2-2"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-eq-null",
            description="null equals null",
            st=["==", ".nil", None],
            expected="allow",
            spec=["R-6.2-2"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-ne-type",
            description="!= across types is true",
            st=["!=", ".flag", 1],
            expected="allow",
            spec=["R-6.2-2"],
            flags=ts,
        ),
        PolicyRow(
            case_id="pol-ne-missing",
            description="!= on a missing selector is ERROR, not true",
            st=["!=", ".nope", 1],
            expected="deny",
            spec=["R-6.2-6"],
            flags=ms,
        ),
        PolicyRow(
            case_id="pol-lt-boundary",
            description="< at the boundary",
            st=["<", ".amount", 500],
            expected="deny",
            spec=["R-6.2-3"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-le-boundary",
            description="<= at the boundary",
            st=["<=", ".amount", 500],
            expected="allow",
            spec=["R-6.2-3"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-gt-boundary",
            description="> at the boundary",
            st=[">", ".amount", 500],
            expected="deny",
            spec=["R-6.2-3"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-ge-boundary",
            description=">= at the boundary",
            st=[">=", ".amount", 500],
            expected="allow",
            spec=["R-6.2-3"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-lt-on-bool",
            description="ordering a bool is ERROR",
            st=["<", ".flag", 5],
            expected="deny",
            spec=["R-6.2-3"],
            flags=ts,
        ),
        PolicyRow(
            case_id="pol-lt-on-text",
            description="ordering text is ERROR",
            st=["<", ".name", 5],
            expected="deny",
            spec=["R-6.2-3"],
            flags=ts,
        ),
        PolicyRow(
            case_id="pol-not-of-type-error",
            description="not of an ordering type error is still ERROR",
            st=["not", ["<", ".name", 5]],
            expected="deny",
            spec=["R-6.2-7"],
            flags=ts,
        ),
        PolicyRow(
            case_id="pol-like-star",
            description="like with a star",
            st=["like", ".name", "Z*"],
            expected="allow",
            spec=["R-6.2-4"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-like-anchored",
            description="like is anchored at both ends",
            st=["like", ".name", "Zo"],
            expected="deny",
            spec=["R-6.2-4"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-like-non-ascii",
            description="like matches a non-ASCII code point after a star",
            st=["like", ".name", "Z*\u00eb"],
            expected="allow",
            spec=["R-6.2-4"],
            flags=na,
        ),
        PolicyRow(
            case_id="pol-like-escaped-star",
            description="\\* is a literal star",
            st=["like", ".name", "Zo\\*"],
            expected="deny",
            spec=["R-6.1-5", "R-6.2-4"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-like-on-bytes",
            description="like over bytes is ERROR",
            st=["like", ".blob", "*"],
            expected="deny",
            spec=["R-6.2-4"],
            flags=ts,
        ),
        PolicyRow(
            case_id="pol-in-member",
            description="in with a member",
            st=["in", ".name", ["x", "Zo\u00eb"]],
            expected="allow",
            spec=["R-6.2-5"],
            flags=na,
        ),
        PolicyRow(
            case_id="pol-in-type-strict",
            description="in compares like ==: true is not 1",
            st=["in", ".flag", [1, "true"]],
            expected="deny",
            spec=["R-6.2-5"],
            flags=ts,
        ),
        PolicyRow(
            case_id="pol-in-empty",
            description="in an empty list is false",
            st=["in", ".amount", []],
            expected="deny",
            spec=["R-6.2-5"],
            flags=ec,
        ),
        PolicyRow(
            case_id="pol-and-empty",
            description="and of nothing is TRUE",
            st=["and", []],
            expected="allow",
            spec=["R-6.2-8"],
            flags=ec,
        ),
        PolicyRow(
            case_id="pol-or-empty",
            description="or of nothing is FALSE",
            st=["or", []],
            expected="deny",
            spec=["R-6.2-8"],
            flags=ec,
        ),
        PolicyRow(
            case_id="pol-all-empty",
            description="all over [] is TRUE",
            st=["all", ".empty", ["==", ".", 1]],
            expected="allow",
            spec=["R-6.2-8"],
            flags=ec,
        ),
        PolicyRow(
            case_id="pol-any-empty",
            description="any over [] is FALSE",
            st=["any", ".empty", ["==", ".", 1]],
            expected="deny",
            spec=["R-6.2-8"],
            flags=ec,
        ),
        PolicyRow(
            case_id="pol-all-true",
            description="all elements match",
            st=["all", ".tags", ["like", ".", "*"]],
            expected="allow",
            spec=["R-6.2-8"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-any-true",
            description="one element matches",
            st=["any", ".tags", ["==", ".", "b"]],
            expected="allow",
            spec=["R-6.2-8"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-all-non-array",
            description="all over a non-array is ERROR",
            st=["all", ".amount", ["==", ".", 1]],
            expected="deny",
            spec=["R-6.2-8"],
            flags=ms,
        ),
        PolicyRow(
            case_id="pol-or-absorbs-error",
            description="or [TRUE, ERROR] is ERROR",
            st=["or", [["==", ".amount", 500], ["==", ".nope", 1]]],
            expected="deny",
            spec=["R-6.2-7"],
            flags=ms,
        ),
        PolicyRow(
            case_id="pol-and-true",
            description="and of two TRUE",
            st=["and", [["==", ".amount", 500], ["in", ".name", ["Zo\u00eb"]]]],
            expected="allow",
            spec=["R-6.2-7"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-not-false",
            description="not FALSE is TRUE",
            st=["not", ["==", ".amount", 1]],
            expected="allow",
            spec=["R-6.2-7"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-not-missing",
            description="not of a missing selector is ERROR, not TRUE",
            st=["not", ["==", ".nope", 1]],
            expected="deny",
            spec=["R-6.2-6", "R-6.2-7"],
            flags=ms,
        ),
        PolicyRow(
            case_id="pol-index-out-of-range",
            description="an index out of range is ERROR",
            st=["==", ".tags[2]", "c"],
            expected="deny",
            spec=["R-6.2-6"],
            flags=ms,
        ),
        PolicyRow(
            case_id="pol-index-into-scalar",
            description="a key applied to an integer is ERROR",
            st=["==", ".amount.x", 1],
            expected="deny",
            spec=["R-6.2-6"],
            flags=ms,
        ),
        PolicyRow(
            case_id="pol-index",
            description="an index selects",
            st=["==", ".tags[1]", "b"],
            expected="allow",
            spec=["R-6.1-4"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-bracket-key-non-ascii",
            description="a bracketed non-ASCII key selects it",
            st=["==", '.["\u00e9t\u00e9"]', 1],
            expected="allow",
            spec=["R-6.1-4", "R-6.2-1"],
            flags=na,
        ),
        PolicyRow(
            case_id="pol-root-selector",
            description="the root . is the whole args map",
            st=["==", ".", a],
            expected="allow",
            spec=["R-6.2-1"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-quantifier-rebinds-root",
            description="inside any, . is the element",
            st=["any", ".nested.k", ["==", ".", 2]],
            expected="allow",
            spec=["R-6.2-8"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-and-true-false",
            description="and of TRUE and FALSE is FALSE",
            st=["and", [["==", ".amount", 500], ["==", ".flag", False]]],
            expected="deny",
            spec=["R-6.2-7"],
            flags=sem,
        ),
        PolicyRow(
            case_id="pol-syntax-unknown-op",
            description="an unknown operator",
            st=["~=", ".a", 1],
            expected="caveat_invalid",
            spec=["R-6.1-2"],
            flags=["caveat-syntax"],
        ),
        PolicyRow(
            case_id="pol-syntax-arity",
            description="== with four elements",
            st=["==", ".a", 1, 2],
            expected="caveat_invalid",
            spec=["R-6.1-2"],
            flags=["caveat-syntax"],
        ),
        PolicyRow(
            case_id="pol-syntax-empty",
            description="an empty statement",
            st=[],
            expected="caveat_invalid",
            spec=["R-6.1-2"],
            flags=["caveat-syntax"],
        ),
        PolicyRow(
            case_id="pol-syntax-not-array",
            description="a statement that is text",
            st="true",
            expected="caveat_invalid",
            spec=["R-6.1-2"],
            flags=["caveat-syntax"],
        ),
        PolicyRow(
            case_id="pol-syntax-ordering-bool",
            description="< with a bool operand",
            st=["<", ".a", True],
            expected="caveat_invalid",
            spec=["R-6.1-3"],
            flags=["caveat-syntax"],
        ),
        PolicyRow(
            case_id="pol-syntax-in-not-array",
            description="in with a text operand",
            st=["in", ".a", "abc"],
            expected="caveat_invalid",
            spec=["R-6.1-3"],
            flags=["caveat-syntax"],
        ),
        PolicyRow(
            case_id="pol-syntax-and-not-array",
            description="and with a statement instead of a list",
            st=["and", ["==", ".a", 1]],
            expected="caveat_invalid",
            spec=["R-6.1-3"],
            flags=["caveat-syntax"],
        ),
        PolicyRow(
            case_id="pol-syntax-like-not-text",
            description="like with an integer pattern",
            st=["like", ".a", 1],
            expected="caveat_invalid",
            spec=["R-6.1-3"],
            flags=["caveat-syntax"],
        ),
        PolicyRow(
            case_id="pol-syntax-selector-dot-bracket",
            description="selector .a.[0]",
            st=["==", ".a.[0]", 1],
            expected="caveat_invalid",
            spec=["R-6.1-4"],
            flags=["caveat-syntax"],
        ),
        PolicyRow(
            case_id="pol-syntax-selector-negative",
            description="selector .a[-1]",
            st=["==", ".a[-1]", 1],
            expected="caveat_invalid",
            spec=["R-6.1-4"],
            flags=["caveat-syntax"],
        ),
        PolicyRow(
            case_id="pol-syntax-selector-leading-zero",
            description="selector .a[01]",
            st=["==", ".a[01]", 1],
            expected="caveat_invalid",
            spec=["R-6.1-4"],
            flags=["caveat-syntax"],
        ),
        PolicyRow(
            case_id="pol-syntax-selector-no-dot",
            description="selector amount",
            st=["==", "amount", 1],
            expected="caveat_invalid",
            spec=["R-6.1-4"],
            flags=["caveat-syntax"],
        ),
        PolicyRow(
            case_id="pol-syntax-selector-non-ascii-name",
            description="selector .\u00e9 (names are ASCII)",
            st=["==", ".\u00e9", 1],
            expected="caveat_invalid",
            spec=["R-6.1-4"],
            flags=["caveat-syntax", "non-ascii"],
        ),
        PolicyRow(
            case_id="pol-syntax-like-bad-escape",
            description="like pattern with \\a",
            st=["like", ".a", "\\a"],
            expected="caveat_invalid",
            spec=["R-6.1-5"],
            flags=["caveat-syntax"],
        ),
        PolicyRow(
            case_id="pol-syntax-like-trailing-backslash",
            description="like pattern ending in a lone backslash",
            st=["like", ".a", "x\\"],
            expected="caveat_invalid",
            spec=["R-6.1-5"],
            flags=["caveat-syntax"],
        ),
        PolicyRow(
            case_id="pol-syntax-map-int-key",
            description="a literal map with an integer key",
            st=["==", ".a", {1: 2}],
            expected="caveat_invalid",
            spec=["R-6.1-1"],
            flags=["caveat-syntax"],
        ),
    ]
    for row in rows:
        _policy_case(
            s,
            case_id=row.case_id,
            desc=row.description,
            statement=row.st,
            args=a,
            expected=row.expected,
            rids=row.spec,
            flags=row.flags,
        )
    # an integral float cannot come from cbor.encode: write the caveat bytes by hand
    link, holder = one_link(label="pol")
    items = pairs(claims_of(link))
    float_caveat = head(4, 1) + head(4, 3) + enc("==") + enc(".amount") + b"\xf9\x3c\x00"
    payload = raw_map([(k, float_caveat if k == enc(10) else v) for k, v in items])
    s.add(
        "pol-syntax-float",
        "a caveat literal 1.0 spelt as a half float: an integer must be encoded as one",
        flags=["caveat-syntax", "numbers", "cbor-canonical"],
        spec=["R-6.1-1", "R-5.2-12"],
        steps=[
            step(
                present_raw([sign_raw(alice(), TYP_LINK, payload)], holder),
                error("cbor_noncanonical"),
            )
        ],
    )
    # a float in a wider width than needed: 1.5 is a half (f9 3e00), never a double
    wide_caveat = head(4, 3) + enc("<=") + enc(".amount") + b"\xfb\x3f\xf8\x00\x00\x00\x00\x00\x00"
    wide_payload = raw_map([(k, head(4, 1) + wide_caveat if k == enc(10) else v) for k, v in items])
    s.add(
        "pol-syntax-float-wide",
        "a caveat literal 1.5 spelt as a double: a float takes its shortest exact width",
        flags=["caveat-syntax", "numbers", "cbor-canonical"],
        spec=["R-5.2-12"],
        steps=[
            step(
                present_raw([sign_raw(alice(), TYP_LINK, wide_payload)], holder),
                error("cbor_noncanonical"),
            )
        ],
    )
    # spec 5.2 decision (b), R-5.2-13: -0.0 is the integer 0, spelt 00 on the wire; its
    # float spellings are integral floats, refused in a caveat literal as in arguments
    zero_caveat = head(4, 3) + enc("==") + enc(".amount") + b"\xfb\x80" + b"\x00" * 7
    zero_payload = raw_map([(k, head(4, 1) + zero_caveat if k == enc(10) else v) for k, v in items])
    s.add(
        "pol-syntax-negative-zero",
        "a caveat literal -0.0 spelt as the double fb 8000000000000000: an integral float "
        "(cbor_noncanonical), not folded to 0 by a decoder",
        flags=["caveat-syntax", "numbers", "cbor-canonical"],
        spec=["R-5.2-13", "R-5.2-12"],
        steps=[
            step(
                present_raw([sign_raw(alice(), TYP_LINK, zero_payload)], holder),
                error("cbor_noncanonical"),
            )
        ],
    )
    # ... and in an invocation's arguments: {"amount": -0.0} as f9 8000, signed by the holder
    inv_claims = invocation_claims(hashlib.sha256(link).digest(), args={"amount": 7})
    inv_payload = enc(inv_claims).replace(
        enc({"amount": 7}), head(5, 1) + enc("amount") + b"\xf9\x80\x00"
    )
    s.add(
        "pol-args-negative-zero",
        'an invocation whose arguments {"amount": -0.0} spell it f9 8000: an integral float '
        "(cbor_noncanonical), although a request's -0.0 folds to 0",
        flags=["numbers", "cbor-canonical"],
        spec=["R-5.2-13", "R-5.2-12"],
        steps=[
            step(
                container([link], sign_raw(holder, codec.TYP_INVOCATION, inv_payload)),
                error("cbor_noncanonical"),
                args={"amount": 0},
            )
        ],
    )
    # numbers: binary64 floats in caveats and arguments, compared exactly with integers
    numbers: list[tuple[str, list[Any], dict[str, Any], str]] = [
        ("price-under", ["<=", ".price", 20.0], {"price": 12.5}, "allow"),
        ("price-over", ["<=", ".price", 20.0], {"price": 20.5}, "deny"),
        ("int-against-float", ["<", ".n", 12.5], {"n": 12}, "allow"),
        ("float-against-int", [">", ".n", 12], {"n": 12.5}, "allow"),
        ("exact-above-2-53", [">", ".n", 2.0**53], {"n": 2**53 + 1}, "allow"),
        ("exact-at-2-53", ["<=", ".n", 2.0**53], {"n": 2**53 + 1}, "deny"),
        ("big-int-below-2-64", ["<", ".n", 2.0**64], {"n": 2**64 - 1}, "allow"),
        ("subnormal", [">", ".n", 0], {"n": 5e-324}, "allow"),
        ("equal", ["==", ".n", 0.1], {"n": 0.1}, "allow"),
        ("not-equal-nearby", ["==", ".n", 0.1], {"n": 0.30000000000000004 - 0.2}, "deny"),
        ("in", ["in", ".n", [1.5, 2.5]], {"n": 2.5}, "allow"),
    ]
    for slug, statement, args, expected in numbers:
        _policy_case(
            s,
            case_id=f"pol-number-{slug}",
            desc=f"{statement} over {args}",
            statement=statement,
            args=args,
            expected=expected,
            rids=["R-6.2-2" if statement[0] in ("==", "in") else "R-6.2-3", "R-5.2-12"],
            flags=["caveat-semantics", "numbers"],
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
