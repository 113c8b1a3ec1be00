"""agentchain.testing: its strategies make what they promise, and hypothesis finds them.

- ``import agentchain`` never imports hypothesis (it is a test-time dependency);
- pyproject declares the hypothesis entry point, and the hook it names registers
  every public type for ``st.from_type``;
- scenarios are allowed by the verifier they describe, and their JSON form is
  enough to verify them again from scratch (what another implementation gets);
- non-canonical encodings are refused by the strict decoder, every one of them.
"""

from __future__ import annotations

import importlib
import itertools
import subprocess
import sys
import tomllib
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from agentchain import (
    AgentchainError,
    ApprovalRequirement,
    Capability,
    Caveat,
    DecodeError,
    Descriptor,
    Outcome,
    Presentation,
    PrivateKey,
    PublicKey,
    Request,
    TrustPolicy,
    Verifier,
    codec,
    issue,
    testing,
)
from agentchain.codec import Approval, Attestation, Invocation, Link, Revocation
from agentchain.model import Statement, Usage, UsageLimit
from agentchain.wire import cbor, jws

ROOT = Path(__file__).resolve().parent.parent


def test_importing_agentchain_does_not_import_hypothesis() -> None:
    code = "import sys, agentchain, agentchain.cli; assert 'hypothesis' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_pyproject_declares_the_entry_point_and_the_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    target = project["entry-points"]["hypothesis"]["agentchain"]
    module, _, name = target.partition(":")
    # a module of its own: hypothesis calls it while agentchain.testing may be half imported
    assert module == "agentchain._hypothesis"
    assert callable(getattr(importlib.import_module(module), name))
    assert any(req.startswith("hypothesis") for req in project["optional-dependencies"]["testing"])


_REGISTERED: list[type[Any]] = [
    PrivateKey,
    PublicKey,
    Capability,
    Caveat,
    Descriptor,
    ApprovalRequirement,
    Statement,
    Link,
    Invocation,
    Attestation,
    Approval,
    Revocation,
    Presentation,
    Request,
    UsageLimit,
    Usage,
    testing.Chain,
    testing.Scenario,
    testing.Mutation,
]


