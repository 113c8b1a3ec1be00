"""The one toolkit for hand-made objects, honest or deliberately broken (private).

Used by the conformance-vector generator (:mod:`agentchain.vectors`), the public
strategies (:mod:`agentchain.testing`), the fuzz harnesses (``fuzz/common.py``) and
the tests (``tests/helpers.py``), so that all four spell a hand-made object the same
way. It sits on the codec and the wire layer, below all of them, and builds what the
issuer refuses to build: raw claim maps signed with any key, non-canonical CBOR heads,
wrong signatures, containers around any bytes, JOSE objects over any JSON spelling.

Nothing here is random: :class:`Rng` is a counter run through SHA-256, and keys come
from seeds (:func:`seeded`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from agentchain import codec
from agentchain.crypto import COSE_ALG, PrivateKey
from agentchain.errors import DecodeError
from agentchain.wire import cbor, cose, jws

__all__ = [
    "Rng",
    "claims_of",
    "container",
    "enc",
    "head",
    "invocation_claims",
    "jose_claims_of",
    "jose_container",
    "jose_parts",
    "jose_resign",
    "pairs",
    "present_raw",
    "raw_jws",
    "raw_map",
    "resign",
    "seeded",
    "sign1_parts",
    "sign_raw",
    "try_decode",
    "try_jose_bytes",
    "try_json",
    "with_signature",
]

#: the nonce of every hand-made invocation unless a caller gives one
NONCE = b"\x07" * 16


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


def seeded(label: str, alg: str) -> PrivateKey:
    """The key whose seed is SHA-256 of ``label`` (callers prefix their own namespace)."""
    return PrivateKey.from_seed(hashlib.sha256(label.encode()).digest(), alg)


# ---------------------------------------------------------------------------
# reading what may be broken: None instead of an error


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


# ---------------------------------------------------------------------------
# CBOR and COSE by hand (spec 5.2 - 5.8)

_HEAD_WIDTHS = {1: 24, 2: 25, 4: 26, 8: 27}
_HEAD_SIZES = (0, 1, 2, 4, 8)
_HEAD_LIMITS = (24, 1 << 8, 1 << 16, 1 << 32, 1 << 64)


def head(major: int, arg: int, width: int | None = None, *, wide: bool = False) -> bytes:
    """A CBOR head. ``width`` (1, 2, 4, 8 bytes) forces the argument's size; ``wide``
    makes it one size longer than the shortest form. Both are non-canonical (spec 5.2)
    unless ``width`` happens to be the shortest."""
    if width is None:
        index = next(i for i, limit in enumerate(_HEAD_LIMITS) if arg < limit)
        width = _HEAD_SIZES[min(index + int(wide), len(_HEAD_SIZES) - 1)]
        if width == 0:
            return bytes([major << 5 | arg])
    return bytes([major << 5 | _HEAD_WIDTHS[width]]) + arg.to_bytes(width, "big")


def enc(value: object) -> bytes:
    """``value`` in deterministic CBOR."""
    return cbor.encode(value)  # type: ignore[arg-type]


def pairs(claims: Mapping[Any, object]) -> list[tuple[bytes, bytes]]:
    """A map's (key bytes, value bytes) pairs in deterministic order."""
    return sorted((enc(k), enc(v)) for k, v in claims.items())


def raw_map(items: Sequence[tuple[bytes, bytes]], map_head: bytes | None = None) -> bytes:
    """A CBOR map of already-encoded pairs, in the order given, under ``map_head``."""
    return (map_head if map_head is not None else head(5, len(items))) + b"".join(
        k + v for k, v in items
    )


def sign_raw(key: PrivateKey, typ: int, payload: bytes, *, protected: bytes | None = None) -> bytes:
    """A COSE_Sign1 over the exact ``payload`` bytes, signed by ``key``."""
    prot = protected if protected is not None else cose.protected_header(COSE_ALG[key.alg], typ)
    return cose.assemble(prot, payload, key.sign(cose.sig_structure(prot, payload)))


