"""wire.json, part 2: link payload bytes and the COSE envelope."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from agentchain import codec
from agentchain._build import claims_of, container, enc, head, pairs, raw_map, sign1_parts, sign_raw
from agentchain.issuer import attest
from agentchain.vectors.generator.build import (
    KEYS,
    NOW,
    invocation_claims,
    present_raw,
    sign_invocation,
)
from agentchain.vectors.generator.cases._common import (
    TYP_LINK,
    alice,
    link_items,
    one_link,
    raw_payload_link,
)
from agentchain.vectors.generator.suite import Suite, error, step


@dataclass(frozen=True)
class PayloadRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    payload: bytes
    code: str
    spec: str
    flag: str


@dataclass(frozen=True)
class CoseRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    data: bytes
    code: str
    spec: str
    flag: str


def payload_cases(s: Suite) -> None:
    items = link_items()
    keys = [k for k, _ in items]
    vals = dict(items)
    k_ver, k_id, k_iat, k_nbf, k_caps = enc(1), enc(5), enc(6), enc(7), enc(9)

    def swap(key: bytes, value: bytes) -> list[tuple[bytes, bytes]]:
        return [(k, value if k == key else v) for k, v in items]

    action, resource = claims_of(one_link()[0])[9][0]
    chunked_action = head(4, 1) + head(4, 2) + b"\x7f" + enc(action) + b"\xff" + enc(resource)
    bad_utf8 = head(4, 1) + head(4, 2) + enc(action) + head(3, 3) + b"x\xc3\x28"
    i2 = keys.index(enc(2))
    unsorted = list(items)
    unsorted[i2], unsorted[i2 + 1] = unsorted[i2 + 1], unsorted[i2]
    rows: list[PayloadRow] = [
        PayloadRow(
            case_id="wire-link-nonminimal-int",
            description="link version 1 encoded as 18 01, re-signed",
            payload=raw_map(swap(k_ver, b"\x18\x01")),
            code="cbor_noncanonical",
            spec="R-5.2-5",
            flag="cbor-canonical",
        ),
        PayloadRow(
            case_id="wire-link-nonminimal-int-64",
            description="link iat in an 8-byte head, re-signed",
            payload=raw_map(swap(k_iat, head(0, NOW, 8))),
            code="cbor_noncanonical",
            spec="R-5.2-5",
            flag="cbor-canonical",
        ),
        PayloadRow(
            case_id="wire-link-nonminimal-length",
            description="link id length in a 1-byte head (58 10), re-signed",
            payload=raw_map(swap(k_id, head(2, 16, 1) + vals[k_id][1:])),
            code="cbor_noncanonical",
            spec="R-5.2-5",
            flag="cbor-canonical",
        ),
        PayloadRow(
            case_id="wire-link-nonminimal-map-length",
            description="link map count in a 1-byte head, re-signed",
            payload=raw_map(items, head(5, len(items), 1)),
            code="cbor_noncanonical",
            spec="R-5.2-5",
            flag="cbor-canonical",
        ),
        PayloadRow(
            case_id="wire-link-unsorted-keys",
            description="link keys 3 before 2, re-signed",
            payload=raw_map(unsorted),
            code="cbor_noncanonical",
            spec="R-5.2-6",
            flag="cbor-canonical",
        ),
        PayloadRow(
            case_id="wire-link-duplicate-key",
            description="link nbf twice, re-signed",
            payload=raw_map(
                [
                    *items[: keys.index(k_nbf) + 1],
                    (k_nbf, vals[k_nbf]),
                    *items[keys.index(k_nbf) + 1 :],
                ]
            ),
            code="cbor_duplicate_key",
            spec="R-5.2-7",
            flag="cbor-duplicate-key",
        ),
        PayloadRow(
            case_id="wire-link-indefinite-map",
            description="link payload as an indefinite map, re-signed",
            payload=b"\xbf" + b"".join(k + v for k, v in items) + b"\xff",
            code="cbor_indefinite",
            spec="R-5.2-4",
            flag="cbor-indefinite",
        ),
        PayloadRow(
            case_id="wire-link-indefinite-text",
            description="a capability action as chunked text, re-signed",
            payload=raw_map(swap(k_caps, chunked_action)),
            code="cbor_indefinite",
            spec="R-5.2-4",
            flag="cbor-indefinite",
        ),
        PayloadRow(
            case_id="wire-link-tag-on-time",
            description="link nbf under tag 1 (epoch time), re-signed",
            payload=raw_map(swap(k_nbf, b"\xc1" + vals[k_nbf])),
            code="cbor_tag",
            spec="R-5.2-3",
            flag="cbor-tag",
        ),
        PayloadRow(
            case_id="wire-link-float-time",
            description="link nbf as a double, re-signed",
            payload=raw_map(swap(k_nbf, b"\xfb" + (0x41DAD2A7E0000000).to_bytes(8, "big"))),
            code="cbor_unsupported",
            spec="R-5.2-2",
            flag="cbor-unsupported",
        ),
        PayloadRow(
            case_id="wire-link-invalid-utf8",
            description="a capability resource that is not UTF-8, re-signed",
            payload=raw_map(swap(k_caps, bad_utf8)),
            code="cbor_malformed",
            spec="R-5.2-8",
            flag="cbor-malformed",
        ),
        PayloadRow(
            case_id="wire-link-trailing-byte",
            description="a byte after the link payload map, re-signed",
            payload=raw_map(items) + b"\x00",
            code="cbor_trailing",
            spec="R-5.2-9",
            flag="cbor-trailing",
        ),
        PayloadRow(
            case_id="wire-link-payload-truncated",
            description="the link payload without its last byte, re-signed",
            payload=raw_map(items)[:-1],
            code="cbor_malformed",
            spec="R-5.2-8",
            flag="cbor-malformed",
        ),
    ]
    for row in rows:
        s.add(
            row.case_id,
            row.description,
            flags=[row.flag],
            spec=[row.spec, "R-5.4-5", "R-8.2-2"],
            steps=[step(raw_payload_link(row.payload), error(row.code))],
        )
    # the invocation payload, re-signed by the holder
    link, holder = one_link()
    inv_items = pairs(invocation_claims(hashlib.sha256(link).digest()))
    inv_items[0] = (inv_items[0][0], b"\x18\x01")
    inv = sign_raw(holder, codec.TYP_INVOCATION, raw_map(inv_items))
    s.add(
        "wire-invocation-nonminimal-int",
        "invocation version 1 encoded as 18 01, re-signed by the holder",
        flags=["cbor-canonical"],
        spec=["R-5.2-5", "R-8.2-2"],
        steps=[step(present_raw([link], holder, invocation=inv), error("cbor_noncanonical"))],
    )


def cose_cases(s: Suite) -> None:
    link, holder = one_link()
    protected, payload, signature = sign1_parts(link)
    key = alice()

    def signed_with(prot: bytes) -> bytes:
        return present_raw([sign_raw(key, TYP_LINK, payload, protected=prot)], holder)

    def shaped(value: object) -> bytes:
        return present_raw([enc(value)], holder)

    hdr = {1: -8, 16: TYP_LINK}
    rows: list[CoseRow] = [
        CoseRow(
            case_id="cose-three-items",
            description="a COSE_Sign1 array of three items",
            data=shaped([protected, {}, payload]),
            code="schema_invalid",
            spec="R-5.4-1",
            flag="cose-profile",
        ),
        CoseRow(
            case_id="cose-map-not-array",
            description="a signed object that is a map",
            data=shaped({1: protected, 2: payload}),
            code="schema_invalid",
            spec="R-5.4-1",
            flag="cose-profile",
        ),
        CoseRow(
            case_id="cose-payload-text",
            description="a payload that is a text string",
            data=shaped([protected, {}, "payload", signature]),
            code="schema_invalid",
            spec="R-5.4-1",
            flag="cose-profile",
        ),
        CoseRow(
            case_id="cose-tag-18",
            description="the COSE_Sign1 tag 18 around the link",
            data=present_raw([b"\xd2" + link], holder),
            code="cbor_tag",
            spec="R-5.4-1",
            flag="cbor-tag",
        ),
        CoseRow(
            case_id="cose-trailing-byte",
            description="a byte after the COSE_Sign1 array",
            data=present_raw([link + b"\x00"], holder),
            code="cbor_trailing",
            spec="R-5.2-9",
            flag="cbor-trailing",
        ),
        CoseRow(
            case_id="cose-unprotected-kid",
            description="an unprotected kid header",
            data=shaped([protected, {4: b"alice"}, payload, signature]),
            code="unknown_field",
            spec="R-5.4-3",
            flag="cose-profile",
        ),
        CoseRow(
            case_id="cose-unprotected-array",
            description="an unprotected header that is an empty array, not a map: unknown_field "
            "(R-5.4-3), not the schema_invalid of another item type (R-5.4-1)",
            data=shaped([protected, [], payload, signature]),
            code="unknown_field",
            spec="R-5.4-3",
            flag="cose-profile",
        ),
        CoseRow(
            case_id="cose-unprotected-null",
            description="an unprotected header that is null: unknown_field",
            data=shaped([protected, None, payload, signature]),
            code="unknown_field",
            spec="R-5.4-3",
            flag="cose-profile",
        ),
        CoseRow(
            case_id="cose-protected-kid",
            description="a protected kid header, re-signed",
            data=signed_with(enc({**hdr, 4: b"alice"})),
            code="unknown_field",
            spec="R-5.4-2",
            flag="cose-profile",
        ),
        CoseRow(
            case_id="cose-protected-crit",
            description="a protected crit header, re-signed",
            data=signed_with(enc({**hdr, 2: [16]})),
            code="unknown_field",
            spec="R-5.4-2",
            flag="cose-profile",
        ),
        CoseRow(
            case_id="cose-protected-no-typ",
            description="a protected header without typ, re-signed",
            data=signed_with(enc({1: -8})),
            code="schema_invalid",
            spec="R-5.4-2",
            flag="cose-profile",
        ),
        CoseRow(
            case_id="cose-protected-alg-text",
            description="alg as the text EdDSA, re-signed",
            data=signed_with(enc({1: "EdDSA", 16: TYP_LINK})),
            code="schema_invalid",
            spec="R-5.4-2",
            flag="cose-profile",
        ),
        CoseRow(
            case_id="cose-protected-nonminimal",
            description="protected header alg -8 as 38 07, re-signed",
            data=signed_with(b"\xa2\x01\x38\x07" + enc(16) + enc(TYP_LINK)),
            code="cbor_noncanonical",
            spec="R-5.4-2",
            flag="cbor-canonical",
        ),
        CoseRow(
            case_id="cose-protected-trailing",
            description="a byte after the protected header map, re-signed",
            data=signed_with(enc(hdr) + b"\x00"),
            code="cbor_trailing",
            spec="R-5.4-2",
            flag="cbor-trailing",
        ),
        CoseRow(
            case_id="cose-alg-es384",
            description="a link header naming ES384 (-35), re-signed",
            data=signed_with(enc({1: -35, 16: TYP_LINK})),
            code="alg_not_allowed",
            spec="R-3.1-1",
            flag="alg-confusion",
        ),
        CoseRow(
            case_id="cose-alg-none-like",
            description="a link header naming alg 0, re-signed",
            data=signed_with(enc({1: 0, 16: TYP_LINK})),
            code="alg_not_allowed",
            spec="R-3.1-1",
            flag="alg-confusion",
        ),
        CoseRow(
            case_id="cose-typ-invocation-as-link",
            description="a link whose typ says invocation, re-signed",
            data=signed_with(enc({1: -8, 16: codec.TYP_INVOCATION})),
            code="type_mismatch",
            spec="R-5.3-1",
            flag="type-confusion",
        ),
    ]
    for row in rows:
        s.add(
            row.case_id,
            row.description,
            flags=[row.flag],
            spec=[row.spec, "R-5.4-5", "R-8.2-2"],
            steps=[step(row.data, error(row.code))],
        )
    # an invocation with a link's typ, and the link in the invocation's place
    inv_claims = invocation_claims(hashlib.sha256(link).digest())
    as_link = codec.sign_object(holder, TYP_LINK, inv_claims)
    s.add(
        "cose-typ-link-as-invocation",
        "an invocation whose typ says link",
        flags=["type-confusion"],
        spec=["R-5.3-1", "R-5.4-5"],
        steps=[step(present_raw([link], holder, invocation=as_link), error("type_mismatch"))],
    )
    s.add(
        "cose-link-in-invocation-slot",
        "the link itself placed as the invocation",
        flags=["type-confusion"],
        spec=["R-5.3-1"],
        steps=[step(present_raw([link], holder, invocation=link), error("type_mismatch"))],
    )
    att = attest(KEYS("attester"), holder.public_key, code={"sha256": b"\x11" * 32}, now=NOW)
    inv = sign_invocation(holder, inv_claims)
    s.add(
        "cose-attestation-as-approval",
        "an attestation attached where approvals go",
        flags=["type-confusion", "approval"],
        spec=["R-5.3-1", "R-5.8-4"],
        steps=[step(container([link], inv, approvals=[att.encoded]), error("type_mismatch"))],
        features=["approval"],
    )
