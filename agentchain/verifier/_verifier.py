"""The verifier: from a presentation and a request to one Decision (spec 8).

``Verifier.verify`` raises an :class:`~agentchain.errors.AgentchainError` for a
presentation that is not a valid token (malformed, forged, spliced, widened), and
returns a :class:`Decision` for one that is. It never returns a bool. The steps
are numbered as in spec 8.2; errors (V1-V3) all come before denials (V4-V8), so
a policy outcome can never mask a forgery.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Mapping
from typing import Literal, cast

from agentchain import _native, codec, model
from agentchain.crypto import PublicKey
from agentchain.errors import AgentchainError, ChainError, UsageError
from agentchain.store import (
    AsyncStore,
    MemoryStore,
    Store,
    as_async_store,
    is_async_store,
)
from agentchain.verifier._audit import (
    AuditSink,
    _error_record,
)
from agentchain.verifier._cache import _ENCODED, PrefixCache, policy_fingerprint
from agentchain.verifier._checks import (
    Violation,
    check_alg,
    check_attachments,
    check_binding,
    check_depth,
    check_linkage,
    check_scope,
    check_signer,
    check_time_nesting,
    check_window,
)
from agentchain.verifier._facts import ChainFacts, chain_facts
from agentchain.verifier._native_chain import NativeChain, reveal
from agentchain.verifier._revocation import (
    VerifiedRevocation,
    check_entitled,
    verify_revocation,
)
from agentchain.verifier._run import _STORE_METHODS, _approvers, _Run, _Steps, new_request_id
from agentchain.verifier._types import (
    Decision,
    Principal,
    Request,
    TrustPolicy,
    VerifiedChain,
    by_thumbprint,
)


class Verifier:
    """Verifies presentations under one :class:`TrustPolicy`.

    ``store`` keeps revocations, used nonces and used approvals (a fresh
    :class:`MemoryStore` by default: fine for one process, lost on restart).
    ``clock`` returns the current time in seconds; inject a fixed one for tests
    and vectors. ``audit``, when given, receives the audit record of every
    verification, decisions and errors alike (see :class:`JsonLinesAuditLog`).
    ``prefix_cache`` remembers chain prefixes that passed V2 (signatures, linkage,
    attenuation) so they are not checked again (spec 8.4): True (the default) for
    a cache of this verifier's own, a :class:`PrefixCache` to share one, False
    for none. Decisions are the same either way.

    ``backend`` picks the implementation of V1's link decoding and V2 (signatures,
    linkage, attenuation): ``"native"`` the Rust core (``pip install ./native``;
    a UsageError where it is not installed), ``"pure"`` the pure-Python reference,
    ``"auto"`` (the default) the core when it is installed and the environment
    variable ``AGENTCHAIN_PURE`` is not ``1`` at construction. Decisions and errors
    are the same either way (DESIGN.md section 8); ``backend_name`` says which runs.

    ``verify_async`` is the same verification for an event loop: the checks are
    shared, only the store's calls are awaited (an :class:`AsyncStore` directly;
    a blocking store such as SQLite in a worker thread). A verifier built on an
    AsyncStore serves ``verify_async`` only.
    """

    def __init__(
        self,
        policy: TrustPolicy,
        *,
        store: Store | AsyncStore | None = None,
        clock: Callable[[], float] = time.time,
        audit: AuditSink | None = None,
        prefix_cache: PrefixCache | bool = True,
        backend: Literal["auto", "pure", "native"] = "auto",
    ) -> None:
        if not isinstance(policy, TrustPolicy):
            raise UsageError("Verifier needs a TrustPolicy")
        if backend not in ("auto", "pure", "native"):
            raise UsageError(f"unknown backend {backend!r} (auto, pure or native)")
        selected = _native.backend(None if backend == "auto" else backend)
        chain_core = selected.chain
        self._native = NativeChain(chain_core, policy) if chain_core is not None else None
        #: the native backend's strict CBOR decoder for the container and the other objects'
        #: payloads (the same value or the same error as the reference's, R-5.2-11)
        self._cbor_decode = selected.cbor_decode if chain_core is not None else None
        #: the audit record's arguments digest from the invocation's payload bytes (spec 9.3)
        self._args_digest_of = (
            codec.payload_args_digest if chain_core is None else chain_core.payload_args_digest
        )
        #: deterministic CBOR of what the reference would encode (a JOSE link's claims for
        #: its id, V5; arguments for a digest): the selected backend's, the same bytes
        self._cbor_encode = selected.cbor_encode
        if prefix_cache is True:
            prefix_cache = PrefixCache()
        elif prefix_cache is not False and not isinstance(prefix_cache, PrefixCache):
            raise UsageError("prefix_cache is True, False or a PrefixCache")
        # not `prefix_cache or None`: an empty PrefixCache is falsy (it has a length)
        self._prefix_cache = None if prefix_cache is False else prefix_cache
        self._policy_id = policy_fingerprint(policy) if self._prefix_cache is not None else b""
        #: the cache's links under this policy, by digest: what V1 asks for each link
        self._known = (
            None if self._prefix_cache is None else self._prefix_cache.finder(self._policy_id)
        )
        self._policy = policy
        # V2.1 and V3.4 look a key up by its thumbprint on every request
        self._anchor = by_thumbprint(policy.anchors)
        self._attester = by_thumbprint(policy.attesters)
        #: the root signer's Principal for each trust anchor, made once (the first anchor
        #: of a thumbprint, as ``self._anchor`` finds it)
        self._roots: dict[bytes, Principal] = {}
        for anchor in policy.anchors:
            self._roots.setdefault(
                anchor.thumbprint, Principal(anchor, None, anchor_name=policy.name_of(anchor))
            )
        chosen: Store | AsyncStore = store if store is not None else MemoryStore()
        # a store written for an older protocol lacks the signed-revocation methods: refuse it
        # here, with a typed error, rather than fail at the first request
        missing = [name for name in _STORE_METHODS if not callable(getattr(chosen, name, None))]
        if missing:
            raise UsageError(f"the store lacks {', '.join(missing)} (spec 9.4)")
        self._store: Store | None = None if is_async_store(chosen) else cast(Store, chosen)
        self._async_store: AsyncStore = as_async_store(chosen)
        # a store whose calls never wait on I/O is called directly, even from verify_async
        self._inline_store = chosen if isinstance(chosen, MemoryStore) else None
        self._clock = clock
        self._audit = audit

    @property
    def policy(self) -> TrustPolicy:
        return self._policy

    @property
    def backend_name(self) -> Literal["pure", "native"]:
        """Which implementation decodes the links and runs V2 (see ``backend``)."""
        return "pure" if self._native is None else "native"

    def verify(self, presentation: bytes | str | codec.Presentation, request: Request) -> Decision:
        """Decide on ``presentation`` for ``request``; raise AgentchainError if it is invalid."""
        store = self._store
        if store is None:
            raise UsageError("this verifier's store is asynchronous: await verify_async")
        now = int(self._clock())
        request_id = new_request_id(request)
        try:
            run, steps = self._prepare(presentation, request, request_id, now)
            # the store's calls, made as the checks ask for them (see _StoreCall)
            reply: object = None
            try:
                while True:
                    call = steps.send(reply)
                    reply = call.run(store)
            except StopIteration:
                pass
            decision = run.decision()
        except AgentchainError as exc:
            if self._audit is not None:
                self._audit(_error_record(exc, request, request_id, self._policy.audience, now))
            raise
        if self._audit is not None:
            self._audit(decision.audit)
        return decision

    async def verify_async(
        self, presentation: bytes | str | codec.Presentation, request: Request
    ) -> Decision:
        """:meth:`verify` for an event loop: the same checks, the store's calls awaited.

        Signature checks run inline (CPU work of tens of microseconds per link);
        nothing waits on I/O in the loop. The audit sink, when set, runs in a
        worker thread (it may write a file).
        """
        now = int(self._clock())
        request_id = new_request_id(request)
        store, inline = self._async_store, self._inline_store
        try:
            run, steps = self._prepare(presentation, request, request_id, now)
            reply: object = None
            try:
                while True:
                    call = steps.send(reply)
                    reply = call.run(inline) if inline is not None else await call.run_async(store)
            except StopIteration:
                pass
            decision = run.decision()
        except AgentchainError as exc:
            if self._audit is not None:
                record = _error_record(exc, request, request_id, self._policy.audience, now)
                await asyncio.to_thread(self._audit, record)
            raise
        if self._audit is not None:
            await asyncio.to_thread(self._audit, decision.audit)
        return decision

    def _prepare(
        self,
        presentation: bytes | str | codec.Presentation,
        request: Request,
        request_id: str,
        now: int,
    ) -> tuple[_Run, _Steps]:
        """V1 to V3 (pure), and V4 to V10 as steps that yield the store calls they need."""
        limits = self._policy.limits
        # V1: the request's arguments within their own limits (spec 5.6)
        model.check_arguments(request.args, limits=limits)
        # V1: size limits and strict decoding, before any signature work. A decoded object
        # is decoded again from its bytes: it may come from a decoder with looser limits
        # than this policy's, and the form must never change the decision. The prefix
        # cache (spec 8.4) is keyed by exact bytes, so it serves both forms.
        if isinstance(presentation, codec.Presentation):
            presentation = presentation.to_bytes()
        cache, known = self._prefix_cache, self._known
        # the native backend decodes the links it can, keeping what V2 needs of each: by
        # link digest for the links it did not make itself, with the link ids (spec 8.5) it
        # read (the links it made keep both in their facts, handed over in order)
        facts: dict[bytes, _native.LinkFacts] = {}
        ids: dict[bytes, bytes] = {}
        targets: dict[bytes, bytes] = {}  # revocation targets (filled where it is asked)
        encoded: list[bytes] = []  # and the bytes of the links, where it read them all
        handles: list[_native.LinkFacts | None] = []  # and each link's facts, in order
        native = self._native
        decoded = codec.decode_presentation_unverified(
            presentation,
            limits,
            known=known,
            decode_link=None if native is None else native.decoder(facts, ids),
            cbor_decode=self._cbor_decode,
            open_plain=(
                None
                if native is None
                else native.presentation_decoder(facts, ids, targets, encoded, handles)
            ),
        )
        # V2: signatures, linkage and attenuation, link by link
        chain, chain_facts_ = self._verify_links(
            decoded.links,
            cache,
            facts,
            ids,
            targets,
            encoded=tuple(encoded) if len(encoded) == len(decoded.links) else None,
            handles=handles,
        )
        # V3: the invocation: present, signed by the final holder, bound to this chain;
        # then the signatures of the attachments that could count
        invocation = self._verify_invocation(decoded, chain)
        attestations = self._verify_attestations(decoded.attestations)
        approvals = self._verify_approvals(decoded.approvals, chain)
        # V4 to V10: the decision
        signed = decoded.invocation
        cbor_payload = (
            signed.envelope.payload
            if signed is not None and signed.envelope.encoding == "cbor"
            else None
        )
        run = _Run(
            self._policy,
            chain,
            invocation,
            request,
            now,
            facts=chain_facts_,
            request_id=request_id,
            inv_payload=cbor_payload,
            args_digest_of=self._args_digest_of,
            cbor_encode=self._cbor_encode,
        )
        steps = run.evaluate(attestations, approvals, attached_approvals=len(decoded.approvals))
        return run, steps

    # -- signed revocations (spec 8.5) ------------------------------------

    def _accept(
        self,
        revocation: bytes | str | codec.Revocation,
        chain: bytes | str | codec.Presentation | None,
    ) -> VerifiedRevocation:
        policy_ = self._policy
        verified = verify_revocation(
            revocation, algorithms=policy_.algorithms, limits=policy_.limits
        )
        if chain is not None:
            if not isinstance(chain, codec.Presentation):
                chain = codec.decode_presentation_unverified(chain, policy_.limits)
            check_entitled(verified, [link.claims for link in chain.links])
        return verified

    def accept_revocation(
        self,
        revocation: bytes | str | codec.Revocation,
        *,
        chain: bytes | str | codec.Presentation | None = None,
    ) -> VerifiedRevocation:
        """Verify a signed revocation and record it in the store (spec 8.5).

        Its signature is checked under the key it names as revoker, with this
        policy's algorithms and limits. With ``chain`` (a token or presentation),
        the revoker must also be entitled in it, else ``revocation_unentitled``.
        Without one it is recorded on its signature alone: V5 judges the
        revoker's entitlement against every chain it is applied to, so an
        unentitled revocation is kept but never revokes anything.
        """
        store = self._store
        if store is None:
            raise UsageError("this verifier's store is asynchronous: await the async variant")
        verified = self._accept(revocation, chain)
        store.record_revocation(verified.record(int(self._clock())))
        return verified

    async def accept_revocation_async(
        self,
        revocation: bytes | str | codec.Revocation,
        *,
        chain: bytes | str | codec.Presentation | None = None,
    ) -> VerifiedRevocation:
        """:meth:`accept_revocation` for an event loop."""
        verified = self._accept(revocation, chain)
        await self._async_store.record_revocation(verified.record(int(self._clock())))
        return verified

    # -- errors -----------------------------------------------------------

    def _check_alg(self, alg: str, key: PublicKey, what: str) -> None:
        if (violation := check_alg(alg, key, self._policy.algorithms)) is not None:
            violation.raise_for(what)

    def _check_signature(self, key: PublicKey, envelope: codec.Envelope) -> None:
        """V3's signatures: in the native core where this verifier has it (the key kept by
        its bytes), else by the key itself; the same answer either way."""
        if self._native is not None:
            self._native.verify_signature(key, envelope.signature, envelope.signed)
        else:
            key.verify(envelope.signature, envelope.signed)

    def _verify_links(
        self,
        links: tuple[codec.Link, ...],
        cache: PrefixCache | None = None,
        facts: Mapping[bytes, _native.LinkFacts] | None = None,
        ids: dict[bytes, bytes] | None = None,
        targets: dict[bytes, bytes] | None = None,
        *,
        encoded: tuple[bytes, ...] | None = None,
        handles: list[_native.LinkFacts | None] | None = None,
    ) -> tuple[VerifiedChain, ChainFacts]:
        """V2 over ``links``: the verified chain, and its facts for V4 to V10 (``ids`` and
        ``targets``: the link ids the native core read and the revocation targets it
        computed, by link digest; ``encoded``: the links' bytes, where the core read them;
        ``handles``: the facts of the links, in order, where the core read them, and with
        them the ids and targets of the links it made, which ``ids`` and ``targets`` then
        lack)."""
        root: Principal | None = None  # the trust anchor's, when no known facts name it
        parent: codec.Link | None = None
        start, known = 0, None
        # spec 8.4: a prefix that passed V2 under this very policy is not checked again
        if cache is not None:
            if encoded is None:  # read from the links (a link the core made keeps them)
                encoded = tuple(map(_ENCODED, links))
            start, known = cache._verified_encoded(self._policy_id, links, encoded)
        if start and known is None:  # verified, but its facts were not kept: gathered anew
            anchor = self._anchor(links[0].claims.issuer or b"")
            if anchor is None:  # cannot happen: the anchors are part of the policy id
                start = 0
            else:
                root = self._root(anchor)
        if start:
            parent = links[start - 1]
        if start == len(links):
            return self._verified(
                links, root, known, cache, ids, targets=targets, encoded=encoded, handles=handles
            )
        # V2.1 for the root: a trust anchor (only a root can lack a signer). Below it, the
        # signer is the parent's holder: the core reads it from the parent's facts, and the
        # pure loop from the parent's claims, each link's in turn
        trusted: PublicKey | None = None
        if parent is None:
            signer = check_signer(links[start], None, self._anchor)
            if isinstance(signer, Violation):
                signer.raise_for("the root link's")
            trusted = signer
            root = self._root(signer)
        # V2.2 to V2.6 for every link in one native call, when the core decoded them all
        passed = (
            None
            if cache is None
            else functools.partial(self._remember, cache, links, start, encoded=encoded)
        )
        native = self._native
        if native is not None:
            checked = native.verify(
                links,
                start,
                parent=parent,
                anchor=trusted,
                facts=facts or {},
                passed=passed,
                handles=handles,
            )
            if checked is not None:
                self._remember(cache, links, start, len(links) - 1, encoded=encoded)
                # a chain whose every new link the core made: the core gathers its facts,
                # from the root or on top of the prefix's the cache kept
                made = native.chain_facts(checked, None if start else root, known)
                return self._verified(
                    links,
                    root,
                    known,
                    cache,
                    ids,
                    targets=targets,
                    made=made,
                    encoded=encoded,
                    handles=handles,
                )
        for index, link in enumerate(links[start:], start):
            what = f"link {index}"
            # V2.1: the signer (the root's was found above)
            signer = check_signer(link, parent, self._anchor)
            if isinstance(signer, Violation):
                signer.raise_for(what)
            self._check_link(link, parent, signer, what)
            parent = link
            if index + 1 < len(links):  # the whole chain is remembered with its facts
                self._remember(cache, links, index, index + 1, encoded=encoded)
        return self._verified(
            links, root, known, cache, ids, targets=targets, encoded=encoded, handles=handles
        )

    def _verified(
        self,
        links: tuple[codec.Link, ...],
        root: Principal | None,
        known: ChainFacts | None,
        cache: PrefixCache | None,
        ids: dict[bytes, bytes] | None,
        *,
        targets: dict[bytes, bytes] | None = None,
        made: ChainFacts | None = None,
        encoded: tuple[bytes, ...] | None = None,
        handles: list[_native.LinkFacts | None] | None = None,
    ) -> tuple[VerifiedChain, ChainFacts]:
        """The chain that passed V2, and its facts: gathered from its new links on top of
        what the cache knew of its prefix (``known``), or from its root signer ``root``, or
        ``made``, the facts of the whole chain the native core gathered; remembered in the
        cache with the whole chain when it was not known whole."""
        if made is None and handles and ids is not None and targets is not None:
            # gathered here: the ids and targets of the links the core made, read, not
            # computed again
            reveal(handles, ids, targets)
        gathered = (
            made
            if made is not None
            else chain_facts(
                links, root, encode=self._cbor_encode, prefix=known, read=ids, targets=targets
            )
        )
        if cache is not None and gathered is not known:
            cache._add_encoded(self._policy_id, links, encoded, facts=gathered)
        return VerifiedChain(links=links, principals=gathered.principals), gathered

    def _root(self, anchor: PublicKey) -> Principal:
        """The root signer of a chain, ``anchor`` (one of this policy's trust anchors)."""
        found = self._roots.get(anchor.thumbprint)
        if found is None or found.key is not anchor:  # an anchor is always found: fail safe
            return Principal(anchor, None, anchor_name=self._policy.name_of(anchor))
        return found

    def _remember(
        self,
        cache: PrefixCache | None,
        links: tuple[codec.Link, ...],
        start: int,
        end: int,
        *,
        encoded: tuple[bytes, ...] | None = None,
    ) -> None:
        """Remember the prefixes up to ``links[end - 1]``, which passed V2 (spec 8.4);
        ``encoded`` holds the links' bytes."""
        if cache is not None:
            for index in range(start, end):
                stop = index + 1
                cache._add_encoded(
                    self._policy_id, links[:stop], None if encoded is None else encoded[:stop]
                )

    def _check_link(
        self, link: codec.Link, parent: codec.Link | None, signer: PublicKey, what: str
    ) -> None:
        """V2.2 to V2.6 for one link, in the pure-Python reference."""
        # V2.2, V2.3: algorithm bound to the key, then the signature over the stored bytes
        self._check_alg(link.alg, signer, what)
        signer.verify(link.envelope.signature, link.envelope.signed)
        # V2.4: linkage to the exact signed bytes of the parent; V2.5: the window itself
        for violation in (check_linkage(link, parent), check_window(link, self._policy.max_ttl)):
            if violation is not None:
                violation.raise_for(what)
        # V2.6: authority only narrows (spec 4.3 to 4.5)
        if parent is not None:
            for check in (check_scope, check_time_nesting, check_depth):
                if (violation := check(link, parent)) is not None:
                    violation.raise_for(what)

    def _verify_invocation(
        self, presentation: codec.Presentation, chain: VerifiedChain
    ) -> model.InvocationClaims:
        invocation = presentation.invocation
        if invocation is None:
            raise ChainError("invocation_missing", "a chain alone never authorizes: no invocation")
        holder = chain.principals[-1].key
        self._check_alg(invocation.envelope.alg, holder, "the invocation")
        self._check_signature(holder, invocation.envelope)
        # V3.3: the attachments are the ones the invocation names (spec 5.7)
        for check in (
            check_binding(invocation, chain.digest),
            check_attachments(invocation, presentation),
        ):
            if check is not None:
                check.raise_for("the invocation")
        return invocation.claims

    def _verify_attestations(
        self, attestations: tuple[codec.Attestation, ...]
    ) -> tuple[model.AttestationClaims, ...]:
        """V3.4: attestations by trusted attesters must verify; others are ignored."""
        trusted = []
        for index, attestation in enumerate(attestations):
            attester = self._attester(attestation.claims.issuer)
            if attester is None:
                continue  # spec 9.1: an untrusted attester's word is not evidence, nor an error
            what = f"attestation {index}"
            self._check_alg(attestation.envelope.alg, attester, what)
            self._check_signature(attester, attestation.envelope)
            trusted.append(attestation.claims)
        return tuple(trusted)

    def _verify_approvals(
        self, approvals: tuple[codec.Approval, ...], chain: VerifiedChain
    ) -> tuple[tuple[model.ApprovalClaims, bytes], ...]:
        """V3.5: approvals by a principal the chain names as approver must verify."""
        if not approvals:  # the common case: nothing to match against the chain's approvers
            return ()
        approvers = {p.thumbprint: p for p in _approvers(chain)}
        out = []
        for index, approval in enumerate(approvals):
            approver = approvers.get(approval.claims.issuer)
            if approver is None:
                continue  # by anyone else: does not count (and V10 says so)
            what = f"approval {index}"
            self._check_alg(approval.envelope.alg, approver, what)
            self._check_signature(approver, approval.envelope)
            out.append((approval.claims, approval.digest))
        return tuple(out)
