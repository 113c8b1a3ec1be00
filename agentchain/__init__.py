"""agentchain: holder-bound, attenuable delegation chains for AI agents.

The public surface is what this module exports; everything else is plumbing.
A person issues a link to an agent, the agent delegates a narrower slice to a
sub-agent, the sub-agent invokes with proof of possession, and a verifier
decides::

    token = issue(alice, agent.public_key, capabilities=[("calendar/read", "*")], depth=1)
    token = delegate(token, agent, sub.public_key, capabilities=[("calendar/read", "*")])
    presentation = invoke(token, sub, audience="https://cal.example", action="calendar/read",
                          resource="https://cal.example/alice")
    decision = Verifier(TrustPolicy(anchors=(alice.public_key,), audience="https://cal.example"))
                   .verify(presentation, Request("calendar/read", "https://cal.example/alice"))
"""

from agentchain.codec import Presentation, decode_presentation_unverified, request_digest
from agentchain.crypto import PrivateKey, PublicKey
from agentchain.errors import (
    AgentchainError,
    ChainError,
    DecodeError,
    InvalidKey,
    IssueError,
    SignatureError,
    UsageError,
)
from agentchain.issuer import approve, attest, delegate, invoke, issue, revoke
from agentchain.limits import Limits
from agentchain.model import (
    ApprovalRequirement,
    Capability,
    Caveat,
    Descriptor,
    Novelty,
    Usage,
    UsageLimit,
)
from agentchain.store import AsyncStore, MemoryStore, Store
from agentchain.verifier import (
    ApprovalRequest,
    Decision,
    JsonLinesAuditLog,
    Outcome,
    Principal,
    Reason,
    Request,
    TrustPolicy,
    UsageReport,
    VerifiedChain,
    VerifiedRevocation,
    Verifier,
    verify_revocation,
)

__version__ = "0.1.0"

__all__ = [
    "AgentchainError",
    "ApprovalRequest",
    "ApprovalRequirement",
    "AsyncStore",
    "Capability",
    "Caveat",
    "ChainError",
    "Decision",
    "DecodeError",
    "Descriptor",
    "InvalidKey",
    "IssueError",
    "JsonLinesAuditLog",
    "Limits",
    "MemoryStore",
    "Novelty",
    "Outcome",
    "Presentation",
    "Principal",
    "PrivateKey",
    "PublicKey",
    "Reason",
    "Request",
    "SignatureError",
    "Store",
    "TrustPolicy",
    "Usage",
    "UsageError",
    "UsageLimit",
    "UsageReport",
    "VerifiedChain",
    "VerifiedRevocation",
    "Verifier",
    "__version__",
    "approve",
    "attest",
    "decode_presentation_unverified",
    "delegate",
    "invoke",
    "issue",
    "request_digest",
    "revoke",
    "verify_revocation",
]
