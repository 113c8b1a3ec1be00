"""jose.json, part 4: the verifier's semantics over JOSE, and the factors."""

from __future__ import annotations

import hashlib
from typing import Any

from agentchain import codec
from agentchain._build import jose_parts, jose_resign
from agentchain.codec import ApprovalRequirement
from agentchain.issuer import approve, attest
from agentchain.model import Descriptor
from agentchain.vectors.build import (
    AUD,
    CAL,
    KEYS,
    NOW,
    chain,
    encoded_links,
    jose_present_raw,
    present,
)
from agentchain.vectors.cases.jose._common import Add, b64
from agentchain.vectors.suite import Suite, allow, deny, error, needs_approval, step


def semantic_cases(s: Suite, add: Add) -> None:
    """A representative handful of the spec's semantic checks, in the JOSE encoding."""
    token, h3 = chain(3, encoding="jose", label="jose-chain")
    links = encoded_links(token)
    other, _ = chain(3, encoding="jose", label="jose-other-chain")
    other_links = encoded_links(other)
    h = {i: KEYS(f"h{i}") for i in (1, 2, 3)}
    rows: list[tuple[str, str, bytes, str, list[str], str, dict[str, Any]]] = [
        (
            "jose-chain-reordered",
            "links 0, 2, 1",
            jose_present_raw([links[0], links[2], links[1]], h[2]),
            "issuer_mismatch",
            ["R-7.1-2"],
            "chain-splice",
            {},
        ),
        (
            "jose-chain-spliced-link",
            "the middle link taken from another chain with the same keys",
            jose_present_raw([links[0], other_links[1], links[2]], h3),
            "chain_broken",
            ["R-7.1-3", "R-J.6-1"],
            "chain-splice",
            {},
        ),
        (
            "jose-chain-parent-rewritten",
            "the last link's prt changed to the root's digest, re-signed by its issuer",
            jose_present_raw(
                [
                    links[0],
                    links[1],
                    jose_resign(links[2], h[2], {"prt": b64(hashlib.sha256(links[0]).digest())}),
                ],
                h3,
            ),
            "chain_broken",
            ["R-7.1-3", "R-J.6-1"],
            "chain-splice",
            {},
        ),
        (
            "jose-chain-root-untrusted",
            "an honest chain under a policy whose only anchor is mallory",
            jose_present_raw(links, h3),
            "root_untrusted",
            ["R-7.1-1"],
            "trust-anchor",
            {"anchors": ["mallory"]},
        ),
        (
            "jose-chain-invocation-wrong-signer",
            "the invocation signed by the middle holder",
            jose_present_raw(links, h[2]),
            "signature_invalid",
            ["R-7.2-1"],
            "holder-binding",
            {},
        ),
        (
            "jose-chain-invocation-other-chain",
            "the invocation's chn is the digest of another chain's last link",
            jose_present_raw(links, h3, chain=hashlib.sha256(other_links[2]).digest()),
            "chain_digest_mismatch",
            ["R-7.2-2", "R-J.6-1"],
            "holder-binding",
            {},
        ),
    ]
    # attenuation: a root of depth 1 on calendar/events /work/*; the child re-signed by h1
    att_token, att_holder = chain(
        2, encoding="jose", caps=(("calendar/events", CAL + "/work/*"),), label="jose-att"
    )
    root, child = encoded_links(att_token)
    root_exp = jose_parts(root)[1]["exp"]
    for case_id, description, changes, code, rids in (
        (
            "jose-att-scope-widened",
            "the child grants calendar on /* under a calendar/events /work/* root",
            {"cap": [["calendar", CAL + "/*"]]},
            "scope_widened",
            ["R-4.3-2"],
        ),
        (
            "jose-att-time-widened",
            "the child expires one second after its parent",
            {"exp": root_exp + 1},
            "time_widened",
            ["R-4.4-2"],
        ),
        (
            "jose-att-depth-not-decreasing",
            "the child's dep equals its parent's",
            {"dep": 1},
            "depth_exceeded",
            ["R-4.5-1"],
        ),
    ):
        bad = jose_resign(child, h[1], changes)
        rows.append(
            (
                case_id,
                description,
                jose_present_raw([root, bad], att_holder),
                code,
                [*rids, "R-8.2-3"],
                "attenuation",
                {},
            )
        )
    for case_id, description, data, code, rids, flag, pol in rows:
        add(case_id, description, data, error(code), flags=[flag], spec=rids, policy=pol or None)

    p = present(token, h3, label="jose-sem")
    exp = min(jose_parts(link)[1]["exp"] for link in links)
    late = present(token, h3, now=exp + 60, label="jose-late")
    add(
        "jose-time-at-exp-plus-skew",
        "invoked and verified at exp + skew: expired",
        late,
        deny("expired"),
        flags=["time-boundary"],
        spec=["R-4.4-1", "R-8.2-5"],
        now=exp + 60,
    )
    add(
        "jose-time-at-exp-plus-skew-minus-1",
        "invoked and verified at exp + skew - 1: allowed",
        present(token, h3, now=exp + 59, label="jose-late"),
        allow(),
        flags=["time-boundary"],
        spec=["R-4.4-1", "R-8.2-5"],
        now=exp + 59,
    )
    add(
        "jose-time-invocation-stale",
        "now - iat = window + skew + 1: stale",
        p,
        deny("invocation_stale"),
        flags=["time-boundary"],
        spec=["R-8.2-8"],
        now=NOW + 361,
    )
    add(
        "jose-ctx-audience-other-service",
        "an invocation made for another service",
        present(token, h3, audience="https://other.example", label="jose-sem"),
        deny("audience_mismatch"),
        flags=["audience"],
        spec=["R-8.2-7"],
    )
    add(
        "jose-ctx-request-other-action",
        "the request's action differs from the signed one",
        p,
        deny("request_mismatch"),
        flags=["request-binding"],
        spec=["R-8.2-9"],
        action="calendar/events/delete",
    )
    add(
        "jose-ctx-args-true-vs-1",
        "signed argument true (JSON), request argument 1: never equal",
        present(token, h3, args={"n": True}, label="jose-sem"),
        deny("request_mismatch"),
        flags=["request-binding", "type-strictness"],
        spec=["R-8.2-9"],
        args={"n": 1},
    )
    s.add(
        "jose-ctx-replay-same-presentation",
        "the same JOSE presentation twice: allowed, then replay",
        flags=["replay"],
        spec=["R-8.2-10"],
        steps=[step(p, allow()), step(p, deny("replay"))],
        encoding="jose",
    )
    assert p.invocation is not None
    nonce_key = hashlib.sha256(
        b"agentchain/nonce/v1" + h3.public_key.thumbprint + p.invocation.claims.nonce
    ).digest()
    add(
        "jose-ctx-replay-nonce-in-store",
        "the store already holds this JOSE invocation's nonce key",
        p,
        deny("replay"),
        flags=["replay"],
        spec=["R-8.2-10"],
        store={"used": [{"key": nonce_key.hex(), "expires_at": NOW + 361}]},
    )
    for i, name in ((0, "root"), (2, "last")):
        add(
            f"jose-rev-{name}",
            f"the {name} link is revoked by the digest of its compact text",
            p,
            deny("revoked"),
            flags=["revocation"],
            spec=["R-8.2-6", "R-J.6-1"],
            store={"revoked": [hashlib.sha256(links[i]).hexdigest()]},
        )
    cbor_token, _ = chain(3, label="jose-chain")
    add(
        "jose-rev-cbor-digest-no-effect",
        "the same logical root in CBOR is revoked: a different object, no effect",
        p,
        allow(),
        flags=["revocation", "valid"],
        spec=["R-8.2-6", "R-J.6-1"],
        store={"revoked": [cbor_token.links[0].digest.hex()]},
    )
    _factors(add)


