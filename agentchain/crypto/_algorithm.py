"""What every signature algorithm knows about itself: the registry's entry type (spec 3.1).

One :class:`Algorithm` object per algorithm. It owns the algorithm's names (JOSE
``alg``, COSE id), its key type (JWK ``kty``/``crv``, COSE ``kty``/``crv``), its
signature size and its strict-verification rule, so the key classes never branch
on the algorithm's name: a key is bound to its object, and only that object ever
touches the key ("key confusion", RFC 8725 sections 2.1 and 3.1).
"""

from __future__ import annotations

import base64
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Final, NamedTuple

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from agentchain.errors import InvalidKey

#: a backend's verification: True iff the (well-formed) signature verifies
Verify = Callable[[bytes, bytes], bool]
#: a backend's signing: the raw 64-byte signature of a message
Sign = Callable[[bytes], bytes]
#: the ``cryptography`` private key types of the allowed algorithms
BackendPrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
#: the same, for isinstance
BACKEND_PRIVATE_TYPES: Final = (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey)
#: the ``cryptography`` public key types of the allowed algorithms
BackendPublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


class Adopted(NamedTuple):
    """A ``cryptography`` private key taken on by its algorithm."""

    #: the raw public key (spec 3.3)
    public: bytes
    sign: Sign
    #: the JWK ``d`` member (RFC 8037 section 2, RFC 7518 section 6.2.2.1): secret material
    private_bytes: Callable[[], bytes]


class Algorithm(ABC):
    """One signature algorithm of the allowlist (spec 3.1), bound to one key type."""

    #: the JOSE ``alg`` name, which is also the library's name for the algorithm
    name: str
    #: the COSE algorithm identifier (RFC 9053)
    cose_id: int
    #: JWK ``kty`` and ``crv`` (RFC 8037, RFC 7518 section 6.2)
    jwk_kty: str
    jwk_crv: str
    #: COSE_Key ``kty`` (label 1) and ``crv`` (label -1) (RFC 9053 section 7)
    cose_kty: int
    cose_crv: int
    #: the JWK members holding the public coordinates, in COSE label order -2, -3
    coordinates: tuple[str, ...]
    #: bytes of one signature (both algorithms: 64)
    signature_size: int = 64

    @property
    def jose_name(self) -> str:
        return self.name

    @abstractmethod
    def import_public(self, raw: bytes) -> tuple[ec.EllipticCurvePublicKey | None, Verify]:
        """Check a raw public key (InvalidKey) and return (backend key or None, verifier)."""

    @abstractmethod
    def check_signature(self, signature: bytes) -> None:
        """Raise SignatureError(signature_malformed) unless the 64 bytes are in strict form."""

    @abstractmethod
    def split(self, raw: bytes) -> tuple[bytes, ...]:
        """The raw key's coordinates, one per member of :attr:`coordinates`."""

    @abstractmethod
    def join(self, coordinates: tuple[bytes, ...]) -> bytes:
        """The raw key from its coordinates (the inverse of :meth:`split`)."""

    @abstractmethod
    def backend_public(self, raw: bytes) -> BackendPublicKey:
        """The ``cryptography`` object of a checked raw key (for PEM export)."""

    @abstractmethod
    def raw_of_backend(self, key: object) -> bytes | None:
        """The raw public key of a ``cryptography`` public key of this type, else None."""

    @abstractmethod
    def adopt(self, key: object) -> Adopted | None:
        """What a private key of this type needs, from a ``cryptography`` key, else None."""

    @abstractmethod
    def generate(self) -> BackendPrivateKey:
        """A fresh key from the operating system's CSPRNG."""

    @abstractmethod
    def from_seed(self, seed: bytes) -> BackendPrivateKey:
        """The key derived from ``seed`` (spec 3.6), or InvalidKey for a seed of the wrong size."""

    @abstractmethod
    def from_private_bytes(self, d: bytes) -> BackendPrivateKey:
        """The key of a JWK ``d`` member (32 bytes), or InvalidKey."""

    def __repr__(self) -> str:
        return f"Algorithm({self.name!r})"


def show(value: object) -> str:
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


def b64u_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2 and RFC 7517)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64U_CHARS: Final = re.compile(r"[A-Za-z0-9_-]*")


def b64u_decode(value: object, size: int, member: str) -> bytes:
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
    if b64u_encode(data) != value:
        raise InvalidKey("key_invalid", f"JWK member {member!r} is not canonical base64url")
    return data
