"""Public and private keys, each bound to one algorithm of the registry (spec 3.2, 3.3).

A key carries its :class:`~agentchain.crypto._algorithm.Algorithm` and only that
algorithm ever touches it, so a key of one kind cannot be used under another
algorithm ("key confusion", RFC 8725 sections 2.1 and 3.1). Nothing here branches
on an algorithm's name: the algorithm objects know their key types, encodings and
strict-verification rules.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping
from typing import Any, Final, NoReturn

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from agentchain.crypto._algorithm import (
    BACKEND_PRIVATE_TYPES,
    Algorithm,
    BackendPrivateKey,
    Verify,
    b64u_decode,
    b64u_encode,
)
from agentchain.crypto._algorithm import show as _show
from agentchain.crypto._registry import (
    COSE_KTYS,
    EDDSA,
    REGISTRY,
    algorithm,
    by_cose_key,
    by_jwk,
    jwk_curve_of,
)
from agentchain.errors import InvalidKey, SignatureError

# --------------------------------------------------------------------------
# JWK parsing, shared by the public and private importers

_JWK_OPTIONAL: Final = frozenset({"kid", "alg", "use", "key_ops"})


def _parse_jwk(jwk: object, *, private: bool) -> tuple[Algorithm, bytes, bytes | None]:
    """Check a JWK and return (alg, raw public key, private part ``d`` or None).

    The key type is found first, so an RSA, oct or Ed448 JWK is reported as
    ``alg_not_allowed`` and not as a malformed key. After that the JWK must have
    exactly the members RFC 8037 section 2 / RFC 7518 section 6.2 define, plus
    optional members that must agree with the key:

    * ``alg``: must be the key's algorithm (``EdDSA`` or ``ES256``), else
      ``alg_not_allowed``. A key is never usable under a second algorithm.
    * ``use``: must be ``"sig"``.
    * ``key_ops``: a list without duplicates. For a public key it must be
      ``["verify"]``. For a private key it must include ``"sign"`` and only
      ``"sign"`` and ``"verify"``.
    * ``kid``: a string, checked by the caller against the RFC 7638 thumbprint,
      because the library identifies keys by thumbprint only.

    Any other member is refused with ``key_invalid``. So is ``d`` when a public
    key is expected: a private key passed where a public one belongs is a caller
    mistake that could leak it.
    """
    if not isinstance(jwk, Mapping):
        raise InvalidKey("key_invalid", "a JWK must be a JSON object (a mapping)")
    if not all(isinstance(name, str) for name in jwk):
        raise InvalidKey("key_invalid", "JWK member names must be strings")
    kty = jwk.get("kty")
    crv = jwk.get("crv")
    if not isinstance(kty, str):
        raise InvalidKey("key_invalid", "JWK member 'kty' is missing or not a string")
    curve = jwk_curve_of(kty)
    if curve is None:
        raise InvalidKey("alg_not_allowed", f"JWK key type {_show(kty)} is not allowed")
    if not isinstance(crv, str):
        raise InvalidKey("key_invalid", "JWK member 'crv' is missing or not a string")
    alg = by_jwk(kty, crv) if crv == curve else None
    if alg is None:
        raise InvalidKey("alg_not_allowed", f"JWK curve {kty}/{_show(crv)} is not allowed")
    required = {"kty", "crv", *alg.coordinates}
    if "alg" in jwk and not (isinstance(jwk["alg"], str) and jwk["alg"] == alg.name):
        raise InvalidKey(
            "alg_not_allowed", f"JWK 'alg' {_show(jwk['alg'])} is not bound to a {crv} key"
        )
    if private:
        required.add("d")
    elif "d" in jwk:
        raise InvalidKey("key_invalid", "a private JWK (member 'd') where a public key belongs")
    names = set(jwk)
    if missing := required - names:
        raise InvalidKey("key_invalid", f"JWK lacks member(s) {sorted(missing)}")
    if unknown := names - required - _JWK_OPTIONAL:
        raise InvalidKey(
            "key_invalid",
            f"JWK has unknown member(s) {', '.join(_show(n) for n in sorted(unknown)[:5])}",
        )
    if "use" in jwk and jwk["use"] != "sig":
        raise InvalidKey("key_invalid", f"JWK 'use' {_show(jwk['use'])} is not 'sig'")
    if "key_ops" in jwk:
        ops = jwk["key_ops"]
        allowed = {"sign", "verify"} if private else {"verify"}
        needed = "sign" if private else "verify"
        if (
            not isinstance(ops, list | tuple)
            or not all(isinstance(op, str) for op in ops)
            or len(set(ops)) != len(ops)
            or not set(ops) <= allowed
            or needed not in ops
        ):
            raise InvalidKey("key_invalid", f"JWK 'key_ops' {_show(ops)} does not fit the key")
    if "kid" in jwk and not isinstance(jwk["kid"], str):
        raise InvalidKey("key_invalid", "JWK member 'kid' must be a string")
    raw = alg.join(tuple(b64u_decode(jwk[m], 32, m) for m in alg.coordinates))
    d = b64u_decode(jwk["d"], 32, "d") if private else None
    return alg, raw, d


def _check_kid(jwk: Mapping[str, object], public: PublicKey) -> None:
    kid = jwk.get("kid")
    if kid is not None and kid != public.kid:
        raise InvalidKey(
            "key_invalid", f"JWK 'kid' {_show(kid)} is not the key's RFC 7638 thumbprint"
        )


# --------------------------------------------------------------------------
# Keys


class PublicKey:
    """A validated public key bound to one algorithm. Immutable and hashable.

    ``PublicKey(alg, raw)`` imports the raw form (see :meth:`raw`). So do
    :meth:`from_jwk`, :meth:`from_pem` and :meth:`from_cose_key`. Every import
    validates, or raises :class:`~agentchain.errors.InvalidKey` (``key_invalid``
    or ``alg_not_allowed``). A PublicKey that exists is always a valid key.

    Equality and hash are by (alg, raw bytes).
    """

    __slots__ = ("_algorithm", "_key", "_raw", "_verifier", "alg", "kid", "thumbprint")

    #: ``"Ed25519"`` or ``"ES256"``.
    alg: str
    #: RFC 7638 JWK thumbprint (SHA-256), base64url without padding.
    kid: str
    #: The same thumbprint, as its 32 raw bytes.
    thumbprint: bytes
    _algorithm: Algorithm
    _raw: bytes
    #: the ``cryptography`` object, for ES256 (EdDSA verifies with libsodium: None)
    _key: Any
    _verifier: Verify

    def __init__(self, alg: str, raw: bytes) -> None:
        """Import a raw key. For EdDSA, the 32-byte RFC 8032 encoding. For ES256,
        the 65-byte uncompressed SEC 1 point ``0x04 || x || y``."""
        algo = algorithm(alg)
        if not isinstance(raw, bytes):
            raise InvalidKey("key_invalid", "a raw public key must be bytes")
        raw = bytes(raw)  # a plain bytes object, whatever subclass came in
        key, verifier = algo.import_public(raw)
        members = {"crv": algo.jwk_crv, "kty": algo.jwk_kty}
        members.update(zip(algo.coordinates, map(b64u_encode, algo.split(raw)), strict=True))
        jwk_core = "{" + ",".join(f'"{n}":"{v}"' for n, v in sorted(members.items())) + "}"
        # RFC 7638 section 3: the required members only, sorted, no whitespace, UTF-8.
        thumbprint = hashlib.sha256(jwk_core.encode("ascii")).digest()
        object.__setattr__(self, "alg", algo.name)
        object.__setattr__(self, "_algorithm", algo)
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_verifier", verifier)
        object.__setattr__(self, "thumbprint", thumbprint)
        object.__setattr__(self, "kid", b64u_encode(thumbprint))

    @property
    def algorithm(self) -> Algorithm:
        """The registry's algorithm object this key is bound to."""
        return self._algorithm

    # -- verification (hot path)

    def verify(self, signature: bytes, message: bytes) -> None:
        """Return None if ``signature`` is valid for ``message``, else raise.

        Raises :class:`~agentchain.errors.SignatureError`. The code is
        ``signature_malformed`` when the signature breaks the encoding rules
        (see the module docstring). Those are checked here, whatever the backend
        would say. The code is ``signature_invalid`` when a well-formed signature
        does not verify. There is no boolean to forget to check.
        """
        if not isinstance(signature, bytes) or len(signature) != 64:
            raise SignatureError(
                "signature_malformed",
                f"a {self.alg} signature is 64 bytes"
                + (f", not {len(signature)}" if isinstance(signature, bytes) else ""),
            )
        self._algorithm.check_signature(signature)
        if not self._verifier(signature, message):
            raise SignatureError("signature_invalid", f"{self.alg} signature does not verify")

    # -- export

    def raw(self) -> bytes:
        """EdDSA: the 32-byte RFC 8032 encoding. ES256: the 65-byte ``04 || x || y``."""
        return self._raw

    def to_jwk(self) -> dict[str, str]:
        """The public JWK (RFC 8037 / RFC 7518 section 6.2) with ``alg`` and ``kid``.

        ``alg`` binds the key to its one algorithm for other JOSE libraries. ``kid``
        is the thumbprint. :meth:`from_jwk` accepts both back, and checks them.
        """
        algo = self._algorithm
        jwk = {"kty": algo.jwk_kty, "crv": algo.jwk_crv}
        jwk.update(zip(algo.coordinates, map(b64u_encode, algo.split(self._raw)), strict=True))
        jwk["alg"] = self.alg
        jwk["kid"] = self.kid
        return jwk

    def to_pem(self) -> bytes:
        """SubjectPublicKeyInfo in PEM (RFC 8410 for Ed25519, RFC 5480 for P-256)."""
        key = self._key or self._algorithm.backend_public(self._raw)
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def to_cose_key(self) -> dict[int, int | bytes]:
        """The COSE_Key map (RFC 9052 section 7, RFC 9053 section 7).

        OKP ``{1: 1, -1: 6, -2: x}``, or EC2 ``{1: 2, -1: 1, -2: x, -3: y}``.
        """
        algo = self._algorithm
        out: dict[int, int | bytes] = {1: algo.cose_kty, -1: algo.cose_crv}
        out.update(zip((-2, -3), algo.split(self._raw), strict=False))
        return out

    # -- import

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, object]) -> PublicKey:
        """Import a public JWK. See :func:`_parse_jwk` for the exact member rules.

        The members ``alg``, ``use``, ``key_ops`` and ``kid`` are optional, but
        if present they must agree with the key (``kid`` must equal the thumbprint).
        """
        alg, raw, _ = _parse_jwk(jwk, private=False)
        # remembered by its bytes, as from_cose_key does (a subclass gets its own object)
        key = _imported(alg.name, raw) if cls is PublicKey else cls(alg.name, raw)
        _check_kid(jwk, key)
        return key

    @classmethod
    def from_pem(cls, pem: bytes) -> PublicKey:
        """Import a SubjectPublicKeyInfo PEM of an Ed25519 or P-256 key."""
        if not isinstance(pem, bytes):
            raise InvalidKey("key_invalid", "PEM input must be bytes")
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise InvalidKey("key_invalid", "not a PEM SubjectPublicKeyInfo") from None
        for algo in REGISTRY.values():
            if (raw := algo.raw_of_backend(key)) is not None:
                return cls(algo.name, raw)
        raise InvalidKey("alg_not_allowed", f"PEM key type {type(key).__name__} is not allowed")

    @classmethod
    def from_cose_key(cls, key: Mapping[int, object]) -> PublicKey:
        """Import a COSE_Key with exactly the labels :meth:`to_cose_key` writes.

        Strict. ``alg`` (3), ``kid`` (2), ``key_ops`` (4), private ``d`` (-4) and
        compressed points (a boolean -3) are all refused with ``key_invalid``.
        Coordinates must be exactly 32 bytes. An RSA or symmetric kty, or a curve
        other than Ed25519 or P-256, is ``alg_not_allowed``.
        """
        if not isinstance(key, Mapping):
            raise InvalidKey("key_invalid", "a COSE_Key must be a map")
        # type() and not isinstance(): True == 1 in Python, so a bool label would
        # otherwise pass as kty.
        if not all(type(label) is int for label in key):
            raise InvalidKey("key_invalid", "COSE_Key labels must be integers")
        kty = key.get(1)
        crv = key.get(-1)
        if type(kty) is not int:
            raise InvalidKey("key_invalid", "COSE_Key kty (1) is missing or not an integer")
        if kty not in COSE_KTYS:  # 1 = OKP, 2 = EC2 (RFC 9053 section 7)
            raise InvalidKey("alg_not_allowed", f"COSE_Key kty {_show(kty)} is not allowed")
        if type(crv) is not int:
            raise InvalidKey("key_invalid", "COSE_Key crv (-1) is missing or not an integer")
        # Ed25519 is OKP curve 6, P-256 is EC2 curve 1 (RFC 9053 section 7.1).
        algo = by_cose_key(kty, crv)
        if algo is None:
            raise InvalidKey(
                "alg_not_allowed", f"COSE_Key kty {kty} curve {_show(crv)} is not allowed"
            )
        labels = (-2, -3)[: len(algo.coordinates)]  # x, then y
        if set(key) != {1, -1, *labels}:
            raise InvalidKey(
                "key_invalid", f"COSE_Key labels must be exactly {sorted({1, -1, *labels})}"
            )
        coords = []
        for label in labels:
            c = key[label]
            if not isinstance(c, bytes) or len(c) != 32:
                raise InvalidKey("key_invalid", f"COSE_Key label {label} must be 32 bytes")
            coords.append(bytes(c))
        return _imported(algo.name, algo.join(tuple(coords)))

    # -- value semantics

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKey):
            return NotImplemented
        return self.alg == other.alg and self._raw == other._raw

    def __hash__(self) -> int:
        return hash((self.alg, self._raw))

    def __repr__(self) -> str:
        return f"PublicKey(alg={self.alg!r}, kid={self.kid!r})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"PublicKey is immutable (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"PublicKey is immutable (cannot delete {name!r})")

    def __reduce__(self) -> tuple[type[PublicKey], tuple[str, bytes]]:
        # Unpickling goes through __init__, so it validates again.
        return (PublicKey, (self.alg, self._raw))

    def __copy__(self) -> PublicKey:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> PublicKey:
        return self


