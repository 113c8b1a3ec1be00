"""jose.json, part 3: mixed encodings, claims, keys and the container."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from agentchain import codec
from agentchain._build import container, enc, jose_container, raw_jws
from agentchain.crypto import EDDSA, ES256
from agentchain.issuer import approve, attest
from agentchain.vectors.generator.build import (
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
from agentchain.vectors.generator.cases.jose._common import (
    HEADER,
    INVOCATION,
    Add,
    b64,
    invocation_payload,
    root_link,
    with_payload_text,
)
from agentchain.vectors.generator.suite import allow, deny, error
from agentchain.wire import jws


@dataclass(frozen=True)
class MixingRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    value: Any
    code: str
    spec: list[str]
    policy: dict[str, Any]


@dataclass(frozen=True)
class ClaimRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    data: bytes
    code: str
    spec: list[str]


@dataclass(frozen=True)
class KeyRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    data: bytes
    code: str
    spec: list[str]


@dataclass(frozen=True)
class SchemaRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    changes: dict[str, object]


@dataclass(frozen=True)
class ContainerRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    data: bytes
    expected: dict[str, object]
    spec: list[str]


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
    rows: list[MixingRow] = [
        MixingRow(
            case_id="jose-mix-jws-link-in-cbor-container",
            description="a CBOR container whose second link is a JWS compact (as a byte string)",
            value=container([cl[0], jl[1]], cp.invocation.encoded),
            code="encoding_mixed",
            spec=["R-J.1-2"],
            policy={},
        ),
        MixingRow(
            case_id="jose-mix-malformed-jws-in-cbor-container",
            description=(
                "a CBOR container whose second link is a JWS "
                "compact with a trailing line break: "
                "by its first byte a JWS, so mixed, never handed to a JOSE parser"
            ),
            value=container([cl[0], jl[1] + b"\n"], cp.invocation.encoded),
            code="encoding_mixed",
            spec=["R-J.1-2"],
            policy={},
        ),
        MixingRow(
            case_id="jose-mix-padded-jws-in-cbor-container",
            description=(
                "a CBOR container whose second link is a JWS compact with a padded signature"
            ),
            value=container([cl[0], jl[1] + b"=="], cp.invocation.encoded),
            code="encoding_mixed",
            spec=["R-J.1-2"],
            policy={},
        ),
        MixingRow(
            case_id="jose-mix-jws-text-in-cbor-container",
            description="a CBOR container whose only link is a JWS compact as a text string",
            value=enc({1: 2, 2: [jl[0].decode("ascii")], 3: cp.invocation.encoded}),
            code="encoding_mixed",
            spec=["R-J.1-2"],
            policy={},
        ),
        MixingRow(
            case_id="jose-mix-jws-text-no-signature-in-cbor-container",
            description="a CBOR container whose link is the text 'x.y.' (a JWS compact shape "
            "with an empty signature): encoding_mixed by the J.1 table, before R-5.8-1's "
            "schema_invalid for a link that is not a byte string",
            value=enc({1: 2, 2: ["eyJh.eyJi."], 3: cp.invocation.encoded}),
            code="encoding_mixed",
            spec=["R-J.1-2", "R-5.8-1"],
            policy={},
        ),
        MixingRow(
            case_id="jose-mix-brace-string-in-json-container",
            description="a JSON container whose link is the string '{}' (first character not "
            "base64url): schema_invalid by the J.1 table, not encoding_mixed",
            value=jws.dumps(
                {"ver": 2, "links": ["{}"], "invocation": jp.invocation.encoded.decode()}
            ),
            code="schema_invalid",
            spec=["R-J.1-2", "R-5.8-1"],
            policy={},
        ),
        MixingRow(
            case_id="jose-mix-cose-link-in-json-container",
            description="a JSON container whose second link is a COSE_Sign1 in base64url",
            value=jws.dumps(
                {
                    "ver": 2,
                    "links": [jl[0].decode(), b64(cl[1])],
                    "invocation": jp.invocation.encoded.decode(),
                }
            ),
            code="encoding_mixed",
            spec=["R-J.1-2"],
            policy={},
        ),
        MixingRow(
            case_id="jose-mix-cose-text-link-in-json-container",
            description="a JSON container whose second link is a COSE_Sign1 in its ac2c. text form",
            value=jws.dumps(
                {
                    "ver": 2,
                    "links": [jl[0].decode(), "ac2c." + b64(cl[1])],
                    "invocation": jp.invocation.encoded.decode(),
                }
            ),
            code="encoding_mixed",
            spec=["R-J.1-2"],
            policy={},
        ),
        MixingRow(
            case_id="jose-mix-cose-invocation-in-json-container",
            description="JOSE links with a COSE invocation (base64url) in a JSON container",
            value=jws.dumps(
                {
                    "ver": 2,
                    "links": [link.decode() for link in jl],
                    "invocation": b64(cp.invocation.encoded),
                }
            ),
            code="encoding_mixed",
            spec=["R-J.1-2"],
            policy={},
        ),
        MixingRow(
            case_id="jose-mix-jose-attestation-in-cbor-presentation",
            description=(
                "an honest CBOR presentation carrying a JOSE attestation (a trusted attester's)"
            ),
            value=container(cl, cp.invocation.encoded, attestations=[att_j.encoded]),
            code="encoding_mixed",
            spec=["R-J.1-2"],
            policy=pol,
        ),
        MixingRow(
            case_id="jose-mix-cose-attestation-in-json-presentation",
            description="an honest JOSE presentation carrying a COSE attestation (base64url)",
            value=jws.dumps(
                {
                    "ver": 2,
                    "links": [link.decode() for link in jl],
                    "invocation": jp.invocation.encoded.decode(),
                    "attestations": [b64(att_c.encoded)],
                }
            ),
            code="encoding_mixed",
            spec=["R-J.1-2"],
            policy=pol,
        ),
        MixingRow(
            case_id="jose-text-prefix-cbor-holding-json",
            description="ac2c. followed by a JSON container",
            value="ac2c." + b64(jp.to_bytes()),
            code="encoding_unknown",
            spec=["R-J.6-2"],
            policy={},
        ),
        MixingRow(
            case_id="jose-text-prefix-jose-holding-cbor",
            description="ac2j. followed by a CBOR container",
            value="ac2j." + b64(cp.to_bytes()),
            code="encoding_unknown",
            spec=["R-J.6-2"],
            policy={},
        ),
    ]
    for row in rows:
        feats = ["attestation"] if row.policy else []
        add(
            row.case_id,
            row.description,
            row.value,
            error(row.code),
            flags=["encoding-mixing"],
            spec=row.spec,
            policy=row.policy or None,
            features=feats,
        )


def claim_cases(add: Add) -> None:
    link, payload, holder = root_link()
    alice = KEYS("alice")

    def with_payload(changes: dict[str, object], drop: tuple[str, ...] = ()) -> bytes:
        p = {k: v for k, v in {**payload, **changes}.items() if k not in drop}
        return jose_present_raw([raw_jws(HEADER, p, alice)], holder)

    thumb = alice.public_key.thumbprint
    rows: list[ClaimRow] = [
        ClaimRow(
            case_id="jose-claims-unknown-member",
            description="the root payload carries an extra member admin: true",
            data=with_payload({"admin": True}),
            code="unknown_field",
            spec=["R-J.5-1"],
        ),
        ClaimRow(
            case_id="jose-claims-cbor-key-name",
            description='the root payload names exp by its CBOR key "8"',
            data=with_payload({"8": payload["exp"]}, ("exp",)),
            code="unknown_field",
            spec=["R-J.5-1"],
        ),
        ClaimRow(
            case_id="jose-claims-cnf-jwk-with-alg-and-kid",
            description=(
                "the holder's JWK in cnf carries alg and kid: only kty, crv, x (and y) are allowed"
            ),
            data=with_payload({"cnf": {"jwk": holder.public_key.to_jwk()}}),
            code="key_invalid",
            spec=["R-J.5-1", "R-3.3-5"],
        ),
        ClaimRow(
            case_id="jose-claims-cnf-extra-member",
            description="cnf holds a member besides jwk: unknown_field (J.5), while a member "
            "beyond kty, crv, x, y inside the JWK is key_invalid (R-3.3-5)",
            data=with_payload({"cnf": {"jwk": payload["cnf"]["jwk"], "kid": "h1"}}),
            code="unknown_field",
            spec=["R-J.5-1", "R-J.5-4"],
        ),
        ClaimRow(
            case_id="jose-claims-cnf-kid-without-jwk",
            description="cnf holds only kid (another RFC 7800 confirmation method): jwk's "
            "absence is checked first (schema_invalid, not unknown_field)",
            data=with_payload({"cnf": {"kid": "h1"}}),
            code="schema_invalid",
            spec=["R-J.5-4"],
        ),
        ClaimRow(
            case_id="jose-claims-iss-31-bytes",
            description="a root link whose iss decodes to 31 bytes: strict base64url of the "
            "wrong length is schema_invalid, not base64_invalid",
            data=with_payload({"iss": b64(thumb[:31])}),
            code="schema_invalid",
            spec=["R-J.5-3"],
        ),
        ClaimRow(
            case_id="jose-claims-iss-standard-alphabet",
            description="the root's issuer in standard base64 (+ and / for - and _, unpadded): "
            "base64_invalid",
            data=with_payload({"iss": _standard_alphabet(payload["iss"])}),
            code="base64_invalid",
            spec=["R-J.5-3"],
        ),
        ClaimRow(
            case_id="jose-claims-iss-number",
            description="the root's issuer as a JSON number: not a string (schema_invalid)",
            data=with_payload({"iss": 7}),
            code="schema_invalid",
            spec=["R-J.5-3"],
        ),
        ClaimRow(
            case_id="jose-claims-digest-set-padded",
            description="a descriptor code digest in base64url with '=' padding: base64_invalid",
            data=with_payload(
                {"dsc": {**payload["dsc"], "code": {"sha256": b64(b"\x01" * 32) + "="}}}
            ),
            code="base64_invalid",
            spec=["R-J.5-3"],
        ),
        ClaimRow(
            case_id="jose-claims-digest-set-8-bytes",
            description="a descriptor code digest of 8 bytes (strict base64url): schema_invalid",
            data=with_payload({"dsc": {**payload["dsc"], "code": {"sha256": b64(b"\x01" * 8)}}}),
            code="schema_invalid",
            spec=["R-J.5-3"],
        ),
        ClaimRow(
            case_id="jose-claims-missing-exp",
            description="the root payload without exp",
            data=with_payload({}, ("exp",)),
            code="schema_invalid",
            spec=["R-J.5-1"],
        ),
        ClaimRow(
            case_id="jose-claims-exp-string",
            description="exp as a decimal string",
            data=with_payload({"exp": str(payload["exp"])}),
            code="schema_invalid",
            spec=["R-J.5-1"],
        ),
        ClaimRow(
            case_id="jose-claims-iss-hex",
            description="iss as the hex of the thumbprint (valid base64url characters, 48 bytes)",
            data=with_payload({"iss": thumb.hex()}),
            code="schema_invalid",
            spec=["R-J.5-1", "R-J.5-3"],
        ),
        ClaimRow(
            case_id="jose-claims-iss-padded",
            description="the root's issuer in base64url with '=' padding",
            data=with_payload({"iss": payload["iss"] + "=" * (-len(payload["iss"]) % 4 or 4)}),
            code="base64_invalid",
            spec=["R-J.5-1", "R-J.5-3", "R-5.1-2"],
        ),
        ClaimRow(
            case_id="jose-claims-version-1",
            description="an 0.1 link payload (ver 1) under protocol 0.2",
            data=with_payload({"ver": 1}),
            code="version_unsupported",
            spec=["R-J.5-1"],
        ),
    ]
    for row in rows:
        add(
            row.case_id,
            row.description,
            row.data,
            error(row.code),
            flags=["claims-schema"],
            spec=row.spec,
        )
    inv = raw_jws({"alg": EDDSA, "typ": INVOCATION}, invocation_payload(link, aud=[AUD]), holder)
    add(
        "jose-claims-aud-array",
        "the invocation's aud as a one-element array (RFC 7519 allows it; this profile not)",
        jose_container([link], inv),
        error("schema_invalid"),
        flags=["claims-schema", "audience"],
        spec=["R-J.5-1"],
    )


def _standard_alphabet(text: str) -> str:
    """``text`` (base64url holding a '-' or '_') in the standard alphabet, unpadded."""
    out = text.replace("-", "+").replace("_", "/")
    if out == text:
        raise ValueError("no character differs between the two alphabets")
    return out


def args_digest_cases(add: Add) -> None:
    """spec 5.7 R-5.7-3, R-5.7-4 in JOSE: the arguments by digest, member arh (J.5)."""
    link, _, holder = root_link()
    args = {"amount": 5, "note": "by digest"}
    good = codec.args_digest(args)
    rows: list[tuple[str, str, bytes, dict[str, object], dict[str, object], list[str]]] = [
        (
            "jose-args-digest-allow",
            "an invocation that binds its arguments by digest (arh, SHA-256 of their "
            "deterministic CBOR): allowed for the request holding those arguments",
            jose_present_raw([link], holder, args_digest=good),
            args,
            allow(),
            ["R-5.7-3", "R-5.7-4", "R-J.5-1"],
        ),
        (
            "jose-args-digest-mismatch",
            "an invocation binding another argument map by digest: request_mismatch",
            jose_present_raw([link], holder, args_digest=good),
            {**args, "amount": 6},
            deny("request_mismatch"),
            ["R-5.7-4"],
        ),
        (
            "jose-args-digest-31-bytes",
            "arh decodes to 31 bytes: schema_invalid",
            jose_present_raw([link], holder, args_digest=good[:31]),
            args,
            error("schema_invalid"),
            ["R-J.5-3", "R-5.7-1"],
        ),
        (
            "jose-args-digest-padded",
            "arh in base64url with '=' padding: base64_invalid",
            _with_invocation_member(link, holder, "arh", jws.b64encode(good) + "="),
            args,
            error("base64_invalid"),
            ["R-J.5-3"],
        ),
        (
            "jose-args-digest-json-digest",
            "arh is the SHA-256 of the arguments' JSON, not of their deterministic CBOR: "
            "request_mismatch",
            jose_present_raw([link], holder, args_digest=hashlib.sha256(jws.dumps(args)).digest()),
            args,
            deny("request_mismatch"),
            ["R-5.7-4"],
        ),
    ]
    for case_id, description, data, request_args, expected, spec in rows:
        add(
            case_id,
            description,
            data,
            expected,
            flags=["request-binding"],
            spec=spec,
            args=request_args,
        )


def _with_invocation_member(link: bytes, holder: Any, name: str, value: object) -> bytes:
    body = invocation_payload(link)
    body.pop("arg", None)
    body[name] = value
    return jose_container([link], raw_jws({"alg": EDDSA, "typ": INVOCATION}, body, holder))


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

    key_rows: list[KeyRow] = [
        KeyRow(
            case_id="jose-key-cnf-p256-off-curve",
            description="the holder's P-256 JWK with a y that puts the point off the curve",
            data=cnf({**es_jwk, "y": b64(b"\x01" * 32)}),
            code="key_invalid",
            spec=["R-3.3-3"],
        ),
        KeyRow(
            case_id="jose-key-cnf-kty-crv-mismatch",
            description="a holder JWK of kty EC with crv Ed25519",
            data=cnf({**es_jwk, "crv": "Ed25519"}),
            code="alg_not_allowed",
            spec=["R-3.3-4"],
        ),
        KeyRow(
            case_id="jose-key-cnf-okp-with-y",
            description="the holder's Ed25519 JWK with a y coordinate",
            data=cnf({**ed_jwk, "y": es_jwk["y"]}),
            code="key_invalid",
            spec=["R-3.3-4"],
        ),
        KeyRow(
            case_id="jose-key-cnf-x25519-with-alg",
            description="a holder JWK on X25519 with an alg member: the curve is judged before "
            "the member set (alg_not_allowed, not key_invalid), as for a COSE_Key",
            data=cnf({**ed_jwk, "crv": "X25519", "alg": "EdDSA"}),
            code="alg_not_allowed",
            spec=["R-3.3-5"],
        ),
        KeyRow(
            case_id="jose-key-cnf-x-31-bytes",
            description="the holder's Ed25519 JWK with a 31-byte x",
            data=cnf({**ed_jwk, "x": b64(b"\x01" * 31)}),
            code="key_invalid",
            spec=["R-3.3-4"],
        ),
    ]
    for row in key_rows:
        add(
            row.case_id,
            row.description,
            row.data,
            error(row.code),
            flags=["key-validation"],
            spec=[*row.spec, "R-J.5-1"],
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
    schema_rows: list[SchemaRow] = [
        SchemaRow(
            case_id="jose-claims-version-true",
            description="ver true (1 in languages where true == 1)",
            changes={"ver": True},
        ),
        SchemaRow(
            case_id="jose-claims-depth-false",
            description="dep false (0 in languages where false == 0)",
            changes={"dep": False},
        ),
        SchemaRow(
            case_id="jose-claims-iat-string",
            description="iat as a decimal string",
            changes={"iat": str(NOW)},
        ),
        SchemaRow(
            case_id="jose-claims-cap-object",
            description="cap as an object instead of an array of pairs",
            changes={"cap": {"calendar": CAL + "/*"}},
        ),
    ]
    for schema_row in schema_rows:
        add(
            schema_row.case_id,
            schema_row.description,
            with_payload(schema_row.changes),
            error("schema_invalid"),
            flags=["claims-schema", "type-strictness"],
            spec=["R-J.5-1"],
        )
    add(
        "jose-claims-version-3-unknown-member",
        "ver 3 with an unknown member: the version is checked first",
        with_payload({"ver": 3, "admin": True}),
        error("version_unsupported"),
        flags=["claims-schema"],
        spec=["R-J.5-1", "R-5.5-3"],
    )
    honest = jose_present_raw([link], holder)
    doc = json.loads(honest)
    container_rows: list[ContainerRow] = [
        ContainerRow(
            case_id="jose-container-version-true",
            description="the container's ver is true",
            data=jws.dumps({**doc, "ver": True}),
            expected=error("schema_invalid"),
            spec=["R-5.8-1"],
        ),
        ContainerRow(
            case_id="jose-container-version-1",
            description="an 0.1 container (ver 1) under protocol 0.2",
            data=jws.dumps({**doc, "ver": 1}),
            expected=error("version_unsupported"),
            spec=["R-5.8-1"],
        ),
        ContainerRow(
            case_id="jose-container-unknown-member",
            description="the container carries an unknown member",
            data=jws.dumps({**doc, "extra": 1}),
            expected=error("unknown_field"),
            spec=["R-5.8-1", "R-J.5-1"],
        ),
        ContainerRow(
            case_id="jose-container-link-not-string",
            description="a link given as a number",
            data=jws.dumps({**doc, "links": [7]}),
            expected=error("schema_invalid"),
            spec=["R-5.8-1"],
        ),
        ContainerRow(
            case_id="jose-container-links-empty",
            description="an empty links array",
            data=jws.dumps({**doc, "links": []}),
            expected=error("chain_empty"),
            spec=["R-5.8-2"],
        ),
        ContainerRow(
            case_id="jose-container-attestations-empty",
            description="attestations present and empty",
            data=jws.dumps({**doc, "attestations": []}),
            expected=error("schema_invalid"),
            spec=["R-5.8-4"],
        ),
        ContainerRow(
            case_id="jose-container-token-only",
            description="links without an invocation",
            data=jws.dumps({"ver": 2, "links": doc["links"]}),
            expected=error("invocation_missing"),
            spec=["R-5.8-3", "R-8.2-4"],
        ),
        ContainerRow(
            case_id="jose-container-not-object",
            description="ac2j. over a JSON array: not a JOSE container",
            data=b'["' + link + b'"]',  # bytes not starting with '{': the text is built below
            expected=error("encoding_unknown"),
            spec=["R-J.6-2"],
        ),
    ]
    for container_row in container_rows:
        value = Built(
            "ac2j." + b64(container_row.data), container_row.data
        )  # the JOSE prefix whatever the bytes hold
        add(
            container_row.case_id,
            container_row.description,
            value,
            container_row.expected,
            flags=["claims-schema"],
            spec=container_row.spec,
        )
    body = b64(honest)
    add(
        "jose-text-surrounding-whitespace",
        "an ac2j. text surrounded by ASCII whitespace: ignored",
        "\r\n " + "ac2j." + body + "\t\n",
        allow(),
        flags=["text-form", "valid"],
        spec=["R-5.1-3", "R-J.6-2"],
    )
    add(
        "jose-text-padding",
        "an ac2j. text with '=' padding",
        "ac2j." + body + "=" * ((-len(body) % 4) or 2),
        error("base64_invalid"),
        flags=["text-form"],
        spec=["R-5.1-2"],
    )
    add(
        "jose-text-prefix-uppercase",
        "AC2J. instead of ac2j.",
        "AC2J." + body,
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
