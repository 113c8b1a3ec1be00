"""Model <-> wire: the CBOR claim maps, the presentation container and the text form.

Layer 4. Decoding here checks structure, never trust: every object it returns
keeps the exact bytes it came from, and its signature is still unchecked. The
names say so (``decode_unverified``). Claim keys are the registry of spec 5.5.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from agentchain import policy
from agentchain.crypto import COSE_ALG, PrivateKey, PublicKey
from agentchain.errors import DecodeError, InvalidKey, IssueError
from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.model import (
    Capability,
    Descriptor,
    Window,
    action_covers,
    check_action,
    check_resource,
)
from agentchain.wire import cbor, cose, jws

VERSION: Final = 1

TYP_LINK: Final = "application/agentchain-link+cbor"
TYP_INVOCATION: Final = "application/agentchain-invocation+cbor"
TYP_ATTESTATION: Final = "application/agentchain-attestation+cbor"
TYP_APPROVAL: Final = "application/agentchain-approval+cbor"
#: spec/jose.md: explicit typing of every JOSE object (RFC 8725 section 3.11)
JWT_TYP_LINK: Final = "agentchain-link+jwt"
JWT_TYP_INVOCATION: Final = "agentchain-invocation+jwt"
JWT_TYP_ATTESTATION: Final = "agentchain-attestation+jwt"
JWT_TYP_APPROVAL: Final = "agentchain-approval+jwt"

#: the two encodings of one semantic model (spec 5, spec/jose.md)
Encoding = Literal["cbor", "jose"]
ENCODINGS: Final[tuple[Encoding, ...]] = ("cbor", "jose")

#: spec 5.1: text form prefixes, naming encoding and version
TEXT_PREFIX_CBOR: Final = "ac1c."
#: spec 5.1: only ASCII whitespace around a text form is ignored (str.strip() would also
#: drop U+00A0 or U+2003)
ASCII_WHITESPACE: Final = " \t\n\v\f\r"
TEXT_PREFIX_JOSE: Final = "ac1j."

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

    def __init__(
        self,
        value: object,
        where: str,
        allowed: frozenset[Any],
        *,
        version: int | str | None = None,
    ) -> None:
        if not isinstance(value, dict):
            raise DecodeError("schema_invalid", f"{where} must be a map")
        self._map: dict[object, object] = value
        self._where = where
        if version is not None:
            # spec 5.5: the version first, so a later version's new claims read as
            # version_unsupported, never as unknown_field (R-5.5-3)
            found = self.uint(version, upper=2**32)
            if found != VERSION:
                raise DecodeError(
                    "version_unsupported", f"{where} version {found} is not {VERSION}"
                )
        unknown = [k for k in value if k not in allowed]
        if unknown:
            raise DecodeError(
                "unknown_field", f"{where} has unknown key(s) {sorted(map(str, unknown))}"
            )

    def _get(self, key: int | str, required: bool) -> object:
        if key not in self._map:
            if required:
                raise DecodeError("schema_invalid", f"{self._where} lacks key {key}")
            return None
        value = self._map[key]
        if value is None:  # spec 5.5: an optional claim present as null is of the wrong type
            raise DecodeError("schema_invalid", f"{self._where} key {key} is null")
        return value

    def uint(self, key: int | str, *, required: bool = True, upper: int = MAX_TIME) -> int | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= upper:
            raise DecodeError(
                "schema_invalid", f"{self._where} key {key} must be an int in 0..{upper}"
            )
        return value

    def text(self, key: int | str, *, required: bool = True) -> str | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            raise DecodeError("schema_invalid", f"{self._where} key {key} must be a non-empty text")
        return value

    def bstr(self, key: int | str, *, size: tuple[int, int], required: bool = True) -> bytes | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, bytes) or not size[0] <= len(value) <= size[1]:
            raise DecodeError(
                "schema_invalid", f"{self._where} key {key} must be {size[0]}..{size[1]} bytes"
            )
        return value

    def array(self, key: int | str, *, required: bool = True) -> list[object] | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, list):
            raise DecodeError("schema_invalid", f"{self._where} key {key} must be an array")
        return value

    def raw(self, key: int | str) -> object:
        return self._get(key, False)


class _JoseFields(_Fields):
    """The same strict reading over a JOSE claims object: byte strings are base64url text."""

    def bstr(self, key: int | str, *, size: tuple[int, int], required: bool = True) -> bytes | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise DecodeError("schema_invalid", f"{self._where} {key} must be base64url text")
        data = jws.b64decode(value)
        if not size[0] <= len(data) <= size[1]:
            raise DecodeError(
                "schema_invalid", f"{self._where} {key} must be {size[0]}..{size[1]} bytes"
            )
        return data


def _fields(
    encoding: Encoding,
    value: object,
    where: str,
    allowed: frozenset[Any],
    version: int | str | None = None,
) -> _Fields:
    if encoding == "jose":
        return _JoseFields(value, where, allowed, version=version)
    return _Fields(value, where, allowed, version=version)


def json_data(value: object, what: str) -> object:
    """``value`` as JSON data, or IssueError: JOSE cannot carry byte strings (spec/jose.md)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bytes):
            raise IssueError(
                "schema_invalid", f"{what} holds a byte string, which JOSE cannot express"
            )
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > jws.MAX_INT:
            raise IssueError("schema_invalid", f"{what} holds an integer beyond 2^53-1")
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Mapping):
            if not all(isinstance(k, str) for k in item):
                # json would turn 1 into "1": refuse rather than change the meaning
                raise IssueError("schema_invalid", f"{what} holds a map key that is not text")
            stack.extend(item.values())
    return value


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


