#!/usr/bin/env python3
"""Differential fuzzing: the native core (agentchain_native) against the pure-Python reference.

The first byte of an input picks the function (an index into TARGETS; out of range: ignored),
the rest is its input. Both backends of agentchain._native run it, and they must agree: the
same value, or the same exception type with the same registry code (for CBOR also the same
message, which names the byte where decoding stopped). Any difference is a finding, as is any
exception that is not an AgentchainError.

Targets 6 and 7 are the verifier's native path (issue 16): one link through claims.rs and
the reference's decoder, and a whole presentation (mutated vectors and generated chains)
through ``Verifier(backend="pure")`` and ``Verifier(backend="native")``: the same decision
and reasons, or the same error type, code and message. Target 8 is the encoder: any value
the reference decodes, encoded again by both backends to the same bytes. Target 9 is the
links the core makes itself (``open_presentation``'s ``build``): a presentation read by the
reference and then by the core, the same objects.

Coverage guidance comes from the instrumented Python reference, whose branches mirror the
native decoder's check for check; the Rust decoders are fuzzed on their own by
``cargo fuzz`` (native/fuzz/).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the ignore: types-atheris omits the package's re-export of import_hook.instrument_imports
with atheris.instrument_imports(include=["agentchain"]):  # type: ignore[attr-defined]
    import common

    from agentchain import MemoryStore, Verifier, _native, codec
    from agentchain.errors import AgentchainError
    from agentchain.limits import DEFAULT_LIMITS as LIMITS
    from agentchain.model import LinkClaims
    from agentchain.verifier._native_chain import NativeChain
    from agentchain.wire import cbor

PURE = _native.backend("pure")
NATIVE = _native.backend("native")  # UsageError, and no fuzzing, where it is not installed
#: the core's own encoder, which answers None where it leaves a value to the reference
_CORE_ENCODE: Callable[[object], bytes | None] = importlib.import_module(
    "agentchain_native"
).cbor_encode
_SIGN1: dict[str, Any] = {"max_depth": 16, "max_items": 2048, "max_string_bytes": 16_384}
#: a valid key of each algorithm, for the signature targets
_KEYS = {alg: common.key("native", alg) for alg in ("Ed25519", "ES256")}


def _outcome(fn: Callable[..., object], *args: object, **kw: object) -> tuple[Any, ...]:
    try:
        return ("ok", fn(*args, **kw))
    except AgentchainError as exc:
        return ("error", type(exc).__name__, exc.code, exc.message)


def _typed(value: object) -> object:
    """The value with its types spelled out, so True and 1 differ."""
    stack: list[object] = [value]
    out: list[object] = []
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            out.append(("list", len(item)))
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            out.append(("dict", len(item)))
            for k, v in reversed(list(item.items())):
                stack.extend((v, k))
        else:
            out.append((type(item).__name__, item))
    return out


def _agree(
    name: str, fn: str, *args: object, messages: bool = False, values: bool = True, **kw: object
) -> None:
    want = _outcome(getattr(PURE, fn), *args, **kw)
    got = _outcome(getattr(NATIVE, fn), *args, **kw)
    if want[0] == got[0] == "ok":
        if values and _typed(want[1]) != _typed(got[1]):
            raise AssertionError(f"{name}: the paths decode different values")
        return
    if not messages:
        want, got = want[:3], got[:3]
    if want != got:
        raise AssertionError(f"{name}: pure {want!r} != native {got!r}")


def cbor_default(data: bytes) -> None:
    _agree("cbor", "cbor_decode", data, messages=True)


def cbor_limits(data: bytes) -> None:
    """The first three bytes are the limits (small, so that every limit is reached)."""
    if len(data) >= 3:
        depth, items, size = data[0] % 20, data[1] % 40, data[2]
        _agree(
            "cbor limits",
            "cbor_decode",
            data[3:],
            messages=True,
            max_depth=depth,
            max_items=items,
            max_string_bytes=size,
        )


def sign1(data: bytes) -> None:
    _agree("COSE_Sign1", "decode_sign1", data, **_SIGN1)


def compact(data: bytes) -> None:
    _agree("JWS", "decode_compact", data, max_bytes=16_384, max_string_bytes=4096)


def base64url(data: bytes) -> None:
    _agree("base64url", "b64decode", data.decode("utf-8", "surrogateescape"))


def key_and_signature(data: bytes) -> None:
    """A raw key (its algorithm from the first byte), then a signature over the rest."""
    if len(data) < 2:
        return
    alg = "Ed25519" if data[0] & 1 == 0 else "ES256"
    size = 32 if alg == "Ed25519" else 65
    raw, rest = data[1 : 1 + size], data[1 + size :]
    _agree("key", "public_key", alg, raw, values=False)  # two key classes, one answer
    key = _KEYS[alg]
    message = rest[64:]
    signatures = (rest[:64], key.sign(message))
    for signature in signatures:
        want = _outcome(PURE.public_key(alg, key.public_key.raw()).verify, signature, message)
        got = _outcome(NATIVE.public_key(alg, key.public_key.raw()).verify, signature, message)
        if want != got:
            raise AssertionError(f"{alg} verify: pure {want!r} != native {got!r}")


_CHAIN = NATIVE.chain
_LINKS = NativeChain(_CHAIN, common.POLICY).decoder({}, {}) if _CHAIN is not None else None
_FALLBACK = common.request_for(common.seed_presentations()[0])


def _link_view(link: codec.Link) -> tuple[object, ...]:
    return (link.claims, link.envelope, link.digest)


def link(data: bytes) -> None:
    """One link through claims.rs and the reference's decoder: the same link or error."""
    if _LINKS is None:
        return
    want = _outcome(lambda: _link_view(codec.decode_unverified(LinkClaims, data, LIMITS)))
    got = _outcome(lambda: _link_view(_LINKS(data, LIMITS)))
    if want[:3] != got[:3]:
        raise AssertionError(f"link: pure {want[:4]!r} != native {got[:4]!r}")


