"""Two implementations, one behaviour: the pure-Python reference and the native core.

The wire decoders of :mod:`agentchain.wire` are the reference: readable, complete, and the
default where no native build exists. ``agentchain_native`` (``native/``, Rust, built by
``pip install ./native``) implements the same functions with the same answers: the same value,
or the same exception type with the same registry code for the same first violation.
``tests/test_native.py`` and ``fuzz/fuzz_native.py`` prove it by running both on the same
inputs (DESIGN.md section 8, STYLE.md "Two implementations, one behaviour").

Selection, as cbor2 does it: :func:`backend` with no argument is the native core when it is
installed and the environment variable ``AGENTCHAIN_PURE`` is not ``1``, else the reference.
``backend("pure")`` and ``backend("native")`` pick one for a call or a test; asking for the
native core by name loads it even under ``AGENTCHAIN_PURE=1`` (an explicit request wins over
the default), and raises :class:`~agentchain.errors.UsageError` where it is not installed.

Every backend has the signatures of the reference functions it stands for
(``cbor_decode`` is :func:`agentchain.wire.cbor.decode`, ``decode_sign1`` is
:func:`agentchain.wire.cose.decode_sign1`, ...), so a caller switches by changing where it
looks the function up, not how it calls it.

Layer 2 beside the wire modules: imports errors, crypto and wire only.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from typing import Any, Final, Literal, Protocol, TypeAlias, cast

from agentchain.crypto import ALGORITHMS, PublicKey
from agentchain.errors import UsageError
from agentchain.wire import cbor, cose, jws

__all__ = [
    "PURE_ENV",
    "Backend",
    "ChainCore",
    "LinkBuilder",
    "LinkFacts",
    "LinkParts",
    "OpenedLink",
    "OpenedObject",
    "Verifying",
    "available",
    "backend",
    "unavailable_reason",
]

#: the environment variable that makes the pure-Python reference the default
PURE_ENV: Final = "AGENTCHAIN_PURE"

BackendName = Literal["pure", "native"]


class Verifying(Protocol):
    """A public key imported under the strict rules of its algorithm (spec 3.4, 3.5)."""

    @property
    def alg(self) -> str: ...

    def verify(self, signature: bytes, message: bytes) -> None: ...


class _Core(Protocol):
    """What this module uses of ``agentchain_native`` (native/agentchain_native.pyi)."""

    def cbor_encode(self, value: object) -> bytes | None: ...

    def clear_memos(self) -> None: ...

    def memos_len(self) -> tuple[int, int]: ...

    def cbor_decode(
        self, data: bytes, *, max_depth: int, max_items: int, max_string_bytes: int
    ) -> cbor.CBORValue: ...

    def sign1_decode(
        self, data: bytes, *, max_depth: int, max_items: int, max_string_bytes: int
    ) -> tuple[int, int, bytes, bytes, bytes]: ...

    def jws_decode_compact(
        self,
        data: bytes,
        *,
        max_bytes: int,
        max_string_bytes: int,
        header: Callable[[str, int], tuple[bytes, str, str, str | None]],
    ) -> tuple[bytes, str, str, str | None, bytes, bytes]: ...

    def b64decode(self, text: str) -> bytes: ...

    def sig_structure(self, protected: bytes, payload: bytes) -> bytes: ...

    def sha256(self, data: bytes) -> bytes: ...

    def PublicKey(self, alg: str, raw: bytes) -> Verifying: ...  # noqa: N802  (a class)


class LinkFacts(Protocol):
    """What the native core keeps of one decoded link for V2 (an opaque handle)."""

    def claims_fields(self) -> tuple[Any, ...] | None:
        """The fields of the claims of a link the core made; else None."""

    def envelope_fields(self) -> tuple[Any, ...] | None:
        """The fields of the envelope of a link the core made; else None."""

    def made_ids(self) -> tuple[bytes, bytes, bytes] | None:
        """``(digest, id, revocation target)`` of a link the core made; else None."""


#: what ``open_link_parts`` finds in a payload of the common shape (``claims::plain_parts``):
#: issuer, parent, iat, nbf, exp, depth, purpose, the ``(start, stop)`` spans of the holder,
#: the capabilities, the caveats and the descriptor in the payload, and the link's id
LinkParts: TypeAlias = tuple[
    bytes | None,
    bytes | None,
    int,
    int,
    int,
    int,
    str | None,
    tuple[int, int],
    tuple[int, int],
    tuple[int, int],
    tuple[int, int],
    bytes,
]

#: what ``open_link`` returns: alg, typ, protected, payload, signature, signed, the decoded
#: payload (None from ``open_link_parts`` when it found the parts), digest, V2's facts
OpenedLink: TypeAlias = tuple[str, int, bytes, bytes, bytes, bytes, object, bytes, LinkFacts | None]

#: what ``open_presentation`` returns for an invocation or attachment: alg, typ, protected,
#: payload, signature, signed, the decoded payload, digest, and the object's bytes
OpenedObject: TypeAlias = tuple[str, int, bytes, bytes, bytes, bytes, object, bytes, bytes]

#: what the verifier gives ``open_presentation`` to make the links it opens (``Builder`` in
#: ``native/src/lib.rs``): the limits, the ``get`` of the four memos of ``codec._plain``, the
#: function that makes a link from its facts, given twice (they stand for its claims and its
#: envelope until each is first read), and its digest, the list that takes the facts of
#: every link in order (None for one the core did not make), the function that makes an
#: invocation of the common shape from its fields, the function that makes a root link whole
#: (window, claims, envelope and signed object) from its fields, and the list that takes the
#: bytes of every link, in order
LinkBuilder: TypeAlias = tuple[
    object,
    tuple[Callable[[bytes], object], ...],
    Callable[..., object],
    "list[LinkFacts | None]",
    Callable[..., object],
    Callable[..., object],
    list[bytes],
]

#: what ``open_presentation`` returns: the links (each what ``known`` gave for it, the link
#: ``build`` made, or its bytes with what ``open_link_parts`` returns for them; a tuple when
#: none is the last kind, else a list), the invocation (the object ``build`` made, or
#: opened for the caller to read its claims), the attachments
OpenedPresentation: TypeAlias = tuple[
    "tuple[object, ...] | list[object | tuple[bytes, OpenedLink, LinkParts | None]]",
    object | OpenedObject | None,
    list[OpenedObject],
    list[OpenedObject],
]


#: what ``chain_facts`` returns: principals (the root's first), digests, ids, the revocation
#: targets (each once, in the order met), the latest nbf, the earliest exp, the distinct
#: capability tuples with the first link holding each, and the runs of one caveat tuple
ChainFactsFields: TypeAlias = tuple[
    tuple[Any, ...],
    tuple[bytes, ...],
    tuple[bytes, ...],
    tuple[bytes, ...],
    int,
    int,
    tuple[tuple[int, Any], ...],
    tuple[tuple[int, int, Any], ...],
]


class ChainCore(Protocol):
    """The native core's chain functions (``native/core/src/claims.rs``, ``chain.rs``):
    one link opened and the head of its claims decoded, and V2 over a chain in one call."""

    def open_link(
        self,
        data: bytes,
        *,
        max_object_bytes: int,
        max_depth: int,
        max_items: int,
        max_string_bytes: int,
        max_capabilities: int,
        max_caveats: int,
    ) -> OpenedLink: ...

    def open_link_parts(
        self,
        data: bytes,
        *,
        max_object_bytes: int,
        max_depth: int,
        max_items: int,
        max_string_bytes: int,
        max_capabilities: int,
        max_caveats: int,
    ) -> tuple[OpenedLink, LinkParts | None]: ...

    def verify_chain(
        self,
        links: list[LinkFacts],
        *,
        root: tuple[str, bytes] | None,
        parent: LinkFacts | None,
        allowed: list[str],
        max_ttl: int,
    ) -> tuple[int, str, BaseException | None] | None: ...

    def chain_facts(
        self,
        links: list[LinkFacts],
        root: object,
        holder_principal: Callable[[Any, Any], object],
        key_target: Callable[[bytes], bytes],
        prefix: object = None,
    ) -> ChainFactsFields | None:
        """The fields of ``verifier._facts.chain_facts`` over a chain whose every link
        the core made (``open_presentation``'s ``build``): the whole chain from ``root``,
        or the links after ``prefix`` (the prefix's facts); None for any other chain."""

    def payload_args_digest(self, payload: bytes) -> bytes | None:
        """``codec.payload_args_digest``: the digest of a CBOR invocation's carried
        arguments, read from its payload bytes, or None for another shape."""

    def open_presentation(
        self,
        data: bytes,
        known: Callable[[bytes], object | None] | None,
        limits: tuple[int, ...],
        build: LinkBuilder | None = None,
    ) -> OpenedPresentation | None:
        """A CBOR presentation of the plain shape with every object in it opened, or None
        where the reference is to read it (``presentation.rs``, ``open_presentation``)."""

    def verify_cached(self, alg: str, raw: bytes, signature: bytes, message: bytes) -> None:
        """``PublicKey(alg, raw).verify(signature, message)``, the key imported once and kept
        by its bytes (the principals a verifier sees sign request after request)."""

    def parent_facts(
        self,
        alg: str,
        *,
        holder_alg: str,
        holder_raw: bytes,
        digest: bytes,
        nbf: int,
        exp: int,
        depth: int,
        capabilities: list[tuple[str, str]],
    ) -> LinkFacts: ...

    def claims_facts(
        self,
        alg: str,
        *,
        signed: bytes,
        signature: bytes,
        digest: bytes,
        parent: bytes | None,
        holder_alg: str,
        holder_raw: bytes,
        nbf: int,
        exp: int,
        depth: int,
        capabilities: list[tuple[str, str]],
    ) -> LinkFacts: ...


class Backend:
    """The reference implementation of the functions a backend provides."""

    name: BackendName = "pure"

    def cbor_encode(self, value: cbor.CBORValue) -> bytes:
        """:func:`agentchain.wire.cbor.encode`"""
        return cbor.encode(value)

    def cbor_decode(
        self,
        data: bytes,
        *,
        max_depth: int = 16,
        max_items: int = 2048,
        max_string_bytes: int = 4096,
    ) -> cbor.CBORValue:
        """:func:`agentchain.wire.cbor.decode`"""
        return cbor.decode(
            data, max_depth=max_depth, max_items=max_items, max_string_bytes=max_string_bytes
        )

    def decode_sign1(
        self, data: bytes, *, max_depth: int, max_items: int, max_string_bytes: int
    ) -> cose.Sign1:
        """:func:`agentchain.wire.cose.decode_sign1`"""
        return cose.decode_sign1(
            data, max_depth=max_depth, max_items=max_items, max_string_bytes=max_string_bytes
        )

    def decode_compact(self, data: bytes, *, max_bytes: int, max_string_bytes: int) -> jws.Compact:
        """:func:`agentchain.wire.jws.decode_compact`"""
        return jws.decode_compact(
            data, algorithms=ALGORITHMS, max_bytes=max_bytes, max_string_bytes=max_string_bytes
        )

    def b64decode(self, text: str) -> bytes:
        """:func:`agentchain.wire.jws.b64decode`"""
        return jws.b64decode(text)

    def sig_structure(self, protected: bytes, payload: bytes) -> bytes:
        """:func:`agentchain.wire.cose.sig_structure`"""
        return cose.sig_structure(protected, payload)

    def digest(self, data: bytes) -> bytes:
        """SHA-256 of a signed object's exact bytes (spec 5.3)."""
        return hashlib.sha256(data).digest()

    def public_key(self, alg: str, raw: bytes) -> Verifying:
        """:class:`agentchain.crypto.PublicKey`: import ``raw`` strictly, or InvalidKey."""
        return PublicKey(alg, raw)

    @property
    def chain(self) -> ChainCore | None:
        """The native chain functions (V1's links, V2), or None: the verifier's own loop."""
        return None


class _Native(Backend):
    """The same functions, answered by ``agentchain_native``."""

    name: BackendName = "native"

    def __init__(self, core: _Core) -> None:
        self._core = core
        self._chain = cast(ChainCore, _ChainCore(core))

    def cbor_encode(self, value: cbor.CBORValue) -> bytes:
        # the core takes plain data of the exact types; the reference encodes the rest
        # (subclasses, out-of-range numbers) or raises its own error for it
        encoded = self._core.cbor_encode(value)
        return cbor.encode(value) if encoded is None else encoded

    def cbor_decode(
        self,
        data: bytes,
        *,
        max_depth: int = 16,
        max_items: int = 2048,
        max_string_bytes: int = 4096,
    ) -> cbor.CBORValue:
        return self._core.cbor_decode(
            data, max_depth=max_depth, max_items=max_items, max_string_bytes=max_string_bytes
        )

    def decode_sign1(
        self, data: bytes, *, max_depth: int, max_items: int, max_string_bytes: int
    ) -> cose.Sign1:
        alg, typ, protected, payload, signature = self._core.sign1_decode(
            data, max_depth=max_depth, max_items=max_items, max_string_bytes=max_string_bytes
        )
        return cose.Sign1(
            alg=alg,
            typ=typ,
            protected=protected,
            payload=payload,
            signature=signature,
            encoded=data,
        )

    def decode_compact(self, data: bytes, *, max_bytes: int, max_string_bytes: int) -> jws.Compact:
        # The header's JSON is judged by the reference's own (cached) function, called by the
        # native core at the point of the reference's order of checks.
        protected, alg, typ, kid, payload, signature = self._core.jws_decode_compact(
            data, max_bytes=max_bytes, max_string_bytes=max_string_bytes, header=_judge_header
        )
        return jws.Compact(
            alg=alg,
            typ=typ,
            kid=kid,
            protected=protected,
            payload=payload,
            signature=signature,
            encoded=data,
        )

    def b64decode(self, text: str) -> bytes:
        return self._core.b64decode(text)

    def sig_structure(self, protected: bytes, payload: bytes) -> bytes:
        return self._core.sig_structure(protected, payload)

    def digest(self, data: bytes) -> bytes:
        return self._core.sha256(data)

    def public_key(self, alg: str, raw: bytes) -> Verifying:
        return self._core.PublicKey(alg, raw)

    @property
    def chain(self) -> ChainCore:
        return self._chain


class _ChainCore:
    """:class:`ChainCore` over the module (``LinkFacts.of_parent`` and ``of_claims`` as
    functions)."""

    def __init__(self, module: object) -> None:
        self.open_link = module.open_link  # type: ignore[attr-defined]
        self.open_link_parts = module.open_link_parts  # type: ignore[attr-defined]
        self.verify_chain = module.verify_chain  # type: ignore[attr-defined]
        self.chain_facts = module.chain_facts  # type: ignore[attr-defined]
        self.verify_cached = module.verify_cached  # type: ignore[attr-defined]
        self.open_presentation = module.open_presentation  # type: ignore[attr-defined]
        self.payload_args_digest = module.payload_args_digest  # type: ignore[attr-defined]
        self.parent_facts = module.LinkFacts.of_parent  # type: ignore[attr-defined]
        self.claims_facts = module.LinkFacts.of_claims  # type: ignore[attr-defined]


_PURE: Final = Backend()
_native: _Native | None = None
_native_error = ""


def _load_native() -> _Native | None:
    """The native backend, imported once; None (and the reason kept) where it is absent."""
    global _native, _native_error  # noqa: PLW0603  (a process-wide import, done once)
    if _native is None and not _native_error:
        try:
            module = importlib.import_module("agentchain_native")
        except ImportError as exc:
            _native_error = f"agentchain_native is not installed (pip install ./native): {exc}"
        else:
            _native = _Native(cast(_Core, module))
    return _native


def unavailable_reason() -> str:
    """Why the native core is not the default, or "" when it is."""
    if os.environ.get(PURE_ENV) == "1":
        return f"{PURE_ENV}=1 selects the pure-Python reference"
    _load_native()
    return _native_error


def available() -> bool:
    """Whether the native core is installed (whatever the default)."""
    return _load_native() is not None


def backend(name: BackendName | None = None) -> Backend:
    """The backend named, or the default one (see the module docstring)."""
    if name == "pure":
        return _PURE
    if name is None:
        if os.environ.get(PURE_ENV) == "1":
            return _PURE
        return _load_native() or _PURE
    if name != "native":
        raise UsageError(f"unknown backend {name!r} (pure or native)")
    native = _load_native()
    if native is None:
        raise UsageError(_native_error)
    return native


def clear_caches() -> None:
    """Empty what the native core remembers of links' values, where it is loaded: its front
    of the byte caches of ``codec._plain`` (each value ``open_presentation`` found in them)
    and the principals and key targets ``chain_facts`` asked the reference for.
    ``codec.clear_caches()`` calls this."""
    if _native is not None:
        _native._core.clear_memos()


def memos_len() -> tuple[int, int]:
    """How many values of links and principals the native core remembers ((0, 0) where it
    is not loaded), for the tests."""
    return (0, 0) if _native is None else _native._core.memos_len()


def _judge_header(text: str, max_string_bytes: int) -> tuple[bytes, str, str, str | None]:
    """The reference's judgement of a JWS header, against the one algorithm registry."""
    return jws._header(text, max_string_bytes, ALGORITHMS)