_JWK_CORE: Final = ("kty", "crv", "x", "y")


def public_key_jwk(key: PublicKey) -> dict[str, str]:
    """spec/jose.md: a key inside claims is its bare public JWK (no alg, no kid)."""
    jwk = key.to_jwk()
    return {name: jwk[name] for name in _JWK_CORE if name in jwk}


def decode_public_jwk(value: object, where: str) -> PublicKey:
    if not isinstance(value, dict):
        raise DecodeError("schema_invalid", f"{where} must be a JWK object")
    extra = set(value) - set(_JWK_CORE)
    if extra:
        raise DecodeError("unknown_field", f"{where} has JWK member(s) beyond kty, crv, x, y")
    return PublicKey.from_jwk(value)


def _decode_key(encoding: Encoding, value: object, where: str) -> PublicKey:
    if encoding == "jose":
        return decode_public_jwk(value, where)
    return decode_public_key(value, where)


def _encode_digests(digests: Mapping[str, bytes]) -> dict[str, bytes]:
    return dict(digests)


def _jose_digests(digests: Mapping[str, bytes]) -> dict[str, str]:
    return {alg: jws.b64encode(dig) for alg, dig in digests.items()}


def _decode_digests(value: object, where: str, encoding: Encoding = "cbor") -> dict[str, bytes]:
    if not isinstance(value, dict) or not value:
        raise DecodeError("schema_invalid", f"{where} must be a non-empty map")
    if len(value) > 8:
        raise DecodeError("limit_exceeded", f"{where} has more than 8 digests")
    out: dict[str, bytes] = {}
    for alg, value_dig in value.items():
        dig = (
            jws.b64decode(value_dig)
            if encoding == "jose" and isinstance(value_dig, str)
            else value_dig
        )
        if not isinstance(alg, str) or not isinstance(dig, bytes):
            raise DecodeError("schema_invalid", f"{where} maps text to bytes")
        out[alg] = dig
    return out


def encode_descriptor(d: Descriptor, encoding: Encoding = "cbor") -> dict[Any, object]:
    k = _keys(encoding, "descriptor")
    out: dict[Any, object] = {k[D_KIND]: d.kind}
    if d.name is not None:
        out[k[D_NAME]] = d.name
    if d.code:
        out[k[D_CODE]] = _digests_out(encoding, d.code)
    if d.model is not None:
        out[k[D_MODEL]] = d.model
    if d.config:
        out[k[D_CONFIG]] = _digests_out(encoding, d.config)
    return out


def decode_descriptor(value: object, encoding: Encoding = "cbor") -> Descriptor:
    k = _keys(encoding, "descriptor")
    f = _fields(encoding, value, "descriptor", frozenset(k.values()))
    kind = f.text(k[D_KIND])
    code = f.raw(k[D_CODE])
    config = f.raw(k[D_CONFIG])
    return Descriptor(
        kind=kind,  # type: ignore[arg-type]  # checked by Descriptor.__post_init__
        name=f.text(k[D_NAME], required=False),
        code=_decode_digests(code, "descriptor code", encoding) if code is not None else {},
        model=f.text(k[D_MODEL], required=False),
        config=_decode_digests(config, "descriptor config", encoding) if config is not None else {},
    )


# ---------------------------------------------------------------------------
# spec/jose.md: the JOSE claim names, one table from the CBOR keys (one semantic model)

_JOSE_NAMES: Final[dict[str, dict[int, str]]] = {
    "link": {
        L_VERSION: "ver",
        L_ISSUER: "iss",
        L_HOLDER: "cnf",
        L_PARENT: "prt",
        L_ID: "jti",
        L_IAT: "iat",
        L_NBF: "nbf",
        L_EXP: "exp",
        L_CAPS: "cap",
        L_CAVEATS: "cav",
        L_DEPTH: "dep",
        L_PURPOSE: "pur",
        L_DESCRIPTOR: "dsc",
        L_APPROVALS: "apr",
    },
    "descriptor": {
        D_KIND: "kind",
        D_NAME: "name",
        D_CODE: "code",
        D_MODEL: "model",
        D_CONFIG: "config",
    },
    "requirement": {R_WHEN: "when", R_ACTIONS: "actions", R_APPROVER: "approver"},
    "invocation": {
        I_VERSION: "ver",
        I_CHAIN: "chn",
        I_AUDIENCE: "aud",
        I_ACTION: "act",
        I_RESOURCE: "res",
        I_ARGS: "arg",
        I_IAT: "iat",
        I_NONCE: "jti",
    },
    "attestation": {
        A_VERSION: "ver",
        A_ISSUER: "iss",
        A_SUBJECT: "sub",
        A_IAT: "iat",
        A_EXP: "exp",
        A_CODE: "code",
        A_MODEL: "model",
        A_CONFIG: "config",
    },
    "approval": {V_VERSION: "ver", V_ISSUER: "iss", V_REQUEST: "req", V_IAT: "iat", V_EXP: "exp"},
    "presentation": {
        P_VERSION: "ver",
        P_LINKS: "links",
        P_INVOCATION: "invocation",
        P_ATTESTATIONS: "attestations",
        P_APPROVALS: "approvals",
    },
}
_CBOR_KEYS: Final = {kind: {key: key for key in names} for kind, names in _JOSE_NAMES.items()}


