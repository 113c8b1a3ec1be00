"""The verifier's inputs and outputs (spec 8.1, 9.3): trust policy, request, decision."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from agentchain import codec, model
from agentchain._frozen import slot_init
from agentchain.crypto import ALGORITHMS, PublicKey
from agentchain.errors import REGISTRY, DecodeError, Kind, UsageError
from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.model import (
    Arguments,
    Descriptor,
    check_action,
    check_resource,
)
from agentchain.wire import cbor

#: the factors a decision reports on, in the order they are checked (spec 9.3)
FACTORS: Final = ("signatures", "possession", "context", "integrity", "oversight", "behaviour")


class Outcome(enum.StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    NEEDS_APPROVAL = "needs_approval"


@slot_init
@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str

    def __post_init__(self) -> None:
        if REGISTRY.get(self.code, None) is None or REGISTRY[self.code].kind is not Kind.DENY:
            raise ValueError(f"{self.code!r} is not a registered deny code")


class _Names(Mapping[str, str]):
    """An immutable kid -> name map that pickles like the rest of a trust policy."""

    __slots__ = ("_items",)

    def __init__(self, names: Mapping[str, str]) -> None:
        self._items = dict(sorted(names.items()))

    def __getitem__(self, kid: str) -> str:
        return self._items[kid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, kid: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return self._items.get(kid, default)  # the dict's own: once per verification

    def __repr__(self) -> str:
        return repr(self._items)

    def __reduce__(self) -> tuple[type[_Names], tuple[dict[str, str]]]:
        return (_Names, (self._items,))


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
    #: keys whose attestations count (spec 9.1); attestations by others are ignored
    attesters: tuple[PublicKey, ...] = ()
    #: action patterns whose requests need an attestation of the holder (spec 9.1)
    attestation_required: tuple[str, ...] = ()
    #: longest lifetime an attestation or approval may have to count, in seconds
    max_attachment_ttl: int = 3_600
    #: names of trust anchors by kid (e.g. "mailto:alice@example.com"): the root signer, which
    #: no link describes, is named by these in decisions and audit records (spec 9.3)
    names: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "anchors", tuple(self.anchors))
        try:
            names = dict(self.names)
        except (TypeError, ValueError):
            raise UsageError("names maps a kid to a name") from None
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in names.items()):
            raise UsageError("names maps a kid (text) to a name (text)")
        object.__setattr__(self, "names", _Names(names))
        object.__setattr__(self, "attesters", tuple(self.attesters))
        object.__setattr__(self, "attestation_required", tuple(self.attestation_required))
        if not all(isinstance(a, PublicKey) for a in self.attesters):
            raise UsageError("attesters must be PublicKey objects")
        for pattern in self.attestation_required:
            check_action(pattern, pattern=True)
        if not self.anchors:
            raise UsageError("a trust policy needs at least one anchor")
        if not all(isinstance(a, PublicKey) for a in self.anchors):
            raise UsageError("anchors must be PublicKey objects")
        if not isinstance(self.audience, str) or not self.audience:
            raise UsageError("a trust policy needs the verifier's audience, as text")
        if not isinstance(self.limits, Limits):
            raise UsageError("limits must be a Limits object")
        try:
            object.__setattr__(self, "algorithms", frozenset(self.algorithms))
        except TypeError:
            raise UsageError("algorithms must be a set of algorithm names") from None
        if not self.algorithms or not self.algorithms <= ALGORITHMS:
            raise UsageError(f"algorithms must be a non-empty subset of {sorted(ALGORITHMS)}")
        for name in ("clock_skew", "max_ttl", "invocation_window", "max_attachment_ttl"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise UsageError(f"{name} must be a non-negative int")

    def anchor(self, thumbprint: bytes) -> PublicKey | None:
        return next((a for a in self.anchors if a.thumbprint == thumbprint), None)

    def name_of(self, key: PublicKey) -> str | None:
        """The name this policy gives ``key``, or None."""
        return self.names.get(key.kid)

    def attester(self, thumbprint: bytes) -> PublicKey | None:
        return next((a for a in self.attesters if a.thumbprint == thumbprint), None)


def by_thumbprint(keys: tuple[PublicKey, ...]) -> Callable[[bytes], PublicKey | None]:
    """``TrustPolicy.anchor`` (or ``attester``) over ``keys`` as one dict lookup: the
    first key with that thumbprint, or None, however many keys a policy trusts."""
    index: dict[bytes, PublicKey] = {}
    for key in keys:
        index.setdefault(key.thumbprint, key)
    return index.get


@dataclass(frozen=True, slots=True)
class Request:
    """The request as the resource server sees it; the invocation must match it exactly.

    ``id`` is the application's own id for this request (a trace or request id); the
    audit record and the decision carry it so they join the application's logs. Without
    one the verifier makes one up (16 random bytes, hex).
    """

    action: str
    resource: str
    args: Arguments = field(default_factory=dict)
    id: str | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if self.id is not None and (not isinstance(self.id, str) or not 0 < len(self.id) <= 256):
            raise UsageError("a request id is text of 1 to 256 characters")
        check_action(self.action, pattern=False)
        check_resource(self.resource, pattern=False)
        # spec 8.1 (R-8.1-3): a non-map is schema_invalid like a map with a non-text key,
        # never a TypeError from dict()
        codec.check_args(dict(self.args) if isinstance(self.args, Mapping) else self.args)
        # in normal form (spec 5.2: 12.0 is 12); the verifier applies its policy's limits
        try:
            args = model.check_arguments(self.args, limits=_UNBOUNDED)
        except DecodeError as exc:
            raise UsageError(f"request args are not protocol data: {exc.message}") from None
        object.__setattr__(self, "args", args)


#: no limit but the data model: a request's arguments meet its verifier's limits in V1
_UNBOUNDED: Final = Limits(max_args_bytes=2**62, max_args_depth=2**62, max_args_items=2**62)


@slot_init
@dataclass(frozen=True, slots=True)
class Principal:
    """One key of a verified chain, with what the link naming it declared."""

    key: PublicKey
    descriptor: Descriptor | None  # None for the root signer, which no link describes
    #: digests a trusted, currently valid attestation proved (empty when none did)
    attested: Descriptor | None = None
    #: the name the trust policy gives the root signer (TrustPolicy.names), if any
    anchor_name: str | None = None

    @property
    def kid(self) -> str:
        return self.key.kid

    @property
    def name(self) -> str | None:
        """The name its link declared; for the root signer, the trust policy's name for it."""
        return self.descriptor.name if self.descriptor is not None else self.anchor_name


