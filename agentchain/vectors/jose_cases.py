"""The JOSE half of the conformance vectors (spec/jose.md), category ``jose``.

Each case breaks one rule of the JOSE profile, or carries a semantic check of the spec
(chain, attenuation, time, context, revocation, the factors) into the JOSE encoding.
Like every case, its expected result is stated by hand here. Hostile objects are built
byte by byte: a payload with one defect is signed by its honest issuer and the invocation
re-bound to it, so a verifier that skipped the check under test would allow the request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any, Final

from agentchain import codec
from agentchain._build import (
    Rng,
    container,
    enc,
    jose_container,
    jose_parts,
    jose_resign,
    raw_jws,
)
from agentchain.codec import ApprovalRequirement
from agentchain.crypto import EDDSA, ES256
from agentchain.issuer import approve, attest
from agentchain.model import Descriptor
from agentchain.vectors.build import (
    AUD,
    CAL,
    KEYS,
    NOW,
    Built,
    chain,
    encoded_links,
    jose_present_raw,
    present,
)
from agentchain.vectors.cases import N256, SMALL_ORDER, L
from agentchain.vectors.suite import Suite, allow, deny, error, needs_approval, step
from agentchain.wire import jws

LINK: Final = codec.JWT_TYP_LINK
INVOCATION: Final = codec.JWT_TYP_INVOCATION
HEADER: Final = {"alg": EDDSA, "typ": LINK}
ES_POLICY: Final = {"anchors": ["alice-es256"]}


def _b64(data: bytes) -> str:
    return jws.b64encode(data)


def _split(compact: bytes) -> list[str]:
    return compact.decode("ascii").split(".")


def _join(parts: list[str]) -> bytes:
    return ".".join(parts).encode("ascii")


def _payload_text(compact: bytes) -> str:
    return jws.b64decode(_split(compact)[1]).decode("utf-8")


def _flip_low_bits(char: str) -> str:
    """A base64url character with the same high two bits and non-zero low four: the
    last character of a 64-byte value spelled with stray bits."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    value = alphabet.index(char)
    return alphabet[(value & 0b110000) | 0b0101]


def jose(s: Suite) -> None:
    def add(
        case_id: str,
        description: str,
        value: Any,
        expected: dict[str, object],
        *,
        flags: list[str],
        spec: list[str],
        **kw: Any,
    ) -> None:
        step_kw = {k: kw.pop(k) for k in ("action", "resource", "args", "now") if k in kw}
        s.add(
            case_id,
            description,
            flags=flags,
            spec=spec,
            steps=[step(value, expected, **step_kw)],
            encoding="jose",
            **kw,
        )

    _envelope(add)
    _json(add)
    _compact(add)
    _signatures(add)
    _tampered(add)
    _limits(add)
    _mixing(add)
    _claims(add)
    _keys_and_container(add)
    _semantics(s, add)


Add = Callable[..., None]


def _root() -> tuple[bytes, dict[str, Any], Any]:
    """The honest JOSE root link alice -> h1 (EdDSA), its payload, and its holder."""
    token, holder = chain(1, encoding="jose", label="jose-base")
    link = token.links[0].encoded
    return link, jose_parts(link)[1], holder


