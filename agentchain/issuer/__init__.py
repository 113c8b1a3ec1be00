"""Making links, invocations, attestations and approvals (layer 6, spec 4.7, 5.7, 9)."""

from agentchain.issuer._issuer import (
    DEFAULT_APPROVAL_TTL,
    DEFAULT_ATTESTATION_TTL,
    DEFAULT_TTL,
    MAX_DEPTH,
    CapabilityLike,
    Random,
    approve,
    attest,
    delegate,
    invoke,
    issue,
)

__all__ = [
    "DEFAULT_APPROVAL_TTL",
    "DEFAULT_ATTESTATION_TTL",
    "DEFAULT_TTL",
    "MAX_DEPTH",
    "CapabilityLike",
    "Random",
    "approve",
    "attest",
    "delegate",
    "invoke",
    "issue",
]
