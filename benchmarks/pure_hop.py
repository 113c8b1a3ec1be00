#!/usr/bin/env python3
"""Where one hop of a cold verify goes on the pure-Python path (issue 16 item 4).

    AGENTCHAIN_PURE=1 python benchmarks/pure_hop.py            # CBOR
    AGENTCHAIN_PURE=1 python benchmarks/pure_hop.py --encoding jose --json
    AGENTCHAIN_PURE=1 python benchmarks/pure_hop.py --stat min --first-sight

The bench's presentations (bench._chain: one capability, one caveat, a descriptor per
link) at depth 1 and depth 16; each part timed alone at both depths, in batches of ten
calls (the median batch, or with ``--stat min`` the fastest), and reported per hop as
(depth 16 - depth 1) / 15, beside the signature floor (one Ed25519 verification through
libsodium). The parts:

- total: Verifier.verify, from bytes, by a verifier without a prefix cache (the bench's
  cold row);
- decode: V1, codec.decode_presentation_unverified (COSE/JWS, the CBOR or JSON payload,
  the claims);
- links: V2, signatures, linkage and attenuation (Verifier._verify_links);
- targets: V5's revocation targets of every link (chain_targets, with codec.link_id);
- audit: the decision's audit record (one entry per principal).

The module caches keyed by bytes (statements, capabilities, keys, descriptors, link claim
values, link ids) hold what the first call put there, as in the bench; ``--first-sight``
empties them before every call, for the cost of bytes never seen before.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from collections.abc import Callable

from nacl.bindings import crypto_sign_open

from agentchain import bench, codec
from agentchain.codec._claims import _capability
from agentchain.codec._memo import clear_caches
from agentchain.model._caveats import _PARSED
from agentchain.verifier import chain_targets
from agentchain.verifier._revocation import _key_target
from agentchain.wire.cose import _protected_header

#: calls per timed batch: a sample is the mean of one batch
BATCH = 10


def samples_ns(fn: Callable[[], object], calls: int, before: Callable[[], None]) -> list[float]:
    """Mean nanoseconds per call of each batch of :data:`BATCH` calls (``before`` runs
    before each call, untimed)."""
    out = []
    for _ in range(max(1, calls // BATCH)):
        total = 0
        for _ in range(BATCH):
            before()
            start = time.perf_counter_ns()
            fn()
            total += time.perf_counter_ns() - start
        out.append(total / BATCH)
    return out


def forget() -> None:
    """Empty every module cache keyed by what was decoded before: bytes never seen."""
    clear_caches()
    _PARSED.clear()
    _capability.cache_clear()
    _protected_header.cache_clear()
    _key_target.cache_clear()


def rows(ours: bench._Agentchain, depth: int) -> dict[str, Callable[[], object]]:
    """The parts of one cold verify of the bench's presentation of ``depth`` links."""
    data = bench._presentation(
        bench._chain(ours.keys, depth, ours.encoding, f"hop/{depth}"), ours.keys[depth], "inv"
    )
    verifier = ours.verifier(False)
    limits = verifier.policy.limits
    links = codec.decode_presentation_unverified(data, limits).links
    claims = [link.claims for link in links]
    decision = verifier.verify(data, ours.request)
    return {
        "total": lambda: verifier.verify(data, ours.request),
        "decode": lambda: codec.decode_presentation_unverified(data, limits),
        "links": lambda: verifier._verify_links(links),
        "targets": lambda: chain_targets(claims, ids=[codec.decoded_link_id(ln) for ln in links]),
        "audit": lambda: decision.audit,
    }


def parts(
    encoding: str, calls: int, first_sight: bool, stat: str = "median", rounds: int = 10
) -> dict[str, float]:
    """Every part at both depths and the floor, interleaved: ``rounds`` rounds, each timing
    every contender for ``calls / rounds`` calls in turn, so a change of load on the machine
    falls on all of them alike. ``stat`` picks the median batch, or the fastest (``min``:
    the least disturbed by other work on a shared machine)."""
    keys = bench._keys()
    ours = bench._Agentchain(keys, encoding)
    before = forget if first_sight else (lambda: None)
    link = bench._chain(keys, 1, "cbor", "floor").links[0]
    message, signature = link.envelope.signed, link.envelope.signature
    raw = keys[0].public_key.raw()
    tasks: dict[tuple[str, int], Callable[[], object]] = {
        (name, depth): fn for depth in (1, 16) for name, fn in rows(ours, depth).items()
    }
    tasks["floor", 1] = lambda: crypto_sign_open(signature + message, raw)
    samples: dict[tuple[str, int], list[float]] = {key: [] for key in tasks}
    for _ in range(rounds):
        for key, fn in tasks.items():
            samples[key] += samples_ns(fn, max(1, calls // rounds), before)
    pick = min if stat == "min" else statistics.median
    med = {key: pick(values) / 1000 for key, values in samples.items()}
    names = {name for name, _ in tasks if name != "floor"}
    per_hop = {name: round((med[name, 16] - med[name, 1]) / 15, 1) for name in sorted(names)}
    floor = med["floor", 1]
    ratio = round(per_hop["total"] / floor, 3)
    return {**per_hop, "floor": round(floor, 1), "total_over_floor": ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoding", default="cbor", choices=bench.ENCODINGS)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--first-sight", action="store_true", help="empty the byte caches first")
    parser.add_argument("--stat", default="median", choices=("median", "min"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    gc.disable()
    result = parts(args.encoding, args.calls, args.first_sight, args.stat)
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return
    for name, value in result.items():
        print(f"{name:18}{value:9.1f}{'' if name == 'total_over_floor' else ' us'}")


if __name__ == "__main__":
    main()
