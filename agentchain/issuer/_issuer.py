"""Making links and invocations: issue, delegate, invoke (spec 4, 5.5, 5.7).

The issuer refuses to sign anything the verifier would reject as a widening
(``scope_widened``, ``time_widened``, ``depth_exceeded``): the same rules from
:mod:`agentchain.model` decide both. Time and randomness are injectable, so
tokens can be rebuilt byte for byte.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from agentchain import _native, codec, model
from agentchain._display import rfc3339
from agentchain.crypto import PrivateKey, PublicKey
from agentchain.errors import AgentchainError, DecodeError, IssueError, UsageError
from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.model import (
    Arguments,
    AttestationClaims,
    Capability,
    Descriptor,
    Window,
    capabilities_cover,
)

DEFAULT_TTL: Final = 900  # seconds: links are short-lived unless asked otherwise
MAX_DEPTH: Final = 255
#: bytes of deterministic CBOR up to which :func:`invoke` carries arguments in the
#: invocation by default; larger arguments are bound by their digest (spec 5.7), so that a
#: presentation stays small enough for an HTTP header whatever a tool is sent
INLINE_ARGS_MAX: Final = 1_024

Random = Callable[[int], bytes]
CapabilityLike = Capability | tuple[str, str]
#: a token as an object, or its text form (``ac2c.`` / ``ac2j.``) as ``verify`` takes it
TokenLike = codec.Presentation | str


def _token(token: TokenLike, limits: Limits) -> codec.Presentation:
    if isinstance(token, codec.Presentation):
        return token
    if isinstance(token, str):
        return codec.decode_presentation_unverified(token, limits)
    raise UsageError(f"a token is a Presentation or its text form, not {type(token).__name__}")


def _expired_at(token: codec.Presentation, now: int) -> str | None:
    """Why no verifier will accept this token at ``now`` (a link's exp passed), or None."""
    for index, link in enumerate(token.links):
        if now >= link.claims.window.exp:
            return f"link {index} expired at {rfc3339(link.claims.window.exp)}"
    return None


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now


def _capabilities(caps: Iterable[CapabilityLike], limits: Limits) -> tuple[Capability, ...]:
    out = tuple(c if isinstance(c, Capability) else Capability(*c) for c in caps)
    if not out:
        raise UsageError("a link grants at least one capability")
    if len(out) > limits.max_capabilities:
        raise UsageError(f"more than {limits.max_capabilities} capabilities")
    return out


def _caveat(value: object, limits: Limits) -> model.Caveat:
    if isinstance(value, model.Caveat):
        return value
    if isinstance(value, model.Statement):
        return model.Caveat(value)
    return model.Caveat(model.parse_statement(value, limits=limits))


def _caveats(caveats: Iterable[object], limits: Limits) -> tuple[model.Caveat, ...]:
    """Caveat objects, parsed statements, or raw statement data (unscoped)."""
    out = tuple(_caveat(c, limits) for c in caveats)
    if len(out) > limits.max_caveats:
        raise UsageError(f"more than {limits.max_caveats} caveats")
    return out


def _sign_link(
    key: PrivateKey, claims: model.LinkClaims, limits: Limits, encoding: codec.Encoding
) -> codec.Link:
    encoded = codec.sign_claims(key, claims, _encoding(encoding))
    # decode what we made: the issuer never hands out what the verifier would refuse to parse
    return codec.decode_unverified(model.LinkClaims, encoded, limits)


def _encoding(encoding: str) -> codec.Encoding:
    if encoding not in codec.ENCODINGS:
        raise UsageError(f"unknown encoding {encoding!r}: use cbor or jose")
    return encoding


def _one_encoding(
    expected: codec.Encoding, items: Iterable[codec.Attestation | codec.Approval]
) -> None:
    """spec/jose.md: one chain, one encoding; attachments follow the links."""
    for item in items:
        if item.envelope.encoding != expected:
            raise IssueError(
                "encoding_mixed",
                f"a {item.envelope.encoding} attachment cannot ride on a {expected} chain",
            )


def _usage(usage: model.Usage | None, limits: Limits) -> model.Usage | None:
    if usage is not None and not isinstance(usage, model.Usage):
        raise UsageError("usage must be a Usage")
    if usage is not None and len(usage.limits) > limits.max_caveats:
        raise UsageError(f"a link states at most {limits.max_caveats} usage limits")
    return usage


def issue(
    key: PrivateKey,
    to: PublicKey,
    *,
    capabilities: Iterable[CapabilityLike],
    ttl: int = DEFAULT_TTL,
    depth: int = 0,
    caveats: Iterable[object] = (),
    descriptor: Descriptor | None = None,
    purpose: str | None = None,
    require_approval: Iterable[model.ApprovalRequirement] = (),
    usage: model.Usage | None = None,
    now: int | None = None,
    rng: Random = os.urandom,
    limits: Limits = DEFAULT_LIMITS,
    encoding: codec.Encoding = "cbor",
) -> codec.Presentation:
    """Sign a root link from ``key`` (a trust anchor) to ``to``; returns a one-link token.

    ``depth`` is how many further delegations the token allows (0: none).
    ``encoding`` picks the wire form of the whole chain: every later link,
    the invocation and the attachments follow it (spec/jose.md). ``usage``
    states usage limits and a novelty rule (spec 9.5).
    """
    if not 0 <= depth <= MAX_DEPTH:
        raise UsageError(f"depth must be in 0..{MAX_DEPTH}")
    if ttl <= 0:
        raise UsageError("ttl must be positive")
    start = _now(now)
    claims = model.LinkClaims(
        issuer=key.public_key.thumbprint,
        holder=to,
        parent=None,
        iat=start,
        window=Window(start, start + ttl),
        capabilities=_capabilities(capabilities, limits),
        caveats=_caveats(caveats, limits),
        depth=depth,
        purpose=purpose,
        descriptor=descriptor if descriptor is not None else Descriptor(),
        approvals=tuple(require_approval),
        usage=_usage(usage, limits),
    )
    return codec.Presentation((_sign_link(key, claims, limits, encoding),))


def delegate(
    token: TokenLike,
    key: PrivateKey,
    to: PublicKey,
    *,
    capabilities: Iterable[CapabilityLike],
    ttl: int | None = None,
    depth: int | None = None,
    caveats: Iterable[object] = (),
    descriptor: Descriptor | None = None,
    purpose: str | None = None,
    require_approval: Iterable[model.ApprovalRequirement] = (),
    usage: model.Usage | None = None,
    now: int | None = None,
    rng: Random = os.urandom,
    limits: Limits = DEFAULT_LIMITS,
) -> codec.Presentation:
    """Append a link from the token's holder (``key``) to ``to``; returns the longer token.

    Without ``ttl`` the link lasts DEFAULT_TTL or until its parent expires,
    whichever is sooner; without ``depth`` it allows one delegation fewer than
    its parent. Anything wider than the parent is refused with IssueError.
    The new link takes the token's encoding. ``token`` may be the text form. ``usage`` adds usage
    limits and a novelty rule (spec 9.5); the parent's keep applying whatever the new link says.
    A token with an expired link is refused with ``time_widened`` (spec 4.7: the code a
    verifier gives the new link, which cannot lie inside it), saying when it expired.
    """
    token = _token(token, limits)
    if token.invocation is not None:
        raise UsageError("delegate takes a token, not a presentation with an invocation")
    parent = token.links[-1]
    if key.public_key != parent.claims.holder:
        raise UsageError("only the token's holder can delegate it: key does not match")
    if len(token.links) >= limits.max_links:
        raise IssueError("depth_exceeded", f"a chain holds at most {limits.max_links} links")
    start = _now(now)
    if (expired := _expired_at(token, start)) is not None:
        raise IssueError("time_widened", f"cannot delegate: {expired}, no new link fits in it")
    outer = parent.claims.window
    if ttl is None:
        end = min(start + DEFAULT_TTL, outer.exp)
    elif ttl <= 0:
        raise UsageError("ttl must be positive")
    else:
        end = start + ttl
    window = Window(start, end)
    if not window.inside(outer) or end <= start:
        raise IssueError(
            "time_widened",
            f"the new link ({rfc3339(window.nbf)}..{rfc3339(window.exp)}) must lie inside "
            f"its parent's ({rfc3339(outer.nbf)}..{rfc3339(outer.exp)})",
        )
    depth = parent.claims.depth - 1 if depth is None else depth
    if not 0 <= depth < parent.claims.depth:
        raise IssueError(
            "depth_exceeded",
            f"the parent allows depth {parent.claims.depth}: the new link needs depth below it",
        )
    caps = _capabilities(capabilities, limits)
    wider = capabilities_cover(parent.claims.capabilities, caps)
    if wider is not None:
        raise IssueError(
            "scope_widened", f"{wider.action} on {wider.resource} is not covered by the parent"
        )
    claims = model.LinkClaims(
        issuer=None,  # spec 5.5 (0.2): implied by the parent's holder
        holder=to,
        parent=parent.digest,
        iat=start,
        window=window,
        capabilities=caps,
        caveats=_caveats(caveats, limits),
        depth=depth,
        purpose=purpose,
        descriptor=descriptor if descriptor is not None else Descriptor(),
        approvals=tuple(require_approval),
        usage=_usage(usage, limits),
    )
    return codec.Presentation((*token.links, _sign_link(key, claims, limits, token.encoding)))


def invoke(
    token: TokenLike,
    key: PrivateKey,
    *,
    audience: str,
    action: str,
    resource: str,
    args: Arguments | None = None,
    attestations: Iterable[codec.Attestation] = (),
    approvals: Iterable[codec.Approval] = (),
    now: int | None = None,
    rng: Random = os.urandom,
    limits: Limits = DEFAULT_LIMITS,
    allow_expired: bool = False,
    args_by_digest: bool | None = None,
) -> codec.Presentation:
    """Sign an invocation with the holder's ``key``: the proof of possession (spec 5.7).

    ``attestations`` and ``approvals`` ride along in the presentation (spec 9), and
    the invocation names each by digest (spec 5.7), so none can be stripped or added.
    The invocation carries ``args``, or their digest (spec 5.7): the resource server then
    verifies against the arguments it receives, with the same guarantee. By default
    (``args_by_digest=None``) arguments whose deterministic encoding is larger than
    :data:`INLINE_ARGS_MAX` bytes go by digest and smaller ones are carried; ``True`` or
    ``False`` chooses.
    The invocation takes the token's encoding; attachments in another encoding
    are refused with ``encoding_mixed``, and so are byte strings in ``args``
    when the encoding is JOSE (JSON has no byte strings). ``token`` may be the text form.

    An invocation on a token one of whose links has expired at ``now`` is refused
    (``expired``): no verifier would accept it beyond its clock skew, and signing it is
    nearly always a mistake. ``allow_expired=True`` signs it anyway (tests, vectors, a
    verifier known to run behind).
    """
    token = _token(token, limits)
    if key.public_key != token.holder:
        raise UsageError("only the token's holder can invoke it: key does not match")
    at = _now(now)
    if not allow_expired and (expired := _expired_at(token, at)) is not None:
        raise IssueError("expired", f"cannot invoke: {expired} (allow_expired=True to sign anyway)")
    attached = (tuple(attestations), tuple(approvals))
    _one_encoding(token.encoding, (*attached[0], *attached[1]))
    try:
        # one normal form in both encodings (spec 5.2): 12.0 is sent as 12, as CBOR does
        normal = model.check_arguments(dict(args or {}), limits=limits)
    except DecodeError:
        normal = dict(args or {})  # the encoder below names what is wrong with them
    try:
        encode = _native.backend().cbor_encode  # the default backend's: the same bytes
        if args_by_digest is None:
            args_by_digest = len(encode(normal)) > INLINE_ARGS_MAX  # type: ignore[arg-type]
        by_digest = codec.args_digest(normal, encode=encode) if args_by_digest else None
    except (TypeError, ValueError) as exc:
        raise UsageError(f"invocation args are not protocol data: {exc}") from None
    claims = model.InvocationClaims(
        chain=token.chain_digest,
        audience=audience,
        action=action,
        resource=resource,
        args={} if by_digest is not None else normal,
        iat=at,
        nonce=rng(16),
        args_digest=by_digest,
        attestations=tuple(a.digest for a in attached[0]),
        approvals=tuple(a.digest for a in attached[1]),
    )
    if any(len(group) > limits.max_attachments for group in attached):
        raise UsageError(f"at most {limits.max_attachments} attestations and approvals each")
    try:
        encoded = codec.sign_claims(key, claims, token.encoding)
        invocation = codec.decode_unverified(model.InvocationClaims, encoded, limits)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"invocation args are not protocol data: {exc}") from None
    except IssueError:
        raise
    except AgentchainError as exc:
        raise UsageError(f"invalid invocation: {exc}") from None
    return codec.Presentation(token.links, invocation, *attached)


