"""A request's arguments: normal form (spec 5.2) and their own limits (spec 5.6)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentchain import codec
from agentchain.crypto import PrivateKey
from agentchain.errors import DecodeError, UsageError
from agentchain.issuer import invoke, issue
from agentchain.limits import Limits
from agentchain.model import check_arguments
from agentchain.verifier import Outcome, Request, TrustPolicy, Verifier
from agentchain.wire import cbor, jws

NOW = 1_800_000_000
JSON_LIMITS = {"max_bytes": 1000, "max_depth": 4, "max_items": 10, "max_string_bytes": 100}

LEAVES = st.one_of(
    st.integers(-(2**64), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.booleans(),
    st.none(),
)
ARGS = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        LEAVES,
        lambda inner: st.one_of(
            st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=5), inner, max_size=5)
        ),
        max_leaves=20,
    ),
    max_size=5,
)


def refused(args: Any, code: str, limits: Limits | None = None) -> None:
    with pytest.raises(DecodeError) as exc:
        check_arguments(args, limits=limits or Limits())
    assert exc.value.code == code, exc.value


def test_a_100_kb_text_argument_is_within_the_default_limits() -> None:
    # R-5.6-5: sized for real tool calls, apart from the presentation's max_string_bytes
    args: dict[int | str, cbor.CBORValue] = {"price": 12.5, "note": "x" * 100_000}
    assert check_arguments(args) is args
    assert len(cbor.encode(args)) > Limits().max_string_bytes


@given(ARGS)
def test_max_args_bytes_is_the_length_of_the_deterministic_encoding(args: dict[str, Any]) -> None:
    # R-5.6-5: the bound is exact, computed without encoding
    normal = check_arguments(args, limits=Limits(max_args_depth=100, max_args_items=10_000))
    size = len(cbor.encode(normal))  # type: ignore[arg-type]
    roomy = {"max_args_depth": 100, "max_args_items": 10_000}
    assert check_arguments(args, limits=Limits(max_args_bytes=size, **roomy)) == normal
    refused(args, "limit_exceeded", Limits(max_args_bytes=size - 1, **roomy)) if size > 1 else None


def test_depth_and_items_are_bounded() -> None:
    # R-5.6-5: the map itself is depth 1; items are elements plus pairs, together
    deep: Any = 0
    for _ in range(15):
        deep = [deep]
    assert check_arguments({"a": deep}) == {"a": deep}  # 16 deep
    refused({"a": [deep]}, "limit_exceeded")
    tight = Limits(max_args_items=5)
    assert check_arguments({"a": [1, 2], "b": {"c": 3}}, limits=tight)  # 2 + 2 + 1
    refused({"a": [1, 2, 3], "b": {"c": 3}}, "limit_exceeded", tight)
    refused({"a": [1.5, 2, 3], "b": {"c": 3}}, "limit_exceeded", tight)  # the copy path too


def test_floats_are_folded_into_their_normal_form() -> None:
    # R-5.2-12: 12.0 is the integer 12, -0.0 is 0; other floats stay
    normal = check_arguments({"a": 12.0, "b": [-0.0, 1.5], "c": {"d": 2.0**70}})
    assert normal == {"a": 12, "b": [0, 1.5], "c": {"d": 2.0**70}}
    assert type(normal["a"]) is int and type(normal["c"]["d"]) is float  # type: ignore[index]


@pytest.mark.parametrize(
    "args",
    [
        {"x": float("nan")},
        {"x": [float("inf")]},
        {"x": (1, 2)},
        {"x": {1: 2}},
        {"x": 2**64},
        {"x": -(2**64) - 1},
        {"x": "\ud800"},
        {"x": {1, 2}},
    ],
)
def test_what_is_not_protocol_data_is_refused(args: Any) -> None:
    # R-5.7-2
    refused(args, "schema_invalid")
    with pytest.raises(UsageError):
        Request("a", "https://x/a", args)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ([1], "schema_invalid"),  # not a map at all: no TypeError from dict()
        ("x", "schema_invalid"),
        ({1: 2}, "schema_invalid"),  # a top-level key that is not text
        ({"x": {1: 2}}, "usage"),  # a nested one: a value outside the data model
        ({"x": float("nan")}, "usage"),
        ({"x": 2**64}, "usage"),
    ],
)
def test_request_arguments_boundary_between_schema_and_usage(args: Any, code: str) -> None:
    # R-8.1-3: the request's arguments are a map with text keys (schema_invalid, as
    # R-5.7-2 for an invocation's); a value inside it outside the data model is usage
    with pytest.raises((DecodeError, UsageError)) as caught:
        Request("a", "https://x/a", args)
    assert caught.value.code == code


def test_request_checks_action_then_resource_then_arguments() -> None:
    # R-8.1-3: the first failing of action, resource, arguments decides
    with pytest.raises(DecodeError) as caught:
        Request("a//b", "nope", [1])  # type: ignore[arg-type]
    assert caught.value.code == "schema_invalid"
    with pytest.raises(DecodeError) as caught:
        Request("a", "nope", [1])  # type: ignore[arg-type]
    assert caught.value.code == "resource_invalid"


def test_a_request_keeps_its_arguments_in_normal_form() -> None:
    # R-5.2-12: a resource server's 12.0 matches an invocation that signed 12
    request = Request("pay", "https://x/a", {"price": 12.0, "tip": 0.5})
    assert request.args == {"price": 12, "tip": 0.5}
    assert cbor.encode(dict(request.args)) == cbor.encode({"price": 12, "tip": 0.5})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "value"),
    [("1.5", 1.5), ("0.1", 0.1), ("-4.1e-3", -0.0041), ("1e21", 1e21), ("5e-324", 5e-324)],
)
def test_json_numbers_with_a_fraction_or_exponent_are_floats(text: str, value: float) -> None:
    # R-J.2-2
    parsed = jws.loads(f'{{"n":{text}}}'.encode(), **JSON_LIMITS)
    assert parsed == {"n": value} and type(parsed["n"]) is float


@pytest.mark.parametrize("text", ["12.0", "1.2e1", "-0.0", "0e0", "1e400", "-1e400", "1.0e19"])
def test_json_integers_spelt_as_floats_and_overflows_are_refused(text: str) -> None:
    # R-J.2-2: one spelling class per number, as in CBOR (R-5.2-12)
    with pytest.raises(DecodeError) as exc:
        jws.loads(f'{{"n":{text}}}'.encode(), **JSON_LIMITS)
    assert exc.value.code == "json_invalid"


@pytest.mark.parametrize("encoding", ["cbor", "jose"])
def test_a_float_argument_verifies_in_both_encodings(encoding: codec.Encoding) -> None:
    # R-5.2-12 R-6.2-3: the issue's example, end to end, in each encoding
    root, agent = (PrivateKey.from_seed(bytes([i]) * 32) for i in (1, 2))
    token = issue(
        root,
        agent.public_key,
        capabilities=[("pay", "https://x/pay/*")],
        caveats=[["<=", ".price", 20.0]],
        now=NOW,
        encoding=encoding,
    )
    policy = TrustPolicy(anchors=(root.public_key,), audience="https://x")
    for price, outcome in ((12.5, Outcome.ALLOW), (20.000000000000004, Outcome.DENY)):
        presentation = invoke(
            token,
            agent,
            audience="https://x",
            action="pay",
            resource="https://x/pay/1",
            args={"price": price},
            now=NOW,
        )
        verifier = Verifier(policy, clock=lambda: NOW)
        decision = verifier.verify(
            presentation.to_text(), Request("pay", "https://x/pay/1", {"price": price})
        )
        assert decision.outcome is outcome
