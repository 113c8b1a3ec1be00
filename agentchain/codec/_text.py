"""The text form (spec 5.1) and the JSON renderings shared by the surfaces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentchain.codec._keys import ASCII_WHITESPACE, TEXT_PREFIX_CBOR, TEXT_PREFIX_JOSE
from agentchain.errors import DecodeError
from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.wire import jws


def args_to_json(value: object) -> Any:
    """Arguments as JSON for people: byte strings become {"bytes": hex}. Not a wire form."""
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, Mapping):
        return {str(k): args_to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [args_to_json(v) for v in value]
    return value


def b64encode(data: bytes) -> str:
    """Unpadded base64url (spec 5.1)."""
    return jws.b64encode(data)


def b64decode(text: str) -> bytes:
    """Strict unpadded base64url: no padding, no whitespace, no stray bits (spec 5.1)."""
    return jws.b64decode(text)


def from_text(text: str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The bytes of a presentation's text form, ``ac2c.`` (CBOR) or ``ac2j.`` (JOSE)."""
    text = text.strip(ASCII_WHITESPACE)
    # the cap is checked on the text, before any decoding work
    if len(text) > len(TEXT_PREFIX_CBOR) + (limits.max_presentation_bytes * 4 + 2) // 3:
        raise DecodeError(
            "limit_exceeded", f"text over the {limits.max_presentation_bytes}-byte cap"
        )
    if not text.startswith((TEXT_PREFIX_CBOR, TEXT_PREFIX_JOSE)):
        raise DecodeError(
            "encoding_unknown",
            f"text form must start with {TEXT_PREFIX_CBOR!r} or {TEXT_PREFIX_JOSE!r}",
        )
    return b64decode(text[len(TEXT_PREFIX_CBOR) :])
