"""Model <-> wire: the CBOR claim maps, the presentation container and the text form.

Layer 4. Decoding here checks structure, never trust: every object it returns
keeps the exact bytes it came from, and its signature is still unchecked. The
names say so (``decode_unverified``). Claim keys are the registry of spec 5.5.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from agentchain import policy
from agentchain.crypto import COSE_ALG, PrivateKey, PublicKey
from agentchain.errors import DecodeError, InvalidKey
from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.model import (
    Capability,
    Descriptor,
    Window,
    action_covers,
    check_action,
    check_resource,
)
from agentchain.wire import cbor, cose

VERSION: Final = 1

TYP_LINK: Final = "application/agentchain-link+cbor"
TYP_INVOCATION: Final = "application/agentchain-invocation+cbor"
TYP_ATTESTATION: Final = "application/agentchain-attestation+cbor"
TYP_APPROVAL: Final = "application/agentchain-approval+cbor"

#: spec 5.1: text form prefixes, naming encoding and version
TEXT_PREFIX_CBOR: Final = "ac1c."

# spec 5.5: link claim keys
L_VERSION, L_ISSUER, L_HOLDER, L_PARENT, L_ID = 1, 2, 3, 4, 5
L_IAT, L_NBF, L_EXP, L_CAPS, L_CAVEATS, L_DEPTH, L_PURPOSE, L_DESCRIPTOR = range(6, 14)
L_APPROVALS = 14
# spec 9.2: approval requirement keys
R_WHEN, R_ACTIONS, R_APPROVER = 1, 2, 3
# spec 9.1: attestation claim keys
A_VERSION, A_ISSUER, A_SUBJECT, A_IAT, A_EXP, A_CODE, A_MODEL, A_CONFIG = range(1, 9)
# spec 9.2: approval claim keys
V_VERSION, V_ISSUER, V_REQUEST, V_IAT, V_EXP = range(1, 6)
# spec 5.5: descriptor keys
D_KIND, D_NAME, D_CODE, D_MODEL, D_CONFIG = 1, 2, 3, 4, 5
# spec 5.7: invocation claim keys
I_VERSION, I_CHAIN, I_AUDIENCE, I_ACTION, I_RESOURCE, I_ARGS, I_IAT, I_NONCE = range(1, 9)
# spec 5.8: presentation container keys
P_VERSION, P_LINKS, P_INVOCATION, P_ATTESTATIONS, P_APPROVALS = 1, 2, 3, 4, 5

MAX_TIME: Final = 2**53 - 1  # seconds; far beyond any real clock, exact in every language
_ALG_BY_COSE: Final = {v: k for k, v in COSE_ALG.items()}


def digest(data: bytes) -> bytes:
    """SHA-256, the protocol's one hash (link digests, chain digests, revocation ids)."""
    return hashlib.sha256(data).digest()


# ---------------------------------------------------------------------------
# strict field access


class _Fields:
    """Reads a decoded CBOR map field by field and rejects what nobody read."""

    def __init__(self, value: object, where: str, allowed: frozenset[int]) -> None:
        if not isinstance(value, dict):
            raise DecodeError("schema_invalid", f"{where} must be a map")
        unknown = [k for k in value if k not in allowed]
        if unknown:
            raise DecodeError(
                "unknown_field", f"{where} has unknown key(s) {sorted(map(str, unknown))}"
            )
        self._map: dict[object, object] = value
        self._where = where

    def _get(self, key: int, required: bool) -> object:
        if key not in self._map:
            if required:
                raise DecodeError("schema_invalid", f"{self._where} lacks key {key}")
            return None
        return self._map[key]

    def uint(self, key: int, *, required: bool = True, upper: int = MAX_TIME) -> int | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= upper:
            raise DecodeError(
                "schema_invalid", f"{self._where} key {key} must be an int in 0..{upper}"
            )
        return value

    def text(self, key: int, *, required: bool = True) -> str | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            raise DecodeError("schema_invalid", f"{self._where} key {key} must be a non-empty text")
        return value

    def bstr(self, key: int, *, size: tuple[int, int], required: bool = True) -> bytes | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, bytes) or not size[0] <= len(value) <= size[1]:
            raise DecodeError(
                "schema_invalid", f"{self._where} key {key} must be {size[0]}..{size[1]} bytes"
            )
        return value

    def array(self, key: int, *, required: bool = True) -> list[object] | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, list):
            raise DecodeError("schema_invalid", f"{self._where} key {key} must be an array")
        return value

    def raw(self, key: int) -> object:
        return self._get(key, False)


