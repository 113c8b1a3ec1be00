"""Hypothesis strategies for agentchain objects: for our tests and for other implementations'.

Import this module only in tests: it needs ``hypothesis`` (the ``testing`` extra), and
``import agentchain`` never imports it. Every strategy takes keyword-only arguments and
is deterministic given hypothesis' choices: keys come from drawn seeds
(:meth:`PrivateKey.from_seed`), times from :data:`NOW` plus drawn offsets, and link ids
and nonces from a drawn seed run through SHA-256. So a shrunk example is reproducible,
and a :class:`Scenario` can be written out (:meth:`Scenario.to_json`) and replayed
against another implementation.

When hypothesis is installed together with agentchain, its entry point
(:mod:`agentchain._hypothesis`) imports this module, which registers these strategies so that
``st.from_type(Presentation)`` and the like work. ``docs/testing.md`` shows how.

The ``encodings`` argument names the wire encodings to draw from: ``"cbor"`` and
``"jose"`` (spec/jose.md), both by default. Data drawn for a JOSE chain stays inside
what JSON can carry (no byte strings, integers within +-(2^53-1)); the issuer refuses
anything else (spec/jose.md J.5).
"""

from __future__ import annotations

import typing
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from agentchain import codec, model
from agentchain.codec import Presentation
from agentchain.crypto import PrivateKey, PublicKey
from agentchain.model import ApprovalRequirement, Capability, Caveat, Descriptor
from agentchain.testing._behaviour import revocations, usage_limits, usages
from agentchain.testing._chains import (
    Chain,
    Scenario,
    approvals,
    attestations,
    chains,
    invocations,
    links,
    presentations,
    requests,
    scenarios,
    tokens,
)
from agentchain.testing._data import (
    AUDIENCE,
    ENCODINGS,
    NOW,
    actions,
    approval_requirements,
    arguments,
    capabilities,
    caveats,
    descriptors,
    floats,
    policy_inputs,
    private_keys,
    public_keys,
    resources,
    seeded_key,
    statements,
    values,
)
from agentchain.testing._mutations import (
    JSON_ACCEPTED,
    JSON_REFUSED,
    MUTATIONS,
    Mutation,
    json_spellings,
    mutations,
    noncanonical_encodings,
)
from agentchain.verifier import Request

__all__ = [
    "AUDIENCE",
    "ENCODINGS",
    "JSON_ACCEPTED",
    "JSON_REFUSED",
    "MUTATIONS",
    "NOW",
    "Chain",
    "Mutation",
    "Scenario",
    "actions",
    "approval_requirements",
    "approvals",
    "arguments",
    "attestations",
    "capabilities",
    "caveats",
    "chains",
    "descriptors",
    "floats",
    "invocations",
    "json_spellings",
    "links",
    "mutations",
    "noncanonical_encodings",
    "policy_inputs",
    "presentations",
    "private_keys",
    "public_keys",
    "requests",
    "resources",
    "revocations",
    "scenarios",
    "seeded_key",
    "statements",
    "tokens",
    "usage_limits",
    "usages",
    "values",
]


# ---------------------------------------------------------------------------
# hypothesis' entry point


def _hypothesis_setup_hook() -> None:
    """Register the strategies for ``st.from_type`` (run when this module is imported, which
    hypothesis' entry point, :mod:`agentchain._hypothesis`, does when hypothesis is)."""
    registered: dict[type, SearchStrategy[Any]] = {
        PrivateKey: private_keys(),
        PublicKey: public_keys(),
        Capability: capabilities(),
        Caveat: caveats(),
        Descriptor: descriptors(),
        ApprovalRequirement: approval_requirements(),
        model.Statement: statements(),
        Presentation: presentations(),
        Request: requests(),
        Chain: chains(),
        Scenario: scenarios(),
        Mutation: mutations(),
        model.UsageLimit: usage_limits(),
        model.Usage: usages(),
    }
    for cls, strategy in registered.items():
        st.register_type_strategy(cls, strategy)
    # one generic type for the four signed objects: the claims type picks the strategy
    signed: dict[object, SearchStrategy[Any]] = {
        model.LinkClaims: links(),
        model.InvocationClaims: invocations(),
        model.AttestationClaims: attestations(),
        model.ApprovalClaims: approvals(),
        model.RevocationClaims: revocations().map(lambda pair: pair[1]),
    }

    def signed_objects(kind: type[Any]) -> SearchStrategy[Any]:
        args = typing.get_args(kind)
        return signed[args[0]] if args else st.one_of(*signed.values())

    st.register_type_strategy(codec.Signed, signed_objects)


_hypothesis_setup_hook()
