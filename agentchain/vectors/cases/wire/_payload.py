"""wire.json, part 2: link payload bytes and the COSE envelope."""

from __future__ import annotations

import hashlib

from agentchain import codec
from agentchain._build import claims_of, container, enc, head, pairs, raw_map, sign1_parts, sign_raw
from agentchain.issuer import attest
from agentchain.vectors.build import KEYS, NOW, invocation_claims, present_raw, sign_invocation
from agentchain.vectors.cases._common import TYP_LINK, alice, link_items, one_link, raw_payload_link
from agentchain.vectors.suite import Suite, error, step


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
    rows: list[tuple[str, str, bytes, str, str, str]] = [
        (
            "wire-link-nonminimal-int",
            "link version 1 encoded as 18 01, re-signed",
            raw_map(swap(k_ver, b"\x18\x01")),
            "cbor_noncanonical",
            "R-5.2-5",
            "cbor-canonical",
        ),
        (
            "wire-link-nonminimal-int-64",
            "link iat in an 8-byte head, re-signed",
            raw_map(swap(k_iat, head(0, NOW, 8))),
            "cbor_noncanonical",
            "R-5.2-5",
            "cbor-canonical",
        ),
        (
            "wire-link-nonminimal-length",
            "link id length in a 1-byte head (58 10), re-signed",
            raw_map(swap(k_id, head(2, 16, 1) + vals[k_id][1:])),
            "cbor_noncanonical",
            "R-5.2-5",
            "cbor-canonical",
        ),
        (
            "wire-link-nonminimal-map-length",
            "link map count in a 1-byte head, re-signed",
            raw_map(items, head(5, len(items), 1)),
            "cbor_noncanonical",
            "R-5.2-5",
            "cbor-canonical",
        ),
        (
            "wire-link-unsorted-keys",
            "link keys 3 before 2, re-signed",
            raw_map(unsorted),
            "cbor_noncanonical",
            "R-5.2-6",
            "cbor-canonical",
        ),
        (
            "wire-link-duplicate-key",
            "link nbf twice, re-signed",
            raw_map(
                [
                    *items[: keys.index(k_nbf) + 1],
                    (k_nbf, vals[k_nbf]),
                    *items[keys.index(k_nbf) + 1 :],
                ]
            ),
            "cbor_duplicate_key",
            "R-5.2-7",
            "cbor-duplicate-key",
        ),
        (
            "wire-link-indefinite-map",
            "link payload as an indefinite map, re-signed",
            b"\xbf" + b"".join(k + v for k, v in items) + b"\xff",
            "cbor_indefinite",
            "R-5.2-4",
            "cbor-indefinite",
        ),
        (
            "wire-link-indefinite-text",
            "a capability action as chunked text, re-signed",
            raw_map(swap(k_caps, chunked_action)),
            "cbor_indefinite",
            "R-5.2-4",
            "cbor-indefinite",
        ),
        (
            "wire-link-tag-on-time",
            "link nbf under tag 1 (epoch time), re-signed",
            raw_map(swap(k_nbf, b"\xc1" + vals[k_nbf])),
            "cbor_tag",
            "R-5.2-3",
            "cbor-tag",
        ),
        (
            "wire-link-float-time",
            "link nbf as a double, re-signed",
            raw_map(swap(k_nbf, b"\xfb" + (0x41DAD2A7E0000000).to_bytes(8, "big"))),
            "cbor_unsupported",
            "R-5.2-2",
            "cbor-unsupported",
        ),
        (
            "wire-link-invalid-utf8",
            "a capability resource that is not UTF-8, re-signed",
            raw_map(swap(k_caps, bad_utf8)),
            "cbor_malformed",
            "R-5.2-8",
            "cbor-malformed",
        ),
        (
            "wire-link-trailing-byte",
            "a byte after the link payload map, re-signed",
            raw_map(items) + b"\x00",
            "cbor_trailing",
            "R-5.2-9",
            "cbor-trailing",
        ),
        (
            "wire-link-payload-truncated",
            "the link payload without its last byte, re-signed",
            raw_map(items)[:-1],
            "cbor_malformed",
            "R-5.2-8",
            "cbor-malformed",
        ),
    ]
    for case_id, desc, payload, code, rid, flag in rows:
        s.add(
            case_id,
            desc,
            flags=[flag],
            spec=[rid, "R-5.4-5", "R-8.2-2"],
            steps=[step(raw_payload_link(payload), error(code))],
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
    rows: list[tuple[str, str, bytes, str, str, str]] = [
        (
            "cose-three-items",
            "a COSE_Sign1 array of three items",
            shaped([protected, {}, payload]),
            "schema_invalid",
            "R-5.4-1",
            "cose-profile",
        ),
        (
            "cose-map-not-array",
            "a signed object that is a map",
            shaped({1: protected, 2: payload}),
            "schema_invalid",
            "R-5.4-1",
            "cose-profile",
        ),
        (
            "cose-payload-text",
            "a payload that is a text string",
            shaped([protected, {}, "payload", signature]),
            "schema_invalid",
            "R-5.4-1",
            "cose-profile",
        ),
        (
            "cose-tag-18",
            "the COSE_Sign1 tag 18 around the link",
            present_raw([b"\xd2" + link], holder),
            "cbor_tag",
            "R-5.4-1",
            "cbor-tag",
        ),
        (
            "cose-trailing-byte",
            "a byte after the COSE_Sign1 array",
            present_raw([link + b"\x00"], holder),
            "cbor_trailing",
            "R-5.2-9",
            "cbor-trailing",
        ),
        (
            "cose-unprotected-kid",
            "an unprotected kid header",
            shaped([protected, {4: b"alice"}, payload, signature]),
            "unknown_field",
            "R-5.4-3",
            "cose-profile",
        ),
        (
            "cose-protected-kid",
            "a protected kid header, re-signed",
            signed_with(enc({**hdr, 4: b"alice"})),
            "unknown_field",
            "R-5.4-2",
            "cose-profile",
        ),
        (
            "cose-protected-crit",
            "a protected crit header, re-signed",
            signed_with(enc({**hdr, 2: [16]})),
            "unknown_field",
            "R-5.4-2",
            "cose-profile",
        ),
        (
            "cose-protected-no-typ",
            "a protected header without typ, re-signed",
            signed_with(enc({1: -8})),
            "schema_invalid",
            "R-5.4-2",
            "cose-profile",
        ),
        (
            "cose-protected-alg-text",
            "alg as the text EdDSA, re-signed",
            signed_with(enc({1: "EdDSA", 16: TYP_LINK})),
            "schema_invalid",
            "R-5.4-2",
            "cose-profile",
        ),
        (
            "cose-protected-nonminimal",
            "protected header alg -8 as 38 07, re-signed",
            signed_with(b"\xa2\x01\x38\x07" + enc(16) + enc(TYP_LINK)),
            "cbor_noncanonical",
            "R-5.4-2",
            "cbor-canonical",
        ),
        (
            "cose-protected-trailing",
            "a byte after the protected header map, re-signed",
            signed_with(enc(hdr) + b"\x00"),
            "cbor_trailing",
            "R-5.4-2",
            "cbor-trailing",
        ),
        (
            "cose-alg-es384",
            "a link header naming ES384 (-35), re-signed",
            signed_with(enc({1: -35, 16: TYP_LINK})),
            "alg_not_allowed",
            "R-3.1-1",
            "alg-confusion",
        ),
        (
            "cose-alg-none-like",
            "a link header naming alg 0, re-signed",
            signed_with(enc({1: 0, 16: TYP_LINK})),
            "alg_not_allowed",
            "R-3.1-1",
            "alg-confusion",
        ),
        (
            "cose-typ-invocation-as-link",
            "a link whose typ says invocation, re-signed",
            signed_with(enc({1: -8, 16: codec.TYP_INVOCATION})),
            "type_mismatch",
            "R-5.3-1",
            "type-confusion",
        ),
    ]
    for case_id, desc, data, code, rid, flag in rows:
        s.add(
            case_id,
            desc,
            flags=[flag],
            spec=[rid, "R-5.4-5", "R-8.2-2"],
            steps=[step(data, error(code))],
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
