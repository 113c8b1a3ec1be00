"""Keys and trust where services keep them: key files, JWKS, the environment.

* :func:`load_private_key` / :func:`load_public_key` read the files ``agentchain
  keygen`` writes (a JWK with an optional ``name`` member) or PEM; a private key
  file others can read or write is refused (``key_file_exposed``), as the CLI does.
* :func:`keys_from_jwks` / :func:`load_jwks` read a JWK Set (RFC 7517 section 5):
  the trust anchors or attesters of a service, never fetched from a URL.
* :func:`private_key_from_env` reads an agent's key from an environment variable.
* :func:`trust_policy` builds a TrustPolicy from JWKS sources.

Rotation (docs/integrations.md): publish the new anchor next to the old one in the
JWKS, build a new Verifier from it (same store), swap it in, and drop the old key
once every link it signed has expired.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from typing import Any, Final

from agentchain import InvalidKey, PrivateKey, PublicKey, TrustPolicy, UsageError
from agentchain.errors import KeyFileExposed

#: the environment variable :func:`private_key_from_env` reads by default
KEY_ENV: Final = "AGENTCHAIN_PRIVATE_KEY"
_MAX_KEY_BYTES: Final = 64 * 1024
#: members a keygen file may carry beside the JWK's own: a label, never key material
_LABELS: Final = ("name",)

PathLike = str | os.PathLike[str]


def _jwk_object(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidKey("key_invalid", f"{where} is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidKey("key_invalid", f"{where} is not a JSON object")
    return value


def _without_labels(jwk: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(jwk)
    for label in _LABELS:
        if not isinstance(out.pop(label, ""), str):
            raise InvalidKey("key_invalid", f"member {label!r} must be text")
    return out


def _private_from_text(text: str, where: str) -> PrivateKey:
    if text.lstrip().startswith("-----BEGIN"):
        return PrivateKey.from_pem(text.encode("ascii", "replace"))
    return PrivateKey.from_jwk(_without_labels(_jwk_object(text, where)))


def _public_from_text(text: str, where: str) -> PublicKey:
    if text.lstrip().startswith("-----BEGIN"):
        return PublicKey.from_pem(text.encode("ascii", "replace"))
    return PublicKey.from_jwk(_without_labels(_jwk_object(text, where)))


def _read(path: PathLike, *, private: bool) -> str:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise UsageError(f"cannot read {os.fspath(path)}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        # the mode of the file actually opened, not of a path that could be swapped
        if private and stat.S_ISREG(mode) and mode & 0o077:
            raise KeyFileExposed(
                f"{os.fspath(path)} has mode {stat.S_IMODE(mode):04o}: chmod 600 it"
            )
        data = handle.read(_MAX_KEY_BYTES + 1)
    if len(data) > _MAX_KEY_BYTES:
        raise InvalidKey("key_invalid", f"{os.fspath(path)} is over {_MAX_KEY_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidKey("key_invalid", f"{os.fspath(path)} is not UTF-8 text") from None


def load_private_key(path: PathLike) -> PrivateKey:
    """The private key in ``path``: a keygen JWK file or a PKCS#8 PEM, mode 0600."""
    return _private_from_text(_read(path, private=True), os.fspath(path))


def load_public_key(path: PathLike) -> PublicKey:
    """The public key in ``path``: a keygen ``.pub.jwk`` file, or a PEM public key."""
    return _public_from_text(_read(path, private=False), os.fspath(path))


def private_key_from_env(name: str = KEY_ENV) -> PrivateKey:
    """The private key in the environment variable ``name`` (JWK JSON or PEM text)."""
    text = os.environ.get(name)
    if not text:
        raise UsageError(f"the environment variable {name} holds no key")
    return _private_from_text(text, f"${name}")


def keys_from_jwks(jwks: Mapping[str, Any] | str | bytes) -> tuple[PublicKey, ...]:
    """The public keys of a JWK Set object (or its JSON text), in order.

    Every member key must be one this library accepts; one bad key fails the set
    (a trust list is all or nothing). A private key in the set is refused.
    """
    if isinstance(jwks, bytes | str):
        try:
            jwks = json.loads(jwks)
        except ValueError:
            raise InvalidKey("key_invalid", "the JWKS is not JSON") from None
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise InvalidKey("key_invalid", "a JWKS is an object with a 'keys' array")
    keys: list[PublicKey] = []
    for index, member in enumerate(jwks["keys"]):
        if not isinstance(member, Mapping):
            raise InvalidKey("key_invalid", f"JWKS key {index} is not an object")
        key = PublicKey.from_jwk(_without_labels(member))
        if key not in keys:
            keys.append(key)
    if not keys:
        raise InvalidKey("key_invalid", "the JWKS holds no key")
    return tuple(keys)


def load_jwks(path: PathLike) -> tuple[PublicKey, ...]:
    """The public keys of the JWK Set file at ``path``."""
    return keys_from_jwks(_read(path, private=False))


def to_jwks(keys: tuple[PublicKey, ...] | list[PublicKey]) -> dict[str, Any]:
    """A JWK Set of ``keys``, each with its ``kid`` (RFC 7638 thumbprint)."""
    return {"keys": [{**k.to_jwk(), "kid": k.kid} for k in keys]}


JwksSource = Mapping[str, Any] | str | bytes | os.PathLike[str]


def _keys(source: JwksSource) -> tuple[PublicKey, ...]:
    if isinstance(source, os.PathLike):
        return load_jwks(source)
    return keys_from_jwks(source)


def trust_policy(
    *,
    audience: str,
    anchors: JwksSource,
    attesters: JwksSource | None = None,
    **options: Any,
) -> TrustPolicy:
    """A TrustPolicy whose anchors (and attesters) come from JWK Sets.

    A source is a JWKS object, its JSON text, or a :class:`~pathlib.Path` to a
    file. ``options`` are the other TrustPolicy fields.
    """
    return TrustPolicy(
        audience=audience,
        anchors=_keys(anchors),
        attesters=_keys(attesters) if attesters is not None else (),
        **options,
    )


__all__ = [
    "KEY_ENV",
    "keys_from_jwks",
    "load_jwks",
    "load_private_key",
    "load_public_key",
    "private_key_from_env",
    "to_jwks",
    "trust_policy",
]