def _keys(encoding: Encoding, kind: str) -> Mapping[int, Any]:
    """CBOR key -> the member name or key of ``kind`` in ``encoding``."""
    return _JOSE_NAMES[kind] if encoding == "jose" else _CBOR_KEYS[kind]


def _bytes_out(encoding: Encoding, data: bytes) -> object:
    return jws.b64encode(data) if encoding == "jose" else data


def _digests_out(encoding: Encoding, digests: Mapping[str, bytes]) -> object:
    return _jose_digests(digests) if encoding == "jose" else _encode_digests(digests)


def _key_out(encoding: Encoding, key: PublicKey) -> object:
    return public_key_jwk(key) if encoding == "jose" else key.to_cose_key()


def _statement_out(encoding: Encoding, statement: policy.Statement) -> object:
    return json_data(statement.raw, "a caveat") if encoding == "jose" else statement.raw


# ---------------------------------------------------------------------------
# links


@dataclass(frozen=True, slots=True)
class LinkClaims:
    """The payload of a link (spec 5.5); the same model in both encodings."""

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
        return self.to_claims("cbor")

    def to_claims(self, encoding: Encoding) -> dict[Any, object]:
        k = _keys(encoding, "link")
        holder = _key_out(encoding, self.holder)
        out: dict[Any, object] = {
            k[L_VERSION]: VERSION,
            k[L_ISSUER]: _bytes_out(encoding, self.issuer),
            # RFC 7800: the holder key is the confirmation key
            k[L_HOLDER]: {"jwk": holder} if encoding == "jose" else holder,
            k[L_ID]: _bytes_out(encoding, self.id),
            k[L_IAT]: self.iat,
            k[L_NBF]: self.window.nbf,
            k[L_EXP]: self.window.exp,
            k[L_CAPS]: [[c.action, c.resource] for c in self.capabilities],
            k[L_CAVEATS]: [c.to_claims(encoding) for c in self.caveats],
            k[L_DEPTH]: self.depth,
            k[L_DESCRIPTOR]: encode_descriptor(self.descriptor, encoding),
        }
        if self.parent is not None:
            out[k[L_PARENT]] = _bytes_out(encoding, self.parent)
        if self.purpose is not None:
            out[k[L_PURPOSE]] = self.purpose
        if self.approvals:
            out[k[L_APPROVALS]] = [r.to_claims(encoding) for r in self.approvals]
        return out


@dataclass(frozen=True, slots=True)
class Caveat:
    """spec 4.6: a policy statement over the arguments, optionally scoped to actions.

    Unscoped (``actions`` empty) it must hold for every request; scoped, only for
    requests whose action one of ``actions`` covers. On the wire an unscoped
    caveat is the bare statement, a scoped one the map ``{1: statement, 2: actions}``
    (JOSE: ``{"when": statement, "actions": actions}``).
    """

    statement: policy.Statement
    actions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for action in self.actions:
            check_action(action, pattern=True)

    def applies_to(self, action: str) -> bool:
        return not self.actions or any(action_covers(a, action) for a in self.actions)

    def to_cbor(self) -> object:
        return self.to_claims("cbor")

    def to_claims(self, encoding: Encoding) -> object:
        statement = _statement_out(encoding, self.statement)
        if not self.actions:
            return statement
        k = _keys(encoding, "requirement")
        return {k[R_WHEN]: statement, k[R_ACTIONS]: list(self.actions)}


def decode_caveat(value: object, limits: Limits, encoding: Encoding = "cbor") -> Caveat:
    if not isinstance(value, dict):
        return Caveat(policy.parse(value, limits=limits))
    k = _keys(encoding, "requirement")
    f = _fields(encoding, value, "scoped caveat", frozenset({k[R_WHEN], k[R_ACTIONS]}))
    actions = _req(f.array(k[R_ACTIONS]))
    assert isinstance(actions, list)
    if not actions or len(actions) > limits.max_capabilities:
        raise DecodeError("schema_invalid", "a scoped caveat names 1..max_capabilities actions")
    if not all(isinstance(a, str) for a in actions):
        raise DecodeError("schema_invalid", "a scoped caveat's actions are text")
    when = f.raw(k[R_WHEN])
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
        return self.to_claims("cbor")

    def to_claims(self, encoding: Encoding) -> dict[Any, object]:
        k = _keys(encoding, "requirement")
        out: dict[Any, object] = {}
        if self.when is not None:
            out[k[R_WHEN]] = _statement_out(encoding, self.when)
        if self.actions:
            out[k[R_ACTIONS]] = list(self.actions)
        if self.approver is not None:
            out[k[R_APPROVER]] = _key_out(encoding, self.approver)
        return out


def decode_approval_requirement(
    value: object, limits: Limits, encoding: Encoding = "cbor"
) -> ApprovalRequirement:
    k = _keys(encoding, "requirement")
    f = _fields(encoding, value, "approval requirement", frozenset(k.values()))
    when = f.raw(k[R_WHEN])
    actions = f.array(k[R_ACTIONS], required=False)
    approver = f.raw(k[R_APPROVER])
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
        approver=_decode_key(encoding, approver, "approver") if approver is not None else None,
    )


def decode_capability(value: object, limits: Limits) -> Capability:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], str)
        or not isinstance(value[1], str)
    ):
        raise DecodeError("schema_invalid", "a capability is an array [action, resource]")
    return _capability(value[0], value[1])