def _envelope(add: Add) -> None:
    link, payload, holder = _root()
    alice = KEYS("alice")
    mallory = KEYS("mallory")

    def root(header: Any, signer: Any = alice, signature: bytes | None = None) -> bytes:
        return jose_present_raw([raw_jws(header, payload, signer, signature=signature)], holder)

    signing_input = jws.signing_input(jws.dumps({"alg": "HS256", "typ": LINK}), jws.dumps(payload))
    rows: list[tuple[str, str, bytes, str, list[str]]] = [
        (
            "jose-alg-none",
            "alg none and an empty signature (RFC 8725 2.1)",
            root({"alg": "none", "typ": LINK}, None, b""),
            "alg_not_allowed",
            ["R-J.4-1"],
        ),
        (
            "jose-alg-hs256-public-key-secret",
            "HS256 keyed with the anchor's raw public key as the HMAC secret (RFC 8725 2.2)",
            root(
                {"alg": "HS256", "typ": LINK},
                None,
                hmac.new(alice.public_key.raw(), signing_input, hashlib.sha256).digest(),
            ),
            "alg_not_allowed",
            ["R-J.4-1"],
        ),
        (
            "jose-alg-hs256-jwk-secret",
            "HS256 keyed with the anchor's public JWK text as the HMAC secret",
            root(
                {"alg": "HS256", "typ": LINK},
                None,
                hmac.new(
                    jws.dumps(alice.public_key.to_jwk()), signing_input, hashlib.sha256
                ).digest(),
            ),
            "alg_not_allowed",
            ["R-J.4-1"],
        ),
        (
            "jose-alg-rs256",
            "RS256 with a 256-byte signature (RFC 8725 2.3)",
            root({"alg": "RS256", "typ": LINK}, None, Rng("jose-rs256")(256)),
            "alg_not_allowed",
            ["R-J.4-1"],
        ),
        (
            "jose-alg-ps256",
            "PS256 with a 256-byte signature",
            root({"alg": "PS256", "typ": LINK}, None, Rng("jose-ps256")(256)),
            "alg_not_allowed",
            ["R-J.4-1"],
        ),
        (
            "jose-alg-lowercase",
            "alg 'eddsa': names are case-sensitive",
            root({"alg": "eddsa", "typ": LINK}),
            "alg_not_allowed",
            ["R-J.4-1"],
        ),
        (
            "jose-alg-ed25519-name",
            "alg 'Ed25519' (a fully-specified name outside this profile), signed with Ed25519",
            root({"alg": "Ed25519", "typ": LINK}),
            "alg_not_allowed",
            ["R-J.4-1"],
        ),
        (
            "jose-alg-es256-header-ed25519-key",
            "an ES256 header over the Ed25519 anchor's honest Ed25519 signature",
            root({"alg": ES256, "typ": LINK}),
            "alg_not_allowed",
            ["R-J.4-2", "R-3.1-2"],
        ),
        (
            "jose-header-jku",
            "a jku header naming mallory's key set, signed by mallory (RFC 8725 3.10)",
            root({**HEADER, "jku": "https://mallory.example/keys.json"}, mallory),
            "jose_header_forbidden",
            ["R-J.3-4"],
        ),
        (
            "jose-header-x5u",
            "an x5u header, signed by alice",
            root({**HEADER, "x5u": "https://mallory.example/cert.pem"}),
            "jose_header_forbidden",
            ["R-J.3-4"],
        ),
        (
            "jose-header-x5c",
            "an x5c header, signed by alice",
            root({**HEADER, "x5c": [_b64(b"\x30\x82\x01\x00")]}),
            "jose_header_forbidden",
            ["R-J.3-4"],
        ),
        (
            "jose-header-jwk-embedded",
            "mallory signs and embeds her own public JWK in the header (CVE-2018-0114 style)",
            root({**HEADER, "jwk": mallory.public_key.to_jwk()}, mallory),
            "jose_header_forbidden",
            ["R-J.3-4"],
        ),
        (
            "jose-header-x5t",
            "an x5t header, signed by alice",
            root({**HEADER, "x5t": _b64(b"\x01" * 20)}),
            "jose_header_forbidden",
            ["R-J.3-4"],
        ),
        (
            "jose-header-x5t-s256",
            "an x5t#S256 header, signed by alice",
            root({**HEADER, "x5t#S256": _b64(b"\x01" * 32)}),
            "jose_header_forbidden",
            ["R-J.3-4"],
        ),
        (
            "jose-header-b64-false",
            "b64 false (RFC 7797 unencoded payload), signed by alice",
            root({**HEADER, "b64": False}),
            "jose_header_forbidden",
            ["R-J.3-4"],
        ),
        (
            "jose-header-cty",
            "a cty header, signed by alice",
            root({**HEADER, "cty": "JWT"}),
            "jose_header_forbidden",
            ["R-J.3-4"],
        ),
        (
            "jose-header-unknown-member",
            "an unregistered header member, signed by alice",
            root({**HEADER, "x-trace": "1"}),
            "jose_header_forbidden",
            ["R-J.3-4"],
        ),
        (
            "jose-header-crit",
            "crit naming exp, signed by alice: no extension is understood",
            root({**HEADER, "crit": ["exp"]}),
            "jose_crit_unsupported",
            ["R-J.3-3"],
        ),
        (
            "jose-header-crit-empty",
            "crit as an empty list (itself invalid in RFC 7515): still refused as crit",
            root({**HEADER, "crit": []}),
            "jose_crit_unsupported",
            ["R-J.3-3"],
        ),
        (
            "jose-kid-anchor-signed-by-mallory",
            "a kid naming the anchor on a link mallory signed: kid helps no forger",
            root({**HEADER, "kid": alice.public_key.kid}, mallory),
            "signature_invalid",
            ["R-J.3-5", "R-7.1-4"],
        ),
        (
            "jose-typ-missing",
            "a header without typ",
            root({"alg": EDDSA}),
            "schema_invalid",
            ["R-J.3-6"],
        ),
        (
            "jose-typ-jwt",
            "typ JWT instead of the link type (RFC 8725 3.11)",
            root({**HEADER, "typ": "JWT"}),
            "type_mismatch",
            ["R-J.3-6"],
        ),
        (
            "jose-typ-invocation-on-link",
            "a link typed as an invocation",
            root({**HEADER, "typ": INVOCATION}),
            "type_mismatch",
            ["R-J.3-6"],
        ),
        (
            "jose-typ-cbor-media-type",
            "a JOSE link typed with the COSE link's media type",
            root({**HEADER, "typ": codec.TYP_LINK}),
            "type_mismatch",
            ["R-J.3-6"],
        ),
        (
            "jose-typ-other-case",
            "the link type in other letter case: typ is compared exactly",
            root({**HEADER, "typ": LINK.upper()}),
            "type_mismatch",
            ["R-J.3-6"],
        ),
        (
            "jose-typ-link-as-invocation",
            "the root link itself in the invocation's place (cross-JWT confusion)",
            jose_container([link], link),
            "type_mismatch",
            ["R-J.3-6"],
        ),
        (
            "jose-alg-none-invocation",
            "an invocation with alg none and an empty signature",
            jose_container(
                [link],
                raw_jws(
                    {"alg": "none", "typ": INVOCATION},
                    _invocation_payload(link),
                    None,
                    signature=b"",
                ),
            ),
            "alg_not_allowed",
            ["R-J.4-1", "R-8.2-4"],
        ),
    ]
    for case_id, description, data, code, rids in rows:
        if case_id.startswith(("jose-header", "jose-kid")):
            flags = ["jose-header"]
        else:
            flags = ["type-confusion" if "-typ-" in case_id else "jose-alg-confusion"]
        add(case_id, description, data, error(code), flags=flags, spec=rids)
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
        "an EdDSA header over the P-256 anchor's honest ES256 signature",
        jose_present_raw([raw_jws(HEADER, es_payload, es_alice)], es_holder),
        error("alg_not_allowed"),
        flags=["jose-alg-confusion"],
        spec=["R-J.4-2", "R-3.1-2"],
        policy=ES_POLICY,
    )
    add(
        "jose-alg-not-in-policy",
        "an honest ES256 JOSE chain under a policy allowing EdDSA only",
        present(es_token, es_holder),
        error("alg_not_allowed"),
        flags=["alg-confusion"],
        spec=["R-3.1-3"],
        policy={**ES_POLICY, "algorithms": [EDDSA]},
    )


