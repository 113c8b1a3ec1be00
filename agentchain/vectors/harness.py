"""Our implementation behind the harness protocol of spec/harness.md (`vectors harness`).

Reads one JSON message per line on stdin and writes one per line on stdout, flushing each.
Each case is rebuilt from its published inputs only: keys from seeds, the trust policy,
the store state and, for each step, the presentation text, the request and ``now``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from typing import IO, Any, Final, Literal

from agentchain import __version__
from agentchain.codec import PROTOCOL
from agentchain.crypto import PrivateKey, PublicKey
from agentchain.errors import AgentchainError, DecodeError, UsageError
from agentchain.limits import Limits
from agentchain.store import MemoryStore
from agentchain.verifier import Request, TrustPolicy, Verifier
from agentchain.wire import cbor

PROTOCOL_VERSION: Final = 1
IMPLEMENTATION: Final[dict[str, object]] = {
    "name": "agentchain-python",
    "version": __version__,
    "language": "python",
    "encodings": ["cbor", "jose"],
    "algorithms": ["Ed25519", "ES256"],
    "features": ["approval", "attestation", "behaviour", "replay", "revocation"],
}


def _keys(case: Mapping[str, Any]) -> dict[str, PublicKey]:
    return {
        name: PrivateKey.from_seed(bytes.fromhex(k["seed"]), k["alg"]).public_key
        for name, k in case["keys"].items()
    }


def _policy(case: Mapping[str, Any], keys: Mapping[str, PublicKey]) -> TrustPolicy:
    p = case["policy"]
    return TrustPolicy(
        anchors=tuple(keys[name] for name in p["anchors"]),
        audience=p["audience"],
        algorithms=frozenset(p["algorithms"]),
        limits=Limits(**p["limits"]),
        clock_skew=p["clock_skew"],
        max_ttl=p["max_ttl"],
        invocation_window=p["invocation_window"],
        attesters=tuple(keys[name] for name in p["attesters"]),
        attestation_required=tuple(p["attestation_required"]),
        max_attachment_ttl=p["max_attachment_ttl"],
    )


def _fixed(now: int) -> Callable[[], float]:
    return lambda: now


#: bounds on decoding a case's request arguments, far above any verifier limit
_TRANSPORT: Final = 1 << 24


def _request(req: Mapping[str, Any]) -> Request:
    """The step's request; arguments that do not decode as data of spec 5.2 are ``usage``
    (spec/harness.md 5.4), and the request itself is checked like the rest before any
    presentation work (spec 8.1: a non-map, or a map with a non-text key, is
    ``schema_invalid``; a value inside it outside the data model ``usage``).

    The case's CBOR is the transport, not the verifier's input: it is decoded within wide
    bounds, and the verifier applies the limits of the request's arguments (spec 5.6) itself.
    """
    try:
        args = cbor.decode(
            bytes.fromhex(req["args_cbor"]),
            max_depth=_TRANSPORT,
            max_items=_TRANSPORT,
            max_string_bytes=_TRANSPORT,
        )
    except DecodeError as exc:
        raise UsageError(f"request arguments outside the data model: {exc.message}") from None
    return Request(req["action"], req["resource"], args)  # type: ignore[arg-type]


def run_case(
    case: Mapping[str, Any], *, backend: Literal["auto", "pure", "native"] = "auto"
) -> list[dict[str, object]]:
    """The result of every step of ``case``, in order, against one store, with verifiers
    of ``backend`` (``Verifier(backend=...)``)."""
    keys = _keys(case)
    policy = _policy(case, keys)
    store = MemoryStore()
    first_now = case["steps"][0]["now"]
    for rid in case["store"]["revoked"]:
        store.revoke(bytes.fromhex(rid))
    # spec 8.5: offered signed revocations are recorded only if they verify (R-8.5-6)
    offered = Verifier(policy, store=store, clock=_fixed(first_now), backend=backend)
    for text in case["store"].get("revocations", []):
        try:
            offered.accept_revocation(text)
        except AgentchainError:
            continue
    for used in case["store"]["used"]:
        store.use_nonce(bytes.fromhex(used["key"]), expires_at=used["expires_at"], now=first_now)
    results: list[dict[str, object]] = []
    for st in case["steps"]:
        now = st["now"]
        req = st["request"]
        verifier = Verifier(policy, store=store, clock=_fixed(now), backend=backend)
        try:
            request = _request(req)
            decision = verifier.verify(st["presentation"]["text"], request)
        except AgentchainError as exc:
            results.append({"error": exc.code})
            continue
        results.append(
            {"outcome": decision.outcome.value, "reasons": [r.code for r in decision.reasons]}
        )
    return results


def _reply(out: IO[str], message: Mapping[str, object]) -> None:
    out.write(json.dumps(message, sort_keys=True) + "\n")
    out.flush()


def serve(inp: IO[str] = sys.stdin, out: IO[str] = sys.stdout) -> int:
    """Answer harness messages until ``stop`` or the end of input."""
    for line in inp:
        if not line.strip():
            continue
        message = json.loads(line)
        cmd = message.get("cmd")
        if cmd == "start":
            # spec/harness.md 3.1: the harness protocol's version, and the agentchain
            # protocol the vectors pin (absent: a runner older than 0.2, which asks for 0.1)
            if message.get("version") != PROTOCOL_VERSION or message.get("protocol") != PROTOCOL:
                _reply(out, {"ready": False, "error": "unsupported protocol version"})
                return 1
            _reply(
                out,
                {
                    "ready": True,
                    "version": PROTOCOL_VERSION,
                    "protocol": PROTOCOL,
                    "implementation": IMPLEMENTATION,
                },
            )
        elif cmd == "run":
            seq = message.get("seq")
            try:
                results = run_case(message["case"])
            except Exception as exc:
                _reply(out, {"seq": seq, "errored": True, "context": {"message": repr(exc)}})
                continue
            _reply(out, {"seq": seq, "results": results})
        elif cmd == "stop":
            return 0
        else:
            _reply(out, {"error": f"unknown command {cmd!r}"})
    return 0
