"""Building blocks of the conformance vectors: keys from seeds, honest chains, raw mutations.

Everything is deterministic: keys come from published seeds, the clock is :data:`NOW`,
and the random bytes of ids and nonces come from a counter run through SHA-256. The
expected result of a case is written by hand next to the case (in :mod:`.generate`),
never computed by the verifier: the test suite then checks that the verifier agrees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from agentchain import _build, codec, model
from agentchain._build import Rng, try_decode, try_jose_bytes, try_json
from agentchain.codec import Presentation
from agentchain.crypto import EDDSA, ES256, PrivateKey
from agentchain.issuer import delegate, invoke, issue
from agentchain.limits import DEFAULT_LIMITS
from agentchain.model import Descriptor

#: the fixed clock of every vector: 2027-01-15T08:00:00Z
NOW: Final = 1_800_000_000
AUD: Final = "https://cal.example"
CAL: Final = "https://cal.example/alice"
ACTION: Final = "calendar/events/read"
RESOURCE: Final = CAL + "/work/standup"
ENCODINGS: Final = ("cbor", "jose")
POLICY_DEFAULTS: Final[dict[str, int]] = {
    "clock_skew": 60,
    "max_ttl": 86_400,
    "invocation_window": 300,
    "max_attachment_ttl": 3_600,
}
ALG_SUFFIX: Final = {EDDSA: "", ES256: "-es256"}


def seed(name: str) -> bytes:
    """The published seed of a named vector key: SHA-256 of ``agentchain/vectors/`` + name."""
    return hashlib.sha256(b"agentchain/vectors/" + name.encode()).digest()


class KeyRing:
    """Named keys derived from seeds; records which ones the case being built uses."""

    def __init__(self) -> None:
        self._cache: dict[str, PrivateKey] = {}
        self.used: dict[str, str] = {}

    def __call__(self, base: str, alg: str = EDDSA) -> PrivateKey:
        name = base + ALG_SUFFIX[alg]
        if name not in self._cache:
            self._cache[name] = PrivateKey.from_seed(seed(name), alg)
        self.used[name] = alg
        return self._cache[name]

    def named(self, name: str) -> PrivateKey:
        """The key called ``name`` (``alice``, ``alice-es256``)."""
        if name.endswith(ALG_SUFFIX[ES256]):
            return self(name[: -len(ALG_SUFFIX[ES256])], ES256)
        return self(name, EDDSA)

    def mentioned_in(self, data: bytes) -> None:
        """Record every known key whose thumbprint or public bytes ``data`` carries, nested."""
        known: dict[bytes, str] = {}
        for name, private in self._cache.items():
            known[private.public_key.thumbprint] = name
            known[private.public_key.raw()[:33][-32:]] = name  # Ed25519 raw, or P-256 x
        pending: list[tuple[object, int]] = [(data, 0)]
        while pending:
            value, depth = pending.pop()
            if isinstance(value, str):
                carried = try_jose_bytes(value)
                if isinstance(carried, bytes) and carried in known:
                    self.named(known[carried])
                elif isinstance(carried, list):
                    pending.extend((v, depth + 1) for v in carried)
            elif isinstance(value, bytes) and value[:1] == b"{":
                pending.append((try_json(value), depth + 1))
            elif isinstance(value, bytes):
                if value in known:
                    self.named(known[value])
                inner = try_decode(value) if depth < 6 and len(value) > 1 else None
                if inner is not None:
                    pending.append((inner, depth + 1))
            elif isinstance(value, dict):
                pending.extend((v, depth) for v in value.values())
            elif isinstance(value, list):
                pending.extend((v, depth) for v in value)

    def describe(self) -> dict[str, dict[str, str]]:
        out = {}
        for name in sorted(self.used):
            private = self._cache[name]
            out[name] = {
                "alg": self.used[name],
                "seed": seed(name).hex(),
                "kid": private.public_key.kid,
                "thumbprint": private.public_key.thumbprint.hex(),
            }
        return out


KEYS = KeyRing()


# ---------------------------------------------------------------------------
# honest building through the public API


def chain(
    depth: int,
    *,
    alg: str = EDDSA,
    encoding: str = "cbor",
    caps: Sequence[tuple[str, str]] = (("calendar", CAL + "/*"),),
    sub_caps: Sequence[tuple[str, str]] | None = None,
    caveats: Sequence[Sequence[object]] = (),
    ttl: int = 3600,
    now: int = NOW,
    label: str = "chain",
    holder_algs: Sequence[str] | None = None,
    descriptors: Sequence[Descriptor] = (),
    require_approval: Sequence[Sequence[model.ApprovalRequirement]] = (),
    usage: Sequence[model.Usage | None] = (),
) -> tuple[Presentation, PrivateKey]:
    """alice -> h1 -> ... -> h{depth}: a token of ``depth`` links and its final holder.

    ``caveats[i]``, ``descriptors[i]``, ``require_approval[i]`` and ``usage[i]`` go on link ``i``;
    ``holder_algs[i]`` is the algorithm of link ``i``'s holder (default ``alg``).
    ``encoding`` names the wire encoding of the whole chain: ``cbor`` or ``jose``.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding {encoding!r} is not built yet")
    rng = Rng(label)
    algs = list(holder_algs) if holder_algs is not None else [alg] * depth
    holders = [KEYS(f"h{i + 1}", algs[i]) for i in range(depth)]
    root = KEYS("alice", alg)

    def extra(seq: Sequence[Any], i: int, default: Any) -> Any:
        return seq[i] if i < len(seq) else default

    token = issue(
        root,
        holders[0].public_key,
        capabilities=caps,
        ttl=ttl,
        depth=depth - 1,
        caveats=extra(caveats, 0, ()),
        descriptor=extra(
            descriptors, 0, Descriptor(kind="agent", name="https://agents.example/h1")
        ),
        require_approval=extra(require_approval, 0, ()),
        usage=extra(usage, 0, None),
        now=now,
        rng=rng,
        encoding="jose" if encoding == "jose" else "cbor",
    )
    for i in range(1, depth):
        token = delegate(
            token,
            holders[i - 1],
            holders[i].public_key,
            capabilities=sub_caps or caps,
            ttl=ttl,
            depth=depth - 1 - i,
            caveats=extra(caveats, i, ()),
            descriptor=extra(
                descriptors, i, Descriptor(kind="agent", name=f"https://agents.example/h{i + 1}")
            ),
            require_approval=extra(require_approval, i, ()),
            usage=extra(usage, i, None),
            now=now,
            rng=rng,
        )
    return token, holders[-1]


