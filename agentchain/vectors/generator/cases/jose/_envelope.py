"""jose.json, part 1: the JWS envelope and the JSON reader."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from agentchain._build import Rng, jose_container, jose_parts, raw_jws
from agentchain.crypto import EDDSA, ES256
from agentchain.vectors.generator.build import KEYS, NOW, chain, jose_present_raw, present
from agentchain.vectors.generator.cases.jose._common import (
    ES_POLICY,
    HEADER,
    INVOCATION,
    LINK,
    Add,
    b64,
    invocation_payload,
    root_link,
)
from agentchain.vectors.generator.suite import allow, error
from agentchain.wire import jws


@dataclass(frozen=True)
class EnvelopeRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    data: bytes
    code: str
    spec: list[str]


@dataclass(frozen=True)
class JsonRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    header_text: Any


def _json_items(value: object) -> int:
    """Items of a JSON value as J.2 counts them: every value and member name."""
    if isinstance(value, list):
        return 1 + sum(map(_json_items, value))
    if isinstance(value, dict):
        return 1 + len(value) + sum(map(_json_items, value.values()))
    return 1


def _bad_payload_part(compact: bytes) -> bytes:
    """``compact`` with a '+' (standard alphabet, not base64url) in its payload part."""
    header, body, signature = compact.split(b".")
    return header + b"." + b"+" + body[1:] + b"." + signature


def envelope_cases(add: Add) -> None:
    link, payload, holder = root_link()
    alice = KEYS("alice")
    mallory = KEYS("mallory")

    def root(header: Any, signer: Any = alice, signature: bytes | None = None) -> bytes:
        return jose_present_raw([raw_jws(header, payload, signer, signature=signature)], holder)

    signing_input = jws.signing_input(jws.dumps({"alg": "HS256", "typ": LINK}), jws.dumps(payload))
    rows: list[EnvelopeRow] = [
        EnvelopeRow(
            case_id="jose-alg-none",
            description="alg none and an empty signature (RFC 8725 2.1)",
            data=root({"alg": "none", "typ": LINK}, None, b""),
            code="alg_not_allowed",
            spec=["R-J.4-1"],
        ),
        EnvelopeRow(
            case_id="jose-alg-hs256-public-key-secret",
            description=(
                "HS256 keyed with the anchor's raw public key as the HMAC secret (RFC 8725 2.2)"
            ),
            data=root(
                {"alg": "HS256", "typ": LINK},
                None,
                hmac.new(alice.public_key.raw(), signing_input, hashlib.sha256).digest(),
            ),
            code="alg_not_allowed",
            spec=["R-J.4-1"],
        ),
        EnvelopeRow(
            case_id="jose-alg-hs256-jwk-secret",
            description="HS256 keyed with the anchor's public JWK text as the HMAC secret",
            data=root(
                {"alg": "HS256", "typ": LINK},
                None,
                hmac.new(
                    jws.dumps(alice.public_key.to_jwk()), signing_input, hashlib.sha256
                ).digest(),
            ),
            code="alg_not_allowed",
            spec=["R-J.4-1"],
        ),
        EnvelopeRow(
            case_id="jose-alg-rs256",
            description="RS256 with a 256-byte signature (RFC 8725 2.3)",
            data=root({"alg": "RS256", "typ": LINK}, None, Rng("jose-rs256")(256)),
            code="alg_not_allowed",
            spec=["R-J.4-1"],
        ),
        EnvelopeRow(
            case_id="jose-alg-ps256",
            description="PS256 with a 256-byte signature",
            data=root({"alg": "PS256", "typ": LINK}, None, Rng("jose-ps256")(256)),
            code="alg_not_allowed",
            spec=["R-J.4-1"],
        ),
        EnvelopeRow(
            case_id="jose-alg-lowercase",
            description="alg 'eddsa': names are case-sensitive",
            data=root({"alg": "eddsa", "typ": LINK}),
            code="alg_not_allowed",
            spec=["R-J.4-1"],
        ),
        EnvelopeRow(
            case_id="jose-alg-ed448-name",
            description=(
                "alg 'Ed448' (a fully-specified name outside this profile), signed with Ed25519"
            ),
            data=root({"alg": "Ed448", "typ": LINK}),
            code="alg_not_allowed",
            spec=["R-J.4-1"],
        ),
        EnvelopeRow(
            case_id="jose-alg-es256-header-ed25519-key",
            description="an ES256 header over the Ed25519 anchor's honest Ed25519 signature",
            data=root({"alg": ES256, "typ": LINK}),
            code="alg_not_allowed",
            spec=["R-J.4-2", "R-3.1-2"],
        ),
        EnvelopeRow(
            case_id="jose-header-jku",
            description="a jku header naming mallory's key set, signed by mallory (RFC 8725 3.10)",
            data=root({**HEADER, "jku": "https://mallory.example/keys.json"}, mallory),
            code="jose_header_forbidden",
            spec=["R-J.3-4"],
        ),
        EnvelopeRow(
            case_id="jose-header-x5u",
            description="an x5u header, signed by alice",
            data=root({**HEADER, "x5u": "https://mallory.example/cert.pem"}),
            code="jose_header_forbidden",
            spec=["R-J.3-4"],
        ),
        EnvelopeRow(
            case_id="jose-header-x5c",
            description="an x5c header, signed by alice",
            data=root({**HEADER, "x5c": [b64(b"\x30\x82\x01\x00")]}),
            code="jose_header_forbidden",
            spec=["R-J.3-4"],
        ),
        EnvelopeRow(
            case_id="jose-header-jwk-embedded",
            description=(
                "mallory signs and embeds her own public JWK in the header (CVE-2018-0114 style)"
            ),
            data=root({**HEADER, "jwk": mallory.public_key.to_jwk()}, mallory),
            code="jose_header_forbidden",
            spec=["R-J.3-4"],
        ),
        EnvelopeRow(
            case_id="jose-header-x5t",
            description="an x5t header, signed by alice",
            data=root({**HEADER, "x5t": b64(b"\x01" * 20)}),
            code="jose_header_forbidden",
            spec=["R-J.3-4"],
        ),
        EnvelopeRow(
            case_id="jose-header-x5t-s256",
            description="an x5t#S256 header, signed by alice",
            data=root({**HEADER, "x5t#S256": b64(b"\x01" * 32)}),
            code="jose_header_forbidden",
            spec=["R-J.3-4"],
        ),
        EnvelopeRow(
            case_id="jose-header-b64-false",
            description="b64 false (RFC 7797 unencoded payload), signed by alice",
            data=root({**HEADER, "b64": False}),
            code="jose_header_forbidden",
            spec=["R-J.3-4"],
        ),
        EnvelopeRow(
            case_id="jose-header-cty",
            description="a cty header, signed by alice",
            data=root({**HEADER, "cty": "JWT"}),
            code="jose_header_forbidden",
            spec=["R-J.3-4"],
        ),
        EnvelopeRow(
            case_id="jose-header-unknown-member",
            description="an unregistered header member, signed by alice",
            data=root({**HEADER, "x-trace": "1"}),
            code="jose_header_forbidden",
            spec=["R-J.3-4"],
        ),
        EnvelopeRow(
            case_id="jose-header-crit",
            description="crit naming exp, signed by alice: no extension is understood",
            data=root({**HEADER, "crit": ["exp"]}),
            code="jose_crit_unsupported",
            spec=["R-J.3-3"],
        ),
        EnvelopeRow(
            case_id="jose-order-crit-before-payload-base64",
            description="crit in the header and a payload part that is not base64url: the "
            "header is checked before the other parts are decoded (jose_crit_unsupported)",
            data=jose_present_raw(
                [_bad_payload_part(raw_jws({**HEADER, "crit": ["exp"]}, payload, alice))], holder
            ),
            code="jose_crit_unsupported",
            spec=["R-J.3-3", "R-J.3-7"],
        ),
        EnvelopeRow(
            case_id="jose-order-payload-base64-before-typ",
            description="an invocation typ on a link whose payload part is not base64url: every "
            "part is decoded before typ is compared (base64_invalid, not type_mismatch)",
            data=jose_present_raw(
                [_bad_payload_part(raw_jws({**HEADER, "typ": INVOCATION}, payload, alice))], holder
            ),
            code="base64_invalid",
            spec=["R-J.3-2", "R-J.3-7"],
        ),
        EnvelopeRow(
            case_id="jose-order-alg-before-typ-in-header",
            description="alg HS256 and a missing typ: alg_not_allowed comes first (J.3 order)",
            data=root({"alg": "HS256"}, None, b"x" * 32),
            code="alg_not_allowed",
            spec=["R-J.4-1", "R-J.3-7"],
        ),
        EnvelopeRow(
            case_id="jose-header-crit-empty",
            description="crit as an empty list (itself invalid in RFC 7515): still refused as crit",
            data=root({**HEADER, "crit": []}),
            code="jose_crit_unsupported",
            spec=["R-J.3-3"],
        ),
        EnvelopeRow(
            case_id="jose-kid-anchor-signed-by-mallory",
            description="a kid naming the anchor on a link mallory signed: kid helps no forger",
            data=root({**HEADER, "kid": alice.public_key.kid}, mallory),
            code="signature_invalid",
            spec=["R-J.3-5", "R-7.1-4"],
        ),
        EnvelopeRow(
            case_id="jose-typ-missing",
            description="a header without typ",
            data=root({"alg": EDDSA}),
            code="schema_invalid",
            spec=["R-J.3-6"],
        ),
        EnvelopeRow(
            case_id="jose-typ-jwt",
            description="typ JWT instead of the link type (RFC 8725 3.11)",
            data=root({**HEADER, "typ": "JWT"}),
            code="type_mismatch",
            spec=["R-J.3-6"],
        ),
        EnvelopeRow(
            case_id="jose-typ-invocation-on-link",
            description="a link typed as an invocation",
            data=root({**HEADER, "typ": INVOCATION}),
            code="type_mismatch",
            spec=["R-J.3-6"],
        ),
        EnvelopeRow(
            case_id="jose-typ-cbor-media-type",
            description="a JOSE link typed with the 0.1 COSE link's media type",
            data=root({**HEADER, "typ": "application/agentchain-link+cbor"}),
            code="type_mismatch",
            spec=["R-J.3-6"],
        ),
        EnvelopeRow(
            case_id="jose-typ-0-1",
            description="the 0.1 JOSE link typ agentchain-link+jwt",
            data=root({**HEADER, "typ": "agentchain-link+jwt"}),
            code="type_mismatch",
            spec=["R-J.3-6"],
        ),
        EnvelopeRow(
            case_id="jose-typ-other-case",
            description="the link type in other letter case: typ is compared exactly",
            data=root({**HEADER, "typ": LINK.upper()}),
            code="type_mismatch",
            spec=["R-J.3-6"],
        ),
        EnvelopeRow(
            case_id="jose-typ-link-as-invocation",
            description="the root link itself in the invocation's place (cross-JWT confusion)",
            data=jose_container([link], link),
            code="type_mismatch",
            spec=["R-J.3-6"],
        ),
        EnvelopeRow(
            case_id="jose-alg-none-invocation",
            description="an invocation with alg none and an empty signature",
            data=jose_container(
                [link],
                raw_jws(
                    {"alg": "none", "typ": INVOCATION},
                    invocation_payload(link),
                    None,
                    signature=b"",
                ),
            ),
            code="alg_not_allowed",
            spec=["R-J.4-1", "R-8.2-4"],
        ),
    ]
    for row in rows:
        if row.case_id.startswith(("jose-header", "jose-kid")):
            flags = ["jose-header"]
        else:
            flags = ["type-confusion" if "-typ-" in row.case_id else "jose-alg-confusion"]
        add(row.case_id, row.description, row.data, error(row.code), flags=flags, spec=row.spec)
    add(
        "jose-kid-other-key",
        "a kid naming mallory's key on alice's honest root: a hint only, verification unchanged",
        root({**HEADER, "kid": mallory.public_key.kid}),
        allow(),
        flags=["jose-header", "valid"],
        spec=["R-J.3-5"],
    )
    add(
        "jose-kid-anchor-ok",
        "a kid naming the signer itself: allowed, and not needed",
        root({**HEADER, "kid": alice.public_key.kid}),
        allow(),
        flags=["jose-header", "valid"],
        spec=["R-J.3-5"],
    )
    es_token, es_holder = chain(1, alg=ES256, encoding="jose", label="jose-base-es")
    es_link = es_token.links[0].encoded
    es_payload = jose_parts(es_link)[1]
    es_alice = KEYS("alice", ES256)
    add(
        "jose-alg-eddsa-header-es256-key",
        "an Ed25519 header over the P-256 anchor's honest ES256 signature",
        jose_present_raw([raw_jws(HEADER, es_payload, es_alice)], es_holder),
        error("alg_not_allowed"),
        flags=["jose-alg-confusion"],
        spec=["R-J.4-2", "R-3.1-2"],
        policy=ES_POLICY,
    )
    add(
        "jose-alg-eddsa-polymorphic",
        "alice's root under the header alg EdDSA, deprecated by RFC 9864, re-signed",
        root({**HEADER, "alg": "EdDSA"}),
        error("alg_not_allowed"),
        flags=["jose-alg-confusion"],
        spec=["R-J.4-1", "R-3.1-4"],
    )
    add(
        "jose-alg-not-in-policy",
        "an honest ES256 JOSE chain under a policy allowing Ed25519 only",
        present(es_token, es_holder),
        error("alg_not_allowed"),
        flags=["alg-confusion"],
        spec=["R-3.1-3"],
        policy={**ES_POLICY, "algorithms": [EDDSA]},
    )


def json_cases(add: Add) -> None:
    link, payload, holder = root_link()
    alice = KEYS("alice")
    text = jws.dumps(payload).decode("utf-8")
    iat = f'"iat":{NOW}'
    assert iat in text and '"name":"' in text

    def with_payload(raw: str | bytes) -> bytes:
        data = raw.encode("utf-8") if isinstance(raw, str) else raw
        return jose_present_raw([raw_jws(HEADER, data, alice)], holder)

    def invocation_text(raw: str) -> bytes:
        inv = raw_jws({"alg": EDDSA, "typ": INVOCATION}, raw.encode("utf-8"), holder)
        return jose_container([link], inv)

    inv_text = jws.dumps(invocation_payload(link)).decode("utf-8")
    assert '"arg":{}' in inv_text and '"act":' in inv_text
    numbers = [
        ("nan", "NaN"),
        ("infinity", "Infinity"),
        ("minus-infinity", "-Infinity"),
        ("fraction", f"{NOW}.0"),
        ("exponent", "1.8e9"),
        ("two-pow-53", str(2**53)),
        ("minus-two-pow-53", str(-(2**53))),
        ("two-pow-64", str(2**64)),
    ]
    for slug, number in numbers:
        add(
            f"jose-json-iat-{slug}",
            f"the link's iat spelled {number}: not an integer in -(2^53-1)..2^53-1",
            with_payload(text.replace(iat, f'"iat":{number}')),
            error("json_invalid"),
            flags=["json-strictness"],
            spec=["R-J.2-2"],
        )
    add(
        "jose-json-args-float",
        "an invocation whose argument is 1.5: a binary64 number, allowed",
        invocation_text(inv_text.replace('"arg":{}', '"arg":{"n":1.5}')),
        allow(),
        flags=["json-strictness", "numbers"],
        spec=["R-J.2-2", "R-5.2-12"],
        args={"n": 1.5},
    )
    for slug, spelt in (("integral", "12.0"), ("exponent", "1.2e1"), ("minus-zero", "-0.0")):
        add(
            f"jose-json-args-float-{slug}",
            f"an invocation whose argument is spelt {spelt}: an integer written as a float",
            invocation_text(inv_text.replace('"arg":{}', '"arg":{"n":' + spelt + "}")),
            error("json_invalid"),
            flags=["json-strictness", "numbers"],
            spec=["R-J.2-2", "R-5.2-12", *(["R-5.2-13"] if slug == "minus-zero" else [])],
        )
    add(
        "jose-json-args-float-overflow",
        "an invocation whose argument is 1e400: beyond binary64, an infinity",
        invocation_text(inv_text.replace('"arg":{}', '"arg":{"n":1e400}')),
        error("json_invalid"),
        flags=["json-strictness", "numbers"],
        spec=["R-J.2-2", "R-5.2-12"],
    )
    add(
        "jose-json-args-big-integer",
        "an invocation whose argument is 2^53 (exact in CBOR, not in every JSON reader)",
        invocation_text(inv_text.replace('"arg":{}', f'"arg":{{"n":{2**53}}}')),
        error("json_invalid"),
        flags=["json-strictness"],
        spec=["R-J.2-2"],
    )
    add(
        "jose-json-duplicate-payload-member",
        "the link payload repeats exp, the second one later: first-wins and last-wins disagree",
        with_payload(text[:-1] + f',"exp":{NOW + 86_400}}}'),
        error("json_duplicate_key"),
        flags=["json-strictness"],
        spec=["R-J.2-1"],
    )
    # jose.md R-J.2-4: the order of the checks of one JSON text
    add(
        "jose-json-duplicate-before-surrogate",
        'the link payload repeats exp and its name holds "\\ud800": the parse finds the '
        "repeated member (json_duplicate_key) before the walk that finds the lone surrogate",
        with_payload(text.replace('"name":"', '"name":"\\ud800')[:-1] + f',"exp":{NOW + 86_400}}}'),
        error("json_duplicate_key"),
        flags=["json-strictness", "precedence"],
        spec=["R-J.2-4", "R-J.2-1"],
    )
    add(
        "jose-json-number-before-duplicate",
        "the link payload repeats exp, the repetition spelt 1.8e9: the refused number is met "
        "while its object is read, before the object closes (json_invalid)",
        with_payload(text[:-1] + ',"exp":1.8e9}'),
        error("json_invalid"),
        flags=["json-strictness", "precedence"],
        spec=["R-J.2-4", "R-J.2-2"],
    )
    dup_header = f'{{"alg":"Ed25519","alg":"none","typ":"{LINK}"}}'.encode()
    add(
        "jose-json-duplicate-header-member",
        "the protected header repeats alg (EdDSA, then none), signed by alice",
        jose_present_raw([raw_jws(dup_header, payload, alice)], holder),
        error("json_duplicate_key"),
        flags=["json-strictness", "jose-header"],
        spec=["R-J.2-1"],
    )
    add(
        "jose-json-duplicate-invocation-member",
        "the invocation payload repeats act",
        invocation_text(inv_text[:-1] + ',"act":"calendar/events/delete"}'),
        error("json_duplicate_key"),
        flags=["json-strictness"],
        spec=["R-J.2-1"],
    )
    honest = jose_present_raw([link], holder).decode("utf-8")
    links_member = honest[
        honest.index('"links":') : honest.index("]", honest.index('"links":')) + 1
    ]
    add(
        "jose-json-duplicate-container-member",
        "the container repeats links",
        honest[:-1].encode() + b"," + links_member.encode() + b"}",
        error("json_duplicate_key"),
        flags=["json-strictness"],
        spec=["R-J.2-1"],
    )
    add(
        "jose-json-lone-surrogate",
        "the link's descriptor name holds a lone surrogate escape",
        with_payload(text.replace('"name":"', '"name":"\\ud800', 1)),
        error("json_invalid"),
        flags=["json-strictness", "non-ascii"],
        spec=[],
    )
    add(
        "jose-json-bom",
        "the link payload starts with a UTF-8 byte order mark",
        with_payload(b"\xef\xbb\xbf" + text.encode()),
        error("json_invalid"),
        flags=["json-strictness"],
        spec=[],
    )
    add(
        "jose-json-not-utf8",
        "the link's descriptor name holds a byte that is not UTF-8",
        with_payload(text.encode().replace(b'"name":"', b'"name":"\xff', 1)),
        error("json_invalid"),
        flags=["json-strictness"],
        spec=[],
    )
    add(
        "jose-json-trailing-data",
        "a second JSON value after the link payload's object",
        with_payload(text + "{}"),
        error("json_invalid"),
        flags=["json-strictness"],
        spec=[],
    )
    add(
        "jose-json-payload-not-object",
        "a link payload that is a JSON array",
        with_payload("[]"),
        error("schema_invalid"),
        flags=["claims-schema"],
        spec=["R-J.5-1"],
    )
    add(
        "jose-json-whitespace-between-tokens-ok",
        "a link payload with whitespace between tokens, signed as is: allowed (the digest "
        "and the signature cover the exact bytes)",
        with_payload(json.dumps(payload, sort_keys=True, separators=(" , ", " : "))),
        allow(),
        flags=["json-strictness", "valid"],
        spec=["R-5.3-2", "R-J.6-1"],
    )
    for row in (
        JsonRow(
            case_id="jose-json-header-whitespace-ok",
            description="a protected header with whitespace between tokens, signed as is: allowed",
            header_text=f'{{ "alg" : "Ed25519" , "typ" : "{LINK}" }}',
        ),
        JsonRow(
            case_id="jose-json-header-member-order-ok",
            description="a protected header with typ before alg, signed as is: allowed",
            header_text=f'{{"typ":"{LINK}","alg":"Ed25519"}}',
        ),
        JsonRow(
            case_id="jose-json-header-escaped-typ-ok",
            description=(
                "typ spelled with a JSON escape (\\u002b for '+'): the same string, allowed"
            ),
            header_text='{"alg":"Ed25519","typ":"ac-link\\u002bjwt"}',
        ),
    ):
        add(
            row.case_id,
            row.description,
            jose_present_raw([raw_jws(row.header_text.encode(), payload, alice)], holder),
            allow(),
            flags=["json-strictness", "valid"],
            spec=["R-J.3-6", "R-J.6-1"],
        )
    add(
        "jose-json-header-not-object",
        "a protected header that is a JSON array",
        jose_present_raw([raw_jws(b'["Ed25519"]', payload, alice)], holder),
        error("schema_invalid"),
        flags=["json-strictness", "jose-header"],
        spec=["R-J.3-2"],
    )
    add(
        "jose-json-duplicate-nested-member",
        "the descriptor object inside the link payload repeats kind",
        with_payload(text.replace('"kind":"agent"', '"kind":"agent","kind":"tool"', 1)),
        error("json_duplicate_key"),
        flags=["json-strictness"],
        spec=["R-J.2-1"],
    )
    add(
        "jose-json-leading-zero",
        "the link's iat spelled with a leading zero",
        with_payload(text.replace(iat, f'"iat":0{NOW}')),
        error("json_invalid"),
        flags=["json-strictness"],
        spec=["R-J.2-2"],
    )
    add(
        "jose-container-whitespace-ok",
        "a JSON container with whitespace between tokens: allowed",
        jws.dumps(json.loads(honest)).replace(b'","', b'" , "').replace(b'":', b'" : '),
        allow(),
        flags=["json-strictness", "valid"],
        spec=["R-J.6-1"],
    )
    add(
        "jose-container-leading-whitespace",
        "ac2j. over a JSON container that starts with a space: not a JOSE container",
        "ac2j." + b64(b" " + honest.encode()),
        error("encoding_unknown"),
        flags=["encoding-mixing", "text-form"],
        spec=["R-J.6-2"],
    )
    add(
        "jose-json-nesting-unbalanced",
        "the link payload opens 5000 arrays and never closes them: the scan before the "
        "parse answers limit_exceeded",
        with_payload('{"dsc":' + "[" * 5000),
        error("limit_exceeded"),
        flags=["json-strictness", "limits"],
        spec=["R-J.2-3"],
    )
    add(
        "jose-json-nesting-one-past",
        "an argument nested one level past max_cbor_depth",
        invocation_text(inv_text.replace('"arg":{}', '"arg":{"n":' + "[" * 16 + "]" * 16 + "}")),
        error("limit_exceeded"),
        flags=["json-strictness", "limits"],
        spec=["R-J.2-3"],
    )
    # J.2 table: the container's items are max_links + 2 * max_attachments + 16 = 48, counting
    # every value, member names and the outermost object included; the honest container
    # {"invocation", "links": [1 link], "ver"} holds 8, and each extra member adds 2
    top = json.loads(honest)
    assert _json_items(top) == 8
    add(
        "jose-json-items-container-at-cap",
        "a JSON container of exactly 48 items (20 unknown members): within the cap, so "
        "unknown_field",
        jws.dumps({**top, **{f"x{i:02}": 0 for i in range(20)}}),
        error("unknown_field"),
        flags=["json-strictness", "limits"],
        spec=["R-J.2-3", "R-5.8-1"],
    )
    add(
        "jose-json-items-container-cap-plus-one",
        "a JSON container of 50 items (21 unknown members): limit_exceeded before any "
        "member is looked at",
        jws.dumps({**top, **{f"x{i:02}": 0 for i in range(21)}}),
        error("limit_exceeded"),
        flags=["json-strictness", "limits"],
        spec=["R-J.2-3"],
    )
    add(
        "jose-json-nesting-container-at-cap",
        "an unknown container member [[]]: depth 3, the container's cap (J.2 table), so "
        "unknown_field",
        honest[:-1].encode() + b',"x":[[]]}',
        error("unknown_field"),
        flags=["json-strictness", "limits"],
        spec=["R-J.2-3", "R-5.8-1"],
    )
    add(
        "jose-json-nesting-container-cap-plus-one",
        "an unknown container member [[[]]]: depth 4, one past the container's cap of 3 (not "
        "max_cbor_depth), so limit_exceeded",
        honest[:-1].encode() + b',"x":[[[]]]}',
        error("limit_exceeded"),
        flags=["json-strictness", "limits"],
        spec=["R-J.2-3"],
    )
    add(
        "jose-json-nesting-container",
        "the container nested 20 levels deep in an unknown member",
        honest[:-1].encode() + b',"x":' + b"[" * 20 + b"]" * 20 + b"}",
        error("limit_exceeded"),
        flags=["json-strictness", "limits"],
        spec=["R-J.2-3"],
    )
