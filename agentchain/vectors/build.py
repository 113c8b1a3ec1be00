"""Building blocks of the conformance vectors: keys from seeds, honest chains, raw mutations.

Everything is deterministic: keys come from published seeds, the clock is :data:`NOW`,
and the random bytes of ids and nonces come from a counter run through SHA-256. The
expected result of a case is written by hand next to the case (in :mod:`.generate`),
never computed by the verifier: the test suite then checks that the verifier agrees.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from agentchain import codec, model
from agentchain.codec import Presentation
from agentchain.crypto import COSE_ALG, EDDSA, ES256, PrivateKey, PublicKey
from agentchain.errors import DecodeError
from agentchain.issuer import delegate, invoke, issue
from agentchain.limits import DEFAULT_LIMITS
from agentchain.model import Descriptor
from agentchain.wire import cbor, cose, jws

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

    def name_of(self, public: PublicKey) -> str:
        for name, private in self._cache.items():
            if private.public_key == public:
                return name
        raise KeyError("not a vector key")

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


def try_decode(data: bytes) -> object | None:
    """``data`` as deterministic CBOR, or None when it is not (mutated inputs often are not)."""
    try:
        return cbor.decode(data, max_depth=64, max_items=1 << 20, max_string_bytes=1 << 20)
    except DecodeError:
        return None


def try_json(data: bytes) -> object | None:
    """``data`` as JSON, or None when it is not (mutated inputs often are not)."""
    try:
        value: object = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return value


def try_jose_bytes(text: str) -> object:
    """A string of a JOSE object as what it carries: the decoded header and payload of a
    compact, the bytes of a base64url member, or None."""
    if text.count(".") == 2:
        parts = text.split(".")
        try:
            return [try_json(jws.b64decode(p)) for p in parts[:2]]
        except DecodeError:
            return None
    try:
        return jws.b64decode(text)
    except DecodeError:
        return None


class Rng:
    """Counter-based deterministic bytes: SHA-256(label || counter), as many as asked.

    The one source of fixed link ids and nonces for the vectors, the public strategies
    (agentchain.testing), the fuzz seeds and the tests; a text label is its UTF-8 bytes.
    """

    def __init__(self, label: str | bytes = "rng") -> None:
        self._label = label.encode() if isinstance(label, str) else label
        self._counter = 0

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            self._counter += 1
            out += hashlib.sha256(self._label + self._counter.to_bytes(8, "big")).digest()
        return out[:n]


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
) -> tuple[Presentation, PrivateKey]:
    """alice -> h1 -> ... -> h{depth}: a token of ``depth`` links and its final holder.

    ``caveats[i]``, ``descriptors[i]`` and ``require_approval[i]`` go on link ``i``;
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
    )


# ---------------------------------------------------------------------------
# building by hand: raw CBOR, raw COSE, re-signing


def head(major: int, arg: int, width: int | None = None) -> bytes:
    """A CBOR head; ``width`` (1, 2, 4, 8 bytes) forces a possibly non-minimal argument."""
    if width is None:
        if arg < 24:
            return bytes([major << 5 | arg])
        width = 1 if arg < 256 else 2 if arg < 65536 else 4 if arg < 2**32 else 8
    ai = {1: 24, 2: 25, 4: 26, 8: 27}[width]
    return bytes([major << 5 | ai]) + arg.to_bytes(width, "big")


def enc(value: object) -> bytes:
    return cbor.encode(value)  # type: ignore[arg-type]


def pairs(claims: Mapping[Any, object]) -> list[tuple[bytes, bytes]]:
    """A map's (key bytes, value bytes) pairs in deterministic order."""
    items = [(enc(k), enc(v)) for k, v in claims.items()]
    return sorted(items)


def raw_map(items: Sequence[tuple[bytes, bytes]], map_head: bytes | None = None) -> bytes:
    return (map_head if map_head is not None else head(5, len(items))) + b"".join(
        k + v for k, v in items
    )


def sign_raw(key: PrivateKey, typ: str, payload: bytes, *, protected: bytes | None = None) -> bytes:
    """A COSE_Sign1 over the exact ``payload`` bytes, signed by ``key``."""
    prot = protected if protected is not None else cose.protected_header(COSE_ALG[key.alg], typ)
    return cose.assemble(prot, payload, key.sign(cose.sig_structure(prot, payload)))


def sign1_parts(data: bytes) -> tuple[bytes, bytes, bytes]:
    """(protected, payload, signature) of an honest COSE_Sign1."""
    parts = cbor.decode(data)
    assert isinstance(parts, list)
    return parts[0], parts[2], parts[3]  # type: ignore[return-value]


def with_signature(data: bytes, signature: bytes) -> bytes:
    protected, payload, _ = sign1_parts(data)
    return cose.assemble(protected, payload, signature)


def claims_of(data: bytes) -> dict[int, Any]:
    payload = cbor.decode(sign1_parts(data)[1])
    assert isinstance(payload, dict)
    return dict(payload)  # type: ignore[arg-type]


