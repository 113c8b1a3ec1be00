"""revocation.json: revoked links by digest, and signed revocations (spec 8.5)."""

from __future__ import annotations

from typing import Any

from agentchain import codec, issuer
from agentchain.vectors.generator.build import KEYS, NOW, chain, encoded_links, present, present_raw
from agentchain.vectors.generator.suite import Suite, allow, deny, error, step


def add_cases(s: Suite) -> None:
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
    _signed(s)


def _text(revocation: codec.Revocation) -> str:
    return codec.attachment_to_text(revocation.encoded)


def _signed(s: Suite) -> None:
    """spec 8.5: signed revocations offered before the first step; only entitled ones revoke.

    The chain is alice -> h1 -> h2 -> h3: link 0 issued by alice (the anchor), link 1 by
    h1, link 2 by h2; h3 holds the last link. Every link is issued at NOW.
    """
    token, holder = chain(3, label="srev")
    p = present(token, holder)
    links = token.links

    def rev(
        name: str, *, link: int | None = None, key: str | None = None, **kw: Any
    ) -> codec.Revocation:
        return issuer.revoke(
            KEYS(name),
            link=links[link] if link is not None else None,
            subject=KEYS(key).public_key if key is not None else None,
            now=NOW,
            **kw,
        )

    rows: list[tuple[str, str, codec.Revocation, bool, list[str]]] = [
        ("link-by-issuer", "h1 revokes link 1, which it issued", rev("h1", link=1), True, []),
        ("link-by-anchor", "the anchor revokes link 2", rev("alice", link=2), True, []),
        ("link-by-ancestor", "h1 revokes link 2, below its own", rev("h1", link=2), True, []),
        ("root-by-anchor", "the anchor revokes the root link", rev("alice", link=0), True, []),
        (
            "link-by-its-holder",
            "h2, link 1's holder, revokes link 1: not entitled, no effect",
            rev("h2", link=1),
            False,
            [],
        ),
        (
            "last-by-its-holder",
            "h3 revokes the last link, which it holds: not entitled, no effect",
            rev("h3", link=2),
            False,
            [],
        ),
        (
            "root-by-stranger",
            "mallory revokes the root link: not entitled, no effect",
            rev("mallory", link=0),
            False,
            [],
        ),
        ("key-self", "h3 revokes its own key", rev("h3", key="h3"), True, []),
        (
            "key-issued",
            "h2 revokes its own key: the link it holds and the one it issued",
            rev("h2", key="h2"),
            True,
            [],
        ),
        ("key-by-delegator", "h2 revokes h3's key", rev("h2", key="h3"), True, []),
        ("key-by-anchor", "the anchor revokes h1's key", rev("alice", key="h1"), True, []),
        (
            "key-by-delegatee",
            "h3 revokes h1's key: a delegatee is not entitled, no effect",
            rev("h3", key="h1"),
            False,
            [],
        ),
        (
            "key-by-foreign-anchor",
            "bob, no principal of this chain, revokes h2's key: no effect",
            rev("bob", key="h2"),
            False,
            [],
        ),
        (
            "before-equal",
            "the anchor revokes h1's key for links issued before NOW: iat == before, no effect",
            rev("alice", key="h1", before=NOW),
            False,
            ["R-8.5-3"],
        ),
        (
            "before-plus-one",
            "the anchor revokes h1's key for links issued before NOW + 1: revoked",
            rev("alice", key="h1", before=NOW + 1),
            True,
            ["R-8.5-3"],
        ),
        (
            "exp-past",
            "the anchor's revocation of link 1 states an exp long past: it still applies",
            rev("alice", link=1, exp=NOW - 1000),
            True,
            ["R-8.5-9"],
        ),
        (
            "jose-revocation",
            "h1 revokes link 1 with its key, the revocation in JOSE: covers the CBOR link",
            issuer.revoke(KEYS("h1"), link=links[1], now=NOW, encoding="jose"),
            True,
            ["R-8.5-2"],
        ),
    ]
    for name, description, made, revokes, spec in rows:
        s.add(
            f"srev-{name}",
            description,
            flags=["revocation"] + ([] if revokes else ["valid"]),
            spec=["R-8.5-3", "R-8.5-4", "R-8.5-8", *spec],
            steps=[step(p, deny("revoked") if revokes else allow())],
            store={"revocations": [_text(made)]},
        )
    # R-8.5-6: a revocation whose signature does not verify is never recorded
    good = rev("alice", link=0)
    forged = good.encoded[:-1] + bytes([good.encoded[-1] ^ 1])
    s.add(
        "srev-forged-signature",
        "the anchor's revocation of the root with one signature bit flipped: not recorded",
        flags=["revocation", "valid"],
        spec=["R-8.5-5", "R-8.5-6"],
        steps=[step(p, allow())],
        store={"revocations": [codec.attachment_to_text(forged)]},
    )
    s.add(
        "srev-not-a-revocation",
        "the root link itself offered as a revocation: not recorded",
        flags=["revocation", "valid"],
        spec=["R-5.3-1", "R-8.5-6"],
        steps=[step(p, allow())],
        store={"revocations": [codec.attachment_to_text(links[0].encoded)]},
    )
    # R-8.5-1: both targets at once is schema_invalid, so never recorded (a reader that took
    # either target would revoke this chain)
    anchor = KEYS("alice")
    both = codec.sign_object(
        anchor,
        codec.TYP_REVOCATION,
        {
            codec.X_VERSION: 1,
            codec.X_REVOKER: anchor.public_key.to_cose_key(),
            codec.X_IAT: NOW,
            codec.X_LINK: {1: links[0].claims.issuer, 2: links[0].claims.id},
            codec.X_KEY: KEYS("h1").public_key.thumbprint,
        },
    )
    s.add(
        "srev-both-targets",
        "the anchor's revocation naming both the root link and h1's key: invalid, not recorded",
        flags=["revocation", "valid"],
        spec=["R-8.5-1", "R-8.5-6"],
        steps=[step(p, allow())],
        store={"revocations": [codec.attachment_to_text(both)]},
    )
    _twins(s)


def _twins(s: Suite) -> None:
    """R-8.5-2: a revocation of a link covers its twin in the other encoding."""
    encodings: tuple[codec.Encoding, ...] = ("cbor", "jose")
    chains = {enc: chain(3, label="srev-twin", encoding=enc) for enc in encodings}
    cbor_links, jose_links = chains["cbor"][0].links, chains["jose"][0].links
    assert [ln.claims.id for ln in cbor_links] == [ln.claims.id for ln in jose_links]
    assert cbor_links[1].digest != jose_links[1].digest
    for made_in, applied_to in (encodings, encodings[::-1]):
        token, holder = chains[applied_to]
        made = issuer.revoke(
            KEYS("h1"), link=chains[made_in][0].links[1], now=NOW, encoding=made_in
        )
        s.add(
            f"srev-twin-{made_in}-revokes-{applied_to}",
            f"h1 revokes link 1 of the {made_in} chain, in {made_in}; "
            f"the {applied_to} twin is revoked too",
            flags=["revocation"],
            spec=["R-8.5-2", "R-8.5-8"],
            steps=[step(present(token, holder, label="twin"), deny("revoked"))],
            store={"revocations": [_text(made)]},
            encoding=applied_to,
        )