#: the principals of the links verified so far, by the identity of their holder key and
#: descriptor: the codec hands out one object per exact bytes (``codec._memo``), so chain
#: after chain names the same two objects, and the Principal made for them is reused (it
#: is immutable, and equal to a new one). Each entry keeps its two objects alive, so no
#: other object can take their ids while it is here.
_HOLDERS: Final[dict[tuple[int, int], Principal]] = {}
_MAX_HOLDERS: Final = 4096


def holder_principal(holder: PublicKey, descriptor: Descriptor | None) -> Principal:
    """``Principal(holder, descriptor)``: a link's holder, with what the link declared."""
    key = (id(holder), id(descriptor))
    found = _HOLDERS.get(key)
    if found is not None and found.key is holder and found.descriptor is descriptor:
        return found
    made = Principal(holder, descriptor)
    if len(_HOLDERS) >= _MAX_HOLDERS:  # bounded: start over when full
        _HOLDERS.clear()
    _HOLDERS[key] = made
    return made


@slot_init
@dataclass(frozen=True, slots=True)
class VerifiedChain:
    """Links whose signatures, linkage and attenuation have been checked (only V2 makes one)."""

    links: tuple[codec.Link, ...]
    principals: tuple[Principal, ...]

    @property
    def digest(self) -> bytes:
        return self.links[-1].digest


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """What a needs_approval decision asks for: the approver signs ``digest`` (spec 9.2)."""

    digest: bytes
    approver: PublicKey
    chain: bytes
    audience: str
    action: str
    resource: str
    args: Arguments
    summary: str

    def to_json(self) -> dict[str, object]:
        return {
            "digest": self.digest.hex(),
            "approver": self.approver.kid,
            "chain": self.chain.hex(),
            "audience": self.audience,
            "action": self.action,
            "resource": self.resource,
            # the authoritative arguments; 'args' is for people and may lose byte strings
            "args_cbor": codec.b64encode(cbor.encode(dict(self.args))),  # type: ignore[arg-type]
            "args": codec.args_to_json(self.args),
            "summary": self.summary,
        }


