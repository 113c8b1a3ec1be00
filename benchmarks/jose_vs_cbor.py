"""Bytes per link and verify time per hop, CBOR/COSE vs JOSE, measured in one run.

    PYTHONPATH=. python benchmarks/jose_vs_cbor.py [--repeat N]

For each encoding and algorithm it builds the same linear chains of 1 and 8 links
(fixed keys, fixed clock, fixed randomness), then reports:

- bytes per link: the mean size of a link's signed object (COSE_Sign1 bytes, or the
  ASCII JWS compact), and the whole 8-link presentation in binary and text form;
- verify time per hop: (median verify time of the 8-link presentation - that of the
  1-link one) / 7, i.e. the marginal cost of one more link, decoding included;
  and the median time of one full 8-link verify.

Times are process CPU time (time.process_time), so other processes on the machine
weigh less; every case is measured once per round, interleaved. Each verify gets a
fresh verifier (its replay store is per run), built outside the timed region.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import statistics
import time
from collections.abc import Callable

from agentchain import (
    Descriptor,
    MemoryStore,
    Presentation,
    PrivateKey,
    Request,
    TrustPolicy,
    Verifier,
    delegate,
    invoke,
    issue,
)
from agentchain.codec import Encoding

NOW = 1_800_000_000
AUD = "https://cal.example"
CAPS = [("calendar/read", "https://cal.example/alice/*")]
REQUEST = Request("calendar/read", "https://cal.example/alice/events", {"n": 3})


def key(name: str, alg: str) -> PrivateKey:
    return PrivateKey.from_seed(hashlib.sha256(name.encode()).digest(), alg)


def rng_for(label: str) -> Callable[[int], bytes]:
    counter = [0]

    def rng(n: int) -> bytes:
        counter[0] += 1
        return hashlib.sha256(f"{label}{counter[0]}".encode()).digest()[:n]

    return rng


def chain(links: int, alg: str, encoding: Encoding) -> tuple[Presentation, PrivateKey]:
    keys = [key(f"bench{i}", alg) for i in range(links + 1)]
    rng = rng_for(f"{alg}{encoding}{links}")
    token = issue(
        keys[0],
        keys[1].public_key,
        capabilities=CAPS,
        ttl=3600,
        depth=links - 1,
        caveats=[["<=", ".n", 5]],
        descriptor=Descriptor(kind="agent", name="link-0"),
        now=NOW,
        rng=rng,
        encoding=encoding,
    )
    for i in range(1, links):
        token = delegate(
            token,
            keys[i],
            keys[i + 1].public_key,
            capabilities=CAPS,
            descriptor=Descriptor(kind="agent", name=f"link-{i}"),
            now=NOW,
            rng=rng,
        )
    p = invoke(
        token,
        keys[-1],
        audience=AUD,
        action=REQUEST.action,
        resource=REQUEST.resource,
        args=REQUEST.args,
        now=NOW,
        rng=rng,
    )
    return p, keys[0]


Case = tuple[str, Encoding, int]  # alg, encoding, links


def measure(cases: dict[Case, tuple[Presentation, PrivateKey]], repeat: int) -> dict[Case, float]:
    """Median CPU time of one verify per case; the cases are interleaved round by round, so
    a change in machine load hits every case alike."""
    prepared = {
        case: (p.to_bytes(), TrustPolicy(anchors=(anchor.public_key,), audience=AUD))
        for case, (p, anchor) in cases.items()
    }
    times: dict[Case, list[float]] = {case: [] for case in cases}
    for _ in range(repeat):
        for case, (data, policy) in prepared.items():
            verifier = Verifier(policy, store=MemoryStore(), clock=lambda: NOW)
            start = time.process_time()
            decision = verifier.verify(data, REQUEST)
            times[case].append(time.process_time() - start)
            assert decision.outcome.value == "allow", decision.to_json()
    return {case: statistics.median(values) for case, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, repeat {args.repeat}")
    encodings: tuple[Encoding, ...] = ("cbor", "jose")
    cases = {
        (alg, encoding, links): chain(links, alg, encoding)
        for alg in ("EdDSA", "ES256")
        for encoding in encodings
        for links in (1, 8)
    }
    medians = measure(cases, args.repeat)
    print(
        f"{'alg':6} {'encoding':8} {'bytes/link':>10} {'8-link bin':>10} {'8-link text':>11} "
        f"{'us/hop':>8} {'8-link verify us':>16}"
    )
    for alg in ("EdDSA", "ES256"):
        for encoding in encodings:
            long_p, _ = cases[(alg, encoding, 8)]
            t8, t1 = medians[(alg, encoding, 8)], medians[(alg, encoding, 1)]
            per_link = statistics.mean(len(link.encoded) for link in long_p.links)
            print(
                f"{alg:6} {encoding:8} {per_link:10.0f} {len(long_p.to_bytes()):10d} "
                f"{len(long_p.to_text()):11d} {(t8 - t1) / 7 * 1e6:8.0f} {t8 * 1e6:16.0f}"
            )


if __name__ == "__main__":
    main()
