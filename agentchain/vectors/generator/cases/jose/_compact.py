"""jose.json, part 2: compact serialisation, signatures, tampering, limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentchain import codec
from agentchain._build import jose_container, jose_parts, raw_jws
from agentchain.crypto import EDDSA, ES256
from agentchain.issuer import approve, attest
from agentchain.model import ApprovalRequirement, Descriptor
from agentchain.vectors.generator.build import (
    AUD,
    CAL,
    KEYS,
    NOW,
    chain,
    encoded_links,
    jose_present_raw,
    present,
)
from agentchain.vectors.generator.cases._common import N256, SMALL_ORDER, L
from agentchain.vectors.generator.cases.jose._common import (
    ES_POLICY,
    HEADER,
    INVOCATION,
    Add,
    b64,
    der,
    flip_low_bits,
    invocation_payload,
    join,
    root_link,
    split,
)
from agentchain.vectors.generator.suite import allow, error
from agentchain.wire import jws


@dataclass(frozen=True)
class CompactRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    parts: list[str]
    expected: dict[str, object]
    spec: list[str]


@dataclass(frozen=True)
class LimitRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    body: Any
    expected: dict[str, object]


def compact_cases(add: Add) -> None:
    link, _, holder = root_link()
    header, payload, signature = split(link)
    assert len(signature) == 86

    def with_parts(parts: list[str]) -> bytes:
        return jose_present_raw([join(parts)], holder)

    # the first part that holds a '-' or '_', respelled in the standard alphabet
    honest = [header, payload, signature]
    # (or, when none does, the signature with its first character replaced by '+')
    at = next((i for i, part in enumerate(honest) if "-" in part or "_" in part), 2)
    std = list(honest)
    std[at] = (
        honest[at].replace("-", "+", 1)
        if "-" in honest[at]
        else honest[at].replace("_", "/", 1)
        if "_" in honest[at]
        else "+" + honest[at][1:]
    )
    rows: list[CompactRow] = [
        CompactRow(
            case_id="jose-b64-padding-header",
            description="the header part with '=' padding",
            parts=[header + "=" * ((-len(header) % 4) or 2), payload, signature],
            expected=error("base64_invalid"),
            spec=["R-J.3-2"],
        ),
        CompactRow(
            case_id="jose-b64-padding-signature",
            description="the signature part with '==' padding",
            parts=[header, payload, signature + "=="],
            expected=error("base64_invalid"),
            spec=["R-J.3-2"],
        ),
        CompactRow(
            case_id="jose-b64-stray-bits-signature",
            description=(
                "the signature's last character with non-zero "
                "unused bits (same bytes, 2nd spelling)"
            ),
            parts=[header, payload, signature[:-1] + flip_low_bits(signature[-1])],
            expected=error("base64_invalid"),
            spec=["R-J.3-2"],
        ),
        CompactRow(
            case_id="jose-b64-space-in-payload",
            description="a space inside the payload part",
            parts=[header, payload[:10] + " " + payload[10:], signature],
            expected=error("base64_invalid"),
            spec=["R-J.3-2"],
        ),
        CompactRow(
            case_id="jose-b64-newline-in-signature",
            description="a line break inside the signature part",
            parts=[header, payload, signature[:40] + "\n" + signature[40:]],
            expected=error("base64_invalid"),
            spec=["R-J.3-2"],
        ),
        CompactRow(
            case_id="jose-b64-standard-alphabet",
            description="a part spelled with the standard alphabet ('+' or '/')",
            parts=std,
            expected=error("base64_invalid"),
            spec=["R-J.3-2"],
        ),
        CompactRow(
            case_id="jose-compact-two-parts",
            description="a compact of two parts (header and payload)",
            parts=[header, payload],
            expected=error("schema_invalid"),
            spec=["R-J.3-2"],
        ),
        CompactRow(
            case_id="jose-compact-four-parts",
            description="a compact of four parts",
            parts=[header, payload, signature, signature],
            expected=error("schema_invalid"),
            spec=["R-J.3-2"],
        ),
        CompactRow(
            case_id="jose-compact-five-parts",
            description="a JWE-shaped compact of five parts",
            parts=[header, "", payload, payload, signature],
            expected=error("schema_invalid"),
            spec=["R-J.3-2"],
        ),
        CompactRow(
            case_id="jose-compact-empty-signature",
            description="an EdDSA link whose signature part is empty",
            parts=[header, payload, ""],
            expected=error("signature_malformed"),
            spec=["R-3.4-1", "R-J.4-3"],
        ),
        CompactRow(
            case_id="jose-compact-detached-payload",
            description="an empty payload part (RFC 7515 appendix F detached content)",
            parts=[header, "", signature],
            expected=error("json_invalid"),
            spec=["R-J.3-2"],
        ),
    ]
    for row in rows:
        add(
            row.case_id,
            row.description,
            with_parts(row.parts),
            row.expected,
            flags=["jose-compact"],
            spec=row.spec,
        )
    flattened = jws.dumps({"protected": header, "payload": payload, "signature": signature})
    add(
        "jose-compact-json-serialization",
        "the link as a flattened JWS JSON serialization instead of a compact",
        jose_present_raw([flattened], holder),
        error("schema_invalid"),
        flags=["jose-compact"],
        spec=["R-J.3-2"],
    )


def signature_cases(add: Add) -> None:
    link, payload, holder = root_link()
    alice = KEYS("alice")
    head_payload = link.rsplit(b".", 1)[0]
    signature = jose_parts(link)[2]
    s_value = int.from_bytes(signature[32:], "little")

    def with_signature(sig: bytes, base: bytes = head_payload) -> bytes:
        return base + b"." + b64(sig).encode("ascii")

    add(
        "jose-sig-ed25519-s-plus-l",
        "the root's Ed25519 S replaced by S + L (a second spelling lenient libraries accept)",
        jose_present_raw(
            [with_signature(signature[:32] + (s_value + L).to_bytes(32, "little"))], holder
        ),
        error("signature_malformed"),
        flags=["ed25519-strict"],
        spec=["R-3.4-2", "R-J.4-3"],
    )
    small_r = bytes.fromhex(SMALL_ORDER["identity"]) + (1).to_bytes(32, "little")
    add(
        "jose-sig-ed25519-r-small-order",
        "the root's Ed25519 R is the small-order identity point",
        jose_present_raw([with_signature(small_r)], holder),
        error("signature_malformed"),
        flags=["ed25519-strict"],
        spec=["R-3.4-4", "R-J.4-3"],
    )
    small_jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(bytes.fromhex(SMALL_ORDER["order8a"]))}
    add(
        "jose-key-cnf-small-order",
        "the root's cnf holds a small-order Ed25519 key (anyone can sign for it)",
        jose_present_raw([raw_jws(HEADER, {**payload, "cnf": {"jwk": small_jwk}}, alice)], holder),
        error("key_invalid"),
        flags=["ed25519-strict", "key-validation"],
        spec=["R-3.4-4", "R-J.4-3", "R-8.2-2"],
    )
    es_token, es_holder = chain(1, alg=ES256, encoding="jose", label="jose-base-es")
    es_link = es_token.links[0].encoded
    es_sig = jose_parts(es_link)[2]
    es_base = es_link.rsplit(b".", 1)[0]
    high_s = es_sig[:32] + (N256 - int.from_bytes(es_sig[32:], "big")).to_bytes(32, "big")
    add(
        "jose-sig-es256-high-s",
        "the root's ES256 s replaced by n - s (the other valid spelling)",
        jose_present_raw([with_signature(high_s, es_base)], es_holder),
        error("signature_malformed"),
        flags=["ecdsa-malleability"],
        spec=["R-3.5-3", "R-J.4-3"],
        policy=ES_POLICY,
    )
    r, s_int = int.from_bytes(es_sig[:32], "big"), int.from_bytes(es_sig[32:], "big")
    add(
        "jose-sig-es256-der",
        "the root's ES256 signature in DER instead of r || s (RFC 7518 3.4)",
        jose_present_raw([with_signature(der(r, s_int), es_base)], es_holder),
        error("signature_malformed"),
        flags=["signature-length"],
        spec=["R-3.5-1", "R-J.4-3"],
        policy=ES_POLICY,
    )


def tampered_cases(add: Add) -> None:
    link, payload, holder = root_link()
    header_b64, _, signature = split(link)
    wider = {**payload, "cap": [["calendar", CAL + "/*"], ["mail", "https://mail.example/*"]]}
    tampered_link = join([header_b64, b64(jws.dumps(wider)), signature])
    add(
        "jose-tamper-link",
        "the root's payload grants one more capability; alice's signature kept",
        jose_present_raw([tampered_link], holder),
        error("signature_invalid"),
        flags=["signature-forgery"],
        spec=["R-7.1-4", "R-5.3-2"],
    )
    kid_header = b64(jws.dumps({**HEADER, "kid": KEYS("alice").public_key.kid}))
    add(
        "jose-tamper-header",
        "a kid added to the root's header after signing: the header is signed too",
        jose_present_raw([join([kid_header, split(link)[1], signature])], holder),
        error("signature_invalid"),
        flags=["signature-forgery", "jose-header"],
        spec=["R-7.1-4"],
    )
    inv = raw_jws({"alg": EDDSA, "typ": INVOCATION}, invocation_payload(link), holder)
    ih, _, isig = split(inv)
    other_nonce = invocation_payload(link, jti=b64(b"\x08" * 16))
    add(
        "jose-tamper-invocation",
        "the invocation's nonce changed after the holder signed it",
        jose_container([link], join([ih, b64(jws.dumps(other_nonce)), isig])),
        error("signature_invalid"),
        flags=["signature-forgery", "holder-binding"],
        spec=["R-7.2-1", "R-8.2-4"],
    )
    # attestation and approval: from the trusted attester, and from the required approver
    code = {"sha256": b"\xc0" * 32}
    desc = Descriptor(kind="agent", name="https://agents.example/h1", code=code, model="m-1")
    token, h1 = chain(1, encoding="jose", descriptors=[desc], label="jose-att-x")
    att = attest(KEYS("attester"), h1.public_key, code=code, model="m-1", now=NOW, encoding="jose")
    ah, _, asig = split(att.encoded)
    att_payload = jose_parts(att.encoded)[1]
    forged_att = join([ah, b64(jws.dumps({**att_payload, "model": "m-2"})), asig])
    p = present(token, h1, attestations=[att], label="jose-att")
    assert p.invocation is not None
    add(
        "jose-tamper-attestation",
        "a trusted attester's attestation with its model changed after signing (and named)",
        jose_present_raw(encoded_links(token), h1, attestations=[forged_att]),
        error("signature_invalid"),
        flags=["signature-forgery", "attestation"],
        spec=["R-8.2-17"],
        policy={"attesters": ["attester"], "attestation_required": ["calendar"]},
        features=["attestation"],
    )
    req = ApprovalRequirement(actions=("calendar/events",))
    token, h2 = chain(2, encoding="jose", require_approval=[[req]], label="jose-appr")
    digest = codec.request_digest(
        token.chain_digest, AUD, "calendar/events/read", CAL + "/work/standup", {}
    )
    apv = approve(KEYS("alice"), digest, now=NOW, encoding="jose")
    vh, _, vsig = split(apv.encoded)
    apv_payload = jose_parts(apv.encoded)[1]
    forged_apv = join([vh, b64(jws.dumps({**apv_payload, "exp": apv_payload["exp"] + 1})), vsig])
    p = present(token, h2, approvals=[apv], label="jose-appr")
    assert p.invocation is not None
    add(
        "jose-attachment-stripped",
        "the required approval stripped from a JOSE presentation that names it",
        jose_container(encoded_links(token), p.invocation.encoded),
        error("attachment_mismatch"),
        flags=["attachment-binding", "approval"],
        spec=["R-5.7-5"],
        features=["approval"],
    )
    add(
        "jose-tamper-approval",
        "the required approval with its exp moved one second after signing (and named)",
        jose_present_raw(encoded_links(token), h2, approvals=[forged_apv]),
        error("signature_invalid"),
        flags=["signature-forgery", "approval"],
        spec=["R-8.2-18"],
        features=["approval"],
    )


def limit_cases(add: Add) -> None:
    link, _, holder = root_link()
    honest = jose_present_raw([link], holder)
    size = len(honest)
    add(
        "jose-limit-presentation-one-past",
        f"an honest JOSE presentation of {size} bytes under max_presentation_bytes {size - 1}",
        honest,
        error("limit_exceeded"),
        flags=["limits"],
        spec=["R-5.6-2"],
        policy={"limits": {"max_presentation_bytes": size - 1}},
    )
    add(
        "jose-limit-presentation-at",
        f"the same presentation under max_presentation_bytes {size}: allowed",
        honest,
        allow(),
        flags=["limits", "valid"],
        spec=["R-5.6-2"],
        policy={"limits": {"max_presentation_bytes": size}},
    )
    add(
        "jose-limit-presentation-junk",
        "an ac2j. text far over the cap that is not even base64url: the cap answers first",
        "ac2j." + "*" * 3000,
        error("limit_exceeded"),
        flags=["limits"],
        spec=["R-5.6-2"],
        policy={"limits": {"max_presentation_bytes": 1024}},
    )
    add(
        "jose-limit-object-one-past",
        f"an honest JOSE link of {len(link)} bytes under max_object_bytes {len(link) - 1}",
        honest,
        error("limit_exceeded"),
        flags=["limits"],
        spec=["R-J.3-1", "R-5.6-3"],
        policy={"limits": {"max_object_bytes": len(link) - 1}},
    )
    alice = KEYS("alice")
    payload = jose_parts(link)[1]
    escaped = jws.dumps({**payload, "pur": "PURPOSE"}).replace(
        b"PURPOSE", b"\\u0070" * 1024 + b"p" * 3072
    )
    for row in (
        LimitRow(
            case_id="jose-limit-string-4096",
            description="a 4096-byte purpose: at the limit",
            body="p" * 4096,
            expected=allow(),
        ),
        LimitRow(
            case_id="jose-limit-string-4097",
            description="a 4097-byte purpose: one past",
            body="p" * 4097,
            expected=error("limit_exceeded"),
        ),
        LimitRow(
            case_id="jose-limit-string-non-ascii-4096",
            description="a purpose of 2048 two-byte characters (4096 UTF-8 bytes): at the limit",
            body="\u00e9" * 2048,
            expected=allow(),
        ),
        LimitRow(
            case_id="jose-limit-string-non-ascii-4098",
            description=(
                "a purpose of 2049 two-byte characters: 4098 UTF-8 "
                "bytes, over (bytes, not characters)"
            ),
            body="\u00e9" * 2049,
            expected=error("limit_exceeded"),
        ),
        LimitRow(
            case_id="jose-limit-string-escaped-4096",
            description=(
                "a 4096-byte purpose, 1024 of its bytes spelled as "
                "\\u0070 escapes (9216 characters "
                "of JSON): the limit is on the string, not on its spelling"
            ),
            body=None,
            expected=allow(),
        ),
    ):
        signed = raw_jws(
            HEADER, escaped if row.body is None else {**payload, "pur": row.body}, alice
        )
        add(
            row.case_id,
            row.description,
            jose_present_raw([signed], holder),
            row.expected,
            flags=["limits", "valid"] if row.expected == allow() else ["limits"],
            spec=["R-5.2-10", "R-5.6-1"],
        )
    add(
        "jose-limit-json-items",
        "a link payload holding 4000 items (max_cbor_items is 2048): refused before its schema",
        jose_present_raw([raw_jws(HEADER, {**payload, "cav": [0] * 4000}, alice)], holder),
        error("limit_exceeded"),
        flags=["limits", "json-strictness"],
        spec=["R-5.2-10", "R-5.6-1"],
    )
    junk = b"eyJ" + b"%" * 700 + b".."
    add(
        "jose-limit-object-junk",
        "a link over max_object_bytes that is not base64url: refused by size, before any parse",
        jose_present_raw([junk], holder),
        error("limit_exceeded"),
        flags=["limits", "jose-compact"],
        spec=["R-J.3-1", "R-5.6-3"],
        policy={"limits": {"max_object_bytes": 600}},
    )
