"""What the JOSE case modules share: header constants and compact-text surgery."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Final

from agentchain import codec
from agentchain._build import jose_parts, raw_jws
from agentchain.crypto import EDDSA
from agentchain.vectors.generator.build import AUD, CAL, KEYS, NOW, chain, jose_present_raw
from agentchain.wire import jws

LINK: Final = codec.JWT_TYP_LINK


INVOCATION: Final = codec.JWT_TYP_INVOCATION


HEADER: Final = {"alg": EDDSA, "typ": LINK}


ES_POLICY: Final = {"anchors": ["alice-es256"]}


def b64(data: bytes) -> str:
    return jws.b64encode(data)


def split(compact: bytes) -> list[str]:
    return compact.decode("ascii").split(".")


def join(parts: list[str]) -> bytes:
    return ".".join(parts).encode("ascii")


def flip_low_bits(char: str) -> str:
    """A base64url character with the same high two bits and non-zero low four: the
    last character of a 64-byte value spelled with stray bits."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    value = alphabet.index(char)
    return alphabet[(value & 0b110000) | 0b0101]


Add = Callable[..., None]


def root_link() -> tuple[bytes, dict[str, Any], Any]:
    """The honest JOSE root link alice -> h1 (EdDSA), its payload, and its holder."""
    token, holder = chain(1, encoding="jose", label="jose-base")
    link = token.links[0].encoded
    return link, jose_parts(link)[1], holder


def invocation_payload(link: bytes, **changes: object) -> dict[str, object]:
    out: dict[str, object] = {
        "ver": 2,
        "chn": b64(hashlib.sha256(link).digest()),
        "aud": AUD,
        "act": "calendar/events/read",
        "res": CAL + "/work/standup",
        "arg": {},
        "iat": NOW,
        "jti": b64(b"\x07" * 16),
    }
    out.update(changes)
    return out


def der(r: int, s: int) -> bytes:
    def integer(v: int) -> bytes:
        body = v.to_bytes((v.bit_length() + 8) // 8, "big")
        return b"\x02" + bytes([len(body)]) + body

    seq = integer(r) + integer(s)
    return b"\x30" + bytes([len(seq)]) + seq


def with_payload_text(holder: Any, text: str) -> bytes:
    """A one-link JOSE presentation whose root payload is exactly ``text``, signed by alice."""
    return jose_present_raw([raw_jws(HEADER, text.encode("utf-8"), KEYS("alice"))], holder)