def sign1_parts(data: bytes) -> tuple[bytes, bytes, bytes]:
    """(protected, payload, signature) of an honest COSE_Sign1."""
    parts = cbor.decode(data)
    if not (isinstance(parts, list) and len(parts) == 4):
        raise ValueError("not a COSE_Sign1")
    return parts[0], parts[2], parts[3]  # type: ignore[return-value]


def with_signature(data: bytes, signature: bytes) -> bytes:
    """``data`` (a COSE_Sign1) with its signature replaced by ``signature``."""
    protected, payload, _ = sign1_parts(data)
    return cose.assemble(protected, payload, signature)


def claims_of(data: bytes) -> dict[Any, Any]:
    """The exact claim map a COSE_Sign1 carries."""
    payload = cbor.decode(sign1_parts(data)[1])
    if not isinstance(payload, dict):
        raise ValueError("the payload is not a map")
    return dict(payload)


def resign(
    data: bytes,
    signer: PrivateKey,
    changes: Mapping[Any, object] | None = None,
    *,
    drop: Sequence[Any] = (),
    typ: int = codec.TYP_LINK,
) -> bytes:
    """``data``'s exact claims with ``changes`` applied and ``drop`` removed, signed by
    ``signer`` whatever the claims say."""
    claims = claims_of(data)
    claims.update(changes or {})
    for k in drop:
        claims.pop(k, None)
    return codec.sign_object(signer, typ, claims)


def container(
    links: Sequence[bytes],
    invocation: bytes | None = None,
    attestations: Sequence[bytes] = (),
    approvals: Sequence[bytes] = (),
) -> bytes:
    """The presentation container (spec 5.8) around raw signed objects."""
    out: dict[int, object] = {codec.P_VERSION: codec.VERSION, codec.P_LINKS: list(links)}
    if invocation is not None:
        out[codec.P_INVOCATION] = invocation
    if attestations:
        out[codec.P_ATTESTATIONS] = list(attestations)
    if approvals:
        out[codec.P_APPROVALS] = list(approvals)
    return enc(out)


def invocation_claims(
    chain_digest: bytes,
    *,
    audience: str,
    action: str,
    resource: str,
    args: Mapping[str, object] | None = None,
    iat: int,
    nonce: bytes = NONCE,
    encoding: str = "cbor",
    args_digest: bytes | None = None,
    attestation_digests: Sequence[bytes] = (),
    approval_digests: Sequence[bytes] = (),
) -> dict[Any, object]:
    """An invocation's claims exactly as the codec writes them: the CBOR claim map (spec
    5.7), or with ``encoding="jose"`` the JSON claims object (spec/jose.md J.4). With
    ``args_digest``, that digest is sent instead of ``args``; the digests name the
    attachments (spec 5.7)."""
    jose = encoding == "jose"

    def b(data: bytes) -> object:
        return jws.b64encode(data) if jose else data

    k = codec.claim_keys(codec.ENCODINGS[jose], "invocation")
    out: dict[Any, object] = {
        k[codec.I_VERSION]: codec.VERSION,
        k[codec.I_CHAIN]: b(chain_digest),
        k[codec.I_AUDIENCE]: audience,
        k[codec.I_ACTION]: action,
        k[codec.I_RESOURCE]: resource,
        k[codec.I_IAT]: iat,
        k[codec.I_NONCE]: b(nonce),
    }
    if args_digest is not None:
        out[k[codec.I_ARGS_DIGEST]] = b(args_digest)
    else:
        out[k[codec.I_ARGS]] = dict(args or {})
    for key, digests in (
        (codec.I_ATTESTATIONS, attestation_digests),
        (codec.I_APPROVALS, approval_digests),
    ):
        if digests:
            out[k[key]] = [b(d) for d in digests]
    return out


