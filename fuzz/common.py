"""What the harnesses share: the fixed trust policy, the seed corpus, and the runner.

The seed corpus is rebuilt on every run, byte for byte: presentations made through
the public API from fixed seeds at a fixed time, their signed objects one by one,
and every presentation found in ``vectors/**/*.json`` (read defensively: any string
that is a text form, or hex under a key naming it so). The harnesses accept only
:class:`~agentchain.errors.AgentchainError` from the library; anything else is a
finding.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from agentchain import (
    AgentchainError,
    ApprovalRequirement,
    Descriptor,
    Presentation,
    PrivateKey,
    Request,
    TrustPolicy,
    approve,
    attest,
    delegate,
    invoke,
    issue,
)
from agentchain._build import Rng, seeded
from agentchain.codec import Encoding, request_digest
from agentchain.model import parse_statement as parse

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_800_000_000
AUDIENCE = "https://api.example"
CODE = {"sha256": b"\x5a" * 32}


def key(label: str, alg: str = "Ed25519") -> PrivateKey:
    return seeded(f"fuzz/{label}", alg)


ROOT_KEYS = (key("root"), key("root", "ES256"))
ATTESTER = key("attester")
AGENTS = tuple(key(f"agent{i}", "ES256" if i == 2 else "Ed25519") for i in range(4))

#: the trust policy of fuzz_verify: every factor is in play
POLICY = TrustPolicy(
    anchors=tuple(k.public_key for k in ROOT_KEYS),
    audience=AUDIENCE,
    attesters=(ATTESTER.public_key,),
    attestation_required=("payments",),
)


def seed_presentations() -> list[Presentation]:
    """Tokens and presentations that exercise every part of the format and every factor,
    in both encodings (CBOR first, then JOSE: spec/jose.md)."""
    return [*_seeds("cbor"), *_seeds("jose")]


def _seeds(encoding: Encoding) -> list[Presentation]:
    rng = Rng("seeds" if encoding == "cbor" else f"seeds/{encoding}")
    root, a0, a1, a2, a3 = ROOT_KEYS[0], *AGENTS
    token = issue(
        root,
        a0.public_key,
        capabilities=[("calendar", f"{AUDIENCE}/cal/*"), ("payments", f"{AUDIENCE}/pay/*")],
        ttl=3600,
        depth=3,
        caveats=[["<=", ".amount", 500], ["like", ".to", "*@example.com"]],
        require_approval=[
            ApprovalRequirement(when=parse([">", ".amount", 100]), actions=("payments",))
        ],
        descriptor=Descriptor(kind="agent", name="assistant", code=CODE, model="m-1"),
        purpose="fuzz seed",
        now=NOW - 60,
        rng=rng,
        encoding=encoding,
    )
    sub = delegate(
        token,
        a0,
        a1.public_key,
        capabilities=[("calendar/read", f"{AUDIENCE}/cal/*"), ("payments", f"{AUDIENCE}/pay/*")],
        caveats=[["all", ".items", ["<", ".", 10]]],
        descriptor=Descriptor(kind="tool", code=CODE),
        now=NOW - 30,
        rng=rng,
    )
    deep = delegate(
        delegate(
            sub,
            a1,
            a2.public_key,
            capabilities=[("calendar/read", f"{AUDIENCE}/cal/*")],
            now=NOW - 20,
            rng=rng,
        ),
        a2,
        a3.public_key,
        capabilities=[("calendar/read/day", f"{AUDIENCE}/cal/today")],
        now=NOW - 10,
        rng=rng,
    )
    es_token = issue(ROOT_KEYS[1], a2.public_key, capabilities=[("*", "*")], now=NOW - 5, rng=rng,
                     encoding=encoding)  # fmt: skip
    # JSON has no byte strings (spec/jose.md J.5): the JOSE seed carries text instead
    blob: object = b"\x00\xff" if encoding == "cbor" else "\u0000\u00ff"
    out = [token, sub, deep, es_token]
    out.append(
        invoke(sub, a1, audience=AUDIENCE, action="calendar/read", resource=f"{AUDIENCE}/cal/x",
               args={"amount": 1, "to": "a@example.com", "items": [1, 2]}, now=NOW, rng=rng)
    )  # fmt: skip
    out.append(
        invoke(deep, a3, audience=AUDIENCE, action="calendar/read/day",
               resource=f"{AUDIENCE}/cal/today",
               args={"amount": 0, "to": "b@example.com", "items": []}, now=NOW, rng=rng)
    )  # fmt: skip
    out.append(
        invoke(es_token, a2, audience=AUDIENCE, action="x/y", resource="urn:x:y",
               args={"b": blob, "n": -5, "t": True, "z": None}, now=NOW, rng=rng)
    )  # fmt: skip
    # payments: an attestation of the holder and the root's approval of this very request
    args = {"amount": 300, "to": "shop@example.com", "items": [3]}
    action, resource = "payments/create", f"{AUDIENCE}/pay/new"
    wanted = request_digest(sub.chain_digest, AUDIENCE, action, resource, args)
    out.append(
        invoke(sub, a1, audience=AUDIENCE, action=action, resource=resource, args=args,
               attestations=[attest(ATTESTER, a1.public_key, code=CODE, now=NOW - 5,
                                    encoding=encoding)],
               approvals=[approve(root, wanted, now=NOW - 5, encoding=encoding)], now=NOW,
               rng=rng)
    )  # fmt: skip
    return out


def request_for(presentation: Presentation) -> Request:
    """The request a presentation's invocation signed: what a resource server would see."""
    inv = presentation.invocation
    if inv is None:
        return Request("calendar/read", f"{AUDIENCE}/cal/x")
    return Request(inv.claims.action, inv.claims.resource, dict(inv.claims.args))


