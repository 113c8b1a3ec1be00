"""The case model of the conformance vectors: steps, expected results, and their rendering.

A :class:`Suite` collects cases category by category, fills in what every case carries
(the keys it uses with their seeds, the full trust policy, the store state, the
intermediates of each presentation) and renders the JSON files byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Final

from agentchain import codec
from agentchain._build import try_decode, try_json
from agentchain.crypto import ALGORITHMS
from agentchain.errors import REGISTRY, DecodeError, Kind
from agentchain.limits import DEFAULT_LIMITS
from agentchain.vectors.generator.build import (
    ACTION,
    AUD,
    KEYS,
    NOW,
    POLICY_DEFAULTS,
    RESOURCE,
    Built,
)
from agentchain.vectors.generator.flags import FLAGS
from agentchain.wire import cbor, jws

#: version of the vector file format (and of the harness protocol, spec/harness.md)
FORMAT_VERSION: Final = 1
FEATURES: Final = ("attestation", "approval", "revocation", "replay", "behaviour")


def allow() -> dict[str, object]:
    return {"outcome": "allow", "reasons": []}


def deny(code: str) -> dict[str, object]:
    assert REGISTRY[code].kind is Kind.DENY, code
    return {"outcome": "deny", "reasons": [code]}


def needs_approval() -> dict[str, object]:
    return {"outcome": "needs_approval", "reasons": ["approval_required"]}


def error(code: str) -> dict[str, object]:
    assert REGISTRY[code].kind is Kind.ERROR, code
    return {"error": code}


@dataclass(frozen=True)
class Step:
    presentation: Built
    expected: dict[str, object]
    action: str = ACTION
    resource: str = RESOURCE
    args: Mapping[str, object] = field(default_factory=dict)
    now: int = NOW
    acceptable: tuple[dict[str, object], ...] = ()
    #: the request's args_cbor as given, for arguments outside the data model (a float)
    #: that no encoder of ours writes; ``args`` then only shows them
    args_cbor: bytes | None = None


def step(
    value: Any,
    expected: dict[str, object],
    *,
    action: str = ACTION,
    resource: str = RESOURCE,
    args: Mapping[str, object] | None = None,
    now: int = NOW,
    args_cbor: bytes | None = None,
) -> Step:
    return Step(
        Built.of(value), expected, action, resource, dict(args or {}), now, args_cbor=args_cbor
    )


def _hex_or_none(value: object) -> str | None:
    return value.hex() if isinstance(value, bytes) else None


def _sign1_intermediates(data: object) -> dict[str, object] | None:
    """To-be-signed bytes, digest and signature of one COSE_Sign1, where readable."""
    if not isinstance(data, bytes):
        return None
    out: dict[str, object] = {"digest": hashlib.sha256(data).hexdigest()}
    parts = try_decode(data)
    if isinstance(parts, list) and len(parts) == 4:
        protected, _, payload, signature = parts
        if isinstance(protected, bytes) and isinstance(payload, bytes):
            tbs = cbor.encode(["Signature1", protected, b"", payload])
            out["to_be_signed"] = tbs.hex()
            out["signature"] = _hex_or_none(signature)
    return out


def _jws_intermediates(data: object) -> dict[str, object] | None:
    """Signing input, digest and signature of one JWS compact, where readable."""
    if not isinstance(data, str):
        return None
    encoded = data.encode("utf-8")
    out: dict[str, object] = {"digest": hashlib.sha256(encoded).hexdigest()}
    signing_input, dot, signature = encoded.rpartition(b".")
    if dot and signing_input.count(b".") == 1:
        out["to_be_signed"] = signing_input.hex()
        try:
            out["signature"] = jws.b64decode(signature.decode("ascii")).hex()
        except (DecodeError, UnicodeDecodeError):
            out["signature"] = None
    return out


def _jose_intermediates(data: bytes) -> dict[str, object] | None:
    top = try_json(data)
    if not isinstance(top, dict):
        return None
    out: dict[str, object] = {}
    if isinstance(top.get("links"), list):
        out["links"] = [_jws_intermediates(link) for link in top["links"]]
    if "invocation" in top:
        out["invocation"] = _jws_intermediates(top["invocation"])
    return out or None


def intermediates(data: bytes | None) -> dict[str, object] | None:
    """For each link (and the invocation): the signed bytes and the digest, where readable.

    For COSE the signed bytes are the Sig_structure; for JOSE the JWS signing input."""
    if data is None:
        return None
    if data[:1] == b"{":
        return _jose_intermediates(data)
    top = try_decode(data)
    if not isinstance(top, dict):
        return None
    links = top.get(2)
    out: dict[str, object] = {}
    if isinstance(links, list):
        out["links"] = [_sign1_intermediates(link) for link in links]
    if 3 in top:
        out["invocation"] = _sign1_intermediates(top.get(3))
    return out or None


class Suite:
    """Collects cases per category, checks their ids, and renders the files."""

    def __init__(self) -> None:
        self.categories: dict[str, list[dict[str, object]]] = {}
        self._ids: set[str] = set()
        self.category = ""

    def add(
        self,
        case_id: str,
        description: str,
        *,
        flags: Sequence[str],
        spec: Sequence[str],
        steps: Sequence[Step],
        policy: Mapping[str, object] | None = None,
        store: Mapping[str, object] | None = None,
        features: Sequence[str] = (),
        encoding: str = "cbor",
    ) -> None:
        assert case_id not in self._ids, f"duplicate case id {case_id}"
        self._ids.add(case_id)
        pol = _policy(policy or {})
        st = {"revoked": [], "used": [], "revocations": []} | dict(store or {})
        feats = set(features)
        if st["revoked"] or st["revocations"]:
            feats.add("revocation")
        if st["used"] or len(steps) > 1:
            feats.add("replay")
        assert feats <= set(FEATURES), feats
        # spec 1.4: an error is reported with its registry code (R-1.4-1), a decision
        # with deny codes only (R-1.4-2); the comparison of every step checks exactly that
        spec = [*spec, *("R-1.4-1" if "error" in st.expected else "R-1.4-2" for st in steps)]
        for each in steps:  # every key a presentation names, so each case is self-contained
            if each.presentation.data is not None:
                KEYS.mentioned_in(each.presentation.data)
        keys = KEYS.describe()
        KEYS.used.clear()
        case: dict[str, object] = {
            "id": case_id,
            "description": description,
            "flags": sorted(set(flags)),
            "spec": sorted(set(spec), key=_id_order),
            "encoding": encoding,
            "algorithms": sorted({k["alg"] for k in keys.values()}),
            "features": sorted(feats),
            "keys": keys,
            "policy": pol,
            "store": st,
            "steps": [_render_step(s) for s in steps],
        }
        for name in [*pol["anchors"], *pol["attesters"]]:
            assert name in keys, f"{case_id}: policy names unknown key {name}"
        self.categories.setdefault(self.category, []).append(case)

    def files(self) -> dict[str, bytes]:
        out = {}
        for category, cases in self.categories.items():
            doc = {
                "$schema": "../schema.json",
                "version": FORMAT_VERSION,
                "category": category,
                "cases": cases,
            }
            out[f"v1/{category}.json"] = _dump(doc)
        out["v1/flags.json"] = _dump(
            {"$schema": "../schema.json", "version": FORMAT_VERSION, "flags": _flags()}
        )
        out["schema.json"] = (
            resources.files("agentchain.vectors").joinpath("schema.json").read_bytes()
        )
        return out


def _flags() -> dict[str, object]:
    return {name: {"what": w, "why": y, "spec": s} for name, (w, y, s) in sorted(FLAGS.items())}


def _dump(doc: object) -> bytes:
    return (json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False) + "\n").encode()


def _id_order(rid: str) -> tuple[int, ...]:
    """R-3.4-2 < R-10.1-1 < R-J.1-1: numbered sections first, lettered ones (jose.md) after."""
    return tuple(
        int(n) if n.isdigit() else 1000 + ord(n) for n in rid[2:].replace("-", ".").split(".")
    )


def _policy(overrides: Mapping[str, Any]) -> dict[str, Any]:
    limits = {name: getattr(DEFAULT_LIMITS, name) for name in DEFAULT_LIMITS.__dataclass_fields__}
    limits |= dict(overrides.get("limits", {}))
    anchors = list(overrides.get("anchors", ["alice"]))
    attesters = list(overrides.get("attesters", []))
    for name in anchors + attesters:
        KEYS.named(name)
    return {
        "anchors": anchors,
        "audience": overrides.get("audience", AUD),
        "algorithms": sorted(overrides.get("algorithms", ALGORITHMS)),
        **{k: overrides.get(k, v) for k, v in POLICY_DEFAULTS.items()},
        "attesters": attesters,
        "attestation_required": list(overrides.get("attestation_required", [])),
        "limits": limits,
    }


def _render_step(s: Step) -> dict[str, object]:
    args_cbor = s.args_cbor if s.args_cbor is not None else cbor.encode(dict(s.args))  # type: ignore[arg-type]
    out: dict[str, object] = {
        "now": s.now,
        "presentation": {
            "text": s.presentation.text,
            "hex": s.presentation.data.hex() if s.presentation.data is not None else None,
        },
        "request": {
            "action": s.action,
            "resource": s.resource,
            "args_cbor": args_cbor.hex(),
            "args": codec.args_to_json(dict(s.args)),
        },
        "expected": s.expected,
    }
    if s.acceptable:
        out["acceptable"] = list(s.acceptable)
    inter = intermediates(s.presentation.data)
    if inter is not None:
        out["intermediates"] = inter
    return out