@dataclass(frozen=True, slots=True)
class UsageReport:
    """One usage limit a request counted against (spec 9.5), for the decision and the audit.

    ``used`` is the limit's counter in this window: after this request when it was
    allowed, as found when it was not; ``remaining`` is what the window still allows.
    """

    link: int  # the index of the link stating the limit
    limit: int  # its index among that link's limits
    kind: str  # "rate" or "spend"
    amount: int  # what this request counts
    used: int
    max: int
    window_start: int
    window_end: int

    @property
    def remaining(self) -> int:
        return max(self.max - self.used, 0)

    def to_json(self) -> dict[str, object]:
        return {
            "link": self.link,
            "limit": self.limit,
            "kind": self.kind,
            "amount": self.amount,
            "used": self.used,
            "max": self.max,
            "remaining": self.remaining,
            "window": [self.window_start, self.window_end],
        }


@slot_init
@dataclass(frozen=True, slots=True)
class Decision:
    """The verifier's answer for a valid presentation. ``reasons`` is empty on allow."""

    outcome: Outcome
    reasons: tuple[Reason, ...]
    chain: VerifiedChain
    invocation: model.InvocationClaims
    #: spec 9.3: one JSON object naming every principal and factor
    audit: Mapping[str, object]
    #: set exactly when ``outcome`` is needs_approval
    approval_request: ApprovalRequest | None = None
    #: spec 9.5: the usage limits this request counted against, consumed and remaining
    usage: tuple[UsageReport, ...] = ()
    #: the request's id (Request.id, or the one the verifier made up); in the audit record too
    request_id: str = ""

    def __repr__(self) -> str:
        reason = f", reason={self.reasons[0].code!r}" if self.reasons else ""
        return (
            f"Decision(outcome={self.outcome.value!r}{reason}, "
            f"links={len(self.chain.links)}, request_id={self.request_id!r})"
        )

    @property
    def factors(self) -> dict[str, str]:
        """Each factor's state (spec 9.3): pass, fail, required, not_required, not_evaluated.
        Read without making the audit record where it is still pending."""
        record = _AUDIT_SLOT.__get__(self, Decision)
        factors = record.factors if type(record) is PendingAudit else record.get("factors", {})
        return dict(factors) if isinstance(factors, Mapping) else {}

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "outcome": self.outcome.value,
            "reasons": [{"code": r.code, "message": r.message} for r in self.reasons],
            "factors": self.factors,
            "request_id": self.request_id,
            "chain": [
                {
                    "kid": p.kid,
                    "name": p.name,
                    "kind": p.descriptor.kind if p.descriptor else None,
                }
                for p in self.chain.principals
            ],
        }
        if self.approval_request is not None:
            out["approval_request"] = self.approval_request.to_json()
        if self.usage:
            out["usage"] = [u.to_json() for u in self.usage]
        return out


class PendingAudit:
    """A decision's audit record (spec 9.3) not made yet: the verifier hands one to
    :class:`Decision` in place of the record, which is made the first time anything reads
    ``Decision.audit`` (the verifier's audit sink, when it has one, at once). Making the
    record (a JSON object naming every principal) costs about as much per link as the rest
    of a known link's verification, and a service without a sink may never read it.

    ``make`` returns the record; it reads only what the decision already fixed (its
    outcome, reasons, chain, invocation, time, ids and usage), so the record is the same
    whenever it is made. ``factors`` is the record's ``factors`` member, which
    :attr:`Decision.factors` reads without making the rest.
    """

    __slots__ = ("factors", "make")

    def __init__(self, make: Callable[[], dict[str, object]], factors: Mapping[str, str]) -> None:
        self.make = make
        self.factors = factors


#: the slot that holds ``Decision.audit``: the record, or a PendingAudit until it is read
_AUDIT_SLOT: Final = Decision.__dict__["audit"]


def _read_audit(decision: Decision) -> Mapping[str, object]:
    record = _AUDIT_SLOT.__get__(decision, Decision)
    if type(record) is PendingAudit:
        # two threads reading it at once may each make one: equal records, one kept
        record = record.make()
        _AUDIT_SLOT.__set__(decision, record)
    return record  # type: ignore[no-any-return]


def _write_audit(decision: Decision, record: Mapping[str, object]) -> None:
    # only object.__setattr__ (the dataclass's __init__ and unpickling) comes here:
    # Decision.__setattr__ refuses every write, as for any frozen field
    _AUDIT_SLOT.__set__(decision, record)


# ``audit`` stays a field (the same parameter, equality, hashing, pickling, replace());
# reading it goes through the slot, making a pending record first
setattr(  # noqa: B010 - a property over the field's own slot (mypy sees the field)
    Decision,
    "audit",
    property(
        _read_audit, _write_audit, doc="spec 9.3: one JSON object naming every principal and factor"
    ),
)