@functools.lru_cache(maxsize=4096)
def _capability(action: str, resource: str) -> Capability:
    """A checked Capability, remembered: the same grants recur in every chain, and the
    syntax checks depend only on the two strings. Capability is immutable: safe to share."""
    return Capability(action, resource)


def _decode_holder(encoding: Encoding, value: object) -> PublicKey:
    if encoding == "jose":
        # RFC 7800 section 3.2: {"jwk": key}; no other confirmation method
        if not isinstance(value, dict) or set(value) != {"jwk"}:
            raise DecodeError("schema_invalid", "link cnf must be exactly {'jwk': public JWK}")
        value = value["jwk"]
    return _decode_key(encoding, value, "link holder")


def decode_link_claims(payload: object, limits: Limits, encoding: Encoding = "cbor") -> LinkClaims:
    k = _keys(encoding, "link")
    f = _fields(encoding, payload, "link", frozenset(k.values()), k[L_VERSION])
    caps_raw = _req(f.array(k[L_CAPS]))
    caveats_raw = _req(f.array(k[L_CAVEATS]))
    assert isinstance(caps_raw, list) and isinstance(caveats_raw, list)
    if not caps_raw:
        raise DecodeError("schema_invalid", "a link grants at least one capability")
    if len(caps_raw) > limits.max_capabilities:
        raise DecodeError("limit_exceeded", f"more than {limits.max_capabilities} capabilities")
    if len(caveats_raw) > limits.max_caveats:
        raise DecodeError("limit_exceeded", f"more than {limits.max_caveats} caveats")
    nbf, exp = f.uint(k[L_NBF]), f.uint(k[L_EXP])
    assert nbf is not None and exp is not None
    iat = f.uint(k[L_IAT])
    assert iat is not None
    depth = f.uint(k[L_DEPTH], upper=255)
    assert depth is not None
    issuer = f.bstr(k[L_ISSUER], size=(32, 32))
    link_id = f.bstr(k[L_ID], size=(16, 64))
    assert issuer is not None and link_id is not None
    return LinkClaims(
        issuer=issuer,
        holder=_decode_holder(encoding, f.raw(k[L_HOLDER])),
        parent=f.bstr(k[L_PARENT], size=(32, 32), required=False),
        id=link_id,
        iat=iat,
        window=Window(nbf, exp),
        capabilities=tuple(decode_capability(c, limits) for c in caps_raw),
        caveats=tuple(decode_caveat(c, limits, encoding) for c in caveats_raw),
        depth=depth,
        purpose=f.text(k[L_PURPOSE], required=False),
        descriptor=decode_descriptor(f.raw(k[L_DESCRIPTOR]), encoding),
        approvals=_decode_requirements(f.array(k[L_APPROVALS], required=False), limits, encoding),
    )


def _decode_requirements(
    raw: list[object] | None, limits: Limits, encoding: Encoding
) -> tuple[ApprovalRequirement, ...]:
    if raw is None:
        return ()
    if not raw:
        raise DecodeError("schema_invalid", "approval requirements, when present, are non-empty")
    if len(raw) > limits.max_caveats:
        raise DecodeError("limit_exceeded", f"more than {limits.max_caveats} approval requirements")
    return tuple(decode_approval_requirement(r, limits, encoding) for r in raw)


# ---------------------------------------------------------------------------
# envelopes: the signed wrapper, COSE_Sign1 or JWS compact


@dataclass(frozen=True, slots=True)
class Envelope:
    """The signed wrapper of one object, in either encoding; its signature is NOT checked.

    The verifier reads only ``alg``, ``signature`` and ``signed`` (the exact
    bytes the signature covers), so its steps are the same for both encodings.
    """

    encoding: Encoding
    #: the algorithm name from the protected header ("EdDSA" or "ES256")
    alg: str
    typ: str
    #: the protected header and the payload, as the bytes they were signed as
    protected: bytes
    payload: bytes
    signature: bytes
    #: what the signature covers: the COSE Sig_structure, or the JWS signing input
    signed: bytes
    #: the exact bytes this object was decoded from (for JOSE: the ASCII compact form)
    encoded: bytes


#: kind -> (CBOR typ, JOSE typ)
_TYPS: Final = {
    "link": (TYP_LINK, JWT_TYP_LINK),
    "invocation": (TYP_INVOCATION, JWT_TYP_INVOCATION),
    "attestation": (TYP_ATTESTATION, JWT_TYP_ATTESTATION),
    "approval": (TYP_APPROVAL, JWT_TYP_APPROVAL),
}
_JWS_FIRST: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def encoding_of(data: bytes) -> Encoding:
    """Which encoding a signed object's bytes are in: a JWS compact is ASCII base64url."""
    return "jose" if data[:1] and data[0] in _JWS_FIRST else "cbor"


def alg_name(cose_alg: int) -> str:
    """The algorithm name of a COSE alg id; anything outside the allowlist is refused."""
    try:
        return _ALG_BY_COSE[cose_alg]
    except KeyError:
        raise InvalidKey("alg_not_allowed", f"COSE algorithm {cose_alg} is not allowed") from None


