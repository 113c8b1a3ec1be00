"""Every conformance case, one module per vector file, each expected result stated by hand.

Invalid cases are made by mutating honest bytes so that the one defect under test is the
only one: a payload re-encoded with one non-canonical head is re-signed by its issuer, and
the invocation is re-bound to the mutated link, so a verifier that skipped the check under
test would accept the presentation.

:data:`CATEGORIES` is the order the files are built in; it matters, since a case records
the vector keys it mentions among those already made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from agentchain.vectors.generator.cases import (
    approval,
    attenuation,
    attestation,
    chain,
    context,
    jose,
    limits,
    policy,
    precedence,
    revocation,
    signature,
    time,
    usage,
    valid,
    wire,
)
from agentchain.vectors.generator.suite import Suite

CATEGORIES: Final[tuple[tuple[str, Callable[[Suite], None]], ...]] = (
    ("valid", valid.add_cases),
    ("wire", wire.add_cases),
    ("signature", signature.add_cases),
    ("chain", chain.add_cases),
    ("attenuation", attenuation.add_cases),
    ("time", time.add_cases),
    ("context", context.add_cases),
    ("revocation", revocation.add_cases),
    ("precedence", precedence.add_cases),
    ("policy", policy.add_cases),
    ("attestation", attestation.add_cases),
    ("approval", approval.add_cases),
    ("limits", limits.add_cases),
    ("jose", jose.add_cases),
    ("usage", usage.add_cases),
)
