"""revocation.json: revoked links by digest."""

from __future__ import annotations

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
    other, _ = chain(3, label="rev-other", now=NOW - 60)  # another grant: no ids in 0.2
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
