"""The trust policy is checked when it is built (spec 8.1): a wrong one is a usage error,
never a verifier that quietly trusts more or checks less."""

from __future__ import annotations

from typing import Any

import pytest

from agentchain import DecodeError, Limits, PrivateKey, TrustPolicy, UsageError
from agentchain.errors import AgentchainError
from agentchain.verifier._types import by_thumbprint

ANCHOR = PrivateKey.from_seed(bytes([1]) * 32).public_key
ATTESTER = PrivateKey.from_seed(bytes([4]) * 32).public_key
AUD = "https://api.example"


def _policy(**kw: Any) -> TrustPolicy:
    base: dict[str, Any] = {"anchors": (ANCHOR,), "audience": AUD}
    base.update(kw)
    return TrustPolicy(**base)


def test_defaults_are_those_the_vectors_assume() -> None:
    # R-8.1-1
    policy = _policy()
    assert policy.clock_skew == 60
    assert policy.max_ttl == 86_400
    assert policy.invocation_window == 300
    assert policy.algorithms == frozenset({"Ed25519", "ES256"})
    assert policy.limits == Limits()
    assert policy.attesters == () and policy.attestation_required == ()
    assert policy.max_attachment_ttl == 3_600


@pytest.mark.parametrize(
    "bad",
    [
        {"anchors": ()},
        {"anchors": ("not a key",)},
        {"audience": ""},
        {"audience": 7},
        {"algorithms": frozenset()},
        {"algorithms": frozenset({"Ed25519", "HS256"})},
        {"algorithms": frozenset({"none"})},
        {"algorithms": 5},
        {"limits": {"max_links": 4}},
        {"clock_skew": -1},
        {"clock_skew": 1.5},
        {"clock_skew": True},
        {"max_ttl": -1},
        {"invocation_window": "300"},
    ],
    ids=lambda kw: "-".join(f"{k}={v!r}" for k, v in kw.items()),
)
def test_a_policy_breaking_the_rules_is_refused_with_usage(bad: dict[str, Any]) -> None:
    # R-8.1-1
    with pytest.raises(UsageError) as info:
        _policy(**bad)
    assert info.value.code == "usage"


@pytest.mark.parametrize(
    "bad",
    [
        {"attesters": ("not a key",)},
        {"attesters": (ATTESTER, b"raw bytes")},
        {"max_attachment_ttl": -1},
        {"max_attachment_ttl": False},
    ],
    ids=lambda kw: "-".join(f"{k}={v!r}" for k, v in kw.items()),
)
def test_factor_settings_breaking_the_rules_are_refused_with_usage(bad: dict[str, Any]) -> None:
    # R-8.1-2
    with pytest.raises(UsageError) as info:
        _policy(**bad)
    assert info.value.code == "usage"


@pytest.mark.parametrize("pattern", ["", "payments/*", "flights/../pay", "a//b", "x y"])
def test_an_ill_formed_attestation_pattern_is_schema_invalid(pattern: str) -> None:
    # R-8.1-2
    with pytest.raises(AgentchainError) as info:
        _policy(attestation_required=(pattern,))
    assert info.value.code == "schema_invalid"
    assert isinstance(info.value, DecodeError)


def test_well_formed_factor_settings_are_kept() -> None:
    # R-8.1-2
    policy = _policy(
        attesters=[ATTESTER], attestation_required=["flights", "*"], max_attachment_ttl=0
    )
    assert policy.attesters == (ATTESTER,)
    assert policy.attestation_required == ("flights", "*")
    assert policy.attester(ATTESTER.thumbprint) == ATTESTER
    assert policy.attester(ANCHOR.thumbprint) is None
    # any iterable of names will do for the algorithms; it is kept as a frozenset
    assert _policy(algorithms=["Ed25519"]).algorithms == frozenset({"Ed25519"})


def test_a_key_is_found_by_its_thumbprint_among_many_as_the_policy_finds_it() -> None:
    # V2.1 and V3.4: the verifier's index answers as TrustPolicy.anchor / .attester do,
    # the first key of a thumbprint, None for any other, whatever the number of keys
    keys = [PrivateKey.from_seed(bytes([i]) * 32).public_key for i in range(1, 200)]
    policy = TrustPolicy(anchors=(*keys, keys[0]), audience="a", attesters=tuple(keys[:3]))
    anchor, attester = by_thumbprint(policy.anchors), by_thumbprint(policy.attesters)
    for key in keys:
        assert anchor(key.thumbprint) is policy.anchor(key.thumbprint) is key
        assert attester(key.thumbprint) is policy.attester(key.thumbprint)
    assert anchor(b"\x00" * 32) is None and policy.anchor(b"\x00" * 32) is None
    assert attester(keys[3].thumbprint) is None
    assert by_thumbprint(())(keys[0].thumbprint) is None


def test_names_are_read_as_a_mapping() -> None:
    key = PrivateKey.from_seed(b"\x09" * 32).public_key
    policy = TrustPolicy(anchors=(key,), audience="a", names={key.kid: "alice"})
    assert policy.name_of(key) == "alice" == policy.names.get(key.kid)
    assert policy.names.get("nobody") is None and policy.names.get("nobody", "x") == "x"
    assert dict(policy.names) == {key.kid: "alice"}