def _req(value: object) -> object:
    """Narrow a value _Fields returned for a required field (it is never None there)."""
    assert value is not None
    return value


# ---------------------------------------------------------------------------
# keys and digests


def decode_public_key(value: object, where: str) -> PublicKey:
    if not isinstance(value, dict):
        raise DecodeError("schema_invalid", f"{where} must be a COSE_Key map")
    return PublicKey.from_cose_key(value)


def _encode_digests(digests: Mapping[str, bytes]) -> dict[str, bytes]:
    return dict(digests)


def _decode_digests(value: object, where: str) -> dict[str, bytes]:
    if not isinstance(value, dict) or not value:
        raise DecodeError("schema_invalid", f"{where} must be a non-empty map")
    if len(value) > 8:
        raise DecodeError("limit_exceeded", f"{where} has more than 8 digests")
    out: dict[str, bytes] = {}
    for alg, dig in value.items():
        if not isinstance(alg, str) or not isinstance(dig, bytes):
            raise DecodeError("schema_invalid", f"{where} maps text to bytes")
        out[alg] = dig
    return out


def encode_descriptor(d: Descriptor) -> dict[int, object]:
    out: dict[int, object] = {D_KIND: d.kind}
    if d.name is not None:
        out[D_NAME] = d.name
    if d.code:
        out[D_CODE] = _encode_digests(d.code)
    if d.model is not None:
        out[D_MODEL] = d.model
    if d.config:
        out[D_CONFIG] = _encode_digests(d.config)
    return out


def decode_descriptor(value: object) -> Descriptor:
    f = _Fields(value, "descriptor", frozenset({D_KIND, D_NAME, D_CODE, D_MODEL, D_CONFIG}))
    kind = f.text(D_KIND)
    code = f.raw(D_CODE)
    config = f.raw(D_CONFIG)
    return Descriptor(
        kind=kind,  # type: ignore[arg-type]  # checked by Descriptor.__post_init__
        name=f.text(D_NAME, required=False),
        code=_decode_digests(code, "descriptor code") if code is not None else {},
        model=f.text(D_MODEL, required=False),
        config=_decode_digests(config, "descriptor config") if config is not None else {},
    )


# ---------------------------------------------------------------------------
# links


@dataclass(frozen=True, slots=True)
class LinkClaims:
    """The payload of a link (spec 5.5)."""

    issuer: bytes  # thumbprint of the delegator's key
    holder: PublicKey  # the delegatee's full key: the holder binding
    parent: bytes | None  # SHA-256 of the parent link's signed bytes; None at the root
    id: bytes
    iat: int
    window: Window
    capabilities: tuple[Capability, ...]
    caveats: tuple[Caveat, ...]
    depth: int
    purpose: str | None
    descriptor: Descriptor
    approvals: tuple[ApprovalRequirement, ...] = ()

    def to_cbor(self) -> dict[int, object]:
        out: dict[int, object] = {
            L_VERSION: VERSION,
            L_ISSUER: self.issuer,
            L_HOLDER: self.holder.to_cose_key(),
            L_ID: self.id,
            L_IAT: self.iat,
            L_NBF: self.window.nbf,
            L_EXP: self.window.exp,
            L_CAPS: [[c.action, c.resource] for c in self.capabilities],
            L_CAVEATS: [c.to_cbor() for c in self.caveats],
            L_DEPTH: self.depth,
            L_DESCRIPTOR: encode_descriptor(self.descriptor),
        }
        if self.parent is not None:
            out[L_PARENT] = self.parent
        if self.purpose is not None:
            out[L_PURPOSE] = self.purpose
        if self.approvals:
            out[L_APPROVALS] = [r.to_cbor() for r in self.approvals]
        return out


@dataclass(frozen=True, slots=True)
class Caveat:
    """spec 4.6: a policy statement over the arguments, optionally scoped to actions.

    Unscoped (``actions`` empty) it must hold for every request; scoped, only for
    requests whose action one of ``actions`` covers. On the wire an unscoped
    caveat is the bare statement, a scoped one the map ``{1: statement, 2: actions}``.
    """

    statement: policy.Statement
    actions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for action in self.actions:
            check_action(action, pattern=True)

    def applies_to(self, action: str) -> bool:
        return not self.actions or any(action_covers(a, action) for a in self.actions)

    def to_cbor(self) -> object:
        if not self.actions:
            return self.statement.raw
        return {R_WHEN: self.statement.raw, R_ACTIONS: list(self.actions)}


