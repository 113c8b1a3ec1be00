"""The verifier: from a presentation and a request to one Decision (spec 8).

``Verifier.verify`` raises an :class:`~agentchain.errors.AgentchainError` for a
presentation that is not a valid token (malformed, forged, spliced, widened), and
returns a :class:`Decision` for one that is. It never returns a bool. The steps
are numbered as in spec 8.2; errors (V1-V3) all come before denials (V4-V8), so
a policy outcome can never mask a forgery.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from agentchain import codec, policy
from agentchain.crypto import ALGORITHMS, PublicKey
from agentchain.errors import REGISTRY, ChainError, InvalidKey, Kind, UsageError
from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.model import Descriptor, capabilities_cover, check_action, check_resource
from agentchain.store import MemoryStore, NonceStatus, Store
from agentchain.wire import cbor


class Outcome(enum.StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    NEEDS_APPROVAL = "needs_approval"


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str

    def __post_init__(self) -> None:
        if REGISTRY.get(self.code, None) is None or REGISTRY[self.code].kind is not Kind.DENY:
            raise ValueError(f"{self.code!r} is not a registered deny code")


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustPolicy:
    """What the verifier trusts and how strict it is. Immutable; checked when built.

    ``anchors`` are the keys allowed to sign a root link; ``audience`` is this
    verifier's own name, which invocations must carry.
    """

    anchors: tuple[PublicKey, ...]
    audience: str
    algorithms: frozenset[str] = ALGORITHMS
    limits: Limits = DEFAULT_LIMITS
    #: seconds of tolerated clock difference, applied to every time comparison
    clock_skew: int = 60
    #: longest validity window any link may have, in seconds
    max_ttl: int = 86_400
    #: how old an invocation may be, in seconds (plus skew)
    invocation_window: int = 300

    def __post_init__(self) -> None:
        object.__setattr__(self, "anchors", tuple(self.anchors))
        if not self.anchors:
            raise UsageError("a trust policy needs at least one anchor")
        if not all(isinstance(a, PublicKey) for a in self.anchors):
            raise UsageError("anchors must be PublicKey objects")
        if not self.audience:
            raise UsageError("a trust policy needs the verifier's audience")
        if not self.algorithms or not self.algorithms <= ALGORITHMS:
            raise UsageError(f"algorithms must be a non-empty subset of {sorted(ALGORITHMS)}")
        for name in ("clock_skew", "max_ttl", "invocation_window"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise UsageError(f"{name} must be a non-negative int")

    def anchor(self, thumbprint: bytes) -> PublicKey | None:
        return next((a for a in self.anchors if a.thumbprint == thumbprint), None)


@dataclass(frozen=True, slots=True)
class Request:
    """The request as the resource server sees it; the invocation must match it exactly."""

    action: str
    resource: str
    args: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_action(self.action, pattern=False)
        check_resource(self.resource, pattern=False)
        codec.check_args(dict(self.args))
        try:
            cbor.encode(dict(self.args))  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise UsageError(f"request args are not protocol data: {exc}") from None


@dataclass(frozen=True, slots=True)
class Principal:
    """One key of a verified chain, with what the link naming it declared."""

    key: PublicKey
    descriptor: Descriptor | None  # None for the root signer, which no link describes

    @property
    def kid(self) -> str:
        return self.key.kid


@dataclass(frozen=True, slots=True)
class VerifiedChain:
    """Links whose signatures, linkage and attenuation have been checked (only V2 makes one)."""

    links: tuple[codec.Link, ...]
    principals: tuple[Principal, ...]

    @property
    def digest(self) -> bytes:
        return self.links[-1].digest


@dataclass(frozen=True, slots=True)
class Decision:
    """The verifier's answer for a valid presentation. ``reasons`` is empty on allow."""

    outcome: Outcome
    reasons: tuple[Reason, ...]
    chain: VerifiedChain
    invocation: codec.InvocationClaims

    def to_json(self) -> dict[str, object]:
        return {
            "outcome": self.outcome.value,
            "reasons": [{"code": r.code, "message": r.message} for r in self.reasons],
            "chain": [
                {
                    "kid": p.kid,
                    "name": p.descriptor.name if p.descriptor else None,
                    "kind": p.descriptor.kind if p.descriptor else None,
                }
                for p in self.chain.principals
            ],
        }


