"""agentchain._build: the one toolkit for hand-made objects, honest or deliberately broken.

The tests, the vector generator, agentchain.testing and the fuzz seeds all build through it,
so what it makes is checked here against the real decoder and verifier: an honest object it
assembles by hand is accepted, and each deliberate defect is refused with its own code.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from agentchain import _build
from agentchain.codec import Encoding, decode_presentation_unverified
from agentchain.errors import AgentchainError
from agentchain.wire import cbor, jws
from tests.helpers import (
    AGENT,
    ALICE,
    AUD,
    MALLORY,
    NOW,
    REQUEST,
    SUB,
    make_verifier,
    standard_presentation,
    standard_token,
)


def _code(data: bytes) -> str:
    try:
        decision = make_verifier().verify(data, REQUEST)
    except AgentchainError as exc:
        return exc.code
    return str(decision.outcome if decision.outcome != "deny" else decision.reasons[0])


def _links(encoding: Encoding = "cbor") -> list[bytes]:
    return [link.encoded for link in standard_token(encoding=encoding).links]


def test_rng_is_a_counter_run_through_sha256() -> None:
    rng = _build.Rng("label")
    first = hashlib.sha256(b"label" + (1).to_bytes(8, "big")).digest()
    second = hashlib.sha256(b"label" + (2).to_bytes(8, "big")).digest()
    assert rng(40) == first + second[:8]
    assert _build.Rng(b"label")(40) == first + second[:8]


@pytest.mark.parametrize(
    ("arg", "shortest"),
    [
        (0, "00"),
        (23, "17"),
        (24, "1818"),
        (255, "18ff"),
        (256, "190100"),
        (2**32, "1b0000000100000000"),
    ],
)
def test_head_shortest_wide_and_forced_widths(arg: int, shortest: str) -> None:
    assert _build.head(0, arg).hex() == shortest
    assert cbor.decode(_build.head(0, arg)) == arg
    if arg < 2**32:
        # R-5.2-5: one size longer than needed is another spelling, which the decoder refuses
        wide = _build.head(0, arg, wide=True)
        assert len(wide) > len(_build.head(0, arg))
        with pytest.raises(AgentchainError) as info:
            cbor.decode(wide)
        assert info.value.code == "cbor_noncanonical"
    assert _build.head(5, 3, 1).hex() == "b803"


def test_hand_assembled_presentation_is_the_codec_s_own() -> None:
    honest = standard_presentation()
    links = [link.encoded for link in honest.links]
    assert honest.invocation is not None
    rebuilt = _build.container(links, honest.invocation.encoded)
    assert rebuilt == honest.to_bytes()
    assert _build.claims_of(links[0]) == cbor.decode(_build.sign1_parts(links[0])[1])


def test_present_raw_binds_an_invocation_to_the_last_link() -> None:
    links = _links()
    data = _build.present_raw(
        links,
        SUB,
        audience=AUD,
        action=REQUEST.action,
        resource=REQUEST.resource,
        iat=NOW,
    )
    assert _code(data) == "allow"
    invocation = decode_presentation_unverified(data).invocation
    assert invocation is not None
    assert invocation.claims.chain == hashlib.sha256(links[-1]).digest()


def test_resign_and_with_signature_make_the_defect_asked_for() -> None:
    from tests.helpers import invoke_raw

    links = _links()
    # re-signed by someone else than its issuer: the signature no longer checks
    forged = _build.resign(links[1], MALLORY)
    assert _code(invoke_raw([links[0], forged], SUB)) == "signature_invalid"
    # the same claims re-signed by the true issuer: honest again
    assert _code(invoke_raw([links[0], _build.resign(links[1], AGENT)], SUB)) == "allow"
    # a well-formed signature, of another object
    broken = _build.with_signature(links[1], _build.sign1_parts(links[0])[2])
    assert _code(invoke_raw([links[0], broken], SUB)) == "signature_invalid"


def test_raw_jws_spells_json_the_one_way_jws_dumps_does() -> None:
    header = {"typ": "x", "alg": "Ed25519"}
    compact = _build.raw_jws(header, {"b": 1, "a": [1, 2]}, ALICE)
    h, p, _ = compact.split(b".")
    assert jws.b64decode(h.decode()) == jws.dumps(header) == b'{"alg":"Ed25519","typ":"x"}'
    assert jws.b64decode(p.decode()) == b'{"a":[1,2],"b":1}'
    assert _build.jose_parts(compact)[:2] == (header, {"b": 1, "a": [1, 2]})
    with pytest.raises(ValueError, match="signer or a signature"):
        _build.raw_jws(header, {}, None)


def test_jose_objects_by_hand_verify_and_their_defects_do_not() -> None:

    links = _links("jose")
    kw: dict[str, Any] = {
        "audience": AUD,
        "action": REQUEST.action,
        "resource": REQUEST.resource,
        "iat": NOW,
    }
    assert _code(_build.present_raw(links, SUB, encoding="jose", **kw)) == "allow"
    moved = _build.jose_resign(links[1], AGENT, {"exp": NOW + 10**6})
    assert _code(_build.present_raw([links[0], moved], SUB, encoding="jose", **kw)) != "allow"
    unknown = _build.jose_container(links, extra={"zzz": 1})
    with pytest.raises(AgentchainError):
        decode_presentation_unverified(unknown)


def test_readers_of_broken_bytes_answer_none() -> None:
    assert _build.try_decode(b"\xff") is None
    assert _build.try_json(b"{") is None
    assert _build.try_jose_bytes("!!") is None
    assert _build.try_jose_bytes(jws.b64encode(b"\x01")) == b"\x01"