def _invocation_payload(link: bytes, **changes: object) -> dict[str, object]:
    out: dict[str, object] = {
        "ver": 1,
        "chn": _b64(hashlib.sha256(link).digest()),
        "aud": AUD,
        "act": "calendar/events/read",
        "res": CAL + "/work/standup",
        "arg": {},
        "iat": NOW,
        "jti": _b64(b"\x07" * 16),
    }
    out.update(changes)
    return out


def _json(add: Add) -> None:
    link, payload, holder = _root()
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

    inv_text = jws.dumps(_invocation_payload(link)).decode("utf-8")
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
        "an invocation whose argument is 1.5",
        invocation_text(inv_text.replace('"arg":{}', '"arg":{"n":1.5}')),
        error("json_invalid"),
        flags=["json-strictness"],
        spec=["R-J.2-2"],
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
    dup_header = f'{{"alg":"EdDSA","alg":"none","typ":"{LINK}"}}'.encode()
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
    for case_id, description, header_text in (
        (
            "jose-json-header-whitespace-ok",
            "a protected header with whitespace between tokens, signed as is: allowed",
            f'{{ "alg" : "EdDSA" , "typ" : "{LINK}" }}',
        ),
        (
            "jose-json-header-member-order-ok",
            "a protected header with typ before alg, signed as is: allowed",
            f'{{"typ":"{LINK}","alg":"EdDSA"}}',
        ),
        (
            "jose-json-header-escaped-typ-ok",
            "typ spelled with a JSON escape (\\u002b for '+'): the same string, allowed",
            '{"alg":"EdDSA","typ":"agentchain-link\\u002bjwt"}',
        ),
    ):
        add(
            case_id,
            description,
            jose_present_raw([raw_jws(header_text.encode(), payload, alice)], holder),
            allow(),
            flags=["json-strictness", "valid"],
            spec=["R-J.3-6", "R-J.6-1"],
        )
    add(
        "jose-json-header-not-object",
        "a protected header that is a JSON array",
        jose_present_raw([raw_jws(b'["EdDSA"]', payload, alice)], holder),
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
        "ac1j. over a JSON container that starts with a space: not a JOSE container",
        "ac1j." + _b64(b" " + honest.encode()),
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
    add(
        "jose-json-nesting-container",
        "the container nested 20 levels deep in an unknown member",
        honest[:-1].encode() + b',"x":' + b"[" * 20 + b"]" * 20 + b"}",
        error("limit_exceeded"),
        flags=["json-strictness", "limits"],
        spec=["R-J.2-3"],
    )


def _compact(add: Add) -> None:
    link, _, holder = _root()
    header, payload, signature = _split(link)
    assert len(signature) == 86 and len(header) % 4 != 0

    def with_parts(parts: list[str]) -> bytes:
        return jose_present_raw([_join(parts)], holder)

    sig_std = signature.replace("-", "+", 1) if "-" in signature else signature.replace("_", "/", 1)
    assert sig_std != signature
    rows: list[tuple[str, str, list[str], dict[str, object], list[str]]] = [
        (
            "jose-b64-padding-header",
            "the header part with '=' padding",
            [header + "=" * (-len(header) % 4), payload, signature],
            error("base64_invalid"),
            ["R-J.3-2"],
        ),
        (
            "jose-b64-padding-signature",
            "the signature part with '==' padding",
            [header, payload, signature + "=="],
            error("base64_invalid"),
            ["R-J.3-2"],
        ),
        (
            "jose-b64-stray-bits-signature",
            "the signature's last character with non-zero unused bits (same bytes, 2nd spelling)",
            [header, payload, signature[:-1] + _flip_low_bits(signature[-1])],
            error("base64_invalid"),
            ["R-J.3-2"],
        ),
        (
            "jose-b64-space-in-payload",
            "a space inside the payload part",
            [header, payload[:10] + " " + payload[10:], signature],
            error("base64_invalid"),
            ["R-J.3-2"],
        ),
        (
            "jose-b64-newline-in-signature",
            "a line break inside the signature part",
            [header, payload, signature[:40] + "\n" + signature[40:]],
            error("base64_invalid"),
            ["R-J.3-2"],
        ),
        (
            "jose-b64-standard-alphabet",
            "the signature spelled with the standard alphabet ('+' or '/')",
            [header, payload, sig_std],
            error("base64_invalid"),
            ["R-J.3-2"],
        ),
        (
            "jose-compact-two-parts",
            "a compact of two parts (header and payload)",
            [header, payload],
            error("schema_invalid"),
            ["R-J.3-2"],
        ),
        (
            "jose-compact-four-parts",
            "a compact of four parts",
            [header, payload, signature, signature],
            error("schema_invalid"),
            ["R-J.3-2"],
        ),
        (
            "jose-compact-five-parts",
            "a JWE-shaped compact of five parts",
            [header, "", payload, payload, signature],
            error("schema_invalid"),
            ["R-J.3-2"],
        ),
        (
            "jose-compact-empty-signature",
            "an EdDSA link whose signature part is empty",
            [header, payload, ""],
            error("signature_malformed"),
            ["R-3.4-1", "R-J.4-3"],
        ),
        (
            "jose-compact-detached-payload",
            "an empty payload part (RFC 7515 appendix F detached content)",
            [header, "", signature],
            error("json_invalid"),
            ["R-J.3-2"],
        ),
    ]
    for case_id, description, parts, expected, rids in rows:
        add(case_id, description, with_parts(parts), expected, flags=["jose-compact"], spec=rids)
    flattened = jws.dumps({"protected": header, "payload": payload, "signature": signature})
    add(
        "jose-compact-json-serialization",
        "the link as a flattened JWS JSON serialization instead of a compact",
        jose_present_raw([flattened], holder),
        error("schema_invalid"),
        flags=["jose-compact"],
        spec=["R-J.3-2"],
    )


def _signatures(add: Add) -> None:
    link, payload, holder = _root()
    alice = KEYS("alice")
    head_payload = link.rsplit(b".", 1)[0]
    signature = jose_parts(link)[2]
    s_value = int.from_bytes(signature[32:], "little")

    def with_signature(sig: bytes, base: bytes = head_payload) -> bytes:
        return base + b"." + _b64(sig).encode("ascii")

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
    small_jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64(bytes.fromhex(SMALL_ORDER["order8a"]))}
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
        jose_present_raw([with_signature(_der(r, s_int), es_base)], es_holder),
        error("signature_malformed"),
        flags=["signature-length"],
        spec=["R-3.5-1", "R-J.4-3"],
        policy=ES_POLICY,
    )


