"""The protocol's data model and its attenuation rules (spec 4), as pure functions.

Frozen values, no bytes on the wire, no signing: layer 3. Everything that decides
whether authority narrows lives here, so the issuer (which refuses to widen) and
the verifier (which rejects a widening link) share one definition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

from agentchain.errors import DecodeError

# spec 4.1: an action is '/'-separated segments; '*' alone is the universal pattern
_SEGMENT: Final = re.compile(r"[A-Za-z0-9_.:\-]+")
# spec 4.2: resources are URIs, restricted so that no two spellings name one thing
_FORBIDDEN_IN_RESOURCE: Final = re.compile(r"[\x00-\x20\x7f\\]|%2[eEfF]|%5[cC]")
_DIGEST_ALG: Final = re.compile(r"[a-z0-9][a-z0-9\-]{0,31}")
MAX_NAME_CHARS: Final = 256

DescriptorKind = Literal["human", "agent", "tool"]
KINDS: Final = ("human", "agent", "tool")


def check_action(action: str, *, pattern: bool) -> None:
    """Raise DecodeError(schema_invalid) unless ``action`` is well formed (spec 4.1)."""
    if pattern and action == "*":
        return
    if not action or len(action) > MAX_NAME_CHARS:
        raise DecodeError("schema_invalid", f"action must be 1..{MAX_NAME_CHARS} characters")
    for segment in action.split("/"):
        # '.' and '..' would give one action two spellings, or climb out of a grant
        if not _SEGMENT.fullmatch(segment) or segment in (".", ".."):
            raise DecodeError("schema_invalid", f"malformed action {action!r}")


def check_resource(resource: str, *, pattern: bool) -> None:
    """Raise DecodeError(schema_invalid) unless ``resource`` is well formed (spec 4.2).

    Dot segments and percent-encoded '.', '/' and '\\' are refused outright: a
    resource server that normalizes them would otherwise let ``files/a/../b``
    escape a grant on ``files/a/*``.
    """
    if pattern and resource == "*":
        return
    if not resource or len(resource) > 2048:
        raise DecodeError("schema_invalid", "resource must be 1..2048 characters")
    if _FORBIDDEN_IN_RESOURCE.search(resource):
        raise DecodeError("schema_invalid", f"resource {resource!r} has a forbidden character")
    body = resource[:-2] if pattern and resource.endswith("/*") else resource
    if not body or "*" in body:
        raise DecodeError("schema_invalid", f"'*' may only end a resource pattern: {resource!r}")
    scheme, sep, rest = body.partition(":")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", scheme):
        raise DecodeError("schema_invalid", f"resource {resource!r} is not an absolute URI")
    # RFC 3986: a path segment ends at '/', '?' or '#'; '..' before a query still climbs
    if any(segment in (".", "..") for segment in re.split(r"[/?#]", rest)):
        raise DecodeError("schema_invalid", f"resource {resource!r} has a dot segment")


def action_covers(pattern: str, action: str) -> bool:
    """spec 4.1: a pattern covers itself and everything below it at a '/' boundary."""
    if pattern == "*":
        return True
    return action == pattern or action.startswith(pattern + "/")


def resource_covers(pattern: str, resource: str) -> bool:
    """spec 4.2: ``P/*`` covers what lies below P; anything else matches exactly."""
    if pattern == "*":
        return True
    if pattern.endswith("/*"):
        prefix = pattern[:-1]  # keeps the '/': a segment boundary
        return resource.startswith(prefix) and len(resource) > len(prefix)
    return resource == pattern


@dataclass(frozen=True, slots=True)
class Capability:
    """An (action, resource) pattern pair (spec 4.1, 4.2)."""

    action: str
    resource: str

    def __post_init__(self) -> None:
        check_action(self.action, pattern=True)
        check_resource(self.resource, pattern=True)

    def permits(self, action: str, resource: str) -> bool:
        """Whether this grant covers one concrete request."""
        return action_covers(self.action, action) and resource_covers(self.resource, resource)

    def covers(self, other: Capability) -> bool:
        """Whether every request ``other`` permits is permitted by ``self`` (spec 4.3).

        Patterns are compared as patterns: ``*`` is covered only by ``*``, and
        ``P/*`` by a pattern that covers the path ``P/`` followed by anything.
        """
        if self.action != "*" and (
            other.action == "*" or not action_covers(self.action, other.action)
        ):
            return False
        if self.resource == "*":
            return True
        if other.resource == "*":
            return False
        if self.resource.endswith("/*"):
            return resource_covers(self.resource, other.resource)
        return self.resource == other.resource


def capabilities_cover(
    parent: Iterable[Capability], child: Iterable[Capability]
) -> Capability | None:
    """The first child capability no parent capability covers, or None (spec 4.3)."""
    granted = tuple(parent)
    for cap in child:
        if not any(p.covers(cap) for p in granted):
            return cap
    return None


#: the digest set of a descriptor that declares none: one shared read-only view
_NO_DIGESTS: Final[Mapping[str, bytes]] = MappingProxyType({})


def _frozen_digests(value: Mapping[str, bytes]) -> Mapping[str, bytes]:
    if value == {}:  # an empty mapping, of any kind; not None or other falsy non-mappings
        return _NO_DIGESTS
    for alg, digest in value.items():
        if not isinstance(alg, str) or not _DIGEST_ALG.fullmatch(alg):
            raise DecodeError("schema_invalid", f"malformed digest algorithm name {alg!r}")
        if not isinstance(digest, bytes) or not 16 <= len(digest) <= 64:
            raise DecodeError("schema_invalid", f"digest for {alg} must be 16..64 bytes")
    return MappingProxyType(dict(sorted(value.items())))


@dataclass(frozen=True, slots=True)
class Descriptor:
    """What the delegatee is (spec 3.3): its kind, name and *declared* digests.

    Digest sets map an algorithm name (``sha256``) to digest bytes, as in-toto
    DigestSets; two sets agree when some algorithm present in both agrees.
    Declared digests are claims of the delegator; only an attestation proves them.
    """

    kind: DescriptorKind = "agent"
    name: str | None = None
    code: Mapping[str, bytes] = field(default_factory=dict)
    model: str | None = None
    config: Mapping[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DecodeError("schema_invalid", f"descriptor kind must be one of {KINDS}")
        for label, text in (("name", self.name), ("model", self.model)):
            if text is not None and not 1 <= len(text) <= MAX_NAME_CHARS:
                raise DecodeError("schema_invalid", f"descriptor {label} must be 1..256 characters")
        object.__setattr__(self, "code", _frozen_digests(self.code))
        object.__setattr__(self, "config", _frozen_digests(self.config))


def digests_agree(declared: Mapping[str, bytes], other: Mapping[str, bytes]) -> bool | None:
    """in-toto DigestSet matching: True/False where an algorithm is shared, None where none is."""
    shared = declared.keys() & other.keys()
    if not shared:
        return None
    return all(declared[alg] == other[alg] for alg in shared)


@dataclass(frozen=True, slots=True)
class Window:
    """A validity window in whole seconds since the epoch: valid for nbf <= t < exp."""

    nbf: int
    exp: int

    def inside(self, outer: Window) -> bool:
        """spec 4.4: a child's window lies within its parent's."""
        return outer.nbf <= self.nbf and self.exp <= outer.exp
