"""Ed25519 (RFC 8032 section 5.1; RFC 9864 fully-specified), with strict verification (spec 3.4).

COSE alg -19 and JOSE alg "Ed25519" (RFC 9864 section 2.2), JWK ``{"kty": "OKP", "crv": "Ed25519"}``
(RFC 8037). The default algorithm.

Backends disagree on Ed25519 edge cases: OpenSSL, which ``cryptography`` wraps,
accepts small-order public keys and small-order R; it accepts ``R = identity,
S = 0`` under the identity key for every message. So the rule is enforced here,
before any backend sees the bytes: a 64-byte signature, ``S < L`` (RFC 8032
section 5.1.7, which closes the ``S + L`` malleability), and R canonical and not
of small order. The public key is checked once, on import: canonical, on the
curve, not of small order.
"""

from __future__ import annotations

import functools
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from agentchain.crypto._algorithm import (
    Adopted,
    Algorithm,
    BackendPrivateKey,
    BackendPublicKey,
    Verify,
)
from agentchain.errors import InvalidKey, SignatureError

#: Field prime of Curve25519 / edwards25519 (RFC 8032 section 5.1).
P: Final = 2**255 - 19
#: Order of the prime-order subgroup of edwards25519 (RFC 8032 section 5.1).
L: Final = 2**252 + 27742317777372353535851937790883648493
#: Edwards curve constant d = -121665/121666 (RFC 8032 section 5.1).
D: Final = (-121665 * pow(121666, -1, P)) % P
_Y_MASK: Final = (1 << 255) - 1

#: The two y coordinates of the four points of order exactly 8 (each y comes with
#: both signs of x). They solve d*y^4 + 2*y^2 - 1 = 0, the condition for 2P to be
#: a point of order 4 (whose y is 0). tests/test_crypto.py derives them again with
#: independent point arithmetic. Little-endian encodings: 26e8958f...6d53fc05 and
#: c7176a70...92ac037a, the same values as in libsodium's blocklist.
Y_ORDER8_A: Final = 0x05FC536D880238B13933C6D305ACDFD5F098EFF289F4C345B027B2C28F95E826
Y_ORDER8_B: Final = 0x7A03AC9277FDC74EC6CC392CFA53202A0F67100D760B3CBA4FD84D3D706A17C7

#: A point of edwards25519 has small order (its order divides the cofactor 8) iff its
#: y is one of these. The 8 points of the torsion subgroup are: the identity (0, 1),
#: (0, -1) of order 2, (+-sqrt(-1), 0) of order 4, and the four of order 8 above.
SMALL_ORDER_Y: Final[frozenset[int]] = frozenset({0, 1, P - 1, Y_ORDER8_A, Y_ORDER8_B})


def encoding_problem(encoded: bytes) -> str | None:
    """Why a 32-byte Ed25519 point encoding is refused, or None.

    Canonical: the 255-bit y is < p, and x = 0 (y = +-1) does not come with the sign
    bit set (RFC 8032 section 5.1.3 step 4 rejects that). Without these checks one point
    has several encodings, so a signature could be re-encoded without the key.
    Small order: the point must not lie in the torsion subgroup. Such a key
    verifies forged signatures, and such an R makes signatures key-independent.
    Because y is checked to be < p first, the small-order test needs no reduction.
    """
    n = int.from_bytes(encoded, "little")
    y = n & _Y_MASK
    if y >= P:
        return "non-canonical encoding (y >= p)"
    if n >> 255 and (y == 1 or y == P - 1):
        return "non-canonical encoding (x = 0 with the sign bit set)"
    if y in SMALL_ORDER_Y:
        return "point of small order"
    return None