def _open(data: bytes, kind: str, limits: Limits) -> tuple[Envelope, object]:
    """Decode the envelope of one signed object of ``kind`` and parse its payload."""
    if len(data) > limits.max_object_bytes:
        raise DecodeError("limit_exceeded", f"signed object over {limits.max_object_bytes} bytes")
    encoding = encoding_of(data)
    typ = _TYPS[kind][encoding == "jose"]
    if encoding == "jose":
        compact = jws.decode_compact(
            data, max_bytes=limits.max_object_bytes, max_string_bytes=limits.max_string_bytes
        )
        if compact.typ != typ:
            raise DecodeError("type_mismatch", f"expected {typ}, found {compact.typ[:60]}")
        payload = jws.loads(
            compact.payload,
            max_bytes=limits.max_object_bytes,
            max_depth=limits.max_cbor_depth,
            max_items=limits.max_cbor_items,
            max_string_bytes=limits.max_string_bytes,
        )
        envelope = Envelope(
            encoding="jose",
            alg=compact.alg,
            typ=compact.typ,
            protected=compact.protected,
            payload=compact.payload,
            signature=compact.signature,
            signed=compact.to_be_signed(),
            encoded=data,
        )
        return envelope, payload
    sign1 = cose.decode_sign1(
        data,
        max_depth=limits.max_cbor_depth,
        max_items=limits.max_cbor_items,
        max_string_bytes=limits.max_object_bytes,
    )
    if sign1.typ != typ:
        raise DecodeError("type_mismatch", f"expected {typ}, found {sign1.typ[:60]}")
    alg = alg_name(sign1.alg)
    payload = cbor.decode(
        sign1.payload,
        max_depth=limits.max_cbor_depth,
        max_items=limits.max_cbor_items,
        max_string_bytes=limits.max_string_bytes,
    )
    envelope = Envelope(
        encoding="cbor",
        alg=alg,
        typ=sign1.typ,
        protected=sign1.protected,
        payload=sign1.payload,
        signature=sign1.signature,
        signed=sign1.to_be_signed(),
        encoded=data,
    )
    return envelope, payload


@dataclass(frozen=True, slots=True)
class Link:
    """A decoded link whose signature is NOT yet checked (the verifier checks it)."""

    claims: LinkClaims
    envelope: Envelope
    #: SHA-256 of the exact signed bytes: the child's ``parent``, the revocation id
    digest: bytes

    @property
    def encoded(self) -> bytes:
        return self.envelope.encoded

    @property
    def alg(self) -> str:
        return self.envelope.alg

    @property
    def encoding(self) -> Encoding:
        return self.envelope.encoding


