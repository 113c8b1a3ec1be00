"""wire.json, part 1: the text form and the presentation container."""

from __future__ import annotations

from dataclasses import dataclass

from agentchain import codec
from agentchain._build import enc, head, pairs, raw_map
from agentchain.limits import DEFAULT_LIMITS
from agentchain.vectors.generator.cases._common import attestation_bytes, valid_presentation
from agentchain.vectors.generator.suite import Suite, error, step


@dataclass(frozen=True)
class TextRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    value: str
    code: str
    spec: str


@dataclass(frozen=True)
class ContainerRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    data: bytes
    code: str
    spec: str
    flag: str


#: characters after the prefix at the text cap: ceil(4 * max_presentation_bytes / 3)
_TEXT_CAP_BODY = (4 * DEFAULT_LIMITS.max_presentation_bytes + 2) // 3


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
    rows: list[TextRow] = [
        TextRow(
            case_id="wire-text-no-prefix",
            description="base64url without the ac2c. prefix",
            value=body,
            code="encoding_unknown",
            spec="R-5.1-1",
        ),
        TextRow(
            case_id="wire-text-prefix-uppercase",
            description="prefix in upper case",
            value="AC2C." + body,
            code="encoding_unknown",
            spec="R-5.1-1",
        ),
        TextRow(
            case_id="wire-text-prefix-other-version",
            description="prefix of an unknown version",
            value="ac3c." + body,
            code="encoding_unknown",
            spec="R-5.1-1",
        ),
        TextRow(
            case_id="wire-text-prefix-0-1",
            description="the 0.1 prefix ac1c. around a 0.2 container",
            value="ac1c." + body,
            code="encoding_unknown",
            spec="R-5.1-1",
        ),
        TextRow(
            case_id="wire-text-prefix-0-1-jose",
            description="the 0.1 JOSE prefix ac1j. around a 0.2 CBOR container",
            value="ac1j." + body,
            code="encoding_unknown",
            spec="R-5.1-1",
        ),
        TextRow(
            case_id="wire-text-leading-nbsp",
            description="a leading U+00A0 is not whitespace to strip",
            value="\u00a0" + text,
            code="encoding_unknown",
            spec="R-5.1-3",
        ),
        TextRow(
            case_id="wire-text-leading-em-space",
            description="a leading U+2003 is not whitespace to strip",
            value="\u2003" + text,
            code="encoding_unknown",
            spec="R-5.1-3",
        ),
        TextRow(
            case_id="wire-text-trailing-nbsp",
            description="a trailing U+00A0 is not whitespace to strip",
            value=text + "\u00a0",
            code="base64_invalid",
            spec="R-5.1-3",
        ),
        TextRow(
            case_id="wire-text-padding",
            description="base64url with = padding",
            value=text + pad,
            code="base64_invalid",
            spec="R-5.1-2",
        ),
        TextRow(
            case_id="wire-text-standard-alphabet",
            description="a + from the standard alphabet",
            value=text[:6] + "+" + text[7:],
            code="base64_invalid",
            spec="R-5.1-2",
        ),
        TextRow(
            case_id="wire-text-inner-whitespace",
            description="a space inside the base64url",
            value=text[:20] + " " + text[20:],
            code="base64_invalid",
            spec="R-5.1-2",
        ),
        TextRow(
            case_id="wire-text-length-1-mod-4",
            description="a base64url length of 1 modulo 4",
            value="ac2c." + odd,
            code="base64_invalid",
            spec="R-5.1-2",
        ),
        TextRow(
            case_id="wire-text-nonzero-trailing-bits",
            description="unused bits of the last character set",
            value="ac2c." + bumped,
            code="base64_invalid",
            spec="R-5.1-2",
        ),
        # spec 5.1 R-5.1-4: 5 + ceil(4 * 65536 / 3) = 87387 characters; 87382 A's decode to
        # 65536 zero bytes (the size cap holds), so the text at the cap fails later, in CBOR
        TextRow(
            case_id="wire-text-length-at-cap",
            description="a text of exactly 5 + ceil(4 * max_presentation_bytes / 3) characters: "
            "past the text cap check (then cbor_trailing: 65536 zero bytes)",
            value="ac2c." + "A" * _TEXT_CAP_BODY,
            code="cbor_trailing",
            spec="R-5.1-4",
        ),
        TextRow(
            case_id="wire-text-length-cap-plus-one",
            description="a text one character over the cap: limit_exceeded before decoding",
            value="ac2c." + "A" * (_TEXT_CAP_BODY + 1),
            code="limit_exceeded",
            spec="R-5.1-4",
        ),
        TextRow(
            case_id="wire-text-over-cap-unknown-prefix",
            description="a text over the cap with an unknown prefix: the cap is checked first "
            "(limit_exceeded, not encoding_unknown)",
            value="zz9z." + "A" * (_TEXT_CAP_BODY + 1),
            code="limit_exceeded",
            spec="R-5.1-4",
        ),
    ]
    for row in rows:
        s.add(
            row.case_id,
            row.description,
            flags=["text-form"],
            spec=[row.spec, "R-8.2-2"],
            steps=[step(row.value, error(row.code))],
        )


