"""Signed revocations (spec 8.5): verify one, judge its signer's entitlement in a chain,
and find what a chain's stored revocations revoke (V5).

Entitlement is a relation between the revoker and a chain, never a property of the
revocation alone: a verifier usually receives a revocation before it ever sees the
chain it kills. So a revocation is accepted on its signature, stored, and judged
against every chain it is applied to; one whose signer is not entitled in a chain
never revokes anything in it.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from agentchain import codec, model
from agentchain.crypto import ALGORITHMS
from agentchain.errors import ChainError, UsageError
from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.store import RevocationRecord
from agentchain.verifier._checks import check_alg

#: spec 8.5: the target of a revocation naming a link, by its claim-level identity
LINK_TARGET_DOMAIN: Final = b"agentchain/revoke-link/v1"
#: spec 8.5: the target of a revocation naming a key, by its thumbprint
KEY_TARGET_DOMAIN: Final = b"agentchain/revoke-key/v1"


def link_target(link_id: bytes) -> bytes:
    """spec 8.5: SHA-256(tag || link id), the id being ``codec.link_id`` of the link's
    claims: the same for a link's CBOR and JOSE twins. Whose link it is needs no naming:
    only a revoker entitled in the chain it is applied to revokes anything (R-8.5-3)."""
    return codec.digest(LINK_TARGET_DOMAIN + link_id)


def key_target(thumbprint: bytes) -> bytes:
    """spec 8.5: SHA-256(tag || thumbprint): every link the key holds or issued."""
    return codec.digest(KEY_TARGET_DOMAIN + thumbprint)


@dataclass(frozen=True, slots=True)
class VerifiedRevocation:
    """A revocation whose signature verified under the key it names as revoker.

    Only :func:`verify_revocation` makes one. Verified says who signed it, not that
    the signer may revoke what it names: that is judged per chain (:func:`revoked_link`).
    """

    claims: model.RevocationClaims
    #: the signed object exactly as received (COSE_Sign1 bytes, or the JWS compact)
    encoded: bytes
    digest: bytes

    @property
    def revoker(self) -> bytes:
        return self.claims.revoker.thumbprint

    @property
    def target(self) -> bytes:
        claims = self.claims
        if claims.link is not None:
            return link_target(claims.link.id)
        if claims.key is None:  # pragma: no cover - the codec refuses a revocation without one
            raise UsageError("a revocation names a link or a key")
        return key_target(claims.key)

    @property
    def encoding(self) -> codec.Encoding:
        return codec.encoding_of(self.encoded)

    def text(self) -> str:
        """The text form: a JWS compact as it is, a COSE object as ``ac2c.`` + base64url."""
        return codec.attachment_to_text(self.encoded)

    def record(self, now: int) -> RevocationRecord:
        """What a store keeps: who revoked what, and when (``now``) it was recorded."""
        return RevocationRecord(
            target=self.target,
            revoker=self.revoker,
            before=self.claims.before,
            until=self.claims.exp,
            recorded_at=now,
            revocation=self.encoded,
        )


def verify_revocation(
    revocation: bytes | str | codec.Revocation,
    *,
    algorithms: frozenset[str] = ALGORITHMS,
    limits: Limits = DEFAULT_LIMITS,
) -> VerifiedRevocation:
    """Decode ``revocation`` (bytes, text form or decoded) from its bytes and check its
    signature: the algorithm allowed and the revoker key's, then the signature (spec 8.5)."""
    if isinstance(revocation, codec.Signed):
        data = revocation.encoded
    elif isinstance(revocation, str):
        data = codec.attachment_from_text(revocation, limits)
    elif isinstance(revocation, bytes):
        data = revocation
    else:
        raise UsageError("a revocation is bytes, its text form or a codec.Revocation")
    decoded = codec.decode_unverified(model.RevocationClaims, data, limits)
    revoker = decoded.claims.revoker
    if (violation := check_alg(decoded.alg, revoker, algorithms)) is not None:
        violation.raise_for("the revocation")
    revoker.verify(decoded.envelope.signature, decoded.envelope.signed)
    return VerifiedRevocation(claims=decoded.claims, encoded=data, digest=decoded.digest)


def _issuers(links: Sequence[model.LinkClaims]) -> tuple[bytes, ...]:
    """The thumbprint of each link's issuer: named at the root, below it the parent's
    holder (spec 5.5, protocol 0.2)."""
    if not links:
        return ()
    root = links[0].issuer
    if root is None:  # pragma: no cover - the codec refuses a root without its issuer
        raise UsageError("a root link names its issuer")
    return (root, *(link.holder.thumbprint for link in links[:-1]))