def container(
    links: Sequence[bytes],
    invocation: bytes | None = None,
    attestations: Sequence[bytes] = (),
    approvals: Sequence[bytes] = (),
) -> bytes:
    out: dict[int, object] = {1: 1, 2: list(links)}
    if invocation is not None:
        out[3] = invocation
    if attestations:
        out[4] = list(attestations)
    if approvals:
        out[5] = list(approvals)
    return enc(out)


def invocation_claims(
    chain_digest: bytes,
    *,
    audience: str = AUD,
    action: str = ACTION,
    resource: str = RESOURCE,
    args: Mapping[str, object] | None = None,
    iat: int = NOW,
    nonce: bytes = b"\x07" * 16,
) -> dict[int, object]:
    return {
        1: 1,
        2: chain_digest,
        3: audience,
        4: action,
        5: resource,
        6: dict(args or {}),
        7: iat,
        8: nonce,
    }


def sign_invocation(key: PrivateKey, claims: Mapping[int, object]) -> bytes:
    return codec.sign_object(key, codec.TYP_INVOCATION, dict(claims))


def present_raw(
    links: Sequence[bytes],
    holder: PrivateKey,
    *,
    invocation: bytes | None = None,
    attestations: Sequence[bytes] = (),
    approvals: Sequence[bytes] = (),
    **claims: Any,
) -> bytes:
    """The container of raw ``links`` with an invocation by ``holder`` bound to the last one."""
    if invocation is None:
        digest = claims.pop("chain", None) or hashlib.sha256(links[-1]).digest()
        invocation = sign_invocation(holder, invocation_claims(digest, **claims))
    return container(links, invocation, attestations, approvals)


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


# ---------------------------------------------------------------------------
# building by hand: JWS compact objects and the JSON container (spec/jose.md)


def raw_jws(
    header: Mapping[str, object] | bytes,
    payload: Mapping[str, object] | bytes,
    signer: PrivateKey | None,
    *,
    signature: bytes | None = None,
) -> bytes:
    """A JWS compact over exactly these header and payload bytes (mappings in our JSON
    spelling), signed by ``signer`` unless ``signature`` is given."""
    h = header if isinstance(header, bytes) else jws.dumps(dict(header))
    p = payload if isinstance(payload, bytes) else jws.dumps(dict(payload))
    signing_input = jws.signing_input(h, p)
    if signature is None:
        assert signer is not None
        signature = signer.sign(signing_input)
    return signing_input + b"." + jws.b64encode(signature).encode("ascii")


def jose_parts(compact: bytes) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """(header, payload, signature) of an honest JWS compact."""
    h, p, sig = compact.decode("ascii").split(".")
    header, payload = json.loads(jws.b64decode(h)), json.loads(jws.b64decode(p))
    assert isinstance(header, dict) and isinstance(payload, dict)
    return header, payload, jws.b64decode(sig)


def jose_resign(
    compact: bytes, signer: PrivateKey, changes: Mapping[str, object], drop: Sequence[str] = ()
) -> bytes:
    """``compact`` with its payload members changed (or dropped), re-signed by ``signer``."""
    header, payload, _ = jose_parts(compact)
    payload.update(changes)
    for name in drop:
        payload.pop(name, None)
    return raw_jws(header, payload, signer)


def jose_container(
    links: Sequence[bytes],
    invocation: bytes | None = None,
    attestations: Sequence[bytes] = (),
    approvals: Sequence[bytes] = (),
) -> bytes:
    """The JSON container (spec/jose.md J.6) around raw compact objects."""
    out: dict[str, object] = {"ver": 1, "links": [link.decode("ascii") for link in links]}
    if invocation is not None:
        out["invocation"] = invocation.decode("ascii")
    if attestations:
        out["attestations"] = [a.decode("ascii") for a in attestations]
    if approvals:
        out["approvals"] = [a.decode("ascii") for a in approvals]
    return jws.dumps(out)


def jose_invocation_claims(
    chain_digest: bytes,
    *,
    audience: str = AUD,
    action: str = ACTION,
    resource: str = RESOURCE,
    args: Mapping[str, object] | None = None,
    iat: int = NOW,
    nonce: bytes = b"\x07" * 16,
) -> dict[str, object]:
    return {
        "ver": 1,
        "chn": jws.b64encode(chain_digest),
        "aud": audience,
        "act": action,
        "res": resource,
        "arg": dict(args or {}),
        "iat": iat,
        "jti": jws.b64encode(nonce),
    }


def jose_present_raw(
    links: Sequence[bytes],
    holder: PrivateKey,
    *,
    invocation: bytes | None = None,
    attestations: Sequence[bytes] = (),
    approvals: Sequence[bytes] = (),
    **claims: Any,
) -> bytes:
    """The JSON container of raw ``links`` with a JOSE invocation by ``holder`` bound to the
    last one (its digest is over the compact text, spec/jose.md J.6)."""
    if invocation is None:
        digest = claims.pop("chain", None) or hashlib.sha256(links[-1]).digest()
        invocation = raw_jws(
            {"alg": holder.alg, "typ": codec.JWT_TYP_INVOCATION},
            jose_invocation_claims(digest, **claims),
            holder,
        )
    return jose_container(links, invocation, attestations, approvals)
