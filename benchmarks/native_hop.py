#!/usr/bin/env python3
"""Where one hop of a cold verify goes, on each path (issue 16: a per-hop profile).

    python benchmarks/native_hop.py            # medians in microseconds per link
    python benchmarks/native_hop.py --json

On the depth-8 CBOR chain of ``agentchain bench``, per link (the median of timed batches in
interleaved rounds, the best round):

- decode (V1): the reference's ``decode_unverified(LinkClaims, ...)`` against the native path's
  (``open_link_parts``, then ``codec.parts_link`` over the parts the core found), with the
  two native parts apart, and the general native reading beside them (``open_link`` with the
  payload decoded, then the reference's ``decode_link_claims`` on it); and V1 of a whole
  presentation as the verifier reads it on the native path, where the core makes each link
  (``open_presentation``'s ``build``), per link: the slope from depth 1 to 8;
- V2: the pure loop's checks of a link (``Verifier._check_link``: algorithm, signature,
  linkage, window, attenuation) against ``verify_chain`` over the eight links, per link;
- the signature floors: libsodium (``crypto_sign_open``) and ed25519-dalek (the native key);
- V5's link id: as the pure path reads it from a CBOR link's payload
  (``codec._signed.payload_link_id``; the native path takes the id the core read, at no
  cost of its own), and the general reading beside it (``codec.link_id``: the claims
  re-encoded, for a link of another shape);
- the whole cold verify at depth 8 and 1, and its slope (the bench's "cold per hop");
- the hop's budget: what a native hop costs beside its signature (the slope less the dalek
  floor), against what issue 16's 1.10x target leaves (a tenth of that floor), with two of
  the parts a hop pays on the native path beside it: the link's object (the signed object,
  made by ``_core_link`` in one call; its claims and its envelope, which the verifier does
  not read, are made only when something reads them) and its share of the
  chain's facts, per link (the slope from depth 1 to 8), gathered by the core where it made
  every link (``NativeChain.chain_facts``, what the verifier runs) and by the reference's
  ``chain_facts`` (with the ids and revocation targets the core computed) beside it.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import statistics
import time
from collections.abc import Callable

from nacl.bindings import crypto_sign_open

from agentchain import _native, bench, codec
from agentchain.codec._signed import payload_link_id
from agentchain.limits import DEFAULT_LIMITS as LIMITS
from agentchain.model import LinkClaims
from agentchain.store import MemoryStore
from agentchain.verifier import Verifier
from agentchain.verifier._facts import chain_facts
from agentchain.verifier._native_chain import _ENVELOPE, _LINK_CLAIMS, NativeChain, _core_link
from agentchain.wire import cbor


def _median_us(fn: Callable[[], object], batch: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        samples = []
        for _ in range(15):
            start = time.perf_counter_ns()
            for _ in range(batch):
                fn()
            samples.append((time.perf_counter_ns() - start) / batch / 1000)
        best = min(best, statistics.median(samples))
    return best


def measure(rounds: int) -> dict[str, float]:
    keys = bench._keys()
    token = bench._chain(keys, 8, "cbor", "cold/8")
    data = {
        d: bench._presentation(bench._chain(keys, d, "cbor", f"cold/{d}"), keys[d], "inv")
        for d in (1, 8)
    }
    agent = bench._Agentchain(keys, "cbor")
    link = token.links[4]
    core = _native.backend("native").chain
    if core is None:
        raise SystemExit("the native core is not installed: pip install ./native")
    chain = NativeChain(core, agent.policy)
    facts: dict[bytes, _native.LinkFacts] = {}
    decode_native = chain.decoder(facts, {})
    for each in token.links:
        decode_native(each.encoded, LIMITS)
    handles = [facts[each.digest] for each in token.links]
    root = keys[0].public_key
    decoded = codec._signed._open(link.encoded, "link", LIMITS)[1]
    opened = {
        "max_object_bytes": LIMITS.max_object_bytes,
        "max_depth": LIMITS.max_cbor_depth,
        "max_items": LIMITS.max_cbor_items,
        "max_string_bytes": LIMITS.max_string_bytes,
        "max_capabilities": LIMITS.max_capabilities,
        "max_caveats": LIMITS.max_caveats,
    }
    payload = link.envelope.payload
    parts = core.open_link_parts(link.encoded, **opened)[1]
    assert parts is not None
    pure_v = Verifier(agent.policy, clock=lambda: bench._NOW, prefix_cache=False, backend="pure")
    parent = token.links[3]
    signer = parent.claims.holder
    raw, signed, signature = signer.raw(), link.envelope.signed, link.envelope.signature
    dalek = _native.backend("native").public_key("Ed25519", raw)
    allowed = sorted(agent.policy.algorithms)

    def cold(backend: str, depth: int) -> Callable[[], object]:
        def call() -> object:
            verifier = Verifier(
                agent.policy,
                store=MemoryStore(),
                clock=lambda: bench._NOW,
                prefix_cache=False,
                backend=backend,  # type: ignore[arg-type]
            )
            return verifier.verify(data[depth], agent.request)

        return call

    rows: dict[str, Callable[[], object]] = {
        "pure decode (V1)": lambda: codec.decode_unverified(LinkClaims, link.encoded, LIMITS),
        "native decode (V1)": lambda: decode_native(link.encoded, LIMITS),
        "  open_link_parts (core)": lambda: core.open_link_parts(link.encoded, **opened),
        "  parts_link (claims by bytes)": lambda: codec.parts_link(payload, LIMITS, parts),
        "(open_link: payload decoded, core)": lambda: core.open_link(link.encoded, **opened),
        "(decode_link_claims on it, reference)": lambda: codec.decode_link_claims(
            decoded, LIMITS, "cbor"
        ),
        "pure V2 of a link": lambda: pure_v._check_link(link, parent, signer, "link 4"),
        "native V2 per link (verify_chain / 8)": lambda: core.verify_chain(
            handles,
            root=(root.alg, root.raw()),
            parent=None,
            allowed=allowed,
            max_ttl=agent.policy.max_ttl,
        ),
        "floor: libsodium": lambda: crypto_sign_open(signature + signed, raw),
        "floor: ed25519-dalek": lambda: dalek.verify(signature, signed),
        "V5 link id (pure path, from the payload)": lambda: payload_link_id(
            payload, link.claims.parent
        ),
        "(V5 link id, the claims re-encoded)": lambda: codec.link_id(link.claims),
    }
    # V1 of a whole presentation as the verifier reads it: the core opens every object and
    # makes each link whose values are remembered (open_presentation's build), per link
    open_plain = chain.presentation_decoder({}, {})
    for depth in (1, 8):
        open_plain(data[depth], LIMITS, None)  # the parts' values read once, remembered
    rows["(native V1 of a presentation, depth 1)"] = lambda: open_plain(data[1], LIMITS, None)
    rows["(native V1 of a presentation, depth 8)"] = lambda: open_plain(data[8], LIMITS, None)
    # the Python parts of a native hop: a link's object (the signed object, its claims and
    # its envelope left to the core's facts) made in one call; the claims and the envelope
    # made when something reads them; and the facts of a chain (with the ids and targets
    # the core read)
    claims, envelope = link.claims, link.envelope
    envelope_values = [getattr(envelope, f.name) for f in dataclasses.fields(codec.Envelope)]
    made_facts: dict[bytes, _native.LinkFacts] = {}
    chain.presentation_decoder(made_facts, {})(data[8], LIMITS, None)
    handle = made_facts[link.digest]  # the facts of a link the core made
    core_link = _core_link(handle, handle, link.digest)
    if core_link != link:
        raise RuntimeError("the core's link is not the link")
    rows["native link object (_core_link)"] = lambda: _core_link(handle, handle, link.digest)
    if _ENVELOPE(*envelope_values) != envelope:
        raise RuntimeError("the envelope maker did not make the envelope")
    rows["(its envelope, when read: _ENVELOPE)"] = lambda: _ENVELOPE(*envelope_values)
    claims_values = (
        claims.issuer, claims.holder, claims.parent, claims.iat, claims.window.nbf,
        claims.window.exp, claims.capabilities, claims.caveats, claims.depth, claims.purpose,
        claims.descriptor, claims.approvals, claims.usage,
    )  # fmt: skip
    if _LINK_CLAIMS(*claims_values) != claims:
        raise RuntimeError("the claims maker did not make the claims")
    rows["(its claims, when read: _LINK_CLAIMS)"] = lambda: _LINK_CLAIMS(*claims_values)
    verifier = Verifier(agent.policy, clock=lambda: bench._NOW, backend="native")
    root_principal = verifier._root(root)
    for depth in (1, 8):
        ids: dict[bytes, bytes] = {}
        targets: dict[bytes, bytes] = {}
        kept: dict[bytes, _native.LinkFacts] = {}
        native_links = chain.presentation_decoder(kept, ids, targets)(data[depth], LIMITS, None)
        if native_links is None or len(ids) != depth or len(targets) != depth:
            raise RuntimeError("the core did not make every link of the bench's chain")
        rows[f"(reference facts of a chain, depth {depth})"] = functools.partial(
            chain_facts,
            native_links.links,
            root_principal,
            encode=cbor.encode,
            read=ids,
            targets=targets,
        )
        handles = [kept[each.digest] for each in native_links.links]
        if chain.chain_facts(handles, root_principal) is None:
            raise RuntimeError("the core did not gather the facts of the bench's chain")
        rows[f"(core's facts of a chain, depth {depth})"] = functools.partial(
            chain.chain_facts, handles, root_principal
        )
    out = {name: _median_us(fn, 200, rounds) for name, fn in rows.items()}
    for who in ("reference", "core's"):
        facts_us = [out[f"({who} facts of a chain, depth {d})"] for d in (1, 8)]
        out[f"{who} facts per link (chain_facts, slope)"] = (facts_us[1] - facts_us[0]) / 7
    out["native V2 per link (verify_chain / 8)"] /= 8
    whole = [out[f"(native V1 of a presentation, depth {d})"] for d in (1, 8)]
    out["native V1 per link (the core makes it, slope)"] = (whole[1] - whole[0]) / 7
    for backend in ("pure", "native"):
        one = _median_us(cold(backend, 1), 20, rounds)
        eight = _median_us(cold(backend, 8), 10, rounds)
        out[f"{backend} cold verify depth 1"] = one
        out[f"{backend} cold verify depth 8"] = eight
        out[f"{backend} cold per hop (slope 1..8)"] = (eight - one) / 7
    floor = out["floor: ed25519-dalek"]
    out["native hop beside its signature (per hop - floor)"] = (
        out["native cold per hop (slope 1..8)"] - floor
    )
    out["  what 1.10x leaves beside it (floor / 10)"] = floor / 10
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out = measure(args.rounds)
    if args.json:
        print(json.dumps({k: round(v, 2) for k, v in out.items()}, sort_keys=True))
        return
    for name, value in out.items():
        print(f"{name:<48}{value:>10.1f} us")


if __name__ == "__main__":
    main()
