"""The one registry of codes, and the exceptions that carry them.

Every code in :data:`REGISTRY` is either an *error* (the bytes are not a valid
token, or the caller asked for something impossible: an exception is raised)
or a *deny* reason (a valid token that does not authorize this request now: it
appears in a :class:`~agentchain.verifier.Decision`). The same strings appear in
spec/agentchain.md section 10, in the conformance vectors and in the CLI's JSON.

This module imports nothing of the package (layer 1).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final, Literal

#: every registered code, as a type: a typo in a literal code is a type error (a test
#: checks that this and REGISTRY name the same codes)
Code = Literal[
    "encoding_unknown",
    "base64_invalid",
    "limit_exceeded",
    "cbor_malformed",
    "cbor_noncanonical",
    "cbor_duplicate_key",
    "cbor_indefinite",
    "cbor_tag",
    "cbor_unsupported",
    "cbor_trailing",
    "encoding_mixed",
    "json_invalid",
    "json_duplicate_key",
    "jose_header_forbidden",
    "jose_crit_unsupported",
    "schema_invalid",
    "unknown_field",
    "version_unsupported",
    "type_mismatch",
    "caveat_invalid",
    "alg_not_allowed",
    "key_invalid",
    "signature_malformed",
    "signature_invalid",
    "chain_empty",
    "root_untrusted",
    "chain_broken",
    "issuer_mismatch",
    "scope_widened",
    "time_widened",
    "depth_exceeded",
    "time_invalid",
    "invocation_missing",
    "chain_digest_mismatch",
    "not_yet_valid",
    "expired",
    "revoked",
    "audience_mismatch",
    "invocation_stale",
    "invocation_future",
    "replay",
    "request_mismatch",
    "capability_missing",
    "caveat_failed",
    "attestation_missing",
    "attestation_mismatch",
    "attestation_expired",
    "approval_required",
    "approval_mismatch",
    "approval_expired",
    "approval_replayed",
    "usage",
    "store_error",
    "key_file_exposed",
    "presentation_missing",
    "header_invalid",
    "usage_exceeded",
    "usage_amount_invalid",
    "revocation_unentitled",
]


class Kind(enum.Enum):
    """Whether a code is raised as an exception or reported in a decision."""

    ERROR = "error"
    DENY = "deny"  # a reason in a decision: deny, or needs_approval for approval_required


@dataclass(frozen=True, slots=True)
class CodeInfo:
    kind: Kind
    summary: str


_E = Kind.ERROR
_D = Kind.DENY

#: code -> (kind, one-line meaning). Append only: codes are never renamed or reused.
REGISTRY: Final[dict[str, CodeInfo]] = {
    # -- text form and limits (spec 5.1, 5.6)
    "encoding_unknown": CodeInfo(_E, "text form has an unknown prefix, encoding or version"),
    "base64_invalid": CodeInfo(_E, "text form is not canonical unpadded base64url"),
    "limit_exceeded": CodeInfo(_E, "input exceeds a configured size, count or nesting limit"),
    # -- deterministic CBOR (spec 5.2)
    "cbor_malformed": CodeInfo(_E, "CBOR is truncated, uses a reserved encoding or invalid UTF-8"),
    "cbor_noncanonical": CodeInfo(
        _E, "CBOR is not deterministically encoded (non-minimal head or unsorted map keys)"
    ),
    "cbor_duplicate_key": CodeInfo(_E, "a CBOR map repeats a key"),
    "cbor_indefinite": CodeInfo(_E, "CBOR uses an indefinite-length item"),
    "cbor_tag": CodeInfo(_E, "CBOR carries a tag where none is allowed"),
    "cbor_unsupported": CodeInfo(_E, "CBOR carries a float or simple value the protocol excludes"),
    "cbor_trailing": CodeInfo(_E, "bytes follow the single top-level CBOR item"),
    # -- JOSE encoding (spec/jose.md)
    "encoding_mixed": CodeInfo(
        _E, "a presentation mixes encodings: one chain, one encoding (cbor or jose)"
    ),
    "json_invalid": CodeInfo(
        _E, "JSON is malformed, not UTF-8, or holds a float, NaN, or an oversized integer"
    ),
    "json_duplicate_key": CodeInfo(_E, "a JSON object repeats a member name"),
    "jose_header_forbidden": CodeInfo(
        _E, "a JWS header carries a member the profile forbids (jku, jwk, x5u, x5c, ...)"
    ),
    "jose_crit_unsupported": CodeInfo(_E, "a JWS header names a critical extension (crit)"),
    # -- structure (spec 5.3 to 5.5)
    "schema_invalid": CodeInfo(_E, "a field is missing, has the wrong type, or is out of range"),
    "unknown_field": CodeInfo(_E, "an unknown field or header appears where none is allowed"),
    "version_unsupported": CodeInfo(
        _E, "the object declares a protocol version this verifier lacks"
    ),
    "type_mismatch": CodeInfo(_E, "a signed object of one kind appears where another is expected"),
    "caveat_invalid": CodeInfo(_E, "a caveat is not a well-formed policy statement"),
    # -- keys and signatures (spec 3)
    "alg_not_allowed": CodeInfo(
        _E, "the algorithm is unknown, not allowed, or not bound to the key"
    ),
    "key_invalid": CodeInfo(_E, "a public key is malformed, non-canonical or of small order"),
    "signature_malformed": CodeInfo(
        _E, "a signature has the wrong length or a non-canonical or small-order component"
    ),
    "signature_invalid": CodeInfo(_E, "a signature does not verify under the expected key"),
    # -- chain structure and attenuation (spec 4, 7)
    "chain_empty": CodeInfo(_E, "the presentation holds no link"),
    "root_untrusted": CodeInfo(_E, "the root link is not signed by a trust anchor"),
    "chain_broken": CodeInfo(_E, "a link does not hash its parent's signed bytes"),
    "issuer_mismatch": CodeInfo(_E, "a link is not issued by its parent's holder"),
    "scope_widened": CodeInfo(_E, "a link grants a capability its parent does not cover"),
    "time_widened": CodeInfo(_E, "a link's validity window is not inside its parent's"),
    "depth_exceeded": CodeInfo(_E, "a link's remaining depth is not smaller than its parent's"),
    "time_invalid": CodeInfo(_E, "a validity window is empty or longer than the maximum TTL"),
    "invocation_missing": CodeInfo(_E, "no invocation: a chain alone never authorizes"),
    "chain_digest_mismatch": CodeInfo(_E, "the invocation is bound to a different chain"),
    # -- decisions (spec 8)
    "not_yet_valid": CodeInfo(_D, "a link is not valid before its nbf (with skew)"),
    "expired": CodeInfo(_D, "a link expired (with skew)"),
    "revoked": CodeInfo(_D, "a link of the chain is revoked"),
    "audience_mismatch": CodeInfo(_D, "the invocation names another audience"),
    "invocation_stale": CodeInfo(_D, "the invocation is older than the freshness window"),
    "invocation_future": CodeInfo(_D, "the invocation is dated in the future beyond the skew"),
    "replay": CodeInfo(_D, "the invocation's nonce was already used"),
    "request_mismatch": CodeInfo(_D, "the request differs from what the invocation signed"),
    "capability_missing": CodeInfo(
        _D, "some link does not grant the requested action on the resource"
    ),
    "caveat_failed": CodeInfo(_D, "some link's caveat does not hold for the request"),
    # -- factors (spec 9)
    "attestation_missing": CodeInfo(_D, "the action requires an attestation of the holder; none"),
    "attestation_mismatch": CodeInfo(_D, "an attestation contradicts the digests a link declared"),
    "attestation_expired": CodeInfo(_D, "the holder's only attestations are outside their window"),
    "approval_required": CodeInfo(_D, "the request needs a human approval that is not attached"),
    "approval_mismatch": CodeInfo(
        _D, "an attached approval is for another request or by another approver"
    ),
    "approval_expired": CodeInfo(_D, "the attached approval is outside its validity window"),
    "approval_replayed": CodeInfo(_D, "the attached approval was already used once"),
    # -- library use (never in a decision)
    "usage": CodeInfo(_E, "the caller asked for something the protocol does not allow"),
    # -- verifier state (spec 8.3): never an allow, whatever the store's trouble
    "store_error": CodeInfo(_E, "the verifier's state store is unreadable, corrupt or locked"),
    # -- the command line (spec 11): a private key its owner does not keep to themselves
    "key_file_exposed": CodeInfo(
        _E, "a private key file is readable or writable by its group or by others"
    ),
    # -- the HTTP and MCP bindings (spec/http.md, spec/mcp.md)
    "presentation_missing": CodeInfo(_E, "the request carries no AgentChain presentation"),
    "header_invalid": CodeInfo(
        _E, "the presentation's carrier is malformed: several credentials, or not one token68"
    ),
    # -- the behaviour factor (spec 9.5): usage limits in links
    "usage_exceeded": CodeInfo(_D, "the request would exceed a usage limit of the chain"),
    "usage_amount_invalid": CodeInfo(
        _D, "a spend limit's selector finds no non-negative number in the arguments"
    ),
    # -- signed revocations (spec 8.5): only a principal above the revoked link may revoke it
    "revocation_unentitled": CodeInfo(
        _E, "a revocation's signer is not entitled to revoke what it names in this chain"
    ),
}


class AgentchainError(Exception):
    """Base of every error the library raises. ``code`` is a key of REGISTRY."""

    code: Code

    def __init__(self, code: Code, message: str) -> None:
        if code not in REGISTRY:  # a typo here would leak an unregistered code
            raise ValueError(f"unregistered error code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class DecodeError(AgentchainError):
    """The bytes or text are not a well-formed object (wire, schema, limits)."""


class InvalidKey(AgentchainError):
    """A key is malformed, of an unsupported type, or not allowed."""


class SignatureError(AgentchainError):
    """A signature is malformed or does not verify."""


class ChainError(AgentchainError):
    """Links do not form a valid chain (trust, linkage, attenuation, binding)."""


class IssueError(AgentchainError):
    """The issuer refused to sign: the new link would widen authority."""


class UsageError(AgentchainError):
    """The caller asked for something the protocol does not allow (code ``usage``)."""

    def __init__(self, message: str) -> None:
        super().__init__("usage", message)


class KeyFileExposed(AgentchainError):
    """A private key file others can read or write (code ``key_file_exposed``): not used."""

    def __init__(self, message: str) -> None:
        super().__init__("key_file_exposed", message)


class StoreError(AgentchainError):
    """The verifier's state store failed (code ``store_error``): fail closed, never allow."""