def _targets(
    link: model.LinkClaims, issuer: bytes, link_id: bytes | None = None
) -> tuple[bytes, bytes, bytes]:
    """The three targets that can name ``link``: itself, its issuer's key, its holder's key.
    ``link_id`` is ``codec.link_id(link)`` when the caller knows it already."""
    if link_id is None:
        link_id = codec.link_id(link)
    return _targets_of(link_id, issuer, link.holder.thumbprint)


def _targets_of(
    link_id: bytes, issuer: bytes, holder: bytes, target: bytes | None = None
) -> tuple[bytes, bytes, bytes]:
    """The link's target (``target``, when the native core computed it from the id), then
    its issuer's key's and its holder's key's. The keys' are remembered by thumbprint: the
    same principals sign chain after chain. A link's own is computed for each new chain:
    nothing here is remembered by a link's bytes (a chain never seen costs what it costs)."""
    return (
        link_target(link_id) if target is None else target,
        _key_target(issuer),
        _key_target(holder),
    )


@functools.lru_cache(maxsize=4096)
def _key_target(thumbprint: bytes) -> bytes:
    return key_target(thumbprint)


def _ids(links: Sequence[model.LinkClaims], ids: Sequence[bytes] | None) -> Sequence[bytes | None]:
    if ids is None:
        return [None] * len(links)
    if len(ids) != len(links):
        raise UsageError("one link id per link")
    return ids


def chain_targets(
    links: Sequence[model.LinkClaims], *, ids: Sequence[bytes] | None = None
) -> tuple[bytes, ...]:
    """Every target a stored revocation could name to cover a link of ``links`` (V5).
    ``ids``, when given, are the links' ``codec.link_id`` (so they are not encoded again)."""
    known = [
        link_id if link_id is not None else codec.link_id(link)
        for link, link_id in zip(links, _ids(links, ids), strict=True)
    ]
    holders = [link.holder.thumbprint for link in links]
    # in order, each once: a key holds one link and issues the next
    each = map(_targets_of, known, _issuers(links), holders)
    return tuple(dict.fromkeys(itertools.chain.from_iterable(each)))


def _covers(
    target: bytes,
    before: int | None,
    link: model.LinkClaims,
    issuer: bytes,
    link_id: bytes | None = None,
) -> bytes | None:
    """Whether a revocation of ``target`` (issued-before ``before``) covers ``link``, whose
    issuer is ``issuer``; the key it names when it is a key target that does (its own
    revoker is entitled)."""
    if before is not None and not link.iat < before:  # spec 8.5: strictly before
        return None
    as_link, as_issuer, as_holder = _targets(link, issuer, link_id)
    if target == as_link:
        return b""
    if target == as_issuer:
        return issuer
    if target == as_holder:
        return link.holder.thumbprint
    return None


def _entitled(revoker: bytes, key: bytes, issuers: Sequence[bytes], index: int) -> bool:
    """spec 8.5: the issuer of the link or of any link above it (the root's issuer is
    the trust anchor), or, for a key-wide revocation, the revoked key itself."""
    return revoker == key or revoker in issuers[: index + 1]


def revoked_link(
    links: Sequence[model.LinkClaims],
    records: Iterable[RevocationRecord],
    *,
    ids: Sequence[bytes] | None = None,
) -> tuple[int, RevocationRecord] | None:
    """V5: the first link (root first) that an entitled stored revocation covers.
    ``ids`` as for :func:`chain_targets`."""
    found = tuple(records)
    if not found:
        return None
    issuers = _issuers(links)
    known = _ids(links, ids)
    for index, link in enumerate(links):
        for record in found:
            key = _covers(record.target, record.before, link, issuers[index], known[index])
            if key is not None and _entitled(record.revoker, key, issuers, index):
                return index, record
    return None


def check_entitled(
    revocation: VerifiedRevocation, links: Sequence[model.LinkClaims]
) -> tuple[int, ...]:
    """The links of ``links`` that ``revocation`` revokes; raise if it names some but its
    signer is entitled for none (``revocation_unentitled``), or names none (``usage``)."""
    claims = revocation.claims
    issuers = _issuers(links)
    covered = [
        (index, key)
        for index, link in enumerate(links)
        if (key := _covers(revocation.target, claims.before, link, issuers[index])) is not None
    ]
    if not covered:
        raise UsageError("the revocation covers no link of this chain")
    entitled = tuple(
        index for index, key in covered if _entitled(revocation.revoker, key, issuers, index)
    )
    if not entitled:
        raise ChainError(
            "revocation_unentitled",
            f"{claims.revoker.kid} is neither the revoked key nor the issuer of link "
            f"{covered[0][0]} or of a link above it",
        )
    return entitled