def _decide(verifier: Verifier, form: bytes | str, request: Any) -> tuple[Any, ...]:
    def run() -> object:
        decision = verifier.verify(form, request)
        return (decision.outcome.value, tuple(r.code for r in decision.reasons))

    return _outcome(run)


def presentation(data: bytes) -> None:
    """A whole presentation through Verifier(backend="pure") and (backend="native"): the
    same decision and reasons, or the same error type, code and message (DESIGN.md 8)."""
    form: bytes | str = data.decode("utf-8", "surrogateescape") if data.startswith(b"ac2") else data
    try:
        request = common.request_for(codec.decode_presentation_unverified(form))
    except AgentchainError:
        request = _FALLBACK
    answers = [
        _decide(
            Verifier(common.POLICY, store=MemoryStore(), clock=lambda: common.NOW, backend=b),
            form,
            request,
        )
        for b in ("pure", "native")
    ]
    # the decision and reasons, or the error type and code (messages about hostile bytes may
    # differ beyond ASCII, where Python's repr escapes what Rust keeps: tests/ compare them)
    if answers[0][:3] != answers[1][:3]:
        raise AssertionError(f"verify: pure {answers[0]!r} != native {answers[1]!r}")


def presentation_objects(data: bytes) -> None:
    """A CBOR presentation read by the reference (which remembers its links' values), then
    by the core, which makes each link whose values are remembered itself, and the
    invocation of the common shape: the very objects the reference made (claims, envelopes,
    digests), the same error, or the bytes left to the reference."""
    if _CHAIN is None or codec.container_encoding(data) != "cbor":
        return
    want = _outcome(codec.decode_presentation_unverified, data, LIMITS)
    ids: dict[bytes, bytes] = {}
    open_plain = NativeChain(_CHAIN, common.POLICY).presentation_decoder({}, ids)
    got = _outcome(open_plain, data, LIMITS, None)
    if got == ("ok", None):  # not of the plain shape: the reference reads it
        return
    if want[0] == got[0] == "ok":
        if want[1] != got[1]:
            raise AssertionError("presentation objects: the core made other objects")
    elif want[:3] != got[:3]:  # an error on one side (the whole objects are not shown)
        raise AssertionError(f"presentation objects: pure {want[:3]!r} != native {got[:3]!r}")
    if want[0] == "ok":
        for link in want[1].links:
            if codec.encoding_of(link.envelope.encoded) == "cbor" and link.digest in ids:
                assert ids[link.digest] == codec.decoded_link_id(link), "a link's id differs"


