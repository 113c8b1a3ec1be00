"""The verifier (layer 6, spec 8): from a presentation and a request to one Decision.

:class:`Verifier` is the only way from untrusted bytes to a verified chain; its
checks are one function each (``_checks``), shared with ``inspect``.
"""

from agentchain.verifier._audit import AuditSink, JsonLinesAuditLog
from agentchain.verifier._cache import DEFAULT_PREFIX_CACHE_SIZE, PrefixCache, policy_fingerprint
from agentchain.verifier._revocation import (
    KEY_TARGET_DOMAIN,
    LINK_TARGET_DOMAIN,
    VerifiedRevocation,
    chain_targets,
    check_entitled,
    key_target,
    link_target,
    revoked_link,
    verify_revocation,
)
from agentchain.verifier._types import (
    FACTORS,
    ApprovalRequest,
    Decision,
    Outcome,
    Principal,
    Reason,
    Request,
    TrustPolicy,
    UsageReport,
    VerifiedChain,
)
from agentchain.verifier._verifier import Verifier

__all__ = [
    "DEFAULT_PREFIX_CACHE_SIZE",
    "FACTORS",
    "KEY_TARGET_DOMAIN",
    "LINK_TARGET_DOMAIN",
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
    "UsageReport",
    "VerifiedChain",
    "VerifiedRevocation",
    "Verifier",
    "chain_targets",
    "check_entitled",
    "key_target",
    "link_target",
    "policy_fingerprint",
    "revoked_link",
    "verify_revocation",
]
