"""V4 to V11 of spec 8.2, for one verification: the denials, factor by factor, the store
calls they ask for, and the audit record's factor states.

:class:`_Run` never calls a store itself: each step that needs one yields a request
(:class:`_Revocations`, :class:`_UseNonce`, :class:`_Consume`) and gets the answer back, so one
evaluation serves the blocking and the async verifier alike (``Verifier.verify`` and
``verify_async``).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Final, cast

from agentchain import codec, model, policy
from agentchain._display import rfc3339
from agentchain._frozen import maker, slot_init
from agentchain.crypto import PublicKey
from agentchain.model import (
    Descriptor,
    action_covers,
    digests_agree,
)
from agentchain.store import (
    MARK_BYTES,
    AsyncStore,
    Charge,
    Departure,
    NonceStatus,
    RevocationRecord,
    Store,
    UsageResult,
    UsageStatus,
    Use,
)
from agentchain.verifier._audit import (
    _principal_records,
)
from agentchain.verifier._checks import (
    check_fresh,
    check_valid_at,
)
from agentchain.verifier._facts import ChainFacts
from agentchain.verifier._revocation import (
    revoked_link,
)
from agentchain.verifier._types import (
    FACTORS,
    ApprovalRequest,
    Decision,
    Outcome,
    PendingAudit,
    Principal,
    Reason,
    Request,
    TrustPolicy,
    UsageReport,
    VerifiedChain,
)
from agentchain.wire import cbor

_NONCE_DOMAIN: Final = b"agentchain/nonce/v1"
#: ``Decision(...)``, faster (``_frozen.maker``): once per verification
_DECISION: Final = maker(Decision)


_APPROVAL_DOMAIN: Final = b"agentchain/approval-use/v1"


# spec 9.5: the keys of usage counters, link histories and the marks a history learns
_USAGE_DOMAIN: Final = b"agentchain/usage/v1"
_HISTORY_DOMAIN: Final = b"agentchain/history/v1"
_MARK_DOMAIN: Final = b"agentchain/mark/v1"

#: spec 9.3: the factor states a run starts from; V2 and V3 passed before it begins
_FACTORS_AT_START: Final = {
    **dict.fromkeys(FACTORS, "not_evaluated"),
    "signatures": "pass",
    "possession": "pass",
}

#: every method of the Store protocol (spec 9.4) the verifier may call
_STORE_METHODS: Final = (
    "revoke",
    "first_revoked",
    "use_nonce",
    "consume",
    "record_revocation",
    "revocations",
    "export_revocations",
    "lookup_revocations",
)


def _approvers(chain: VerifiedChain) -> list[PublicKey]:
    """Every key some link names as approver; the root signer stands in for an unnamed one."""
    root = chain.principals[0].key
    keys = [root]
    for link in chain.links:
        named = [r.approver for r in link.claims.approvals]
        usage = link.claims.usage
        if usage is not None:  # spec 9.5: a limit or a novelty rule that pauses names one too
            named += [limit.approver for limit in usage.limits]
            named.append(usage.novelty.approver if usage.novelty is not None else None)
        for approver in named:
            key = approver or root
            if key not in keys:
                keys.append(key)
    return keys


@slot_init
@dataclass(frozen=True, slots=True)
class _Revocations:
    """A step's request for ``Store.lookup_revocations``: the first revoked digest and the
    signed revocation records, in one call (one round trip for Redis)."""

    ids: tuple[bytes, ...]
    targets: tuple[bytes, ...]

    def run(self, store: Store) -> object:
        return store.lookup_revocations(self.ids, self.targets)

    async def run_async(self, store: AsyncStore) -> object:
        return await store.lookup_revocations(self.ids, self.targets)


@slot_init
@dataclass(frozen=True, slots=True)
class _UseNonce:
    """A step's request for ``Store.use_nonce``; the reply is a :class:`NonceStatus`."""

    key: bytes
    expires_at: int
    now: int

    def run(self, store: Store) -> object:
        return store.use_nonce(self.key, expires_at=self.expires_at, now=self.now)

    async def run_async(self, store: AsyncStore) -> object:
        return await store.use_nonce(self.key, expires_at=self.expires_at, now=self.now)


