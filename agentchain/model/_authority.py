"""The protocol's data model and its attenuation rules (spec 4), as pure functions.

Frozen values, no bytes on the wire, no signing: layer 3. Everything that decides
whether authority narrows lives here, so the issuer (which refuses to widen) and
the verifier (which rejects a widening link) share one definition.
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

from agentchain._frozen import slot_init
from agentchain.errors import DecodeError

# spec 4.1: an action is '/'-separated segments; '*' alone is the universal pattern
_SEGMENT: Final = re.compile(r"[A-Za-z0-9_.:\-]+")
# spec 4.2: resources are URIs in one normal form
MAX_RESOURCE_CHARS: Final = 2048
_UNRESERVED: Final = frozenset(string.ascii_letters + string.digits + "-._~")
_URI_CHARS: Final = _UNRESERVED | frozenset(":/?#[]@!$&'()*+,;=%")
#: the same set as one expression, to judge a whole string in one call (the loop below names
#: the first character outside it)
_URI_TEXT: Final = re.compile("[" + re.escape("".join(sorted(_URI_CHARS))) + "]*")
_HEX_UPPER: Final = frozenset("0123456789ABCDEF")
#: escapes a second decoding or a path-parameter parser would turn into structure
_NEVER_ESCAPED: Final = frozenset("%/\\;")
_SCHEME: Final = re.compile(r"[a-z][a-z0-9+.\-]*")
_ESCAPE: Final = re.compile(r"%[0-9A-F]{2}")
_SEGMENT_END: Final = re.compile(r"[/?#]")
_DIGEST_ALG: Final = re.compile(r"[a-z0-9][a-z0-9\-]{0,31}")
MAX_NAME_CHARS: Final = 256

DescriptorKind = Literal["human", "agent", "tool"]
KINDS: Final = ("human", "agent", "tool")


def check_action(action: str, *, pattern: bool) -> None:
    """Raise DecodeError(schema_invalid) unless ``action`` is well formed (spec 4.1).

    A well-formed action is remembered, as a resource in normal form is (see
    :func:`check_resource`): every invocation and every request names one again.
    """
    if type(action) is str:
        _check_action_once(action, pattern)  # returns only for well-formed actions
    else:
        _check_action(action, pattern=pattern)


@functools.lru_cache(maxsize=4096)
def _check_action_once(action: str, pattern: bool) -> None:
    _check_action(action, pattern=pattern)


def _check_action(action: str, *, pattern: bool) -> None:
    if pattern and action == "*":
        return
    if not action or len(action) > MAX_NAME_CHARS:
        raise DecodeError("schema_invalid", f"action must be 1..{MAX_NAME_CHARS} characters")
    for segment in action.split("/"):
        # '.' and '..' would give one action two spellings, or climb out of a grant
        if not _SEGMENT.fullmatch(segment) or segment in (".", ".."):
            raise DecodeError("schema_invalid", f"malformed action {action!r}")


def _not_normal(resource: str, why: str) -> DecodeError:
    shown = resource if len(resource) <= 80 else resource[:79] + "…"
    return DecodeError("resource_invalid", f"resource {shown!r} {why}")


def check_resource(resource: str, *, pattern: bool) -> None:
    """Raise DecodeError(resource_invalid) unless ``resource`` is in normal form (spec 4.2).

    A resource found in normal form is remembered (a bounded cache keyed by the string and
    ``pattern``: the answer is a pure function of them), since a verifier meets the same
    resources again on every request: in the invocation, the request and the grants.
    """
    if type(resource) is str:
        _check_resource_once(resource, pattern)  # returns only for normal forms: remembered
    else:
        _check_resource(resource, pattern=pattern)


@functools.lru_cache(maxsize=4096)
def _check_resource_once(resource: str, pattern: bool) -> None:
    _check_resource(resource, pattern=pattern)


def _check_resource(resource: str, *, pattern: bool) -> None:
    """Raise DecodeError(resource_invalid) unless ``resource`` is in normal form (spec 4.2).

    One normal form (RFC 3986 section 6.2.2 syntax-based normalization, made strict):
    ASCII URI characters only, a lower-case scheme and authority, escapes in upper-case
    hex that are needed (never of an unreserved character), no escape a second decoding
    or a path-parameter parser could turn into structure (``%25``, ``%2F``, ``%5C``,
    ``%3B``, controls), escaped UTF-8 only when valid and NFKC-stable, no ``;`` in the
    path, no empty inner path segment, and no segment of dots and spaces only (segments
    end at ``/``, ``?`` and ``#``). A spelling that is refused can never be normalized by
    a resource server into a path outside a grant.
    """
    if pattern and resource == "*":
        return
    if not isinstance(resource, str) or not 1 <= len(resource) <= MAX_RESOURCE_CHARS:
        raise DecodeError(
            "resource_invalid", f"resource must be 1..{MAX_RESOURCE_CHARS} characters"
        )
    body = resource[:-2] if pattern and resource.endswith("/*") else resource
    # R-4.2-1: the characters of RFC 3986, and nothing else
    if not _URI_TEXT.fullmatch(body):
        for char in body:
            if char not in _URI_CHARS:
                raise _not_normal(resource, f"holds {char!r}, which is not a URI character")
    if not body or "*" in body:
        raise _not_normal(resource, "has a '*' that does not end a pattern as '/*'")
    scheme, _sep, rest = body.partition(":")
    if not _SCHEME.fullmatch(scheme) or not _sep:
        raise _not_normal(resource, "does not start with a lower-case scheme and ':'")
    # R-4.2-3: escapes
    _check_escapes(resource, body)
    # R-4.2-6: the authority in lower case; brackets only there (IP literals)
    path_start = 0
    if rest.startswith("//"):
        end = _first_of(rest, "/?#", 2)
        authority = _ESCAPE.sub("", rest[2:end])
        if authority != authority.lower():
            raise _not_normal(resource, "has upper-case letters in its authority")
        path_start = end
    path_end = _first_of(rest, "?#", path_start)
    if "[" in rest[path_start:] or "]" in rest[path_start:]:
        raise _not_normal(resource, "has '[' or ']' outside its authority")
    path = rest[path_start:path_end]
    # R-4.2-7: no path parameters, no empty inner segments
    if ";" in path:
        raise _not_normal(resource, "has ';' in its path (a path parameter to some servers)")
    inner = path[1:].split("/")[:-1] if path.startswith("/") else path.split("/")[:-1]
    if "" in inner:
        raise _not_normal(resource, "has an empty path segment ('//')")
    # R-4.2-2: no dot segment, anywhere: segments end at '/', '?' and '#'
    for segment in _SEGMENT_END.split(rest):
        spaced = segment.replace("%20", " ")
        if "." in spaced and not spaced.strip(". "):
            raise _not_normal(resource, f"has the dot segment {segment!r}")


def _first_of(text: str, chars: str, start: int) -> int:
    """The index of the first of ``chars`` in ``text`` from ``start``, or ``len(text)``."""
    found = [i for i in (text.find(c, start) for c in chars) if i >= 0]
    return min(found, default=len(text))


def _check_escapes(resource: str, body: str) -> None:
    """R-4.2-3: every '%' starts an escape that normalization would keep, and keeps safe."""
    run = bytearray()  # the octets of consecutive escapes of non-ASCII
    run_end = -1
    pos = body.find("%")
    while pos >= 0:
        code = body[pos + 1 : pos + 3]
        if len(code) != 2 or not set(code) <= _HEX_UPPER:
            raise _not_normal(resource, f"has a '%' at {pos} without two upper-case hex digits")
        octet = int(code, 16)
        if run and pos != run_end:  # the run of non-ASCII escapes ended before this one
            _check_text(resource, bytes(run))
            run.clear()
        if octet >= 0x80:
            run.append(octet)
            run_end = pos + 3
        elif (char := chr(octet)) in _UNRESERVED:
            raise _not_normal(resource, f"escapes the unreserved {char!r}")
        elif char in _NEVER_ESCAPED or octet < 0x20 or octet == 0x7F:
            raise _not_normal(
                resource, f"escapes {char!r}, which a decoder may turn into structure"
            )
        pos = body.find("%", pos + 3)
    if run:
        _check_text(resource, bytes(run))


def _check_text(resource: str, octets: bytes) -> None:
    """Escaped non-ASCII: strict UTF-8 (no overlong form), NFKC-stable, no control or
    format character, so that no Unicode normalization turns it into '.' or '/'."""
    try:
        text = octets.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_normal(resource, "escapes octets that are not UTF-8") from None
    if unicodedata.normalize("NFKC", text) != text:
        raise _not_normal(resource, "escapes text that Unicode normalization (NFKC) changes")
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in text):
        raise _not_normal(resource, "escapes a control or format character")


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


@slot_init
@dataclass(frozen=True, slots=True)
class Window:
    """A validity window in whole seconds since the epoch: valid for nbf <= t < exp."""

    nbf: int
    exp: int

    def inside(self, outer: Window) -> bool:
        """spec 4.4: a child's window lies within its parent's."""
        return outer.nbf <= self.nbf and self.exp <= outer.exp
