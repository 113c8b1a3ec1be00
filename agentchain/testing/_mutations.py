"""Strategies for what a verifier must refuse: other CBOR and JSON spellings, mutations."""

from __future__ import annotations

import json as _json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from agentchain import codec
from agentchain._build import container, head, jose_container, raw_jws, sign_raw
from agentchain.codec import Presentation
from agentchain.crypto import PrivateKey
from agentchain.testing._chains import Scenario, _present, _scenario, chains
from agentchain.testing._data import ENCODINGS, NOW, _nonempty
from agentchain.wire import cbor, jws

#: the kinds of :class:`Mutation`
MUTATIONS: Final = (
    "bit_flip",
    "truncate",
    "splice_link",
    "reorder",
    "noncanonical",
    "noncanonical_signed",
    "text",
    "reserialized",
)


# ---------------------------------------------------------------------------
# non-canonical CBOR


def _items(value: object) -> list[object]:
    """Every item of ``value`` in encoding order (pre-order; map keys sorted as encoded)."""
    out: list[object] = [value]
    if isinstance(value, list):
        for item in value:
            out.extend(_items(item))
    elif isinstance(value, dict):
        for k, v in sorted(value.items(), key=lambda kv: cbor.encode(kv[0])):
            out.extend(_items(k))
            out.extend(_items(v))
    return out


def _head_of(value: object) -> tuple[int, int]:
    if isinstance(value, bool) or value is None:
        return 7, {False: 20, True: 21, None: 22}[value]
    if isinstance(value, int):
        return (0, value) if value >= 0 else (1, -1 - value)
    if isinstance(value, bytes):
        return 2, len(value)
    if isinstance(value, str):
        return 3, len(value.encode())
    if isinstance(value, list):
        return 4, len(value)
    if isinstance(value, dict):
        return 5, len(value)
    raise TypeError(f"not protocol data: {type(value).__name__}")