@slot_init
@dataclass(frozen=True, slots=True)
class _Consume:
    """A step's request for ``Store.consume``; the reply is a :class:`UsageResult`."""

    use: Use
    now: int

    def run(self, store: Store) -> object:
        return store.consume(self.use, now=self.now)

    async def run_async(self, store: AsyncStore) -> object:
        return await store.consume(self.use, now=self.now)


# The seam between the pure checks and the verifier's state: V4 to V11 never call a
# store; they yield what they need and receive the answer, so verify and verify_async
# share every check and differ only in whether the store's call is awaited.
_StoreCall = _Revocations | _UseNonce | _Consume
_Steps = Generator[_StoreCall, object, None]


class _Run:
    """One evaluation of V4 to V10: the denials, factor by factor, and the audit record."""

    __slots__ = (
        "approval_request",
        "args_digest_of",
        "attested",
        "cbor_encode",
        "chain",
        "deferred",
        "evaluation",
        "factors",
        "facts",
        "inv",
        "inv_payload",
        "keys",
        "now",
        "outcome",
        "policy",
        "reasons",
        "request",
        "request_id",
        "usage",
    )

    def __init__(
        self,
        policy_: TrustPolicy,
        chain: VerifiedChain,
        inv: model.InvocationClaims,
        request: Request,
        now: int,
        *,
        facts: ChainFacts,
        request_id: str,
        inv_payload: bytes | None = None,
        args_digest_of: Callable[[bytes], bytes | None] = codec.payload_args_digest,
        cbor_encode: codec.CBOREncode = cbor.encode,
    ) -> None:
        #: the invocation's CBOR payload, where the audit record reads its arguments' digest
        #: (with ``args_digest_of``: the reference's reading, or the native core's)
        self.inv_payload = inv_payload
        self.args_digest_of = args_digest_of
        #: deterministic CBOR for a JOSE link's id (V5) and the audit's arguments digest
        self.cbor_encode = cbor_encode
        self.policy = policy_
        self.chain = chain
        #: what V4 to V10 read of the chain that its bytes alone decide (``_facts.py``)
        self.facts = facts
        self.inv = inv
        self.request = request
        #: the request's own id, or the one the verifier made up for it
        self.request_id = request_id
        self.now = now
        self.factors: dict[str, str] = _FACTORS_AT_START.copy()
        self.reasons: tuple[Reason, ...] = ()
        self.outcome = Outcome.ALLOW
        self.approval_request: ApprovalRequest | None = None
        self.attested: dict[bytes, Descriptor] = {}
        # spec 9.5: a chain with usage limits or a novelty rule records its nonce and its
        # approvals in V11, with its counters, in one atomic consume
        self.deferred = facts.usage
        self.keys: list[tuple[bytes, int]] = []  # what V11 records once: nonce, approvals
        self.usage: tuple[UsageReport, ...] = ()
        # spec 6.3: one step budget for every statement this request evaluates
        self.evaluation = policy.Evaluation(inv.args, limits=policy_.limits)

    def _fail(self, factor: str, code: str, message: str) -> None:
        self.factors[factor] = "fail"
        self.reasons = (Reason(code, message),)
        self.outcome = Outcome.DENY

    def evaluate(
        self,
        attestations: tuple[model.AttestationClaims, ...],
        approvals: tuple[tuple[model.ApprovalClaims, bytes], ...],
        *,
        attached_approvals: int,
    ) -> _Steps:
        if not (yield from self._context()):
            return
        self.factors["context"] = "pass"
        if not self._integrity(attestations):
            return
        yield from self._oversight(approvals, attached=attached_approvals)
        if self.outcome is not Outcome.ALLOW:
            return
        yield from self._behaviour(approvals)

    # V4 to V8: the context factor
    def _context(self) -> Generator[_StoreCall, object, bool]:
        skew, now, inv, links = self.policy.clock_skew, self.now, self.inv, self.chain.links
        facts = self.facts
        # V4: time, on every link (valid for nbf - skew <= now < exp + skew): every link is
        # when the latest nbf and the earliest exp are; else the first that is not is named
        if not facts.not_before - skew <= now < facts.expires + skew:
            for index, link in enumerate(links):
                if (violation := check_valid_at(link, now, skew)) is not None:
                    self._fail("context", violation.code, f"link {index} {violation.detail}")
                    return False
        # V5: revocation, on every request, in one store call: first the operator's own, by
        # digest; then the signed revocations (spec 8.5), each applied only where its revoker
        # is entitled in this chain, by claim-level targets, so both encodings are covered
        lookup = _Revocations(facts.digests, facts.targets)
        revoked, records = cast("tuple[bytes | None, tuple[RevocationRecord, ...]]", (yield lookup))
        if revoked is not None:
            # the store answers with one of the digests asked; any other answer still denies
            at = f"link {facts.digests.index(revoked)}" if revoked in facts.digests else "a link"
            self._fail("context", "revoked", f"{at} ({revoked.hex()[:16]}...) is revoked")
            return False
        claims = [link.claims for link in links] if records else []
        if records and (hit := revoked_link(claims, records, ids=facts.ids)) is not None:
            index, record = hit
            self._fail(
                "context",
                "revoked",
                f"link {index} is revoked by a signed revocation of {record.revoker.hex()[:16]}...",
            )
            return False
        # V6: the invocation in context: audience, freshness, the request, replay
        if inv.audience != self.policy.audience:
            self._fail("context", "audience_mismatch", f"invocation is for {inv.audience!r}")
            return False
        stale = check_fresh(inv.iat, now, skew, self.policy.invocation_window)
        if stale is not None:
            self._fail("context", stale.code, f"invocation {stale.detail}")
            return False
        mismatch = _request_mismatch(inv, self.request)
        if mismatch:
            self._fail("context", "request_mismatch", f"the invocation signed another {mismatch}")
            return False
        if inv.args_digest is not None:
            # spec 5.7: bound by digest, and the digest matched: every later step (caveats,
            # approvals) judges the very arguments the resource server was given
            self.inv = inv = dataclasses.replace(inv, args=dict(self.request.args))
            # the one step budget of spec 6.3 now evaluates those arguments (no step spent yet)
            self.evaluation = policy.Evaluation(inv.args, limits=self.policy.limits)
        holder = self.chain.principals[-1].key
        nonce_key = codec.digest(_NONCE_DOMAIN + holder.thumbprint + inv.nonce)
        # remembered for as long as V6 would accept the invocation, and a second more
        expires_at = inv.iat + self.policy.invocation_window + skew + 1
        if self.deferred:  # spec 9.5: recorded in V11, with the counters it must agree with
            self.keys.append((nonce_key, expires_at))
        elif (yield _UseNonce(nonce_key, expires_at, now)) is NonceStatus.REPLAYED:
            self._fail("context", "replay", "this invocation's nonce was already used")
            return False
        # V7: every link grants the action on the resource. A link's answer is a pure
        # function of its capabilities; links read from the same bytes share one tuple
        # (codec._plain), so each distinct tuple is asked once, in link order (the facts)
        for index, caps in facts.grants:
            if not any(c.permits(inv.action, inv.resource) for c in caps):
                self._fail(
                    "context",
                    "capability_missing",
                    f"link {index} does not grant {inv.action} on {inv.resource}",
                )
                return False
        # V8: every link's caveats hold (conjunction), charged to the one budget of this
        # request (spec 6.3), which V10's approval requirements share. Links in a run that
        # shares one caveat tuple (the facts) are asked once, and the budget is charged for
        # every link all the same (Evaluation.repeated); runs that share a tuple pick its
        # statements for this action once
        applying: dict[int, list[model.Statement]] = {}
        for first, count, caveats in facts.caveats:
            statements = applying.get(id(caveats))
            if statements is None:
                statements = applying[id(caveats)] = [
                    c.statement for c in caveats if c.applies_to(inv.action)
                ]
            result, asked = self.evaluation.repeated(statements, count)
            if result.outcome != "true":
                self._fail("context", "caveat_failed", f"link {first + asked}: {result.detail}")
                return False
        return True

    def _in_window(self, iat: int, exp: int) -> bool:
        skew = self.policy.clock_skew
        return iat - skew <= self.now < exp + skew and exp - iat <= self.policy.max_attachment_ttl

    # V9: the integrity factor (spec 9.1)
    def _integrity(self, attestations: tuple[model.AttestationClaims, ...]) -> bool:
        by_subject: dict[bytes, list[model.AttestationClaims]] = {}
        for claims in attestations:
            by_subject.setdefault(claims.subject, []).append(claims)
        # any current attestation that contradicts what a link declared is a disagreement
        # between factors: deny, whether or not the action requires attestation
        for index, principal in enumerate(self.chain.principals if by_subject else ()):
            declared = principal.descriptor
            current = [
                a
                for a in by_subject.get(principal.key.thumbprint, ())
                if self._in_window(a.iat, a.exp)
            ]
            for claims in current:
                if declared is not None and _contradicts(declared, claims):
                    self._fail(
                        "integrity",
                        "attestation_mismatch",
                        f"principal {index} is attested to run other code than its link declares",
                    )
                    return False
            if current:
                first = current[0]
                self.attested[principal.key.thumbprint] = Descriptor(
                    code=first.code, model=first.model, config=first.config
                )
        required = any(
            action_covers(pattern, self.inv.action) for pattern in self.policy.attestation_required
        )
        if not required:
            self.factors["integrity"] = "pass" if self.attested else "not_required"
            return True
        holder = self.chain.principals[-1]
        mine = by_subject.get(holder.key.thumbprint, [])
        current = [a for a in mine if self._in_window(a.iat, a.exp)]
        declared = holder.descriptor or Descriptor()
        if any(_proves(declared, a) for a in current):
            self.factors["integrity"] = "pass"
            return True
        if current:
            self._fail(
                "integrity",
                "attestation_mismatch",
                "no attestation of the holder proves the digests its link declares",
            )
        elif mine:
            self._fail("integrity", "attestation_expired", "the holder's attestation expired")
        else:
            self._fail(
                "integrity",
                "attestation_missing",
                f"{self.inv.action} requires an attestation of the holder's code",
            )
        return False

    # V10: the oversight factor (spec 9.2)
    def _oversight(
        self, approvals: tuple[tuple[model.ApprovalClaims, bytes], ...], *, attached: int
    ) -> _Steps:
        """``approvals`` are those by some approver the chain names, signatures checked;
        ``attached`` counts every approval the presentation carried, by anyone."""
        needed = self._approvers_needed()
        if not needed:
            self.factors["oversight"] = "not_required"
            return
        inv = self.inv
        wanted = codec.request_digest(
            self.chain.digest, inv.audience, inv.action, inv.resource, inv.args
        )
        to_use: list[tuple[model.ApprovalClaims, bytes]] = []
        for approver in needed:
            mine = [a for a in approvals if a[0].issuer == approver.thumbprint]
            matching = [a for a in mine if a[0].request == wanted]
            current = [a for a in matching if self._in_window(a[0].iat, a[0].exp)]
            if current:
                # spec 9.2 R-9.2-10: every counting approval is consumed, not only the first
                # of each approver: a second one carried here must not count again later
                to_use.extend(a for a in current if a not in to_use)
                continue
            if matching:
                self._fail("oversight", "approval_expired", "the approval is outside its window")
            elif attached:
                # an approval that does not count is not silently dropped: whoever
                # attached it meant it for this request, and it is not for this one
                self._fail(
                    "oversight",
                    "approval_mismatch",
                    "the attached approval is for another request or by another approver",
                )
            else:
                self.factors["oversight"] = "required"
                self.outcome = Outcome.NEEDS_APPROVAL
                self.reasons = (
                    Reason("approval_required", f"{inv.action} needs approval by {approver.kid}"),
                )
                self.approval_request = self._approval_request(wanted, approver)
            return
        # every approval counts once: consumed only now, when the request is allowed
        for claims, approval_digest in to_use:
            key = codec.digest(_APPROVAL_DOMAIN + approval_digest)
            expires_at = claims.exp + self.policy.clock_skew + 1
            if self.deferred:  # spec 9.5: consumed in V11, all or nothing
                self.keys.append((key, expires_at))
                continue
            if (yield _UseNonce(key, expires_at, self.now)) is NonceStatus.REPLAYED:
                self._fail("oversight", "approval_replayed", "this approval was already used")
                return
        self.factors["oversight"] = "pass"

    # V11: the behaviour factor (spec 9.5)
    def _behaviour(self, approvals: tuple[tuple[model.ApprovalClaims, bytes], ...]) -> _Steps:
        if not self.deferred:
            self.factors["behaviour"] = "not_required"
            return
        inv, now, root = self.inv, self.now, self.chain.principals[0].key
        wanted = codec.request_digest(
            self.chain.digest, inv.audience, inv.action, inv.resource, inv.args
        )
        # approvals that count for this request (R-9.2-6), by approver
        counting = {
            claims.issuer: (claims, digest)
            for claims, digest in approvals
            if claims.request == wanted and self._in_window(claims.iat, claims.exp)
        }
        charges: list[Charge] = []
        pauses: list[PublicKey | None] = []  # per charge: who may waive it (None: deny)
        reports: list[UsageReport] = []
        departures: list[Departure] = []
        waivers: list[PublicKey] = []  # per departure: who may waive it
        used: set[bytes] = set()  # approvals a waiver uses
        for index, link in enumerate(self.chain.links):
            usage = link.claims.usage
            if usage is None:
                continue
            for number, limit in enumerate(usage.limits):
                if not limit.applies_to(inv.action):
                    continue
                amount = 1
                if limit.selector is not None:
                    value, missing = self.evaluation.select(limit.selector)
                    charge = None if missing else model.charge_of(value)
                    if charge is None:
                        self._fail(
                            "behaviour",
                            "usage_amount_invalid",
                            f"link {index} limit {number}: {limit.selector.text} is "
                            + (missing or "not a non-negative number"),
                        )
                        return
                    amount = charge
                start, end = limit.window(now)
                key = codec.digest(
                    _USAGE_DOMAIN
                    + link.digest
                    + number.to_bytes(1, "big")
                    + start.to_bytes(8, "big", signed=True)
                )
                approver = (limit.approver or root) if limit.on_exceed == "approve" else None
                waived = approver is not None and approver.thumbprint in counting
                if waived and approver is not None:
                    used.add(approver.thumbprint)
                charges.append(Charge(key, amount, limit.max, end, enforce=not waived))
                pauses.append(approver)
                kind = "rate" if limit.selector is None else "spend"
                reports.append(UsageReport(index, number, kind, amount, 0, limit.max, start, end))
            if usage.novelty is not None:
                approver = usage.novelty.approver or root
                waived = approver.thumbprint in counting
                if waived:
                    used.add(approver.thumbprint)
                departures.append(
                    Departure(
                        codec.digest(_HISTORY_DOMAIN + link.digest),
                        usage.novelty.learn,
                        (
                            _mark(b"action", inv.action),
                            _mark(b"host", model.resource_host(inv.resource)),
                        ),
                        link.claims.window.exp + self.policy.clock_skew + 1,
                        enforce=not waived,
                    )
                )
                waivers.append(approver)
        keys = list(self.keys)
        for thumbprint in used:  # an approval that waives a limit is used once, like V10's
            claims, approval_digest = counting[thumbprint]
            key = codec.digest(_APPROVAL_DOMAIN + approval_digest)
            if all(key != k for k, _ in keys):
                keys.append((key, claims.exp + self.policy.clock_skew + 1))
        use = Use(tuple(keys), tuple(charges), tuple(departures))
        result = cast(UsageResult, (yield _Consume(use, now)))
        self.usage = tuple(
            UsageReport(
                r.link, r.limit, r.kind, r.amount, total, r.max, r.window_start, r.window_end
            )
            for r, total in zip(reports, result.totals, strict=True)
        )
        status, at = result.status, result.index or 0
        if status is UsageStatus.RECORDED:
            self.factors["behaviour"] = "pass"
        elif status is UsageStatus.REPLAYED and at == 0:
            self._fail("context", "replay", "this invocation's nonce was already used")
            self.factors["behaviour"] = "not_evaluated"
        elif status is UsageStatus.REPLAYED:
            self._fail("oversight", "approval_replayed", "this approval was already used")
            self.factors["behaviour"] = "not_evaluated"
        elif status is UsageStatus.EXCEEDED:
            report, approver = self.usage[at], pauses[at]
            what = (
                f"link {report.link} limit {report.limit}: {report.used} used of {report.max} "
                f"in this window, and this request counts {report.amount}"
            )
            if approver is None:
                self._fail("behaviour", "usage_exceeded", what)
            else:
                self._pause(wanted, approver, f"{what}: it needs approval by {approver.kid}")
        else:
            approver = waivers[at]
            self._pause(
                wanted,
                approver,
                f"{inv.action} on {model.resource_host(inv.resource)} departs from what this "
                f"chain has done: it needs approval by {approver.kid}",
            )

    def _pause(self, wanted: bytes, approver: PublicKey, message: str) -> None:
        self.factors["behaviour"] = "required"
        self.outcome = Outcome.NEEDS_APPROVAL
        self.reasons = (Reason("approval_required", message),)
        self.approval_request = self._approval_request(wanted, approver)

    def _approvers_needed(self) -> list[PublicKey]:
        if not self.facts.approvals:  # no link states an approval requirement
            return []
        root = self.chain.principals[0].key
        inv = self.inv
        needed: list[PublicKey] = []
        for link in self.chain.links:
            for requirement in link.claims.approvals:
                if requirement.actions and not any(
                    action_covers(a, inv.action) for a in requirement.actions
                ):
                    continue
                if requirement.when is not None:
                    result = self.evaluation.caveats((requirement.when,))
                    if result.outcome == "false":  # true, and error too: fail towards oversight
                        continue
                approver = requirement.approver or root
                if approver not in needed:
                    needed.append(approver)
        return needed

    def _approval_request(self, wanted: bytes, approver: PublicKey) -> ApprovalRequest:
        inv = self.inv
        agents = []
        for principal in self.chain.principals[1:]:
            d = principal.descriptor
            label = f"{d.kind} {d.name!r}" if d is not None and d.name else "an unnamed principal"
            agents.append(f"{label} ({principal.kid[:10]})")
        args = json.dumps(codec.args_to_json(inv.args), sort_keys=True, ensure_ascii=False)
        summary = (
            f"Approve one request: {inv.action} on {inv.resource} at {inv.audience} "
            f"with arguments {args}. It is made by {agents[-1]}"
            + (f", acting through {', '.join(reversed(agents[:-1]))}" if len(agents) > 1 else "")
            + f", under authority delegated by {self.chain.principals[0].kid[:10]} "
            f"(chain {self.chain.digest.hex()[:16]}). The approval counts once, for exactly "
            "this request."
        )
        return ApprovalRequest(
            digest=wanted,
            approver=approver,
            chain=self.chain.digest,
            audience=inv.audience,
            action=inv.action,
            resource=inv.resource,
            args=inv.args,
            summary=summary,
        )

    def decision(self) -> Decision:
        # the audit record is made when it is first read (PendingAudit): nothing read
        # here changes once the decision is made (the run ends with it)
        factors = dict(self.factors)
        return _DECISION(
            outcome=self.outcome,
            reasons=self.reasons,
            chain=self._chain_with_attestations(),
            invocation=self.inv,
            audit=cast(  # Decision.audit makes the record from it when first read
                Mapping[str, object],
                PendingAudit(functools.partial(self._audit_record, factors), factors),
            ),
            approval_request=self.approval_request,
            usage=self.usage,
            request_id=self.request_id,
        )

    def _chain_with_attestations(self) -> VerifiedChain:
        if not self.attested:  # V2 made every principal with attested=None: nothing to add
            return self.chain
        principals = tuple(
            Principal(p.key, p.descriptor, self.attested.get(p.key.thumbprint), p.anchor_name)
            for p in self.chain.principals
        )
        return VerifiedChain(links=self.chain.links, principals=principals)

    def _audit_record(self, factors: Mapping[str, str]) -> dict[str, object]:
        inv = self.inv
        return {
            "version": 1,
            "time": _audit_time(self.now),
            "request_id": self.request_id,
            "nonce": self.inv.nonce.hex(),
            "chain_id": self.chain.digest.hex(),
            "outcome": self.outcome.value,
            "reasons": [r.code for r in self.reasons],
            "principals": _principal_records(self.chain.principals, self.attested),
            "audience": inv.audience,
            "action": inv.action,
            "resource": inv.resource,
            "args_digest": self._args_digest().hex(),
            "factors": dict(factors),
            "usage": [u.to_json() for u in self.usage],
        }

    def _args_digest(self) -> bytes:
        """spec 9.3: the digest the invocation bound, or of the arguments it carried (read from
        its payload bytes when it is CBOR, where they are already deterministically encoded)."""
        inv = self.inv
        if inv.args_digest is not None:
            return inv.args_digest
        if self.inv_payload is not None:
            found = self.args_digest_of(self.inv_payload)
            if found is not None:
                return found
        return codec.args_digest(inv.args, encode=self.cbor_encode)


