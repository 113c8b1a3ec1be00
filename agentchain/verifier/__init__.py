"""The verifier (layer 6, spec 8): from a presentation and a request to one Decision."""

from agentchain.verifier._cache import (
    DEFAULT_PREFIX_CACHE_SIZE,
    PrefixCache,
    policy_fingerprint,
)
from agentchain.verifier._verifier import (
    FACTORS,
    ApprovalRequest,
    AuditSink,
    Decision,
    JsonLinesAuditLog,
    Outcome,
    Principal,
    Reason,
    Request,
    TrustPolicy,
    VerifiedChain,
    Verifier,
)

__all__ = [
    "DEFAULT_PREFIX_CACHE_SIZE",
    "FACTORS",
    "ApprovalRequest",
    "AuditSink",
    "Decision",
    "JsonLinesAuditLog",
    "Outcome",
    "PrefixCache",
    "Principal",
    "Reason",
    "Request",
    "TrustPolicy",
    "VerifiedChain",
    "Verifier",
    "policy_fingerprint",
]
