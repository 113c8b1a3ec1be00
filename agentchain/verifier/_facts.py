"""What V4 to V10 read of a verified chain that its links' bytes alone decide.

A decision reads, beside the request and the clock, some facts of the chain that never
change for the same links: each link's digest and id, the revocation targets V5 asks the
store about, the latest ``nbf`` and the earliest ``exp`` (V4 holds for every link exactly
when it holds for those two), whether some link states usage limits (V11) or approval
requirements (V10), which distinct capability tuples V7 asks, and which runs of links share
one caveat tuple (V8 asks each run once, charging its budget per link). :func:`chain_facts`
gathers them once per chain; the prefix cache (spec 8.4) keeps them beside the prefix
they were gathered for, and a chain that extends a remembered prefix gathers only its new
links' facts. Nothing here depends on the request or the clock, so nothing cached here can
decide a request differently from a verifier that never saw the prefix
(``tests/test_facts.py`` holds every fact to its definition over the whole chain).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from agentchain import codec
from agentchain._frozen import maker, slot_init
from agentchain.errors import UsageError
from agentchain.model import Capability, Caveat
from agentchain.verifier._revocation import _targets_of
from agentchain.verifier._types import _HOLDERS, Principal, holder_principal


@slot_init
@dataclass(frozen=True, slots=True)
class ChainFacts:
    """The request-independent facts of one verified chain (see the module's text)."""

    #: root first: the trust anchor, then each link's holder with what the link declared
    principals: tuple[Principal, ...]
    #: per link, its digest (what the operator revokes, spec 8.5) and its id (``link_id``)
    digests: tuple[bytes, ...]
    ids: tuple[bytes, ...]
    #: ``chain_targets`` of the links: every target a signed revocation could name (V5)
    targets: tuple[bytes, ...]
    #: the latest ``nbf`` and the earliest ``exp`` of the links (V4's bounds)
    not_before: int
    expires: int
    #: some link states usage limits or a novelty rule (spec 9.5: V11 records the request)
    usage: bool
    #: some link states approval requirements (spec 9.2: V10 must look for them)
    approvals: bool
    #: each distinct capability tuple (by identity: links read from the same bytes share
    #: one, codec._plain) with the index of the first link holding it; in link order, so
    #: the first tuple that does not grant is the first link's that does not (V7)
    grants: tuple[tuple[int, tuple[Capability, ...]], ...]
    #: the links in runs that share one caveat tuple (by identity, as ``grants``): (the
    #: first link's index, how many links, the tuple), in link order; V8 asks a run's
    #: caveats once and charges the budget for every link (``Evaluation.repeated``)
    caveats: tuple[tuple[int, int, tuple[Caveat, ...]], ...]


#: ``ChainFacts(...)``, faster (``_frozen.maker``): once per verification
_CHAIN_FACTS: Final = maker(ChainFacts)


def chain_facts(
    links: Sequence[codec.Link],
    root: Principal | None,
    *,
    encode: codec.CBOREncode,
    prefix: ChainFacts | None = None,
    read: Mapping[bytes, bytes] | None = None,
    targets: Mapping[bytes, bytes] | None = None,
) -> ChainFacts:
    """The facts of ``links`` (a chain that passed V2, root first), whose root signer is
    ``root`` (the trust anchor's principal).

    ``prefix``, when given, holds the facts of the first ``len(prefix.digests)`` of these
    very links (the prefix cache checked their bytes): only the links after them are read,
    and its principals name the root.
    ``encode`` is the backend's deterministic CBOR (a JOSE link's id encodes its claims);
    ``read`` holds ids the native core read from the payloads (spec 8.5), by link digest,
    and ``targets`` the revocation targets it computed of them (``link_target``).
    """
    if prefix is None:
        if root is None:
            raise UsageError("the facts of a whole chain need its root signer")
        start, top = 0, links[0].claims
        issuer = top.issuer  # spec 5.5: the root names its issuer; below, the key above
        if issuer is None:  # pragma: no cover - the codec refuses a root without its issuer
            raise UsageError("a root link names its issuer")
        not_before, expires, usage, approvals = top.window.nbf, top.window.exp, False, False
        principals = [root]
        digests: list[bytes] = []
        ids: list[bytes] = []
        found: list[bytes] = []
        grants: list[tuple[int, tuple[Capability, ...]]] = []
        runs: list[tuple[int, int, tuple[Caveat, ...]]] = []
    else:
        start = len(prefix.digests)
        if start == len(links):
            return prefix
        issuer = links[start - 1].claims.holder.thumbprint
        not_before, expires = prefix.not_before, prefix.expires
        usage, approvals = prefix.usage, prefix.approvals
        principals = list(prefix.principals)
        digests, ids = list(prefix.digests), list(prefix.ids)
        found, grants = list(prefix.targets), list(prefix.grants)
        runs = list(prefix.caveats)
    # one pass over the new links (a chain is short, and this runs on every request)
    for index in range(start, len(links)):
        link = links[index]
        claims = link.claims
        window = claims.window
        # comparisons, not max() and min(): 2 us less at depth 8 (timeit), on every request
        if window.nbf > not_before:  # noqa: PLR1730
            not_before = window.nbf
        if window.exp < expires:  # noqa: PLR1730
            expires = window.exp
        if claims.usage is not None:
            usage = True
        if claims.approvals:
            approvals = True
        caps = claims.capabilities
        for _, known in grants:
            if known is caps:
                break
        else:
            grants.append((index, caps))
        caveats = claims.caveats
        if runs and runs[-1][2] is caveats:
            first, count, _ = runs[-1]
            runs[-1] = (first, count + 1, caveats)
        else:
            runs.append((index, 1, caveats))
        link_id = read.get(link.digest) if read else None
        if link_id is None:
            link_id = codec.decoded_link_id(link, encode=encode)
        holder_key, descriptor = claims.holder, claims.descriptor
        # holder_principal's memo, inline (one call fewer a link, on every request)
        principal = _HOLDERS.get((id(holder_key), id(descriptor)))
        if (
            principal is None
            or principal.key is not holder_key
            or principal.descriptor is not descriptor
        ):
            principal = holder_principal(holder_key, descriptor)
        principals.append(principal)
        holder = holder_key.thumbprint
        found += _targets_of(link_id, issuer, holder, targets.get(link.digest) if targets else None)
        issuer = holder
        digests.append(link.digest)
        ids.append(link_id)
    return _CHAIN_FACTS(
        tuple(principals),
        tuple(digests),
        tuple(ids),
        tuple(dict.fromkeys(found)),  # in order, each once (as chain_targets)
        not_before,
        expires,
        usage,
        approvals,
        tuple(grants),
        tuple(runs),
    )