def _der(r: int, s: int) -> bytes:
    def integer(v: int) -> bytes:
        body = v.to_bytes((v.bit_length() + 8) // 8, "big")
        return b"\x02" + bytes([len(body)]) + body

    seq = integer(r) + integer(s)
    return b"\x30" + bytes([len(seq)]) + seq


def _tampered(add: Add) -> None:
    link, payload, holder = _root()
    header_b64, _, signature = _split(link)
    wider = {**payload, "cap": [["calendar", CAL + "/*"], ["mail", "https://mail.example/*"]]}
    tampered_link = _join([header_b64, _b64(jws.dumps(wider)), signature])
    add(
        "jose-tamper-link",
        "the root's payload grants one more capability; alice's signature kept",
        jose_present_raw([tampered_link], holder),
        error("signature_invalid"),
        flags=["signature-forgery"],
        spec=["R-7.1-4", "R-5.3-2"],
    )
    kid_header = _b64(jws.dumps({**HEADER, "kid": KEYS("alice").public_key.kid}))
    add(
        "jose-tamper-header",
        "a kid added to the root's header after signing: the header is signed too",
        jose_present_raw([_join([kid_header, _split(link)[1], signature])], holder),
        error("signature_invalid"),
        flags=["signature-forgery", "jose-header"],
        spec=["R-7.1-4"],
    )
    inv = raw_jws({"alg": EDDSA, "typ": INVOCATION}, _invocation_payload(link), holder)
    ih, _, isig = _split(inv)
    other_nonce = _invocation_payload(link, jti=_b64(b"\x08" * 16))
    add(
        "jose-tamper-invocation",
        "the invocation's nonce changed after the holder signed it",
        jose_container([link], _join([ih, _b64(jws.dumps(other_nonce)), isig])),
        error("signature_invalid"),
        flags=["signature-forgery", "holder-binding"],
        spec=["R-7.2-1", "R-8.2-4"],
    )
    # attestation and approval: from the trusted attester, and from the required approver
    code = {"sha256": b"\xc0" * 32}
    desc = Descriptor(kind="agent", name="https://agents.example/h1", code=code, model="m-1")
    token, h1 = chain(1, encoding="jose", descriptors=[desc], label="jose-att-x")
    att = attest(KEYS("attester"), h1.public_key, code=code, model="m-1", now=NOW, encoding="jose")
    ah, _, asig = _split(att.encoded)
    att_payload = jose_parts(att.encoded)[1]
    forged_att = _join([ah, _b64(jws.dumps({**att_payload, "model": "m-2"})), asig])
    p = present(token, h1, attestations=[att], label="jose-att")
    assert p.invocation is not None
    add(
        "jose-tamper-attestation",
        "a trusted attester's attestation with its model changed after signing",
        jose_container(encoded_links(token), p.invocation.encoded, attestations=[forged_att]),
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
    vh, _, vsig = _split(apv.encoded)
    apv_payload = jose_parts(apv.encoded)[1]
    forged_apv = _join([vh, _b64(jws.dumps({**apv_payload, "exp": apv_payload["exp"] + 1})), vsig])
    p = present(token, h2, approvals=[apv], label="jose-appr")
    assert p.invocation is not None
    add(
        "jose-tamper-approval",
        "the required approval with its exp moved one second after signing",
        jose_container(encoded_links(token), p.invocation.encoded, approvals=[forged_apv]),
        error("signature_invalid"),
        flags=["signature-forgery", "approval"],
        spec=["R-8.2-18"],
        features=["approval"],
    )


def _limits(add: Add) -> None:
    link, _, holder = _root()
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
        "an ac1j. text far over the cap that is not even base64url: the cap answers first",
        "ac1j." + "*" * 3000,
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
    for case_id, description, body, expected in (
        ("jose-limit-string-4096", "a 4096-byte purpose: at the limit", "p" * 4096, allow()),
        (
            "jose-limit-string-4097",
            "a 4097-byte purpose: one past",
            "p" * 4097,
            error("limit_exceeded"),
        ),
        (
            "jose-limit-string-non-ascii-4096",
            "a purpose of 2048 two-byte characters (4096 UTF-8 bytes): at the limit",
            "\u00e9" * 2048,
            allow(),
        ),
        (
            "jose-limit-string-non-ascii-4098",
            "a purpose of 2049 two-byte characters: 4098 UTF-8 bytes, over (bytes, not characters)",
            "\u00e9" * 2049,
            error("limit_exceeded"),
        ),
        (
            "jose-limit-string-escaped-4096",
            "a 4096-byte purpose, 1024 of its bytes spelled as \\u0070 escapes (9216 characters "
            "of JSON): the limit is on the string, not on its spelling",
            None,
            allow(),
        ),
    ):
        signed = raw_jws(HEADER, escaped if body is None else {**payload, "pur": body}, alice)
        add(
            case_id,
            description,
            jose_present_raw([signed], holder),
            expected,
            flags=["limits", "valid"] if expected == allow() else ["limits"],
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


def _mixing(add: Add) -> None:
    jose_token, jose_holder = chain(2, encoding="jose", label="jose-mix")
    cbor_token, cbor_holder = chain(2, label="jose-mix")
    jp = present(jose_token, jose_holder, label="jose-mix")
    cp = present(cbor_token, cbor_holder, label="jose-mix")
    assert jp.invocation is not None and cp.invocation is not None
    jl, cl = encoded_links(jose_token), encoded_links(cbor_token)
    att_j = attest(KEYS("attester"), cbor_holder.public_key, model="m", now=NOW, encoding="jose")
    att_c = attest(KEYS("attester"), jose_holder.public_key, model="m", now=NOW)
    pol = {"attesters": ["attester"]}
    rows: list[tuple[str, str, Any, str, list[str], dict[str, Any]]] = [
        (
            "jose-mix-jws-link-in-cbor-container",
            "a CBOR container whose second link is a JWS compact (as a byte string)",
            container([cl[0], jl[1]], cp.invocation.encoded),
            "encoding_mixed",
            ["R-J.1-2"],
            {},
        ),
        (
            "jose-mix-malformed-jws-in-cbor-container",
            "a CBOR container whose second link is a JWS compact with a trailing line break: "
            "by its first byte a JWS, so mixed, never handed to a JOSE parser",
            container([cl[0], jl[1] + b"\n"], cp.invocation.encoded),
            "encoding_mixed",
            ["R-J.1-2"],
            {},
        ),
        (
            "jose-mix-padded-jws-in-cbor-container",
            "a CBOR container whose second link is a JWS compact with a padded signature",
            container([cl[0], jl[1] + b"=="], cp.invocation.encoded),
            "encoding_mixed",
            ["R-J.1-2"],
            {},
        ),
        (
            "jose-mix-jws-text-in-cbor-container",
            "a CBOR container whose only link is a JWS compact as a text string",
            enc({1: 1, 2: [jl[0].decode("ascii")], 3: cp.invocation.encoded}),
            "encoding_mixed",
            ["R-J.1-2"],
            {},
        ),
        (
            "jose-mix-cose-link-in-json-container",
            "a JSON container whose second link is a COSE_Sign1 in base64url",
            jws.dumps(
                {
                    "ver": 1,
                    "links": [jl[0].decode(), _b64(cl[1])],
                    "invocation": jp.invocation.encoded.decode(),
                }
            ),
            "encoding_mixed",
            ["R-J.1-2"],
            {},
        ),
        (
            "jose-mix-cose-text-link-in-json-container",
            "a JSON container whose second link is a COSE_Sign1 in its ac1c. text form",
            jws.dumps(
                {
                    "ver": 1,
                    "links": [jl[0].decode(), "ac1c." + _b64(cl[1])],
                    "invocation": jp.invocation.encoded.decode(),
                }
            ),
            "encoding_mixed",
            ["R-J.1-2"],
            {},
        ),
        (
            "jose-mix-cose-invocation-in-json-container",
            "JOSE links with a COSE invocation (base64url) in a JSON container",
            jws.dumps(
                {
                    "ver": 1,
                    "links": [link.decode() for link in jl],
                    "invocation": _b64(cp.invocation.encoded),
                }
            ),
            "encoding_mixed",
            ["R-J.1-2"],
            {},
        ),
        (
            "jose-mix-jose-attestation-in-cbor-presentation",
            "an honest CBOR presentation carrying a JOSE attestation (a trusted attester's)",
            container(cl, cp.invocation.encoded, attestations=[att_j.encoded]),
            "encoding_mixed",
            ["R-J.1-2"],
            pol,
        ),
        (
            "jose-mix-cose-attestation-in-json-presentation",
            "an honest JOSE presentation carrying a COSE attestation (base64url)",
            jws.dumps(
                {
                    "ver": 1,
                    "links": [link.decode() for link in jl],
                    "invocation": jp.invocation.encoded.decode(),
                    "attestations": [_b64(att_c.encoded)],
                }
            ),
            "encoding_mixed",
            ["R-J.1-2"],
            pol,
        ),
        (
            "jose-text-prefix-cbor-holding-json",
            "ac1c. followed by a JSON container",
            "ac1c." + _b64(jp.to_bytes()),
            "encoding_unknown",
            ["R-J.6-2"],
            {},
        ),
        (
            "jose-text-prefix-jose-holding-cbor",
            "ac1j. followed by a CBOR container",
            "ac1j." + _b64(cp.to_bytes()),
            "encoding_unknown",
            ["R-J.6-2"],
            {},
        ),
    ]
    for case_id, description, value, code, rids, pol_kw in rows:
        feats = ["attestation"] if pol_kw else []
        add(
            case_id,
            description,
            value,
            error(code),
            flags=["encoding-mixing"],
            spec=rids,
            policy=pol_kw or None,
            features=feats,
        )


def _claims(add: Add) -> None:
    link, payload, holder = _root()
    alice = KEYS("alice")

    def with_payload(changes: dict[str, object], drop: tuple[str, ...] = ()) -> bytes:
        p = {k: v for k, v in {**payload, **changes}.items() if k not in drop}
        return jose_present_raw([raw_jws(HEADER, p, alice)], holder)

    thumb = alice.public_key.thumbprint
    rows: list[tuple[str, str, bytes, str, list[str]]] = [
        (
            "jose-claims-unknown-member",
            "the root payload carries an extra member admin: true",
            with_payload({"admin": True}),
            "unknown_field",
            ["R-J.5-1"],
        ),
        (
            "jose-claims-cbor-key-name",
            'the root payload names exp by its CBOR key "8"',
            with_payload({"8": payload["exp"]}, ("exp",)),
            "unknown_field",
            ["R-J.5-1"],
        ),
        (
            "jose-claims-cnf-jwk-with-alg-and-kid",
            "the holder's JWK in cnf carries alg and kid: only kty, crv, x (and y) are allowed",
            with_payload({"cnf": {"jwk": holder.public_key.to_jwk()}}),
            "unknown_field",
            ["R-J.5-1"],
        ),
        (
            "jose-claims-missing-exp",
            "the root payload without exp",
            with_payload({}, ("exp",)),
            "schema_invalid",
            ["R-J.5-1"],
        ),
        (
            "jose-claims-exp-string",
            "exp as a decimal string",
            with_payload({"exp": str(payload["exp"])}),
            "schema_invalid",
            ["R-J.5-1"],
        ),
        (
            "jose-claims-iss-hex",
            "iss as the hex of the thumbprint (valid base64url characters, 48 bytes)",
            with_payload({"iss": thumb.hex()}),
            "schema_invalid",
            ["R-J.5-1"],
        ),
        (
            "jose-claims-jti-padded",
            "the link id in base64url with '=' padding",
            with_payload({"jti": payload["jti"] + "=" * (-len(payload["jti"]) % 4 or 4)}),
            "base64_invalid",
            ["R-J.5-1", "R-5.1-2"],
        ),
        (
            "jose-claims-version-2",
            "ver 2",
            with_payload({"ver": 2}),
            "version_unsupported",
            ["R-J.5-1"],
        ),
    ]
    for case_id, description, data, code, rids in rows:
        add(case_id, description, data, error(code), flags=["claims-schema"], spec=rids)
    inv = raw_jws({"alg": EDDSA, "typ": INVOCATION}, _invocation_payload(link, aud=[AUD]), holder)
    add(
        "jose-claims-aud-array",
        "the invocation's aud as a one-element array (RFC 7519 allows it; this profile not)",
        jose_container([link], inv),
        error("schema_invalid"),
        flags=["claims-schema", "audience"],
        spec=["R-J.5-1"],
    )


def _keys_and_container(add: Add) -> None:
    """Holder keys in cnf (spec 3.3 through JOSE), the JSON container (spec 5.8), the text
    form (spec 5.1), and JSON readings that differ between parsers."""
    link, payload, holder = _root()
    alice = KEYS("alice")
    text = jws.dumps(payload).decode("utf-8")
    ed_jwk = payload["cnf"]["jwk"]
    es_full = KEYS("h1", ES256).public_key.to_jwk()
    es_jwk = {k: es_full[k] for k in ("kty", "crv", "x", "y")}

    def with_payload(changes: dict[str, object]) -> bytes:
        return jose_present_raw([raw_jws(HEADER, {**payload, **changes}, alice)], holder)

    def cnf(jwk: dict[str, object]) -> bytes:
        return with_payload({"cnf": {"jwk": jwk}})

    key_rows: list[tuple[str, str, bytes, str, list[str]]] = [
        (
            "jose-key-cnf-p256-off-curve",
            "the holder's P-256 JWK with a y that puts the point off the curve",
            cnf({**es_jwk, "y": _b64(b"\x01" * 32)}),
            "key_invalid",
            ["R-3.3-3"],
        ),
        (
            "jose-key-cnf-kty-crv-mismatch",
            "a holder JWK of kty EC with crv Ed25519",
            cnf({**es_jwk, "crv": "Ed25519"}),
            "alg_not_allowed",
            ["R-3.3-4"],
        ),
        (
            "jose-key-cnf-okp-with-y",
            "the holder's Ed25519 JWK with a y coordinate",
            cnf({**ed_jwk, "y": es_jwk["y"]}),
            "key_invalid",
            ["R-3.3-4"],
        ),
        (
            "jose-key-cnf-x-31-bytes",
            "the holder's Ed25519 JWK with a 31-byte x",
            cnf({**ed_jwk, "x": _b64(b"\x01" * 31)}),
            "key_invalid",
            ["R-3.3-4"],
        ),
    ]
    for case_id, description, data, code, rids in key_rows:
        add(
            case_id,
            description,
            data,
            error(code),
            flags=["key-validation"],
            spec=[*rids, "R-J.5-1"],
        )
    add(
        "jose-json-duplicate-escaped-member",
        'the link payload repeats exp, the second spelled "\\u0065xp": the same name once read',
        with_payload_text(holder, text[:-1] + f',"\\u0065xp":{NOW + 86_400}}}'),
        error("json_duplicate_key"),
        flags=["json-strictness"],
        spec=["R-J.2-1"],
    )
    add(
        "jose-json-escaped-member-name-ok",
        'the link payload spells exp as "\\u0065xp": the same member, allowed',
        with_payload_text(holder, text.replace('"exp"', '"\\u0065xp"')),
        allow(),
        flags=["json-strictness", "valid"],
        spec=["R-J.5-1", "R-J.6-1"],
    )
    schema_rows: list[tuple[str, str, dict[str, object]]] = [
        ("jose-claims-version-true", "ver true (1 in languages where true == 1)", {"ver": True}),
        ("jose-claims-depth-false", "dep false (0 in languages where false == 0)", {"dep": False}),
        ("jose-claims-iat-string", "iat as a decimal string", {"iat": str(NOW)}),
        (
            "jose-claims-cap-object",
            "cap as an object instead of an array of pairs",
            {"cap": {"calendar": CAL + "/*"}},
        ),
    ]
    for case_id, description, changes in schema_rows:
        add(
            case_id,
            description,
            with_payload(changes),
            error("schema_invalid"),
            flags=["claims-schema", "type-strictness"],
            spec=["R-J.5-1"],
        )
    add(
        "jose-claims-version-2-unknown-member",
        "ver 2 with an unknown member: the version is checked first",
        with_payload({"ver": 2, "admin": True}),
        error("version_unsupported"),
        flags=["claims-schema"],
        spec=["R-J.5-1", "R-5.5-3"],
    )
    honest = jose_present_raw([link], holder)
    doc = json.loads(honest)
    container_rows: list[tuple[str, str, bytes, dict[str, object], list[str]]] = [
        (
            "jose-container-version-true",
            "the container's ver is true",
            jws.dumps({**doc, "ver": True}),
            error("schema_invalid"),
            ["R-5.8-1"],
        ),
        (
            "jose-container-version-2",
            "the container's ver is 2",
            jws.dumps({**doc, "ver": 2}),
            error("version_unsupported"),
            ["R-5.8-1"],
        ),
        (
            "jose-container-unknown-member",
            "the container carries an unknown member",
            jws.dumps({**doc, "extra": 1}),
            error("unknown_field"),
            ["R-5.8-1", "R-J.5-1"],
        ),
        (
            "jose-container-link-not-string",
            "a link given as a number",
            jws.dumps({**doc, "links": [7]}),
            error("schema_invalid"),
            ["R-5.8-1"],
        ),
        (
            "jose-container-links-empty",
            "an empty links array",
            jws.dumps({**doc, "links": []}),
            error("chain_empty"),
            ["R-5.8-2"],
        ),
        (
            "jose-container-attestations-empty",
            "attestations present and empty",
            jws.dumps({**doc, "attestations": []}),
            error("schema_invalid"),
            ["R-5.8-4"],
        ),
        (
            "jose-container-token-only",
            "links without an invocation",
            jws.dumps({"ver": 1, "links": doc["links"]}),
            error("invocation_missing"),
            ["R-5.8-3", "R-8.2-4"],
        ),
        (
            "jose-container-not-object",
            "ac1j. over a JSON array: not a JOSE container",
            b'["' + link + b'"]',  # bytes not starting with '{': the text is built below
            error("encoding_unknown"),
            ["R-J.6-2"],
        ),
    ]
    for case_id, description, data, expected, rids in container_rows:
        value = Built("ac1j." + _b64(data), data)  # the JOSE prefix whatever the bytes hold
        add(case_id, description, value, expected, flags=["claims-schema"], spec=rids)
    body = _b64(honest)
    assert len(body) % 4 != 0
    add(
        "jose-text-surrounding-whitespace",
        "an ac1j. text surrounded by ASCII whitespace: ignored",
        "\r\n " + "ac1j." + body + "\t\n",
        allow(),
        flags=["text-form", "valid"],
        spec=["R-5.1-3", "R-J.6-2"],
    )
    add(
        "jose-text-padding",
        "an ac1j. text with '=' padding",
        "ac1j." + body + "=" * (-len(body) % 4),
        error("base64_invalid"),
        flags=["text-form"],
        spec=["R-5.1-2"],
    )
    add(
        "jose-text-prefix-uppercase",
        "AC1J. instead of ac1j.",
        "AC1J." + body,
        error("encoding_unknown"),
        flags=["text-form"],
        spec=["R-5.1-1"],
    )
    apv_token, apv_holder = chain(2, encoding="jose", label="jose-appr")
    digest = codec.request_digest(
        apv_token.chain_digest, AUD, "calendar/events/read", CAL + "/work/standup", {}
    )
    att = attest(alice, apv_holder.public_key, model="m", now=NOW, encoding="jose")
    pres = present(apv_token, apv_holder, label="jose-appr")
    assert pres.invocation is not None
    add(
        "jose-typ-attestation-as-approval",
        "an attestation in the approvals array (cross-JWT confusion)",
        jose_container(encoded_links(apv_token), pres.invocation.encoded, approvals=[att.encoded]),
        error("type_mismatch"),
        flags=["type-confusion"],
        spec=["R-J.3-6"],
        features=["approval"],
    )
    apv = approve(alice, digest, now=NOW, encoding="jose")
    add(
        "jose-typ-approval-as-attestation",
        "an approval in the attestations array",
        jose_container(
            encoded_links(apv_token), pres.invocation.encoded, attestations=[apv.encoded]
        ),
        error("type_mismatch"),
        flags=["type-confusion"],
        spec=["R-J.3-6"],
        features=["attestation"],
    )


def with_payload_text(holder: Any, text: str) -> bytes:
    """A one-link JOSE presentation whose root payload is exactly ``text``, signed by alice."""
    return jose_present_raw([raw_jws(HEADER, text.encode("utf-8"), KEYS("alice"))], holder)


def _semantics(s: Suite, add: Add) -> None:
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
                    jose_resign(links[2], h[2], {"prt": _b64(hashlib.sha256(links[0]).digest())}),
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


CATEGORIES: Final[tuple[tuple[str, Callable[[Suite], None]], ...]] = (("jose", jose),)