def decode_caveat(value: object, limits: Limits) -> Caveat:
    if not isinstance(value, dict):
        return Caveat(policy.parse(value, limits=limits))
    f = _Fields(value, "scoped caveat", frozenset({R_WHEN, R_ACTIONS}))
    actions = _req(f.array(R_ACTIONS))
    assert isinstance(actions, list)
    if not actions or len(actions) > limits.max_capabilities:
        raise DecodeError("schema_invalid", "a scoped caveat names 1..max_capabilities actions")
    if not all(isinstance(a, str) for a in actions):
        raise DecodeError("schema_invalid", "a scoped caveat's actions are text")
    when = f.raw(R_WHEN)
    if when is None:
        raise DecodeError("schema_invalid", "a scoped caveat lacks its statement")
    return Caveat(policy.parse(when, limits=limits), tuple(actions))


@dataclass(frozen=True, slots=True)
class ApprovalRequirement:
    """spec 9.2: requests this link marks as needing a human approval.

    It applies when the request's action is covered by one of ``actions`` (all
    actions when empty) and ``when`` holds over the arguments (always when None;
    a ``when`` that evaluates to ERROR applies too: fail towards oversight). The
    approver is ``approver``, or the chain's root signer when None.
    """

    when: policy.Statement | None = None
    actions: tuple[str, ...] = ()
    approver: PublicKey | None = None

    def __post_init__(self) -> None:
        for action in self.actions:
            check_action(action, pattern=True)

    def to_cbor(self) -> dict[int, object]:
        out: dict[int, object] = {}
        if self.when is not None:
            out[R_WHEN] = self.when.raw
        if self.actions:
            out[R_ACTIONS] = list(self.actions)
        if self.approver is not None:
            out[R_APPROVER] = self.approver.to_cose_key()
        return out


def decode_approval_requirement(value: object, limits: Limits) -> ApprovalRequirement:
    f = _Fields(value, "approval requirement", frozenset({R_WHEN, R_ACTIONS, R_APPROVER}))
    when = f.raw(R_WHEN)
    actions = f.array(R_ACTIONS, required=False)
    approver = f.raw(R_APPROVER)
    if actions is not None and not actions:
        raise DecodeError(
            "schema_invalid", "approval requirement actions, when present, are non-empty"
        )
    if actions is not None and len(actions) > limits.max_capabilities:
        raise DecodeError("limit_exceeded", f"more than {limits.max_capabilities} actions")
    if actions is not None and not all(isinstance(a, str) for a in actions):
        raise DecodeError("schema_invalid", "approval requirement actions are text")
    return ApprovalRequirement(
        when=policy.parse(when, limits=limits) if when is not None else None,
        actions=tuple(actions) if actions is not None else (),  # type: ignore[arg-type]
        approver=decode_public_key(approver, "approver") if approver is not None else None,
    )


_LINK_KEYS: Final = frozenset(range(L_VERSION, L_APPROVALS + 1))


def _check_version(f: _Fields, key: int, where: str) -> None:
    version = f.uint(key, upper=2**32)
    if version != VERSION:
        raise DecodeError("version_unsupported", f"{where} version {version} is not {VERSION}")


def decode_capability(value: object, limits: Limits) -> Capability:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], str)
        or not isinstance(value[1], str)
    ):
        raise DecodeError("schema_invalid", "a capability is an array [action, resource]")
    return Capability(value[0], value[1])


