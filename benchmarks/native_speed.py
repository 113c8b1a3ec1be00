#!/usr/bin/env python3
"""The native core beside the pure-Python reference, on one real link of vectors/v1.

    python benchmarks/native_speed.py            # medians in microseconds, and the ratios
    python benchmarks/native_speed.py --json

Rows (per row, the median of timed batches, in interleaved rounds (9 by default); the best round):

- decode: the link's payload through cbor.decode, the link through decode_sign1, and the CBOR
  branch of codec._open (size, COSE_Sign1, typ, alg, payload, Sig_structure) against
  agentchain_native.open_cose, which does the same in one call;
- signature floors: Ed25519 through libsodium (PyNaCl, crypto_sign_open, the Python path's
  backend), the reference's PublicKey.verify (its strict checks, then libsodium), and
  ed25519-dalek with the same strict checks (agentchain_native.PublicKey.verify); ES256 through
  OpenSSL (the reference) and ring (keys validated by the p256 crate);
- one hop: the reference's decode, digest and verify of the link (codec._open, SHA-256,
  PublicKey.verify) against agentchain_native.verify_cose (the same in one call), each over
  its own signature floor. The claims layer (codec.decode_link_claims) is shown apart: it is
  the part protocol 0.2 changes, and not yet native.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nacl.bindings import crypto_sign_open

from agentchain import codec
from agentchain.codec._signed import _open
from agentchain.crypto import PrivateKey, PublicKey
from agentchain.limits import DEFAULT_LIMITS as LIMITS
from agentchain.wire import cbor, cose

ROOT = Path(__file__).resolve().parent.parent


def real_link() -> tuple[bytes, PublicKey, str]:
    """A delegated Ed25519 link of a valid CBOR vector, its signer's key, and the case id."""
    cases = json.loads((ROOT / "vectors" / "v1" / "valid.json").read_text(encoding="utf-8"))
    for case in cases["cases"]:
        for step in case["steps"]:
            p = codec.decode_presentation_unverified(step["presentation"]["text"])
            if p.encoding != "cbor" or len(p.links) < 2:
                continue
            signer = p.links[0].claims.holder
            if signer.alg == "EdDSA" and p.links[1].alg == "EdDSA":
                return p.links[1].encoded, signer, case["id"]
    raise SystemExit("no delegated Ed25519 CBOR link in vectors/v1/valid.json")


def median_us(fn: Callable[[], object], batch: int = 200, batches: int = 41) -> float:
    for _ in range(batch):  # warm caches and the allocator
        fn()
    samples = []
    for _ in range(batches):
        start = time.perf_counter_ns()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter_ns() - start) / batch / 1000)
    return statistics.median(samples)


