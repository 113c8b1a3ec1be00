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

from agentchain import codec, policy
from agentchain.crypto import PrivateKey, PublicKey
from agentchain.errors import AgentchainError, IssueError, UsageError
from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.model import Capability, Descriptor, Window, capabilities_cover

DEFAULT_TTL: Final = 900  # seconds: links are short-lived unless asked otherwise
MAX_DEPTH: Final = 255

Random = Callable[[int], bytes]
CapabilityLike = Capability | tuple[str, str]


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now


def _capabilities(caps: Iterable[CapabilityLike], limits: Limits) -> tuple[Capability, ...]:
    out = tuple(c if isinstance(c, Capability) else Capability(*c) for c in caps)
    if not out:
        raise UsageError("a link grants at least one capability")
    if len(out) > limits.max_capabilities:
        raise UsageError(f"more than {limits.max_capabilities} capabilities")
    return out


def _caveats(caveats: Iterable[object], limits: Limits) -> tuple[policy.Statement, ...]:
    out = tuple(
        c if isinstance(c, policy.Statement) else policy.parse(c, limits=limits) for c in caveats
    )
    if len(out) > limits.max_caveats:
        raise UsageError(f"more than {limits.max_caveats} caveats")
    return out


def _sign_link(key: PrivateKey, claims: codec.LinkClaims, limits: Limits) -> codec.Link:
    encoded = codec.sign_object(key, codec.TYP_LINK, claims.to_cbor())
    # decode what we made: the issuer never hands out what the verifier would refuse to parse
    return codec.decode_link_unverified(encoded, limits)


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
    now: int | None = None,
    rng: Random = os.urandom,
    limits: Limits = DEFAULT_LIMITS,
) -> codec.Presentation:
    """Sign a root link from ``key`` (a trust anchor) to ``to``; returns a one-link token.

    ``depth`` is how many further delegations the token allows (0: none).
    """
    if not 0 <= depth <= MAX_DEPTH:
        raise UsageError(f"depth must be in 0..{MAX_DEPTH}")
    if ttl <= 0:
        raise UsageError("ttl must be positive")
    start = _now(now)
    claims = codec.LinkClaims(
        issuer=key.public_key.thumbprint,
        holder=to,
        parent=None,
        id=rng(16),
        iat=start,
        window=Window(start, start + ttl),
        capabilities=_capabilities(capabilities, limits),
        caveats=_caveats(caveats, limits),
        depth=depth,
        purpose=purpose,
        descriptor=descriptor if descriptor is not None else Descriptor(),
    )
    return codec.Presentation((_sign_link(key, claims, limits),))


def delegate(
    token: codec.Presentation,
    key: PrivateKey,
    to: PublicKey,
    *,
    capabilities: Iterable[CapabilityLike],
    ttl: int | None = None,
    depth: int | None = None,
    caveats: Iterable[object] = (),
    descriptor: Descriptor | None = None,
    purpose: str | None = None,
    now: int | None = None,
    rng: Random = os.urandom,
    limits: Limits = DEFAULT_LIMITS,
) -> codec.Presentation:
    """Append a link from the token's holder (``key``) to ``to``; returns the longer token.

    Without ``ttl`` the link lasts DEFAULT_TTL or until its parent expires,
    whichever is sooner; without ``depth`` it allows one delegation fewer than
    its parent. Anything wider than the parent is refused with IssueError.
    """
    if token.invocation is not None:
        raise UsageError("delegate takes a token, not a presentation with an invocation")
    parent = token.links[-1]
    if key.public_key != parent.claims.holder:
        raise UsageError("only the token's holder can delegate it: key does not match")
    if len(token.links) >= limits.max_links:
        raise IssueError("depth_exceeded", f"a chain holds at most {limits.max_links} links")
    start = _now(now)
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
            f"the new link ({window.nbf}..{window.exp}) must lie inside its parent's "
            f"({outer.nbf}..{outer.exp})",
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
    claims = codec.LinkClaims(
        issuer=key.public_key.thumbprint,
        holder=to,
        parent=parent.digest,
        id=rng(16),
        iat=start,
        window=window,
        capabilities=caps,
        caveats=_caveats(caveats, limits),
        depth=depth,
        purpose=purpose,
        descriptor=descriptor if descriptor is not None else Descriptor(),
    )
    return codec.Presentation((*token.links, _sign_link(key, claims, limits)))


def invoke(
    token: codec.Presentation,
    key: PrivateKey,
    *,
    audience: str,
    action: str,
    resource: str,
    args: Mapping[str, object] | None = None,
    now: int | None = None,
    rng: Random = os.urandom,
    limits: Limits = DEFAULT_LIMITS,
) -> codec.Presentation:
    """Sign an invocation with the holder's ``key``: the proof of possession (spec 5.7)."""
    if key.public_key != token.holder:
        raise UsageError("only the token's holder can invoke it: key does not match")
    claims = codec.InvocationClaims(
        chain=token.chain_digest,
        audience=audience,
        action=action,
        resource=resource,
        args=dict(args or {}),
        iat=_now(now),
        nonce=rng(16),
    )
    try:
        encoded = codec.sign_object(key, codec.TYP_INVOCATION, claims.to_cbor())
        invocation = codec.decode_invocation_unverified(encoded, limits)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"invocation args are not protocol data: {exc}") from None
    except AgentchainError as exc:
        raise UsageError(f"invalid invocation: {exc}") from None
    return codec.Presentation(token.links, invocation)
