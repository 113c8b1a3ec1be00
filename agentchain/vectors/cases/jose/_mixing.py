"""jose.json, part 3: mixed encodings, claims, keys and the container."""

from __future__ import annotations

import json
from typing import Any

from agentchain import codec
from agentchain._build import container, enc, jose_container, raw_jws
from agentchain.crypto import EDDSA, ES256
from agentchain.issuer import approve, attest
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
from agentchain.vectors.cases.jose._common import (
    HEADER,
    INVOCATION,
    Add,
    b64,
    invocation_payload,
    root_link,
    with_payload_text,
)
from agentchain.vectors.suite import allow, error
from agentchain.wire import jws


def mixing_cases(add: Add) -> None:
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
                    "links": [jl[0].decode(), b64(cl[1])],
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
                    "links": [jl[0].decode(), "ac1c." + b64(cl[1])],
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
                    "invocation": b64(cp.invocation.encoded),
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
                    "attestations": [b64(att_c.encoded)],
                }
            ),
            "encoding_mixed",
            ["R-J.1-2"],
            pol,
        ),
        (
            "jose-text-prefix-cbor-holding-json",
            "ac1c. followed by a JSON container",
            "ac1c." + b64(jp.to_bytes()),
            "encoding_unknown",
            ["R-J.6-2"],
            {},
        ),
        (
            "jose-text-prefix-jose-holding-cbor",
            "ac1j. followed by a CBOR container",
            "ac1j." + b64(cp.to_bytes()),
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


def claim_cases(add: Add) -> None:
    link, payload, holder = root_link()
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
    inv = raw_jws({"alg": EDDSA, "typ": INVOCATION}, invocation_payload(link, aud=[AUD]), holder)
    add(
        "jose-claims-aud-array",
        "the invocation's aud as a one-element array (RFC 7519 allows it; this profile not)",
        jose_container([link], inv),
        error("schema_invalid"),
        flags=["claims-schema", "audience"],
        spec=["R-J.5-1"],
    )


def key_and_container_cases(add: Add) -> None:
    """Holder keys in cnf (spec 3.3 through JOSE), the JSON container (spec 5.8), the text
    form (spec 5.1), and JSON readings that differ between parsers."""
    link, payload, holder = root_link()
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
            cnf({**es_jwk, "y": b64(b"\x01" * 32)}),
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
            cnf({**ed_jwk, "x": b64(b"\x01" * 31)}),
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
        value = Built("ac1j." + b64(data), data)  # the JOSE prefix whatever the bytes hold
        add(case_id, description, value, expected, flags=["claims-schema"], spec=rids)
    body = b64(honest)
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
