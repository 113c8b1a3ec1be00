"""The payloads of the four signed objects (spec 5.5, 5.7, 9.1, 9.2) and what links carry.


Pure data: the codec turns them into claim maps and back; nothing here knows
bytes, encodings or signatures. ``KIND`` names the object kind of each claims
class (the codec looks up its typ and its decoder by it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal, TypeAlias

from agentchain._frozen import slot_init
from agentchain.crypto import PublicKey
from agentchain.model._authority import (
    Capability,
    Descriptor,
    Window,
    action_covers,
    check_action,
)
from agentchain.model._caveats import Statement
from agentchain.model._usage import Usage

#: the arguments of a request or an invocation: text keys, values in the CBOR/JSON data model
#: of spec 5.2 (spec 5.7); the one type for argument values everywhere
Arguments: TypeAlias = Mapping[str, object]

#: the five kinds of signed object (spec 5.3); each claims class names its own
ObjectKind = Literal["link", "invocation", "attestation", "approval", "revocation"]


@slot_init
@dataclass(frozen=True, slots=True)
class LinkClaims:
    """The payload of a link (spec 5.5); the same model in both encodings."""

    KIND: ClassVar[ObjectKind] = "link"

    #: thumbprint of the delegator's key, at the root only (spec 5.5; protocol 0.2): below the root
    #: the issuer is the parent's holder, which the signature check proves; None there
    issuer: bytes | None
    holder: PublicKey  # the delegatee's full key: the holder binding
    parent: bytes | None  # SHA-256 of the parent link's signed bytes; None at the root
    iat: int
    window: Window
    capabilities: tuple[Capability, ...]
    caveats: tuple[Caveat, ...]
    depth: int
    purpose: str | None
    descriptor: Descriptor
    approvals: tuple[ApprovalRequirement, ...] = ()
    usage: Usage | None = None  # spec 9.5: the behaviour factor


@dataclass(frozen=True, slots=True)
class Caveat:
    """spec 4.6: a policy statement over the arguments, optionally scoped to actions.

    Unscoped (``actions`` empty) it must hold for every request; scoped, only for
    requests whose action one of ``actions`` covers. On the wire an unscoped
    caveat is the bare statement, a scoped one the map ``{1: statement, 2: actions}``
    (JOSE: ``{"when": statement, "actions": actions}``).
    """

    statement: Statement
    actions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for action in self.actions:
            check_action(action, pattern=True)

    def applies_to(self, action: str) -> bool:
        return not self.actions or any(action_covers(a, action) for a in self.actions)


@dataclass(frozen=True, slots=True)
class ApprovalRequirement:
    """spec 9.2: requests this link marks as needing a human approval.

    It applies when the request's action is covered by one of ``actions`` (all
    actions when empty) and ``when`` holds over the arguments (always when None;
    a ``when`` that evaluates to ERROR applies too: fail towards oversight). The
    approver is ``approver``, or the chain's root signer when None.
    """

    when: Statement | None = None
    actions: tuple[str, ...] = ()
    approver: PublicKey | None = None

    def __post_init__(self) -> None:
        for action in self.actions:
            check_action(action, pattern=True)


@slot_init
@dataclass(frozen=True, slots=True)
class InvocationClaims:
    """The payload of an invocation (spec 5.7): the holder's proof of possession."""

    KIND: ClassVar[ObjectKind] = "invocation"

    chain: bytes  # digest of the last link: commits to the whole chain
    audience: str
    action: str
    resource: str
    #: the arguments, or empty when the invocation binds them by ``args_digest`` instead
    args: Arguments
    iat: int
    nonce: bytes
    #: spec 5.7: SHA-256 of the deterministic CBOR of the arguments, sent instead of them
    args_digest: bytes | None = None
    #: spec 5.7: the digests of every attestation and every approval the presentation
    #: carries, in container order, so that none can be stripped or added on the way
    attestations: tuple[bytes, ...] = ()
    approvals: tuple[bytes, ...] = ()


@slot_init
@dataclass(frozen=True, slots=True)
class AttestationClaims:
    """spec 9.1: an attester's statement that the key ``subject`` runs this code."""

    KIND: ClassVar[ObjectKind] = "attestation"

    issuer: bytes  # the attester's thumbprint
    subject: bytes  # the attested principal's thumbprint
    iat: int
    exp: int
    code: Mapping[str, bytes]
    model: str | None
    config: Mapping[str, bytes]


@slot_init
@dataclass(frozen=True, slots=True)
class ApprovalClaims:
    """spec 9.2: an approver's consent to one exact request (by its digest)."""

    KIND: ClassVar[ObjectKind] = "approval"

    issuer: bytes  # the approver's thumbprint
    request: bytes  # request_digest(...) of the approved request
    iat: int
    exp: int


@dataclass(frozen=True, slots=True)
class LinkRef:
    """spec 8.5: a link named by its claim-level identity, the same in both encodings.

    A link's digest differs between its CBOR and its JOSE spelling, and so does its
    child's parent claim; its other claims do not. Protocol 0.2 withdrew the link id and
    names the issuer at the root only, so a link is named by its claim digest
    (``codec.link_id``): SHA-256 of the deterministic CBOR of its claims without the parent.
    """

    id: bytes  # codec.link_id of the link's claims (32 bytes)


@dataclass(frozen=True, slots=True)
class RevocationClaims:
    """spec 8.5: a principal's signed statement that a link, or a key, is revoked.

    Exactly one of ``link`` (that link, in either encoding) and ``key`` (the
    thumbprint of a key: every link it holds or issued) is set. With ``before``,
    only links whose ``iat`` is strictly below it are covered. ``exp``, when set, is
    when the revoked things are expired anyway: a store may forget the entry after it.
    """

    KIND: ClassVar[ObjectKind] = "revocation"

    revoker: PublicKey  # the signer's full key, so the object verifies on its own
    iat: int
    link: LinkRef | None = None
    key: bytes | None = None
    before: int | None = None
    exp: int | None = None


#: the claims of any of the five signed objects
Claims: TypeAlias = (
    LinkClaims | InvocationClaims | AttestationClaims | ApprovalClaims | RevocationClaims
)