def decode_link_unverified(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Link:
    """A link in either encoding (detected from its first byte), structure checked only."""
    envelope, payload = _open(data, "link", limits)
    claims = decode_link_claims(payload, limits, envelope.encoding)
    return Link(claims=claims, envelope=envelope, digest=digest(data))


def sign_object(key: PrivateKey, typ: str, payload: object) -> bytes:
    """Encode ``payload`` deterministically and wrap it in a COSE_Sign1 signed by ``key``."""
    payload_bytes = cbor.encode(payload)  # type: ignore[arg-type]
    protected = cose.protected_header(COSE_ALG[key.alg], typ)
    signature = key.sign(cose.sig_structure(protected, payload_bytes))
    return cose.assemble(protected, payload_bytes, signature)


def sign_object_jose(key: PrivateKey, typ: str, payload: object) -> bytes:
    """Serialize ``payload`` as JSON and wrap it in a JWS compact signed by ``key``.

    Signing is ours, not a JOSE library's: ES256 stays deterministic (RFC 6979)
    and the header stays exactly ``{"alg", "typ"}`` (spec/jose.md).
    """
    payload_bytes = jws.dumps(payload)
    protected = jws.protected_header(key.alg, typ)
    signature = key.sign(jws.signing_input(protected, payload_bytes))
    return jws.assemble(protected, payload_bytes, signature)


_CLAIM_KINDS: Final = {
    "LinkClaims": "link",
    "InvocationClaims": "invocation",
    "AttestationClaims": "attestation",
    "ApprovalClaims": "approval",
}


def sign_claims(
    key: PrivateKey,
    claims: LinkClaims | InvocationClaims | AttestationClaims | ApprovalClaims,
    encoding: Encoding = "cbor",
) -> bytes:
    """Sign one object's claims in ``encoding``; the typ follows the claims' kind."""
    cbor_typ, jose_typ = _TYPS[_CLAIM_KINDS[type(claims).__name__]]
    if encoding == "jose":
        return sign_object_jose(key, jose_typ, claims.to_claims("jose"))
    if encoding != "cbor":
        raise IssueError("encoding_unknown", f"no encoding {encoding!r}: use cbor or jose")
    return sign_object(key, cbor_typ, claims.to_claims("cbor"))


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
        return self.to_claims("cbor")

    def to_claims(self, encoding: Encoding) -> dict[Any, object]:
        k = _keys(encoding, "invocation")
        args = dict(self.args)
        return {
            k[I_VERSION]: VERSION,
            k[I_CHAIN]: _bytes_out(encoding, self.chain),
            k[I_AUDIENCE]: self.audience,
            k[I_ACTION]: self.action,
            k[I_RESOURCE]: self.resource,
            k[I_ARGS]: json_data(args, "the arguments") if encoding == "jose" else args,
            k[I_IAT]: self.iat,
            k[I_NONCE]: _bytes_out(encoding, self.nonce),
        }


def check_args(args: object) -> dict[str, object]:
    """Arguments are a map with text keys (spec 5.7); values are CBOR data without floats."""
    if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
        raise DecodeError("schema_invalid", "invocation arguments must be a map with text keys")
    return args


def decode_invocation_claims(payload: object, encoding: Encoding = "cbor") -> InvocationClaims:
    k = _keys(encoding, "invocation")
    f = _fields(encoding, payload, "invocation", frozenset(k.values()), k[I_VERSION])
    action, resource = f.text(k[I_ACTION]), f.text(k[I_RESOURCE])
    assert action is not None and resource is not None
    check_action(action, pattern=False)
    check_resource(resource, pattern=False)
    chain, nonce = f.bstr(k[I_CHAIN], size=(32, 32)), f.bstr(k[I_NONCE], size=(16, 64))
    audience, iat = f.text(k[I_AUDIENCE]), f.uint(k[I_IAT])
    assert chain is not None and nonce is not None and audience is not None and iat is not None
    return InvocationClaims(
        chain=chain,
        audience=audience,
        action=action,
        resource=resource,
        args=check_args(f.raw(k[I_ARGS])),
        iat=iat,
        nonce=nonce,
    )


@dataclass(frozen=True, slots=True)
class Invocation:
    """A decoded invocation whose signature is NOT yet checked."""

    claims: InvocationClaims
    envelope: Envelope

    @property
    def encoded(self) -> bytes:
        return self.envelope.encoded


def decode_invocation_unverified(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Invocation:
    envelope, payload = _open(data, "invocation", limits)
    return Invocation(decode_invocation_claims(payload, envelope.encoding), envelope)


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
        return self.to_claims("cbor")

    def to_claims(self, encoding: Encoding) -> dict[Any, object]:
        k = _keys(encoding, "attestation")
        out: dict[Any, object] = {
            k[A_VERSION]: VERSION,
            k[A_ISSUER]: _bytes_out(encoding, self.issuer),
            k[A_SUBJECT]: _bytes_out(encoding, self.subject),
            k[A_IAT]: self.iat,
            k[A_EXP]: self.exp,
        }
        if self.code:
            out[k[A_CODE]] = _digests_out(encoding, self.code)
        if self.model is not None:
            out[k[A_MODEL]] = self.model
        if self.config:
            out[k[A_CONFIG]] = _digests_out(encoding, self.config)
        return out


def decode_attestation_claims(payload: object, encoding: Encoding = "cbor") -> AttestationClaims:
    k = _keys(encoding, "attestation")
    f = _fields(encoding, payload, "attestation", frozenset(k.values()), k[A_VERSION])
    issuer, subject = f.bstr(k[A_ISSUER], size=(32, 32)), f.bstr(k[A_SUBJECT], size=(32, 32))
    iat, exp = f.uint(k[A_IAT]), f.uint(k[A_EXP])
    assert issuer is not None and subject is not None and iat is not None and exp is not None
    if exp <= iat:
        raise DecodeError("time_invalid", "an attestation's exp must follow its iat")
    code, config = f.raw(k[A_CODE]), f.raw(k[A_CONFIG])
    model = f.text(k[A_MODEL], required=False)
    if code is None and config is None and model is None:
        raise DecodeError("schema_invalid", "an attestation attests code, model or config")
    # Descriptor validates digest names and sizes with the same rules as links
    checked = Descriptor(
        code=_decode_digests(code, "attestation code", encoding) if code is not None else {},
        model=model,
        config=(
            _decode_digests(config, "attestation config", encoding) if config is not None else {}
        ),
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
    envelope: Envelope

    @property
    def encoded(self) -> bytes:
        return self.envelope.encoded


def decode_attestation_unverified(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Attestation:
    envelope, payload = _open(data, "attestation", limits)
    return Attestation(decode_attestation_claims(payload, envelope.encoding), envelope)


@dataclass(frozen=True, slots=True)
class ApprovalClaims:
    """spec 9.2: an approver's consent to one exact request (by its digest)."""

    issuer: bytes  # the approver's thumbprint
    request: bytes  # request_digest(...) of the approved request
    iat: int
    exp: int

    def to_cbor(self) -> dict[int, object]:
        return self.to_claims("cbor")

    def to_claims(self, encoding: Encoding) -> dict[Any, object]:
        k = _keys(encoding, "approval")
        return {
            k[V_VERSION]: VERSION,
            k[V_ISSUER]: _bytes_out(encoding, self.issuer),
            k[V_REQUEST]: _bytes_out(encoding, self.request),
            k[V_IAT]: self.iat,
            k[V_EXP]: self.exp,
        }


def decode_approval_claims(payload: object, encoding: Encoding = "cbor") -> ApprovalClaims:
    k = _keys(encoding, "approval")
    f = _fields(encoding, payload, "approval", frozenset(k.values()), k[V_VERSION])
    issuer, request = f.bstr(k[V_ISSUER], size=(32, 32)), f.bstr(k[V_REQUEST], size=(32, 32))
    iat, exp = f.uint(k[V_IAT]), f.uint(k[V_EXP])
    assert issuer is not None and request is not None and iat is not None and exp is not None
    if exp <= iat:
        raise DecodeError("time_invalid", "an approval's exp must follow its iat")
    return ApprovalClaims(issuer=issuer, request=request, iat=iat, exp=exp)


@dataclass(frozen=True, slots=True)
class Approval:
    """A decoded approval whose signature is NOT yet checked."""

    claims: ApprovalClaims
    envelope: Envelope

    @property
    def encoded(self) -> bytes:
        return self.envelope.encoded

    @property
    def digest(self) -> bytes:
        return digest(self.envelope.encoded)


def decode_approval_unverified(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Approval:
    envelope, payload = _open(data, "approval", limits)
    return Approval(decode_approval_claims(payload, envelope.encoding), envelope)


def request_digest(
    chain: bytes, audience: str, action: str, resource: str, args: Mapping[str, object]
) -> bytes:
    """spec 9.2: what an approval signs: one exact request on one exact chain.

    Encoding-neutral: the logical values, in deterministic CBOR, whatever the
    encoding of the chain and of the approval.
    """
    return digest(
        cbor.encode(
            ["agentchain/approval/v1", chain, audience, action, resource, dict(args)]  # type: ignore[list-item]
        )
    )


def attachment_to_text(data: bytes) -> str:
    """Text form of one attestation or approval: a JWS compact is its own text form;
    a COSE object takes the same prefix as presentations."""
    if encoding_of(data) == "jose":
        return data.decode("ascii")
    return TEXT_PREFIX_CBOR + b64encode(data)


def attachment_from_text(text: str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The bytes of one attestation or approval from its text form (either encoding)."""
    text = text.strip(ASCII_WHITESPACE)
    if text.startswith(TEXT_PREFIX_CBOR):
        return from_text(text, limits)
    if len(text) > limits.max_object_bytes:
        raise DecodeError("limit_exceeded", f"text over the {limits.max_object_bytes}-byte cap")
    data = text.encode("utf-8")
    if encoding_of(data) != "jose":
        raise DecodeError("encoding_unknown", "neither a JWS compact nor an 'ac1c.' text form")
    return data


# ---------------------------------------------------------------------------
# the container: a token (links only) or a presentation (links + invocation)


@dataclass(frozen=True, slots=True)
class Presentation:
    """Links, and the invocation when present; nothing in it is verified.

    Without an invocation this is what the protocol calls a *token*: what a
    delegator hands to its delegatee. ``Verifier.verify`` is the only way from
    this type to a verified chain. One presentation, one encoding: every item
    shares the encoding of the links (spec/jose.md), or construction fails
    with ``encoding_mixed``.
    """

    links: tuple[Link, ...]
    invocation: Invocation | None = None
    attestations: tuple[Attestation, ...] = ()
    approvals: tuple[Approval, ...] = ()

    def __post_init__(self) -> None:
        found = {link.envelope.encoding for link in self.links}
        found.update(a.envelope.encoding for a in self.attestations)
        found.update(a.envelope.encoding for a in self.approvals)
        if self.invocation is not None:
            found.add(self.invocation.envelope.encoding)
        if len(found) > 1:
            raise DecodeError("encoding_mixed", "a presentation mixes cbor and jose objects")

    @property
    def encoding(self) -> Encoding:
        return self.links[0].envelope.encoding if self.links else "cbor"

    @property
    def holder(self) -> PublicKey:
        return self.links[-1].claims.holder

    @property
    def chain_digest(self) -> bytes:
        return self.links[-1].digest

    def to_bytes(self) -> bytes:
        jose = self.encoding == "jose"
        k = _keys(self.encoding, "presentation")

        def item(data: bytes) -> object:
            return data.decode("ascii") if jose else data

        out: dict[Any, object] = {
            k[P_VERSION]: VERSION,
            k[P_LINKS]: [item(link.encoded) for link in self.links],
        }
        if self.invocation is not None:
            out[k[P_INVOCATION]] = item(self.invocation.encoded)
        if self.attestations:
            out[k[P_ATTESTATIONS]] = [item(a.encoded) for a in self.attestations]
        if self.approvals:
            out[k[P_APPROVALS]] = [item(a.encoded) for a in self.approvals]
        return jws.dumps(out) if jose else cbor.encode(out)  # type: ignore[arg-type]

    def to_text(self) -> str:
        prefix = TEXT_PREFIX_JOSE if self.encoding == "jose" else TEXT_PREFIX_CBOR
        return prefix + b64encode(self.to_bytes())

    def without_invocation(self) -> Presentation:
        return Presentation(self.links)


def container_encoding(data: bytes) -> Encoding:
    """A JOSE container is a JSON object (starts with '{'); a CBOR container is a map."""
    return "jose" if data[:1] == b"{" else "cbor"


def decode_presentation_unverified(
    data: bytes | str,
    limits: Limits = DEFAULT_LIMITS,
    *,
    known: Callable[[bytes], Link | None] | None = None,
) -> Presentation:
    """Decode a token or presentation from bytes or its text form, checking structure only.

    The encoding is detected (text prefix; for bytes, a JSON object or a CBOR
    map) and every item must be in it: otherwise ``encoding_mixed``.

    ``known`` maps a link digest to a link decoded earlier from the same bytes
    under the same limits (the verifier's prefix cache), or None: decoding is a
    pure function of the bytes, so such a link is not decoded again.
    """
    raw = from_text(data, limits) if isinstance(data, str) else data
    if len(raw) > limits.max_presentation_bytes:
        raise DecodeError(
            "limit_exceeded", f"presentation over {limits.max_presentation_bytes} bytes"
        )
    encoding = container_encoding(raw)
    if isinstance(data, str) and data.strip(ASCII_WHITESPACE).startswith(TEXT_PREFIX_JOSE) != (
        encoding == "jose"
    ):
        raise DecodeError(
            "encoding_unknown", "the text prefix names another encoding than it holds"
        )
    if encoding == "jose":
        top = jws.loads(
            raw,
            max_bytes=limits.max_presentation_bytes,
            max_depth=3,
            max_items=limits.max_links + 2 * limits.max_attachments + 16,
            max_string_bytes=limits.max_object_bytes,
        )
    else:
        top = cbor.decode(
            raw,
            max_depth=3,
            max_items=limits.max_links + 2 * limits.max_attachments + 8,
            max_string_bytes=limits.max_object_bytes,
        )
    k = _keys(encoding, "presentation")
    f = _Fields(top, "presentation", frozenset(k.values()), version=k[P_VERSION])
    links_raw = _req(f.array(k[P_LINKS]))
    assert isinstance(links_raw, list)
    if not links_raw:
        raise DecodeError("chain_empty", "the presentation holds no link")
    if len(links_raw) > limits.max_links:
        raise DecodeError("limit_exceeded", f"more than {limits.max_links} links")
    links = []
    for item in links_raw:
        data = _item(encoding, item, "links")
        link = known(digest(data)) if known is not None else None
        links.append(link if link is not None else decode_link_unverified(data, limits))
    inv_raw = f.raw(k[P_INVOCATION])
    invocation = (
        decode_invocation_unverified(_item(encoding, inv_raw, "the invocation"), limits)
        if inv_raw is not None
        else None
    )
    attestations = tuple(
        decode_attestation_unverified(_item(encoding, item, "attestations"), limits)
        for item in _attachments(f.array(k[P_ATTESTATIONS], required=False), "attestations", limits)
    )
    approvals = tuple(
        decode_approval_unverified(_item(encoding, item, "approvals"), limits)
        for item in _attachments(f.array(k[P_APPROVALS], required=False), "approvals", limits)
    )
    if (attestations or approvals) and invocation is None:
        raise DecodeError("schema_invalid", "attachments ride only with an invocation")
    return Presentation(tuple(links), invocation, attestations, approvals)


def _item(encoding: Encoding, value: object, what: str) -> bytes:
    """One signed object of a container, which must be in the container's encoding.

    spec/jose.md: one chain, one encoding. A JWS compact in a CBOR container, or
    a COSE object (as bytes or as base64url text) in a JSON container, is
    ``encoding_mixed``; anything else that is not an object is ``schema_invalid``.
    """
    if encoding == "cbor":
        # spec/jose.md J.1: a signed object whose first byte is a base64url character IS a
        # JWS compact, well-formed or not; it is never handed to the JOSE parser from here
        if isinstance(value, bytes) and encoding_of(value) == "jose":
            raise DecodeError("encoding_mixed", f"{what}: a JOSE object in a CBOR container")
        if isinstance(value, str) and _JWS_SHAPE.fullmatch(value.encode("utf-8", "replace")):
            raise DecodeError("encoding_mixed", f"{what}: a JOSE object in a CBOR container")
        if not isinstance(value, bytes) or not value:
            raise DecodeError("schema_invalid", f"{what} are byte strings holding COSE_Sign1")
        return value
    if not isinstance(value, str) or not value:
        raise DecodeError("schema_invalid", f"{what} are strings holding a JWS compact")
    if value.startswith(TEXT_PREFIX_CBOR) or (value.count(".") == 0 and _base64url_of_cose(value)):
        raise DecodeError("encoding_mixed", f"{what}: a COSE object in a JSON container")
    data = value.encode("utf-8")
    if encoding_of(data) != "jose":
        raise DecodeError("schema_invalid", f"{what} are strings holding a JWS compact")
    return data


_JWS_SHAPE: Final = re.compile(rb"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")


def _base64url_of_cose(text: str) -> bool:
    try:
        data = b64decode(text)
    except DecodeError:
        return False
    return encoding_of(data) == "cbor" and data[:1] == b"\x84"  # COSE_Sign1: array of 4


def _attachments(raw: list[object] | None, what: str, limits: Limits) -> list[object]:
    if raw is None:
        return []
    if not raw:
        raise DecodeError("schema_invalid", f"{what}, when present, are a non-empty array")
    if len(raw) > limits.max_attachments:
        raise DecodeError("limit_exceeded", f"more than {limits.max_attachments} {what}")
    return raw


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


def b64encode(data: bytes) -> str:
    """Unpadded base64url (spec 5.1)."""
    return jws.b64encode(data)


def b64decode(text: str) -> bytes:
    """Strict unpadded base64url: no padding, no whitespace, no stray bits (spec 5.1)."""
    return jws.b64decode(text)


def from_text(text: str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The bytes of a presentation's text form, ``ac1c.`` (CBOR) or ``ac1j.`` (JOSE)."""
    text = text.strip(ASCII_WHITESPACE)
    # the cap is checked on the text, before any decoding work
    if len(text) > len(TEXT_PREFIX_CBOR) + (limits.max_presentation_bytes * 4 + 2) // 3:
        raise DecodeError(
            "limit_exceeded", f"text over the {limits.max_presentation_bytes}-byte cap"
        )
    if not text.startswith((TEXT_PREFIX_CBOR, TEXT_PREFIX_JOSE)):
        raise DecodeError(
            "encoding_unknown",
            f"text form must start with {TEXT_PREFIX_CBOR!r} or {TEXT_PREFIX_JOSE!r}",
        )
    return b64decode(text[len(TEXT_PREFIX_CBOR) :])
