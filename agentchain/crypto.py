"""Signature algorithms and keys (spec 3 and 6).

Two algorithms, each bound to exactly one key type. A key carries its algorithm
and only that algorithm ever touches it. So a key of one kind cannot be used
under another algorithm ("key confusion", RFC 8725 section 2.1 and 3.1):

* ``"EdDSA"``: Ed25519 (RFC 8032 section 5.1). COSE alg -8 (RFC 9053 section 2.2),
  JWK ``{"kty": "OKP", "crv": "Ed25519"}`` (RFC 8037). The default.
* ``"ES256"``: ECDSA over P-256 with SHA-256 (FIPS 186-5). COSE alg -7
  (RFC 9053 section 2.1), JWK ``{"kty": "EC", "crv": "P-256"}`` (RFC 7518
  section 6.2). Signatures are the fixed 64-byte ``r || s`` form used by both
  JWS (RFC 7518 section 3.4) and COSE (RFC 9053 section 2.1), never DER.

Anything else (RSA, HMAC, "none", Ed448, P-384, secp256k1, X25519, ...) is refused
with ``alg_not_allowed``.

Verification is strict, and the rules are enforced here before any backend sees
the bytes. Backends disagree on Ed25519 edge cases: OpenSSL, which
``cryptography`` wraps, accepts small-order public keys and small-order R. It
accepts ``R = identity, S = 0`` under the identity key for every message.
So every implementation of the protocol must refuse exactly the same inputs,
whatever library it uses:

* Ed25519: a 64-byte signature, ``S < L`` (RFC 8032 section 5.1.7, which closes
  the ``S + L`` malleability), and R canonical and not of small order. The public
  key is checked once, on import: canonical, on the curve, not of small order.
* ES256: a 64-byte signature, ``1 <= r, s <= n - 1`` (FIPS 186-5 section 6.4.2),
  and low S (``s <= n // 2``). ECDSA signatures are malleable: if ``(r, s)``
  verifies, so does ``(r, n - s)``. So only the low half is accepted, and our signer
  only emits it. The same rule as BIP 62 / libsecp256k1.

This module imports only :mod:`agentchain.errors` of the package (layer 2).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, NoReturn

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from agentchain.errors import InvalidKey, SignatureError

__all__ = [
    "ALGORITHMS",
    "COSE_ALG",
    "EDDSA",
    "ES256",
    "PrivateKey",
    "PublicKey",
]

EDDSA: Final = "EdDSA"
ES256: Final = "ES256"

#: The only algorithm names the library accepts, anywhere.
ALGORITHMS: Final[frozenset[str]] = frozenset({EDDSA, ES256})

#: Algorithm name -> COSE algorithm identifier (RFC 9053 sections 2.1 and 2.2).
#: A read-only mapping: a module-level mutable dict would let one caller widen
#: the algorithm set for everyone.
COSE_ALG: Final[Mapping[str, int]] = MappingProxyType({EDDSA: -8, ES256: -7})

# --------------------------------------------------------------------------
# Curve constants

#: Field prime of Curve25519 / edwards25519 (RFC 8032 section 5.1).
_ED_P: Final = 2**255 - 19
#: Order of the prime-order subgroup of edwards25519 (RFC 8032 section 5.1).
_ED_L: Final = 2**252 + 27742317777372353535851937790883648493
#: Edwards curve constant d = -121665/121666 (RFC 8032 section 5.1).
_ED_D: Final = (-121665 * pow(121666, -1, _ED_P)) % _ED_P
_ED_Y_MASK: Final = (1 << 255) - 1

#: The two y coordinates of the four points of order exactly 8 (each y comes with
#: both signs of x). They solve d*y^4 + 2*y^2 - 1 = 0, the condition for 2P to be
#: a point of order 4 (whose y is 0). tests/test_crypto.py derives them again with
#: independent point arithmetic. Little-endian encodings: 26e8958f...6d53fc05 and
#: c7176a70...92ac037a, the same values as in libsodium's blocklist.
_ED_Y_ORDER8_A: Final = 0x05FC536D880238B13933C6D305ACDFD5F098EFF289F4C345B027B2C28F95E826
_ED_Y_ORDER8_B: Final = 0x7A03AC9277FDC74EC6CC392CFA53202A0F67100D760B3CBA4FD84D3D706A17C7

#: A point of edwards25519 has small order (its order divides the cofactor 8) iff its
#: y is one of these. The 8 points of the torsion subgroup are: the identity (0, 1),
#: (0, -1) of order 2, (+-sqrt(-1), 0) of order 4, and the four of order 8 above.
_ED_SMALL_ORDER_Y: Final[frozenset[int]] = frozenset(
    {0, 1, _ED_P - 1, _ED_Y_ORDER8_A, _ED_Y_ORDER8_B}
)

#: P-256 field prime and group order (FIPS 186-5 / SEC 2 section 2.4.2).
_P256_P: Final = 2**256 - 2**224 + 2**192 + 2**96 - 1
_P256_N: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P256_HALF_N: Final = _P256_N // 2  # n is odd: s is "low" iff s <= (n - 1) / 2

#: Domain separation tag of :meth:`PrivateKey.from_seed` for ES256. Part of the
#: spec: other implementations rebuild the conformance-vector keys from it.
_ES256_SEED_TAG: Final = b"agentchain/es256-seed/v1"

# RFC 6979 deterministic nonces: no RNG at signing time, and reproducible vectors.
_ECDSA_DETERMINISTIC: Final = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
_ECDSA_VERIFY: Final = ec.ECDSA(hashes.SHA256())

# --------------------------------------------------------------------------
# Small helpers


def _show(value: object) -> str:
    """A short, safe rendering of untrusted input for an error message.

    Strings are cut before repr (a huge member costs nothing), and only small ints
    are printed: str() of an int over 4300 digits raises ValueError, and an error
    message must never turn into a different exception.
    """
    if isinstance(value, str | bytes):
        return repr(value[:32]) + ("..." if len(value) > 32 else "")
    if isinstance(value, int) and -(2**64) < value < 2**64:  # bool is an int too
        return repr(value)
    if value is None:
        return "None"
    return f"a {type(value).__name__}"


def _check_alg(alg: object) -> str:
    if alg == EDDSA and isinstance(alg, str):
        return EDDSA
    if alg == ES256 and isinstance(alg, str):
        return ES256
    raise InvalidKey(
        "alg_not_allowed", f"algorithm {_show(alg)} is not allowed (only EdDSA and ES256)"
    )


def _b64u_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2 and RFC 7517)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64U_CHARS: Final = re.compile(r"[A-Za-z0-9_-]*")


def _b64u_decode(value: object, size: int, member: str) -> bytes:
    """Decode a JWK member that must hold exactly ``size`` bytes.

    Only canonical unpadded base64url is accepted (RFC 7515 section 2): no padding,
    no whitespace, no other alphabet, and zero unused trailing bits. So one
    key has exactly one JWK text and one thumbprint input.
    """
    if not isinstance(value, str):
        raise InvalidKey("key_invalid", f"JWK member {member!r} must be a string")
    if len(value) != (4 * size + 2) // 3 or not _B64U_CHARS.fullmatch(value):
        raise InvalidKey(
            "key_invalid",
            f"JWK member {member!r} must be {size} bytes in unpadded base64url",
        )
    data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if _b64u_encode(data) != value:
        raise InvalidKey("key_invalid", f"JWK member {member!r} is not canonical base64url")
    return data


def _ed25519_encoding_problem(encoded: bytes) -> str | None:
    """Why a 32-byte Ed25519 point encoding is refused, or None.

    Canonical: the 255-bit y is < p, and x = 0 (y = +-1) does not come with the sign
    bit set (RFC 8032 section 5.1.3 step 4 rejects that). Without these checks one point
    has several encodings, so a signature could be re-encoded without the key.
    Small order: the point must not lie in the torsion subgroup. Such a key
    verifies forged signatures, and such an R makes signatures key-independent.
    Because y is checked to be < p first, the small-order test needs no reduction.
    """
    n = int.from_bytes(encoded, "little")
    y = n & _ED_Y_MASK
    if y >= _ED_P:
        return "non-canonical encoding (y >= p)"
    if n >> 255 and (y == 1 or y == _ED_P - 1):
        return "non-canonical encoding (x = 0 with the sign bit set)"
    if y in _ED_SMALL_ORDER_Y:
        return "point of small order"
    return None


@functools.lru_cache(maxsize=4096)
def _ed25519_on_curve(encoded: bytes) -> bool:
    """Whether the y of a canonical encoding has an x on edwards25519 (RFC 8032 5.1.3).

    x^2 = (y^2 - 1) / (d y^2 + 1) must be a square. A candidate root is
    x = u v^3 (u v^7)^((p - 5) / 8). It is a root iff v x^2 = +-u (step 3).
    The modular exponentiation costs about 0.1 ms in Python, as much as a whole
    verification. Holder keys are imported from every presented chain, and the
    same few keys recur, so results are cached. This is safe because the result
    depends only on the (public) bytes.
    """
    y = int.from_bytes(encoded, "little") & _ED_Y_MASK
    p = _ED_P
    yy = y * y % p
    u = (yy - 1) % p
    v = (_ED_D * yy + 1) % p  # never 0: d is not a square mod p
    x = u * pow(v, 3, p) * pow(u * pow(v, 7, p), (p - 5) // 8, p) % p
    vxx = v * x * x % p
    return vxx in (u, (p - u) % p)


# --------------------------------------------------------------------------
# Backends. The only code that calls a signature library to verify. It gets only
# inputs that passed the checks of PublicKey.verify, and answers True or False.
# The rules stay in PublicKey.verify, whatever the backend.

_Verifier = Callable[[bytes, bytes], bool]


def _ed25519_verifier(raw: bytes) -> _Verifier:
    """Raw Ed25519 verification (RFC 8032 section 5.1.7) by libsodium, through PyNaCl.

    libsodium's verify costs about half of OpenSSL's here (``agentchain bench``
    prints both), and it is strict by itself. Its ``crypto_sign_ed25519_verify_detached``
    (ed25519_ref10 sign_ed25519/ref10/open.c, libsodium >= 1.0.16, which PyNaCl 1.5+
    bundles) refuses S >= L (``sc25519_is_canonical``), a small-order R
    (``ge25519_has_small_order``), a non-canonical or small-order A
    (``ge25519_is_canonical``, ``ge25519_has_small_order``) and an A off the curve
    (``ge25519_frombytes_negate_vartime``); and it compares the encoding of the
    recomputed R with the signature's bytes, so a non-canonical R never matches.
    We still check all of these ourselves, in PublicKey.verify and on import: they
    cost a few integer comparisons, and the rule must not depend on the backend.
    PyNaCl exposes no detached verify, so the signed message is ``signature ||
    message`` (``crypto_sign_open``): one copy of the message, cheaper than OpenSSL.
    """

    def run(signature: bytes, message: bytes) -> bool:
        try:
            crypto_sign_open(signature + message, raw)
        except BadSignatureError:
            return False
        return True

    return run


def _es256_verifier(key: ec.EllipticCurvePublicKey) -> _Verifier:
    """ECDSA P-256/SHA-256 verification of a raw ``r || s`` signature by cryptography."""
    verify = key.verify

    def run(signature: bytes, message: bytes) -> bool:
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            verify(der, message, _ECDSA_VERIFY)
        except InvalidSignature:
            return False
        return True

    return run


# --------------------------------------------------------------------------
# JWK parsing, shared by the public and private importers

_JWK_OPTIONAL: Final = frozenset({"kid", "alg", "use", "key_ops"})


def _parse_jwk(jwk: object, *, private: bool) -> tuple[str, bytes, bytes | None]:
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
    if kty == "OKP":
        required = {"kty", "crv", "x"}
        curve = "Ed25519"
        alg = EDDSA
    elif kty == "EC":
        required = {"kty", "crv", "x", "y"}
        curve = "P-256"
        alg = ES256
    else:
        raise InvalidKey("alg_not_allowed", f"JWK key type {_show(kty)} is not allowed")
    if not isinstance(crv, str):
        raise InvalidKey("key_invalid", "JWK member 'crv' is missing or not a string")
    if crv != curve:
        raise InvalidKey("alg_not_allowed", f"JWK curve {kty}/{_show(crv)} is not allowed")
    if "alg" in jwk and not (isinstance(jwk["alg"], str) and jwk["alg"] == alg):
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
    x = _b64u_decode(jwk["x"], 32, "x")
    raw = x if alg == EDDSA else b"\x04" + x + _b64u_decode(jwk["y"], 32, "y")
    d = _b64u_decode(jwk["d"], 32, "d") if private else None
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

    __slots__ = ("_key", "_raw", "_verifier", "alg", "kid", "thumbprint")

    #: ``"EdDSA"`` or ``"ES256"``.
    alg: str
    #: RFC 7638 JWK thumbprint (SHA-256), base64url without padding.
    kid: str
    #: The same thumbprint, as its 32 raw bytes.
    thumbprint: bytes
    _raw: bytes
    #: the ``cryptography`` object, for ES256 (EdDSA verifies with libsodium: None)
    _key: ec.EllipticCurvePublicKey | None
    _verifier: _Verifier

    def __init__(self, alg: str, raw: bytes) -> None:
        """Import a raw key. For EdDSA, the 32-byte RFC 8032 encoding. For ES256,
        the 65-byte uncompressed SEC 1 point ``0x04 || x || y``."""
        alg = _check_alg(alg)
        if not isinstance(raw, bytes):
            raise InvalidKey("key_invalid", "a raw public key must be bytes")
        raw = bytes(raw)  # a plain bytes object, whatever subclass came in
        key: ec.EllipticCurvePublicKey | None
        if alg == EDDSA:
            if len(raw) != 32:
                raise InvalidKey(
                    "key_invalid", f"an Ed25519 public key is 32 bytes, not {len(raw)}"
                )
            if problem := _ed25519_encoding_problem(raw):
                raise InvalidKey("key_invalid", f"Ed25519 public key: {problem}")
            if not _ed25519_on_curve(raw):
                raise InvalidKey("key_invalid", "Ed25519 public key: not a point on the curve")
            key = None
            verifier = _ed25519_verifier(raw)
            jwk_core = f'{{"crv":"Ed25519","kty":"OKP","x":"{_b64u_encode(raw)}"}}'
        else:
            # Only the uncompressed form: one key has one raw encoding, and COSE and
            # JWK carry both coordinates anyway (RFC 9053 section 7.1.1).
            if len(raw) != 65 or raw[0] != 0x04:
                raise InvalidKey(
                    "key_invalid", "a P-256 public key is the 65-byte uncompressed point 04||x||y"
                )
            x, y = raw[1:33], raw[33:]
            if int.from_bytes(x, "big") >= _P256_P or int.from_bytes(y, "big") >= _P256_P:
                raise InvalidKey("key_invalid", "P-256 public key: coordinate not below p")
            try:
                # Checks that the point is on the curve (SEC 1 section 3.2.2). P-256 has
                # cofactor 1, so every point on it other than infinity is a valid key.
                key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
            except ValueError:
                raise InvalidKey(
                    "key_invalid", "P-256 public key: not a point on the curve"
                ) from None
            verifier = _es256_verifier(key)
            jwk_core = (
                f'{{"crv":"P-256","kty":"EC","x":"{_b64u_encode(x)}","y":"{_b64u_encode(y)}"}}'
            )
        # RFC 7638 section 3: the required members only, sorted, no whitespace, UTF-8.
        thumbprint = hashlib.sha256(jwk_core.encode("ascii")).digest()
        object.__setattr__(self, "alg", alg)
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_verifier", verifier)
        object.__setattr__(self, "thumbprint", thumbprint)
        object.__setattr__(self, "kid", _b64u_encode(thumbprint))

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
        if self.alg == EDDSA:
            # RFC 8032 section 5.1.7 step 1: S must be in [0, L). Otherwise S + L is a second
            # valid signature.
            if int.from_bytes(signature[32:], "little") >= _ED_L:
                raise SignatureError("signature_malformed", "Ed25519 signature: S >= L")
            if problem := _ed25519_encoding_problem(signature[:32]):
                raise SignatureError("signature_malformed", f"Ed25519 signature: R is a {problem}")
        else:
            r = int.from_bytes(signature[:32], "big")
            s = int.from_bytes(signature[32:], "big")
            if not 0 < r < _P256_N:
                raise SignatureError("signature_malformed", "ES256 signature: r not in [1, n-1]")
            if not 0 < s < _P256_N:
                raise SignatureError("signature_malformed", "ES256 signature: s not in [1, n-1]")
            if s > _P256_HALF_N:
                raise SignatureError("signature_malformed", "ES256 signature: s is high (> n/2)")
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
        if self.alg == EDDSA:
            jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64u_encode(self._raw)}
        else:
            jwk = {
                "kty": "EC",
                "crv": "P-256",
                "x": _b64u_encode(self._raw[1:33]),
                "y": _b64u_encode(self._raw[33:]),
            }
        jwk["alg"] = self.alg
        jwk["kid"] = self.kid
        return jwk

    def to_pem(self) -> bytes:
        """SubjectPublicKeyInfo in PEM (RFC 8410 for Ed25519, RFC 5480 for P-256)."""
        key = self._key or ed25519.Ed25519PublicKey.from_public_bytes(self._raw)
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def to_cose_key(self) -> dict[int, int | bytes]:
        """The COSE_Key map (RFC 9052 section 7, RFC 9053 section 7).

        OKP ``{1: 1, -1: 6, -2: x}``, or EC2 ``{1: 2, -1: 1, -2: x, -3: y}``.
        """
        if self.alg == EDDSA:
            return {1: 1, -1: 6, -2: self._raw}
        return {1: 2, -1: 1, -2: self._raw[1:33], -3: self._raw[33:]}

    # -- import

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, object]) -> PublicKey:
        """Import a public JWK. See :func:`_parse_jwk` for the exact member rules.

        The members ``alg``, ``use``, ``key_ops`` and ``kid`` are optional, but
        if present they must agree with the key (``kid`` must equal the thumbprint).
        """
        alg, raw, _ = _parse_jwk(jwk, private=False)
        # remembered by its bytes, as from_cose_key does (a subclass gets its own object)
        key = _imported(alg, raw) if cls is PublicKey else cls(alg, raw)
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
        if isinstance(key, ed25519.Ed25519PublicKey):
            return cls(EDDSA, key.public_bytes_raw())
        if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            return cls(
                ES256,
                key.public_bytes(
                    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
                ),
            )
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
        if kty not in (1, 2):  # 1 = OKP, 2 = EC2 (RFC 9053 section 7)
            raise InvalidKey("alg_not_allowed", f"COSE_Key kty {_show(kty)} is not allowed")
        if type(crv) is not int:
            raise InvalidKey("key_invalid", "COSE_Key crv (-1) is missing or not an integer")
        # Ed25519 is OKP curve 6, P-256 is EC2 curve 1 (RFC 9053 section 7.1).
        if (kty, crv) not in ((1, 6), (2, 1)):
            raise InvalidKey(
                "alg_not_allowed", f"COSE_Key kty {kty} curve {_show(crv)} is not allowed"
            )
        labels = (-2,) if kty == 1 else (-2, -3)  # x, then y
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
        if kty == 1:
            return _imported(EDDSA, coords[0])
        return _imported(ES256, b"\x04" + coords[0] + coords[1])

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

    __slots__ = ("_key", "_sign", "alg", "public_key")

    alg: str
    public_key: PublicKey
    _key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    _sign: Callable[[bytes], bytes]

    def __init__(self, key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> None:
        sign: Callable[[bytes], bytes]
        if isinstance(key, ed25519.Ed25519PrivateKey):
            alg = EDDSA
            public = PublicKey(EDDSA, key.public_key().public_bytes_raw())
            sign = key.sign  # RFC 8032 signatures are deterministic already
        elif isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            alg = ES256
            public = PublicKey(
                ES256,
                key.public_key().public_bytes(
                    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
                ),
            )
            sign = _es256_signer(key)
        else:
            raise InvalidKey("alg_not_allowed", f"key type {type(key).__name__} is not allowed")
        object.__setattr__(self, "alg", alg)
        object.__setattr__(self, "public_key", public)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_sign", sign)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte signature of ``message``. Deterministic for both algorithms:
        RFC 8032 for EdDSA. RFC 6979 plus low-S normalization for ES256."""
        return self._sign(message)

    # -- construction

    @classmethod
    def generate(cls, alg: str = EDDSA) -> PrivateKey:
        """A fresh random key from the operating system's CSPRNG."""
        if _check_alg(alg) == EDDSA:
            return cls(ed25519.Ed25519PrivateKey.generate())
        return cls(ec.generate_private_key(ec.SECP256R1()))

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
        alg = _check_alg(alg)
        if not isinstance(seed, bytes):
            raise InvalidKey("key_invalid", "a seed must be bytes")
        if alg == EDDSA:
            if len(seed) != 32:
                raise InvalidKey("key_invalid", f"an Ed25519 seed is 32 bytes, not {len(seed)}")
            return cls(ed25519.Ed25519PrivateKey.from_private_bytes(bytes(seed)))
        if not 16 <= len(seed) <= 64:
            raise InvalidKey("key_invalid", f"an ES256 seed is 16 to 64 bytes, not {len(seed)}")
        digest = hashlib.sha256(_ES256_SEED_TAG + seed).digest()
        d = int.from_bytes(digest, "big") % (_P256_N - 1) + 1
        return cls(ec.derive_private_key(d, ec.SECP256R1()))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, object]) -> PrivateKey:
        """Import a private JWK (public members plus ``d``, which must match them)."""
        alg, raw, d = _parse_jwk(jwk, private=True)
        public = PublicKey(alg, raw)  # the public part is validated like any public key
        if d is None:  # unreachable: _parse_jwk(private=True) requires d. Not an assert (-O)
            raise InvalidKey("key_invalid", "JWK lacks member 'd'")
        key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
        if alg == EDDSA:
            key = ed25519.Ed25519PrivateKey.from_private_bytes(d)
        else:
            scalar = int.from_bytes(d, "big")
            if not 0 < scalar < _P256_N:
                raise InvalidKey("key_invalid", "P-256 private scalar not in [1, n-1]")
            key = ec.derive_private_key(scalar, ec.SECP256R1())
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
        if isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            return cls(key)
        raise InvalidKey("alg_not_allowed", f"PEM key type {type(key).__name__} is not allowed")

    # -- export (secret material: callers ask for it explicitly)

    def to_jwk(self) -> dict[str, str]:
        """The private JWK: :meth:`PublicKey.to_jwk` plus ``d`` (RFC 8037 section 2,
        RFC 7518 section 6.2.2.1: the full 32 bytes, big-endian for P-256)."""
        jwk = self.public_key.to_jwk()
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            d = self._key.private_bytes_raw()
        else:
            d = self._key.private_numbers().private_value.to_bytes(32, "big")
        jwk["d"] = _b64u_encode(d)
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


def _es256_signer(key: ec.EllipticCurvePrivateKey) -> Callable[[bytes], bytes]:
    """Deterministic ECDSA (RFC 6979), output as raw ``r || s`` with low S.

    The backend returns DER (X.690). JWS and COSE want the fixed-width
    concatenation (RFC 7518 section 3.4, RFC 9053 section 2.1). s is replaced
    by n - s when it is high, because verification accepts only low S.
    """
    sign = key.sign

    def run(message: bytes) -> bytes:
        r, s = decode_dss_signature(sign(message, _ECDSA_DETERMINISTIC))
        if s > _P256_HALF_N:
            s = _P256_N - s
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    return run
