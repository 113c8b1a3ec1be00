"""context.json: audience, request binding and replay."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from agentchain.vectors.generator.build import AUD, KEYS, NOW, RESOURCE, chain, present
from agentchain.vectors.generator.suite import Suite, allow, deny, error, step


@dataclass(frozen=True)
class ContextMismatchRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    req: Any
    code: str


def add_cases(s: Suite) -> None:
    token, holder = chain(2, label="ctx")
    s.add(
        "ctx-audience-other-service",
        "an invocation for https://mail.example",
        flags=["audience"],
        spec=["R-8.2-7"],
        steps=[
            step(present(token, holder, audience="https://mail.example"), deny("audience_mismatch"))
        ],
    )
    s.add(
        "ctx-audience-trailing-slash",
        "audience https://cal.example/ (exact strings)",
        flags=["audience"],
        spec=["R-8.2-7"],
        steps=[step(present(token, holder, audience=AUD + "/"), deny("audience_mismatch"))],
    )
    s.add(
        "ctx-audience-case",
        "audience in upper case",
        flags=["audience"],
        spec=["R-8.2-7"],
        steps=[step(present(token, holder, audience=AUD.upper()), deny("audience_mismatch"))],
    )
    p = present(token, holder, args={"n": 1, "flag": True})
    mism = [
        ContextMismatchRow(
            case_id="ctx-request-other-action",
            description="the request names another action",
            req={"action": "calendar/events/readx"},
            code="request_mismatch",
        ),
        ContextMismatchRow(
            case_id="ctx-request-other-resource",
            description="the request names another resource",
            req={"resource": RESOURCE + "x"},
            code="request_mismatch",
        ),
        ContextMismatchRow(
            case_id="ctx-request-args-true-vs-1",
            description="signed flag true, request flag 1",
            req={"args": {"n": 1, "flag": 1}},
            code="request_mismatch",
        ),
        ContextMismatchRow(
            case_id="ctx-request-args-extra",
            description="the request has one more argument",
            req={"args": {"n": 1, "flag": True, "x": 0}},
            code="request_mismatch",
        ),
        ContextMismatchRow(
            case_id="ctx-request-args-text-vs-bytes",
            description='signed n 1, request n "1"',
            req={"args": {"n": "1", "flag": True}},
            code="request_mismatch",
        ),
        ContextMismatchRow(
            case_id="ctx-request-args-reordered",
            description="the same arguments in another map order: equal",
            req={"args": {"flag": True, "n": 1}},
            code="",
        ),
    ]
    for row in mism:
        assert isinstance(row.req, dict)
        kw: dict[str, Any] = {"args": {"n": 1, "flag": True}, **row.req}
        s.add(
            row.case_id,
            row.description,
            flags=["request-binding", "type-strictness"]
            if "args" in row.req
            else ["request-binding"],
            spec=["R-8.2-9"],
            steps=[step(p, deny(row.code) if row.code else allow(), **kw)],
        )
    q = present(token, holder, label="replay")
    assert q.invocation is not None
    nonce = q.invocation.claims.nonce
    s.add(
        "ctx-replay-same-presentation",
        "the same presentation verified twice",
        flags=["replay"],
        spec=["R-8.2-10"],
        steps=[step(q, allow()), step(q, deny("replay"))],
    )
    # the nonce is remembered until iat + invocation_window + skew + 1: the replay at the
    # last second V6 still accepts (now - iat = 300 + 60) is caught
    s.add(
        "ctx-replay-at-window-plus-skew",
        "the same presentation again at iat + invocation_window + clock_skew (NOW + 360), the "
        "last second it is fresh: still a replay (retention + skew + 1, not the window alone)",
        flags=["replay"],
        spec=["R-8.2-10", "R-9.4-3"],
        steps=[step(q, allow()), step(q, deny("replay"), now=NOW + 360)],
    )
    # spec 8.1 R-8.1-3: the request is checked before V1; harness.md 5.4: a request outside
    # the data model is answered {"error": "usage"}. a1 66 "amount" f9 7e00: {"amount": NaN}
    # (floats are in the data model since R-5.2-12; NaN never is, and JSON cannot spell it,
    # so the case's "args" is empty and only args_cbor carries it)
    float_args = bytes.fromhex("a166616d6f756e74f97e00")
    s.add(
        "ctx-request-args-nan-usage",
        "the request's arguments hold a NaN (outside the data model, R-5.2-12): usage, whatever "
        "the presentation",
        flags=["request-binding"],
        spec=["R-8.1-3"],
        steps=[step(q, error("usage"), args_cbor=float_args)],
    )
    # spec 8.1 R-8.1-3: the boundary between the request's shape (schema_invalid, as
    # R-5.7-2) and values outside its data model (usage), and the order of the checks
    nested_int_key = bytes.fromhex("a16178a10102")  # {"x": {1: 2}}
    for case_id, description, args_cbor, action, code in (
        (
            "ctx-request-args-int-key-schema",
            "the request's arguments {1: 2}: a top-level key that is not text is the shape "
            "rule of R-5.7-2 (schema_invalid), not usage",
            bytes.fromhex("a10102"),
            None,
            "schema_invalid",
        ),
        (
            "ctx-request-args-not-a-map-schema",
            "the request's arguments are the array [1]: not a map, schema_invalid (R-5.7-2)",
            bytes.fromhex("8101"),
            None,
            "schema_invalid",
        ),
        (
            "ctx-request-args-nested-int-key-usage",
            'the request\'s arguments {"x": {1: 2}}: a non-text key below the top is a value '
            "outside the request's data model (usage)",
            nested_int_key,
            None,
            "usage",
        ),
        (
            "ctx-request-action-before-args",
            'an ill-formed action "calendar//read" and arguments {"x": {1: 2}}: the action is '
            "checked first (schema_invalid, not usage)",
            nested_int_key,
            "calendar//read",
            "schema_invalid",
        ),
        (
            "ctx-request-args-negative-zero-usage",
            'the request\'s args_cbor {"amount": -0.0} as f9 8000: the transport CBOR does not '
            "decode (an integral float, R-5.2-13), so the harness answers usage",
            bytes.fromhex("a166616d6f756e74f98000"),
            None,
            "usage",
        ),
    ):
        s.add(
            case_id,
            description,
            flags=["request-binding"],
            spec=["R-8.1-3", "R-5.2-13"] if "zero" in case_id else ["R-8.1-3"],
            steps=[
                step(q, error(code), args_cbor=args_cbor)
                if action is None
                else step(q, error(code), args_cbor=args_cbor, action=action)
            ],
        )
    s.add(
        "ctx-request-checked-before-decode",
        "an undecodable presentation and a request with a NaN argument: the request is "
        "checked first (usage, not base64_invalid)",
        flags=["request-binding"],
        spec=["R-8.1-3"],
        steps=[step("ac2c.!!", error("usage"), args_cbor=float_args)],
    )
    s.add(
        "ctx-request-bad-action-before-decode",
        "an undecodable presentation and a request whose action is a//b: schema_invalid of the "
        "request, not base64_invalid of the presentation",
        flags=["request-binding"],
        spec=["R-8.1-3"],
        steps=[step("ac2c.!!", error("schema_invalid"), action="a//b")],
    )
    s.add(
        "ctx-replay-not-burnt-by-mismatch",
        "first against another request (denied), then the right one: the nonce was not burnt",
        flags=["replay", "request-binding"],
        spec=["R-8.2-11"],
        steps=[step(q, deny("request_mismatch"), action="calendar/events/write"), step(q, allow())],
    )
    # spec 5.7: the arguments bound by digest instead of carried
    note = {"note": "a long e-mail body " * 40, "n": 3}
    by_digest = present(token, holder, args=note, args_by_digest=True, label="ctx-digest")
    s.add(
        "ctx-args-digest-allowed",
        "the invocation carries the digest of its arguments; the request brings them",
        flags=["request-binding", "valid"],
        spec=["R-5.7-3", "R-5.7-4"],
        steps=[step(by_digest, allow(), args=note)],
    )
    s.add(
        "ctx-args-digest-mismatch",
        "the invocation binds its arguments by digest; the request brings other arguments",
        flags=["request-binding"],
        spec=["R-5.7-4", "R-8.2-9"],
        steps=[step(by_digest, deny("request_mismatch"), args={**note, "n": 4})],
    )
    dcav, dch = chain(1, caveats=[[["<=", ".amount", 10]]], label="ctx-digest-cav")
    s.add(
        "ctx-args-digest-caveat-over-request",
        "a caveat is judged over the request's arguments when the invocation binds a digest",
        flags=["request-binding", "caveat-semantics"],
        spec=["R-5.7-4"],
        steps=[
            step(
                present(dcav, dch, args={"amount": 11}, args_by_digest=True, label="ctx-dc"),
                deny("caveat_failed"),
                args={"amount": 11},
            )
        ],
    )
    s.add(
        "ctx-args-digest-caveat-holds-over-request",
        "a caveat that holds over the request's arguments allows when the invocation binds a "
        "digest (the caveat never sees the invocation's empty arguments)",
        flags=["request-binding", "caveat-semantics", "valid"],
        spec=["R-5.7-4"],
        steps=[
            step(
                present(dcav, dch, args={"amount": 5}, args_by_digest=True, label="ctx-dh"),
                allow(),
                args={"amount": 5},
            )
        ],
    )
    cav, ch = chain(1, caveats=[[["<=", ".amount", 10]]], label="ctx-cav")
    r = present(cav, ch, args={"amount": 11})
    s.add(
        "ctx-replay-burnt-after-caveat-denial",
        "denied by a caveat, then replayed: the nonce stays used",
        flags=["replay"],
        spec=["R-8.2-11"],
        steps=[
            step(r, deny("caveat_failed"), args={"amount": 11}),
            step(r, deny("replay"), args={"amount": 11}),
        ],
    )
    nonce_key = hashlib.sha256(
        b"agentchain/nonce/v1" + holder.public_key.thumbprint + nonce
    ).digest()
    s.add(
        "ctx-replay-nonce-in-store",
        "the store already holds this invocation's nonce key",
        flags=["replay"],
        spec=["R-8.2-10"],
        steps=[step(q, deny("replay"))],
        store={"used": [{"key": nonce_key.hex(), "expires_at": NOW + 361}]},
    )
    s.add(
        "ctx-replay-nonce-expired-in-store",
        "the store's entry for this nonce has expired: fresh again",
        flags=["replay"],
        spec=["R-8.2-10"],
        steps=[step(q, allow())],
        store={"used": [{"key": nonce_key.hex(), "expires_at": NOW}]},
    )
    other_holder_key = hashlib.sha256(
        b"agentchain/nonce/v1" + KEYS("mallory").public_key.thumbprint + nonce
    ).digest()
    s.add(
        "ctx-replay-nonce-scoped-to-holder",
        "the same nonce used by another holder does not count",
        flags=["replay"],
        spec=["R-8.2-10"],
        steps=[step(q, allow())],
        store={"used": [{"key": other_holder_key.hex(), "expires_at": NOW + 361}]},
    )