@functools.lru_cache(maxsize=16)
def _audit_time(now: int) -> str:
    """``rfc3339(now)``, remembered: the requests of one second share their audit time."""
    return rfc3339(now)


def _mark(what: bytes, value: str) -> bytes:
    """spec 9.5: what a history remembers of an action or a host: a truncated digest."""
    return codec.digest(_MARK_DOMAIN + what + b"\x00" + value.encode())[:MARK_BYTES]


def _contradicts(declared: Descriptor, claims: model.AttestationClaims) -> bool:
    """spec 9.1: an attestation contradicts a link where both speak and disagree.

    Digest sets disagree when they share no algorithm or differ on a shared one
    (in-toto DigestSet matching); models disagree when they differ.
    """
    pairs = ((declared.code, claims.code), (declared.config, claims.config))
    if any(mine and theirs and digests_agree(mine, theirs) is not True for mine, theirs in pairs):
        return True
    return bool(declared.model and claims.model and declared.model != claims.model)


def _proves(declared: Descriptor, claims: model.AttestationClaims) -> bool:
    """spec 9.1: where attestation is required, it must prove everything the link declared."""
    pairs = ((declared.code, claims.code), (declared.config, claims.config))
    if any(mine and digests_agree(mine, theirs) is not True for mine, theirs in pairs):
        return False
    return declared.model is None or declared.model == claims.model