def present(
    token: Presentation,
    holder: PrivateKey,
    *,
    action: str = ACTION,
    resource: str = RESOURCE,
    args: Mapping[str, object] | None = None,
    audience: str = AUD,
    now: int = NOW,
    label: str = "invocation",
    attestations: Iterable[codec.Attestation] = (),
    approvals: Iterable[codec.Approval] = (),
) -> Presentation:
    return invoke(
        token,
        holder,
        audience=audience,
        action=action,
        resource=resource,
        args=args,
        now=now,
        rng=Rng(label),
        attestations=attestations,
        approvals=approvals,
        limits=DEFAULT_LIMITS,
        allow_expired=True,  # the time cases invoke at and beyond a link's exp on purpose
    )


# ---------------------------------------------------------------------------
# building by hand (agentchain._build) with the vectors' request and clock as defaults

#: the invocation claims of every hand-made vector invocation unless a case says otherwise
REQUEST_DEFAULTS: Final[dict[str, Any]] = {
    "audience": AUD,
    "action": ACTION,
    "resource": RESOURCE,
    "iat": NOW,
}


def invocation_claims(chain_digest: bytes, **claims: Any) -> dict[int, object]:
    return _build.invocation_claims(chain_digest, **(REQUEST_DEFAULTS | claims))


def sign_invocation(key: PrivateKey, claims: Mapping[int, object]) -> bytes:
    return codec.sign_object(key, codec.TYP_INVOCATION, dict(claims))


def present_raw(links: Sequence[bytes], holder: PrivateKey, **kw: Any) -> bytes:
    """The container of raw ``links`` with an invocation by ``holder`` bound to the last one."""
    return _build.present_raw(links, holder, **(REQUEST_DEFAULTS | kw))


def jose_present_raw(links: Sequence[bytes], holder: PrivateKey, **kw: Any) -> bytes:
    """The JSON container of raw ``links`` with a JOSE invocation by ``holder``."""
    return present_raw(links, holder, encoding="jose", **kw)


def encoded_links(token: Presentation) -> list[bytes]:
    return [link.encoded for link in token.links]


@dataclass(frozen=True)
class Built:
    """One presentation as a case step carries it: text is authoritative, bytes for debugging."""

    text: str
    data: bytes | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, value: Built | Presentation | bytes | str) -> Built:
        """A presentation object, container bytes (a JSON object is JOSE, anything else
        CBOR: the text form takes the matching prefix), a text given as is, or a Built."""
        if isinstance(value, Built):
            return value
        if isinstance(value, Presentation):
            return cls(value.to_text(), value.to_bytes())
        if isinstance(value, bytes):
            prefix = codec.TEXT_PREFIX_JOSE if value[:1] == b"{" else codec.TEXT_PREFIX_CBOR
            return cls(prefix + codec.b64encode(value), value)
        return cls(value, None)