def _factors(add: Add) -> None:
    req = ApprovalRequirement(actions=("calendar/events",))
    token, holder = chain(2, encoding="jose", require_approval=[[req]], label="jose-appr")
    digest = codec.request_digest(
        token.chain_digest, AUD, "calendar/events/read", CAL + "/work/standup", {}
    )
    other = codec.request_digest(
        token.chain_digest, AUD, "calendar/events/read", CAL + "/work/standup", {"x": 1}
    )
    alice = KEYS("alice")
    for case_id, description, approvals, expected, rids in (
        (
            "jose-appr-needed-none",
            "approval required, none attached: needs_approval",
            (),
            needs_approval(),
            ["R-9.2-1", "R-9.2-9"],
        ),
        (
            "jose-appr-granted",
            "a JOSE approval for this exact request",
            (approve(alice, digest, now=NOW, encoding="jose"),),
            allow(),
            ["R-9.2-5", "R-9.2-6"],
        ),
        (
            "jose-appr-for-another-invocation",
            "a JOSE approval of the same action with other arguments",
            (approve(alice, other, now=NOW, encoding="jose"),),
            deny("approval_mismatch"),
            ["R-9.2-5", "R-9.2-8"],
        ),
    ):
        add(
            case_id,
            description,
            present(token, holder, approvals=approvals, label="jose-appr"),
            expected,
            flags=["approval"],
            spec=[*rids, "R-8.2-20"],
            features=["approval"],
        )
    code = {"sha256": b"\xc0" * 32}
    desc = Descriptor(kind="agent", name="https://agents.example/h1", code=code, model="m-1")
    token, h1 = chain(1, encoding="jose", descriptors=[desc], label="jose-att-x")
    attester = KEYS("attester")
    pol = {"attesters": ["attester"], "attestation_required": ["calendar"]}
    for case_id, description, model, expected, rids in (
        (
            "jose-attest-required-proven",
            "a trusted JOSE attestation proves the declared code and model",
            "m-1",
            allow(),
            ["R-9.1-6"],
        ),
        (
            "jose-attest-model-contradiction",
            "a trusted JOSE attestation names another model than the descriptor",
            "m-2",
            deny("attestation_mismatch"),
            ["R-9.1-5"],
        ),
    ):
        att = attest(attester, h1.public_key, code=code, model=model, now=NOW, encoding="jose")
        add(
            case_id,
            description,
            present(token, h1, attestations=[att], label="jose-att"),
            expected,
            flags=["attestation"],
            spec=[*rids, "R-8.2-19"],
            policy=pol,
            features=["attestation"],
        )