def _loose(value: object, target: int, style: str, counter: list[int]) -> bytes:
    """``value`` encoded canonically except item number ``target``, written in ``style``."""
    here = counter[0] == target
    counter[0] += 1
    major, arg = _head_of(value)
    indefinite = here and style == "indefinite" and major in (2, 3, 4, 5)
    duplicate = here and style == "duplicate_key" and isinstance(value, dict) and value
    count = arg + 1 if duplicate else arg
    if here and style == "bignum" and major in (0, 1):
        # a tagged bignum (RFC 8949 3.4.3): another spelling of the integer, refused as a tag
        magnitude = arg.to_bytes(max(1, (arg.bit_length() + 7) // 8), "big")
        return bytes([0xC2 + major]) + head(2, len(magnitude)) + magnitude
    if indefinite:
        lead = bytes([(major << 5) | 31])
    else:
        lead = head(major, count, wide=here and style == "wide_head")
    body = b""
    if isinstance(value, bytes):
        body = head(2, arg) + value if indefinite else value
    elif isinstance(value, str):
        raw = value.encode()
        body = head(3, arg) + raw if indefinite else raw
    elif isinstance(value, list):
        body = b"".join(_loose(v, target, style, counter) for v in value)
    elif isinstance(value, dict):
        pairs = sorted(value.items(), key=lambda kv: cbor.encode(kv[0]))
        if here and style == "unsorted":
            pairs.reverse()
        parts = [
            _loose(k, target, style, counter) + _loose(v, target, style, counter) for k, v in pairs
        ]
        if duplicate:
            parts.append(parts[0])
        body = b"".join(parts)
    return lead + body + (b"\xff" if indefinite else b"")


def noncanonical_encodings(value: Any) -> SearchStrategy[bytes]:
    """Encodings of ``value`` that a strict decoder must refuse (spec 5.2).

    One item is written with a longer head than needed, as an indefinite-length
    item, as a tagged bignum, with its map keys out of order, or with a repeated
    key. Every result differs from ``cbor.encode(value)``.
    """
    items = _items(value)
    choices: list[tuple[int, str]] = []
    for index, item in enumerate(items):
        _, arg = _head_of(item)
        if arg < 2**32:
            choices.append((index, "wide_head"))
        if isinstance(item, int) and not isinstance(item, bool):
            choices.append((index, "bignum"))
        if isinstance(item, (bytes, str, list, dict)):
            choices.append((index, "indefinite"))
        if isinstance(item, dict) and len(item) >= 2:
            choices.append((index, "unsorted"))
        if isinstance(item, dict) and item:
            choices.append((index, "duplicate_key"))
    canonical = cbor.encode(value)
    return (
        st.sampled_from(choices)
        .map(lambda c: _loose(value, c[0], c[1], [0]))
        .filter(lambda b: b != canonical)
    )


# ---------------------------------------------------------------------------
# other spellings of JSON (spec/jose.md J.2)

#: spellings a strict reader accepts: J.2 allows whitespace, JSON has no member order,
#: and an escape is JSON; over signed bytes they change the bytes, not the meaning
JSON_ACCEPTED: Final = ("spaced", "reordered", "escaped")
#: spellings J.2 refuses: a repeated member, a fraction, an integer beyond 2^53-1,
#: a byte order mark, something after the value
JSON_REFUSED: Final = ("duplicate", "fraction", "big_int", "bom", "trailing")


def _spell(value: dict[str, Any], style: str) -> bytes:
    canonical = jws.dumps(value).decode("utf-8")
    first = sorted(value)[0]
    if style == "spaced":
        text = _json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + " \n\t\r"
    elif style == "reordered":
        text = _json.dumps(dict(sorted(value.items(), reverse=True)), ensure_ascii=False)
    elif style == "escaped":
        # the first member name's first character, and every "A" (only ever inside a string)
        text = _json.dumps(value, sort_keys=True, separators=(",", ":"))
        text = f'{{"\\u{ord(text[2]):04x}' + text[3:].replace("A", "\\u0041")
    elif style == "duplicate":
        text = canonical[:-1] + "," + _json.dumps(first) + ":" + _json.dumps(value[first]) + "}"
    elif style in ("fraction", "big_int"):
        name = next(k for k in sorted(value) if type(value[k]) is int)
        number = f"{value[name]}.0" if style == "fraction" else str(2**53 + abs(value[name]))
        text = _json.dumps({**value, name: "@"}, sort_keys=True, separators=(",", ":"))
        text = text.replace('"@"', number, 1)
    elif style == "bom":
        text = "\ufeff" + canonical
    elif style == "trailing":
        text = canonical + "{}"
    else:
        raise InvalidArgument(f"unknown JSON spelling {style!r}")
    return text.encode("utf-8")


def json_spellings(value: Mapping[str, Any], *, accepted: bool = True) -> SearchStrategy[bytes]:
    """Other spellings of the JSON object ``value``: with ``accepted``, ones a strict
    reader takes as the same object (whitespace, member order, escapes); without,
    ones spec/jose.md J.2 refuses (a repeated member, a fraction, an integer beyond
    2^53-1, a byte order mark, trailing data). None equals :func:`jws.dumps`'s."""
    obj = dict(value)
    if not obj:
        raise InvalidArgument("needs a JSON object with at least one member")
    styles = [
        style
        for style in (JSON_ACCEPTED if accepted else JSON_REFUSED)
        if style not in ("fraction", "big_int") or any(type(v) is int for v in obj.values())
    ]
    canonical = jws.dumps(obj)
    return (
        st.sampled_from(styles)
        .map(lambda style: _spell(obj, style))
        .filter(lambda b: b != canonical)
    )


def _loads(data: bytes) -> dict[str, Any]:
    value = _json.loads(data)
    if not isinstance(value, dict):
        raise AssertionError("a JOSE header, payload or container is a JSON object")
    return value


def _respelled(draw: st.DrawFn, compact: bytes, signer: PrivateKey, accepted: bool) -> bytes:
    """``compact`` with its header or payload spelled otherwise and signed again by ``signer``;
    or, refused too, with its signature's base64url padded (spec 5.1)."""
    h, p, _ = compact.split(b".")
    header, payload = jws.b64decode(h.decode()), jws.b64decode(p.decode())
    if not accepted and draw(st.integers(0, 5)) == 0:
        return compact + b"=="  # 64 signature bytes: 86 characters, two padding symbols
    if draw(st.booleans()):
        header = draw(json_spellings(_loads(header), accepted=accepted))
    else:
        payload = draw(json_spellings(_loads(payload), accepted=accepted))
    return raw_jws(header, payload, signer)


# ---------------------------------------------------------------------------
# mutations


@dataclass(frozen=True, slots=True)
class Mutation:
    """A changed presentation (``data``: bytes or text form) and what it was made from.

    A verifier must refuse it (a typed error, or a decision other than allow)
    unless it decodes to exactly the original presentation, or, when
    ``equivalent``, decide exactly as on the original: a JOSE object whose JSON
    was spelled otherwise and signed again by its signer says the same thing
    (spec/jose.md J.2: the signature covers the bytes as received).
    """

    kind: str
    scenario: Scenario
    data: bytes | str
    note: str = field(default="")
    equivalent: bool = field(default=False)


def _container(
    links_: Sequence[bytes],
    invocation: bytes | None,
    attestations_: Sequence[bytes],
    approvals_: Sequence[bytes],
) -> bytes:
    if links_ and links_[0][:1] != b"\x84":  # a JWS compact: the JSON container
        return jose_container(links_, invocation, attestations_, approvals_)
    return container(links_, invocation, attestations_, approvals_)


def _parts(p: Presentation) -> tuple[list[bytes], bytes | None, list[bytes], list[bytes]]:
    return (
        [link.encoded for link in p.links],
        p.invocation.encoded if p.invocation is not None else None,
        [a.encoded for a in p.attestations],
        [a.encoded for a in p.approvals],
    )


_Mutator = Callable[[st.DrawFn, Scenario], tuple[bytes | str, str]]


def _bit_flip(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    data = bytearray(s.presentation.to_bytes())
    # aim inside one signed object half of the time: otherwise most flips break the container
    links_, inv, att, appr = _parts(s.presentation)
    objects = [*links_, *([inv] if inv is not None else []), *att, *appr]
    target = draw(st.none() | st.sampled_from(objects))
    start, size = (0, len(data)) if target is None else (bytes(data).find(target), len(target))
    if s.chain.encoding == "jose" and target is not None and draw(st.booleans()):
        # a JWS compact is text: one base64url symbol (or a dot) for another
        at = start + draw(st.integers(0, size - 1))
        symbol = draw(st.sampled_from(_B64URL + ".").filter(lambda c: ord(c) != data[at]))
        data[at] = ord(symbol)
        return bytes(data), f"character {at} -> {symbol!r}"
    at = start * 8 + draw(st.integers(0, size * 8 - 1))
    data[at // 8] ^= 1 << (at % 8)
    return bytes(data), f"bit {at}"


def _truncate(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    data = s.presentation.to_bytes()
    end = draw(st.integers(0, len(data) - 1))
    return data[:end], f"first {end} bytes"


def _splice_link(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    other = draw(chains(encodings=(s.chain.encoding,), max_links=3, now=s.now))
    links_, inv, att, appr = _parts(s.presentation)
    i = draw(st.integers(0, len(links_) - 1))
    j = draw(st.integers(0, len(other.token.links) - 1))
    links_[i] = other.token.links[j].encoded
    return _container(links_, inv, att, appr), f"link {i} <- other chain's link {j}"


def _reorder(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    links_, inv, att, appr = _parts(s.presentation)
    if len(links_) >= 2:
        order = draw(st.permutations(range(len(links_))).filter(lambda o: list(o) != sorted(o)))
        return _container([links_[k] for k in order], inv, att, appr), f"links in order {order}"
    # one link: duplicate it, or move the invocation into the links
    if inv is not None and draw(st.booleans()):
        return _container([inv], links_[0], att, appr), "link and invocation swapped"
    return _container(links_ * 2, inv, att, appr), "the link twice"


def _noncanonical(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    if s.chain.encoding == "jose":
        # the JSON container is not signed: any spelling J.2 accepts holds the same objects
        container = _loads(s.presentation.to_bytes())
        spelled = draw(json_spellings(container, accepted=draw(st.booleans())))
        return spelled, "container spelled otherwise"
    top = cbor.decode(s.presentation.to_bytes())
    return draw(noncanonical_encodings(top)), "container re-encoded non-canonically"


def _noncanonical_signed(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    """A link's payload re-encoded non-canonically and correctly signed again by its signer:
    signatures cover stored bytes, so the signature is valid, and strict decoding must refuse."""
    links_, inv, att, appr = _parts(s.presentation)
    i = draw(st.integers(0, len(links_) - 1))
    link = s.presentation.links[i]
    signer = s.chain.keys[i]
    if s.chain.encoding == "jose":
        # refused spellings fail decoding; accepted ones change the link's digest (J.6),
        # which its child or the invocation names: the chain breaks either way
        links_[i] = _respelled(draw, link.encoded, signer, accepted=draw(st.booleans()))
        return _container(links_, inv, att, appr), f"link {i} spelled otherwise, re-signed"
    payload = draw(noncanonical_encodings(cbor.decode(link.envelope.payload)))
    links_[i] = sign_raw(signer, codec.TYP_LINK, payload)
    return _container(links_, inv, att, appr), f"link {i} payload non-canonical, re-signed"


_B64URL: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _text(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    text = s.presentation.to_text()
    prefix, body = text[:5], text[5:]
    choice = draw(st.integers(0, 4))
    if choice == 0:
        others = [
            p for p in ("ac1j.", "ac1c.", "ac2c.", "AC1C.", "AC1J.", "ac1j", "") if p != prefix
        ]
        return draw(st.sampled_from(others)) + body, "prefix"
    if choice == 1:
        return text + draw(st.sampled_from(("=", "==", "A", "AA"))), "padding or extra symbols"
    if choice == 2:
        at = draw(st.integers(5, len(text) - 1))
        return text[:at] + draw(st.sampled_from((" ", "\n", "+", "/", "."))) + text[
            at:
        ], "a stray character"
    if choice == 3:
        at = draw(st.integers(5, len(text) - 1))
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        # another symbol: drawing the one already there would leave the text unchanged
        other = draw(st.sampled_from(alphabet.replace(text[at], "")))
        return text[:at] + other + text[at + 1 :], f"symbol {at} replaced"
    # spec 5.1: ASCII whitespace around the text is ignored, any other character refused
    space = draw(st.sampled_from((" ", "\n", "\t", "\r\n", "\u00a0", "\u2003", "\x1c", "\x85")))
    return space + prefix + body + space, f"surrounded by {space!r}"


def _reserialized(draw: st.DrawFn, s: Scenario) -> tuple[bytes | str, str]:
    """The invocation spelled otherwise and correctly signed again by the holder: in JOSE
    with a spelling J.2 accepts (nothing names the invocation's bytes, so it must be
    decided as before); in CBOR non-canonically, which spec 5.2 refuses."""
    links_, _, att, appr = _parts(s.presentation)
    invocation = _present(s.presentation.invocation)
    holder = s.chain.holder
    if s.chain.encoding == "jose":
        inv = _respelled(draw, invocation.encoded, holder, accepted=True)
    else:
        payload = draw(noncanonical_encodings(cbor.decode(invocation.envelope.payload)))
        inv = sign_raw(holder, codec.TYP_INVOCATION, payload)
    return _container(links_, inv, att, appr), "invocation spelled otherwise, re-signed"


_MUTATORS: Final[dict[str, _Mutator]] = {
    "bit_flip": _bit_flip,
    "truncate": _truncate,
    "splice_link": _splice_link,
    "reorder": _reorder,
    "noncanonical": _noncanonical,
    "noncanonical_signed": _noncanonical_signed,
    "text": _text,
    "reserialized": _reserialized,
}


@st.composite
def _mutation(
    draw: st.DrawFn, *, base: SearchStrategy[Scenario], kinds: tuple[str, ...]
) -> Mutation:
    s = draw(base)
    kind = draw(st.sampled_from(kinds))
    data, note = _MUTATORS[kind](draw, s)
    equivalent = kind == "reserialized" and s.chain.encoding == "jose"
    return Mutation(kind=kind, scenario=s, data=data, note=note, equivalent=equivalent)


def mutations(
    *, scenarios: SearchStrategy[Scenario] | None = None, kinds: Sequence[str] = MUTATIONS
) -> SearchStrategy[Mutation]:
    """Mutations of allowed scenarios: bit flips (in JOSE also one symbol of a compact for
    another), truncation, a link spliced in from another chain, reordering, non-canonical
    re-encodings (also correctly re-signed ones; in JOSE, the container or a signed
    object's JSON spelled otherwise) and changes to the text form."""
    chosen = _nonempty(kinds, "kinds")
    unknown = set(chosen) - set(MUTATIONS)
    if unknown:
        raise InvalidArgument(f"unknown mutation kinds {sorted(unknown)}; known: {MUTATIONS}")
    base = (
        scenarios
        if scenarios is not None
        else _scenario(encodings=ENCODINGS, max_links=3, factors=True, now=NOW)
    )
    return _mutation(base=base, kinds=chosen)