class PrivateKey:
    """A signing key bound to one algorithm. Immutable.

    Build one with :meth:`generate`, :meth:`from_seed`, :meth:`from_jwk` or
    :meth:`from_pem`, or wrap a ``cryptography`` Ed25519 or P-256 private key
    with ``PrivateKey(key)``. Its repr never shows secret material. It cannot be
    pickled: export it with :meth:`to_pem` or :meth:`to_jwk` on purpose.
    """

    __slots__ = ("_algorithm", "_key", "_private_bytes", "_sign", "alg", "public_key")

    alg: str
    public_key: PublicKey
    _algorithm: Algorithm
    _key: BackendPrivateKey
    _sign: Callable[[bytes], bytes]
    _private_bytes: Callable[[], bytes]

    def __init__(self, key: BackendPrivateKey) -> None:
        for algo in REGISTRY.values():
            if (adopted := algo.adopt(key)) is not None:
                break
        else:
            raise InvalidKey("alg_not_allowed", f"key type {type(key).__name__} is not allowed")
        raw, sign, private_bytes = adopted
        alg = algo.name
        public = PublicKey(alg, raw)
        object.__setattr__(self, "_algorithm", algo)
        object.__setattr__(self, "alg", alg)
        object.__setattr__(self, "public_key", public)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_sign", sign)
        object.__setattr__(self, "_private_bytes", private_bytes)

    @property
    def algorithm(self) -> Algorithm:
        """The registry's algorithm object this key is bound to."""
        return self._algorithm

    def sign(self, message: bytes) -> bytes:
        """The 64-byte signature of ``message``. Deterministic for both algorithms:
        RFC 8032 for EdDSA. RFC 6979 plus low-S normalization for ES256."""
        return self._sign(message)

    # -- construction

    @classmethod
    def generate(cls, alg: str = EDDSA) -> PrivateKey:
        """A fresh random key from the operating system's CSPRNG."""
        return cls(algorithm(alg).generate())

    @classmethod
    def from_seed(cls, seed: bytes, alg: str = EDDSA) -> PrivateKey:
        """A key derived from ``seed`` deterministically, for reproducible test vectors.

        * EdDSA: ``seed`` must be exactly 32 bytes. It *is* the RFC 8032 private key
          (section 5.1.5), so RFC 8032 test vectors reproduce.
        * ES256: ``seed`` is 16 to 64 bytes. The private scalar is::

              h = SHA-256(b"agentchain/es256-seed/v1" || seed)
              d = (int.from_bytes(h, "big") mod (n - 1)) + 1

          where n is the order of P-256
          (0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551).
          So d is in [1, n - 1], and the modular bias (about 2^-32) does not matter
          for test keys. This derivation is part of the spec: other implementations
          rebuild the conformance-vector keys with it.

        Never use a low-entropy seed for a real key.
        """
        algo = algorithm(alg)
        if not isinstance(seed, bytes):
            raise InvalidKey("key_invalid", "a seed must be bytes")
        return cls(algo.from_seed(seed))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, object]) -> PrivateKey:
        """Import a private JWK (public members plus ``d``, which must match them)."""
        alg, raw, d = _parse_jwk(jwk, private=True)
        public = PublicKey(alg.name, raw)  # the public part is validated like any public key
        if d is None:  # unreachable: _parse_jwk(private=True) requires d. Not an assert (-O)
            raise InvalidKey("key_invalid", "JWK lacks member 'd'")
        key = alg.from_private_bytes(d)
        private = cls(key)
        if private.public_key != public:
            raise InvalidKey("key_invalid", "JWK private part 'd' does not match its public part")
        _check_kid(jwk, public)
        return private

    @classmethod
    def from_pem(cls, pem: bytes) -> PrivateKey:
        """Import an unencrypted PKCS#8 (or traditional) PEM private key."""
        if not isinstance(pem, bytes):
            raise InvalidKey("key_invalid", "PEM input must be bytes")
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise InvalidKey("key_invalid", "not an unencrypted PEM private key") from None
        if isinstance(key, BACKEND_PRIVATE_TYPES):
            return cls(key)
        raise InvalidKey("alg_not_allowed", f"PEM key type {type(key).__name__} is not allowed")

    # -- export (secret material: callers ask for it explicitly)

    def to_jwk(self) -> dict[str, str]:
        """The private JWK: :meth:`PublicKey.to_jwk` plus ``d`` (RFC 8037 section 2,
        RFC 7518 section 6.2.2.1: the full 32 bytes, big-endian for P-256)."""
        jwk = self.public_key.to_jwk()
        jwk["d"] = b64u_encode(self._private_bytes())
        return jwk

    def to_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM (RFC 5958)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    # -- value semantics

    def __repr__(self) -> str:
        return f"PrivateKey(alg={self.alg!r}, kid={self.public_key.kid!r})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"PrivateKey is immutable (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"PrivateKey is immutable (cannot delete {name!r})")

    def __reduce__(self) -> NoReturn:
        raise TypeError("PrivateKey is not picklable; export it with to_pem() or to_jwk()")

    def __copy__(self) -> PrivateKey:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> PrivateKey:
        return self


@functools.lru_cache(maxsize=4096)
def _imported(alg: str, raw: bytes) -> PublicKey:
    """``PublicKey(alg, raw)``, remembered: every presented chain names its holders' keys,
    and the same few agents recur. Safe to share: a PublicKey is immutable, and the
    result depends only on the (public) bytes. A refused key raises, and is not cached."""
    return PublicKey(alg, raw)
