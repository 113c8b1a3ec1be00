"""Signature algorithms and keys (layer 2, spec 3).

Two algorithms, each bound to exactly one key type, each one object of the
registry (:data:`REGISTRY`, the allowlist): ``"Ed25519"`` (Ed25519, the default)
and ``"ES256"`` (ECDSA P-256/SHA-256). Verification is strict whatever the
backend (spec 3.4, 3.5): every implementation of the protocol refuses exactly
the same inputs. This package imports only :mod:`agentchain.errors`.
"""

from agentchain.crypto._algorithm import Algorithm
from agentchain.crypto._keys import PrivateKey, PublicKey
from agentchain.crypto._registry import (
    ALGORITHMS,
    COSE_ALG,
    EDDSA,
    ES256,
    REGISTRY,
    algorithm,
    by_cose_id,
)

__all__ = [
    "ALGORITHMS",
    "COSE_ALG",
    "EDDSA",
    "ES256",
    "REGISTRY",
    "Algorithm",
    "PrivateKey",
    "PublicKey",
    "algorithm",
    "by_cose_id",
]
