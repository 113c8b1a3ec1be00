"""Tests of the caveat language: operators, fail-closed errors, parse limits, properties."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentchain.errors import DecodeError
from agentchain.limits import Limits
from agentchain.model import Statement, Value, parse_statement, statement_text
from agentchain.policy import Budget, Evaluation, Result, evaluate

OUTCOMES = {"true", "false", "error"}
OPS = ["==", "!=", "<", "<=", ">", ">=", "like", "in", "and", "or", "not", "all", "any"]
#: room for the wrappers the properties add around generated statements
ROOMY = Limits(max_policy_depth=200, max_policy_nodes=100_000, max_policy_steps=1_000_000)


def run(statement: Any, args: Value, *, limits: Limits | None = None) -> Result:
    """Parse one statement (raw data) and evaluate it alone."""
    parsed = parse_statement(statement, limits=limits or ROOMY)
    return evaluate([parsed], args, limits=limits or ROOMY)


def outcome(statement: Any, args: Value) -> str:
    return run(statement, args).outcome


def rejects(data: object, code: str = "caveat_invalid", *, limits: Limits | None = None) -> str:
    with pytest.raises(DecodeError) as info:
        if limits is None:
            parse_statement(data)
        else:
            parse_statement(data, limits=limits)
    assert info.value.code == code, info.value
    return info.value.message


# A TRUE, a FALSE and an ERROR statement over ARGS, for the combinator tables.
ARGS: dict[str, Value] = {"a": 1, "s": "text", "xs": [1, 2, 3], "empty": [], "m": {"k": "v"}}
T = ["==", ".a", 1]
F = ["==", ".a", 2]
E = ["==", ".missing", 1]


# --------------------------------------------------------------------------- equality


@pytest.mark.parametrize(
    ("literal", "value", "expected"),
    [
        (1, 1, "true"),
        (1, 2, "false"),
        (1, True, "false"),  # bool is not an int
        (True, 1, "false"),
        (0, False, "false"),
        (None, None, "true"),
        ("a", b"a", "false"),  # text is not bytes
        (b"\x00", b"\x00", "true"),
        ([1, [2]], [1, [2]], "true"),
        ([1], [True], "false"),
        ([1, 2], [2, 1], "false"),
        ([1], [1, 1], "false"),
        ({"x": 1, "y": [2]}, {"y": [2], "x": 1}, "true"),  # key order is irrelevant
        ({"x": 1}, {"x": 1, "y": 2}, "false"),
        ({"x": 1}, {"y": 1}, "false"),
        ({}, [], "false"),
        ("naïve", "naïve", "true"),
        ("naïve", "naive", "false"),
    ],
)
def test_equality_is_deep_and_type_strict(literal: Value, value: Value, expected: str) -> None:
    # R-6.2-2
    assert outcome(["==", ".x", literal], {"x": value}) == expected
    negated = {"true": "false", "false": "true"}[expected]
    assert outcome(["!=", ".x", literal], {"x": value}) == negated


def test_equality_with_a_missing_selector_is_an_error_not_false() -> None:
    assert outcome(["==", ".x", None], {}) == "error"
    assert outcome(["!=", ".x", None], {}) == "error"
    assert outcome(["==", ".x", None], {"x": None}) == "true"


def test_values_outside_the_data_model_are_errors() -> None:
    # a set or a tuple slipped past a decoder is no value: never equal, never unequal
    assert outcome(["==", ".x", 1], {"x": {1}}) == "error"  # type: ignore[dict-item]
    assert outcome(["!=", ".x", 1], {"x": (1,)}) == "error"  # type: ignore[dict-item]
    assert outcome(["in", ".x", [1, 2]], {"x": {1}}) == "error"  # type: ignore[dict-item]


def test_numbers_are_one_value_whatever_their_python_type() -> None:
    # R-6.2-2: 12.0 is the integer 12 (spec 5.2); an unnormalized float still compares exactly
    assert outcome(["==", ".x", 1], {"x": 1.0}) == "true"
    assert outcome(["!=", ".x", 1], {"x": 1.5}) == "true"
    assert outcome(["in", ".x", [2, 1]], {"x": 1.0}) == "true"
    assert outcome(["==", ".x", 12.5], {"x": 12.5}) == "true"
    assert outcome(["==", ".x", [1.5, {"k": 0.25}]], {"x": [1.5, {"k": 0.25}]}) == "true"
    assert outcome(["==", ".x", True], {"x": 1.0}) == "false"  # a bool is never a number
    assert parse_statement(["==", ".a", 12.0]).raw == ["==", ".a", 12]
    assert type(parse_statement(["==", ".a", -0.0]).raw[2]) is int  # type: ignore[index]


@pytest.mark.parametrize(
    ("op", "literal", "value", "expected"),
    [
        ("<=", 20.0, 12.5, "true"),  # the issue's caveat
        ("<=", 20, 20.0, "true"),
        ("<", 12.5, 12, "true"),
        (">", 12.5, 13, "true"),
        (">=", 0.1, 0, "false"),
        # exact, never through a float: 2**53 + 1 is not the float 2**53
        (">", float(2**53), 2**53 + 1, "true"),
        ("<=", float(2**53), 2**53 + 1, "false"),
        ("<", 1.8446744073709552e19, 2**64 - 1, "true"),  # the float 2**64 beats 2**64 - 1
        ("==", 1.8446744073709552e19, 2**64 - 1, "false"),
        (">", -1.8446744073709552e19 * 2, -(2**64), "true"),
        ("<", 5e-324, 0, "true"),  # the smallest subnormal is above zero
    ],
)
def test_orderings_compare_ints_and_floats_exactly(
    op: str, literal: float, value: int | float, expected: str
) -> None:
    # R-6.2-3
    assert outcome([op, ".n", literal], {"n": value}) == expected


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinities_are_not_caveat_values(bad: float) -> None:
    # R-6.1-1
    assert "NaN" in rejects(["==", ".a", bad])
    assert "NaN" in rejects(["<", ".a", bad])


# --------------------------------------------------------------------------- ordering


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("<", 4, "true"),
        ("<", 5, "false"),
        ("<=", 5, "true"),
        ("<=", 6, "false"),
        (">", 6, "true"),
        (">", 5, "false"),
        (">=", 5, "true"),
        (">=", 4, "false"),
        ("<", -(2**64), "true"),
        (">", 2**70, "true"),  # arguments may be larger than any literal
    ],
)
def test_ordering(op: str, value: int, expected: str) -> None:
    assert outcome([op, ".n", 5], {"n": value}) == expected


@pytest.mark.parametrize("value", ["4", True, False, None, b"\x04", [4], {"n": 4}])
@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_ordering_on_a_non_int_is_an_error(op: str, value: Value) -> None:
    # R-6.2-3
    result = run([op, ".n", 5], {"n": value})
    assert result.outcome == "error"
    assert ".n" in result.detail and "not a number" in result.detail


@pytest.mark.parametrize("literal", ["5", True, None, [5], b"5", float("nan")])
def test_ordering_literal_must_be_a_number(literal: object) -> None:
    # R-6.1-3
    rejects(["<", ".n", literal])


# --------------------------------------------------------------------------- like


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("a*b*c", "abc", True),
        ("a*b*c", "a-x-b-y-c", True),
        ("a*b*c", "acb", False),
        ("a*b*c", "abcd", False),
        ("*", "", True),
        ("*", "anything at all", True),
        ("**", "x", True),
        ("", "", True),
        ("", "a", False),
        ("abc", "abc", True),
        ("abc", "abd", False),
        ("ab*ba", "aba", False),  # prefix and suffix may not overlap
        ("ab*ba", "abba", True),
        ("*.example.com", "api.example.com", True),
        ("*.example.com", "example.com", False),
        ("a?c", "abc", False),  # only * is special
        ("a?c", "a?c", True),
        ("\\*", "*", True),
        ("\\*", "a", False),
        ("\\*", "", False),
        ("a\\*b", "a*b", True),
        ("a\\*b", "axb", False),
        ("\\\\", "\\", True),
        ("\\\\*", "\\anything", True),
        ("\\\\*", "anything", False),
        ("*@exämple.com", "bob@exämple.com", True),
        ("*@exämple.com", "bob@example.com", False),
        ("日*語", "日本語", True),
        ("*😀", "smile 😀", True),
    ],
)
def test_like(pattern: str, text: str, expected: bool) -> None:
    # R-6.2-4
    assert outcome(["like", ".to", pattern], {"to": text}) == ("true" if expected else "false")


@pytest.mark.parametrize("value", [5, True, None, b"abc", ["abc"], {"to": "abc"}])
def test_like_on_a_non_string_is_an_error(value: Value) -> None:
    # R-6.2-4
    result = run(["like", ".to", "*"], {"to": value})
    assert result.outcome == "error"
    assert "not a string" in result.detail


@pytest.mark.parametrize("pattern", ["\\", "abc\\", "\\n", "a\\?", "\\a", "\\\\\\"])
def test_like_rejects_bad_escapes(pattern: str) -> None:
    # R-6.1-5
    assert "escape" in rejects(["like", ".to", pattern])


@pytest.mark.parametrize("pattern", [5, None, b"*", ["*"]])
def test_like_pattern_must_be_a_string(pattern: object) -> None:
    rejects(["like", ".to", pattern])


def test_like_worst_case_is_fast() -> None:
    # exponential for a naive backtracking matcher
    pattern = "*a*a*a*a*a*b"
    start = time.perf_counter()
    assert outcome(["like", ".s", pattern], {"s": "a" * 4000}) == "false"
    assert outcome(["like", ".s", pattern], {"s": "a" * 200_000}) == "false"
    assert outcome(["like", ".s", pattern], {"s": "a" * 200_000 + "b"}) == "true"
    long_pattern = "*" + "a*" * 2000 + "b"
    assert outcome(["like", ".s", long_pattern], {"s": "a" * 4000}) == "false"
    assert time.perf_counter() - start < 2.0


GLOB_TOKENS = {"a": "a", "b": "b", "*": ".*", "\\*": re.escape("*"), "\\\\": re.escape("\\")}


@given(
    st.lists(st.sampled_from(sorted(GLOB_TOKENS)), max_size=8),
    st.text(alphabet="ab*\\", max_size=12),
)
def test_like_agrees_with_a_regex_oracle(tokens: list[str], text: str) -> None:
    pattern = "".join(tokens)
    regex = "".join(GLOB_TOKENS[token] for token in tokens)
    expected = re.fullmatch(regex, text, re.DOTALL) is not None
    assert outcome(["like", ".", pattern], text) == ("true" if expected else "false")


# --------------------------------------------------------------------------- in


def test_in() -> None:
    # R-6.2-5
    assert outcome(["in", ".x", [1, 2, 3]], {"x": 2}) == "true"
    assert outcome(["in", ".x", [1, 2, 3]], {"x": 4}) == "false"
    assert outcome(["in", ".x", []], {"x": 4}) == "false"
    assert outcome(["in", ".x", [1, 2]], {"x": True}) == "false"  # type-strict
    assert outcome(["in", ".x", [1, True]], {"x": True}) == "true"
    assert outcome(["in", ".x", [[1], {"k": None}]], {"x": {"k": None}}) == "true"
    assert outcome(["in", ".x", ["naïve", "b"]], {"x": "naïve"}) == "true"
    assert outcome(["in", ".x", [1]], {}) == "error"


@pytest.mark.parametrize("literal", [1, "abc", None, {"a": 1}, b"ab"])
def test_in_takes_a_list(literal: object) -> None:
    # R-6.1-3
    rejects(["in", ".x", literal])


# --------------------------------------------------------------------------- combinators


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (["and", []], "true"),
        (["or", []], "false"),
        (["and", [T]], "true"),
        (["and", [T, T]], "true"),
        (["and", [T, F]], "false"),
        (["and", [F, F]], "false"),
        (["or", [F, T]], "true"),
        (["or", [F, F]], "false"),
        (["not", T], "false"),
        (["not", F], "true"),
        (["not", ["not", T]], "true"),
        # ERROR is absorbing, wherever it sits and whatever its siblings say
        (["not", E], "error"),
        (["not", ["not", E]], "error"),
        (["and", [E]], "error"),
        (["and", [F, E]], "error"),
        (["and", [E, F]], "error"),
        (["and", [T, E]], "error"),
        (["or", [T, E]], "error"),
        (["or", [E, T]], "error"),
        (["or", [F, E]], "error"),
        (["or", [["not", E], T]], "error"),
        (["and", [T, ["or", [T, ["not", E]]]]], "error"),
    ],
)
def test_connectives(statement: list[Any], expected: str) -> None:
    # R-6.2-7 R-6.2-8
    assert outcome(statement, ARGS) == expected


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (["all", ".xs", [">", ".", 0]], "true"),
        (["all", ".xs", [">", ".", 1]], "false"),
        (["any", ".xs", [">", ".", 2]], "true"),
        (["any", ".xs", [">", ".", 3]], "false"),
        (["all", ".empty", F], "true"),
        (["any", ".empty", T], "false"),
        (["all", ".empty", E], "true"),  # nothing is evaluated
        (["any", ".empty", E], "false"),
        # one erroring element poisons the whole quantifier
        (["any", ".xs", ["==", ".", "x"]], "false"),
        (["any", ".xs", ["<", ".", 5]], "true"),
        (["all", ".", [">", ".", 0]], "error"),  # root is a map, not a list
        (["all", ".s", T], "error"),
        (["any", ".m", T], "error"),
        (["all", ".missing", T], "error"),
        (["any", ".missing", T], "error"),
        (["not", ["all", ".missing", T]], "error"),
    ],
)
def test_quantifiers(statement: list[Any], expected: str) -> None:
    # R-6.2-8
    assert outcome(statement, ARGS) == expected


def test_quantifier_with_one_erroring_element_is_an_error() -> None:
    args: Value = {"items": [{"k": 1}, {}, {"k": 2}]}
    assert outcome(["any", ".items", ["==", ".k", 1]], args) == "error"
    assert outcome(["all", ".items", ["!=", ".k", 7]], args) == "error"
    assert outcome(["any", ".items", ["<", ".", 1]], {"items": [0, "x"]}) == "error"
    result = run(["all", ".items", ["==", ".k", 1]], args)
    assert "all .items[1]" in result.detail and "'k' is missing" in result.detail


def test_nested_quantifiers_rebind_the_root() -> None:
    args: Value = {"rows": [[1, 2], [3], []]}
    assert outcome(["all", ".rows", ["all", ".", [">", ".", 0]]], args) == "true"
    assert outcome(["all", ".rows", ["any", ".", [">", ".", 0]]], args) == "false"
    assert outcome(["any", ".rows", ["any", ".", ["==", ".", 3]]], args) == "true"


def test_missing_selectors_never_pass_through_any_combinator() -> None:
    wrappers: list[Callable[[Any], Any]] = [
        lambda s: ["not", s],
        lambda s: ["or", [s, T]],
        lambda s: ["or", [T, s]],
        lambda s: ["and", [s, T]],
        lambda s: ["all", ".xs", ["or", [T, s]]],
        lambda s: ["any", ".xs", ["or", [T, s]]],
        lambda s: ["not", ["and", [F, s]]],
    ]
    for leaf in (E, ["!=", ".missing", 1], ["<", ".nope", 1], ["like", ".x.y", "*"]):
        for wrap in wrappers:
            assert outcome(wrap(leaf), ARGS) == "error", wrap(leaf)


# --------------------------------------------------------------------------- selectors


@pytest.mark.parametrize(
    ("selector", "args", "expected"),
    [
        (".", 5, 5),
        (".a", {"a": 5}, 5),
        (".a.b", {"a": {"b": 5}}, 5),
        (".[0]", [5, 6], 5),
        (".[1]", [5, 6], 6),
        (".list[2]", {"list": [0, 1, 5]}, 5),
        (".a[0].b[1]", {"a": [{"b": [0, 5]}]}, 5),
        ('.["any key"]', {"any key": 5}, 5),
        ('.["naïve"]', {"naïve": 5}, 5),
        ('.["a.b"]', {"a.b": 5, "a": {"b": 6}}, 5),
        (".a.b", {"a.b": 5, "a": {"b": 6}}, 6),
        ('.["q\\"uote"]', {'q"uote': 5}, 5),
        ('.["back\\\\slash"]', {"back\\slash": 5}, 5),
        ('.[""]', {"": 5}, 5),
        ('.m["k"][0]', {"m": {"k": [5]}}, 5),
        (".with-dash_and_9", {"with-dash_and_9": 5}, 5),
        ("._x", {"_x": 5}, 5),
    ],
)
def test_selectors(selector: str, args: Value, expected: Value) -> None:
    # R-6.2-1
    assert outcome(["==", selector, expected], args) == "true"


@pytest.mark.parametrize(
    ("selector", "args"),
    [
        (".a", {}),
        (".a", [1]),
        (".a", "a"),
        (".a.b", {"a": 1}),
        (".[0]", []),
        (".[3]", [1, 2, 3]),
        (".[0]", {"0": 1}),
        (".[0]", "text"),  # strings and bytes are not indexable
        (".[0]", b"bytes"),
        (".a", None),
    ],
)
def test_missing_paths_are_errors(selector: str, args: Value) -> None:
    # R-6.2-6
    result = run(["==", selector, 1], args)
    assert result.outcome == "error"
    assert selector in result.detail


@pytest.mark.parametrize(
    "selector",
    [
        "name",  # no leading dot
        "",
        "..",
        ".a..b",
        ".a.",
        ".a.[0]",  # one spelling per path: .a[0]
        ".[-1]",  # negative indices are not supported
        ".[01]",
        ".[]",
        ".[0",
        ".[x]",
        ".[1.5]",
        ".[ 1]",
        '.["unterminated]',
        '.["unterminated',
        '.["a"',
        '.["a"x]',
        '.["bad \\n escape"]',
        ".9lives",
        ".-a",
        ".naïve",  # non-ASCII keys use the quoted form
        ".a b",
        ".a[0]b",
        ".[99999999999999999999]",
        " .a",
    ],
)
def test_bad_selectors_are_rejected(selector: str) -> None:
    # R-6.1-4
    rejects(["==", selector, 1])


def test_negative_index_message_says_why() -> None:
    assert "negative" in rejects(["==", ".[-1]", 1])


@pytest.mark.parametrize("selector", [1, None, [".a"], b".a"])
def test_selector_must_be_a_string(selector: object) -> None:
    rejects(["==", selector, 1])


# --------------------------------------------------------------------------- parse


@pytest.mark.parametrize(
    "data",
    [
        [],
        {},
        "==",
        None,
        ["xor", ".a", 1],
        ["EQ", ".a", 1],
        [1, ".a", 1],
        [None],
        ["=="],
        ["==", ".a"],
        ["==", ".a", 1, 2],
        ["not"],
        ["not", T, T],
        ["and"],
        ["and", T, T],
        ["and", [T], [T]],
        ["and", "T"],
        ["and", [T, "T"]],
        ["and", [T, []]],
        ["or", {"0": T}],
        ["all", ".xs"],
        ["all", ".xs", 1],
        ["any", ".xs", [T]],
        ["==", ".a", float("inf")],  # NaN and infinities are no numbers
        ["==", ".a", [1, [float("-inf")]]],
        ["==", ".a", {"k": float("nan")}],
        ["==", ".a", (1, 2)],  # only lists are arrays
        ["==", ".a", {1: 2}],  # map keys are strings
        ["==", ".a", {"k": {1, 2}}],
        ["==", ".a", 2**64],  # beyond CBOR's integer range
        ["==", ".a", -(2**64) - 1],
        ["==", ".a", "\ud800"],  # not encodable as UTF-8
        ("==", ".a", 1),
    ],
)
def test_malformed_statements_are_rejected(data: object) -> None:
    # R-6.1-1 R-6.1-2 R-6.1-3
    rejects(data)


def test_cbor_integer_range_is_accepted() -> None:
    parse_statement(["==", ".a", 2**64 - 1])
    parse_statement(["<", ".a", -(2**64)])


def test_depth_limit() -> None:
    # R-6.3-1
    statement: list[Any] = ["==", ".a", 1]
    for _ in range(11):
        statement = ["not", statement]
    parse_statement(statement)  # depth 12 exactly
    assert evaluate([parse_statement(statement)], {"a": 1}).outcome == "false"
    rejects(["not", statement], "limit_exceeded")
    literal: Any = 1
    for _ in range(11):
        literal = [literal]
    parse_statement(["==", ".a", literal])  # the literal's 11 arrays sit inside the statement's
    rejects(["==", ".a", [literal]], "limit_exceeded")  # literals count
    rejects(["and", [T]], "limit_exceeded", limits=Limits(max_policy_depth=2))
    parse_statement(["and", [T]], limits=Limits(max_policy_depth=3))


def test_a_remembered_statement_is_judged_under_the_limits_asked() -> None:
    # parse_statement remembers a statement by its data with the limits it was parsed
    # under: the same data under stricter limits is refused, under the same ones it is
    # the remembered object, under equal ones too, and after a refusal it is still found
    data = ["and", [["==", ".memo", 1]]]
    roomy, strict = Limits(max_policy_depth=3), Limits(max_policy_depth=2)
    first = parse_statement(data, limits=roomy)
    assert parse_statement(data, limits=roomy) is first
    assert parse_statement(data, limits=Limits(max_policy_depth=3)) is first
    rejects(data, "limit_exceeded", limits=strict)
    again = parse_statement(data, limits=roomy)
    assert again == first
    rejects(data, "limit_exceeded", limits=strict)


def test_node_limit() -> None:
    # R-6.3-1
    parse_statement(["in", ".a", list(range(252))])  # 1 + 3 + 252 = 256 nodes
    rejects(["in", ".a", list(range(253))], "limit_exceeded")
    rejects(["and", [T] * 100], "limit_exceeded")
    rejects(["==", ".a", {str(k): k for k in range(300)}], "limit_exceeded")


def test_string_limits() -> None:
    # R-6.3-1
    parse_statement(["like", ".a", "x" * 4096])
    rejects(["like", ".a", "x" * 4097], "limit_exceeded")
    rejects(["like", ".a", "ä" * 2049], "limit_exceeded")  # 4098 UTF-8 bytes
    rejects(["==", "." + "a" * 5000, 1], "limit_exceeded")
    rejects(["==", ".a", b"x" * 4097], "limit_exceeded")
    rejects(["==", ".a", {"k" * 4097: 1}], "limit_exceeded")


def test_hostile_deep_input_is_rejected_quickly() -> None:
    statement: list[Any] = ["==", ".a", 1]
    for _ in range(100_000):
        statement = ["not", statement]
    start = time.perf_counter()
    rejects(statement, "limit_exceeded")
    assert time.perf_counter() - start < 0.5


def test_hostile_wide_and_long_inputs_are_rejected_quickly() -> None:
    start = time.perf_counter()
    rejects(["and", [T] * 1_000_000], "limit_exceeded")
    rejects(["in", ".a", list(range(1_000_000))], "limit_exceeded")
    rejects(["like", ".a", "*" * 1_000_000], "limit_exceeded")
    rejects(["==", ".a", "ä" * 1_000_000], "limit_exceeded")
    assert time.perf_counter() - start < 0.5


def test_deep_statements_under_huge_limits_never_recurse() -> None:
    # Even a caller who lifts the limits gets no RecursionError from any walk.
    huge = Limits(max_policy_depth=200_000, max_policy_nodes=1_000_000, max_policy_steps=10**6)
    data: list[Any] = ["==", ".a", 1]
    for _ in range(10_000):  # ten times Python's recursion limit
        data = ["not", data]
    statement = parse_statement(data, limits=huge)
    assert evaluate([statement], {"a": 1}, limits=huge).outcome == "true"
    assert evaluate([statement], {}, limits=huge).outcome == "error"
    # the default budget runs out long before the bottom, and says so
    result = evaluate([statement], {"a": 1})
    assert result.outcome == "error" and "budget" in result.detail
    text = statement_text(statement)
    assert text.startswith('["not",["not",') and text.endswith("]" * 10_000)
    assert statement == parse_statement(statement.raw, limits=huge)
    assert hash(statement) == hash(parse_statement(data, limits=huge))


def test_deep_and_cyclic_args_never_recurse() -> None:
    deep: Value = 1
    for _ in range(100_000):
        deep = [deep]
    assert outcome(["==", ".", [[[1]]]], deep) == "false"
    assert outcome(["!=", ".", [[[1]]]], deep) == "true"
    assert outcome(["in", ".", [[1], [[1]]]], deep) == "false"
    assert outcome(["all", ".", ["any", ".", ["==", ".", 1]]], deep) == "false"
    assert outcome(["==", ".[0][0][0]", [[1]]], deep) == "false"
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    assert outcome(["==", ".", [[[[1]]]]], cyclic) == "false"
    assert outcome(["==", ".[0][0][0][0]", []], cyclic) == "false"
    # all over a cycle only ever goes as deep as the statement
    assert outcome(["all", ".", ["all", ".", ["==", ".", 1]]], cyclic) == "false"


# --------------------------------------------------------------------------- budget


def test_step_budget() -> None:
    # R-6.3-2
    tight = Limits(max_policy_steps=4)
    assert run(["and", [T, T]], ARGS, limits=tight).outcome == "error"  # 1 + 2 * (1 + 1 + 1)
    assert run(["and", [T]], ARGS, limits=tight).outcome == "true"  # 1 + (1 + 1 + 1)
    result = run(["and", [T, T, T]], ARGS, limits=tight)
    assert result.outcome == "error" and "budget of 4" in result.detail
    # == and in: every data item of the literal
    assert run(["==", ".xs", [1, 2]], ARGS, limits=tight).outcome == "error"  # 1 + 1 + 3
    assert run(["==", ".a", 1], ARGS, limits=Limits(max_policy_steps=3)).outcome == "true"
    assert run(["in", ".a", [9, 1]], ARGS, limits=tight).outcome == "error"  # 1 + 1 + 3
    assert run(["in", ".a", [1]], ARGS, limits=tight).outcome == "true"  # 1 + 1 + 2
    # a selector: one step per step of its path
    assert run(["==", ".m.k", "v"], ARGS, limits=tight).outcome == "true"  # 1 + 2 + 1
    assert run(["==", '.m["k"][0]', "v"], ARGS, limits=tight).outcome == "error"  # 1 + 3 + 1
    # all/any: one step per element plus the element's own
    assert run(["all", ".", [">", ".", 0]], [1], limits=tight).outcome == "true"  # 1 + 1 + 1
    assert run(["all", ".", [">", ".", 0]], [1, 2], limits=tight).outcome == "error"
    # like: one step per literal segment, and one per 64 code points
    assert run(["like", ".", "*"], "x" * 63, limits=tight).outcome == "true"  # 1 + 2 + 0
    assert run(["like", ".", "*"], "x" * 64, limits=tight).outcome == "true"  # 1 + 2 + 1
    assert run(["like", ".", "*"], "x" * 128, limits=tight).outcome == "error"  # 1 + 2 + 2
    assert run(["like", ".", "**"], "", limits=tight).outcome == "true"  # 1 + 3
    assert run(["like", ".", "***"], "", limits=tight).outcome == "error"  # 1 + 4


def test_budget_is_shared_by_the_caveats_of_one_evaluation() -> None:
    # R-6.3-3
    tight = Limits(max_policy_steps=4)
    one = parse_statement(["and", [T]])  # 4 steps
    assert evaluate([one], ARGS, limits=tight).outcome == "true"
    result = evaluate([one, one], ARGS, limits=tight)
    assert result.outcome == "error" and result.detail.startswith("caveat 1:")
    # one Budget across calls: the second call finds it spent
    budget = Budget(4)
    assert evaluate([one], ARGS, budget=budget).outcome == "true"
    assert evaluate([one], ARGS, budget=budget).outcome == "error"


def test_an_unresolved_selector_does_not_charge_the_literal() -> None:
    # R-6.3-2: the literal of ==, !=, in is charged once the selector resolved; a statement
    # whose selector does not resolve costs 1 plus its path, whatever its literal
    literal = list(range(200))
    for op in ("==", "!=", "in"):
        statement = parse_statement([op, ".a.b", literal if op == "in" else [1, 2]])
        budget = Budget(1000)
        assert evaluate([statement], {}, budget=budget).outcome == "error"
        assert budget.spent == 1 + 2
    resolved = Budget(1000)
    assert evaluate([parse_statement(["in", ".a", literal])], {"a": 5}, budget=resolved).holds
    assert resolved.spent == 1 + 1 + 201
    # all/any over a value that is not an array: 1 plus the path, no element
    over_text = Budget(1000)
    quantified = parse_statement(["all", ".a", ["==", ".", 1]])
    assert evaluate([quantified], {"a": "x"}, budget=over_text).outcome == "error"
    assert over_text.spent == 2


def test_a_spend_selector_costs_one_plus_its_path() -> None:
    # R-6.3-3: a spend limit's selector (V11) costs what a caveat's selector costs
    evaluation = Evaluation({"a": {"b": 7}})
    assert evaluation.select(parse_statement(["==", ".a.b", 0]).selector) == (7, "")  # type: ignore[arg-type]
    assert evaluation.budget.spent == 3
    spent = Evaluation({"a": 1}, limits=Limits(max_policy_steps=1))
    value, why = spent.select(parse_statement(["==", ".a", 0]).selector)  # type: ignore[arg-type]
    assert value is None and "budget" in why


def test_the_node_count_counts_each_element_once() -> None:
    # R-6.3-1: 1 for the statement, plus the elements or entries of every array and map
    seven = ["in", ".x", [1, 2, 3]]
    parse_statement(seven, limits=Limits(max_policy_nodes=7))
    with pytest.raises(DecodeError, match="limit_exceeded"):
        parse_statement(seven, limits=Limits(max_policy_nodes=6))
    nested = ["==", ".x", {"a": [1], "b": 2}]  # 1 + 3 + 2 (map values) + 1 (the list)
    parse_statement(nested, limits=Limits(max_policy_nodes=7))
    with pytest.raises(DecodeError, match="limit_exceeded"):
        parse_statement(nested, limits=Limits(max_policy_nodes=6))


def test_an_evaluation_charges_a_remembered_answer_again() -> None:
    # R-6.3-3: reusing an answer never makes a restated caveat free
    one = parse_statement(["and", [T]])  # 4 steps
    evaluation = Evaluation(ARGS, limits=Limits(max_policy_steps=11))
    assert evaluation.caveats([one]).outcome == "true"
    assert evaluation.caveats([one]).outcome == "true"
    assert evaluation.budget.spent == 8
    result = evaluation.caveats([one])
    assert result.outcome == "error" and "budget of 11" in result.detail
    assert evaluation.caveats([one]).outcome == "error"


def test_the_issue_14_attack_is_bounded() -> None:
    # issue 14 finding 1: a like of 4,096 stars under `all` over 2,035 empty strings was
    # charged one step per element and ran the glob over 4,097 segments each time
    stars = parse_statement(["all", ".xs", ["like", ".", "*" * 4096]])
    args = {"xs": [""] * 2035}
    evaluation = Evaluation(args)
    start = time.perf_counter()
    for _link in range(5):  # five links restating it, one budget
        assert evaluation.caveats([stars]).outcome == "error"
    assert time.perf_counter() - start < 0.05
    assert evaluation.budget.spent > Limits().max_policy_steps


def test_a_huge_list_under_a_quantifier_stops_at_the_budget() -> None:
    start = time.perf_counter()
    result = run(["any", ".", ["==", ".", 1]], [0] * 1_000_000, limits=Limits())
    assert result.outcome == "error" and "budget" in result.detail
    assert time.perf_counter() - start < 0.5


# --------------------------------------------------------------------------- evaluate and API


def test_evaluate_is_a_conjunction() -> None:
    t, f, e = parse_statement(T), parse_statement(F), parse_statement(E)
    assert evaluate([], ARGS) == Result("true", "")
    assert evaluate([], ARGS).holds
    assert evaluate([t, t], ARGS).outcome == "true"
    result = evaluate([t, f], ARGS)
    assert result.outcome == "false" and not result.holds
    assert result.detail == 'caveat 1: ["==",".a",2] is false'
    # an error anywhere wins over a false anywhere: the outcome ignores order
    assert evaluate([f, e], ARGS).outcome == "error"
    assert evaluate([e, f], ARGS).outcome == "error"
    result = evaluate([t, f, e], ARGS)
    assert result.detail == "caveat 2: == .missing: key 'missing' is missing"


def test_error_details_name_the_failing_statement() -> None:
    result = run(["and", [T, ["or", [F, ["not", ["<", ".s", 3]]]]]], ARGS)
    assert result.detail == "caveat 0: and[1] > or[1] > not > < .s: selects a string, not a number"
    result = run(["all", ".xs", ["like", ".", "*"]], ARGS)
    assert result.detail == "caveat 0: all .xs[0] > like .: selects a int, not a string"
    result = run(["==", ".m.k.z", 1], ARGS)
    assert result.detail == "caveat 0: == .m.k.z: cannot take key 'z' of a string"


def test_details_do_not_echo_argument_values() -> None:
    secret = "hunter2-secret"
    for statement in (["<", ".p", 1], ["==", ".p.x", 1], ["==", ".p", "other"]):
        result = run(statement, {"p": secret})
        assert secret not in result.detail


def test_evaluate_is_total_even_beyond_its_declared_types() -> None:
    class Hostile:
        def __hash__(self) -> int:
            return hash("k")

        def __eq__(self, other: object) -> bool:
            raise RuntimeError("boom")

    result = evaluate([parse_statement(["==", ".k", 1])], {Hostile(): 1})
    assert result.outcome == "error" and result.detail.startswith("internal error")
    # objects outside the data model are errors, not silently unequal
    assert evaluate([parse_statement(["!=", ".", 1])], object()).outcome == "error"
    assert evaluate(["not a statement"], {}).outcome == "error"  # type: ignore[list-item]


def test_statement_identity_and_raw() -> None:
    data: list[Any] = ["in", ".a", [1, {"k": [b"\x01"]}]]
    statement = parse_statement(data)
    assert statement.op == "in"
    assert statement.selector is not None and statement.selector.path == ("a",)
    assert statement.raw == data
    assert statement == parse_statement(data) and hash(statement) == hash(parse_statement(data))
    assert statement != parse_statement(["in", ".a", [True, {"k": [b"\x01"]}]])  # 1 is not True
    assert parse_statement(["==", ".a", 1]) != parse_statement(["==", ".a", True])
    assert (
        len(
            {
                parse_statement(["==", ".a", 1]),
                parse_statement(["==", ".a", True]),
                parse_statement(["==", ".a", 1]),
            }
        )
        == 2
    )
    # neither the caller's data nor .raw can be used to change a parsed statement
    data[2][0] = 2
    assert evaluate([statement], {"a": 1}).outcome == "true"
    raw = statement.raw
    assert isinstance(raw, list)
    raw[2] = [2]
    assert evaluate([statement], {"a": 1}).outcome == "true"
    assert statement.raw == ["in", ".a", [1, {"k": [b"\x01"]}]]
    assert repr(statement).startswith('Statement(["in",')


def test_children() -> None:
    statement = parse_statement(["and", [T, ["not", F], ["all", ".xs", T]]])
    assert [child.op for child in statement.children] == ["==", "not", "all"]
    assert statement.children[1].children[0].raw == F
    assert statement.children[2].children[0].raw == T
    assert statement.selector is None


def test_to_text() -> None:
    assert statement_text(parse_statement(["==", ".a", {"k": [1, None, True]}])) == (
        '["==",".a",{"k":[1,null,true]}]'
    )
    assert (
        statement_text(parse_statement(["like", ".to", "*@exämple.com"]))
        == '["like",".to","*@exämple.com"]'
    )
    assert (
        statement_text(parse_statement(["==", '.["q\\"k"]', "a\nb"]))
        == '["==",".[\\"q\\\\\\"k\\"]","a\\nb"]'
    )
    assert (
        statement_text(parse_statement(["==", ".b", b"hi"])) == '["==",".b",{"/":{"bytes":"aGk"}}]'
    )
    assert statement_text(parse_statement(["and", []])) == '["and",[]]'
    assert statement_text(parse_statement(["==", ".", {}])) == '["==",".",{}]'


# --------------------------------------------------------------------------- strategies

KEYS = ["a", "b", "c", "naïve", 'q"k']
SCALARS = st.one_of(
    st.integers(-3, 3),
    st.text(alphabet="ab*ä", max_size=3),
    st.binary(max_size=2),
    st.booleans(),
    st.none(),
)
#: values in the policy data model, shaped to meet generated selectors often
VALUES: st.SearchStrategy[Value] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner),
    max_leaves=8,
)
ARGS_STRATEGY: st.SearchStrategy[Value] = (
    st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4) | VALUES
)


def selector_text(path: list[str | int]) -> str:
    text = "."
    for position, step in enumerate(path):
        if isinstance(step, int):
            text += f"[{step}]"
        elif step.isascii() and step.isidentifier():
            text += ("." if position else "") + step
        else:
            text += '["' + step.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return text


SELECTORS = st.lists(st.sampled_from(KEYS) | st.integers(0, 2), max_size=3).map(selector_text)
PATTERNS = st.lists(st.sampled_from(["a", "b", "ä", "*", "\\*", "\\\\"]), max_size=4).map("".join)
LEAVES = st.one_of(
    st.tuples(st.sampled_from(["==", "!="]), SELECTORS, VALUES),
    st.tuples(st.sampled_from(["<", "<=", ">", ">="]), SELECTORS, st.integers(-3, 3)),
    st.tuples(st.just("like"), SELECTORS, PATTERNS),
    st.tuples(st.just("in"), SELECTORS, st.lists(VALUES, max_size=3)),
).map(list)


def _extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, max_size=3)).map(list),
        inner.map(lambda statement: ["not", statement]),
        st.tuples(st.sampled_from(["all", "any"]), SELECTORS, inner).map(list),
    )


#: raw well-formed statements (JSON-like data)
RAW_STATEMENTS: st.SearchStrategy[Any] = st.recursive(LEAVES, _extend, max_leaves=6)
#: parsed statements
STATEMENTS: st.SearchStrategy[Statement] = RAW_STATEMENTS.map(
    lambda raw: parse_statement(raw, limits=ROOMY)
)

#: anything a lax decoder might produce, biased towards almost-statements
JUNK: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.integers(),
        st.floats(),
        st.text(max_size=6),
        st.binary(max_size=3),
        st.booleans(),
        st.none(),
        st.sampled_from([*OPS, ".", ".a", ".[0]", '.["k"]', "*", "\\", ".[-1]"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=3), inner, max_size=3),
        st.tuples(st.sampled_from(OPS), inner).map(list),
        st.tuples(st.sampled_from(OPS), inner, inner).map(list),
        st.tuples(st.sampled_from(OPS), SELECTORS, inner).map(list),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, max_size=3)).map(list),
    ),
    max_leaves=12,
)


def outcome_of(statements: list[Statement], args: Value) -> str:
    result = evaluate(statements, args, limits=ROOMY)
    assert result.outcome in OUTCOMES
    assert not result.detail.startswith("internal error"), result
    return result.outcome


# --------------------------------------------------------------------------- properties


@given(st.lists(STATEMENTS, max_size=3), ARGS_STRATEGY, st.integers(1, 40))
def test_evaluate_is_total(statements: list[Statement], args: Value, steps: int) -> None:
    for limits in (Limits(), Limits(max_policy_steps=steps)):
        result = evaluate(statements, args, limits=limits)
        assert result.outcome in OUTCOMES
        assert not result.detail.startswith("internal error"), result
        assert (result.detail == "") == (result.outcome == "true")


@given(STATEMENTS, ARGS_STRATEGY)
def test_not_is_an_involution_on_non_errors(statement: Statement, args: Value) -> None:
    plain = outcome_of([statement], args)
    once = outcome_of([parse_statement(["not", statement.raw], limits=ROOMY)], args)
    twice = outcome_of([parse_statement(["not", ["not", statement.raw]], limits=ROOMY)], args)
    if plain == "error":
        assert once == twice == "error"
    else:
        assert once == {"true": "false", "false": "true"}[plain]
        assert twice == plain


@given(st.lists(STATEMENTS, max_size=4), ARGS_STRATEGY)
def test_and_or_agree_with_all_any(statements: list[Statement], args: Value) -> None:
    children = [outcome_of([statement], args) for statement in statements]
    raws = [statement.raw for statement in statements]
    both = outcome_of([parse_statement(["and", raws], limits=ROOMY)], args)
    either = outcome_of([parse_statement(["or", raws], limits=ROOMY)], args)
    conjunction = outcome_of(statements, args)  # a link's caveat list is an "and"
    if "error" in children:
        assert both == either == conjunction == "error"
    else:
        assert both == conjunction == ("true" if all(c == "true" for c in children) else "false")
        assert either == ("true" if any(c == "true" for c in children) else "false")


@given(STATEMENTS, st.lists(VALUES, max_size=4))
def test_quantifiers_agree_with_all_any(statement: Statement, elements: list[Value]) -> None:
    per_element = [outcome_of([statement], element) for element in elements]
    every = outcome_of([parse_statement(["all", ".", statement.raw], limits=ROOMY)], elements)
    some = outcome_of([parse_statement(["any", ".", statement.raw], limits=ROOMY)], elements)
    if "error" in per_element:
        assert every == some == "error"
    else:
        assert every == ("true" if all(o == "true" for o in per_element) else "false")
        assert some == ("true" if any(o == "true" for o in per_element) else "false")


@given(st.lists(STATEMENTS, max_size=4), ARGS_STRATEGY)
def test_outcome_does_not_depend_on_order(statements: list[Statement], args: Value) -> None:
    # R-6.2-7
    forward = outcome_of(statements, args)
    assert outcome_of(statements[::-1], args) == forward
    raws = [statement.raw for statement in statements]
    for op in ("and", "or"):
        assert outcome_of([parse_statement([op, raws], limits=ROOMY)], args) == outcome_of(
            [parse_statement([op, raws[::-1]], limits=ROOMY)], args
        )


@given(st.lists(STATEMENTS, max_size=3), STATEMENTS, ARGS_STRATEGY, st.integers(0, 3))
def test_adding_a_caveat_never_grants(
    statements: list[Statement], extra: Statement, args: Value, position: int
) -> None:
    before = outcome_of(statements, args)
    widened = [*statements[:position], extra, *statements[position:]]
    after = outcome_of(widened, args)
    if before != "true":
        assert after != "true"
    if after == "true":
        assert before == "true" and outcome_of([extra], args) == "true"


@given(JUNK)
def test_parse_is_total(data: Any) -> None:
    try:
        statement = parse_statement(data)
    except DecodeError as error:
        assert error.code in {"caveat_invalid", "limit_exceeded"}
        return
    assert isinstance(statement, Statement)
    assert parse_statement(statement.raw) == statement
    outcome_of([statement], data)


@given(RAW_STATEMENTS)
def test_round_trip(raw: Any) -> None:
    statement = parse_statement(raw, limits=ROOMY)
    assert statement.raw == raw
    assert parse_statement(statement.raw, limits=ROOMY) == statement
    text = statement_text(statement)
    assert "\n" not in text
    if "bytes" not in text:
        assert json.loads(text) == raw


def test_remembered_statements_are_those_of_the_exact_data() -> None:
    # parse remembers statements by the exact encoding of their data: 1 and True,
    # "1" and 1, differ; a subclass of int is still refused; the limits are part of it
    import enum

    class Amount(enum.IntEnum):
        LIMIT = 1000

    one, true, text = (
        parse_statement(["==", ".a", 1]),
        parse_statement(["==", ".a", True]),
        parse_statement(["==", ".a", "1"]),
    )
    assert len({statement_text(one), statement_text(true), statement_text(text)}) == 3
    assert one != true and true != text and text != one  # noqa: PLR1714 - three pairs
    assert parse_statement(["==", ".a", 1]) is one  # remembered
    assert evaluate([true], {"a": 1}).outcome == "false"
    assert parse_statement(["<=", ".amount", 1000]) is parse_statement(["<=", ".amount", 1000])
    with pytest.raises(DecodeError, match="caveat_invalid"):
        parse_statement(["<=", ".amount", Amount.LIMIT])
    many = ["in", ".a", [1, 2, 3, 4, 5, 6]]
    assert parse_statement(many) is parse_statement(
        many
    )  # remembered under the default limits, not under these:
    with pytest.raises(DecodeError, match="limit_exceeded"):
        parse_statement(many, limits=Limits(max_policy_nodes=4))
    # maps keep their order in raw, which the encoding does not: never remembered
    ab, ba = (
        parse_statement(["==", ".m", {"a": 1, "b": 2}]),
        parse_statement(["==", ".m", {"b": 2, "a": 1}]),
    )
    raw_ab, raw_ba = cast("list[Any]", ab.raw), cast("list[Any]", ba.raw)
    assert list(raw_ab[2]) == ["a", "b"] and list(raw_ba[2]) == ["b", "a"]
