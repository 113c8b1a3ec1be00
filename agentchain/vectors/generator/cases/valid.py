"""valid.json: honest chains of every depth, algorithm and encoding."""

from __future__ import annotations

from agentchain.crypto import EDDSA, ES256
from agentchain.vectors.generator.build import ENCODINGS, chain, present
from agentchain.vectors.generator.cases._common import valid_presentation
from agentchain.vectors.generator.suite import Suite, allow, step


def add_cases(s: Suite) -> None:
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