_NONCE_DOMAIN: Final = b"agentchain/nonce/v1"


class Verifier:
    """Verifies presentations under one :class:`TrustPolicy`.

    ``store`` keeps revocations and used nonces (a fresh :class:`MemoryStore` by
    default: fine for one process, lost on restart). ``clock`` returns the
    current time in seconds; inject a fixed one for tests and vectors.
    """

    def __init__(
        self,
        policy: TrustPolicy,
        *,
        store: Store | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(policy, TrustPolicy):
            raise UsageError("Verifier needs a TrustPolicy")
        self._policy = policy
        self._store: Store = store if store is not None else MemoryStore()
        self._clock = clock

    @property
    def policy(self) -> TrustPolicy:
        return self._policy

    def verify(self, presentation: bytes | str | codec.Presentation, request: Request) -> Decision:
        policy_ = self._policy
        limits = policy_.limits
        now = int(self._clock())
        # V1: size limits and strict decoding, before any signature work
        if isinstance(presentation, codec.Presentation):
            decoded = presentation
        else:
            decoded = codec.decode_presentation_unverified(presentation, limits)
        # V2: signatures, linkage and attenuation, link by link
        chain = self._verify_links(decoded.links)
        # V3: the invocation: present, signed by the final holder, bound to this chain
        invocation = self._verify_invocation(decoded, chain)
        reasons = self._evaluate(chain, invocation, request, now, limits)
        outcome = Outcome.DENY if reasons else Outcome.ALLOW
        return Decision(outcome=outcome, reasons=reasons, chain=chain, invocation=invocation)

    # -- errors -----------------------------------------------------------

    def _check_alg(self, link_alg: str, key: PublicKey, what: str) -> None:
        if link_alg not in self._policy.algorithms:
            raise InvalidKey("alg_not_allowed", f"{what} uses {link_alg}, not allowed here")
        if link_alg != key.alg:
            raise InvalidKey("alg_not_allowed", f"{what} uses {link_alg} but its key is {key.alg}")

    def _verify_links(self, links: tuple[codec.Link, ...]) -> VerifiedChain:
        policy_ = self._policy
        principals: list[Principal] = []
        parent: codec.Link | None = None
        for index, link in enumerate(links):
            claims = link.claims
            what = f"link {index}"
            # V2.1: the signer: a trust anchor at the root, the parent's holder below it
            if parent is None:
                signer = policy_.anchor(claims.issuer)
                if signer is None:
                    raise ChainError(
                        "root_untrusted", "the root link's issuer is not a trust anchor"
                    )
                principals.append(Principal(signer, None))
            else:
                signer = parent.claims.holder
                if claims.issuer != signer.thumbprint:
                    raise ChainError(
                        "issuer_mismatch", f"{what} is not issued by its parent's holder"
                    )
            # V2.2, V2.3: algorithm bound to the key, then the signature over the stored bytes
            self._check_alg(link.alg, signer, what)
            signer.verify(link.sign1.signature, link.sign1.to_be_signed())
            # V2.4: linkage to the exact signed bytes of the parent
            expected_parent = parent.digest if parent is not None else None
            if claims.parent != expected_parent:
                raise ChainError("chain_broken", f"{what} does not hash its parent's signed bytes")
            # V2.5: the window itself
            window = claims.window
            if window.exp <= window.nbf or window.exp - window.nbf > policy_.max_ttl:
                raise ChainError(
                    "time_invalid", f"{what} window is empty or longer than {policy_.max_ttl}s"
                )
            # V2.6: authority only narrows (spec 4.3 to 4.5)
            if parent is not None:
                wider = capabilities_cover(parent.claims.capabilities, claims.capabilities)
                if wider is not None:
                    raise ChainError(
                        "scope_widened",
                        f"{what} grants {wider.action} on {wider.resource}, beyond its parent",
                    )
                if not window.inside(parent.claims.window):
                    raise ChainError("time_widened", f"{what} outlives or predates its parent")
                if claims.depth >= parent.claims.depth:
                    raise ChainError(
                        "depth_exceeded",
                        f"{what} depth {claims.depth} is not below {parent.claims.depth}",
                    )
            principals.append(Principal(claims.holder, claims.descriptor))
            parent = link
        return VerifiedChain(links=links, principals=tuple(principals))

    def _verify_invocation(
        self, presentation: codec.Presentation, chain: VerifiedChain
    ) -> codec.InvocationClaims:
        invocation = presentation.invocation
        if invocation is None:
            raise ChainError("invocation_missing", "a chain alone never authorizes: no invocation")
        holder = chain.principals[-1].key
        self._check_alg(codec.alg_name(invocation.sign1.alg), holder, "the invocation")
        holder.verify(invocation.sign1.signature, invocation.sign1.to_be_signed())
        if invocation.claims.chain != chain.digest:
            raise ChainError("chain_digest_mismatch", "the invocation is bound to another chain")
        return invocation.claims

    # -- denials ----------------------------------------------------------

    def _evaluate(
        self,
        chain: VerifiedChain,
        inv: codec.InvocationClaims,
        request: Request,
        now: int,
        limits: Limits,
    ) -> tuple[Reason, ...]:
        skew = self._policy.clock_skew
        links = chain.links
        # V4: time, on every link (valid for nbf - skew <= now < exp + skew)
        for index, link in enumerate(links):
            window = link.claims.window
            if now < window.nbf - skew:
                return (Reason("not_yet_valid", f"link {index} is valid from {window.nbf}"),)
            if now >= window.exp + skew:
                return (Reason("expired", f"link {index} expired at {window.exp}"),)
        # V5: revocation, on every request
        revoked = self._store.first_revoked(link.digest for link in links)
        if revoked is not None:
            index = next(i for i, link in enumerate(links) if link.digest == revoked)
            return (Reason("revoked", f"link {index} ({revoked.hex()[:16]}...) is revoked"),)
        # V6: the invocation in context: audience, freshness, the request, replay
        if inv.audience != self._policy.audience:
            return (Reason("audience_mismatch", f"invocation is for {inv.audience!r}"),)
        if inv.iat > now + skew:
            return (Reason("invocation_future", f"invocation dated {inv.iat}, now is {now}"),)
        if now - inv.iat > self._policy.invocation_window + skew:
            return (Reason("invocation_stale", f"invocation dated {inv.iat}, now is {now}"),)
        mismatch = _request_mismatch(inv, request)
        if mismatch:
            return (Reason("request_mismatch", f"the invocation signed a different {mismatch}"),)
        nonce_key = codec.digest(_NONCE_DOMAIN + chain.principals[-1].key.thumbprint + inv.nonce)
        # remembered for as long as V6 would accept the invocation, and a second more
        expires_at = inv.iat + self._policy.invocation_window + skew + 1
        if self._store.use_nonce(nonce_key, expires_at=expires_at, now=now) is NonceStatus.REPLAYED:
            return (Reason("replay", "this invocation's nonce was already used"),)
        # V7: every link grants the action on the resource
        for index, link in enumerate(links):
            if not any(c.permits(inv.action, inv.resource) for c in link.claims.capabilities):
                return (
                    Reason(
                        "capability_missing",
                        f"link {index} does not grant {inv.action} on {inv.resource}",
                    ),
                )
        # V8: every link's caveats hold (conjunction)
        for index, link in enumerate(links):
            result = policy.evaluate(link.claims.caveats, inv.args, limits=limits)  # type: ignore[arg-type]
            if result.outcome != "true":
                return (Reason("caveat_failed", f"link {index}: {result.detail}"),)
        return ()


def _request_mismatch(inv: codec.InvocationClaims, request: Request) -> str | None:
    if inv.action != request.action:
        return "action"
    if inv.resource != request.resource:
        return "resource"
    # type-strict: compare deterministic encodings, so True never equals 1
    if cbor.encode(dict(inv.args)) != cbor.encode(dict(request.args)):  # type: ignore[arg-type]
        return "args"
    return None
