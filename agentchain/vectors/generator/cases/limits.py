"""limits.json: resource limits a verifier enforces."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from agentchain import codec, model, policy
from agentchain._build import claims_of, enc
from agentchain.limits import DEFAULT_LIMITS
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
from agentchain.vectors.generator.suite import Suite, allow, deny, error, needs_approval, step


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
    filler = enc({1: codec.VERSION, 2: [link], 3: inv, 4: [b"\x00" * 16000] * 5})
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
        steps=[step("ac2c." + "A" * 87_385, error("limit_exceeded"))],
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
        "limit-policy-steps-shared",
        "two links each spending 7800 steps: one budget for the request, exhausted, denied",
        flags=[*lim, "step-budget"],
        spec=["R-6.3-3"],
        steps=[
            step(
                present(two, th, args={"t": "x" * 4096}),
                deny("caveat_failed"),
                args={"t": "x" * 4096},
            )
        ],
    )
    # spec 5.6: the request's arguments have limits of their own, checked before anything
    # else: the invocation signs {}, so a verifier that skips the check says request_mismatch
    deep = []
    for _level in range(DEFAULT_LIMITS.max_args_depth - 1):
        deep = [deep]
    s.add(
        f"limit-args-depth-{DEFAULT_LIMITS.max_args_depth + 1}",
        f"request arguments nested {DEFAULT_LIMITS.max_args_depth + 1} deep: over the limit",
        flags=lim,
        spec=["R-5.6-5"],
        steps=[step(present_raw([link], holder), error("limit_exceeded"), args={"a": deep})],
    )
    _budget_cases(s)


#: what each main statement of a budget case pins, with the arguments it runs over
_PINNED: list[tuple[str, str, list[Any], dict[str, Any]]] = [
    (
        "like-segments",
        "like: one step per literal segment (41 per element here)",
        ["all", ".xs", ["like", ".", "*" * 40]],
        {"xs": [""] * 200},
    ),
    (
        "like-characters",
        "like: one step per 64 code points of the text",
        ["and", [["all", ".ts", ["like", ".", "a*"]]] * 20],
        {"ts": ["a" + "x" * 3999] * 3},
    ),
    (
        "in-elements",
        "in: one step per data item of the literal, charged before any match",
        ["all", ".xs", ["in", ".", [*[[0, 1]] * 60, 2]]],
        {"xs": [2] * 40},
    ),
    (
        "all-elements",
        "all: one step per element visited, plus its statement",
        ["all", ".xs", ["==", ".", 0]],
        {"xs": [0] * 1600},
    ),
    (
        "any-elements",
        "any: one step per element visited, every element (no early stop)",
        ["any", ".xs", ["==", ".", 0]],
        {"xs": [0] * 1600},
    ),
    (
        "selector-steps",
        "selectors: one step per step of the path",
        ["all", ".xs", ["==", ".a.b.c.d.e", 0]],
        {"xs": [{"a": {"b": {"c": {"d": {"e": 0}}}}}] * 300},
    ),
]

#: a padding caveat ["in", ".z", [1, ..., 1, 0]] of k elements over z = 0 costs k + 3 steps
_PAD_MIN, _PAD_MAX = 4, 255
#: a bulk padding caveat: all over p = [0] * 100 costs 1 + 1 + 100 * (1 + 1 + 0 + 1) steps
_BULK = ["all", ".p", ["==", ".", 0]]
_BULK_STEPS = 302
_BULK_ARGS: dict[str, Any] = {"p": [0] * 100, "z": 0}


def _padding(steps: int) -> list[list[Any]]:
    """TRUE caveats over ``_BULK_ARGS`` that cost exactly ``steps`` together (spec 6.3)."""
    pads: list[list[Any]] = []
    while steps > _BULK_STEPS + 2 * _PAD_MAX:
        pads.append(_BULK)
        steps -= _BULK_STEPS
    while steps:
        cost = steps if steps <= _PAD_MAX else min(_PAD_MAX, steps - _PAD_MIN)
        assert cost >= _PAD_MIN, steps
        pads.append(["in", ".z", [*[1] * (cost - 4), 0]])
        steps -= cost
    return pads


def _budget_cases(s: Suite) -> None:
    """spec 6.3: the charges, pinned. Each case spends exactly the budget (allowed) or one
    step more (denied): an implementation that charges less, or more, fails one of the two."""
    budget = DEFAULT_LIMITS.max_policy_steps
    for slug, description, statement, plain in _PINNED:
        args = {**plain, **_BULK_ARGS}
        probe = policy.Evaluation(args)
        assert probe.caveats([model.parse_statement(statement)]).outcome == "true"
        main = probe.budget.spent
        for over, expected in ((0, allow()), (1, deny("caveat_failed"))):
            caveats = [statement, *_padding(budget + over - main)]
            check = policy.Evaluation(args)
            check.caveats([model.parse_statement(c) for c in caveats])
            assert check.budget.spent == budget + over, (slug, check.budget.spent)
            tok, holder = chain(1, caveats=[caveats], label=f"lim-budget-{slug}")
            s.add(
                f"limit-steps-{slug}-{'over' if over else 'exact'}",
                f"{description}: {budget + over} steps in all, "
                + ("one over the budget: denied" if over else "exactly the budget: allowed"),
                flags=["limits", "step-budget"],
                spec=["R-6.3-2", "R-6.3-3"],
                steps=[step(present(tok, holder, args=args), expected, args=args)],
            )
    # an approval requirement's `when` is charged to the same budget, after every caveat:
    # ["==", ".z", 1] costs 3 and is FALSE (no approval needed) unless the budget runs out,
    # when it is ERROR, and ERROR applies the requirement (spec 9.2)
    when = model.ApprovalRequirement(when=model.parse_statement(["==", ".z", 1]))
    when_args: dict[str, Any] = {"xs": [0] * 1600, **_BULK_ARGS}
    spender: list[Any] = ["all", ".xs", ["==", ".", 0]]  # 4802 steps
    for over, expected in ((0, allow()), (1, needs_approval())):
        caveats = [spender, *_padding(budget - 3 + over - 4802)]
        tok, holder = chain(
            1, caveats=[caveats], require_approval=[[when]], label="lim-budget-when"
        )
        s.add(
            f"limit-steps-approval-when-{'over' if over else 'exact'}",
            "caveats and an approval requirement's when share one budget: "
            + ("the when is ERROR, approval required" if over else "exactly the budget: allowed"),
            flags=["limits", "step-budget", "approval"],
            spec=["R-6.3-3", "R-9.2-2"],
            steps=[step(present(tok, holder, args=when_args), expected, args=when_args)],
        )


def _long_chain(n: int) -> tuple[list[bytes], Any]:
    """n links built by hand (the issuer refuses to exceed max_links)."""
    keys = [alice(), *(KEYS(f"h{i + 1}") for i in range(n))]
    out: list[bytes] = []
    for i in range(n):
        c: dict[int, object] = {
            1: codec.VERSION,
            2: keys[i].public_key.thumbprint,
            3: keys[i + 1].public_key.to_cose_key(),
            6: NOW,
            7: NOW,
            8: NOW + 900,
            9: [["calendar", CAL + "/*"]],
            10: [],
            11: 30 - i,
            13: {1: "agent"},
        }
        if out:  # spec 5.5 (0.2): below the root, a parent and no issuer
            c[4] = hashlib.sha256(out[-1]).digest()
            del c[2]
        out.append(codec.sign_object(keys[i], TYP_LINK, c))
    return out, keys[-1]


def _nested(statement: list[object], levels: int) -> list[object]:
    """``statement`` under ``levels`` nots: depth ``levels + 1``."""
    for _ in range(levels):
        statement = ["not", statement]
    return statement
