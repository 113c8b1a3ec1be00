"""chain.json: links that do not chain (parents, holders, issuers, order)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from agentchain import codec
from agentchain._build import claims_of, container, enc, sign1_parts
from agentchain.vectors.generator.build import CAL, KEYS, NOW, chain, encoded_links, present_raw
from agentchain.vectors.generator.cases._common import TYP_LINK, relink
from agentchain.vectors.generator.suite import Suite, allow, error, step
from agentchain.wire import cose


@dataclass(frozen=True)
class ChainRow:
    """One case of a table in this module: its id, description, input and expected result."""

    case_id: str
    description: str
    data: bytes
    code: str
    spec: list[str]
    flag: str


def add_cases(s: Suite) -> None:
    token, _ = chain(3, label="chain")
    links = encoded_links(token)
    # another grant of the same keys and scope, a minute earlier (0.2 links carry no id)
    other, _ = chain(3, label="other-chain", caps=(("calendar", CAL + "/*"),), now=NOW - 60)
    other_links = encoded_links(other)
    h = {i: KEYS(f"h{i}") for i in (1, 2, 3)}
    rows: list[ChainRow] = [
        ChainRow(
            case_id="chain-reordered",
            description="links 0, 2, 1",
            data=present_raw([links[0], links[2], links[1]], h[2]),
            code="signature_invalid",
            spec=["R-7.1-2"],
            flag="chain-splice",
        ),
        ChainRow(
            case_id="chain-drop-middle",
            description="link 1 dropped",
            data=present_raw([links[0], links[2]], h[3]),
            code="signature_invalid",
            spec=["R-7.1-2"],
            flag="chain-splice",
        ),
        ChainRow(
            case_id="chain-drop-root",
            description="the root dropped",
            data=present_raw(links[1:], h[3]),
            code="root_untrusted",
            spec=["R-7.1-1"],
            flag="chain-splice",
        ),
        ChainRow(
            case_id="chain-truncated-end",
            description="the last link dropped, invocation still by its holder",
            data=present_raw(links[:2], h[3]),
            code="signature_invalid",
            spec=["R-7.2-1"],
            flag="chain-splice",
        ),
        ChainRow(
            case_id="chain-truncated-end-resigned",
            description="the last link dropped, invoked by the new last holder: valid",
            data=present_raw(links[:2], h[2]),
            code="",
            spec=["R-7.1-3"],
            flag="chain-splice",
        ),
        ChainRow(
            case_id="chain-spliced-link",
            description="link 2 taken from another chain of the same keys",
            data=present_raw([links[0], links[1], other_links[2]], h[3]),
            code="chain_broken",
            spec=["R-7.1-3"],
            flag="chain-splice",
        ),
        ChainRow(
            case_id="chain-duplicated-link",
            description="link 1 repeated",
            data=present_raw([links[0], links[1], links[1]], h[2]),
            code="signature_invalid",
            spec=["R-7.1-2"],
            flag="chain-splice",
        ),
        ChainRow(
            case_id="chain-invocation-other-chain",
            description="an invocation bound to the other chain's last link",
            data=present_raw(links, h[3], chain=hashlib.sha256(other_links[2]).digest()),
            code="chain_digest_mismatch",
            spec=["R-7.2-2"],
            flag="holder-binding",
        ),
        ChainRow(
            case_id="chain-invocation-wrong-signer",
            description="the invocation signed by mallory",
            data=present_raw(links, KEYS("mallory")),
            code="signature_invalid",
            spec=["R-7.2-1"],
            flag="holder-binding",
        ),
        ChainRow(
            case_id="chain-invocation-by-middle-holder",
            description="the invocation signed by link 0's holder",
            data=present_raw(links, h[1]),
            code="signature_invalid",
            spec=["R-7.2-1"],
            flag="holder-binding",
        ),
        ChainRow(
            case_id="chain-token-only",
            description="a token without invocation",
            data=container(links),
            code="invocation_missing",
            spec=["R-5.8-3", "R-8.2-4"],
            flag="holder-binding",
        ),
    ]
    for row in rows:
        expected = error(row.code) if row.code else allow()
        s.add(
            row.case_id,
            row.description,
            flags=[row.flag],
            spec=[*row.spec, "R-8.2-3"],
            steps=[step(row.data, expected)],
        )
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
        "a root link carrying a parent digest (and its issuer)",
        flags=["chain-splice"],
        spec=["R-7.1-3", "R-5.5-10"],
        steps=[
            step(present_raw([relink({**root, 4: b"\x01" * 32})], h[1]), error("schema_invalid"))
        ],
    )
    second = claims_of(links[1])
    del second[4]
    orphan = codec.sign_object(h[1], TYP_LINK, second)
    s.add(
        "chain-child-without-parent",
        "a second link without a parent digest (and without an issuer)",
        flags=["chain-splice"],
        spec=["R-7.1-3", "R-5.5-10"],
        steps=[step(present_raw([links[0], orphan], h[2]), error("schema_invalid"))],
    )
    named = codec.sign_object(
        h[1], TYP_LINK, {**claims_of(links[1]), 2: h[1].public_key.thumbprint}
    )
    s.add(
        "chain-child-names-issuer",
        "a second link naming its (correct) issuer, as in 0.1: refused, it is implied",
        flags=["chain-splice", "claims-schema"],
        spec=["R-5.5-10"],
        steps=[step(present_raw([links[0], named], h[2]), error("schema_invalid"))],
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