def _strings(value: object, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str):
        yield key, value


def vector_inputs(root: Path = ROOT / "vectors") -> list[bytes | str]:
    """Every presentation-looking string of ``vectors/**/*.json``, once each."""
    found: dict[bytes | str, None] = {}
    for path in sorted(root.glob("**/*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for name, text in _strings(document):
            if text.startswith(("ac1", "ac2")) and "." in text[:6]:
                found[text] = None
            elif "hex" in name.lower() and len(text) % 2 == 0 and len(text) >= 2:
                try:
                    found[bytes.fromhex(text)] = None
                except ValueError:
                    continue
    return list(found)


def as_bytes(item: bytes | str) -> bytes:
    return item if isinstance(item, bytes) else item.encode()


def write_seeds(directory: Path, items: list[bytes]) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    for item in items:
        (directory / hashlib.sha256(item).hexdigest()[:16]).write_bytes(item)
    return len(items)


def main(test_one_input: Callable[[bytes], None], seeds: Callable[[], list[bytes]]) -> None:
    """The command line of every harness.

    ``--seeds DIR`` writes the harness' seed corpus; ``--replay FILE_OR_DIR...`` runs
    inputs without atheris (coverage, regression checks); anything else goes to
    libFuzzer through atheris (``-max_total_time=60 CORPUS_DIR...``).
    """
    if len(sys.argv) == 3 and sys.argv[1] == "--seeds":
        count = write_seeds(Path(sys.argv[2]), seeds())
        print(f"wrote {count} seeds to {sys.argv[2]}", file=sys.stderr)
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--replay":
        count = 0
        for arg in sys.argv[2:]:
            path = Path(arg)
            for file in sorted(path.iterdir()) if path.is_dir() else [path]:
                test_one_input(file.read_bytes())
                count += 1
        print(f"replayed {count} inputs", file=sys.stderr)
        return
    import atheris  # noqa: PLC0415 - only the fuzzing mode needs it

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


def accept_only_agentchain_errors(run: Callable[[bytes], None]) -> Callable[[bytes], None]:
    """The harness contract: the library may refuse an input only with its own typed errors."""

    def guarded(data: bytes) -> None:
        try:
            run(data)
        except AgentchainError as exc:
            if not isinstance(exc.code, str):
                raise AssertionError(f"an AgentchainError without a code: {exc!r}") from None

    return guarded