DEFAULT_ATTESTATION_TTL: Final = 600
DEFAULT_APPROVAL_TTL: Final = 300


def attest(
    key: PrivateKey,
    subject: PublicKey,
    *,
    code: Mapping[str, bytes] | None = None,
    model: str | None = None,
    config: Mapping[str, bytes] | None = None,
    ttl: int = DEFAULT_ATTESTATION_TTL,
    now: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    encoding: codec.Encoding = "cbor",
) -> codec.Attestation:
    """As an attester, state that ``subject`` runs this code, model and config (spec 9.1)."""
    if ttl <= 0:
        raise UsageError("ttl must be positive")
    if not code and model is None and not config:
        raise UsageError("an attestation attests code, model or config")
    start = _now(now)
    checked = Descriptor(code=code or {}, model=model, config=config or {})
    claims = AttestationClaims(
        issuer=key.public_key.thumbprint,
        subject=subject.thumbprint,
        iat=start,
        exp=start + ttl,
        code=checked.code,
        model=checked.model,
        config=checked.config,
    )
    encoded = codec.sign_claims(key, claims, _encoding(encoding))
    return codec.decode_unverified(AttestationClaims, encoded, limits)


def approve(
    key: PrivateKey,
    request_digest: bytes,
    *,
    ttl: int = DEFAULT_APPROVAL_TTL,
    now: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    encoding: codec.Encoding = "cbor",
) -> codec.Approval:
    """As the approver, consent to the one request whose digest is ``request_digest``.

    Compute the digest with :func:`agentchain.codec.request_digest` from the
    request you were shown, never take it on trust (spec 9.2).
    """
    if ttl <= 0:
        raise UsageError("ttl must be positive")
    if len(request_digest) != 32:
        raise UsageError("a request digest is 32 bytes")
    start = _now(now)
    claims = model.ApprovalClaims(
        issuer=key.public_key.thumbprint, request=request_digest, iat=start, exp=start + ttl
    )
    encoded = codec.sign_claims(key, claims, _encoding(encoding))
    return codec.decode_unverified(model.ApprovalClaims, encoded, limits)


