"""The native verification core of agentchain (Rust, PyO3). See native/README.md.

Refusals raise agentchain.errors.DecodeError, InvalidKey or SignatureError with the registry
code the pure-Python reference gives for the same input.
"""

from collections.abc import Callable
from typing import Any

__version__: str

def cbor_decode(
    data: bytes, *, max_depth: int = 16, max_items: int = 2048, max_string_bytes: int = 4096
) -> Any: ...
def sign1_decode(
    data: bytes, *, max_depth: int, max_items: int, max_string_bytes: int
) -> tuple[int, int, bytes, bytes, bytes]: ...
def sig_structure(protected: bytes, payload: bytes) -> bytes: ...
def cbor_encode(value: object) -> bytes | None: ...
def sha256(data: bytes) -> bytes: ...
def b64decode(text: str) -> bytes: ...
def jws_decode_compact(
    data: bytes,
    *,
    max_bytes: int,
    max_string_bytes: int,
    header: Callable[[str, int], tuple[bytes, str, str, str | None]],
) -> tuple[bytes, str, str, str | None, bytes, bytes]: ...
def verify(alg: str, raw: bytes, signature: bytes, message: bytes) -> None: ...
def verify_cached(alg: str, raw: bytes, signature: bytes, message: bytes) -> None: ...
def payload_args_digest(payload: bytes) -> bytes | None: ...
def open_cose(
    data: bytes,
    typ: int,
    *,
    max_object_bytes: int,
    max_depth: int,
    max_items: int,
    max_string_bytes: int,
) -> tuple[str, int, bytes, bytes, bytes, Any, bytes]: ...
def verify_cose(
    data: bytes,
    typ: int,
    key: PublicKey,
    *,
    max_object_bytes: int,
    max_depth: int,
    max_items: int,
    max_string_bytes: int,
) -> tuple[str, Any, bytes]: ...

class PublicKey:
    alg: str
    thumbprint: bytes
    def __init__(self, alg: str, raw: bytes) -> None: ...
    def verify(self, signature: bytes, message: bytes) -> None: ...

def open_link(
    data: bytes,
    *,
    max_object_bytes: int,
    max_depth: int,
    max_items: int,
    max_string_bytes: int,
    max_capabilities: int,
    max_caveats: int,
) -> tuple[str, int, bytes, bytes, bytes, bytes, Any, bytes, LinkFacts | None]: ...
def open_presentation(
    data: bytes,
    known: Callable[[bytes], Any] | None,
    limits: tuple[int, ...],
    build: tuple[Any, ...] | None = None,
) -> tuple[tuple[Any, ...] | list[Any], Any, list[Any], list[Any]] | None: ...
def verify_chain(
    links: list[LinkFacts],
    *,
    root: tuple[str, bytes] | None,
    parent: LinkFacts | None,
    allowed: list[str],
    max_ttl: int,
) -> tuple[int, str, BaseException | None] | None: ...
def chain_facts(
    links: list[LinkFacts],
    root: object,
    holder_principal: Callable[[Any, Any], object],
    key_target: Callable[[bytes], bytes],
    prefix: object = None,
) -> tuple[Any, ...] | None: ...  # its fields: agentchain._native.ChainFactsFields
def clear_memos() -> None: ...
def memos_len() -> tuple[int, int]: ...

class LinkFacts:
    @staticmethod
    def of_parent(
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
    @staticmethod
    def of_claims(
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
    def claims_fields(self) -> tuple[Any, ...] | None: ...
    def envelope_fields(self) -> tuple[Any, ...] | None: ...
    def made_ids(self) -> tuple[bytes, bytes, bytes] | None: ...
