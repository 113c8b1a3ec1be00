"""The algorithm registry: the allowlist (spec 3.1), one object per algorithm.

Everything that names an algorithm looks it up here: the key classes, the
codec (COSE ids, JWS ``alg``), the verifier's trust policy and the vectors.
Anything else (RSA, HMAC, "none", Ed448, P-384, secp256k1, X25519, ...) is
refused with ``alg_not_allowed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from agentchain.crypto._algorithm import Algorithm, show
from agentchain.crypto._ed25519 import Ed25519
from agentchain.crypto._es256 import ES256 as _ES256
from agentchain.errors import InvalidKey

#: name -> algorithm: the allowlist. Read-only: a module-level mutable dict would
#: let one caller widen the algorithm set for everyone.
REGISTRY: Final[Mapping[str, Algorithm]] = MappingProxyType(
    {a.name: a for a in (Ed25519(), _ES256())}
)

#: the names of the two algorithms, for callers that pick one (spec 3.1)
EDDSA: Final = Ed25519.name
ES256: Final = _ES256.name

#: The only algorithm names the library accepts, anywhere.
ALGORITHMS: Final[frozenset[str]] = frozenset(REGISTRY)

#: Algorithm name -> COSE algorithm identifier (RFC 9053 sections 2.1 and 2.2).
COSE_ALG: Final[Mapping[str, int]] = MappingProxyType(
    {a.name: a.cose_id for a in REGISTRY.values()}
)

_NAMES: Final = " and ".join(REGISTRY)
_BY_COSE_ID: Final = {a.cose_id: a for a in REGISTRY.values()}
_BY_JWK: Final = {(a.jwk_kty, a.jwk_crv): a for a in REGISTRY.values()}
_BY_COSE_KEY: Final = {(a.cose_kty, a.cose_crv): a for a in REGISTRY.values()}
JWK_KTYS: Final = frozenset(a.jwk_kty for a in REGISTRY.values())
COSE_KTYS: Final = frozenset(a.cose_kty for a in REGISTRY.values())


def algorithm(name: object) -> Algorithm:
    """The algorithm called ``name`` (a str equal to its name), or InvalidKey(alg_not_allowed)."""
    if isinstance(name, str):
        for found in REGISTRY.values():
            if name == found.name:
                return found
    raise InvalidKey("alg_not_allowed", f"algorithm {show(name)} is not allowed (only {_NAMES})")


def by_cose_id(cose_id: int) -> Algorithm:
    """The algorithm of a COSE alg id; anything outside the allowlist is refused."""
    try:
        return _BY_COSE_ID[cose_id]
    except KeyError:
        raise InvalidKey("alg_not_allowed", f"COSE algorithm {cose_id} is not allowed") from None


def by_jwk(kty: str, crv: str) -> Algorithm | None:
    """The algorithm of a JWK key type and curve, or None."""
    return _BY_JWK.get((kty, crv))


def jwk_curve_of(kty: str) -> str | None:
    """The one curve the allowlist admits for a JWK ``kty``, or None."""
    return next((a.jwk_crv for a in REGISTRY.values() if a.jwk_kty == kty), None)


def by_cose_key(kty: int, crv: int) -> Algorithm | None:
    """The algorithm of a COSE_Key kty and curve, or None."""
    return _BY_COSE_KEY.get((kty, crv))