def measure(rounds: int = 9) -> dict[str, Any]:
    import agentchain_native as native  # noqa: PLC0415  (needs pip install ./native)

    data, signer, case_id = real_link()
    raw = signer.raw()
    sign1 = cose.decode_sign1(
        data,
        max_depth=LIMITS.max_cbor_depth,
        max_items=LIMITS.max_cbor_items,
        max_string_bytes=LIMITS.max_object_bytes,
    )
    signed, signature, payload = sign1.to_be_signed(), sign1.signature, sign1.payload
    native_key = native.PublicKey("EdDSA", raw)
    typ = codec.TYP_LINK
    limits = {
        "max_object_bytes": LIMITS.max_object_bytes,
        "max_depth": LIMITS.max_cbor_depth,
        "max_items": LIMITS.max_cbor_items,
        "max_string_bytes": LIMITS.max_string_bytes,
    }
    sign1_limits = {
        "max_depth": LIMITS.max_cbor_depth,
        "max_items": LIMITS.max_cbor_items,
        "max_string_bytes": LIMITS.max_object_bytes,
    }
    es_key = PrivateKey.from_seed(hashlib.sha256(b"bench/native").digest(), "ES256")
    es_sig = es_key.sign(signed)
    es_native = native.PublicKey("ES256", es_key.public_key.raw())

    def pure_hop() -> object:
        envelope, claims = _open(data, "link", LIMITS)
        digest = hashlib.sha256(data).digest()
        signer.verify(envelope.signature, envelope.signed)
        return claims, digest

    def pure_hop_claims() -> object:
        envelope, claims = _open(data, "link", LIMITS)
        decoded = codec.decode_link_claims(claims, LIMITS)
        signer.verify(envelope.signature, envelope.signed)
        return decoded, hashlib.sha256(data).digest()

    rows = {
        "payload cbor.decode pure": lambda: cbor.decode(payload),
        "payload cbor.decode native": lambda: native.cbor_decode(payload),
        "decode_sign1 pure": lambda: cose.decode_sign1(data, **sign1_limits),
        "decode_sign1 native": lambda: native.sign1_decode(data, **sign1_limits),
        "open (codec._open) pure": lambda: _open(data, "link", LIMITS),
        "open (open_cose) native": lambda: native.open_cose(data, typ, **limits),
        "Ed25519 libsodium raw (crypto_sign_open)": lambda: crypto_sign_open(
            signature + signed, raw
        ),
        "Ed25519 strict pure (PublicKey.verify, libsodium)": lambda: signer.verify(
            signature, signed
        ),
        "Ed25519 strict native (dalek, imported key)": lambda: native_key.verify(signature, signed),
        "Ed25519 strict native (dalek, key imported per call)": lambda: native.verify(
            "EdDSA", raw, signature, signed
        ),
        "ES256 pure (OpenSSL)": lambda: es_key.public_key.verify(es_sig, signed),
        "ES256 native (ring)": lambda: es_native.verify(es_sig, signed),
        "hop pure (open + digest + verify)": pure_hop,
        "hop native (verify_cose, one call)": lambda: native.verify_cose(
            data, typ, native_key, **limits
        ),
        "claims layer pure (decode_link_claims)": lambda: codec.decode_link_claims(
            _open(data, "link", LIMITS)[1], LIMITS
        ),
        "hop pure with claims": pure_hop_claims,
    }
    # interleave: every row once per round, so drift hits them alike
    results: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(rounds):
        for name, fn in rows.items():
            results[name].append(median_us(fn, batch=100, batches=15))
    # the best round: on a shared machine, other load only ever adds time
    us = {name: min(values) for name, values in results.items()}
    claims = us["claims layer pure (decode_link_claims)"] - us["open (codec._open) pure"]
    ratios = {
        "decode_sign1 pure/native": us["decode_sign1 pure"] / us["decode_sign1 native"],
        "open pure/native": us["open (codec._open) pure"] / us["open (open_cose) native"],
        "Ed25519 dalek/libsodium (raw)": us["Ed25519 strict native (dalek, imported key)"]
        / us["Ed25519 libsodium raw (crypto_sign_open)"],
        "hop pure / its floor (strict libsodium)": us["hop pure (open + digest + verify)"]
        / us["Ed25519 strict pure (PublicKey.verify, libsodium)"],
        "hop native / its floor (dalek)": us["hop native (verify_cose, one call)"]
        / us["Ed25519 strict native (dalek, imported key)"],
        "hop native / libsodium raw": us["hop native (verify_cose, one call)"]
        / us["Ed25519 libsodium raw (crypto_sign_open)"],
        "hop native + pure claims layer / libsodium raw": (
            us["hop native (verify_cose, one call)"] + claims
        )
        / us["Ed25519 libsodium raw (crypto_sign_open)"],
    }
    return {"link": {"case": case_id, "bytes": len(data)}, "us": us, "ratios": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (best kept)")
    options = parser.parse_args()
    result = measure(options.rounds)
    if options.json:
        print(json.dumps(result, indent=2))
        return
    print(f"link: {result['link']['case']}, {result['link']['bytes']} bytes")
    for name, value in result["us"].items():
        print(f"  {name:56} {value:8.2f} us")
    for name, value in result["ratios"].items():
        print(f"  {name:56} {value:8.2f} x")


if __name__ == "__main__":
    main()