#: selector byte -> target. Append only, so that saved inputs keep their meaning.
def encode(data: bytes) -> None:
    """Whatever the reference decodes, both backends encode to the same bytes (the core's
    own answer, when it gives one, included): the encoder a JOSE link's id is made by."""
    try:
        value = cbor.decode(data, max_depth=16, max_items=256, max_string_bytes=1024)
    except AgentchainError:
        return
    want = PURE.cbor_encode(value)
    if NATIVE.cbor_encode(value) != want:
        raise AssertionError("cbor encode: the paths write different bytes")
    found = _CORE_ENCODE(value)
    if found is not None and found != want:
        raise AssertionError("cbor encode: the core wrote other bytes than the reference")


TARGETS: tuple[Callable[[bytes], None], ...] = (
    cbor_default,  # 0
    cbor_limits,  # 1
    sign1,  # 2
    compact,  # 3
    base64url,  # 4
    key_and_signature,  # 5
    link,  # 6
    presentation,  # 7
    encode,  # 8
    presentation_objects,  # 9
)


@common.accept_only_agentchain_errors
def test_one_input(data: bytes) -> None:
    if data and data[0] < len(TARGETS):
        TARGETS[data[0]](data[1:])


def seeds() -> list[bytes]:
    out: list[bytes] = []
    for p in common.seed_presentations():
        objects = [link.encoded for link in p.links]
        if p.invocation is not None:
            objects.append(p.invocation.encoded)
        out.append(b"\x07" + p.to_bytes())
        out.append(b"\x07" + p.to_text().encode())
        out.extend(b"\x06" + item.encoded for item in p.links)
        if p.encoding == "cbor":
            out.append(b"\x00" + p.to_bytes())
            out.append(b"\x09" + p.to_bytes())
            out.extend(b"\x02" + item for item in objects)
            out.extend(b"\x00" + link.envelope.payload for link in p.links)
            out.extend(b"\x01\x10\x20\xff" + link.envelope.payload for link in p.links[:1])
        else:
            out.extend(b"\x03" + item for item in objects)
            out.extend(b"\x04" + item.split(b".")[1] for item in objects[:1])
    for alg, key in _KEYS.items():
        tag = b"\x00" if alg == "Ed25519" else b"\x01"
        out.append(b"\x05" + tag + key.public_key.raw() + key.sign(b"m") + b"m")
    for item in common.vector_inputs():
        data = common.as_bytes(item)
        if isinstance(item, str) and item.startswith("ac2c."):
            try:
                out.append(b"\x00" + NATIVE.b64decode(item[5:]))
            except AgentchainError:
                out.append(b"\x04" + data[5:])
        elif isinstance(item, bytes):
            out.append(b"\x00" + data)
        out.append(b"\x07" + data)
    out.append(b"\x00" + cbor.encode({1: [LIMITS.max_links, codec.VERSION, -1, "x", b"y"]}))
    out.append(b"\x08" + cbor.encode({"a": [0.5, 1e300, -(2**64), 2**64 - 1], 7: {"": b"z"}}))
    out.extend(
        b"\x08" + link.envelope.payload
        for p in common.seed_presentations()
        for link in p.links
        if p.encoding == "cbor"
    )
    return out


if __name__ == "__main__":
    common.main(test_one_input, seeds)
