"""Making links, invocations, attestations, approvals, revocations (layer 6; spec 4.7, 8.5, 9)."""

from agentchain.issuer._issuer import (
    DEFAULT_APPROVAL_TTL,
    DEFAULT_ATTESTATION_TTL,
    DEFAULT_TTL,
    INLINE_ARGS_MAX,
    MAX_DEPTH,
    CapabilityLike,
    Random,
    approve,
    attest,
    delegate,
    invoke,
    issue,
    revoke,
)

__all__ = [
    "DEFAULT_APPROVAL_TTL",
    "DEFAULT_ATTESTATION_TTL",
    "DEFAULT_TTL",
    "INLINE_ARGS_MAX",
    "MAX_DEPTH",
    "CapabilityLike",
    "Random",
    "approve",
    "attest",
    "delegate",
    "invoke",
    "issue",
    "revoke",
]
