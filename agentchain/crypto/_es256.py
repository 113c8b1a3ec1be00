"""ECDSA over P-256 with SHA-256 (FIPS 186-5), with strict verification (spec 3.5).

COSE alg -7 (RFC 9053 section 2.1), JWK ``{"kty": "EC", "crv": "P-256"}`` (RFC
7518 section 6.2). Signatures are the fixed 64-byte ``r || s`` form used by both
JWS (RFC 7518 section 3.4) and COSE (RFC 9053 section 2.1), never DER. Strict:
``1 <= r, s <= n - 1`` (FIPS 186-5 section 6.4.2) and low S (``s <= n // 2``).
ECDSA signatures are malleable: if ``(r, s)`` verifies, so does ``(r, n - s)``; so
only the low half is accepted, and our signer only emits it (the rule of BIP 62 /
libsecp256k1). Signing is deterministic (RFC 6979): no RNG at signing time, and
reproducible vectors.
"""

from __future__ import annotations

import hashlib
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from agentchain.crypto._algorithm import (
    Adopted,
    Algorithm,
    BackendPrivateKey,
    BackendPublicKey,
    Sign,
    Verify,
)
from agentchain.errors import InvalidKey, SignatureError

#: P-256 field prime and group order (FIPS 186-5 / SEC 2 section 2.4.2).
P: Final = 2**256 - 2**224 + 2**192 + 2**96 - 1
N: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
HALF_N: Final = N // 2  # n is odd: s is "low" iff s <= (n - 1) / 2

#: Domain separation tag of the seed derivation (spec 3.6). Part of the spec: other
#: implementations rebuild the conformance-vector keys from it.
SEED_TAG: Final = b"agentchain/es256-seed/v1"

_ECDSA_DETERMINISTIC: Final = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
_ECDSA_VERIFY: Final = ec.ECDSA(hashes.SHA256())


def verifier(key: ec.EllipticCurvePublicKey) -> Verify:
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


def signer(key: ec.EllipticCurvePrivateKey) -> Sign:
    """Deterministic ECDSA (RFC 6979), output as raw ``r || s`` with low S.

    The backend returns DER (X.690). JWS and COSE want the fixed-width
    concatenation (RFC 7518 section 3.4, RFC 9053 section 2.1). s is replaced
    by n - s when it is high, because verification accepts only low S.
    """
    sign = key.sign

    def run(message: bytes) -> bytes:
        r, s = decode_dss_signature(sign(message, _ECDSA_DETERMINISTIC))
        if s > HALF_N:
            s = N - s
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    return run


def _uncompressed(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


class ES256(Algorithm):
    name = "ES256"
    cose_id = -7
    jwk_kty = "EC"
    jwk_crv = "P-256"
    cose_kty = 2
    cose_crv = 1
    coordinates = ("x", "y")

    def import_public(self, raw: bytes) -> tuple[ec.EllipticCurvePublicKey | None, Verify]:
        # Only the uncompressed form: one key has one raw encoding, and COSE and
        # JWK carry both coordinates anyway (RFC 9053 section 7.1.1).
        if len(raw) != 65 or raw[0] != 0x04:
            raise InvalidKey(
                "key_invalid", "a P-256 public key is the 65-byte uncompressed point 04||x||y"
            )
        x, y = raw[1:33], raw[33:]
        if int.from_bytes(x, "big") >= P or int.from_bytes(y, "big") >= P:
            raise InvalidKey("key_invalid", "P-256 public key: coordinate not below p")
        try:
            # Checks that the point is on the curve (SEC 1 section 3.2.2). P-256 has
            # cofactor 1, so every point on it other than infinity is a valid key.
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise InvalidKey("key_invalid", "P-256 public key: not a point on the curve") from None
        return key, verifier(key)

    def check_signature(self, signature: bytes) -> None:
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        if not 0 < r < N:
            raise SignatureError("signature_malformed", "ES256 signature: r not in [1, n-1]")
        if not 0 < s < N:
            raise SignatureError("signature_malformed", "ES256 signature: s not in [1, n-1]")
        if s > HALF_N:
            raise SignatureError("signature_malformed", "ES256 signature: s is high (> n/2)")

    def split(self, raw: bytes) -> tuple[bytes, ...]:
        return raw[1:33], raw[33:]

    def join(self, coordinates: tuple[bytes, ...]) -> bytes:
        return b"\x04" + coordinates[0] + coordinates[1]

    def backend_public(self, raw: bytes) -> BackendPublicKey:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)

    def raw_of_backend(self, key: object) -> bytes | None:
        if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            return _uncompressed(key)
        return None

    def adopt(self, key: object) -> Adopted | None:
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            return None

        def private_bytes() -> bytes:
            return key.private_numbers().private_value.to_bytes(32, "big")

        return Adopted(_uncompressed(key.public_key()), signer(key), private_bytes)

    def generate(self) -> BackendPrivateKey:
        return ec.generate_private_key(ec.SECP256R1())

    def from_seed(self, seed: bytes) -> BackendPrivateKey:
        # spec 3.6: d = (SHA-256(tag || seed) mod (n - 1)) + 1
        if not 16 <= len(seed) <= 64:
            raise InvalidKey("key_invalid", f"an ES256 seed is 16 to 64 bytes, not {len(seed)}")
        digest = hashlib.sha256(SEED_TAG + seed).digest()
        d = int.from_bytes(digest, "big") % (N - 1) + 1
        return ec.derive_private_key(d, ec.SECP256R1())

    def from_private_bytes(self, d: bytes) -> BackendPrivateKey:
        scalar = int.from_bytes(d, "big")
        if not 0 < scalar < N:
            raise InvalidKey("key_invalid", "P-256 private scalar not in [1, n-1]")
        return ec.derive_private_key(scalar, ec.SECP256R1())
