"""Every conformance case, by category, each with its expected result stated by hand.

Invalid cases are made by mutating honest bytes so that the one defect under test is the
only one: a payload re-encoded with one non-canonical head is re-signed by its issuer, and
the invocation is re-bound to the mutated link, so a verifier that skipped the check under
test would accept the presentation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any, Final

from agentchain import codec
from agentchain._build import (
    Rng,
    claims_of,
    container,
    enc,
    head,
    pairs,
    raw_map,
    sign1_parts,
    sign_raw,
    with_signature,
)
from agentchain.codec import ApprovalRequirement
from agentchain.crypto import EDDSA, ES256
from agentchain.issuer import approve, attest, delegate, issue
from agentchain.model import Descriptor
from agentchain.policy import parse
from agentchain.vectors.build import (
    ACTION,
    AUD,
    CAL,
    ENCODINGS,
    KEYS,
    NOW,
    RESOURCE,
    chain,
    encoded_links,
    invocation_claims,
    present,
    present_raw,
    sign_invocation,
)
from agentchain.vectors.suite import (
    Suite,
    allow,
    deny,
    error,
    needs_approval,
    step,
)
from agentchain.wire import cose

P: Final = 2**255 - 19
L: Final = 2**252 + 27742317777372353535851937790883648493
N256: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P256: Final = 2**256 - 2**224 + 2**192 + 2**96 - 1
ED_D: Final = (-121665 * pow(121666, -1, P)) % P
SMALL_ORDER: Final = {
    "y0": "0000000000000000000000000000000000000000000000000000000000000000",
    "identity": "0100000000000000000000000000000000000000000000000000000000000000",
    "p-minus-1": "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "order8a": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "order8b": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
}
TYP_LINK: Final = codec.TYP_LINK


def _ed_off_curve() -> bytes:
    """The smallest y whose x^2 has no square root: an encoding that is not a curve point."""
    y = 2
    while True:
        x2 = (y * y - 1) * pow(ED_D * y * y + 1, -1, P) % P
        if x2 != 0 and pow(x2, (P - 1) // 2, P) != 1:
            return y.to_bytes(32, "little")
        y += 1


def alice(alg: str = EDDSA) -> Any:
    return KEYS("alice", alg)


def one_link(alg: str = EDDSA, label: str = "base") -> tuple[bytes, Any]:
    token, holder = chain(1, alg=alg, label=label)
    return token.links[0].encoded, holder


def relink(claims: Mapping[Any, object], alg: str = EDDSA) -> bytes:
    return codec.sign_object(alice(alg), TYP_LINK, dict(claims))


def mutated_link(
    changes: Mapping[Any, object] | None = None, drop: tuple[int, ...] = (), alg: str = EDDSA
) -> bytes:
    """A one-link presentation whose link claims carry ``changes``, re-signed by alice."""
    link, holder = one_link(alg)
    claims = claims_of(link)
    claims.update(changes or {})
    for k in drop:
        claims.pop(k, None)
    return present_raw([relink(claims, alg)], holder)


def raw_payload_link(payload: bytes, alg: str = EDDSA) -> bytes:
    """A one-link presentation whose link payload is exactly ``payload``, signed by alice."""
    _, holder = one_link(alg)
    return present_raw([sign_raw(alice(alg), TYP_LINK, payload)], holder)


def link_items() -> list[tuple[bytes, bytes]]:
    link, _ = one_link()
    return pairs(claims_of(link))


def valid_presentation(alg: str = EDDSA, depth: int = 1, **kw: Any) -> codec.Presentation:
    token, holder = chain(depth, alg=alg)
    return present(token, holder, **kw)


# ---------------------------------------------------------------------------
# valid


def valid(s: Suite) -> None:
    spec_all = ["R-1.4-1", "R-3.2-1", "R-3.6-2", "R-3.6-3", "R-7.1-1", "R-7.1-2", "R-7.1-3"]
    spec_all += ["R-7.1-4", "R-7.2-1", "R-7.2-2", "R-8.2-15", "R-8.2-16", "R-5.3-2", "R-5.4-4"]
    # R-5.4-4 is the COSE payload rule; a JOSE chain's digests are over the compact text
    per = {"cbor": [], "jose": ["R-J.1-1", "R-J.4-3", "R-J.6-1"]}
    for encoding in ENCODINGS:
        for alg, name in ((EDDSA, "eddsa"), (ES256, "es256")):
            for depth in range(1, 9):
                token, holder = chain(depth, alg=alg, encoding=encoding, label=f"valid-{depth}")
                anchor = "alice" + ("-es256" if alg == ES256 else "")
                s.add(
                    f"valid-depth-{depth}-{name}-{encoding}",
                    f"an honest chain of {depth} link(s), {alg}, {encoding}: allowed",
                    flags=["valid"],
                    spec=[
                        *(r for r in spec_all if encoding == "cbor" or r != "R-5.4-4"),
                        "R-3.4-6" if alg == EDDSA else "R-3.5-1",
                        *per[encoding],
                    ],
                    steps=[step(present(token, holder), allow())],
                    policy={"anchors": [anchor]},
                    encoding=encoding,
                )
    token, holder = chain(3, holder_algs=[ES256, EDDSA, ES256], label="mixed")
    s.add(
        "valid-mixed-algorithms",
        "EdDSA root, then ES256, EdDSA and ES256 holders: each link verified with its key's alg",
        flags=["valid", "alg-confusion"],
        spec=[*spec_all, "R-3.1-2"],
        steps=[step(present(token, holder), allow())],
    )
    token, holder = chain(2, label="args")
    args = {"n": -(2**64), "big": 2**64 - 1, "b": b"\x00\xff", "t": "\u00e9t\u00e9", "z": None}
    s.add(
        "valid-args-full-data-model",
        "arguments using the whole data model (64-bit integers, bytes, non-ASCII text, null)",
        flags=["valid", "request-binding"],
        spec=["R-5.7-2", "R-8.2-9"],
        steps=[step(present(token, holder, args=args), allow(), args=args)],
    )
    s.add(
        "valid-text-surrounding-whitespace",
        "the text form surrounded by ASCII whitespace (files, terminals): ignored",
        flags=["valid", "text-form"],
        spec=["R-5.1-3"],
        steps=[step("\n\t " + valid_presentation().to_text() + " \r\n", allow())],
    )


# ---------------------------------------------------------------------------
# wire


def _text_cases(s: Suite) -> None:
    text = valid_presentation().to_text()
    body = text[5:]
    pad = "=" * (-len(body) % 4) or "=="  # the padding base64 would add (or some, if none)
    raw_short = valid_presentation().to_bytes()
    while len(raw_short) % 3 == 0:
        raw_short += b"\x00"
    short_text = codec.b64encode(raw_short)
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    bumped = short_text[:-1] + last[last.index(short_text[-1]) + 1]
    odd = body + "A" * ((1 - len(body)) % 4)
    rows: list[tuple[str, str, str, str, str]] = [
        (
            "wire-text-no-prefix",
            "base64url without the ac1c. prefix",
            body,
            "encoding_unknown",
            "R-5.1-1",
        ),
        (
            "wire-text-prefix-uppercase",
            "prefix in upper case",
            "AC1C." + body,
            "encoding_unknown",
            "R-5.1-1",
        ),
        (
            "wire-text-prefix-other-version",
            "prefix of an unknown version",
            "ac2c." + body,
            "encoding_unknown",
            "R-5.1-1",
        ),
        (
            "wire-text-leading-nbsp",
            "a leading U+00A0 is not whitespace to strip",
            "\u00a0" + text,
            "encoding_unknown",
            "R-5.1-3",
        ),
        (
            "wire-text-leading-em-space",
            "a leading U+2003 is not whitespace to strip",
            "\u2003" + text,
            "encoding_unknown",
            "R-5.1-3",
        ),
        (
            "wire-text-trailing-nbsp",
            "a trailing U+00A0 is not whitespace to strip",
            text + "\u00a0",
            "base64_invalid",
            "R-5.1-3",
        ),
        (
            "wire-text-padding",
            "base64url with = padding",
            text + pad,
            "base64_invalid",
            "R-5.1-2",
        ),
        (
            "wire-text-standard-alphabet",
            "a + from the standard alphabet",
            text[:6] + "+" + text[7:],
            "base64_invalid",
            "R-5.1-2",
        ),
        (
            "wire-text-inner-whitespace",
            "a space inside the base64url",
            text[:20] + " " + text[20:],
            "base64_invalid",
            "R-5.1-2",
        ),
        (
            "wire-text-length-1-mod-4",
            "a base64url length of 1 modulo 4",
            "ac1c." + odd,
            "base64_invalid",
            "R-5.1-2",
        ),
        (
            "wire-text-nonzero-trailing-bits",
            "unused bits of the last character set",
            "ac1c." + bumped,
            "base64_invalid",
            "R-5.1-2",
        ),
    ]
    for case_id, desc, value, code, rid in rows:
        s.add(
            case_id,
            desc,
            flags=["text-form"],
            spec=[rid, "R-8.2-2"],
            steps=[step(value, error(code))],
        )


def _container_cases(s: Suite) -> None:
    p = valid_presentation()
    links = [link.encoded for link in p.links]
    inv = p.invocation.encoded if p.invocation else b""
    items = pairs({1: 1, 2: links, 3: inv})
    (k1, v1), (k2, v2), (k3, v3) = items
    rows: list[tuple[str, str, bytes, str, str, str]] = [
        (
            "wire-container-nonminimal-int",
            "container version 1 encoded as 18 01",
            raw_map([(k1, b"\x18\x01"), (k2, v2), (k3, v3)]),
            "cbor_noncanonical",
            "R-5.2-5",
            "cbor-canonical",
        ),
        (
            "wire-container-nonminimal-map-length",
            "container map count as b8 03",
            raw_map(items, head(5, 3, 1)),
            "cbor_noncanonical",
            "R-5.2-5",
            "cbor-canonical",
        ),
        (
            "wire-container-nonminimal-bstr-length",
            "the invocation's length in a longer head than needed",
            raw_map([(k1, v1), (k2, v2), (k3, head(2, len(inv), 4) + inv)]),
            "cbor_noncanonical",
            "R-5.2-5",
            "cbor-canonical",
        ),
        (
            "wire-container-unsorted-keys",
            "container keys 1, 3, 2",
            raw_map([(k1, v1), (k3, v3), (k2, v2)]),
            "cbor_noncanonical",
            "R-5.2-6",
            "cbor-canonical",
        ),
        (
            "wire-container-duplicate-key",
            "container key 3 twice, adjacent",
            raw_map([(k1, v1), (k2, v2), (k3, v3), (k3, v3)]),
            "cbor_duplicate_key",
            "R-5.2-7",
            "cbor-duplicate-key",
        ),
        (
            "wire-container-duplicate-key-not-adjacent",
            "container keys 1, 2, 3, 1: out of order",
            raw_map([(k1, v1), (k2, v2), (k3, v3), (k1, v1)]),
            "cbor_noncanonical",
            "R-5.2-7",
            "cbor-canonical",
        ),
        (
            "wire-container-indefinite-map",
            "container as an indefinite-length map",
            b"\xbf" + k1 + v1 + k2 + v2 + k3 + v3 + b"\xff",
            "cbor_indefinite",
            "R-5.2-4",
            "cbor-indefinite",
        ),
        (
            "wire-container-indefinite-array",
            "the links array with indefinite length",
            raw_map([(k1, v1), (k2, b"\x9f" + enc(links[0]) + b"\xff"), (k3, v3)]),
            "cbor_indefinite",
            "R-5.2-4",
            "cbor-indefinite",
        ),
        (
            "wire-container-indefinite-bstr",
            "a link as a chunked byte string",
            raw_map([(k1, v1), (k2, head(4, 1) + b"\x5f" + enc(links[0]) + b"\xff"), (k3, v3)]),
            "cbor_indefinite",
            "R-5.2-4",
            "cbor-indefinite",
        ),
        (
            "wire-container-tag-self-described",
            "the container under tag 55799 (self-described CBOR)",
            b"\xd9\xd9\xf7" + enc({1: 1, 2: links, 3: inv}),
            "cbor_tag",
            "R-5.2-3",
            "cbor-tag",
        ),
        (
            "wire-container-tag-on-link",
            "a link byte string under tag 24",
            raw_map([(k1, v1), (k2, head(4, 1) + b"\xd8\x18" + enc(links[0])), (k3, v3)]),
            "cbor_tag",
            "R-5.2-3",
            "cbor-tag",
        ),
        (
            "wire-container-trailing-byte",
            "one byte after the container",
            enc({1: 1, 2: links, 3: inv}) + b"\x00",
            "cbor_trailing",
            "R-5.2-9",
            "cbor-trailing",
        ),
        (
            "wire-container-truncated",
            "the container without its last byte",
            enc({1: 1, 2: links, 3: inv})[:-1],
            "cbor_malformed",
            "R-5.2-8",
            "cbor-malformed",
        ),
        (
            "wire-container-empty",
            "no bytes at all",
            b"",
            "cbor_malformed",
            "R-5.2-8",
            "cbor-malformed",
        ),
        (
            "wire-container-lone-break",
            "a lone break byte",
            b"\xff",
            "cbor_malformed",
            "R-5.2-8",
            "cbor-malformed",
        ),
        (
            "wire-container-reserved-ai",
            "additional information 28",
            b"\x1c",
            "cbor_malformed",
            "R-5.2-8",
            "cbor-malformed",
        ),
        (
            "wire-container-float-version",
            "version as the half float 1.0",
            raw_map([(k1, b"\xf9\x3c\x00"), (k2, v2), (k3, v3)]),
            "cbor_unsupported",
            "R-5.2-2",
            "cbor-unsupported",
        ),
        (
            "wire-container-undefined",
            "version as undefined (f7)",
            raw_map([(k1, b"\xf7"), (k2, v2), (k3, v3)]),
            "cbor_unsupported",
            "R-5.2-2",
            "cbor-unsupported",
        ),
        (
            "wire-container-bstr-key",
            "a byte-string map key",
            raw_map([(b"\x41\x01", v1), (k2, v2), (k3, v3)]),
            "cbor_unsupported",
            "R-5.2-2",
            "cbor-unsupported",
        ),
        (
            "wire-container-not-a-map",
            "the container as an array",
            enc([1, links, inv]),
            "schema_invalid",
            "R-5.8-1",
            "claims-schema",
        ),
        (
            "wire-container-links-missing",
            "no links key",
            enc({1: 1, 3: inv}),
            "schema_invalid",
            "R-5.8-1",
            "claims-schema",
        ),
        (
            "wire-container-link-not-bstr",
            "a link as a text string",
            enc({1: 1, 2: ["link"], 3: inv}),
            "schema_invalid",
            "R-5.8-1",
            "claims-schema",
        ),
        (
            "wire-container-unknown-key",
            "container key 6",
            enc({1: 1, 2: links, 3: inv, 6: 0}),
            "unknown_field",
            "R-5.8-1",
            "claims-schema",
        ),
        (
            "wire-container-version-2",
            "container version 2",
            enc({1: 2, 2: links, 3: inv}),
            "version_unsupported",
            "R-5.8-1",
            "claims-schema",
        ),
        (
            "wire-container-links-empty",
            "an empty links array",
            enc({1: 1, 2: [], 3: inv}),
            "chain_empty",
            "R-5.8-2",
            "chain-splice",
        ),
        (
            "wire-container-invocation-empty",
            "an empty invocation byte string",
            enc({1: 1, 2: links, 3: b""}),
            "schema_invalid",
            "R-5.8-3",
            "claims-schema",
        ),
        (
            "wire-container-attestations-empty",
            "an empty attestations array",
            enc({1: 1, 2: links, 3: inv, 4: []}),
            "schema_invalid",
            "R-5.8-4",
            "claims-schema",
        ),
        (
            "wire-container-attestation-without-invocation",
            "an attestation on a token without invocation",
            enc({1: 1, 2: links, 4: [_attestation_bytes()]}),
            "schema_invalid",
            "R-5.8-5",
            "claims-schema",
        ),
    ]
    # spec 5.2 reading order within one item (R-5.2-11): one input, two defects
    body = enc({1: 1, 2: links, 3: inv})
    rows += [
        (
            "wire-order-shortest-before-truncation",
            "a non-minimal string length whose content is also truncated",
            body[: -len(inv) - 3] + head(2, len(inv), 4) + inv[:10],
            "cbor_noncanonical",
            "R-5.2-11",
            "precedence",
        ),
        (
            "wire-order-limit-before-truncation",
            "a byte string declaring 70000 bytes, truncated",
            raw_map([(k1, v1), (k2, v2), (k3, head(2, 70_000) + b"\x00")]),
            "limit_exceeded",
            "R-5.2-11",
            "precedence",
        ),
        (
            "wire-order-truncated-float",
            "a half float cut after one byte",
            raw_map([(k1, b"\xf9\x3c")]),
            "cbor_malformed",
            "R-5.2-11",
            "precedence",
        ),
        (
            "wire-order-indefinite-before-key-type",
            "an indefinite byte string as a map key",
            b"\xa1\x5f\xff\x01",
            "cbor_indefinite",
            "R-5.2-11",
            "precedence",
        ),
        (
            "wire-order-key-type-before-shortest",
            "a non-minimal byte-string map key",
            b"\xa1\x58\x01\x00\x01",
            "cbor_unsupported",
            "R-5.2-11",
            "precedence",
        ),
    ]
    for case_id, desc, data, code, rid, flag in rows:
        s.add(case_id, desc, flags=[flag], spec=[rid, "R-8.2-2"], steps=[step(data, error(code))])


def _attestation_bytes() -> bytes:
    _, holder = one_link()
    return attest(
        KEYS("attester"), holder.public_key, code={"sha256": b"\x11" * 32}, now=NOW
    ).encoded


def _payload_cases(s: Suite) -> None:
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


def _cose_cases(s: Suite) -> None:
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


def _claim_cases(s: Suite) -> None:
    okp = {1: 1, -1: 6, -2: b"\x00" * 32}
    p256 = KEYS("h1", ES256).public_key.to_cose_key()
    rows: list[tuple[str, str, dict[Any, object], tuple[int, ...], str, list[str]]] = [
        ("claims-link-unknown-key", "link claim 15", {15: 0}, (), "unknown_field", ["R-5.5-1"]),
        (
            "claims-link-text-key",
            "link claim keyed by text",
            {"x": 0},
            (),
            "unknown_field",
            ["R-5.5-1"],
        ),
        ("claims-link-version-2", "link version 2", {1: 2}, (), "version_unsupported", ["R-5.5-2"]),
        (
            "claims-link-version-2-unknown-key",
            "link version 2 with an unknown claim 99",
            {1: 2, 99: 0},
            (),
            "version_unsupported",
            ["R-5.5-3"],
        ),
        (
            "claims-link-issuer-missing",
            "link without issuer",
            {},
            (2,),
            "schema_invalid",
            ["R-5.5-4"],
        ),
        ("claims-link-id-missing", "link without id", {}, (5,), "schema_invalid", ["R-5.5-4"]),
        (
            "claims-link-descriptor-missing",
            "link without descriptor",
            {},
            (13,),
            "schema_invalid",
            ["R-5.5-4"],
        ),
        ("claims-link-iat-bool", "link iat true", {6: True}, (), "schema_invalid", ["R-5.5-4"]),
        (
            "claims-link-purpose-null",
            "optional purpose present as null",
            {12: None},
            (),
            "schema_invalid",
            ["R-5.5-4"],
        ),
        (
            "claims-link-purpose-empty",
            "purpose as empty text",
            {12: ""},
            (),
            "schema_invalid",
            ["R-5.5-4"],
        ),
        (
            "claims-link-id-short",
            "link id of 15 bytes",
            {5: b"\x01" * 15},
            (),
            "schema_invalid",
            ["R-5.5-4"],
        ),
        ("claims-link-exp-too-large", "exp 2^53", {8: 2**53}, (), "schema_invalid", ["R-5.5-4"]),
        ("claims-link-depth-256", "depth 256", {11: 256}, (), "schema_invalid", ["R-5.5-4"]),
        ("claims-link-negative-nbf", "nbf -1", {7: -1}, (), "schema_invalid", ["R-5.5-4"]),
        (
            "claims-link-capabilities-empty",
            "no capabilities",
            {9: []},
            (),
            "schema_invalid",
            ["R-5.5-5"],
        ),
        (
            "claims-link-capability-three-items",
            "a capability of three items",
            {9: [["calendar", CAL + "/*", "x"]]},
            (),
            "schema_invalid",
            ["R-5.5-5"],
        ),
        (
            "claims-action-empty-segment",
            "action calendar//events",
            {9: [["calendar//events", "*"]]},
            (),
            "schema_invalid",
            ["R-4.1-1"],
        ),
        (
            "claims-action-trailing-slash",
            "action calendar/",
            {9: [["calendar/", "*"]]},
            (),
            "schema_invalid",
            ["R-4.1-1"],
        ),
        (
            "claims-action-inner-star",
            "action calendar/*",
            {9: [["calendar/*", "*"]]},
            (),
            "schema_invalid",
            ["R-4.1-1"],
        ),
        (
            "claims-action-space",
            "action with a space",
            {9: [["calendar events", "*"]]},
            (),
            "schema_invalid",
            ["R-4.1-1"],
        ),
        (
            "claims-resource-no-scheme",
            "resource without a scheme",
            {9: [["calendar", "/alice/*"]]},
            (),
            "schema_invalid",
            ["R-4.2-1"],
        ),
        (
            "claims-resource-space",
            "resource with a space",
            {9: [["calendar", "https://cal.example/a b"]]},
            (),
            "schema_invalid",
            ["R-4.2-1"],
        ),
        (
            "claims-resource-backslash",
            "resource with a backslash",
            {9: [["calendar", "https://cal.example/a\\b"]]},
            (),
            "schema_invalid",
            ["R-4.2-1"],
        ),
        (
            "claims-resource-dot-dot",
            "resource with a .. segment",
            {9: [["calendar", CAL + "/../bob/*"]]},
            (),
            "schema_invalid",
            ["R-4.2-2"],
        ),
        (
            "claims-resource-dot-in-query",
            "resource whose query is a . segment",
            {9: [["calendar", CAL + "/x?/./y"]]},
            (),
            "schema_invalid",
            ["R-4.2-2"],
        ),
        (
            "claims-resource-encoded-dot",
            "resource with %2E",
            {9: [["calendar", CAL + "/%2E%2E/bob"]]},
            (),
            "schema_invalid",
            ["R-4.2-3"],
        ),
        (
            "claims-resource-encoded-slash",
            "resource with %2f",
            {9: [["calendar", CAL + "%2fbob"]]},
            (),
            "schema_invalid",
            ["R-4.2-3"],
        ),
        (
            "claims-resource-inner-star",
            "resource pattern with an inner *",
            {9: [["calendar", CAL + "/*/x"]]},
            (),
            "schema_invalid",
            ["R-4.2-4"],
        ),
        (
            "claims-resource-bare-slash-star",
            "resource pattern /* with an empty prefix",
            {9: [["calendar", "/*"]]},
            (),
            "schema_invalid",
            ["R-4.2-4"],
        ),
        (
            "claims-descriptor-unknown-key",
            "descriptor key 6",
            {13: {1: "agent", 6: 0}},
            (),
            "unknown_field",
            ["R-5.5-6"],
        ),
        (
            "claims-descriptor-kind",
            "descriptor kind robot",
            {13: {1: "robot"}},
            (),
            "schema_invalid",
            ["R-5.5-6"],
        ),
        (
            "claims-descriptor-name-long",
            "descriptor name of 257 characters",
            {13: {1: "agent", 2: "n" * 257}},
            (),
            "schema_invalid",
            ["R-5.5-6"],
        ),
        (
            "claims-digest-set-empty",
            "an empty code digest set",
            {13: {1: "agent", 3: {}}},
            (),
            "schema_invalid",
            ["R-5.5-7"],
        ),
        (
            "claims-digest-set-name",
            "a digest algorithm named SHA256",
            {13: {1: "agent", 3: {"SHA256": b"\x01" * 32}}},
            (),
            "schema_invalid",
            ["R-5.5-7"],
        ),
        (
            "claims-digest-set-short",
            "a 15-byte digest",
            {13: {1: "agent", 3: {"sha256": b"\x01" * 15}}},
            (),
            "schema_invalid",
            ["R-5.5-7"],
        ),
        (
            "claims-digest-set-nine",
            "a digest set of nine entries",
            {13: {1: "agent", 3: {f"a{i}": b"\x01" * 32 for i in range(9)}}},
            (),
            "limit_exceeded",
            ["R-5.5-7"],
        ),
        (
            "claims-scoped-caveat-unknown-key",
            "a scoped caveat with key 3",
            {10: [{1: ["==", ".a", 1], 2: ["calendar"], 3: 0}]},
            (),
            "unknown_field",
            ["R-5.5-8"],
        ),
        (
            "claims-scoped-caveat-no-actions",
            "a scoped caveat with an empty actions list",
            {10: [{1: ["==", ".a", 1], 2: []}]},
            (),
            "schema_invalid",
            ["R-5.5-8"],
        ),
        (
            "claims-scoped-caveat-bad-action",
            "a scoped caveat naming action a//b",
            {10: [{1: ["==", ".a", 1], 2: ["a//b"]}]},
            (),
            "schema_invalid",
            ["R-5.5-8"],
        ),
        (
            "claims-approvals-empty",
            "an empty approval requirements array",
            {14: []},
            (),
            "schema_invalid",
            ["R-5.5-9"],
        ),
        (
            "claims-approval-requirement-unknown-key",
            "an approval requirement with key 4",
            {14: [{4: 0}]},
            (),
            "unknown_field",
            ["R-5.5-9"],
        ),
        (
            "claims-approval-requirement-empty-actions",
            "an approval requirement with no actions",
            {14: [{2: []}]},
            (),
            "schema_invalid",
            ["R-5.5-9"],
        ),
        (
            "claims-holder-alg-label",
            "holder COSE_Key with an alg label",
            {3: {**okp, 3: -8, -2: KEYS("h1").public_key.raw()}},
            (),
            "key_invalid",
            ["R-3.3-1"],
        ),
        (
            "claims-holder-private-d",
            "holder COSE_Key with a private d",
            {3: {**okp, -4: b"\x01" * 32, -2: KEYS("h1").public_key.raw()}},
            (),
            "key_invalid",
            ["R-3.3-1"],
        ),
        (
            "claims-holder-short-x",
            "holder Ed25519 x of 31 bytes",
            {3: {**okp, -2: b"\x01" * 31}},
            (),
            "key_invalid",
            ["R-3.3-1"],
        ),
        (
            "claims-holder-kty-rsa",
            "holder COSE_Key of kty RSA (3)",
            {3: {1: 3, -1: b"\x01", -2: b"\x01"}},
            (),
            "alg_not_allowed",
            ["R-3.3-2"],
        ),
        (
            "claims-holder-x25519",
            "holder OKP key on X25519 (crv 4)",
            {3: {**okp, -1: 4, -2: KEYS("h1").public_key.raw()}},
            (),
            "alg_not_allowed",
            ["R-3.3-2"],
        ),
        (
            "claims-holder-p256-off-curve",
            "holder P-256 point not on the curve",
            {3: {**p256, -3: bytes(31) + b"\x01"}},
            (),
            "key_invalid",
            ["R-3.3-3"],
        ),
        (
            "claims-holder-p256-x-above-p",
            "holder P-256 x coordinate above the field prime",
            {3: {**p256, -2: b"\xff" * 32}},
            (),
            "key_invalid",
            ["R-3.3-3"],
        ),
    ]
    for case_id, desc, changes, drop, code, rids in rows:
        s.add(
            case_id,
            desc,
            flags=["claims-schema"],
            spec=[*rids, "R-8.2-2"],
            steps=[step(mutated_link(changes, drop), error(code))],
        )
    # invocation claims, re-signed by the holder
    link, holder = one_link()
    base = invocation_claims(hashlib.sha256(link).digest())
    inv_rows: list[tuple[str, str, dict[Any, object], tuple[int, ...], str, str]] = [
        (
            "claims-invocation-unknown-key",
            "invocation claim 9",
            {9: 0},
            (),
            "unknown_field",
            "R-5.7-1",
        ),
        (
            "claims-invocation-version-2",
            "invocation version 2",
            {1: 2},
            (),
            "version_unsupported",
            "R-5.7-1",
        ),
        (
            "claims-invocation-nonce-missing",
            "invocation without nonce",
            {},
            (8,),
            "schema_invalid",
            "R-5.7-1",
        ),
        (
            "claims-invocation-nonce-short",
            "invocation nonce of 15 bytes",
            {8: b"\x07" * 15},
            (),
            "schema_invalid",
            "R-5.7-1",
        ),
        (
            "claims-invocation-audience-empty",
            "invocation audience empty",
            {3: ""},
            (),
            "schema_invalid",
            "R-5.7-1",
        ),
        (
            "claims-invocation-action-pattern",
            "invocation action * (a pattern, not concrete)",
            {4: "*"},
            (),
            "schema_invalid",
            "R-5.7-2",
        ),
        (
            "claims-invocation-resource-pattern",
            "invocation resource ending in /*",
            {5: CAL + "/*"},
            (),
            "schema_invalid",
            "R-5.7-2",
        ),
        (
            "claims-invocation-args-int-key",
            "invocation args keyed by an integer",
            {6: {1: 2}},
            (),
            "schema_invalid",
            "R-5.7-2",
        ),
        (
            "claims-invocation-args-array",
            "invocation args as an array",
            {6: []},
            (),
            "schema_invalid",
            "R-5.7-2",
        ),
    ]
    for case_id, desc, changes, drop, code, rid in inv_rows:
        claims = {**base, **changes}
        for k in drop:
            claims.pop(k)
        inv = sign_invocation(holder, claims)
        s.add(
            case_id,
            desc,
            flags=["claims-schema"],
            spec=[rid, "R-8.2-2"],
            steps=[step(present_raw([link], holder, invocation=inv), error(code))],
        )


def wire(s: Suite) -> None:
    _text_cases(s)
    _container_cases(s)
    _payload_cases(s)
    _cose_cases(s)
    _claim_cases(s)


# ---------------------------------------------------------------------------
# signature


def signature(s: Suite) -> None:
    link, holder = one_link()
    _, _, sig = sign1_parts(link)
    r, s_bytes = sig[:32], sig[32:]
    s_int = int.from_bytes(s_bytes, "little")

    def with_sig(new: bytes) -> bytes:
        return present_raw([with_signature(link, new)], holder)

    flip = bytes([sig[0]]) + sig[1:40] + bytes([sig[40] ^ 1]) + sig[41:]
    noncanon_r = (P + 1).to_bytes(32, "little")  # y = p + 1 >= p: non-canonical (not y = 1)
    rows: list[tuple[str, str, bytes, str, list[str], str]] = [
        (
            "sig-ed25519-length-63",
            "a 63-byte signature",
            sig[:63],
            "signature_malformed",
            ["R-3.4-1"],
            "signature-length",
        ),
        (
            "sig-ed25519-length-65",
            "a 65-byte signature",
            sig + b"\x00",
            "signature_malformed",
            ["R-3.4-1"],
            "signature-length",
        ),
        (
            "sig-ed25519-empty",
            "an empty signature",
            b"",
            "signature_malformed",
            ["R-3.4-1"],
            "signature-length",
        ),
        (
            "sig-ed25519-s-plus-l",
            "S + L: the same signature, re-spelled (malleability)",
            r + (s_int + L).to_bytes(32, "little"),
            "signature_malformed",
            ["R-3.4-2"],
            "ed25519-strict",
        ),
        (
            "sig-ed25519-s-equals-l",
            "S = L",
            r + L.to_bytes(32, "little"),
            "signature_malformed",
            ["R-3.4-2"],
            "ed25519-strict",
        ),
        (
            "sig-ed25519-s-all-ones",
            "S = 2^256 - 1",
            r + b"\xff" * 32,
            "signature_malformed",
            ["R-3.4-2"],
            "ed25519-strict",
        ),
        (
            "sig-ed25519-r-noncanonical-y",
            "R with y = p + 1 (non-canonical)",
            noncanon_r + s_bytes,
            "signature_malformed",
            ["R-3.4-3"],
            "ed25519-strict",
        ),
        (
            "sig-ed25519-r-noncanonical-sign",
            "R = y 1 with the sign bit set (x = 0)",
            bytes.fromhex(SMALL_ORDER["identity"])[:31] + b"\x80" + s_bytes,
            "signature_malformed",
            ["R-3.4-3"],
            "ed25519-strict",
        ),
        (
            "sig-ed25519-r-off-curve",
            "R not a curve point: fails the equation",
            _ed_off_curve() + s_bytes,
            "signature_invalid",
            ["R-3.4-6"],
            "signature-forgery",
        ),
        (
            "sig-ed25519-bit-flip",
            "one bit of S flipped",
            flip,
            "signature_invalid",
            ["R-3.4-6", "R-7.1-4"],
            "signature-forgery",
        ),
        (
            "sig-ed25519-identity-zero",
            "R = identity, S = 0 (verifies under OpenSSL for small-order keys)",
            bytes.fromhex(SMALL_ORDER["identity"]) + bytes(32),
            "signature_malformed",
            ["R-3.4-4"],
            "ed25519-strict",
        ),
    ]
    for name, enc_hex in SMALL_ORDER.items():
        rows.append(
            (
                f"sig-ed25519-r-small-order-{name}",
                f"R of small order ({name})",
                bytes.fromhex(enc_hex) + s_bytes,
                "signature_malformed",
                ["R-3.4-4"],
                "ed25519-strict",
            )
        )
    with_sign = bytes.fromhex(SMALL_ORDER["order8a"])[:31] + bytes(
        [bytes.fromhex(SMALL_ORDER["order8a"])[31] | 0x80]
    )
    rows.append(
        (
            "sig-ed25519-r-small-order-order8a-neg",
            "R of order 8, the other sign of x",
            with_sign + s_bytes,
            "signature_malformed",
            ["R-3.4-4"],
            "ed25519-strict",
        )
    )
    for case_id, desc, new, code, rids, flag in rows:
        s.add(
            case_id,
            desc,
            flags=[flag],
            spec=[*rids, "R-7.1-4", "R-8.2-3"],
            steps=[step(with_sig(new), error(code))],
        )

    # small-order and non-canonical public keys A (the holder key a link names)
    okp = {1: 1, -1: 6}
    keys_rows = [
        (
            f"key-ed25519-small-order-{n}",
            f"holder key of small order ({n})",
            bytes.fromhex(h),
            "R-3.4-4",
        )
        for n, h in SMALL_ORDER.items()
    ]
    keys_rows += [
        (
            "key-ed25519-noncanonical-y",
            "holder key with y = p (non-canonical)",
            P.to_bytes(32, "little"),
            "R-3.4-3",
        ),
        (
            "key-ed25519-noncanonical-sign",
            "holder key y = p - 1 with the sign bit set (x = 0)",
            bytes.fromhex(SMALL_ORDER["p-minus-1"])[:31] + b"\xff",
            "R-3.4-3",
        ),
        (
            "key-ed25519-off-curve",
            "holder key that is not a curve point",
            _ed_off_curve(),
            "R-3.4-5",
        ),
    ]
    for case_id, desc, raw, rid in keys_rows:
        s.add(
            case_id,
            desc,
            flags=["key-validation", "ed25519-strict"],
            spec=[rid, "R-8.2-2"],
            steps=[step(mutated_link({3: {**okp, -2: raw}}), error("key_invalid"))],
        )

    # ES256
    elink, eholder = one_link(ES256, label="es")
    _, _, esig = sign1_parts(elink)
    er, es = int.from_bytes(esig[:32], "big"), int.from_bytes(esig[32:], "big")

    def ewith(new: bytes) -> bytes:
        return present_raw([with_signature(elink, new)], eholder)

    def rs(r_: int, s_: int) -> bytes:
        return r_.to_bytes(32, "big") + s_.to_bytes(32, "big")

    der = bytes([0x30, 0x44, 0x02, 0x20]) + esig[:32] + bytes([0x02, 0x20]) + esig[32:]
    erows: list[tuple[str, str, bytes, str, str, str]] = [
        (
            "sig-es256-high-s",
            "(r, n - s): mathematically valid, refused by the low-S rule",
            rs(er, N256 - es),
            "signature_malformed",
            "R-3.5-3",
            "ecdsa-malleability",
        ),
        (
            "sig-es256-r-zero",
            "r = 0",
            rs(0, es),
            "signature_malformed",
            "R-3.5-2",
            "ecdsa-malleability",
        ),
        (
            "sig-es256-s-zero",
            "s = 0",
            rs(er, 0),
            "signature_malformed",
            "R-3.5-2",
            "ecdsa-malleability",
        ),
        (
            "sig-es256-r-equals-n",
            "r = n",
            rs(N256, es),
            "signature_malformed",
            "R-3.5-2",
            "ecdsa-malleability",
        ),
        (
            "sig-es256-s-equals-n",
            "s = n",
            rs(er, N256),
            "signature_malformed",
            "R-3.5-2",
            "ecdsa-malleability",
        ),
        (
            "sig-es256-der",
            "the signature in DER (70 bytes)",
            der,
            "signature_malformed",
            "R-3.5-1",
            "signature-length",
        ),
        (
            "sig-es256-length-63",
            "a 63-byte r || s",
            esig[:63],
            "signature_malformed",
            "R-3.4-1",
            "signature-length",
        ),
        (
            "sig-es256-bit-flip",
            "one bit of s flipped",
            esig[:40] + bytes([esig[40] ^ 1]) + esig[41:],
            "signature_invalid",
            "R-7.1-4",
            "signature-forgery",
        ),
    ]
    # keep the flip inside the low half so that only the equation fails
    assert es < (N256 - 1) // 2 and es ^ (1 << 8 * 23) <= (N256 - 1) // 2
    for case_id, desc, new, code, rid, flag in erows:
        s.add(
            case_id,
            desc,
            flags=[flag],
            spec=[rid, "R-8.2-3"],
            steps=[step(ewith(new), error(code))],
            policy={"anchors": ["alice-es256"]},
        )
    s.add(
        "sig-es256-low-s-accepted",
        "an honest ES256 link whose signer normalized s to the low half",
        flags=["valid", "ecdsa-malleability"],
        spec=["R-3.5-3", "R-3.6-1"],
        steps=[step(present_raw([elink], eholder), allow())],
        policy={"anchors": ["alice-es256"]},
    )

    # algorithm confusion
    _, payload, _ = sign1_parts(link)
    es_header = cose.protected_header(-7, TYP_LINK)
    forged = sign_raw(alice(), TYP_LINK, payload, protected=es_header)
    s.add(
        "alg-header-not-the-keys",
        "an Ed25519 anchor's link whose header says ES256",
        flags=["alg-confusion"],
        spec=["R-3.1-2", "R-8.2-3"],
        steps=[step(present_raw([forged], holder), error("alg_not_allowed"))],
    )
    s.add(
        "alg-not-in-policy",
        "an EdDSA chain at a verifier that allows only ES256",
        flags=["alg-confusion"],
        spec=["R-3.1-3", "R-8.2-3"],
        steps=[step(present_raw([link], holder), error("alg_not_allowed"))],
        policy={"algorithms": [ES256]},
    )
    token, eh = chain(1, holder_algs=[ES256], label="mixed-inv")
    s.add(
        "alg-invocation-not-in-policy",
        "EdDSA root, ES256 holder: the invocation's algorithm is outside the policy",
        flags=["alg-confusion"],
        spec=["R-3.1-3", "R-8.2-4"],
        steps=[step(present(token, eh), error("alg_not_allowed"))],
        policy={"algorithms": [EDDSA]},
    )
    inv = codec.sign_object(
        holder, codec.TYP_INVOCATION, invocation_claims(hashlib.sha256(link).digest())
    )
    ip, ipay, isig = sign1_parts(inv)
    is_int = int.from_bytes(isig[32:], "little")
    s.add(
        "sig-invocation-s-plus-l",
        "the invocation's S + L",
        flags=["ed25519-strict"],
        spec=["R-3.4-2", "R-8.2-4"],
        steps=[
            step(
                present_raw(
                    [link],
                    holder,
                    invocation=cose.assemble(
                        ip, ipay, isig[:32] + (is_int + L).to_bytes(32, "little")
                    ),
                ),
                error("signature_malformed"),
            )
        ],
    )


# ---------------------------------------------------------------------------
# chain


def chain_cases(s: Suite) -> None:
    token, _ = chain(3, label="chain")
    links = encoded_links(token)
    other, _ = chain(3, label="other-chain", caps=(("calendar", CAL + "/*"),))
    other_links = encoded_links(other)
    h = {i: KEYS(f"h{i}") for i in (1, 2, 3)}
    rows: list[tuple[str, str, bytes, str, list[str], str]] = [
        (
            "chain-reordered",
            "links 0, 2, 1",
            present_raw([links[0], links[2], links[1]], h[2]),
            "issuer_mismatch",
            ["R-7.1-2"],
            "chain-splice",
        ),
        (
            "chain-drop-middle",
            "link 1 dropped",
            present_raw([links[0], links[2]], h[3]),
            "issuer_mismatch",
            ["R-7.1-2"],
            "chain-splice",
        ),
        (
            "chain-drop-root",
            "the root dropped",
            present_raw(links[1:], h[3]),
            "root_untrusted",
            ["R-7.1-1"],
            "chain-splice",
        ),
        (
            "chain-truncated-end",
            "the last link dropped, invocation still by its holder",
            present_raw(links[:2], h[3]),
            "signature_invalid",
            ["R-7.2-1"],
            "chain-splice",
        ),
        (
            "chain-truncated-end-resigned",
            "the last link dropped, invoked by the new last holder: valid",
            present_raw(links[:2], h[2]),
            "",
            ["R-7.1-3"],
            "chain-splice",
        ),
        (
            "chain-spliced-link",
            "link 2 taken from another chain of the same keys",
            present_raw([links[0], links[1], other_links[2]], h[3]),
            "chain_broken",
            ["R-7.1-3"],
            "chain-splice",
        ),
        (
            "chain-duplicated-link",
            "link 1 repeated",
            present_raw([links[0], links[1], links[1]], h[2]),
            "issuer_mismatch",
            ["R-7.1-2"],
            "chain-splice",
        ),
        (
            "chain-invocation-other-chain",
            "an invocation bound to the other chain's last link",
            present_raw(links, h[3], chain=hashlib.sha256(other_links[2]).digest()),
            "chain_digest_mismatch",
            ["R-7.2-2"],
            "holder-binding",
        ),
        (
            "chain-invocation-wrong-signer",
            "the invocation signed by mallory",
            present_raw(links, KEYS("mallory")),
            "signature_invalid",
            ["R-7.2-1"],
            "holder-binding",
        ),
        (
            "chain-invocation-by-middle-holder",
            "the invocation signed by link 0's holder",
            present_raw(links, h[1]),
            "signature_invalid",
            ["R-7.2-1"],
            "holder-binding",
        ),
        (
            "chain-token-only",
            "a token without invocation",
            container(links),
            "invocation_missing",
            ["R-5.8-3", "R-8.2-4"],
            "holder-binding",
        ),
    ]
    for case_id, desc, data, code, rids, flag in rows:
        expected = error(code) if code else allow()
        s.add(case_id, desc, flags=[flag], spec=[*rids, "R-8.2-3"], steps=[step(data, expected)])
    root = claims_of(links[0])
    mallory_root = codec.sign_object(
        KEYS("mallory"), TYP_LINK, {**root, 2: KEYS("mallory").public_key.thumbprint}
    )
    s.add(
        "chain-root-untrusted",
        "a root link signed by mallory, not an anchor",
        flags=["trust-anchor"],
        spec=["R-7.1-1", "R-8.2-3"],
        steps=[step(present_raw([mallory_root], h[1]), error("root_untrusted"))],
    )
    s.add(
        "chain-root-claims-anchor-signed-by-mallory",
        "a root naming alice as issuer but signed by mallory",
        flags=["trust-anchor", "signature-forgery"],
        spec=["R-7.1-1", "R-7.1-4"],
        steps=[
            step(
                present_raw([codec.sign_object(KEYS("mallory"), TYP_LINK, root)], h[1]),
                error("signature_invalid"),
            )
        ],
    )
    s.add(
        "chain-root-with-parent",
        "a root link carrying a parent digest",
        flags=["chain-splice"],
        spec=["R-7.1-3"],
        steps=[step(present_raw([relink({**root, 4: b"\x01" * 32})], h[1]), error("chain_broken"))],
    )
    second = claims_of(links[1])
    del second[4]
    orphan = codec.sign_object(h[1], TYP_LINK, second)
    s.add(
        "chain-child-without-parent",
        "a second link without a parent digest",
        flags=["chain-splice"],
        spec=["R-7.1-3"],
        steps=[step(present_raw([links[0], orphan], h[2]), error("chain_broken"))],
    )
    tampered = claims_of(links[1])
    tampered[9] = [["calendar/events", CAL + "/*"]]
    s.add(
        "chain-link-tampered",
        "link 1's claims changed after signing (signature kept)",
        flags=["signature-forgery"],
        spec=["R-7.1-4", "R-5.3-2"],
        steps=[
            step(
                present_raw(
                    [
                        links[0],
                        cose.assemble(
                            sign1_parts(links[1])[0], enc(tampered), sign1_parts(links[1])[2]
                        ),
                        links[2],
                    ],
                    h[3],
                ),
                error("signature_invalid"),
            )
        ],
    )


# ---------------------------------------------------------------------------
# attenuation


def attenuation(s: Suite) -> None:
    # a root of depth 2 (so depth is not what fails) granting calendar/events on /work/*;
    # each case signs one child link by hand, changing one claim
    h1, h2 = KEYS("h1"), KEYS("h2")
    tok = issue(
        alice(),
        h1.public_key,
        capabilities=[("calendar/events", CAL + "/work/*")],
        ttl=3600,
        depth=2,
        now=NOW,
        rng=Rng("att-root"),
    )
    root = tok.links[0].encoded

    def child(**changes: Any) -> bytes:
        base = {
            1: 1,
            2: h1.public_key.thumbprint,
            3: h2.public_key.to_cose_key(),
            4: hashlib.sha256(root).digest(),
            5: b"\x21" * 16,
            6: NOW,
            7: NOW,
            8: NOW + 600,
            9: [["calendar/events/read", CAL + "/work/*"]],
            10: [],
            11: 0,
            13: {1: "agent"},
        }
        for k, v in changes.items():
            base[int(k[1:])] = v
        return present_raw([root, codec.sign_object(h1, TYP_LINK, base)], h2)

    rows: list[tuple[str, str, dict[str, Any], Any, list[str], str]] = [
        (
            "att-narrower-action-ok",
            "a child narrowing the action by a segment",
            {},
            None,
            ["R-4.3-1", "R-4.1-2"],
            "attenuation",
        ),
        (
            "att-same-capability-ok",
            "a child with its parent's exact capability",
            {"k9": [["calendar/events", CAL + "/work/*"]]},
            "",
            ["R-4.3-1"],
            "attenuation",
        ),
        (
            "att-subpattern-ok",
            "x:/a/* covers x:/a/b/* (beside the request's own pattern)",
            {
                "k9": [
                    ["calendar/events", CAL + "/work/*"],
                    ["calendar/events", CAL + "/work/team/*"],
                ]
            },
            "",
            ["R-4.3-1"],
            "attenuation",
        ),
        (
            "att-action-wider",
            "child action calendar, parent calendar/events",
            {"k9": [["calendar", CAL + "/work/*"]]},
            "scope_widened",
            ["R-4.3-2"],
            "attenuation",
        ),
        (
            "att-action-star",
            "child action * under a concrete parent",
            {"k9": [["*", CAL + "/work/*"]]},
            "scope_widened",
            ["R-4.3-1", "R-4.3-2"],
            "attenuation",
        ),
        (
            "att-action-sibling-prefix",
            "child calendar/eventsX under calendar/events",
            {"k9": [["calendar/eventsX", CAL + "/work/*"]]},
            "scope_widened",
            ["R-4.1-2", "R-4.3-2"],
            "capability-match",
        ),
        (
            "att-resource-wider",
            "child resource /alice/* under /alice/work/*",
            {"k9": [["calendar/events", CAL + "/*"]]},
            "scope_widened",
            ["R-4.3-2"],
            "attenuation",
        ),
        (
            "att-resource-star",
            "child resource * under a concrete parent",
            {"k9": [["calendar/events", "*"]]},
            "scope_widened",
            ["R-4.3-1"],
            "attenuation",
        ),
        (
            "att-resource-prefix-not-segment",
            "child /alice/workshop/* under /alice/work/*",
            {"k9": [["calendar/events", CAL + "/workshop/*"]]},
            "scope_widened",
            ["R-4.2-5", "R-4.3-1"],
            "capability-match",
        ),
        (
            "att-resource-parent-itself",
            "child /alice/work under /alice/work/*",
            {"k9": [["calendar/events", CAL + "/work"]]},
            "scope_widened",
            ["R-4.2-5", "R-4.3-1"],
            "capability-match",
        ),
        (
            "att-one-of-two-wider",
            "two capabilities, the second wider",
            {"k9": [["calendar/events/read", CAL + "/work/*"], ["mail/send", "*"]]},
            "scope_widened",
            ["R-4.3-2"],
            "attenuation",
        ),
        (
            "att-time-nbf-before-parent",
            "child nbf one second before its parent's",
            {"k7": NOW - 1},
            "time_widened",
            ["R-4.4-2"],
            "attenuation",
        ),
        (
            "att-time-exp-after-parent",
            "child exp one second after its parent's",
            {"k8": NOW + 3601},
            "time_widened",
            ["R-4.4-2"],
            "attenuation",
        ),
        (
            "att-time-exp-equal-parent-ok",
            "child exp equal to its parent's",
            {"k8": NOW + 3600},
            "",
            ["R-4.4-2"],
            "attenuation",
        ),
        (
            "att-depth-equal",
            "child depth equal to its parent's",
            {"k11": 2},
            "depth_exceeded",
            ["R-4.5-1"],
            "attenuation",
        ),
        (
            "att-depth-greater",
            "child depth above its parent's",
            {"k11": 3},
            "depth_exceeded",
            ["R-4.5-1"],
            "attenuation",
        ),
        (
            "att-window-empty",
            "child window with exp = nbf",
            {"k8": NOW},
            "time_invalid",
            ["R-4.4-1"],
            "attenuation",
        ),
        (
            "att-caveat-scoped-other-action",
            "a scoped caveat for mail does not apply to calendar",
            {"k10": [{1: ["==", ".x", 1], 2: ["mail"]}]},
            "",
            ["R-4.6-2"],
            "caveat-semantics",
        ),
        (
            "att-caveat-scoped-applies",
            "a scoped caveat for calendar/events applies and fails on a missing selector",
            {"k10": [{1: ["==", ".x", 1], 2: ["calendar/events"]}]},
            "caveat_failed",
            ["R-4.6-2", "R-8.2-13"],
            "caveat-semantics",
        ),
    ]
    for case_id, desc, changes, code, rids, flag in rows:
        if code is None or code == "":
            expected = allow()
        elif code == "caveat_failed":
            expected = deny(code)
        else:
            expected = error(code)
        s.add(
            case_id,
            desc,
            flags=[flag],
            spec=[*rids, "R-8.2-3"],
            steps=[step(child(**changes), expected)],
        )
    # capability matching at request time (V7)
    cap_rows = [
        (
            "cap-request-action-prefix",
            "calendar/events covers calendar/events/read/all",
            "calendar/events/read/all",
            RESOURCE,
            "",
        ),
        (
            "cap-request-action-sibling",
            "calendar/events does not cover calendar/eventsX",
            "calendar/eventsX",
            RESOURCE,
            "capability_missing",
        ),
        (
            "cap-request-resource-prefix-itself",
            "/alice/* does not cover /alice",
            "calendar/events/read",
            CAL,
            "capability_missing",
        ),
        (
            "cap-request-resource-trailing-slash",
            "/alice/* does not cover /alice/",
            "calendar/events/read",
            CAL + "/",
            "capability_missing",
        ),
        (
            "cap-request-resource-longer-name",
            "/alice/* does not cover /alicex",
            "calendar/events/read",
            CAL + "x",
            "capability_missing",
        ),
        (
            "cap-request-resource-case",
            "resources compare without case folding",
            "calendar/events/read",
            CAL.upper().replace("HTTPS", "https") + "/x",
            "capability_missing",
        ),
        (
            "cap-request-resource-deep",
            "/alice/* covers /alice/a/b/c",
            "calendar/events/read",
            CAL + "/a/b/c",
            "",
        ),
        (
            "cap-request-other-action",
            "mail/send is not granted at all",
            "mail/send",
            RESOURCE,
            "capability_missing",
        ),
    ]
    tok, hold = chain(2, caps=(("calendar/events", CAL + "/*"),), label="cap")
    for case_id, desc, action, resource, code in cap_rows:
        s.add(
            case_id,
            desc,
            flags=["capability-match"],
            spec=["R-4.1-2", "R-4.2-5", "R-8.2-12"],
            steps=[
                step(
                    present(tok, hold, action=action, resource=resource),
                    deny(code) if code else allow(),
                    action=action,
                    resource=resource,
                )
            ],
        )
    tok2, hold2 = chain(
        2, caps=(("calendar", "*"),), sub_caps=(("calendar/events", CAL + "/*"),), label="cap-sub"
    )
    s.add(
        "cap-every-link-must-grant",
        "the root grants calendar on *, the child only /alice/*: a request for /bob is denied",
        flags=["capability-match"],
        spec=["R-8.2-12"],
        steps=[
            step(
                present(tok2, hold2, resource="https://cal.example/bob/x"),
                deny("capability_missing"),
                resource="https://cal.example/bob/x",
            )
        ],
    )
    tok3 = issue(
        alice(),
        h1.public_key,
        capabilities=[("calendar", CAL + "/*")],
        ttl=86_401,
        now=NOW,
        rng=Rng("ttl"),
    )
    s.add(
        "att-root-longer-than-max-ttl",
        "a root window of max_ttl + 1 seconds",
        flags=["attenuation", "time-boundary"],
        spec=["R-4.4-1", "R-8.2-3"],
        steps=[step(present(tok3, h1), error("time_invalid"))],
    )
    tok4 = issue(
        alice(),
        h1.public_key,
        capabilities=[("calendar", CAL + "/*")],
        ttl=86_400,
        now=NOW,
        rng=Rng("ttl-ok"),
    )
    s.add(
        "att-root-exactly-max-ttl",
        "a root window of exactly max_ttl seconds",
        flags=["attenuation", "time-boundary"],
        spec=["R-4.4-1"],
        steps=[step(present(tok4, h1), allow())],
    )


# ---------------------------------------------------------------------------
# time


def time_cases(s: Suite) -> None:
    token, holder = chain(2, ttl=900, now=NOW, label="time")  # nbf NOW, exp NOW + 900, skew 60
    exp = NOW + 900
    rows = [
        ("time-before-nbf-minus-skew", "now = nbf - skew - 1", NOW - 61, "not_yet_valid"),
        ("time-at-nbf-minus-skew", "now = nbf - skew: valid", NOW - 60, ""),
        ("time-at-nbf", "now = nbf", NOW, ""),
        ("time-before-exp", "now = exp - 1", exp - 1, ""),
        ("time-at-exp", "now = exp: inside the skew", exp, ""),
        ("time-at-exp-plus-skew-minus-1", "now = exp + skew - 1: last valid second", exp + 59, ""),
        ("time-at-exp-plus-skew", "now = exp + skew: expired", exp + 60, "expired"),
    ]
    for case_id, desc, now, code in rows:
        # the invocation is signed at `now` so that only the link window is at stake
        p = present(token, holder, now=now, label=case_id)
        s.add(
            case_id,
            desc,
            flags=["time-boundary"],
            spec=["R-8.2-5", "R-4.4-1"],
            steps=[step(p, deny(code) if code else allow(), now=now)],
        )
    p = present(token, holder)
    inv_rows = [
        ("time-invocation-future-at-skew", "iat = now + skew: accepted", NOW - 60, ""),
        ("time-invocation-future", "iat = now + skew + 1", NOW - 61, "invocation_future"),
        ("time-invocation-at-window", "now - iat = window + skew: accepted", NOW + 360, ""),
        ("time-invocation-stale", "now - iat = window + skew + 1", NOW + 361, "invocation_stale"),
    ]
    for case_id, desc, now, code in inv_rows:
        expected = deny(code) if code else allow()
        if now < NOW - 60:
            expected = deny("not_yet_valid")  # the links are not yet valid either: V4 first
        s.add(
            case_id,
            desc,
            flags=["time-boundary"],
            spec=["R-8.2-8"],
            steps=[step(p, expected, now=now)],
        )
    # invocation timing with links valid: use a chain that starts earlier
    early, eh = chain(2, ttl=3600, now=NOW - 1000, label="time-early")
    p_future = present(early, eh, now=NOW + 61)
    s.add(
        "time-invocation-future-links-valid",
        "iat = now + skew + 1 with valid links",
        flags=["time-boundary"],
        spec=["R-8.2-8"],
        steps=[step(p_future, deny("invocation_future"))],
    )
    p_edge = present(early, eh, now=NOW + 60, label="edge")
    s.add(
        "time-invocation-future-edge-links-valid",
        "iat = now + skew with valid links",
        flags=["time-boundary"],
        spec=["R-8.2-8"],
        steps=[step(p_edge, allow())],
    )
    s.add(
        "time-second-link-expired",
        "root valid, the child expired: still expired",
        flags=["time-boundary"],
        spec=["R-8.2-5"],
        steps=[step(_expired_child(), deny("expired"), now=NOW + 1000)],
    )


def _expired_child() -> bytes:
    rng = Rng("expired-child")
    tok = issue(
        alice(),
        KEYS("h1").public_key,
        capabilities=[("calendar", CAL + "/*")],
        ttl=3600,
        depth=1,
        now=NOW,
        rng=rng,
    )
    tok = delegate(
        tok,
        KEYS("h1"),
        KEYS("h2").public_key,
        capabilities=[("calendar", CAL + "/*")],
        ttl=900,
        now=NOW,
        rng=rng,
    )
    return present(tok, KEYS("h2"), now=NOW + 1000).to_bytes()


# ---------------------------------------------------------------------------
# context: audience, request binding, replay


def context(s: Suite) -> None:
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
        (
            "ctx-request-other-action",
            "the request names another action",
            {"action": "calendar/events/readx"},
            "request_mismatch",
        ),
        (
            "ctx-request-other-resource",
            "the request names another resource",
            {"resource": RESOURCE + "x"},
            "request_mismatch",
        ),
        (
            "ctx-request-args-true-vs-1",
            "signed flag true, request flag 1",
            {"args": {"n": 1, "flag": 1}},
            "request_mismatch",
        ),
        (
            "ctx-request-args-extra",
            "the request has one more argument",
            {"args": {"n": 1, "flag": True, "x": 0}},
            "request_mismatch",
        ),
        (
            "ctx-request-args-text-vs-bytes",
            'signed n 1, request n "1"',
            {"args": {"n": "1", "flag": True}},
            "request_mismatch",
        ),
        (
            "ctx-request-args-reordered",
            "the same arguments in another map order: equal",
            {"args": {"flag": True, "n": 1}},
            "",
        ),
    ]
    for case_id, desc, req, code in mism:
        assert isinstance(req, dict)
        kw: dict[str, Any] = {"args": {"n": 1, "flag": True}, **req}
        s.add(
            case_id,
            desc,
            flags=["request-binding", "type-strictness"] if "args" in req else ["request-binding"],
            spec=["R-8.2-9"],
            steps=[step(p, deny(code) if code else allow(), **kw)],
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
    s.add(
        "ctx-replay-not-burnt-by-mismatch",
        "first against another request (denied), then the right one: the nonce was not burnt",
        flags=["replay", "request-binding"],
        spec=["R-8.2-11"],
        steps=[step(q, deny("request_mismatch"), action="calendar/events/write"), step(q, allow())],
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


# ---------------------------------------------------------------------------
# revocation


def revocation(s: Suite) -> None:
    token, holder = chain(3, label="rev")
    p = present(token, holder)
    digests = [link.digest.hex() for link in token.links]
    for i, name in enumerate(("root", "middle", "last")):
        s.add(
            f"rev-{name}",
            f"the {name} link is revoked",
            flags=["revocation"],
            spec=["R-8.2-6"],
            steps=[step(p, deny("revoked"))],
            store={"revoked": [digests[i]]},
        )
    other, _ = chain(3, label="rev-other")
    s.add(
        "rev-other-chain",
        "a link of another chain is revoked: no effect",
        flags=["revocation"],
        spec=["R-8.2-6"],
        steps=[step(p, allow())],
        store={"revoked": [other.links[1].digest.hex()]},
    )
    s.add(
        "rev-and-expired",
        "revoked and expired: expired (V4 before V5)",
        flags=["revocation", "precedence"],
        spec=["R-8.2-14"],
        steps=[
            step(
                present(token, holder, now=NOW + 4000, label="late"),
                deny("expired"),
                now=NOW + 4000,
            )
        ],
        store={"revoked": [digests[0]]},
    )
    forged = present_raw([*encoded_links(token)], KEYS("mallory"))
    s.add(
        "rev-and-forged",
        "revoked and forged: the error wins",
        flags=["revocation", "precedence"],
        spec=["R-8.2-1"],
        steps=[step(forged, error("signature_invalid"))],
        store={"revoked": [digests[0]]},
    )


# ---------------------------------------------------------------------------
# precedence


def precedence(s: Suite) -> None:
    token, holder = chain(2, label="prec")
    links = encoded_links(token)
    bad_sig = with_signature(links[0], sign1_parts(links[0])[2][:32] + bytes(32))
    malformed_second = links[1][:-1]
    s.add(
        "prec-decode-before-signature",
        "link 0's signature is bad and link 1 is truncated: the decode error wins",
        flags=["precedence"],
        spec=["R-8.2-2"],
        steps=[step(container([bad_sig, malformed_second], b"\x01"), error("cbor_malformed"))],
    )
    s.add(
        "prec-first-link-first",
        "link 0 and link 1 both have bad signatures: link 0's is reported (same code)",
        flags=["precedence"],
        spec=["R-8.2-3"],
        steps=[
            step(
                present_raw([bad_sig, with_signature(links[1], bytes(64))], holder),
                error("signature_invalid"),
            )
        ],
    )
    s.add(
        "prec-forgery-over-expiry",
        "expired and invoked by the wrong key: the error wins",
        flags=["precedence"],
        spec=["R-8.2-1"],
        steps=[
            step(
                present_raw(links, KEYS("mallory"), iat=NOW + 10_000),
                error("signature_invalid"),
                now=NOW + 10_000,
            )
        ],
    )
    s.add(
        "prec-expired-over-audience",
        "expired and for another audience: expired (V4 before V6)",
        flags=["precedence"],
        spec=["R-8.2-14"],
        steps=[
            step(
                present(token, holder, audience="https://x.example", now=NOW + 10_000, label="aud"),
                deny("expired"),
                now=NOW + 10_000,
            )
        ],
    )
    s.add(
        "prec-audience-over-capability",
        "another audience and an action not granted: audience_mismatch (V6 before V7)",
        flags=["precedence"],
        spec=["R-8.2-14"],
        steps=[
            step(
                present(token, holder, audience="https://x.example", action="mail/send"),
                deny("audience_mismatch"),
                action="mail/send",
            )
        ],
    )
    cav, ch = chain(1, caveats=[[["==", ".a", 1]]], label="prec-cav")
    s.add(
        "prec-capability-over-caveat",
        "an action not granted and a failing caveat: capability_missing (V7 before V8)",
        flags=["precedence"],
        spec=["R-8.2-14"],
        steps=[
            step(
                present(cav, ch, action="mail/send", args={"a": 2}),
                deny("capability_missing"),
                action="mail/send",
                args={"a": 2},
            )
        ],
    )
    s.add(
        "prec-stale-over-mismatch",
        "stale and for another request: invocation_stale (V6.2 before V6.3)",
        flags=["precedence"],
        spec=["R-8.2-14", "R-8.2-8"],
        steps=[
            step(
                present(chain(1, ttl=3600, label="prec-stale")[0], KEYS("h1")),
                deny("invocation_stale"),
                action="calendar/events/write",
                now=NOW + 400,
            )
        ],
    )


# ---------------------------------------------------------------------------
# policy language


def _policy_case(
    s: Suite,
    *,
    case_id: str,
    desc: str,
    statement: Any,
    args: dict[str, Any],
    expected: str,
    rids: list[str],
    flags: list[str],
) -> None:
    """One caveat on a one-link chain; ``expected`` is allow, deny, or an error code."""
    link, holder = one_link(label="pol")
    claims = claims_of(link)
    claims[10] = [statement]
    data = present_raw([relink(claims)], holder, args=args)
    result = (
        allow()
        if expected == "allow"
        else deny("caveat_failed")
        if expected == "deny"
        else error(expected)
    )
    s.add(
        case_id,
        desc,
        flags=flags,
        spec=[*rids, "R-6.2-9"] if expected in ("allow", "deny") else rids,
        steps=[step(data, result, args=args)],
    )


def policy(s: Suite) -> None:
    a = {
        "amount": 500,
        "name": "Zo\u00eb",
        "tags": ["a", "b"],
        "flag": True,
        "blob": b"a",
        "nested": {"k": [1, 2]},
        "empty": [],
        "nil": None,
        "\u00e9t\u00e9": 1,
    }
    sem = ["caveat-semantics"]
    ts = ["caveat-semantics", "type-strictness"]
    ms = ["caveat-semantics", "missing-selector"]
    ec = ["caveat-semantics", "empty-connective"]
    na = ["caveat-semantics", "non-ascii"]
    rows: list[tuple[str, str, Any, str, list[str], list[str]]] = [
        (
            "pol-eq-true",
            "== on an equal integer",
            ["==", ".amount", 500],
            "allow",
            ["R-6.2-2"],
            sem,
        ),
        ("pol-eq-false", "== on another integer", ["==", ".amount", 501], "deny", ["R-6.2-2"], sem),
        ("pol-eq-bool-vs-int", "true is not 1", ["==", ".flag", 1], "deny", ["R-6.2-2"], ts),
        (
            "pol-eq-bytes-vs-text",
            "h'61' is not \"a\"",
            ["==", ".blob", "a"],
            "deny",
            ["R-6.2-2"],
            ts,
        ),
        (
            "pol-eq-deep-array",
            "arrays compare element by element",
            ["==", ".tags", ["a", "b"]],
            "allow",
            ["R-6.2-2"],
            sem,
        ),
        (
            "pol-eq-deep-map",
            "maps compare by keys and values",
            ["==", ".nested", {"k": [1, 2]}],
            "allow",
            ["R-6.2-2"],
            sem,
        ),
        ("pol-eq-null", "null equals null", ["==", ".nil", None], "allow", ["R-6.2-2"], sem),
        ("pol-ne-type", "!= across types is true", ["!=", ".flag", 1], "allow", ["R-6.2-2"], ts),
        (
            "pol-ne-missing",
            "!= on a missing selector is ERROR, not true",
            ["!=", ".nope", 1],
            "deny",
            ["R-6.2-6"],
            ms,
        ),
        ("pol-lt-boundary", "< at the boundary", ["<", ".amount", 500], "deny", ["R-6.2-3"], sem),
        (
            "pol-le-boundary",
            "<= at the boundary",
            ["<=", ".amount", 500],
            "allow",
            ["R-6.2-3"],
            sem,
        ),
        ("pol-gt-boundary", "> at the boundary", [">", ".amount", 500], "deny", ["R-6.2-3"], sem),
        (
            "pol-ge-boundary",
            ">= at the boundary",
            [">=", ".amount", 500],
            "allow",
            ["R-6.2-3"],
            sem,
        ),
        ("pol-lt-on-bool", "ordering a bool is ERROR", ["<", ".flag", 5], "deny", ["R-6.2-3"], ts),
        ("pol-lt-on-text", "ordering text is ERROR", ["<", ".name", 5], "deny", ["R-6.2-3"], ts),
        (
            "pol-not-of-type-error",
            "not of an ordering type error is still ERROR",
            ["not", ["<", ".name", 5]],
            "deny",
            ["R-6.2-7"],
            ts,
        ),
        ("pol-like-star", "like with a star", ["like", ".name", "Z*"], "allow", ["R-6.2-4"], sem),
        (
            "pol-like-anchored",
            "like is anchored at both ends",
            ["like", ".name", "Zo"],
            "deny",
            ["R-6.2-4"],
            sem,
        ),
        (
            "pol-like-non-ascii",
            "like matches a non-ASCII code point after a star",
            ["like", ".name", "Z*\u00eb"],
            "allow",
            ["R-6.2-4"],
            na,
        ),
        (
            "pol-like-escaped-star",
            "\\* is a literal star",
            ["like", ".name", "Zo\\*"],
            "deny",
            ["R-6.1-5", "R-6.2-4"],
            sem,
        ),
        (
            "pol-like-on-bytes",
            "like over bytes is ERROR",
            ["like", ".blob", "*"],
            "deny",
            ["R-6.2-4"],
            ts,
        ),
        (
            "pol-in-member",
            "in with a member",
            ["in", ".name", ["x", "Zo\u00eb"]],
            "allow",
            ["R-6.2-5"],
            na,
        ),
        (
            "pol-in-type-strict",
            "in compares like ==: true is not 1",
            ["in", ".flag", [1, "true"]],
            "deny",
            ["R-6.2-5"],
            ts,
        ),
        (
            "pol-in-empty",
            "in an empty list is false",
            ["in", ".amount", []],
            "deny",
            ["R-6.2-5"],
            ec,
        ),
        ("pol-and-empty", "and of nothing is TRUE", ["and", []], "allow", ["R-6.2-8"], ec),
        ("pol-or-empty", "or of nothing is FALSE", ["or", []], "deny", ["R-6.2-8"], ec),
        (
            "pol-all-empty",
            "all over [] is TRUE",
            ["all", ".empty", ["==", ".", 1]],
            "allow",
            ["R-6.2-8"],
            ec,
        ),
        (
            "pol-any-empty",
            "any over [] is FALSE",
            ["any", ".empty", ["==", ".", 1]],
            "deny",
            ["R-6.2-8"],
            ec,
        ),
        (
            "pol-all-true",
            "all elements match",
            ["all", ".tags", ["like", ".", "*"]],
            "allow",
            ["R-6.2-8"],
            sem,
        ),
        (
            "pol-any-true",
            "one element matches",
            ["any", ".tags", ["==", ".", "b"]],
            "allow",
            ["R-6.2-8"],
            sem,
        ),
        (
            "pol-all-non-array",
            "all over a non-array is ERROR",
            ["all", ".amount", ["==", ".", 1]],
            "deny",
            ["R-6.2-8"],
            ms,
        ),
        (
            "pol-or-absorbs-error",
            "or [TRUE, ERROR] is ERROR",
            ["or", [["==", ".amount", 500], ["==", ".nope", 1]]],
            "deny",
            ["R-6.2-7"],
            ms,
        ),
        (
            "pol-and-true",
            "and of two TRUE",
            ["and", [["==", ".amount", 500], ["in", ".name", ["Zo\u00eb"]]]],
            "allow",
            ["R-6.2-7"],
            sem,
        ),
        (
            "pol-not-false",
            "not FALSE is TRUE",
            ["not", ["==", ".amount", 1]],
            "allow",
            ["R-6.2-7"],
            sem,
        ),
        (
            "pol-not-missing",
            "not of a missing selector is ERROR, not TRUE",
            ["not", ["==", ".nope", 1]],
            "deny",
            ["R-6.2-6", "R-6.2-7"],
            ms,
        ),
        (
            "pol-index-out-of-range",
            "an index out of range is ERROR",
            ["==", ".tags[2]", "c"],
            "deny",
            ["R-6.2-6"],
            ms,
        ),
        (
            "pol-index-into-scalar",
            "a key applied to an integer is ERROR",
            ["==", ".amount.x", 1],
            "deny",
            ["R-6.2-6"],
            ms,
        ),
        ("pol-index", "an index selects", ["==", ".tags[1]", "b"], "allow", ["R-6.1-4"], sem),
        (
            "pol-bracket-key-non-ascii",
            "a bracketed non-ASCII key selects it",
            ["==", '.["\u00e9t\u00e9"]', 1],
            "allow",
            ["R-6.1-4", "R-6.2-1"],
            na,
        ),
        (
            "pol-root-selector",
            "the root . is the whole args map",
            ["==", ".", a],
            "allow",
            ["R-6.2-1"],
            sem,
        ),
        (
            "pol-quantifier-rebinds-root",
            "inside any, . is the element",
            ["any", ".nested.k", ["==", ".", 2]],
            "allow",
            ["R-6.2-8"],
            sem,
        ),
        (
            "pol-and-true-false",
            "and of TRUE and FALSE is FALSE",
            ["and", [["==", ".amount", 500], ["==", ".flag", False]]],
            "deny",
            ["R-6.2-7"],
            sem,
        ),
        (
            "pol-syntax-unknown-op",
            "an unknown operator",
            ["~=", ".a", 1],
            "caveat_invalid",
            ["R-6.1-2"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-arity",
            "== with four elements",
            ["==", ".a", 1, 2],
            "caveat_invalid",
            ["R-6.1-2"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-empty",
            "an empty statement",
            [],
            "caveat_invalid",
            ["R-6.1-2"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-not-array",
            "a statement that is text",
            "true",
            "caveat_invalid",
            ["R-6.1-2"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-ordering-bool",
            "< with a bool operand",
            ["<", ".a", True],
            "caveat_invalid",
            ["R-6.1-3"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-in-not-array",
            "in with a text operand",
            ["in", ".a", "abc"],
            "caveat_invalid",
            ["R-6.1-3"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-and-not-array",
            "and with a statement instead of a list",
            ["and", ["==", ".a", 1]],
            "caveat_invalid",
            ["R-6.1-3"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-like-not-text",
            "like with an integer pattern",
            ["like", ".a", 1],
            "caveat_invalid",
            ["R-6.1-3"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-selector-dot-bracket",
            "selector .a.[0]",
            ["==", ".a.[0]", 1],
            "caveat_invalid",
            ["R-6.1-4"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-selector-negative",
            "selector .a[-1]",
            ["==", ".a[-1]", 1],
            "caveat_invalid",
            ["R-6.1-4"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-selector-leading-zero",
            "selector .a[01]",
            ["==", ".a[01]", 1],
            "caveat_invalid",
            ["R-6.1-4"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-selector-no-dot",
            "selector amount",
            ["==", "amount", 1],
            "caveat_invalid",
            ["R-6.1-4"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-selector-non-ascii-name",
            "selector .\u00e9 (names are ASCII)",
            ["==", ".\u00e9", 1],
            "caveat_invalid",
            ["R-6.1-4"],
            ["caveat-syntax", "non-ascii"],
        ),
        (
            "pol-syntax-like-bad-escape",
            "like pattern with \\a",
            ["like", ".a", "\\a"],
            "caveat_invalid",
            ["R-6.1-5"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-like-trailing-backslash",
            "like pattern ending in a lone backslash",
            ["like", ".a", "x\\"],
            "caveat_invalid",
            ["R-6.1-5"],
            ["caveat-syntax"],
        ),
        (
            "pol-syntax-map-int-key",
            "a literal map with an integer key",
            ["==", ".a", {1: 2}],
            "caveat_invalid",
            ["R-6.1-1"],
            ["caveat-syntax"],
        ),
    ]
    for case_id, desc, st, expected, rids, flags in rows:
        _policy_case(
            s,
            case_id=case_id,
            desc=desc,
            statement=st,
            args=a,
            expected=expected,
            rids=rids,
            flags=flags,
        )
    # a float literal cannot come from cbor.encode: write the caveat bytes by hand
    link, holder = one_link(label="pol")
    items = pairs(claims_of(link))
    float_caveat = head(4, 1) + head(4, 3) + enc("==") + enc(".amount") + b"\xf9\x3c\x00"
    payload = raw_map([(k, float_caveat if k == enc(10) else v) for k, v in items])
    s.add(
        "pol-syntax-float",
        "a float literal in a caveat",
        flags=["caveat-syntax", "cbor-unsupported"],
        spec=["R-6.1-1", "R-5.2-2"],
        steps=[
            step(
                present_raw([sign_raw(alice(), TYP_LINK, payload)], holder),
                error("cbor_unsupported"),
            )
        ],
    )
    # conjunction across links: each link's caveats must hold
    tok, h = chain(
        2, caveats=[[["<=", ".amount", 1000]], [["<=", ".amount", 100]]], label="pol-chain"
    )
    s.add(
        "pol-chain-conjunction",
        "root allows 1000, child 100: 500 is denied",
        flags=["caveat-semantics"],
        spec=["R-4.6-1", "R-8.2-13"],
        steps=[
            step(present(tok, h, args={"amount": 500}), deny("caveat_failed"), args={"amount": 500})
        ],
    )


# ---------------------------------------------------------------------------
# attestation


def attestation(s: Suite) -> None:
    code = {"sha256": b"\xc0" * 32}
    desc = Descriptor(kind="agent", name="https://agents.example/h1", code=code, model="m-1")
    token, holder = chain(1, descriptors=[desc], label="att-x")
    att_key = KEYS("attester")
    pol = {"attesters": ["attester"], "attestation_required": ["calendar"]}

    def att(**kw: Any) -> codec.Attestation:
        base: dict[str, Any] = {"code": code, "model": "m-1", "now": NOW}
        base.update(kw)
        signer = base.pop("signer", att_key)
        subject = base.pop("subject", holder.public_key)
        return attest(signer, subject, **base)

    def pres(*atts: codec.Attestation, label: str = "att") -> codec.Presentation:
        return present(token, holder, attestations=atts, label=label)

    feats = ["attestation"]
    rows: list[tuple[str, str, Any, dict[str, object], dict[str, Any], list[str]]] = [
        (
            "attest-required-proven",
            "required, and a current trusted attestation proves code and model",
            pres(att()),
            allow(),
            pol,
            ["R-9.1-6"],
        ),
        (
            "attest-required-missing",
            "required, none attached",
            pres(),
            deny("attestation_missing"),
            pol,
            ["R-9.1-7"],
        ),
        (
            "attest-required-expired",
            "required, the only attestation expired",
            pres(att(now=NOW - 700)),
            deny("attestation_expired"),
            pol,
            ["R-9.1-4", "R-9.1-7"],
        ),
        (
            "attest-required-too-long",
            "required, an attestation lasting longer than max_attachment_ttl",
            pres(att(ttl=3601)),
            deny("attestation_expired"),
            pol,
            ["R-9.1-4"],
        ),
        (
            "attest-required-partial",
            "required, the attestation lacks the declared model",
            pres(att(model=None)),
            deny("attestation_mismatch"),
            pol,
            ["R-9.1-6", "R-9.1-7"],
        ),
        (
            "attest-contradiction-not-required",
            "not required, but a trusted attestation contradicts the code",
            pres(att(code={"sha256": b"\xba" * 32})),
            deny("attestation_mismatch"),
            {"attesters": ["attester"]},
            ["R-9.1-5"],
        ),
        (
            "attest-model-contradiction",
            "a trusted attestation names another model",
            pres(att(model="m-2")),
            deny("attestation_mismatch"),
            {"attesters": ["attester"]},
            ["R-9.1-5"],
        ),
        (
            "attest-untrusted-ignored",
            "an untrusted attester contradicting: ignored",
            pres(att(signer=KEYS("mallory"), code={"sha256": b"\xbb" * 32})),
            allow(),
            {"attesters": ["attester"]},
            ["R-9.1-2", "R-8.2-17"],
        ),
        (
            "attest-untrusted-does-not-prove",
            "required, only an untrusted attester's attestation",
            pres(att(signer=KEYS("mallory"))),
            deny("attestation_missing"),
            pol,
            ["R-9.1-2"],
        ),
        (
            "attest-other-subject",
            "required, the attestation is of another key",
            pres(att(subject=KEYS("mallory").public_key)),
            deny("attestation_missing"),
            pol,
            ["R-9.1-3"],
        ),
        (
            "attest-not-required-none",
            "not required, none attached",
            pres(),
            allow(),
            {"attesters": ["attester"]},
            ["R-8.2-19"],
        ),
        (
            "attest-required-pattern-other",
            "required for mail only: calendar passes",
            pres(),
            allow(),
            {"attesters": ["attester"], "attestation_required": ["mail"]},
            ["R-9.1-6"],
        ),
    ]
    for case_id, description, p, expected, policy_, rids in rows:
        s.add(
            case_id,
            description,
            flags=["attestation"],
            spec=[*rids, "R-8.2-19"],
            steps=[step(p, expected)],
            policy=policy_,
            features=feats,
        )
    good = att()
    gsig = sign1_parts(good.encoded)[2]
    forged = with_signature(good.encoded, gsig[:40] + bytes([gsig[40] ^ 1]) + gsig[41:])
    s.add(
        "attest-forged-trusted",
        "an attestation naming a trusted attester with a bad signature: an error",
        flags=["attestation", "signature-forgery"],
        spec=["R-8.2-17"],
        steps=[
            step(
                present_raw(encoded_links(token), holder, attestations=[forged]),
                error("signature_invalid"),
            )
        ],
        policy=pol,
        features=feats,
    )
    # attestation claims
    link = encoded_links(token)
    base = claims_of(good.encoded)
    crow = [
        ("attest-claims-unknown-key", "attestation claim 9", {**base, 9: 0}, "unknown_field"),
        (
            "attest-claims-empty-window",
            "attestation exp = iat",
            {**base, 5: base[4]},
            "time_invalid",
        ),
        (
            "attest-claims-nothing-attested",
            "attestation without code, model or config",
            {k: v for k, v in base.items() if k not in (6, 7, 8)},
            "schema_invalid",
        ),
        ("attest-claims-version-2", "attestation version 2", {**base, 1: 2}, "version_unsupported"),
    ]
    for case_id, description, claims, code_ in crow:
        data = codec.sign_object(att_key, codec.TYP_ATTESTATION, claims)
        s.add(
            case_id,
            description,
            flags=["attestation", "claims-schema"],
            spec=["R-9.1-1", "R-5.8-4"],
            steps=[step(present_raw(link, holder, attestations=[data]), error(code_))],
            policy=pol,
            features=feats,
        )


# ---------------------------------------------------------------------------
# approval


def approval(s: Suite) -> None:
    req = ApprovalRequirement(actions=("calendar/events",))
    token, holder = chain(2, require_approval=[[req]], label="appr")
    feats = ["approval"]
    digest = codec.request_digest(token.chain_digest, AUD, ACTION, RESOURCE, {})
    alice_key = alice()

    def pres(
        *approvals: codec.Approval, args: dict[str, Any] | None = None, label: str = "appr"
    ) -> codec.Presentation:
        return present(token, holder, approvals=approvals, args=args, label=label)

    good = approve(alice_key, digest, now=NOW)
    other = approve(
        alice_key,
        codec.request_digest(token.chain_digest, AUD, ACTION, RESOURCE, {"x": 1}),
        now=NOW,
    )
    rows: list[tuple[str, str, Any, dict[str, object], list[str], dict[str, Any]]] = [
        (
            "appr-needed-none",
            "approval required, none attached: needs_approval",
            pres(),
            needs_approval(),
            ["R-9.2-1", "R-9.2-3", "R-9.2-9"],
            {},
        ),
        (
            "appr-granted",
            "approval required and attached for this exact request",
            pres(good),
            allow(),
            ["R-9.2-5", "R-9.2-6"],
            {},
        ),
        (
            "appr-for-another-invocation",
            "an approval for the same action with other arguments",
            pres(other),
            deny("approval_mismatch"),
            ["R-9.2-5", "R-9.2-8"],
            {},
        ),
        (
            "appr-by-someone-else",
            "an approval by mallory",
            pres(approve(KEYS("mallory"), digest, now=NOW)),
            deny("approval_mismatch"),
            ["R-9.2-8", "R-8.2-18"],
            {},
        ),
        (
            "appr-expired",
            "the approval expired beyond the skew",
            pres(approve(alice_key, digest, now=NOW - 400)),
            deny("approval_expired"),
            ["R-9.2-7"],
            {},
        ),
        (
            "appr-too-long",
            "an approval lasting longer than max_attachment_ttl",
            pres(approve(alice_key, digest, ttl=3601, now=NOW)),
            deny("approval_expired"),
            ["R-9.2-6", "R-9.2-7"],
            {},
        ),
    ]
    for case_id, description, p, expected, rids, kw in rows:
        s.add(
            case_id,
            description,
            flags=["approval"],
            spec=[*rids, "R-8.2-20"],
            steps=[step(p, expected, **kw)],
            features=feats,
        )
    g2 = present(token, holder, approvals=[good], label="appr-2")
    s.add(
        "appr-replayed",
        "the same approval on two fresh invocations of the same request",
        flags=["approval", "replay"],
        spec=["R-9.2-10"],
        steps=[step(pres(good), allow()), step(g2, deny("approval_replayed"))],
        features=feats,
    )
    s.add(
        "appr-not-burnt-by-denial",
        "first denied by audience (approval not consumed), then a fresh invocation passes",
        flags=["approval", "replay"],
        spec=["R-9.2-11"],
        steps=[
            step(
                present(token, holder, approvals=[good], audience="https://x.example", label="a3"),
                deny("audience_mismatch"),
            ),
            step(g2, allow()),
        ],
        features=feats,
    )
    gsig = sign1_parts(good.encoded)[2]
    forged = with_signature(good.encoded, gsig[:40] + bytes([gsig[40] ^ 1]) + gsig[41:])
    s.add(
        "appr-forged-by-approver",
        "an approval naming the root as issuer with a bad signature: an error",
        flags=["approval", "signature-forgery"],
        spec=["R-8.2-18"],
        steps=[
            step(
                present_raw(encoded_links(token), holder, approvals=[forged]),
                error("signature_invalid"),
            )
        ],
        features=feats,
    )
    # conditional requirements
    cond = ApprovalRequirement(when=parse([">", ".amount", 100]))
    ctok, ch = chain(1, require_approval=[[cond]], label="appr-cond")
    for case_id, description, args, expected in (
        (
            "appr-when-false",
            "when amount > 100 and amount is 50: not required",
            {"amount": 50},
            allow(),
        ),
        (
            "appr-when-true",
            "when amount > 100 and amount is 500: required",
            {"amount": 500},
            needs_approval(),
        ),
        (
            "appr-when-error",
            "when amount > 100 and amount is missing: ERROR applies the requirement",
            {},
            needs_approval(),
        ),
    ):
        s.add(
            case_id,
            description,
            flags=["approval"],
            spec=["R-9.2-1", "R-9.2-2"],
            steps=[step(present(ctok, ch, args=args), expected, args=args)],
            features=feats,
        )
    named = ApprovalRequirement(approver=KEYS("approver").public_key, actions=("calendar",))
    ntok, nh = chain(1, require_approval=[[named]], label="appr-named")
    nd = codec.request_digest(ntok.chain_digest, AUD, ACTION, RESOURCE, {})
    s.add(
        "appr-named-approver",
        "a requirement naming its approver; the root's approval does not count",
        flags=["approval"],
        spec=["R-9.2-3", "R-9.2-8"],
        steps=[
            step(
                present(ntok, nh, approvals=[approve(alice_key, nd, now=NOW)]),
                deny("approval_mismatch"),
            )
        ],
        features=feats,
    )
    s.add(
        "appr-named-approver-granted",
        "the named approver approves",
        flags=["approval"],
        spec=["R-9.2-3", "R-9.2-6"],
        steps=[
            step(present(ntok, nh, approvals=[approve(KEYS("approver"), nd, now=NOW)]), allow())
        ],
        features=feats,
    )
    base = claims_of(good.encoded)
    for case_id, description, claims, code_ in (
        ("appr-claims-version-2", "approval version 2", {**base, 1: 2}, "version_unsupported"),
        ("appr-claims-empty-window", "approval exp = iat", {**base, 5: base[4]}, "time_invalid"),
        ("appr-claims-unknown-key", "approval claim 6", {**base, 6: 0}, "unknown_field"),
    ):
        data = codec.sign_object(alice_key, codec.TYP_APPROVAL, claims)
        s.add(
            case_id,
            description,
            flags=["approval", "claims-schema"],
            spec=["R-9.2-4"],
            steps=[step(present_raw(encoded_links(token), holder, approvals=[data]), error(code_))],
            features=feats,
        )


# ---------------------------------------------------------------------------
# limits


def limits(s: Suite) -> None:
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
    rows: list[tuple[str, str, bytes, dict[str, object], list[str], dict[str, Any]]] = [
        (
            "limit-capabilities-33",
            "33 capabilities in one link",
            with_claims(k9=caps33),
            error("limit_exceeded"),
            ["R-5.6-4"],
            {},
        ),
        (
            "limit-capabilities-32",
            "32 capabilities: at the limit",
            with_claims(k9=caps33[:32]),
            allow(),
            ["R-5.6-4", "R-5.6-1"],
            {},
        ),
        (
            "limit-caveats-33",
            "33 caveats in one link",
            with_claims(k10=cav33),
            error("limit_exceeded"),
            ["R-5.6-4"],
            {},
        ),
        (
            "limit-policy-depth-13",
            "a caveat nested 13 deep",
            with_claims(k10=[deeper]),
            error("limit_exceeded"),
            ["R-6.3-1"],
            {},
        ),
        (
            "limit-policy-depth-12",
            "a caveat nested 12 deep: at the limit",
            with_claims(k10=[deep]),
            deny("caveat_failed"),
            ["R-6.3-1"],
            {},
        ),
        (
            "limit-policy-nodes-258",
            "a caveat of 258 nodes",
            with_claims(k10=[wide]),
            error("limit_exceeded"),
            ["R-6.3-1"],
            {},
        ),
        (
            "limit-policy-nodes-256",
            "a caveat of 256 nodes: at the limit",
            with_claims(k10=[ok_wide]),
            deny("caveat_failed"),
            ["R-6.3-1"],
            {},
        ),
        (
            "limit-string-4097",
            "a purpose of 4097 bytes",
            with_claims(k12="p" * 4097),
            error("limit_exceeded"),
            ["R-5.2-10"],
            {},
        ),
        (
            "limit-string-4096",
            "a purpose of 4096 bytes: at the limit",
            with_claims(k12="p" * 4096),
            allow(),
            ["R-5.2-10"],
            {},
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
        (
            "limit-cbor-depth-17",
            "an invocation payload nested 17 deep",
            present_raw([link], holder, args={"a": nested}),
            error("limit_exceeded"),
            ["R-5.2-10"],
            {},
        )
    )
    rows.append(
        (
            "limit-cbor-depth-16",
            "an invocation payload nested 16 deep: at the limit",
            present_raw([link], holder, args={"a": nested_ok}),
            allow(),
            ["R-5.2-10"],
            {"args": {"a": nested_ok}},
        )
    )
    many = {f"k{i:04}": 0 for i in range(2041)}  # payload 8 pairs + args 2041 pairs = 2049 items
    rows.append(
        (
            "limit-cbor-items-2049",
            "an invocation payload of 2049 items",
            present_raw([link], holder, args=many),
            error("limit_exceeded"),
            ["R-5.2-10"],
            {},
        )
    )
    for case_id, description, data, expected, rids, kw in rows:
        s.add(
            case_id,
            description,
            flags=lim,
            spec=[*rids, "R-5.6-1"],
            steps=[step(data, expected, **kw)],
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
    filler = enc({1: 1, 2: [link], 3: inv, 4: [b"\x00" * 16000] * 5})
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
        steps=[step("ac1c." + "A" * 87_385, error("limit_exceeded"))],
    )
    atts = [_attestation_bytes()] * 9
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
        "limit-policy-steps-per-link",
        "two links each spending 7800 steps: each has its own budget",
        flags=lim,
        spec=["R-6.3-3"],
        steps=[step(present(two, th, args={"t": "x" * 4096}), allow(), args={"t": "x" * 4096})],
    )


def _long_chain(n: int) -> tuple[list[bytes], Any]:
    """n links built by hand (the issuer refuses to exceed max_links)."""
    keys = [alice(), *(KEYS(f"h{i + 1}") for i in range(n))]
    out: list[bytes] = []
    for i in range(n):
        c: dict[int, object] = {
            1: 1,
            2: keys[i].public_key.thumbprint,
            3: keys[i + 1].public_key.to_cose_key(),
            5: bytes([i + 1]) * 16,
            6: NOW,
            7: NOW,
            8: NOW + 900,
            9: [["calendar", CAL + "/*"]],
            10: [],
            11: 30 - i,
            13: {1: "agent"},
        }
        if out:
            c[4] = hashlib.sha256(out[-1]).digest()
        out.append(codec.sign_object(keys[i], TYP_LINK, c))
    return out, keys[-1]


CATEGORIES: Final[tuple[tuple[str, Callable[[Suite], None]], ...]] = (
    ("valid", valid),
    ("wire", wire),
    ("signature", signature),
    ("chain", chain_cases),
    ("attenuation", attenuation),
    ("time", time_cases),
    ("context", context),
    ("revocation", revocation),
    ("precedence", precedence),
    ("policy", policy),
    ("attestation", attestation),
    ("approval", approval),
    ("limits", limits),
)