def test_importing_agentchain_testing_first_in_a_fresh_interpreter_works() -> None:
    # issue 14 finding 7: hypothesis, imported by agentchain.testing, ran the entry point on
    # the half-initialised module (AttributeError); the strategies must still be registered
    code = (
        "import agentchain.testing\n"
        "from hypothesis import strategies as st\n"
        "from agentchain.testing import Scenario\n"
        "from agentchain.codec import Presentation\n"
        "assert 'scenario' in repr(st.from_type(Scenario))\n"
        "assert 'scenario' in repr(st.from_type(Presentation))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_entry_point_hook_works_before_and_after_the_module_is_imported() -> None:
    code = (
        "from agentchain._hypothesis import _hypothesis_setup_hook\n"
        "_hypothesis_setup_hook()\n"
        "import sys\n"
        "assert 'agentchain.testing' in sys.modules\n"
        "_hypothesis_setup_hook()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def _name(cls: object) -> str:
    args = typing.get_args(cls)  # Link is Signed[LinkClaims]: name it after its claims
    return args[0].__name__ if args else getattr(cls, "__name__", str(cls))


@pytest.mark.parametrize("cls", _REGISTERED, ids=_name)
def test_the_hook_registers_every_type(cls: type[Any]) -> None:
    # the venv's editable install may predate the entry point: call the hook as hypothesis would
    testing._hypothesis_setup_hook()

    @settings(max_examples=5)  # what is drawn is tested elsewhere; here only that it resolves
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        drawn = data.draw(st.from_type(cls))
        assert isinstance(drawn, typing.get_origin(cls) or cls)
        if claims := typing.get_args(cls):  # one generic signed type: the claims tell the kind
            assert isinstance(drawn.claims, claims[0])

    draw()


@given(testing.scenarios())
def test_every_scenario_is_allowed_by_its_verifier(scenario: testing.Scenario) -> None:
    decision = scenario.verifier().verify(scenario.presentation, scenario.request)
    assert decision.outcome is Outcome.ALLOW, decision.reasons
    # and the factors it promises were checked, not skipped
    if scenario.attestation_required:
        assert decision.audit["factors"]["integrity"] == "pass"  # type: ignore[index]
        assert decision.audit["factors"]["oversight"] == "pass"  # type: ignore[index]


@given(testing.revocations())
def test_every_revocation_denies_its_scenario(pair: tuple[testing.Scenario, Revocation]) -> None:
    # R-8.5-8: the revoker is entitled and the revocation covers the chain, so the scenario
    # that its verifier allows is denied as revoked once that verifier accepts it
    scenario, revocation = pair
    verifier = scenario.verifier()
    verified = verifier.accept_revocation(revocation.encoded, chain=scenario.chain.token)
    assert verified.claims == revocation.claims and verified.encoded == revocation.encoded
    decision = verifier.verify(scenario.presentation, scenario.request)
    assert decision.outcome is Outcome.DENY
    assert [r.code for r in decision.reasons] == ["revoked"]
    # the same scenario, on a verifier that was never told, is allowed
    assert scenario.verifier().verify(scenario.presentation, scenario.request).outcome is (
        Outcome.ALLOW
    )


@given(testing.usages(), testing.scenarios(max_links=2, factors=False))
def test_usage_drawn_is_signed_and_read_back(usage: Usage, scenario: testing.Scenario) -> None:
    # spec 9.5: every drawn usage claim is one the issuer signs and the decoder reads back
    # unchanged, in both encodings (a JOSE link carries the same claims)
    assert usage.limits or usage.novelty is not None
    chain = scenario.chain
    token = issue(
        chain.root,
        chain.keys[1].public_key,
        capabilities=chain.token.links[0].claims.capabilities,
        usage=usage,
        now=chain.now,
        encoding="jose" if chain.encoding == "jose" else "cbor",
    )
    again = Presentation.from_text(token.to_text())
    assert again.links[0].claims.usage == usage
    for limit in usage.limits:
        assert isinstance(limit, UsageLimit)
        assert limit.approver is None or limit.on_exceed == "approve"


@given(testing.scenarios(max_links=2))
def test_a_scenario_in_json_is_enough_to_verify_it(scenario: testing.Scenario) -> None:
    # what another implementation receives: text, keys as JWK, the request with exact args
    case = scenario.to_json()
    request: dict[str, Any] = case["request"]  # type: ignore[assignment]
    args = cbor.decode(bytes.fromhex(request["args_cbor_hex"]))
    assert isinstance(args, dict)
    policy = TrustPolicy(
        anchors=tuple(PublicKey.from_jwk(k) for k in case["anchors"]),  # type: ignore[attr-defined]
        audience=str(case["audience"]),
        attesters=tuple(PublicKey.from_jwk(k) for k in case["attesters"]),  # type: ignore[attr-defined]
        attestation_required=tuple(case["attestation_required"]),  # type: ignore[arg-type]
    )
    now = int(case["now"])  # type: ignore[call-overload]
    verifier = Verifier(policy, clock=lambda: now)
    decision = verifier.verify(
        str(case["presentation"]),
        Request(request["action"], request["resource"], args),  # type: ignore[arg-type]
    )
    assert decision.outcome.value == case["expected"]
    assert bytes.fromhex(str(case["presentation_hex"])) == scenario.presentation.to_bytes()


@given(st.data(), testing.values())
def test_noncanonical_encodings_are_all_refused(data: st.DataObject, value: object) -> None:
    encoded = data.draw(testing.noncanonical_encodings(value))
    assert encoded != cbor.encode(value)  # type: ignore[arg-type]
    with pytest.raises(DecodeError) as caught:
        cbor.decode(encoded)
    assert caught.value.code in {
        "cbor_noncanonical",
        "cbor_indefinite",
        "cbor_duplicate_key",
        "cbor_malformed",
        "cbor_unsupported",  # a two-byte false, true or null: spec 5.2 refuses f8 xx outright
        "cbor_tag",  # an integer as a tagged bignum
    }


def test_noncanonical_encodings_cover_every_style() -> None:
    value = {1: [b"ab", "c"], 2: {"x": True}}
    canonical = cbor.encode(value)  # type: ignore[arg-type]
    codes = set()
    for index in range(len(testing._mutations._items(value))):
        for style in ("wide_head", "indefinite", "unsorted", "duplicate_key", "bignum"):
            encoded = testing._mutations._loose(value, index, style, [0])
            if encoded == canonical:
                continue
            with pytest.raises(DecodeError) as caught:
                cbor.decode(encoded)
            codes.add(caught.value.code)
    assert codes == {
        "cbor_noncanonical",
        "cbor_indefinite",
        "cbor_duplicate_key",
        "cbor_unsupported",
    }


@settings(max_examples=100)  # five-link chains with ES256 keys are slow to make
@given(testing.chains(min_links=2, max_links=5))
def test_chains_narrow_at_every_hop(chain: testing.Chain) -> None:
    links = chain.token.links
    assert len(chain.keys) == len(links) + 1
    for parent, child in itertools.pairwise(links):
        assert all(
            any(p.covers(c) for p in parent.claims.capabilities) for c in child.claims.capabilities
        )
        assert child.claims.window.inside(parent.claims.window)
        assert child.claims.depth < parent.claims.depth
    assert links[-1].claims.holder == chain.holder.public_key


def test_strategy_arguments_are_checked() -> None:
    with pytest.raises(InvalidArgument):
        testing.mutations(kinds=("melt",))
    with pytest.raises(InvalidArgument):
        testing.chains(min_links=3, max_links=2)
    with pytest.raises(InvalidArgument):
        testing.scenarios(encodings=())
    with pytest.raises(TypeError):
        testing.chains(2, 3)  # type: ignore[call-arg, arg-type]  # keyword-only


def test_seeded_keys_are_fixed() -> None:
    assert testing.seeded_key("alice") == testing.seeded_key("alice")
    assert testing.seeded_key("alice").public_key != testing.seeded_key("bob").public_key
    assert testing.seeded_key("alice", algorithm="ES256").alg == "ES256"


@given(testing.mutations(kinds=("text",)))
def test_text_mutations_change_the_text(mutation: testing.Mutation) -> None:
    assert mutation.data != mutation.scenario.presentation.to_text()
    try:
        decision = mutation.scenario.verifier().verify(mutation.data, mutation.scenario.request)
    except AgentchainError:
        return
    # only surrounding ASCII whitespace leaves the presentation itself unchanged (spec 5.1)
    assert str(mutation.data).strip(" \t\n\v\f\r") == mutation.scenario.presentation.to_text()
    assert decision.outcome is Outcome.ALLOW


def test_the_ci_profile_is_derandomized_with_more_examples() -> None:
    # CI runs the same examples on every run, and more of them than a developer's run
    # (dev inherits hypothesis' defaults, which are derandomized too when CI is set)
    ci, dev = settings.get_profile("ci"), settings.get_profile("dev")
    assert ci.derandomize
    assert ci.max_examples > dev.max_examples


def test_json_spellings_cover_every_style() -> None:
    # spec/jose.md J.2: whitespace, member order and escapes read as the same object; a
    # repeated member (R-J.2-1), a fraction or a too-large integer (R-J.2-2), a byte order
    # mark and trailing data are refused
    value = {"ver": 2, "links": ["Ab.cD.ef"], "name": "caf\u00e9"}
    canonical = jws.dumps(value)
    caps = {"max_bytes": 1000, "max_depth": 4, "max_items": 50, "max_string_bytes": 100}
    for style in testing.JSON_ACCEPTED:
        spelled = testing._mutations._spell(value, style)
        assert spelled != canonical, style
        assert jws.loads(spelled, **caps) == value, style
    codes = {}
    for style in testing.JSON_REFUSED:
        with pytest.raises(DecodeError) as caught:
            jws.loads(testing._mutations._spell(value, style), **caps)
        codes[style] = caught.value.code
    assert codes == {
        "duplicate": "json_duplicate_key",
        "fraction": "json_invalid",
        "big_int": "json_invalid",
        "bom": "json_invalid",
        "trailing": "json_invalid",
    }


@given(testing.values(json=True), testing.statements(json=True))
def test_json_data_is_what_jose_carries(value: object, statement: Any) -> None:
    # spec/jose.md J.5: no byte strings, integers within +-(2^53-1): the issuer takes them
    caps = {"max_bytes": 10**6, "max_depth": 64, "max_items": 10**4, "max_string_bytes": 10**4}
    for data in (value, statement.raw):
        codec.json_data(data, "data")
        assert jws.loads(jws.dumps(data), **caps) == data


@given(testing.mutations(kinds=("reserialized",)))
def test_a_respelled_invocation_is_the_same_only_in_jose(mutation: testing.Mutation) -> None:
    # JWS signs the bytes as received (J.4): a JOSE invocation spelled otherwise and signed
    # again by the holder says the same; CBOR has one spelling (spec 5.2)
    scenario = mutation.scenario
    assert mutation.equivalent == (scenario.chain.encoding == "jose")
    assert mutation.data != scenario.presentation.to_bytes()
    if mutation.equivalent:
        decision = scenario.verifier().verify(mutation.data, scenario.request)
        assert decision.outcome is Outcome.ALLOW
    else:
        with pytest.raises(DecodeError):
            scenario.verifier().verify(mutation.data, scenario.request)