@functools.lru_cache(maxsize=4096)
def on_curve(encoded: bytes) -> bool:
    """Whether the y of a canonical encoding has an x on edwards25519 (RFC 8032 5.1.3).

    x^2 = (y^2 - 1) / (d y^2 + 1) must be a square. A candidate root is
    x = u v^3 (u v^7)^((p - 5) / 8). It is a root iff v x^2 = +-u (step 3).
    The modular exponentiation costs about 0.1 ms in Python, as much as a whole
    verification. Holder keys are imported from every presented chain, and the
    same few keys recur, so results are cached. This is safe because the result
    depends only on the (public) bytes.
    """
    y = int.from_bytes(encoded, "little") & _Y_MASK
    p = P
    yy = y * y % p
    u = (yy - 1) % p
    v = (D * yy + 1) % p  # never 0: d is not a square mod p
    x = u * pow(v, 3, p) * pow(u * pow(v, 7, p), (p - 5) // 8, p) % p
    vxx = v * x * x % p
    return vxx in (u, (p - u) % p)


def verifier(raw: bytes) -> Verify:
    """Raw Ed25519 verification (RFC 8032 section 5.1.7) by libsodium, through PyNaCl.

    libsodium's verify costs about half of OpenSSL's here (``agentchain bench``
    prints both), and it is strict by itself. Its ``crypto_sign_ed25519_verify_detached``
    (ed25519_ref10 sign_ed25519/ref10/open.c, libsodium >= 1.0.16, which PyNaCl 1.5+
    bundles) refuses S >= L (``sc25519_is_canonical``), a small-order R
    (``ge25519_has_small_order``), a non-canonical or small-order A
    (``ge25519_is_canonical``, ``ge25519_has_small_order``) and an A off the curve
    (``ge25519_frombytes_negate_vartime``); and it compares the encoding of the
    recomputed R with the signature's bytes, so a non-canonical R never matches.
    We still check all of these ourselves, in :meth:`Ed25519.check_signature` and on
    import: they cost a few integer comparisons, and the rule must not depend on the
    backend. PyNaCl exposes no detached verify, so the signed message is ``signature ||
    message`` (``crypto_sign_open``): one copy of the message, cheaper than OpenSSL.
    """

    def run(signature: bytes, message: bytes) -> bool:
        try:
            crypto_sign_open(signature + message, raw)
        except BadSignatureError:
            return False
        return True

    return run


class Ed25519(Algorithm):
    name = "Ed25519"
    cose_id = -19
    jwk_kty = "OKP"
    jwk_crv = "Ed25519"
    cose_kty = 1
    cose_crv = 6
    coordinates = ("x",)

    def import_public(self, raw: bytes) -> tuple[ec.EllipticCurvePublicKey | None, Verify]:
        if len(raw) != 32:
            raise InvalidKey("key_invalid", f"an Ed25519 public key is 32 bytes, not {len(raw)}")
        if problem := encoding_problem(raw):
            raise InvalidKey("key_invalid", f"Ed25519 public key: {problem}")
        if not on_curve(raw):
            raise InvalidKey("key_invalid", "Ed25519 public key: not a point on the curve")
        return None, verifier(raw)

    def check_signature(self, signature: bytes) -> None:
        # RFC 8032 section 5.1.7 step 1: S must be in [0, L). Otherwise S + L is a second
        # valid signature.
        if int.from_bytes(signature[32:], "little") >= L:
            raise SignatureError("signature_malformed", "Ed25519 signature: S >= L")
        if problem := encoding_problem(signature[:32]):
            raise SignatureError("signature_malformed", f"Ed25519 signature: R is a {problem}")

    def split(self, raw: bytes) -> tuple[bytes, ...]:
        return (raw,)

    def join(self, coordinates: tuple[bytes, ...]) -> bytes:
        return coordinates[0]

    def backend_public(self, raw: bytes) -> BackendPublicKey:
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)

    def raw_of_backend(self, key: object) -> bytes | None:
        return key.public_bytes_raw() if isinstance(key, ed25519.Ed25519PublicKey) else None

    def adopt(self, key: object) -> Adopted | None:
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            return None
        # RFC 8032 signatures are deterministic already
        return Adopted(key.public_key().public_bytes_raw(), key.sign, key.private_bytes_raw)

    def generate(self) -> BackendPrivateKey:
        return ed25519.Ed25519PrivateKey.generate()

    def from_seed(self, seed: bytes) -> BackendPrivateKey:
        # spec 3.6: the seed *is* the RFC 8032 private key (section 5.1.5)
        if len(seed) != 32:
            raise InvalidKey("key_invalid", f"an Ed25519 seed is 32 bytes, not {len(seed)}")
        return ed25519.Ed25519PrivateKey.from_private_bytes(bytes(seed))

    def from_private_bytes(self, d: bytes) -> BackendPrivateKey:
        return ed25519.Ed25519PrivateKey.from_private_bytes(d)