def revoke(
    key: PrivateKey,
    *,
    link: codec.Link | None = None,
    subject: PublicKey | None = None,
    before: int | None = None,
    exp: int | None = None,
    now: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    encoding: codec.Encoding = "cbor",
) -> codec.Revocation:
    """As a principal of the chain, revoke ``link`` (in both encodings) or, with
    ``subject``, every link that key holds or issued (spec 8.5).

    ``before`` narrows it to links whose ``iat`` is strictly below it. ``exp`` is
    when the revoked things are expired anyway (default for a link: its own exp;
    for a key: never). Whether ``key`` is entitled is judged by every verifier
    against the chains it applies to; this only signs.
    """
    if (link is None) == (subject is None):
        raise UsageError("revoke one link or one key (subject), not both, not neither")
    if before is not None and (isinstance(before, bool) or not 0 <= before <= codec.MAX_TIME):
        raise UsageError("before is a time in 0..2^53-1")
    start = _now(now)
    ref = None
    if link is not None:
        ref = model.LinkRef(id=codec.link_id(link.claims))
        if exp is None:
            exp = link.claims.window.exp
    if exp is not None and (isinstance(exp, bool) or not 0 <= exp <= codec.MAX_TIME):
        raise UsageError("exp is a time in 0..2^53-1")
    claims = model.RevocationClaims(
        revoker=key.public_key,
        iat=start,
        link=ref,
        key=subject.thumbprint if subject is not None else None,
        before=before,
        exp=exp,
    )
    encoded = codec.sign_claims(key, claims, _encoding(encoding))
    return codec.decode_unverified(model.RevocationClaims, encoded, limits)
