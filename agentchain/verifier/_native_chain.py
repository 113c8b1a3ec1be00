"""V1's links and V2 in the native core, with the reference's answers (DESIGN.md section 8).

The verifier hands its chain here when its backend is native (``Verifier(backend=...)``,
``AGENTCHAIN_PURE``). Per link, the core opens the COSE_Sign1, decodes the payload and the
head of the claims (``native/core/src/claims.rs``: map, version, unknown keys, the arrays
and their counts, times, depth, issuer or parent, the holder's key), in the order of
``codec.decode_link_claims`` and with its codes; the reference's own decoder then builds the
claims (capabilities, caveats, descriptor, approval requirements, usage), so the objects the
policy layer reads are the ones the pure path builds. Where the claims are of the plain
shape and those values are remembered by their bytes (``codec.PART_LOOKUPS``), the core
makes the link object itself with the same makers (``open_presentation``'s ``build``), as
``_link`` would: the same objects, without a Python frame for each part. Then V2 over the
chain in one call (``chain.rs``): algorithm, signature, linkage, window, attenuation, per
link in the verifier's order, keys imported once and kept by their bytes.

A refusal of V2 names the link and the check; it is raised here through the very check
function the pure loop calls (``_checks.py``), so both paths say the same thing. JOSE links,
and payloads the core leaves to the reference (map keys Python equates with integers),
are decoded and checked by the pure path.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, Final, SupportsIndex, TypeAlias, TypeVar, cast

from agentchain import codec
from agentchain._frozen import composed, maker
from agentchain._native import ChainCore, LinkFacts, LinkParts, OpenedLink, OpenedObject
from agentchain.crypto import PublicKey
from agentchain.errors import AgentchainError, ChainError
from agentchain.limits import Limits
from agentchain.model import (
    ApprovalClaims,
    AttestationClaims,
    InvocationClaims,
    LinkClaims,
    Window,
    check_action,
    check_resource,
)
from agentchain.verifier._checks import (
    Violation,
    check_alg,
    check_depth,
    check_linkage,
    check_scope,
    check_time_nesting,
    check_window,
)
from agentchain.verifier._facts import _CHAIN_FACTS, ChainFacts
from agentchain.verifier._revocation import _key_target
from agentchain.verifier._types import Principal, TrustPolicy, holder_principal

#: facts of parents taken from a prefix cache, by digest (a pure function of the link's
#: bytes), shared by every verifier: one that shares a prefix cache with others, or that
#: was made anew, finds the facts another computed
_PARENTS: Final[dict[bytes, LinkFacts]] = {}
_MAX_PARENTS: Final = 1024

#: a link the core opened: its bytes, and what ``open_link_parts`` returns for them
_LinkEntry: TypeAlias = tuple[bytes, OpenedLink, LinkParts | None]

#: a link's digest, read without a Python frame per link
_DIGEST: Final = operator.attrgetter("digest")

#: ``codec.Presentation(...)`` of objects all of one encoding, without the check of it
_PRESENTATION: Final = maker(codec.Presentation, checked=False)

#: ``codec.Envelope(...)``, faster (``_frozen.maker``): one per object the core opened
_ENVELOPE: Final = maker(codec.Envelope)


class _CoreLink(codec.Signed[LinkClaims]):
    """A link the core made (``open_presentation``'s ``build``), its claims and its envelope
    each made when first read.

    Until then its ``claims`` and ``envelope`` slots hold the core's facts of the link
    (``LinkFacts``, which keeps the values of every claim, ``claims_fields``, and the
    link's bytes with where its envelope's parts lie in them, ``envelope_fields``); its
    digest is there from the start. The first read of the envelope (or of ``encoded``,
    ``alg``, ``encoding``) makes it with ``_ENVELOPE``; the first read of the claims (or
    equality, hashing, ``repr``, a copy, pickling) makes them with ``_LINK_CLAIMS``, as
    the core made them for every link before, and the envelope if it is still to make,
    and makes the object a plain ``codec.Signed``: from then on it is one, field for field.
    A verification reads the claims and the envelope of the root alone (V2.1's signer;
    the core makes a root whole, ``_core_root``): V1, V2 and the chain's facts
    (``chain_facts``) are the core's, and the prefix cache is given the links' bytes by
    the core (``presentation_decoder``'s ``encoded``), so the other links' claims and
    envelopes are never made unless something reads them. ``tests/test_native_chain.py``
    holds such a link to the link the reference decodes, by every way of reading it.

    Each slot changes once, from the facts to the record (one store, whole under the GIL);
    two threads reading first may both make it, and the two are equal.
    """

    __slots__ = ()

    @property
    def claims(self) -> LinkClaims:
        return _made(self).claims

    @property
    def envelope(self) -> codec.Envelope:
        return _enveloped(self)

    def __eq__(self, other: object) -> bool:
        return _made(self) == other

    def __hash__(self) -> int:
        return hash(_made(self))

    def __repr__(self) -> str:
        return repr(_made(self))

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        return _made(self).__reduce_ex__(protocol)


_CLAIMS_SLOT: Final = codec.Signed.__dict__["claims"]
_ENVELOPE_SLOT: Final = codec.Signed.__dict__["envelope"]
#: a link's claims, as ``codec.parts_link`` makes them: the parameters are the claims'
#: fields, the window's two in its place (``LinkFacts.claims_fields``)
_LINK_CLAIMS: Final = composed(LinkClaims, window=Window)
#: what the core makes a link with (``open_presentation``'s ``build``): the link's facts
#: where its claims and its envelope go, then the digest
_core_link: Final = composed(codec.Signed, becomes=_CoreLink)
#: and a root link, whole (every verification reads its issuer, V2.1): the claims' fields
#: (the window's two in their place), the envelope's, then the digest
_core_root: Final = composed(codec.Signed, claims=_LINK_CLAIMS, envelope=codec.Envelope)


def _made(link: _CoreLink) -> codec.Link:
    """``link`` with its claims and its envelope made (see :class:`_CoreLink`), now a plain
    ``codec.Signed``."""
    facts = _CLAIMS_SLOT.__get__(link)
    if type(facts) is not LinkClaims:  # the core's facts: the claims are still to make
        fields = facts.claims_fields()
        if fields is None:  # pragma: no cover - only links the core made are made so
            raise ChainError("chain_broken", "the native core lost a link it made")
        _CLAIMS_SLOT.__set__(link, _LINK_CLAIMS(*fields))
    _enveloped(link)
    object.__setattr__(link, "__class__", codec.Signed)
    return link


def _enveloped(link: _CoreLink) -> codec.Envelope:
    """The envelope of ``link``, made if it is still to make (see :class:`_CoreLink`)."""
    kept = _ENVELOPE_SLOT.__get__(link)
    if type(kept) is codec.Envelope:
        return kept
    fields = kept.envelope_fields()
    if fields is None:  # pragma: no cover - only links the core made are made so
        raise ChainError("chain_broken", "the native core lost a link it made")
    envelope = _ENVELOPE(*fields)
    _ENVELOPE_SLOT.__set__(link, envelope)
    return envelope


#: an invocation's claims, envelope and signed object in one call (see ``_core_link``)
_SIGNED_INVOCATION: Final = composed(codec.Signed, claims=InvocationClaims, envelope=codec.Envelope)


def _made_invocation(  # noqa: PLR0917 - the fields of an invocation, in the core's order
    chain: bytes,
    audience: str,
    action: str,
    resource: str,
    args: dict[str, object],
    iat: int,
    nonce: bytes,
    alg: str,
    typ: int,
    protected: bytes,
    payload: bytes,
    signature: bytes,
    signed: bytes,
    encoded: bytes,
    digest: bytes,
) -> codec.Signed[InvocationClaims]:
    """An invocation of the common shape the core opened (``claims::plain_invocation``: the
    types and ranges ``codec._claims._plain_cbor_invocation`` checks, the arguments a map
    with text keys), made as that function and :func:`_object` make it: the action's and
    the resource's grammar checked first, with the reference's errors."""
    check_action(action, pattern=False)
    check_resource(resource, pattern=False)
    return _SIGNED_INVOCATION(  # type: ignore[no-any-return]
        chain, audience, action, resource, args, iat, nonce, None, (), (),
        "cbor", alg, typ, protected, payload, signature, signed, encoded, digest,
    )  # fmt: skip


_PARENT_CHECKS: Final = {
    "scope": check_scope,
    "time_nesting": check_time_nesting,
    "depth": check_depth,
}


class NativeChain:
    """One verifier's native V1 (links) and V2, under its trust policy."""

    def __init__(self, core: ChainCore, policy: TrustPolicy) -> None:
        self._core = core
        self._policy = policy
        self._allowed = sorted(policy.algorithms)
        #: open_presentation's limits for this policy's (the verifier's every request)
        self._caps = _presentation_caps(policy.limits)

    def decoder(
        self, facts: MutableMapping[bytes, LinkFacts], ids: MutableMapping[bytes, bytes]
    ) -> Callable[[bytes, Limits], codec.Link]:
        """``decode_unverified(LinkClaims, data, limits)``, natively for CBOR links; the
        facts of each link the core decoded go into ``facts`` by digest, for V2, and the id
        it read (spec 8.5) into ``ids``, for V5."""
        open_link_parts = self._core.open_link_parts

        def decode_link(data: bytes, limits: Limits) -> codec.Link:
            if codec.encoding_of(data) != "cbor":
                # the core reads no JSON claims: the reference decodes a JOSE link, and the
                # core checks its V2 from the claims and the envelope (the signing input)
                link = codec.decode_unverified(LinkClaims, data, limits)
                handle = self._facts(link)
                if handle is not None:
                    facts[link.digest] = handle
                return link
            opened, parts = open_link_parts(data, **_link_caps(limits))
            return self._link(data, opened, parts, limits, facts=facts, ids=ids)

        return decode_link

    def presentation_decoder(
        self,
        facts: dict[bytes, LinkFacts],
        ids: dict[bytes, bytes],
        targets: dict[bytes, bytes] | None = None,
        encoded: list[bytes] | None = None,
        handles: list[LinkFacts | None] | None = None,
    ) -> codec.OpenPlain:
        """``codec.decode_presentation_unverified``'s ``open_plain``: a CBOR presentation of
        the plain shape, every object opened in one call of the core
        (``open_presentation``), or None, which leaves the bytes to the reference (and its
        errors, in its order). The core makes the links whose values are remembered; the
        others are made here (:meth:`_link`), their facts and ids put into ``facts`` and
        ``ids`` by digest, as :meth:`decoder` puts them. The bytes of the links of the
        presentation the core read last go into ``encoded`` (in order: a link's envelope is
        made only when read, and the prefix cache keeps the links by their bytes).

        Given ``handles`` (a list), the facts of every link of the presentation read last go
        into it, in order (None for
        a link neither the core nor :meth:`_link` made: one ``known`` gave), and the made
        links' facts, ids and revocation targets are put nowhere else: the verifier hands
        the list to :meth:`verify`, and asks :func:`reveal` for the ids and targets only
        where it gathers a chain's facts itself. Without it they go into ``facts``, ``ids``
        and ``targets`` (spec 8.5's target of each made link) as well."""
        if targets is None:
            targets = {}
        if encoded is None:
            encoded = []
        kept: list[LinkFacts | None] = [] if handles is None else handles
        open_presentation = self._core.open_presentation
        policy_limits, policy_caps = self._policy.limits, self._caps

        def open_plain(
            data: bytes, limits: Limits, known: Callable[[bytes], codec.Link | None] | None
        ) -> codec.Presentation | None:
            caps = policy_caps if limits is policy_limits else _presentation_caps(limits)
            # the lists describe the presentation read last (a decoder may read several):
            # the mixed path below writes the facts of a link by its place
            del encoded[:], kept[:]
            # the core makes each link whose claims' values are remembered, as _link would
            build = (
                limits, codec.PART_LOOKUPS, _core_link, kept, _made_invocation, _core_root,
                encoded,
            )  # fmt: skip
            found = open_presentation(data, known, caps, build)
            if found is None:
                # the reference reads the bytes: its links are the ones
                del encoded[:], kept[:]
                return None
            links_found, opened, attestations, approvals = found
            links: tuple[codec.Link, ...]
            if type(links_found) is tuple:  # every link known or made by the core
                links = links_found  # type: ignore[assignment]
            else:
                made: list[codec.Link] = []
                for index, entry in enumerate(links_found):  # (a cast would be a call a link)
                    if type(entry) is tuple:  # opened now, to be made here: a _LinkEntry
                        link = self._link(*entry, limits, facts=facts, ids=ids)  # type: ignore[misc,arg-type]
                        kept[index] = facts.get(link.digest)
                        made.append(link)
                    else:  # known (the link the prefix cache holds), or made by the core
                        made.append(entry)  # type: ignore[arg-type]
                links = tuple(made)
            if handles is None:  # the caller reads the made links' facts by digest
                reveal(kept, ids, targets, facts=facts)
            invocation: codec.Signed[InvocationClaims] | None
            if type(opened) is tuple:  # not of the common shape: the reference reads it
                invocation = _object(InvocationClaims, opened, limits)
            else:  # None, or made by the core
                invocation = opened  # type: ignore[assignment]
            # every object of the container is COSE (the core read it as one): the check
            # that they share one encoding would read each link's envelope, and make it
            return _PRESENTATION(
                links,
                invocation,
                tuple(_object(AttestationClaims, a, limits) for a in attestations),
                tuple(_object(ApprovalClaims, a, limits) for a in approvals),
            )

        return open_plain

    def _link(
        self,
        data: bytes,
        opened: OpenedLink,
        parts: LinkParts | None,
        limits: Limits,
        *,
        facts: MutableMapping[bytes, LinkFacts],
        ids: MutableMapping[bytes, bytes],
    ) -> codec.Link:
        """A link from what the core found in its bytes (``open_link_parts``)."""
        alg, typ, protected, payload, signature, signed, raw, digest, handle = opened
        # the common shape: its claims from the parts the core found, the recurring
        # ones by their bytes (codec._plain); else the reference reads the payload
        claims = None if parts is None else codec.parts_link(payload, limits, parts)
        if claims is None:
            if raw is None:  # the core did not hand the decoded payload: ask for it
                raw = self._core.open_link(data, **_link_caps(limits))[6]
            claims = codec.decode_link_claims(raw, limits, "cbor")
        elif parts is not None:  # the id the core read, as payload_link_id reads it
            ids[digest] = parts[-1]
        if handle is not None:
            facts[digest] = handle
        envelope = _ENVELOPE("cbor", alg, typ, protected, payload, signature, signed, data)
        return codec.Signed(claims=claims, envelope=envelope, digest=digest)

    def verify(
        self,
        links: tuple[codec.Link, ...],
        start: int,
        *,
        parent: codec.Link | None,
        anchor: PublicKey | None,
        facts: Mapping[bytes, LinkFacts],
        passed: Callable[[int], None] | None,
        handles: list[LinkFacts | None] | None = None,
    ) -> list[LinkFacts] | None:
        """V2 (spec 8.2) for ``links[start:]``, ``parent`` the verified link above them (None
        at the root, whose signer is ``anchor``, the trust anchor the caller resolved, V2.1;
        below, the core reads the signer from the parent's facts). Raise the first
        violation; return the facts of the links checked when every one passed, or None,
        having checked nothing, when the core did not decode all of them. Before a
        violation is raised, ``passed(index)`` is told the links before it passed (as the
        pure loop remembers each prefix as it passes). ``handles``, where
        :meth:`presentation_decoder` filled it for these very links, holds their facts in
        order; else (or where it lacks one) they are read from ``facts`` by digest."""
        found: list[LinkFacts | None] = (
            handles[start:] if handles is not None and len(handles) == len(links) else []
        )
        if not found or None in found:
            found = list(map(facts.get, map(_DIGEST, links[start:])))
        if not found or None in found:
            return None
        every = cast("list[LinkFacts]", found)  # every one found
        root = anchor if parent is None else None
        if parent is None and root is None:  # pragma: no cover - the caller resolves it
            raise ChainError("root_untrusted", "the root link's issuer is not a trust anchor")
        failure = self._core.verify_chain(
            every,
            root=None if root is None else (root.alg, root.raw()),
            parent=None if parent is None else self._parent(parent),
            allowed=self._allowed,
            max_ttl=self._policy.max_ttl,
        )
        if failure is not None:
            index, check, error = failure
            if passed is not None:
                passed(start + index)
            if error is not None:  # V2.3: raised as PublicKey.verify raises it
                raise error
            self._raise(links, start + index, check, root)
        return every

    def chain_facts(
        self,
        checked: list[LinkFacts],
        root: Principal | None,
        prefix: ChainFacts | None = None,
    ) -> ChainFacts | None:
        """``chain_facts`` of a chain whose links' facts ``verify`` returned (``checked``),
        gathered by the core where it made every one of them (from the very objects the
        links hold, with the reference's ``holder_principal`` and key targets): the whole
        chain from ``root`` (the trust anchor's principal), or, given ``prefix`` (the facts
        the prefix cache kept of the links before them), the chain that extends it. None for
        any other chain, whose facts the caller gathers itself.
        ``tests/test_native_chain.py`` holds the two to equal facts."""
        if prefix is None and root is None:
            return None
        found = self._core.chain_facts(checked, root, holder_principal, _key_target, prefix)
        if found is None:
            return None
        principals, digests, ids, targets, not_before, expires, grants, runs = found
        return _CHAIN_FACTS(
            principals,
            digests,
            ids,
            targets,  # in order, each once (as chain_targets): the core kept the first of each
            not_before,
            expires,
            # the links the core makes state no usage limits nor approval requirements
            # (the plain shape has neither): the prefix's say whether the chain does
            prefix is not None and prefix.usage,
            prefix is not None and prefix.approvals,
            grants,
            runs,
        )

    def verify_signature(self, key: PublicKey, signature: bytes, message: bytes) -> None:
        """``key.verify(signature, message)`` in the core (V3: the invocation and the
        attachments), the key imported once and kept by its bytes: the same answer, the
        same exception (``tests/test_native.py``)."""
        self._core.verify_cached(key.alg, key.raw(), signature, message)

    def _facts(self, link: codec.Link) -> LinkFacts | None:
        """What V2 needs of a link the reference decoded, or None (the pure loop checks it):
        an algorithm or a holder's key the core does not take is left to the reference,
        which then gives its own answer."""
        claims, envelope = link.claims, link.envelope
        holder = claims.holder
        try:
            return self._core.claims_facts(
                link.alg,
                signed=envelope.signed,
                signature=envelope.signature,
                digest=link.digest,
                parent=claims.parent,
                holder_alg=holder.alg,
                holder_raw=holder.raw(),
                nbf=claims.window.nbf,
                exp=claims.window.exp,
                depth=claims.depth,
                capabilities=[(c.action, c.resource) for c in claims.capabilities],
            )
        except AgentchainError:
            return None

    def _parent(self, link: codec.Link) -> LinkFacts:
        """The facts of a link the prefix cache holds (decoded by an earlier request): the
        core's own, where it made the link and its claims were never read (they are the
        facts ``parent_facts`` would build from them), else built from its claims once."""
        if type(link) is _CoreLink:
            kept = _CLAIMS_SLOT.__get__(link)
            if type(kept) is not LinkClaims:
                return kept  # type: ignore[no-any-return]
        found = _PARENTS.get(link.digest)
        if found is None:
            claims = link.claims
            holder = claims.holder
            found = self._core.parent_facts(
                link.alg,
                holder_alg=holder.alg,
                holder_raw=holder.raw(),
                digest=link.digest,
                nbf=claims.window.nbf,
                exp=claims.window.exp,
                depth=claims.depth,
                capabilities=[(c.action, c.resource) for c in claims.capabilities],
            )
            if len(_PARENTS) >= _MAX_PARENTS:
                _PARENTS.clear()
            _PARENTS[link.digest] = found
        return found

    def _raise(
        self, links: tuple[codec.Link, ...], index: int, check: str, root: PublicKey | None
    ) -> None:
        """Raise the violation the core found, through the reference's check function."""
        link = links[index]
        parent = links[index - 1] if index > 0 else None
        violation: Violation | None
        if check == "alg":
            signer = root if parent is None else parent.claims.holder
            violation = (
                None if signer is None else check_alg(link.alg, signer, self._policy.algorithms)
            )
        elif check == "linkage":
            violation = check_linkage(link, parent)
        elif check == "window":
            violation = check_window(link, self._policy.max_ttl)
        elif parent is not None and check in _PARENT_CHECKS:
            violation = _PARENT_CHECKS[check](link, parent)
        else:
            violation = None
        if violation is None:  # the two paths disagree: fail closed, and say so
            raise ChainError(
                "chain_broken",
                f"link {index}: the native core refused it ({check}), the reference did not",
            )
        violation.raise_for(f"link {index}")


def reveal(
    handles: list[LinkFacts | None],
    ids: MutableMapping[bytes, bytes],
    targets: MutableMapping[bytes, bytes],
    *,
    facts: MutableMapping[bytes, LinkFacts] | None = None,
) -> None:
    """Put the id and the revocation target (spec 8.5) of each link the core made, among
    ``handles`` (:meth:`NativeChain.presentation_decoder`'s), into ``ids`` and ``targets``
    by its digest, and its facts into ``facts``: what ``verifier._facts.chain_facts`` reads
    instead of computing them again, where the verifier gathers a chain's facts itself."""
    for handle in handles:
        if handle is not None and (made := handle.made_ids()) is not None:
            digest, link_id, target = made
            ids[digest] = link_id
            targets[digest] = target
            if facts is not None:
                facts[digest] = handle


def _link_caps(limits: Limits) -> dict[str, int]:
    """The limits ``open_link`` and ``open_link_parts`` take."""
    return {
        "max_object_bytes": limits.max_object_bytes,
        "max_depth": limits.max_cbor_depth,
        "max_items": limits.max_cbor_items,
        "max_string_bytes": limits.max_string_bytes,
        "max_capabilities": limits.max_capabilities,
        "max_caveats": limits.max_caveats,
    }


def _presentation_caps(limits: Limits) -> tuple[int, ...]:
    """The limits ``open_presentation`` takes, in its order."""
    return (
        limits.max_presentation_bytes,
        limits.max_object_bytes,
        limits.max_cbor_depth,
        limits.max_cbor_items,
        limits.max_string_bytes,
        limits.max_links,
        limits.max_attachments,
        limits.max_capabilities,
        limits.max_caveats,
    )


_Claims = TypeVar("_Claims", InvocationClaims, AttestationClaims, ApprovalClaims)


def _object(kind: type[_Claims], opened: OpenedObject, limits: Limits) -> codec.Signed[_Claims]:
    """An invocation or an attachment from what the core found in its bytes: the envelope
    as ``codec.decode_unverified`` builds it, the claims read by the reference's decoder."""
    *_, raw, digest, encoded = opened
    claims = codec.decode_claims(kind, raw, limits, "cbor")
    return codec.Signed(claims=claims, envelope=_envelope(opened, encoded), digest=digest)


def _envelope(opened: OpenedLink | OpenedObject, encoded: bytes) -> codec.Envelope:
    """The envelope of a COSE object the core opened, as ``codec.decode_unverified`` builds
    it: both kinds of answer begin with alg, typ, protected, payload, signature, signed."""
    alg, typ, protected, payload, signature, signed = opened[:6]
    return _ENVELOPE("cbor", alg, typ, protected, payload, signature, signed, encoded)