def decode_link_claims(payload: object, limits: Limits) -> LinkClaims:
    f = _Fields(payload, "link", _LINK_KEYS)
    _check_version(f, L_VERSION, "link")
    caps_raw = _req(f.array(L_CAPS))
    caveats_raw = _req(f.array(L_CAVEATS))
    assert isinstance(caps_raw, list) and isinstance(caveats_raw, list)
    if not caps_raw:
        raise DecodeError("schema_invalid", "a link grants at least one capability")
    if len(caps_raw) > limits.max_capabilities:
        raise DecodeError("limit_exceeded", f"more than {limits.max_capabilities} capabilities")
    if len(caveats_raw) > limits.max_caveats:
        raise DecodeError("limit_exceeded", f"more than {limits.max_caveats} caveats")
    nbf, exp = f.uint(L_NBF), f.uint(L_EXP)
    assert nbf is not None and exp is not None
    iat = f.uint(L_IAT)
    assert iat is not None
    depth = f.uint(L_DEPTH, upper=255)
    assert depth is not None
    issuer = f.bstr(L_ISSUER, size=(32, 32))
    link_id = f.bstr(L_ID, size=(16, 64))
    assert issuer is not None and link_id is not None
    return LinkClaims(
        issuer=issuer,
        holder=decode_public_key(f.raw(L_HOLDER), "link holder"),
        parent=f.bstr(L_PARENT, size=(32, 32), required=False),
        id=link_id,
        iat=iat,
        window=Window(nbf, exp),
        capabilities=tuple(decode_capability(c, limits) for c in caps_raw),
        caveats=tuple(decode_caveat(c, limits) for c in caveats_raw),
        depth=depth,
        purpose=f.text(L_PURPOSE, required=False),
        descriptor=decode_descriptor(f.raw(L_DESCRIPTOR)),
        approvals=_decode_requirements(f.array(L_APPROVALS, required=False), limits),
    )


def _decode_requirements(
    raw: list[object] | None, limits: Limits
) -> tuple[ApprovalRequirement, ...]:
    if raw is None:
        return ()
    if not raw:
        raise DecodeError("schema_invalid", "approval requirements, when present, are non-empty")
    if len(raw) > limits.max_caveats:
        raise DecodeError("limit_exceeded", f"more than {limits.max_caveats} approval requirements")
    return tuple(decode_approval_requirement(r, limits) for r in raw)


@dataclass(frozen=True, slots=True)
class Link:
    """A decoded link whose signature is NOT yet checked (the verifier checks it)."""

    claims: LinkClaims
    sign1: cose.Sign1
    #: SHA-256 of the exact signed bytes: the child's ``parent``, the revocation id
    digest: bytes

    @property
    def encoded(self) -> bytes:
        return self.sign1.encoded

    @property
    def alg(self) -> str:
        return alg_name(self.sign1.alg)


def alg_name(cose_alg: int) -> str:
    """The algorithm name of a COSE alg id; anything outside the allowlist is refused."""
    try:
        return _ALG_BY_COSE[cose_alg]
    except KeyError:
        raise InvalidKey("alg_not_allowed", f"COSE algorithm {cose_alg} is not allowed") from None


def _decode_sign1(data: bytes, typ: str, limits: Limits) -> cose.Sign1:
    if len(data) > limits.max_object_bytes:
        raise DecodeError("limit_exceeded", f"signed object over {limits.max_object_bytes} bytes")
    sign1 = cose.decode_sign1(
        data,
        max_depth=limits.max_cbor_depth,
        max_items=limits.max_cbor_items,
        max_string_bytes=limits.max_object_bytes,
    )
    if sign1.typ != typ:
        raise DecodeError("type_mismatch", f"expected {typ}, found {sign1.typ}")
    alg_name(sign1.alg)
    return sign1


def _decode_payload(sign1: cose.Sign1, limits: Limits) -> object:
    return cbor.decode(
        sign1.payload,
        max_depth=limits.max_cbor_depth,
        max_items=limits.max_cbor_items,
        max_string_bytes=limits.max_string_bytes,
    )