#: request ids made up ahead, each 16 bytes of ``os.urandom`` in hex; drawn 256 at a time,
#: since one system call costs more than the rest of making an id
_REQUEST_IDS: Final[list[str]] = []
_REQUEST_IDS_PER_DRAW: Final = 256
# a child process must never hand out the ids its parent drew (nor the parent the child's)
os.register_at_fork(after_in_child=_REQUEST_IDS.clear)


def new_request_id(request: Request) -> str:
    """The id of ``request`` in its decision and audit record: its own, or 16 random bytes in
    hex (spec 9.3). Kept beside the request, not written into a copy of it: the request's
    construction checked its action, resource and arguments, and nothing else changes."""
    if request.id is not None:
        return request.id
    try:
        return _REQUEST_IDS.pop()  # atomic: two threads never take the same id
    except IndexError:
        drawn = os.urandom(16 * _REQUEST_IDS_PER_DRAW).hex()
        _REQUEST_IDS.extend(drawn[at : at + 32] for at in range(0, len(drawn), 32))
        return _REQUEST_IDS.pop()


def _shown(value: object) -> str:
    """A value for a message: its repr, cut at 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_NUMBERS: Final = (int, float)
_SCALARS: Final = (str, bytes, bool, type(None))
#: a dict first: its type is checked before the Mapping ABC's (slower) instance check
_MAPPINGS: Final = (dict, Mapping)


def _same_data(a: object, b: object) -> bool:
    """Whether ``a`` and ``b`` have the same deterministic encoding (spec 5.2), judged on the
    values instead of encoding both: type-strict (True is not 1, b"a" is not "a"), and a float
    equal to an integer is that integer (12.0 is 12), as the encoder writes it. Anything
    outside the data model's types is compared by its encoding."""
    ta, tb = type(a), type(b)
    if ta in _NUMBERS and tb in _NUMBERS:
        return a == b
    if ta in _SCALARS or tb in _SCALARS:
        return ta is tb and a == b
    if isinstance(a, _MAPPINGS) and isinstance(b, _MAPPINGS):
        if len(a) != len(b):
            return False
        for key, value in a.items():
            if type(key) is not str:
                return _encoded_same(a, b)
            if key not in b or not _same_data(value, b[key]):
                return False
        return True
    if ta is list and tb is list:
        assert isinstance(a, list) and isinstance(b, list)
        return len(a) == len(b) and all(_same_data(x, y) for x, y in zip(a, b, strict=True))
    return _encoded_same(a, b)


