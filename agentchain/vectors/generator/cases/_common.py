"""What the CBOR-side case modules share: curve constants and one-link helpers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from agentchain import codec
from agentchain._build import claims_of, pairs, sign_raw
from agentchain.crypto import EDDSA
from agentchain.issuer import attest
from agentchain.vectors.generator.build import KEYS, NOW, chain, present, present_raw

P: Final = 2**255 - 19


L: Final = 2**252 + 27742317777372353535851937790883648493


N256: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


ED_D: Final = (-121665 * pow(121666, -1, P)) % P


SMALL_ORDER: Final = {
    "y0": "0000000000000000000000000000000000000000000000000000000000000000",
    "identity": "0100000000000000000000000000000000000000000000000000000000000000",
    "p-minus-1": "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "order8a": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "order8b": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
}


TYP_LINK: Final = codec.TYP_LINK


def alice(alg: str = EDDSA) -> Any:
    return KEYS("alice", alg)


def one_link(alg: str = EDDSA, label: str = "base") -> tuple[bytes, Any]:
    token, holder = chain(1, alg=alg, label=label)
    return token.links[0].encoded, holder


def relink(claims: Mapping[Any, object], alg: str = EDDSA) -> bytes:
    return codec.sign_object(alice(alg), TYP_LINK, dict(claims))


def mutated_link(
    changes: Mapping[Any, object] | None = None, drop: tuple[int, ...] = (), alg: str = EDDSA
) -> bytes:
    """A one-link presentation whose link claims carry ``changes``, re-signed by alice."""
    link, holder = one_link(alg)
    claims = claims_of(link)
    claims.update(changes or {})
    for k in drop:
        claims.pop(k, None)
    return present_raw([relink(claims, alg)], holder)


def raw_payload_link(payload: bytes, alg: str = EDDSA) -> bytes:
    """A one-link presentation whose link payload is exactly ``payload``, signed by alice."""
    _, holder = one_link(alg)
    return present_raw([sign_raw(alice(alg), TYP_LINK, payload)], holder)


def link_items() -> list[tuple[bytes, bytes]]:
    link, _ = one_link()
    return pairs(claims_of(link))


def valid_presentation(alg: str = EDDSA, depth: int = 1, **kw: Any) -> codec.Presentation:
    token, holder = chain(depth, alg=alg)
    return present(token, holder, **kw)


def attestation_bytes() -> bytes:
    _, holder = one_link()
    return attest(
        KEYS("attester"), holder.public_key, code={"sha256": b"\x11" * 32}, now=NOW
    ).encoded
