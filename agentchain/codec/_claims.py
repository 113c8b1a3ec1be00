"""Claims <-> claim maps, for both encodings (spec 5.5, 5.7, 9.1, 9.2).

Decoding checks structure, never trust.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeAlias, TypeVar, cast

from agentchain._frozen import maker
from agentchain.codec._fields import (
    _bytes_out,
    _decode_digests,
    _decode_key,
    _digests_out,
    _fields,
    _key_out,
    _statement_out,
    decode_descriptor,
    digest,
    encode_descriptor,
    json_data,
)
from agentchain.codec._keys import (
    A_CODE,
    A_CONFIG,
    A_EXP,
    A_IAT,
    A_ISSUER,
    A_MODEL,
    A_SUBJECT,
    A_VERSION,
    I_ACTION,
    I_APPROVALS,
    I_ARGS,
    I_ARGS_DIGEST,
    I_ATTESTATIONS,
    I_AUDIENCE,
    I_CHAIN,
    I_IAT,
    I_NONCE,
    I_RESOURCE,
    I_VERSION,
    L_APPROVALS,
    L_CAPS,
    L_CAVEATS,
    L_DEPTH,
    L_DESCRIPTOR,
    L_EXP,
    L_HOLDER,
    L_IAT,
    L_ISSUER,
    L_NBF,
    L_PARENT,
    L_PURPOSE,
    L_USAGE,
    L_VERSION,
    LR_ID,
    MAX_TIME,
    R_ACTIONS,
    R_APPROVER,
    R_WHEN,
    U_LIMITS,
    U_NOVELTY,
    UL_ACTIONS,
    UL_APPROVER,
    UL_MAX,
    UL_ON,
    UL_PERIOD,
    UL_SELECTOR,
    UN_APPROVER,
    UN_LEARN,
    V_EXP,
    V_IAT,
    V_ISSUER,
    V_REQUEST,
    V_VERSION,
    VERSION,
    X_BEFORE,
    X_EXP,
    X_IAT,
    X_KEY,
    X_LINK,
    X_REVOKER,
    X_VERSION,
    Encoding,
    _keys,
)
from agentchain.crypto import PublicKey
from agentchain.errors import DecodeError
from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.model import Arguments
from agentchain.model._authority import (
    Capability,
    Descriptor,
    Window,
    check_action,
    check_resource,
)
from agentchain.model._caveats import parse_selector, parse_statement, statement_data
from agentchain.model._claims import (
    ApprovalClaims,
    ApprovalRequirement,
    AttestationClaims,
    Caveat,
    Claims,
    InvocationClaims,
    LinkClaims,
    LinkRef,
    ObjectKind,
    RevocationClaims,
)
from agentchain.model._usage import MAX_AMOUNT, Novelty, Usage, UsageLimit
from agentchain.wire import cbor, jws

C = TypeVar("C", LinkClaims, InvocationClaims, AttestationClaims, ApprovalClaims, RevocationClaims)

#: ``LinkClaims(...)`` and ``InvocationClaims(...)``, faster (``_frozen.maker``): the claims
#: every verification reads
_LINK_CLAIMS: Final = maker(LinkClaims)
_INVOCATION_CLAIMS: Final = maker(InvocationClaims)


def decode_caveat(value: object, limits: Limits, encoding: Encoding = "cbor") -> Caveat:
    if not isinstance(value, dict):
        return Caveat(parse_statement(value, limits=limits))
    k = _keys(encoding, "requirement")
    f = _fields(encoding, value, "scoped caveat", frozenset({k[R_WHEN], k[R_ACTIONS]}))
    actions = f.array(k[R_ACTIONS])
    if not actions:
        raise DecodeError("schema_invalid", "a scoped caveat names at least one action")
    if len(actions) > limits.max_capabilities:  # spec 5.5 R-5.5-8: as in a requirement
        raise DecodeError("limit_exceeded", f"more than {limits.max_capabilities} actions")
    names = _texts(actions, "a scoped caveat's actions are text")
    when = f.raw(k[R_WHEN])
    if when is None:
        raise DecodeError("schema_invalid", "a scoped caveat lacks its statement")
    return Caveat(parse_statement(when, limits=limits), names)


def _texts(values: list[object], message: str) -> tuple[str, ...]:
    """``values`` as a tuple of text, or DecodeError(schema_invalid, message)."""
    names = tuple(v for v in values if isinstance(v, str))
    if len(names) != len(values):
        raise DecodeError("schema_invalid", message)
    return names


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
    names = _texts(actions or [], "approval requirement actions are text")
    return ApprovalRequirement(
        when=parse_statement(when, limits=limits) if when is not None else None,
        actions=names,
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
        if not isinstance(value, dict) or "jwk" not in value:
            raise DecodeError("schema_invalid", "link cnf must be exactly {'jwk': public JWK}")
        if len(value) > 1:  # jose.md J.5: a member outside the tables
            raise DecodeError("unknown_field", "link cnf has members besides 'jwk'")
        value = value["jwk"]
    return _decode_key(encoding, value, "link holder")


def decode_link_claims(payload: object, limits: Limits, encoding: Encoding = "cbor") -> LinkClaims:
    if encoding == "cbor":
        if (claims := _plain_cbor_link(payload, limits)) is not None:
            return claims
    elif (claims := _plain_jose_link(payload, limits)) is not None:
        return claims
    k = _keys(encoding, "link")
    f = _fields(encoding, payload, "link", frozenset(k.values()), k[L_VERSION])
    caps_raw = f.array(k[L_CAPS])
    caveats_raw = f.array(k[L_CAVEATS])
    if not caps_raw:
        raise DecodeError("schema_invalid", "a link grants at least one capability")
    if len(caps_raw) > limits.max_capabilities:
        raise DecodeError("limit_exceeded", f"more than {limits.max_capabilities} capabilities")
    if len(caveats_raw) > limits.max_caveats:
        raise DecodeError("limit_exceeded", f"more than {limits.max_caveats} caveats")
    nbf, exp = f.uint(k[L_NBF]), f.uint(k[L_EXP])
    iat = f.uint(k[L_IAT])
    depth = f.uint(k[L_DEPTH], upper=255)
    issuer = f.bstr(k[L_ISSUER], size=(32, 32), required=False)
    parent = f.bstr(k[L_PARENT], size=(32, 32), required=False)
    # spec 5.5 (0.2): the root names its issuer (a trust anchor) and no parent; every other
    # link names its parent and no issuer (the parent's holder, proven by the signature)
    if (issuer is None) == (parent is None):
        raise DecodeError(
            "schema_invalid", "a link names an issuer (the root) or a parent, exactly one"
        )
    return _LINK_CLAIMS(
        issuer=issuer,
        holder=_decode_holder(encoding, f.raw(k[L_HOLDER])),
        parent=parent,
        iat=iat,
        window=Window(nbf, exp),
        capabilities=tuple(decode_capability(c, limits) for c in caps_raw),
        caveats=tuple(decode_caveat(c, limits, encoding) for c in caveats_raw),
        depth=depth,
        purpose=f.text(k[L_PURPOSE], required=False),
        descriptor=decode_descriptor(f.raw(k[L_DESCRIPTOR]), encoding),
        approvals=_decode_requirements(f.array(k[L_APPROVALS], required=False), limits, encoding),
        usage=_decode_usage(f.raw(k[L_USAGE]), limits, encoding),
    )


#: the claims a CBOR link may carry, and those the plain shape below reads itself
_LINK_KEYS: Final = frozenset(_keys("cbor", "link"))
_PLAIN_LINK_KEYS: Final = _LINK_KEYS - {L_APPROVALS, L_USAGE}


def _known_link(
    known: Mapping[int, object],
    *,
    issuer: bytes | None,
    parent: bytes | None,
    iat: int,
    nbf: int,
    exp: int,
    depth: int,
    purpose: str | None,
) -> LinkClaims:
    """A plain link's claims from its checked head and the values of its holder,
    capabilities, caveats and descriptor read before by their bytes (codec._plain)."""
    return _LINK_CLAIMS(
        issuer=issuer,
        holder=known[L_HOLDER],  # type: ignore[arg-type]
        parent=parent,
        iat=iat,
        window=Window(nbf, exp),
        capabilities=known[L_CAPS],  # type: ignore[arg-type]
        caveats=known[L_CAVEATS],  # type: ignore[arg-type]
        depth=depth,
        purpose=purpose,
        descriptor=known[L_DESCRIPTOR],  # type: ignore[arg-type]
    )


#: the scalar claims of a link's plain shape, in the order :func:`_plain_head` returns them
_CBOR_HEAD: Final = (
    L_VERSION, L_CAPS, L_CAVEATS, L_NBF, L_EXP, L_IAT, L_DEPTH, L_ISSUER, L_PARENT, L_PURPOSE
)  # fmt: skip


def _plain_head(
    payload: object,
    limits: Limits,
    allowed: frozenset[Any],
    names: tuple[Any, ...],
    named: type,
) -> tuple[Any, ...] | None:
    """The head of a link's claims map in the common shape (both encodings), or None.

    ``allowed`` are the claims the shape may carry; ``names`` the keys of
    :data:`_CBOR_HEAD` in the map's encoding; ``named`` the type that carries the issuer
    or the parent (bytes in CBOR, base64url text in JOSE). Returned: the capabilities and
    caveats as decoded, nbf, exp, iat, depth, issuer, parent, purpose. A claim present as
    null, absent where required, of another type or out of range returns None, and the
    general reading refuses it in its order, with its message."""
    if type(payload) is not dict or not payload.keys() <= allowed:
        return None
    if None in payload.values():
        return None
    version, caps_raw, caveats_raw, nbf, exp, iat, depth, issuer, parent, purpose = map(
        payload.get, names
    )
    if (
        type(version) is not int
        or version != VERSION
        or type(caps_raw) is not list
        or not 0 < len(caps_raw) <= limits.max_capabilities
        or type(caveats_raw) is not list
        or len(caveats_raw) > limits.max_caveats
        or type(nbf) is not int
        or type(exp) is not int
        or type(iat) is not int
        or not (0 <= nbf <= MAX_TIME and 0 <= exp <= MAX_TIME and 0 <= iat <= MAX_TIME)
        or type(depth) is not int
        or not 0 <= depth <= 255
        # spec 5.5 (0.2): exactly one of issuer (the root) and parent
        or (issuer is None) == (parent is None)
        or type(issuer if parent is None else parent) is not named
        or (names[-1] in payload and (type(purpose) is not str or not purpose))
    ):
        return None
    return caps_raw, caveats_raw, nbf, exp, iat, depth, issuer, parent, purpose


def _plain_cbor_link(
    payload: object, limits: Limits, known: Mapping[int, object] | None = None
) -> LinkClaims | None:
    """:func:`decode_link_claims` of a CBOR link in the common shape, or None.

    The common shape: every scalar claim present where required and of its type and
    range, no approval requirements and no usage claim. Where it holds, every check the
    general reading makes before the holder passes, so this one calls the same decoders
    in the same order (holder, capabilities, caveats, descriptor) and any refusal is
    theirs, as it would be there. Anything else returns None: the general reading
    finds the first violation, in its order, with its code. It reads fields straight
    from the map instead of through ``_Fields``: the same answer, without one call
    per field.
    """
    head = _plain_head(payload, limits, _PLAIN_LINK_KEYS, _CBOR_HEAD, bytes)
    if head is None:
        return None
    caps_raw, caveats_raw, nbf, exp, iat, depth, issuer, parent, purpose = head
    if len(issuer if parent is None else parent) != 32:
        return None
    if known is not None:  # read from their bytes before (codec._plain): the same values
        return _known_link(
            known, issuer=issuer, parent=parent, iat=iat, nbf=nbf, exp=exp, depth=depth,
            purpose=purpose,
        )  # fmt: skip
    get = cast(dict[Any, object], payload).get
    return _LINK_CLAIMS(
        issuer=issuer,
        holder=_decode_holder("cbor", get(L_HOLDER)),
        parent=parent,
        iat=iat,
        window=Window(nbf, exp),
        capabilities=tuple(decode_capability(c, limits) for c in caps_raw),
        caveats=tuple(decode_caveat(c, limits) for c in caveats_raw),
        depth=depth,
        purpose=purpose,
        descriptor=decode_descriptor(get(L_DESCRIPTOR), "cbor"),
    )


#: the members of a JOSE link's claims the plain shape may carry (spec/jose.md)
_JOSE_LINK_NAMES: Final = _keys("jose", "link")
_PLAIN_JOSE_LINK_NAMES: Final = frozenset(
    name for key, name in _JOSE_LINK_NAMES.items() if key not in (L_APPROVALS, L_USAGE)
)
_JOSE_HEAD: Final = tuple(_JOSE_LINK_NAMES[k] for k in _CBOR_HEAD)
_J_HOLDER, _J_DESCRIPTOR = _JOSE_LINK_NAMES[L_HOLDER], _JOSE_LINK_NAMES[L_DESCRIPTOR]


def _plain_jose_link(payload: object, limits: Limits) -> LinkClaims | None:
    """:func:`decode_link_claims` of a JOSE link in the common shape, or None.

    :func:`_plain_cbor_link` for the JSON claims: the same shape (every scalar claim
    present where required, of its type and in its range, no approval requirements and no
    usage claim), the issuer or parent as base64url text of 32 bytes. Where it holds, every
    check the general reading makes before the holder passes, so this one calls the same
    decoders in the same order (holder, capabilities, caveats, descriptor) and a refusal is
    theirs. Anything else returns None, and the general reading finds the first violation,
    in its order, with its code.
    """
    head = _plain_head(payload, limits, _PLAIN_JOSE_LINK_NAMES, _JOSE_HEAD, str)
    if head is None:
        return None
    caps_raw, caveats_raw, nbf, exp, iat, depth, issuer_text, parent_text, purpose = head
    get = cast(dict[str, object], payload).get
    try:  # 32 bytes of strict base64url, else the general reading names the error
        named = jws.b64decode(issuer_text if parent_text is None else parent_text)
    except DecodeError:
        return None
    if len(named) != 32:
        return None
    return _LINK_CLAIMS(
        issuer=named if parent_text is None else None,
        holder=_decode_holder("jose", get(_J_HOLDER)),
        parent=None if parent_text is None else named,
        iat=iat,
        window=Window(nbf, exp),
        capabilities=tuple(decode_capability(c, limits) for c in caps_raw),
        caveats=tuple(decode_caveat(c, limits, "jose") for c in caveats_raw),
        depth=depth,
        purpose=purpose,
        descriptor=decode_descriptor(get(_J_DESCRIPTOR), "jose"),
    )


def _decode_usage(raw: object, limits: Limits, encoding: Encoding) -> Usage | None:
    """spec 9.5: ``{? 1: [+ limit], ? 2: novelty}``, at least one of them."""
    if raw is None:
        return None
    k = _keys(encoding, "usage")
    f = _fields(encoding, raw, "usage claim", frozenset(k.values()))
    limits_raw = f.array(k[U_LIMITS], required=False)
    novelty_raw = f.raw(k[U_NOVELTY])
    if limits_raw is not None and not limits_raw:
        raise DecodeError("schema_invalid", "usage limits, when present, are non-empty")
    if limits_raw is not None and len(limits_raw) > limits.max_caveats:
        raise DecodeError("limit_exceeded", f"more than {limits.max_caveats} usage limits")
    return Usage(
        limits=tuple(_decode_limit(item, limits, encoding) for item in limits_raw or ()),
        novelty=None if novelty_raw is None else _decode_novelty(novelty_raw, encoding),
    )


def _decode_limit(value: object, limits: Limits, encoding: Encoding) -> UsageLimit:
    k = _keys(encoding, "limit")
    f = _fields(encoding, value, "usage limit", frozenset(k.values()))
    period, max_ = f.uint(k[UL_PERIOD]), f.uint(k[UL_MAX], upper=MAX_AMOUNT)
    selector = f.raw(k[UL_SELECTOR])
    actions = f.array(k[UL_ACTIONS], required=False)
    if actions is not None and not 1 <= len(actions) <= limits.max_capabilities:
        raise DecodeError("schema_invalid", "a usage limit names 1..max_capabilities actions")
    on = f.text(k[UL_ON], required=False) or "deny"
    if on not in ("deny", "approve"):
        raise DecodeError("schema_invalid", "a usage limit's on is 'deny' or 'approve'")
    approver = f.raw(k[UL_APPROVER])
    return UsageLimit(
        period=period,
        max=max_,
        selector=None if selector is None else parse_selector(selector),
        actions=_texts(actions or [], "a usage limit's actions are text"),
        on_exceed="approve" if on == "approve" else "deny",
        approver=None if approver is None else _decode_key(encoding, approver, "approver"),
    )


def _decode_novelty(value: object, encoding: Encoding) -> Novelty:
    k = _keys(encoding, "novelty")
    f = _fields(encoding, value, "novelty rule", frozenset(k.values()))
    learn = f.uint(k[UN_LEARN])
    approver = f.raw(k[UN_APPROVER])
    return Novelty(
        learn=learn,
        approver=None if approver is None else _decode_key(encoding, approver, "approver"),
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


def check_args(args: object) -> dict[str, object]:
    """Arguments are a map with text keys (spec 5.7); values are data of spec 5.2."""
    if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
        raise DecodeError("schema_invalid", "invocation arguments must be a map with text keys")
    return args


#: the claims of a CBOR invocation in the common shape: its arguments carried, no
#: attachment named (spec 5.7)
_PLAIN_INVOCATION_KEYS: Final = frozenset(
    (I_VERSION, I_CHAIN, I_AUDIENCE, I_ACTION, I_RESOURCE, I_ARGS, I_IAT, I_NONCE)
)


def _plain_cbor_invocation(payload: object) -> InvocationClaims | None:
    """:func:`decode_invocation_claims` of a CBOR invocation in the common shape, or None.

    The common shape: exactly the claims of :data:`_PLAIN_INVOCATION_KEYS`, each of its
    type and in its range. Where it holds, every check of the general reading before the
    action's own passes, so the checks left (the action, the resource, the arguments' keys)
    are called in the general reading's order, and a refusal is theirs as it would be
    there. Anything else returns None: the general reading finds the first violation, in
    its order, with its code. Fields are read straight from the map, without one call per
    field, as :func:`_plain_cbor_link` does for links.
    """
    if type(payload) is not dict or payload.keys() != _PLAIN_INVOCATION_KEYS:
        return None
    version, chain, nonce = payload[I_VERSION], payload[I_CHAIN], payload[I_NONCE]
    action, resource, audience = payload[I_ACTION], payload[I_RESOURCE], payload[I_AUDIENCE]
    args, iat = payload[I_ARGS], payload[I_IAT]
    if (
        type(version) is not int
        or version != VERSION
        or type(action) is not str
        or not action
        or type(resource) is not str
        or not resource
        or type(chain) is not bytes
        or len(chain) != 32
        or type(nonce) is not bytes
        or not 16 <= len(nonce) <= 64
        or type(audience) is not str
        or not audience
        or type(iat) is not int
        or not 0 <= iat <= MAX_TIME
        or type(args) is not dict
    ):
        return None
    check_action(action, pattern=False)
    check_resource(resource, pattern=False)
    return _INVOCATION_CLAIMS(
        chain=chain,
        audience=audience,
        action=action,
        resource=resource,
        args=check_args(args),
        iat=iat,
        nonce=nonce,
        args_digest=None,
        attestations=(),
        approvals=(),
    )


def decode_invocation_claims(
    payload: object, encoding: Encoding = "cbor", limits: Limits = DEFAULT_LIMITS
) -> InvocationClaims:
    if encoding == "cbor" and (plain := _plain_cbor_invocation(payload)) is not None:
        return plain
    k = _keys(encoding, "invocation")
    f = _fields(encoding, payload, "invocation", frozenset(k.values()), k[I_VERSION])
    action, resource = f.text(k[I_ACTION]), f.text(k[I_RESOURCE])
    check_action(action, pattern=False)
    check_resource(resource, pattern=False)
    chain, nonce = f.bstr(k[I_CHAIN], size=(32, 32)), f.bstr(k[I_NONCE], size=(16, 64))
    audience, iat = f.text(k[I_AUDIENCE]), f.uint(k[I_IAT])
    # spec 5.7: the arguments themselves or their digest, exactly one of the two
    args_digest = f.bstr(k[I_ARGS_DIGEST], size=(32, 32), required=False)
    raw_args = f.raw(k[I_ARGS])
    if (raw_args is None) == (args_digest is None):
        raise DecodeError("schema_invalid", "an invocation carries args or args_digest, not both")
    most = limits.max_attachments
    return _INVOCATION_CLAIMS(
        chain=chain,
        audience=audience,
        action=action,
        resource=resource,
        args={} if raw_args is None else check_args(raw_args),
        iat=iat,
        nonce=nonce,
        args_digest=args_digest,
        attestations=f.digests(k[I_ATTESTATIONS], most=most),
        approvals=f.digests(k[I_APPROVALS], most=most),
    )


def decode_attestation_claims(payload: object, encoding: Encoding = "cbor") -> AttestationClaims:
    k = _keys(encoding, "attestation")
    f = _fields(encoding, payload, "attestation", frozenset(k.values()), k[A_VERSION])
    issuer, subject = f.bstr(k[A_ISSUER], size=(32, 32)), f.bstr(k[A_SUBJECT], size=(32, 32))
    iat, exp = f.uint(k[A_IAT]), f.uint(k[A_EXP])
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


def decode_approval_claims(payload: object, encoding: Encoding = "cbor") -> ApprovalClaims:
    k = _keys(encoding, "approval")
    f = _fields(encoding, payload, "approval", frozenset(k.values()), k[V_VERSION])
    issuer, request = f.bstr(k[V_ISSUER], size=(32, 32)), f.bstr(k[V_REQUEST], size=(32, 32))
    iat, exp = f.uint(k[V_IAT]), f.uint(k[V_EXP])
    if exp <= iat:
        raise DecodeError("time_invalid", "an approval's exp must follow its iat")
    return ApprovalClaims(issuer=issuer, request=request, iat=iat, exp=exp)


#: deterministic CBOR: :func:`agentchain.wire.cbor.encode`, or a backend's encoder of it
#: (``agentchain._native``: the same bytes for every value)
CBOREncode: TypeAlias = Callable[[cbor.CBORValue], bytes]


def args_digest(args: Arguments, *, encode: CBOREncode = cbor.encode) -> bytes:
    """spec 5.7: SHA-256 of the deterministic CBOR of the arguments (whatever the encoding):
    what an invocation signs in place of arguments too large to carry."""
    return digest(encode(dict(args)))  # type: ignore[arg-type]


def link_id(claims: LinkClaims, *, encode: CBOREncode = cbor.encode) -> bytes:
    """spec 8.5 (0.2): a link's claim-level identity, the same for its CBOR and JOSE twins:
    SHA-256 of the deterministic CBOR of its claims without the parent (whose digest
    differs between the twins)."""
    return digest(encode(_link_out(claims, "cbor", parent=False, shared=True)))  # type: ignore[arg-type]


def decode_revocation_claims(payload: object, encoding: Encoding = "cbor") -> RevocationClaims:
    """spec 8.5: exactly one target (a link by its claim digest, or a key by thumbprint)."""
    k = _keys(encoding, "revocation")
    f = _fields(encoding, payload, "revocation", frozenset(k.values()), k[X_VERSION])
    iat = f.uint(k[X_IAT])
    before = f.uint(k[X_BEFORE], required=False)
    exp = f.uint(k[X_EXP], required=False)
    key = f.bstr(k[X_KEY], size=(32, 32), required=False)
    link_raw = f.raw(k[X_LINK])
    revoker_raw = f.raw(k[X_REVOKER])
    if revoker_raw is None:
        raise DecodeError("schema_invalid", f"revocation lacks key {k[X_REVOKER]}")
    if (link_raw is None) == (key is None):
        raise DecodeError("schema_invalid", "a revocation names exactly one link or one key")
    link = None
    if link_raw is not None:
        r = _keys(encoding, "linkref")
        lf = _fields(encoding, link_raw, "revoked link", frozenset(r.values()))
        link = LinkRef(id=lf.bstr(r[LR_ID], size=(32, 32)))
    return RevocationClaims(
        revoker=_decode_key(encoding, revoker_raw, "revoker"),
        iat=iat,
        link=link,
        key=key,
        before=before,
        exp=exp,
    )


def request_digest(
    chain: bytes, audience: str, action: str, resource: str, args: Arguments
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


# ---------------------------------------------------------------------------
# encoding


def _link_out(
    claims: LinkClaims, encoding: Encoding, *, parent: bool = True, shared: bool = False
) -> dict[Any, object]:
    """The claims map of a link; without its parent claim where ``parent`` is False (spec
    8.5: the link id). With ``shared``, the caveats' statements are their own data, not
    copies: for a caller that encodes the map at once and lets it go (the link id)."""
    k = _keys(encoding, "link")
    holder = _key_out(encoding, claims.holder)
    out: dict[Any, object] = {
        k[L_VERSION]: VERSION,
        # RFC 7800: the holder key is the confirmation key
        k[L_HOLDER]: {"jwk": holder} if encoding == "jose" else holder,
        k[L_IAT]: claims.iat,
        k[L_NBF]: claims.window.nbf,
        k[L_EXP]: claims.window.exp,
        k[L_CAPS]: [[c.action, c.resource] for c in claims.capabilities],
        k[L_CAVEATS]: [
            _caveat_out(c, encoding, statement_data(c.statement))
            if shared and encoding == "cbor"
            else encode_caveat(c, encoding)
            for c in claims.caveats
        ],
        k[L_DEPTH]: claims.depth,
        k[L_DESCRIPTOR]: encode_descriptor(claims.descriptor, encoding),
    }
    if parent and claims.parent is not None:
        out[k[L_PARENT]] = _bytes_out(encoding, claims.parent)
    if claims.issuer is not None:
        out[k[L_ISSUER]] = _bytes_out(encoding, claims.issuer)
    if claims.purpose is not None:
        out[k[L_PURPOSE]] = claims.purpose
    if claims.approvals:
        out[k[L_APPROVALS]] = [encode_approval_requirement(r, encoding) for r in claims.approvals]
    if claims.usage is not None:
        out[k[L_USAGE]] = encode_usage(claims.usage, encoding)
    return out


def encode_usage(usage: Usage, encoding: Encoding = "cbor") -> dict[Any, object]:
    """spec 9.5: the usage claim; ``on`` is omitted for deny, the default."""
    k, kl, kn = _keys(encoding, "usage"), _keys(encoding, "limit"), _keys(encoding, "novelty")
    out: dict[Any, object] = {}
    if usage.limits:
        items = []
        for limit in usage.limits:
            item: dict[Any, object] = {kl[UL_PERIOD]: limit.period, kl[UL_MAX]: limit.max}
            if limit.selector is not None:
                item[kl[UL_SELECTOR]] = limit.selector.text
            if limit.actions:
                item[kl[UL_ACTIONS]] = list(limit.actions)
            if limit.on_exceed != "deny":
                item[kl[UL_ON]] = limit.on_exceed
            if limit.approver is not None:
                item[kl[UL_APPROVER]] = _key_out(encoding, limit.approver)
            items.append(item)
        out[k[U_LIMITS]] = items
    if usage.novelty is not None:
        novelty: dict[Any, object] = {kn[UN_LEARN]: usage.novelty.learn}
        if usage.novelty.approver is not None:
            novelty[kn[UN_APPROVER]] = _key_out(encoding, usage.novelty.approver)
        out[k[U_NOVELTY]] = novelty
    return out


def encode_caveat(caveat: Caveat, encoding: Encoding = "cbor") -> object:
    return _caveat_out(caveat, encoding, _statement_out(encoding, caveat.statement))


def _caveat_out(caveat: Caveat, encoding: Encoding, statement: object) -> object:
    """A caveat in ``encoding`` around its ``statement`` (encoded already, or, for a
    caller that encodes at once, its own data: see ``_link_out``)."""
    if not caveat.actions:
        return statement
    k = _keys(encoding, "requirement")
    return {k[R_WHEN]: statement, k[R_ACTIONS]: list(caveat.actions)}


def encode_approval_requirement(
    requirement: ApprovalRequirement, encoding: Encoding = "cbor"
) -> dict[Any, object]:
    k = _keys(encoding, "requirement")
    out: dict[Any, object] = {}
    if requirement.when is not None:
        out[k[R_WHEN]] = _statement_out(encoding, requirement.when)
    if requirement.actions:
        out[k[R_ACTIONS]] = list(requirement.actions)
    if requirement.approver is not None:
        out[k[R_APPROVER]] = _key_out(encoding, requirement.approver)
    return out


def _invocation_out(claims: InvocationClaims, encoding: Encoding) -> dict[Any, object]:
    k = _keys(encoding, "invocation")
    args = dict(claims.args)
    out: dict[Any, object] = {
        k[I_VERSION]: VERSION,
        k[I_CHAIN]: _bytes_out(encoding, claims.chain),
        k[I_AUDIENCE]: claims.audience,
        k[I_ACTION]: claims.action,
        k[I_RESOURCE]: claims.resource,
        k[I_IAT]: claims.iat,
        k[I_NONCE]: _bytes_out(encoding, claims.nonce),
    }
    if claims.args_digest is not None:
        out[k[I_ARGS_DIGEST]] = _bytes_out(encoding, claims.args_digest)
    else:
        out[k[I_ARGS]] = json_data(args, "the arguments") if encoding == "jose" else args
    for key, digests in ((I_ATTESTATIONS, claims.attestations), (I_APPROVALS, claims.approvals)):
        if digests:
            out[k[key]] = [_bytes_out(encoding, d) for d in digests]
    return out


def _attestation_out(claims: AttestationClaims, encoding: Encoding) -> dict[Any, object]:
    k = _keys(encoding, "attestation")
    out: dict[Any, object] = {
        k[A_VERSION]: VERSION,
        k[A_ISSUER]: _bytes_out(encoding, claims.issuer),
        k[A_SUBJECT]: _bytes_out(encoding, claims.subject),
        k[A_IAT]: claims.iat,
        k[A_EXP]: claims.exp,
    }
    if claims.code:
        out[k[A_CODE]] = _digests_out(encoding, claims.code)
    if claims.model is not None:
        out[k[A_MODEL]] = claims.model
    if claims.config:
        out[k[A_CONFIG]] = _digests_out(encoding, claims.config)
    return out


def _approval_out(claims: ApprovalClaims, encoding: Encoding) -> dict[Any, object]:
    k = _keys(encoding, "approval")
    return {
        k[V_VERSION]: VERSION,
        k[V_ISSUER]: _bytes_out(encoding, claims.issuer),
        k[V_REQUEST]: _bytes_out(encoding, claims.request),
        k[V_IAT]: claims.iat,
        k[V_EXP]: claims.exp,
    }


def _revocation_out(claims: RevocationClaims, encoding: Encoding) -> dict[Any, object]:
    k = _keys(encoding, "revocation")
    out: dict[Any, object] = {
        k[X_VERSION]: VERSION,
        k[X_REVOKER]: _key_out(encoding, claims.revoker),
        k[X_IAT]: claims.iat,
    }
    if claims.link is not None:
        r = _keys(encoding, "linkref")
        out[k[X_LINK]] = {
            r[LR_ID]: _bytes_out(encoding, claims.link.id),
        }
    if claims.key is not None:
        out[k[X_KEY]] = _bytes_out(encoding, claims.key)
    if claims.before is not None:
        out[k[X_BEFORE]] = claims.before
    if claims.exp is not None:
        out[k[X_EXP]] = claims.exp
    return out


_ENCODERS: Final[Mapping[ObjectKind, Callable[[Any, Encoding], dict[Any, object]]]] = {
    "link": _link_out,
    "invocation": _invocation_out,
    "attestation": _attestation_out,
    "approval": _approval_out,
    "revocation": _revocation_out,
}


def encode_claims(claims: Claims, encoding: Encoding = "cbor") -> dict[Any, object]:
    """The claim map of ``claims`` in ``encoding`` (CBOR: integer keys; JOSE: names)."""
    return _ENCODERS[claims.KIND](claims, encoding)


def _decode_link(payload: object, limits: Limits, encoding: Encoding) -> LinkClaims:
    return decode_link_claims(payload, limits, encoding)


def _decode_invocation(payload: object, limits: Limits, encoding: Encoding) -> InvocationClaims:
    return decode_invocation_claims(payload, encoding, limits)


def _decode_attestation(payload: object, limits: Limits, encoding: Encoding) -> AttestationClaims:
    return decode_attestation_claims(payload, encoding)


def _decode_approval(payload: object, limits: Limits, encoding: Encoding) -> ApprovalClaims:
    return decode_approval_claims(payload, encoding)


def _decode_revocation(payload: object, limits: Limits, encoding: Encoding) -> RevocationClaims:
    return decode_revocation_claims(payload, encoding)


_DECODERS: Final[Mapping[ObjectKind, Callable[[object, Limits, Encoding], Claims]]] = {
    "link": _decode_link,
    "invocation": _decode_invocation,
    "attestation": _decode_attestation,
    "approval": _decode_approval,
    "revocation": _decode_revocation,
}


def decode_claims(kind: type[C], payload: object, limits: Limits, encoding: Encoding) -> C:
    """The claims of one object of ``kind`` from its decoded payload (schema checked)."""
    claims = _DECODERS[kind.KIND](payload, limits, encoding)
    if not isinstance(claims, kind):  # pragma: no cover - the table maps each kind to its class
        raise TypeError(kind)
    return claims
