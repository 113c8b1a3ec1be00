"""wire.json, part 1: the text form and the presentation container."""

from __future__ import annotations

from agentchain import codec
from agentchain._build import enc, head, pairs, raw_map
from agentchain.vectors.cases._common import attestation_bytes, valid_presentation
from agentchain.vectors.suite import Suite, error, step


def text_cases(s: Suite) -> None:
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


def container_cases(s: Suite) -> None:
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
            enc({1: 1, 2: links, 4: [attestation_bytes()]}),
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
