"""The verified-prefix cache (spec 8.4): what V2 already proved, remembered.

Links are content-addressed: a link's digest is the SHA-256 of its exact signed
bytes, and every link names its parent's digest. So "the chain whose links have
these digests, in this order, passed V2 (signatures, linkage, attenuation) under
this trust policy" is a fact that never changes. Agents fan one parent token out
to many sub-agents; a verifier that remembers the fact re-checks only the new
links' signatures.

What is cached is exactly that fact, plus the decoded link (decoding is a pure
function of the bytes and the limits, which are part of the policy) and, for the
prefixes a verification ended with, the facts of the prefix that V4 to V10 read and its
bytes alone decide (``_facts.ChainFacts``: its principals, link ids, revocation
targets, the bounds of its windows). Nothing that depends on the request or the clock
is cached: time windows (V4), revocation (V5), the invocation (V3, V6), capabilities
and caveats (V7, V8), attestation (V9) and approval (V10) are evaluated on every
request.

The key is (trust-policy fingerprint, link digest). The fingerprint covers every
field of the policy, not only those V2 reads today, so no change of policy can
reuse a fact proved under another. The cache is bounded (least recently used
entries go first) and safe to share between threads and between verifiers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from agentchain.codec import Link
from agentchain.crypto import PublicKey
from agentchain.errors import UsageError
from agentchain.verifier._facts import ChainFacts
from agentchain.verifier._types import TrustPolicy
from agentchain.wire import cbor

__all__ = ["DEFAULT_PREFIX_CACHE_SIZE", "PrefixCache", "policy_fingerprint"]

#: Entries (one per verified prefix, so per link) of a verifier's own cache.
DEFAULT_PREFIX_CACHE_SIZE: Final = 1024

_FINGERPRINT_DOMAIN: Final = "agentchain/trust-policy/v1"

#: a link's exact bytes and its digest, read without a Python frame per link
_ENCODED: Final = operator.attrgetter("envelope.encoded")
_DIGEST: Final = operator.attrgetter("digest")


def _canonical(value: object) -> cbor.CBORValue:
    """A deterministic CBOR value for one policy field; unknown types are refused."""
    if isinstance(value, PublicKey):
        return ["key", value.alg, value.raw()]
    if value is None or isinstance(value, bool | int | str | bytes):
        return value
    if isinstance(value, frozenset | set):
        return list[cbor.CBORValue](sorted(cbor.encode(_canonical(v)) for v in value))
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    if isinstance(value, Mapping):
        return [[_canonical(k), _canonical(v)] for k, v in sorted(value.items())]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def policy_fingerprint(policy: TrustPolicy) -> bytes:
    """SHA-256 over a deterministic encoding of every field of a trust policy.

    Two policies share a fingerprint exactly when all their fields are equal
    (anchors and attesters by algorithm and key bytes, in order; the algorithm
    set sorted; the limits field by field).
    """
    if not isinstance(policy, TrustPolicy):  # for untyped callers
        raise UsageError("a trust policy fingerprint needs a TrustPolicy")
    encoded = cbor.encode([_FINGERPRINT_DOMAIN, _canonical(policy)])
    return hashlib.sha256(encoded).digest()


class PrefixCache:
    """A bounded, thread-safe LRU of chain prefixes that passed V2.

    ``maxsize`` is the number of entries; one entry is one verified prefix
    (the chain up to and including one link). Share one cache between
    verifiers if you like: entries are keyed by the policy's fingerprint.
    """

    def __init__(self, maxsize: int = DEFAULT_PREFIX_CACHE_SIZE) -> None:
        if not isinstance(maxsize, int) or isinstance(maxsize, bool) or maxsize < 1:
            raise UsageError("a prefix cache holds at least one entry")
        self._maxsize = maxsize
        self._lock = threading.Lock()
        #: (policy fingerprint, last link's digest) -> (the prefix's links' bytes, the last
        #: link, the prefix's facts when the verifier gathered them)
        self._entries: OrderedDict[
            tuple[bytes, bytes], tuple[tuple[bytes, ...], Link, ChainFacts | None]
        ] = OrderedDict()
        #: the last link of each entry, by policy fingerprint, then by digest: what
        #: :meth:`finder` reads, kept with the entries (added and evicted with them)
        self._links: dict[bytes, dict[bytes, Link]] = {}

    @property
    def maxsize(self) -> int:
        return self._maxsize

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            for links in self._links.values():  # emptied in place: finders hold them
                links.clear()

    def link(self, policy: bytes, digest: bytes) -> Link | None:
        """The decoded link with this digest, if a prefix ending in it verified; its entry
        is made young.

        It takes no lock: each dict operation is atomic, and an entry evicted between
        the two costs only its place at the young end (the link found is as good as
        ever)."""
        key = (policy, digest)
        entry = self._entries.get(key)
        if entry is None:
            return None
        try:  # noqa: SIM105 - cheaper than contextlib.suppress
            self._entries.move_to_end(key)
        except KeyError:  # evicted by another thread meanwhile
            pass
        return entry[1]

    def finder(self, policy: bytes) -> Callable[[bytes], Link | None]:
        """The decoded link with a digest, if a prefix ending in it verified under
        ``policy``: what V1 asks for every link of every presentation (the native core
        calls it from Rust), so it is a dict's own ``get``, without a Python frame.

        Unlike :meth:`link`, finding a link does not make its entry young: a request
        makes young the longest prefix it finds verified (:meth:`verified_facts`) and the
        chain it adds. A link whose own entry was evicted is decoded again, as a link
        never seen is; what passed V2 is still decided by the entries alone. A dict
        operation is atomic, so it takes no lock."""
        with self._lock:
            links = self._links.setdefault(policy, {})
        return links.get

    def verified_prefix(self, policy: bytes, links: Sequence[Link]) -> int:
        """How many leading ``links`` are known to pass V2 under ``policy`` (0 to len).

        An entry counts only if it holds exactly these links' bytes in this order,
        so a link reused under another parent is never taken as verified, and a
        link object whose ``digest`` does not match its bytes finds nothing.
        """
        return self.verified_facts(policy, links)[0]

    def verified_facts(self, policy: bytes, links: Sequence[Link]) -> tuple[int, ChainFacts | None]:
        """:meth:`verified_prefix`, and the facts the verifier remembered of that prefix
        (None where it remembered none)."""
        return self._verified_encoded(policy, links, tuple(map(_ENCODED, links)))

    def _verified_encoded(
        self, policy: bytes, links: Sequence[Link], encoded: tuple[bytes, ...]
    ) -> tuple[int, ChainFacts | None]:
        """:meth:`verified_facts`, given the links' exact bytes (``encoded``, one per link:
        the verifier's, which read the links from them; a link the native core made makes
        its envelope only when read)."""
        if len(encoded) != len(links):
            raise UsageError("the bytes of a prefix are its links'")
        with self._lock:
            for end in range(len(encoded), 0, -1):
                key = (policy, links[end - 1].digest)
                entry = self._entries.get(key)
                if entry is not None and entry[0] == encoded[:end]:
                    self._entries.move_to_end(key)
                    return end, entry[2]
        return 0, None

    def add(self, policy: bytes, links: Sequence[Link], *, facts: ChainFacts | None = None) -> None:
        """Record that ``links`` (a whole prefix, from the root) passed V2 under ``policy``;
        the verifier gives the ``facts`` it gathered of them (``_facts.chain_facts``)."""
        self._add_encoded(policy, links, None, facts=facts)

    def _add_encoded(
        self,
        policy: bytes,
        links: Sequence[Link],
        encoded: tuple[bytes, ...] | None,
        *,
        facts: ChainFacts | None = None,
    ) -> None:
        """:meth:`add`, given the links' exact bytes where the caller has them (see
        :meth:`_verified_encoded`); None reads them from the links."""
        if not links:
            return
        if facts is not None and facts.digests != tuple(map(_DIGEST, links)):
            raise UsageError("the facts of a prefix are of its links")
        if encoded is None:
            encoded = tuple(map(_ENCODED, links))
        elif len(encoded) != len(links):
            raise UsageError("the bytes of a prefix are its links'")
        key = (policy, links[-1].digest)
        entry = (encoded, links[-1], facts)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            self._links.setdefault(policy, {})[key[1]] = links[-1]
            while len(self._entries) > self._maxsize:
                (old_policy, old_digest), _ = self._entries.popitem(last=False)
                self._links[old_policy].pop(old_digest, None)
