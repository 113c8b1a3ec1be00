"""Hard limits, checked before any expensive work (spec 5.6).

Every decode path takes a :class:`Limits`; the defaults are generous for real
chains and small enough that hostile input costs little. This module imports
nothing of the package (layer 1).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    #: bytes of a whole presentation or token (binary form; the text form may be 4/3 of it)
    max_presentation_bytes: int = 65_536
    #: bytes of one signed object (link, invocation, attestation, approval)
    max_object_bytes: int = 16_384
    #: links in one chain
    max_links: int = 16
    #: capabilities in one link
    max_capabilities: int = 32
    #: caveat statements in one link
    max_caveats: int = 32
    #: nesting depth of one policy statement
    max_policy_depth: int = 12
    #: nodes (operators, selectors, literals) of one policy statement
    max_policy_nodes: int = 256
    #: evaluation steps for one request: every caveat of every link and every approval
    #: requirement's ``when``, together (spec 6.3)
    max_policy_steps: int = 10_000
    #: bytes of any one text or byte string
    max_string_bytes: int = 4_096
    #: nesting depth of any CBOR item
    max_cbor_depth: int = 16
    #: items (array elements plus map pairs) in one decoded object, counted together
    max_cbor_items: int = 2_048
    #: attestations, and approvals, attached to one presentation (each)
    max_attachments: int = 8
    #: bytes of a request's arguments in their deterministic CBOR encoding (spec 5.6);
    #: any one string or byte string in them is bounded by this alone
    max_args_bytes: int = 1_048_576
    #: nesting depth of a request's arguments (the map itself is depth 1)
    max_args_depth: int = 16
    #: items (array elements plus map pairs) of a request's arguments, counted together
    max_args_items: int = 16_384

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Limits.{name} must be a positive int, got {value!r}")


DEFAULT_LIMITS = Limits()
