"""chain.json: links that do not chain (parents, holders, issuers, order)."""

from __future__ import annotations

import hashlib

from agentchain import codec
from agentchain._build import claims_of, container, enc, sign1_parts
from agentchain.vectors.build import CAL, KEYS, chain, encoded_links, present_raw
from agentchain.vectors.cases._common import TYP_LINK, relink
from agentchain.vectors.suite import Suite, allow, error, step
from agentchain.wire import cose


def add_cases(s: Suite) -> None:
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