def container_cases(s: Suite) -> None:
    p = valid_presentation()
    links = [link.encoded for link in p.links]
    inv = p.invocation.encoded if p.invocation else b""
    items = pairs({1: 2, 2: links, 3: inv})
    (k1, v1), (k2, v2), (k3, v3) = items
    rows: list[ContainerRow] = [
        ContainerRow(
            case_id="wire-container-nonminimal-int",
            description="container version 1 encoded as 18 01",
            data=raw_map([(k1, b"\x18\x01"), (k2, v2), (k3, v3)]),
            code="cbor_noncanonical",
            spec="R-5.2-5",
            flag="cbor-canonical",
        ),
        ContainerRow(
            case_id="wire-container-nonminimal-map-length",
            description="container map count as b8 03",
            data=raw_map(items, head(5, 3, 1)),
            code="cbor_noncanonical",
            spec="R-5.2-5",
            flag="cbor-canonical",
        ),
        ContainerRow(
            case_id="wire-container-nonminimal-bstr-length",
            description="the invocation's length in a longer head than needed",
            data=raw_map([(k1, v1), (k2, v2), (k3, head(2, len(inv), 4) + inv)]),
            code="cbor_noncanonical",
            spec="R-5.2-5",
            flag="cbor-canonical",
        ),
        ContainerRow(
            case_id="wire-container-unsorted-keys",
            description="container keys 1, 3, 2",
            data=raw_map([(k1, v1), (k3, v3), (k2, v2)]),
            code="cbor_noncanonical",
            spec="R-5.2-6",
            flag="cbor-canonical",
        ),
        ContainerRow(
            case_id="wire-container-duplicate-key",
            description="container key 3 twice, adjacent",
            data=raw_map([(k1, v1), (k2, v2), (k3, v3), (k3, v3)]),
            code="cbor_duplicate_key",
            spec="R-5.2-7",
            flag="cbor-duplicate-key",
        ),
        ContainerRow(
            case_id="wire-container-duplicate-key-not-adjacent",
            description="container keys 1, 2, 3, 1: out of order",
            data=raw_map([(k1, v1), (k2, v2), (k3, v3), (k1, v1)]),
            code="cbor_noncanonical",
            spec="R-5.2-7",
            flag="cbor-canonical",
        ),
        ContainerRow(
            case_id="wire-container-indefinite-map",
            description="container as an indefinite-length map",
            data=b"\xbf" + k1 + v1 + k2 + v2 + k3 + v3 + b"\xff",
            code="cbor_indefinite",
            spec="R-5.2-4",
            flag="cbor-indefinite",
        ),
        ContainerRow(
            case_id="wire-container-indefinite-array",
            description="the links array with indefinite length",
            data=raw_map([(k1, v1), (k2, b"\x9f" + enc(links[0]) + b"\xff"), (k3, v3)]),
            code="cbor_indefinite",
            spec="R-5.2-4",
            flag="cbor-indefinite",
        ),
        ContainerRow(
            case_id="wire-container-indefinite-bstr",
            description="a link as a chunked byte string",
            data=raw_map(
                [(k1, v1), (k2, head(4, 1) + b"\x5f" + enc(links[0]) + b"\xff"), (k3, v3)]
            ),
            code="cbor_indefinite",
            spec="R-5.2-4",
            flag="cbor-indefinite",
        ),
        ContainerRow(
            case_id="wire-container-tag-self-described",
            description="the container under tag 55799 (self-described CBOR)",
            data=b"\xd9\xd9\xf7" + enc({1: 2, 2: links, 3: inv}),
            code="cbor_tag",
            spec="R-5.2-3",
            flag="cbor-tag",
        ),
        ContainerRow(
            case_id="wire-container-tag-on-link",
            description="a link byte string under tag 24",
            data=raw_map([(k1, v1), (k2, head(4, 1) + b"\xd8\x18" + enc(links[0])), (k3, v3)]),
            code="cbor_tag",
            spec="R-5.2-3",
            flag="cbor-tag",
        ),
        ContainerRow(
            case_id="wire-container-trailing-byte",
            description="one byte after the container",
            data=enc({1: 2, 2: links, 3: inv}) + b"\x00",
            code="cbor_trailing",
            spec="R-5.2-9",
            flag="cbor-trailing",
        ),
        ContainerRow(
            case_id="wire-container-truncated",
            description="the container without its last byte",
            data=enc({1: 2, 2: links, 3: inv})[:-1],
            code="cbor_malformed",
            spec="R-5.2-8",
            flag="cbor-malformed",
        ),
        ContainerRow(
            case_id="wire-container-empty",
            description="no bytes at all",
            data=b"",
            code="cbor_malformed",
            spec="R-5.2-8",
            flag="cbor-malformed",
        ),
        ContainerRow(
            case_id="wire-container-lone-break",
            description="a lone break byte",
            data=b"\xff",
            code="cbor_malformed",
            spec="R-5.2-8",
            flag="cbor-malformed",
        ),
        ContainerRow(
            case_id="wire-container-reserved-ai",
            description="additional information 28",
            data=b"\x1c",
            code="cbor_malformed",
            spec="R-5.2-8",
            flag="cbor-malformed",
        ),
        ContainerRow(
            case_id="wire-container-float-version",
            description="version as the half float 1.0: an integer spelt as a float",
            data=raw_map([(k1, b"\xf9\x3c\x00"), (k2, v2), (k3, v3)]),
            code="cbor_noncanonical",
            spec="R-5.2-12",
            flag="numbers",
        ),
        ContainerRow(
            case_id="wire-container-undefined",
            description="version as undefined (f7)",
            data=raw_map([(k1, b"\xf7"), (k2, v2), (k3, v3)]),
            code="cbor_unsupported",
            spec="R-5.2-2",
            flag="cbor-unsupported",
        ),
        ContainerRow(
            case_id="wire-container-bstr-key",
            description="a byte-string map key",
            data=raw_map([(b"\x41\x01", v1), (k2, v2), (k3, v3)]),
            code="cbor_unsupported",
            spec="R-5.2-2",
            flag="cbor-unsupported",
        ),
        ContainerRow(
            case_id="wire-container-items-at-cap",
            description="a container of exactly max_links + 2 * max_attachments + 8 = 40 items "
            "(36 unknown keys): within the item cap, so unknown_field",
            data=enc({1: 2, 2: links[:1], 3: inv, **dict.fromkeys(range(6, 42), 0)}),
            code="unknown_field",
            spec="R-5.6-6",
            flag="claims-schema",
        ),
        ContainerRow(
            case_id="wire-container-items-cap-plus-one",
            description="a container of 41 items (37 unknown keys): limit_exceeded while "
            "decoding, before any key is looked at",
            data=enc({1: 2, 2: links[:1], 3: inv, **dict.fromkeys(range(6, 43), 0)}),
            code="limit_exceeded",
            spec="R-5.6-6",
            flag="limits",
        ),
        ContainerRow(
            case_id="wire-container-simple-f8-false",
            description="version as f8 14, simple value 20 (false) in the one-byte extension: "
            "cbor_unsupported, not cbor_noncanonical nor cbor_malformed",
            data=raw_map([(k1, b"\xf8\x14"), (k2, v2), (k3, v3)]),
            code="cbor_unsupported",
            spec="R-5.2-2",
            flag="cbor-unsupported",
        ),
        ContainerRow(
            case_id="wire-container-simple-f8-32",
            description="version as f8 20, the unassigned simple value 32: cbor_unsupported",
            data=raw_map([(k1, b"\xf8\x20"), (k2, v2), (k3, v3)]),
            code="cbor_unsupported",
            spec="R-5.2-2",
            flag="cbor-unsupported",
        ),
        ContainerRow(
            case_id="wire-container-too-many-links-first-not-bstr",
            description="17 links, the first a text string: the count is checked before the "
            "items (limit_exceeded, not schema_invalid)",
            data=enc({1: 2, 2: ["link", *links[:1] * 16], 3: inv}),
            code="limit_exceeded",
            spec="R-5.8-6",
            flag="limits",
        ),
        ContainerRow(
            case_id="wire-container-not-a-map",
            description="the container as an array",
            data=enc([1, links, inv]),
            code="schema_invalid",
            spec="R-5.8-1",
            flag="claims-schema",
        ),
        ContainerRow(
            case_id="wire-container-links-missing",
            description="no links key",
            data=enc({1: 2, 3: inv}),
            code="schema_invalid",
            spec="R-5.8-1",
            flag="claims-schema",
        ),
        ContainerRow(
            case_id="wire-container-link-not-bstr",
            description="a link as a text string",
            data=enc({1: 2, 2: ["link"], 3: inv}),
            code="schema_invalid",
            spec="R-5.8-1",
            flag="claims-schema",
        ),
        ContainerRow(
            case_id="wire-container-unknown-key",
            description="container key 6",
            data=enc({1: 2, 2: links, 3: inv, 6: 0}),
            code="unknown_field",
            spec="R-5.8-1",
            flag="claims-schema",
        ),
        ContainerRow(
            case_id="wire-container-version-3",
            description="container version 3",
            data=enc({1: 3, 2: links, 3: inv}),
            code="version_unsupported",
            spec="R-5.8-1",
            flag="claims-schema",
        ),
        ContainerRow(
            case_id="wire-container-version-1",
            description="an 0.1 container (version 1) under protocol 0.2",
            data=enc({1: 1, 2: links, 3: inv}),
            code="version_unsupported",
            spec="R-5.8-1",
            flag="claims-schema",
        ),
        ContainerRow(
            case_id="wire-container-links-empty",
            description="an empty links array",
            data=enc({1: 2, 2: [], 3: inv}),
            code="chain_empty",
            spec="R-5.8-2",
            flag="chain-splice",
        ),
        ContainerRow(
            case_id="wire-container-invocation-empty",
            description="an empty invocation byte string",
            data=enc({1: 2, 2: links, 3: b""}),
            code="schema_invalid",
            spec="R-5.8-3",
            flag="claims-schema",
        ),
        ContainerRow(
            case_id="wire-container-attestations-empty",
            description="an empty attestations array",
            data=enc({1: 2, 2: links, 3: inv, 4: []}),
            code="schema_invalid",
            spec="R-5.8-4",
            flag="claims-schema",
        ),
        ContainerRow(
            case_id="wire-container-attestation-without-invocation",
            description="an attestation on a token without invocation",
            data=enc({1: 2, 2: links, 4: [attestation_bytes()]}),
            code="schema_invalid",
            spec="R-5.8-5",
            flag="claims-schema",
        ),
        ContainerRow(
            case_id="wire-container-version-missing-unknown-key",
            description="no version and an unknown key 6: the version is checked before the key "
            "set (schema_invalid, not unknown_field)",
            data=enc({2: links, 3: inv, 6: 0}),
            code="schema_invalid",
            spec="R-5.8-7",
            flag="precedence",
        ),
        ContainerRow(
            case_id="wire-container-version-text-unknown-key",
            description='version "2" as text, with an unknown key 6: a mistyped version is '
            "schema_invalid, before the key set",
            data=enc({1: "2", 2: links, 3: inv, 6: 0}),
            code="schema_invalid",
            spec="R-5.8-7",
            flag="precedence",
        ),
        ContainerRow(
            case_id="wire-container-version-2-pow-33",
            description="container version 2^33: an unsigned integer other than 2 is another "
            "version (version_unsupported), however large",
            data=enc({1: 2**33, 2: links, 3: inv}),
            code="version_unsupported",
            spec="R-5.8-7",
            flag="claims-schema",
        ),
        ContainerRow(
            case_id="wire-container-version-3-unknown-key",
            description="container version 3 with an unknown key 6: version_unsupported "
            "whatever keys it holds",
            data=enc({1: 3, 2: links, 3: inv, 6: 0}),
            code="version_unsupported",
            spec="R-5.8-7",
            flag="precedence",
        ),
        ContainerRow(
            case_id="wire-container-attestations-over-count-without-invocation",
            description="a token with 9 attestations and no invocation: the count "
            "(limit_exceeded) is checked before R-5.8-5's missing invocation",
            data=enc({1: 2, 2: links, 4: [attestation_bytes()] * 9}),
            code="limit_exceeded",
            spec="R-5.8-5",
            flag="precedence",
        ),
        ContainerRow(
            case_id="wire-container-approval-malformed-without-invocation",
            description="a token with one approval of bytes ff and no invocation: the item is "
            "decoded (cbor_malformed) before R-5.8-5's missing invocation",
            data=enc({1: 2, 2: links, 5: [b"\xff"]}),
            code="cbor_malformed",
            spec="R-5.8-5",
            flag="precedence",
        ),
    ]
    # spec 5.2 reading order within one item (R-5.2-11): one input, two defects
    body = enc({1: 2, 2: links, 3: inv})
    rows += [
        ContainerRow(
            case_id="wire-order-shortest-before-truncation",
            description="a non-minimal string length whose content is also truncated",
            data=body[: -len(inv) - len(head(2, len(inv)))] + head(2, len(inv), 4) + inv[:10],
            code="cbor_noncanonical",
            spec="R-5.2-11",
            flag="precedence",
        ),
        ContainerRow(
            case_id="wire-order-limit-before-truncation",
            description="a byte string declaring 70000 bytes, truncated",
            data=raw_map([(k1, v1), (k2, v2), (k3, head(2, 70_000) + b"\x00")]),
            code="limit_exceeded",
            spec="R-5.2-11",
            flag="precedence",
        ),
        ContainerRow(
            case_id="wire-order-truncated-float",
            description="a half float cut after one byte",
            data=raw_map([(k1, b"\xf9\x3c")]),
            code="cbor_malformed",
            spec="R-5.2-11",
            flag="precedence",
        ),
        ContainerRow(
            case_id="wire-order-indefinite-before-key-type",
            description="an indefinite byte string as a map key",
            data=b"\xa1\x5f\xff\x01",
            code="cbor_indefinite",
            spec="R-5.2-11",
            flag="precedence",
        ),
        ContainerRow(
            case_id="wire-order-key-type-before-shortest",
            description="a non-minimal byte-string map key",
            data=b"\xa1\x58\x01\x00\x01",
            code="cbor_unsupported",
            spec="R-5.2-11",
            flag="precedence",
        ),
    ]
    for row in rows:
        s.add(
            row.case_id,
            row.description,
            flags=[row.flag],
            spec=[row.spec, "R-8.2-2"],
            steps=[step(row.data, error(row.code))],
        )