def decode_link_unverified(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Link:
    sign1 = _decode_sign1(data, TYP_LINK, limits)
    claims = decode_link_claims(_decode_payload(sign1, limits), limits)
    return Link(claims=claims, sign1=sign1, digest=digest(data))


def sign_object(key: PrivateKey, typ: str, payload: object) -> bytes:
    """Encode ``payload`` deterministically and wrap it in a COSE_Sign1 signed by ``key``."""
    payload_bytes = cbor.encode(payload)  # type: ignore[arg-type]
    protected = cose.protected_header(COSE_ALG[key.alg], typ)
    signature = key.sign(cose.sig_structure(protected, payload_bytes))
    return cose.assemble(protected, payload_bytes, signature)


# ---------------------------------------------------------------------------
# invocations


@dataclass(frozen=True, slots=True)
class InvocationClaims:
    """The payload of an invocation (spec 5.7): the holder's proof of possession."""

    chain: bytes  # digest of the last link: commits to the whole chain
    audience: str
    action: str
    resource: str
    args: Mapping[str, object]
    iat: int
    nonce: bytes

    def to_cbor(self) -> dict[int, object]:
        return {
            I_VERSION: VERSION,
            I_CHAIN: self.chain,
            I_AUDIENCE: self.audience,
            I_ACTION: self.action,
            I_RESOURCE: self.resource,
            I_ARGS: dict(self.args),
            I_IAT: self.iat,
            I_NONCE: self.nonce,
        }


def check_args(args: object) -> dict[str, object]:
    """Arguments are a map with text keys (spec 5.7); values are CBOR data without floats."""
    if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
        raise DecodeError("schema_invalid", "invocation arguments must be a map with text keys")
    return args


def decode_invocation_claims(payload: object) -> InvocationClaims:
    f = _Fields(payload, "invocation", frozenset(range(I_VERSION, I_NONCE + 1)))
    _check_version(f, I_VERSION, "invocation")
    action, resource = f.text(I_ACTION), f.text(I_RESOURCE)
    assert action is not None and resource is not None
    check_action(action, pattern=False)
    check_resource(resource, pattern=False)
    chain, nonce = f.bstr(I_CHAIN, size=(32, 32)), f.bstr(I_NONCE, size=(16, 64))
    audience, iat = f.text(I_AUDIENCE), f.uint(I_IAT)
    assert chain is not None and nonce is not None and audience is not None and iat is not None
    return InvocationClaims(
        chain=chain,
        audience=audience,
        action=action,
        resource=resource,
        args=check_args(f.raw(I_ARGS)),
        iat=iat,
        nonce=nonce,
    )


@dataclass(frozen=True, slots=True)
class Invocation:
    """A decoded invocation whose signature is NOT yet checked."""

    claims: InvocationClaims
    sign1: cose.Sign1

    @property
    def encoded(self) -> bytes:
        return self.sign1.encoded


def decode_invocation_unverified(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Invocation:
    sign1 = _decode_sign1(data, TYP_INVOCATION, limits)
    return Invocation(claims=decode_invocation_claims(_decode_payload(sign1, limits)), sign1=sign1)


# ---------------------------------------------------------------------------
# attestations and approvals (spec 9)


@dataclass(frozen=True, slots=True)
class AttestationClaims:
    """spec 9.1: an attester's statement that the key ``subject`` runs this code."""

    issuer: bytes  # the attester's thumbprint
    subject: bytes  # the attested principal's thumbprint
    iat: int
    exp: int
    code: Mapping[str, bytes]
    model: str | None
    config: Mapping[str, bytes]

    def to_cbor(self) -> dict[int, object]:
        out: dict[int, object] = {
            A_VERSION: VERSION,
            A_ISSUER: self.issuer,
            A_SUBJECT: self.subject,
            A_IAT: self.iat,
            A_EXP: self.exp,
        }
        if self.code:
            out[A_CODE] = _encode_digests(self.code)
        if self.model is not None:
            out[A_MODEL] = self.model
        if self.config:
            out[A_CONFIG] = _encode_digests(self.config)
        return out


def decode_attestation_claims(payload: object) -> AttestationClaims:
    f = _Fields(payload, "attestation", frozenset(range(A_VERSION, A_CONFIG + 1)))
    _check_version(f, A_VERSION, "attestation")
    issuer, subject = f.bstr(A_ISSUER, size=(32, 32)), f.bstr(A_SUBJECT, size=(32, 32))
    iat, exp = f.uint(A_IAT), f.uint(A_EXP)
    assert issuer is not None and subject is not None and iat is not None and exp is not None
    if exp <= iat:
        raise DecodeError("time_invalid", "an attestation's exp must follow its iat")
    code, config = f.raw(A_CODE), f.raw(A_CONFIG)
    model = f.text(A_MODEL, required=False)
    if code is None and config is None and model is None:
        raise DecodeError("schema_invalid", "an attestation attests code, model or config")
    # Descriptor validates digest names and sizes with the same rules as links
    checked = Descriptor(
        code=_decode_digests(code, "attestation code") if code is not None else {},
        model=model,
        config=_decode_digests(config, "attestation config") if config is not None else {},
    )
    return AttestationClaims(
        issuer=issuer,
        subject=subject,
        iat=iat,
        exp=exp,
        code=checked.code,
        model=checked.model,
        config=checked.config,
    )


@dataclass(frozen=True, slots=True)
class Attestation:
    """A decoded attestation whose signature is NOT yet checked."""

    claims: AttestationClaims
    sign1: cose.Sign1

    @property
    def encoded(self) -> bytes:
        return self.sign1.encoded


def decode_attestation_unverified(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Attestation:
    sign1 = _decode_sign1(data, TYP_ATTESTATION, limits)
    return Attestation(decode_attestation_claims(_decode_payload(sign1, limits)), sign1)


@dataclass(frozen=True, slots=True)
class ApprovalClaims:
    """spec 9.2: an approver's consent to one exact request (by its digest)."""

    issuer: bytes  # the approver's thumbprint
    request: bytes  # request_digest(...) of the approved request
    iat: int
    exp: int

    def to_cbor(self) -> dict[int, object]:
        return {
            V_VERSION: VERSION,
            V_ISSUER: self.issuer,
            V_REQUEST: self.request,
            V_IAT: self.iat,
            V_EXP: self.exp,
        }


def decode_approval_claims(payload: object) -> ApprovalClaims:
    f = _Fields(payload, "approval", frozenset(range(V_VERSION, V_EXP + 1)))
    _check_version(f, V_VERSION, "approval")
    issuer, request = f.bstr(V_ISSUER, size=(32, 32)), f.bstr(V_REQUEST, size=(32, 32))
    iat, exp = f.uint(V_IAT), f.uint(V_EXP)
    assert issuer is not None and request is not None and iat is not None and exp is not None
    if exp <= iat:
        raise DecodeError("time_invalid", "an approval's exp must follow its iat")
    return ApprovalClaims(issuer=issuer, request=request, iat=iat, exp=exp)


@dataclass(frozen=True, slots=True)
class Approval:
    """A decoded approval whose signature is NOT yet checked."""

    claims: ApprovalClaims
    sign1: cose.Sign1

    @property
    def encoded(self) -> bytes:
        return self.sign1.encoded

    @property
    def digest(self) -> bytes:
        return digest(self.sign1.encoded)


def decode_approval_unverified(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Approval:
    sign1 = _decode_sign1(data, TYP_APPROVAL, limits)
    return Approval(decode_approval_claims(_decode_payload(sign1, limits)), sign1)


def request_digest(
    chain: bytes, audience: str, action: str, resource: str, args: Mapping[str, object]
) -> bytes:
    """spec 9.2: what an approval signs: one exact request on one exact chain."""
    return digest(
        cbor.encode(
            ["agentchain/approval/v1", chain, audience, action, resource, dict(args)]  # type: ignore[list-item]
        )
    )


def attachment_to_text(data: bytes) -> str:
    """Text form of one attestation or approval (the same prefix as presentations)."""
    return TEXT_PREFIX_CBOR + b64encode(data)


# ---------------------------------------------------------------------------
# the container: a token (links only) or a presentation (links + invocation)


@dataclass(frozen=True, slots=True)
class Presentation:
    """Links, and the invocation when present; nothing in it is verified.

    Without an invocation this is what the protocol calls a *token*: what a
    delegator hands to its delegatee. ``Verifier.verify`` is the only way from
    this type to a verified chain.
    """

    links: tuple[Link, ...]
    invocation: Invocation | None = None
    attestations: tuple[Attestation, ...] = ()
    approvals: tuple[Approval, ...] = ()

    @property
    def holder(self) -> PublicKey:
        return self.links[-1].claims.holder

    @property
    def chain_digest(self) -> bytes:
        return self.links[-1].digest

    def to_bytes(self) -> bytes:
        out: dict[int, object] = {
            P_VERSION: VERSION,
            P_LINKS: [link.encoded for link in self.links],
        }
        if self.invocation is not None:
            out[P_INVOCATION] = self.invocation.encoded
        if self.attestations:
            out[P_ATTESTATIONS] = [a.encoded for a in self.attestations]
        if self.approvals:
            out[P_APPROVALS] = [a.encoded for a in self.approvals]
        return cbor.encode(out)  # type: ignore[arg-type]

    def to_text(self) -> str:
        return TEXT_PREFIX_CBOR + b64encode(self.to_bytes())

    def without_invocation(self) -> Presentation:
        return Presentation(self.links)


def decode_presentation_unverified(
    data: bytes | str, limits: Limits = DEFAULT_LIMITS
) -> Presentation:
    """Decode a token or presentation from bytes or its text form, checking structure only."""
    raw = from_text(data, limits) if isinstance(data, str) else data
    if len(raw) > limits.max_presentation_bytes:
        raise DecodeError(
            "limit_exceeded", f"presentation over {limits.max_presentation_bytes} bytes"
        )
    top = cbor.decode(
        raw,
        max_depth=3,
        max_items=limits.max_links + 2 * limits.max_attachments + 8,
        max_string_bytes=limits.max_object_bytes,
    )
    f = _Fields(top, "presentation", frozenset(range(P_VERSION, P_APPROVALS + 1)))
    _check_version(f, P_VERSION, "presentation")
    links_raw = _req(f.array(P_LINKS))
    assert isinstance(links_raw, list)
    if not links_raw:
        raise DecodeError("chain_empty", "the presentation holds no link")
    if len(links_raw) > limits.max_links:
        raise DecodeError("limit_exceeded", f"more than {limits.max_links} links")
    links = []
    for item in links_raw:
        if not isinstance(item, bytes):
            raise DecodeError("schema_invalid", "links are byte strings holding COSE_Sign1")
        links.append(decode_link_unverified(item, limits))
    inv_raw = f.bstr(P_INVOCATION, size=(1, limits.max_object_bytes), required=False)
    invocation = decode_invocation_unverified(inv_raw, limits) if inv_raw is not None else None
    attestations = tuple(
        decode_attestation_unverified(item, limits)
        for item in _attachments(f.array(P_ATTESTATIONS, required=False), "attestations", limits)
    )
    approvals = tuple(
        decode_approval_unverified(item, limits)
        for item in _attachments(f.array(P_APPROVALS, required=False), "approvals", limits)
    )
    if (attestations or approvals) and invocation is None:
        raise DecodeError("schema_invalid", "attachments ride only with an invocation")
    return Presentation(tuple(links), invocation, attestations, approvals)


def _attachments(raw: list[object] | None, what: str, limits: Limits) -> list[bytes]:
    if raw is None:
        return []
    if not raw:
        raise DecodeError("schema_invalid", f"{what}, when present, are a non-empty array")
    if len(raw) > limits.max_attachments:
        raise DecodeError("limit_exceeded", f"more than {limits.max_attachments} {what}")
    if not all(isinstance(item, bytes) for item in raw):
        raise DecodeError("schema_invalid", f"{what} are byte strings holding COSE_Sign1")
    return raw  # type: ignore[return-value]


# ---------------------------------------------------------------------------
# renderings for people (audit records, approval requests, the CLI)


def args_to_json(value: object) -> Any:
    """Arguments as JSON for people: byte strings become {"bytes": hex}. Not a wire form."""
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, Mapping):
        return {str(k): args_to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [args_to_json(v) for v in value]
    return value


def rfc3339(seconds: int) -> str:
    """A time in whole seconds since the epoch as RFC 3339 UTC, e.g. 2027-01-15T08:00:00Z."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------
# text form (spec 5.1)

_B64URL: Final = re.compile(r"[A-Za-z0-9_\-]*")


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict unpadded base64url: no padding, no whitespace, no stray bits."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise DecodeError("base64_invalid", "not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise DecodeError("base64_invalid", "not unpadded base64url") from None
    if b64encode(data) != text:  # non-zero trailing bits: a second spelling of the same bytes
        raise DecodeError("base64_invalid", "base64url has non-zero trailing bits")
    return data


#: spec 5.1: the whitespace files and terminals add; str.strip() would also drop U+00A0 and others
_TEXT_WHITESPACE: Final = " \t\n\v\f\r"


def from_text(text: str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    text = text.strip(_TEXT_WHITESPACE)
    # the cap is checked on the text, before any decoding work
    if len(text) > len(TEXT_PREFIX_CBOR) + (limits.max_presentation_bytes * 4 + 2) // 3:
        raise DecodeError(
            "limit_exceeded", f"text over the {limits.max_presentation_bytes}-byte cap"
        )
    if not text.startswith(TEXT_PREFIX_CBOR):
        raise DecodeError("encoding_unknown", f"text form must start with {TEXT_PREFIX_CBOR!r}")
    return b64decode(text[len(TEXT_PREFIX_CBOR) :])
