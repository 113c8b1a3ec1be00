"""One function per check of a link or an invocation (spec 8.2 V2, V3, V4, V6).

The verifier and ``inspect`` call these very functions, so the two can never
disagree on a rule: the verifier stops at the first :class:`Violation` (raising
it, or denying with it), ``inspect`` collects every one. A check returns None
when it passes; a Violation says what is wrong without naming the object, so
each caller names it its own way ("link 1 grants ..." / where: link 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from agentchain import codec
from agentchain._display import rfc3339
from agentchain.crypto import PublicKey
from agentchain.errors import AgentchainError, ChainError, Code, InvalidKey
from agentchain.model import capabilities_cover


@dataclass(frozen=True, slots=True)
class Violation:
    """A failed check: the error class and registry code, and what is wrong."""

    error: type[AgentchainError]
    code: Code
    #: what is wrong, without the subject: "grants mail/send on ..., beyond its parent"
    detail: str

    def raise_for(self, what: str) -> NoReturn:
        """Raise as the verifier does: ``what`` (``link 1``) names the subject."""
        raise self.error(self.code, f"{what} {self.detail}")


def check_alg(alg: str, key: PublicKey, allowed: frozenset[str]) -> Violation | None:
    """V2.2: the object's algorithm is allowed here and is the one its key is bound to."""
    if alg not in allowed:
        return Violation(InvalidKey, "alg_not_allowed", f"uses {alg}, not allowed here")
    if alg != key.alg:
        return Violation(InvalidKey, "alg_not_allowed", f"uses {alg} but its key is {key.alg}")
    return None


def check_signer(
    link: codec.Link, parent: codec.Link | None, anchor: Callable[[bytes], PublicKey | None]
) -> PublicKey | Violation:
    """V2.1: the key that must have signed ``link``: a trust anchor at the root, else the
    parent's holder (spec 5.5; since 0.2 implied, not named; the signature check proves it)."""
    if parent is None:
        issuer = link.claims.issuer
        signer = anchor(issuer) if issuer is not None else None
        if signer is None:
            return Violation(ChainError, "root_untrusted", "issuer is not a trust anchor")
        return signer
    return parent.claims.holder


def check_linkage(link: codec.Link, parent: codec.Link | None) -> Violation | None:
    """V2.4: ``parent`` is the digest of the parent's exact signed bytes (none at the root)."""
    if link.claims.parent != (parent.digest if parent is not None else None):
        return Violation(ChainError, "chain_broken", "does not hash its parent's signed bytes")
    return None


def check_window(link: codec.Link, max_ttl: int) -> Violation | None:
    """V2.5: the window is not empty and not longer than the policy's max_ttl."""
    window = link.claims.window
    if window.exp <= window.nbf or window.exp - window.nbf > max_ttl:
        return Violation(ChainError, "time_invalid", f"window is empty or longer than {max_ttl}s")
    return None


def check_scope(link: codec.Link, parent: codec.Link) -> Violation | None:
    """V2.6, spec 4.3: every capability is covered by one of the parent's."""
    wider = capabilities_cover(parent.claims.capabilities, link.claims.capabilities)
    if wider is not None:
        return Violation(
            ChainError,
            "scope_widened",
            f"grants {wider.action} on {wider.resource}, beyond its parent",
        )
    return None


def check_time_nesting(link: codec.Link, parent: codec.Link) -> Violation | None:
    """V2.6, spec 4.4: a child's window lies inside its parent's."""
    if not link.claims.window.inside(parent.claims.window):
        window, outer = link.claims.window, parent.claims.window
        return Violation(
            ChainError,
            "time_widened",
            f"outlives or predates its parent: {rfc3339(window.nbf)}..{rfc3339(window.exp)} "
            f"is not inside {rfc3339(outer.nbf)}..{rfc3339(outer.exp)}",
        )
    return None


def check_depth(link: codec.Link, parent: codec.Link) -> Violation | None:
    """V2.6, spec 4.5: depth strictly decreases."""
    depth, above = link.claims.depth, parent.claims.depth
    if depth >= above:
        return Violation(ChainError, "depth_exceeded", f"depth {depth} is not below {above}")
    return None


def check_valid_at(link: codec.Link, now: int, skew: int) -> Violation | None:
    """V4: the link is valid at ``now`` (nbf - skew <= now < exp + skew)."""
    window = link.claims.window
    if now < window.nbf - skew:
        return Violation(ChainError, "not_yet_valid", f"is valid from {rfc3339(window.nbf)}")
    if now >= window.exp + skew:
        return Violation(ChainError, "expired", f"expired at {rfc3339(window.exp)}")
    return None


def check_binding(invocation: codec.Invocation, chain_digest: bytes) -> Violation | None:
    """V3.2: the invocation names this chain (the digest of its last link)."""
    if invocation.claims.chain != chain_digest:
        return Violation(ChainError, "chain_digest_mismatch", "is bound to another chain")
    return None


def check_attachments(
    invocation: codec.Invocation, presentation: codec.Presentation
) -> Violation | None:
    """V3.3: the invocation names, in order, exactly the attachments the container carries
    (spec 5.7), so nobody on the path can strip or add one."""
    claims = invocation.claims
    for kind, named, carried in (
        ("attestations", claims.attestations, presentation.attestations),
        ("approvals", claims.approvals, presentation.approvals),
    ):
        if (named or carried) and named != tuple([a.digest for a in carried]):
            return Violation(
                ChainError,
                "attachment_mismatch",
                f"names {len(named)} {kind} but the presentation carries {len(carried)} others",
            )
    return None


def check_fresh(iat: int, now: int, skew: int, window: int) -> Violation | None:
    """V6: the invocation is neither from the future nor older than the invocation window."""
    if iat > now + skew:
        return Violation(
            ChainError, "invocation_future", f"dated {rfc3339(iat)}, now {rfc3339(now)}"
        )
    if now - iat > window + skew:
        return Violation(
            ChainError, "invocation_stale", f"dated {rfc3339(iat)}, now {rfc3339(now)}"
        )
    return None
