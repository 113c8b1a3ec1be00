"""The protocol's data model (layer 3): pure data and the attenuation rules of spec 4.

Capabilities, descriptors and time windows (spec 4); the caveat language's
syntax (spec 6.1); the claims of links, invocations, attestations and approvals
(spec 5.5, 5.7, 9.1, 9.2). No bytes, no encodings, no signatures, no evaluation.
"""

from agentchain.model._authority import (
    KINDS,
    MAX_NAME_CHARS,
    Capability,
    Descriptor,
    DescriptorKind,
    Window,
    action_covers,
    capabilities_cover,
    check_action,
    check_resource,
    digests_agree,
    resource_covers,
)
from agentchain.model._caveats import (
    Op,
    Selector,
    Statement,
    Value,
    parse_selector,
    parse_statement,
    statement_text,
)
from agentchain.model._claims import (
    ApprovalClaims,
    ApprovalRequirement,
    Arguments,
    AttestationClaims,
    Caveat,
    Claims,
    InvocationClaims,
    LinkClaims,
    ObjectKind,
)
from agentchain.model._usage import (
    MAX_AMOUNT,
    MAX_LEARN,
    MAX_MARKS,
    MAX_PERIOD,
    Novelty,
    OnExceed,
    Usage,
    UsageLimit,
    charge_of,
    resource_host,
)

__all__ = [
    "KINDS",
    "MAX_AMOUNT",
    "MAX_LEARN",
    "MAX_MARKS",
    "MAX_NAME_CHARS",
    "MAX_PERIOD",
    "ApprovalClaims",
    "ApprovalRequirement",
    "Arguments",
    "AttestationClaims",
    "Capability",
    "Caveat",
    "Claims",
    "Descriptor",
    "DescriptorKind",
    "InvocationClaims",
    "LinkClaims",
    "Novelty",
    "ObjectKind",
    "OnExceed",
    "Op",
    "Selector",
    "Statement",
    "Usage",
    "UsageLimit",
    "Value",
    "Window",
    "action_covers",
    "capabilities_cover",
    "charge_of",
    "check_action",
    "check_resource",
    "digests_agree",
    "parse_selector",
    "parse_statement",
    "resource_covers",
    "resource_host",
    "statement_text",
]