def present_raw(
    links: Sequence[bytes],
    holder: PrivateKey,
    *,
    encoding: str = "cbor",
    chain: bytes | None = None,
    invocation: bytes | None = None,
    attestations: Sequence[bytes] = (),
    approvals: Sequence[bytes] = (),
    **claims: Any,
) -> bytes:
    """The container of raw ``links`` (``encoding``: ``cbor``, or ``jose`` for JWS compacts in
    the JSON container) with an invocation by ``holder`` bound to the last one (or to
    ``chain``; a JOSE digest is over the compact text, spec/jose.md J.6), unless
    ``invocation`` is given. ``claims`` go to :func:`invocation_claims`; unless they say
    otherwise, the invocation names exactly the attachments given (spec 5.7)."""
    if invocation is None:
        claims.setdefault("attestation_digests", [hashlib.sha256(a).digest() for a in attestations])
        claims.setdefault("approval_digests", [hashlib.sha256(a).digest() for a in approvals])
        digest = chain or hashlib.sha256(links[-1]).digest()
        body = invocation_claims(digest, encoding=encoding, **claims)
        if encoding == "jose":
            header = {"alg": holder.alg, "typ": codec.JWT_TYP_INVOCATION}
            invocation = raw_jws(header, body, holder)
        else:
            invocation = codec.sign_object(holder, codec.TYP_INVOCATION, body)
    wrap = jose_container if encoding == "jose" else container
    return wrap(links, invocation, attestations, approvals)


# ---------------------------------------------------------------------------
# JOSE by hand (spec/jose.md): JWS compacts over any bytes, the JSON container


def raw_jws(
    header: Mapping[str, object] | bytes,
    payload: Mapping[str, object] | bytes,
    signer: PrivateKey | None,
    *,
    signature: bytes | None = None,
) -> bytes:
    """A JWS compact over exactly these header and payload bytes (mappings in the one
    JSON spelling, :func:`jws.dumps`), signed by ``signer`` unless ``signature`` is given."""
    h = header if isinstance(header, bytes) else jws.dumps(dict(header))
    p = payload if isinstance(payload, bytes) else jws.dumps(dict(payload))
    signing_input = jws.signing_input(h, p)
    if signature is None:
        if signer is None:
            raise ValueError("raw_jws needs a signer or a signature")
        signature = signer.sign(signing_input)
    return signing_input + b"." + jws.b64encode(signature).encode("ascii")


def jose_parts(compact: bytes) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """(header, payload, signature) of an honest JWS compact."""
    h, p, sig = compact.decode("ascii").split(".")
    header, payload = json.loads(jws.b64decode(h)), json.loads(jws.b64decode(p))
    if not (isinstance(header, dict) and isinstance(payload, dict)):
        raise ValueError("a JOSE header and payload are JSON objects")
    return header, payload, jws.b64decode(sig)


def jose_claims_of(compact: bytes) -> dict[str, Any]:
    """The JSON claims object a JWS compact carries."""
    return jose_parts(compact)[1]


def jose_resign(
    compact: bytes,
    signer: PrivateKey,
    changes: Mapping[str, object] | None = None,
    drop: Sequence[str] = (),
) -> bytes:
    """``compact`` with its payload members changed (or dropped), re-signed by ``signer``."""
    header, payload, _ = jose_parts(compact)
    payload.update(changes or {})
    for name in drop:
        payload.pop(name, None)
    return raw_jws(header, payload, signer)


def jose_container(
    links: Sequence[bytes],
    invocation: bytes | None = None,
    attestations: Sequence[bytes] = (),
    approvals: Sequence[bytes] = (),
    *,
    extra: Mapping[str, object] | None = None,
) -> bytes:
    """The JSON container (spec/jose.md J.6) around raw compact objects; ``extra``
    members are added as they are (unknown or hostile ones)."""
    out: dict[str, object] = {
        "ver": codec.VERSION,
        "links": [link.decode("ascii") for link in links],
    }
    if invocation is not None:
        out["invocation"] = invocation.decode("ascii")
    if attestations:
        out["attestations"] = [a.decode("ascii") for a in attestations]
    if approvals:
        out["approvals"] = [a.decode("ascii") for a in approvals]
    out.update(extra or {})
    return jws.dumps(out)