def _encoded_same(a: object, b: object) -> bool:
    try:
        return cbor.encode(a) == cbor.encode(b)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _request_mismatch(inv: model.InvocationClaims, request: Request) -> str | None:
    """Which field of the request differs from what the invocation signed, and how."""
    if inv.action != request.action:
        return f"action: {_shown(inv.action)}, the request's is {_shown(request.action)}"
    if inv.resource != request.resource:
        return f"resource: {_shown(inv.resource)}, the request's is {_shown(request.resource)}"
    if inv.args_digest is not None:
        # spec 5.7: an invocation that binds its arguments by digest is compared by that digest
        if inv.args_digest == codec.args_digest(request.args):
            return None
        return "arguments digest: the request's arguments hash to another"

    if _same_data(inv.args, request.args):
        return None
    signed, asked = inv.args, request.args
    for name in sorted(set(signed) | set(asked)):
        if name not in asked:
            return f"argument {_shown(name)}, which the request does not have"
        if name not in signed:
            return f"set of arguments: without {_shown(name)}, which the request has"
        if not _same_data(signed[name], asked[name]):
            return (
                f"argument {_shown(name)}: {_shown(signed[name])}, "
                f"the request's is {_shown(asked[name])}"
            )
    return "arguments"  # unreachable: equal members make equal maps
