"""limits.json: resource limits a verifier enforces."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from agentchain import codec
from agentchain._build import claims_of, enc
from agentchain.vectors.generator.build import (
    CAL,
    KEYS,
    NOW,
    chain,
    invocation_claims,
    present,
    present_raw,
    sign_invocation,
)
from agentchain.vectors.generator.cases._common import (
    TYP_LINK,
    alice,
    attestation_bytes,
    one_link,
    relink,
)
from agentchain.vectors.generator.suite import Suite, allow, deny, error, step


@dataclass(frozen=True)
class LimitsRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    data: bytes
    expected: dict[str, object]
    spec: list[str]
    kw: dict[str, Any]


def add_cases(s: Suite) -> None:
    lim = ["limits"]
    link, holder = one_link(label="lim")
    claims = claims_of(link)

    def with_claims(**changes: Any) -> bytes:
        c = dict(claims)
        for k, v in changes.items():
            c[int(k[1:])] = v
        return present_raw([relink(c)], holder)

    caps33 = [["calendar", CAL + "/*"]] + [["calendar", f"{CAL}/{i}/*"] for i in range(32)]
    cav33 = [["==", ".a", 1]] * 33
    deep = ["==", ".a", 1]
    for _ in range(11):
        deep = ["not", deep]  # depth 12: at the limit
    deeper = ["not", deep]
    wide = ["in", ".a", list(range(254))]  # 1 + 1 + 1 + 1 + 254 = 258 nodes > 256
    ok_wide = ["in", ".a", list(range(252))]  # 256 nodes
    rows: list[LimitsRow] = [
        LimitsRow(
            case_id="limit-capabilities-33",
            description="33 capabilities in one link",
            data=with_claims(k9=caps33),
            expected=error("limit_exceeded"),
            spec=["R-5.6-4"],
            kw={},
        ),
        LimitsRow(
            case_id="limit-capabilities-32",
            description="32 capabilities: at the limit",
            data=with_claims(k9=caps33[:32]),
            expected=allow(),
            spec=["R-5.6-4", "R-5.6-1"],
            kw={},
        ),
        LimitsRow(
            case_id="limit-caveats-33",
            description="33 caveats in one link",
            data=with_claims(k10=cav33),
            expected=error("limit_exceeded"),
            spec=["R-5.6-4"],
            kw={},
        ),
        LimitsRow(
            case_id="limit-policy-depth-13",
            description="a caveat nested 13 deep",
            data=with_claims(k10=[deeper]),
            expected=error("limit_exceeded"),
            spec=["R-6.3-1"],
            kw={},
        ),
        LimitsRow(
            case_id="limit-policy-depth-13-unknown-operator",
            description="a caveat nested 13 deep whose innermost operator is unknown: the limits "
            "are checked on the whole statement before its syntax (limit_exceeded, not "
            "caveat_invalid)",
            data=with_claims(k10=[_nested(["nope", ".a", 1], 12)]),
            expected=error("limit_exceeded"),
            spec=["R-6.3-1"],
            kw={},
        ),
        LimitsRow(
            case_id="limit-policy-depth-12",
            description="a caveat nested 12 deep: at the limit",
            data=with_claims(k10=[deep]),
            expected=deny("caveat_failed"),
            spec=["R-6.3-1"],
            kw={},
        ),
        LimitsRow(
            case_id="limit-policy-nodes-258",
            description="a caveat of 258 nodes",
            data=with_claims(k10=[wide]),
            expected=error("limit_exceeded"),
            spec=["R-6.3-1"],
            kw={},
        ),
        LimitsRow(
            case_id="limit-policy-nodes-256",
            description="a caveat of 256 nodes: at the limit",
            data=with_claims(k10=[ok_wide]),
            expected=deny("caveat_failed"),
            spec=["R-6.3-1"],
            kw={},
        ),
        LimitsRow(
            case_id="limit-string-4097",
            description="a purpose of 4097 bytes",
            data=with_claims(k12="p" * 4097),
            expected=error("limit_exceeded"),
            spec=["R-5.2-10"],
            kw={},
        ),
        LimitsRow(
            case_id="limit-string-4096",
            description="a purpose of 4096 bytes: at the limit",
            data=with_claims(k12="p" * 4096),
            expected=allow(),
            spec=["R-5.2-10"],
            kw={},
        ),
    ]
    # CBOR depth: args nested 16 deep inside the invocation payload (payload map is depth 1)
    nested: Any = 0
    for _ in range(15):
        nested = [nested]  # args map (2) + 15 arrays... the payload map is 1, args 2, arrays 3..17
    nested_ok: Any = 0
    for _ in range(14):
        nested_ok = [nested_ok]
    rows.append(
        LimitsRow(
            case_id="limit-cbor-depth-17",
            description="an invocation payload nested 17 deep",
            data=present_raw([link], holder, args={"a": nested}),
            expected=error("limit_exceeded"),
            spec=["R-5.2-10"],
            kw={},
        )
    )
    rows.append(
        LimitsRow(
            case_id="limit-cbor-depth-16",
            description="an invocation payload nested 16 deep: at the limit",
            data=present_raw([link], holder, args={"a": nested_ok}),
            expected=allow(),
            spec=["R-5.2-10"],
            kw={"args": {"a": nested_ok}},
        )
    )
    many = {f"k{i:04}": 0 for i in range(2041)}  # payload 8 pairs + args 2041 pairs = 2049 items
    rows.append(
        LimitsRow(
            case_id="limit-cbor-items-2049",
            description="an invocation payload of 2049 items",
            data=present_raw([link], holder, args=many),
            expected=error("limit_exceeded"),
            spec=["R-5.2-10"],
            kw={},
        )
    )
    for row in rows:
        s.add(
            row.case_id,
            row.description,
            flags=lim,
            spec=[*row.spec, "R-5.6-1"],
            steps=[step(row.data, row.expected, **row.kw)],
        )
    # object and presentation sizes
    big_purpose = with_claims(
        k12="p" * 4000, k9=[["calendar", f"{CAL}/{'x' * 400}/{i}/*"] for i in range(32)]
    )
    s.add(
        "limit-object-bytes",
        "a link over 16384 bytes",
        flags=lim,
        spec=["R-5.6-3", "R-5.6-1"],
        steps=[step(big_purpose, error("limit_exceeded"))],
    )
    links17 = _long_chain(17)
    s.add(
        "limit-links-17",
        "a chain of 17 links",
        flags=lim,
        spec=["R-5.6-4"],
        steps=[step(present_raw(links17[0], links17[1]), error("limit_exceeded"))],
    )
    links16 = _long_chain(16)
    s.add(
        "limit-links-16",
        "a chain of 16 links: at the limit",
        flags=lim,
        spec=["R-5.6-4"],
        steps=[step(present_raw(links16[0], links16[1]), allow())],
    )
    inv = sign_invocation(
        holder, invocation_claims(hashlib.sha256(link).digest(), args={"pad": "x" * 4000})
    )
    filler = enc({1: 1, 2: [link], 3: inv, 4: [b"\x00" * 16000] * 5})
    s.add(
        "limit-presentation-bytes",
        "a container over 65536 bytes",
        flags=lim,
        spec=["R-5.6-2"],
        steps=[step(filler, error("limit_exceeded"))],
    )
    s.add(
        "limit-text-length",
        "a text longer than the presentation cap allows",
        flags=lim,
        spec=["R-5.1-4"],
        steps=[step("ac1c." + "A" * 87_385, error("limit_exceeded"))],
    )
    atts = [attestation_bytes()] * 9
    s.add(
        "limit-attachments-9",
        "nine attestations",
        flags=lim,
        spec=["R-5.8-4"],
        steps=[step(present_raw([link], holder, attestations=atts), error("limit_exceeded"))],
    )
    # the step budget: 3 caveats of 60 likes over a 4096-character text
    likes = ["and", [["like", ".t", "*x*"]] * 60]
    text = "y" * 4096
    s.add(
        "limit-policy-steps",
        "three caveats whose likes exceed 10000 steps: ERROR, denied",
        flags=lim,
        spec=["R-6.3-2", "R-6.3-3"],
        steps=[
            step(
                present_raw(
                    [relink({**claims, 10: [likes, likes, likes]})], holder, args={"t": text}
                ),
                deny("caveat_failed"),
                args={"t": text},
            )
        ],
    )
    two, th = chain(2, caveats=[[likes, likes], [likes, likes]], label="lim-steps")
    s.add(
        "limit-policy-steps-per-link",
        "two links each spending 7800 steps: each has its own budget",
        flags=lim,
        spec=["R-6.3-3"],
        steps=[step(present(two, th, args={"t": "x" * 4096}), allow(), args={"t": "x" * 4096})],
    )


def _long_chain(n: int) -> tuple[list[bytes], Any]:
    """n links built by hand (the issuer refuses to exceed max_links)."""
    keys = [alice(), *(KEYS(f"h{i + 1}") for i in range(n))]
    out: list[bytes] = []
    for i in range(n):
        c: dict[int, object] = {
            1: 1,
            2: keys[i].public_key.thumbprint,
            3: keys[i + 1].public_key.to_cose_key(),
            5: bytes([i + 1]) * 16,
            6: NOW,
            7: NOW,
            8: NOW + 900,
            9: [["calendar", CAL + "/*"]],
            10: [],
            11: 30 - i,
            13: {1: "agent"},
        }
        if out:
            c[4] = hashlib.sha256(out[-1]).digest()
        out.append(codec.sign_object(keys[i], TYP_LINK, c))
    return out, keys[-1]


def _nested(statement: list[object], levels: int) -> list[object]:
    """``statement`` under ``levels`` nots: depth ``levels + 1``."""
    for _ in range(levels):
        statement = ["not", statement]
    return statement
