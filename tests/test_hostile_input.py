"""Hostile input is cheap: oversized or deeply nested input is refused before real work."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from agentchain import DecodeError, MemoryStore, Verifier, codec
from agentchain.wire import cbor, cose
from tests.helpers import NOW, REQUEST, assemble, make_policy, standard_presentation

MB = 1 << 20
VALID = standard_presentation().to_bytes()


def verify(data: bytes | str) -> None:
    Verifier(make_policy(), store=MemoryStore(), clock=lambda: NOW).verify(data, REQUEST)


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test if any decoder (base64, CBOR, COSE) or signature check runs."""

    def forbidden(*_args: object, **_kwargs: object) -> None:
        pytest.fail("a decoder or a signature check ran on input over the limits")

    monkeypatch.setattr(cbor, "decode", forbidden)
    monkeypatch.setattr(cose, "decode_sign1", forbidden)
    # where the codec looks them up (its private modules bind them by name)
    monkeypatch.setattr("agentchain.codec._text.b64decode", forbidden)
    monkeypatch.setattr("agentchain.codec._presentation.b64decode", forbidden)
    monkeypatch.setattr("agentchain.codec._presentation.decode_unverified", forbidden)
    monkeypatch.setattr("agentchain.crypto.PublicKey.verify", forbidden)
    yield


def refused(data: bytes | str, code: str = "limit_exceeded") -> None:
    with pytest.raises(DecodeError) as info:
        verify(data)
    assert info.value.code == code


@pytest.mark.usefixtures("no_decoding")
def test_a_megabyte_presentation_is_refused_before_decoding() -> None:
    # R-5.6-2: bytes and text form, well-formed-looking or not
    refused(b"\xa2" + b"\x00" * MB)
    refused(VALID + b"\x00" * MB)
    refused("ac2c." + "A" * MB)
    refused("  ac2c." + "Q" * MB + "\n")


@pytest.mark.usefixtures("no_decoding")
def test_deep_nesting_over_the_size_cap_is_refused_before_decoding() -> None:
    refused(b"\x81" * MB + b"\x00")
    refused("ac2c." + codec.b64encode(b"\x81" * MB + b"\x00"))


def test_deep_nesting_under_the_size_cap_stops_without_recursion() -> None:
    # under the byte cap the container is decoded, by an iterative decoder that stops at
    # depth 3: with almost no stack left, a recursive decoder would raise RecursionError
    nested = b"\x81" * 60_000 + b"\x00"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(60, len(_frames()) + 40))
    try:
        refused(nested)
        refused("ac2c." + codec.b64encode(nested))
        refused(b"\xa1\x01" * 30_000 + b"\x00")  # maps, too
    finally:
        sys.setrecursionlimit(limit)


def _frames() -> list[object]:
    frames = []
    frame = sys._getframe()
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back  # type: ignore[assignment]
    return frames


def test_an_oversized_link_is_refused_before_it_is_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # R-5.6-3: the container is small enough to read; the link inside it is not
    def forbidden(*_args: object, **_kwargs: object) -> None:
        pytest.fail("an oversized link reached the COSE decoder")

    monkeypatch.setattr(cose, "decode_sign1", forbidden)
    refused(assemble([b"\x84" + b"\x00" * 20_000]))
