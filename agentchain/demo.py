"""``agentchain demo``: the whole story with real keys, tokens, stores and the real verifier.

Layer 7 (with the CLI): it prints through rich; the library never imports it.
Alice delegates to a travel agent, the agent delegates flight search to a
sub-agent whose code is pinned and attested, and a verifier decides eight
requests. Nothing is simulated: every decision below comes from
``Verifier.verify`` over presentations built with the public API.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.tree import Tree

from agentchain import (
    ApprovalRequirement,
    Capability,
    Descriptor,
    JsonLinesAuditLog,
    Presentation,
    PrivateKey,
    Request,
    TrustPolicy,
    Verifier,
    approve,
    attest,
    codec,
    delegate,
    invoke,
    issue,
)
from agentchain.codec import Caveat
from agentchain.errors import AgentchainError
from agentchain.policy import parse
from agentchain.sqlite_store import SQLiteStore

API = "https://api.travel.example"
START = 1_800_000_000  # a fixed start; the demo's clock advances from here


@dataclass
class _Clock:
    now: int = START

    def __call__(self) -> float:
        return float(self.now)


@dataclass
class Step:
    title: str
    expected: str
    outcome: str
    reasons: list[dict[str, str]] = field(default_factory=list)
    chain: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def _write_key(directory: Path, name: str, key: PrivateKey) -> None:
    path = directory / f"{name}.jwk"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({**key.to_jwk(), "name": name}, handle, indent=2)
    (directory / f"{name}.pub.jwk").write_text(
        json.dumps({**key.public_key.to_jwk(), "name": name}, indent=2), encoding="utf-8"
    )


def run(directory: Path) -> tuple[list[Step], dict[str, Path], Presentation]:
    """Play the scenario in ``directory``: the steps, the files made, the sub-agent's token."""
    directory.mkdir(parents=True, exist_ok=True)
    keys = {name: PrivateKey.generate() for name in ("alice", "travel-agent", "flight-search")}
    keys["ci-builder"] = PrivateKey.generate("ES256")
    keys["thief"] = PrivateKey.generate()
    for name, key in keys.items():
        _write_key(directory, name, key)
    alice, agent, search = keys["alice"], keys["travel-agent"], keys["flight-search"]
    builder, thief = keys["ci-builder"], keys["thief"]
    search_code = {"sha256": hashlib.sha256(b"flight-search v1.4.2").digest()}
    clock = _Clock()
    store = SQLiteStore(directory / "verifier.sqlite")
    audit_path = directory / "audit.jsonl"
    verifier = Verifier(
        TrustPolicy(
            anchors=(alice.public_key,),
            audience=API,
            attesters=(builder.public_key,),
            attestation_required=("flights",),
        ),
        store=store,
        clock=clock,
        audit=JsonLinesAuditLog(str(audit_path)),
    )

    # alice -> travel agent: calendar, flights, payments up to 500 EUR for 30 minutes;
    # payments over 200 EUR need her approval
    agent_token = issue(
        alice,
        agent.public_key,
        capabilities=[
            Capability("calendar/read", f"{API}/calendar/alice"),
            Capability("flights/search", f"{API}/flights/*"),
            Capability("payments/create", f"{API}/payments/*"),
        ],
        caveats=[
            Caveat(parse(["<=", ".amount", 500]), ("payments",)),
            Caveat(parse(["==", ".currency", "EUR"]), ("payments",)),
        ],
        require_approval=[
            ApprovalRequirement(when=parse([">", ".amount", 200]), actions=("payments",))
        ],
        ttl=30 * 60,
        depth=1,
        purpose="plan alice's trip to Lisbon",
        descriptor=Descriptor(kind="agent", name="travel-agent", model="example-llm-2026-10"),
        now=clock.now,
    )
    # travel agent -> flight search sub-agent: search only, 5 minutes, code pinned
    search_token = delegate(
        agent_token,
        agent,
        search.public_key,
        capabilities=[Capability("flights/search", f"{API}/flights/*")],
        ttl=5 * 60,
        descriptor=Descriptor(kind="tool", name="flight-search", code=search_code),
        purpose="find flights to Lisbon",
        now=clock.now,
    )
    attestation = attest(builder, search.public_key, code=search_code, now=clock.now)
    other_code = {"sha256": hashlib.sha256(b"flight-search v1.4.2 + patch").digest()}
    bad_attestation = attest(builder, search.public_key, code=other_code, now=clock.now)

    steps: list[Step] = []

    def decide(  # noqa: PLR0917 - a local script of steps reads best positionally
        title: str,
        expected: str,
        token: Presentation,
        signer: PrivateKey,
        action: str,
        resource: str,
        args: dict[str, Any] | None = None,
        **attachments: Any,
    ) -> Any:
        clock.now += 7
        args = args or {}
        presentation = invoke(
            token,
            signer,
            audience=API,
            action=action,
            resource=resource,
            args=args,
            now=clock.now,
            **attachments,
        )
        return _record(
            steps, title, expected, verifier, presentation, Request(action, resource, args)
        )

    search_args = {"from": "BER", "to": "LIS", "date": "2026-12-18"}
    decide(
        "the flight-search sub-agent searches flights",
        "allow",
        search_token,
        search,
        "flights/search",
        f"{API}/flights/search",
        search_args,
        attestations=[attestation],
    )
    decide(
        "the sub-agent tries to pay",
        "deny",
        search_token,
        search,
        "payments/create",
        f"{API}/payments/new",
        {"amount": 120, "currency": "EUR"},
        attestations=[attestation],
    )
    decide(
        "the travel agent pays 150 EUR",
        "allow",
        agent_token,
        agent,
        "payments/create",
        f"{API}/payments/new",
        {"amount": 150, "currency": "EUR"},
    )
    pay_450 = {"amount": 450, "currency": "EUR"}
    pending = decide(
        "the travel agent pays 450 EUR",
        "needs_approval",
        agent_token,
        agent,
        "payments/create",
        f"{API}/payments/new",
        pay_450,
    )
    approval = approve(alice, pending.approval_request.digest, now=clock.now)
    steps[-1].extra["summary"] = pending.approval_request.summary
    decide(
        "alice approves; the agent sends the payment again with her approval",
        "allow",
        agent_token,
        agent,
        "payments/create",
        f"{API}/payments/new",
        pay_450,
        approvals=[approval],
    )
    decide(
        "the agent replays the same approval for 480 EUR",
        "deny",
        agent_token,
        agent,
        "payments/create",
        f"{API}/payments/new",
        {"amount": 480, "currency": "EUR"},
        approvals=[approval],
    )
    # the thief cannot use invoke() (it refuses a key that is not the holder's), so it
    # signs an invocation by hand over the stolen chain, as an attacker would
    clock.now += 7
    stolen = codec.InvocationClaims(
        chain=search_token.chain_digest,
        audience=API,
        action="flights/search",
        resource=f"{API}/flights/search",
        args=search_args,
        iat=clock.now,
        nonce=os.urandom(16),
    )
    forged = codec.decode_invocation_unverified(
        codec.sign_object(thief, codec.TYP_INVOCATION, stolen.to_cbor())
    )
    _record(
        steps,
        "a thief with the sub-agent's token but not its key",
        "invalid",
        verifier,
        Presentation(search_token.links, forged, (attestation,)),
        Request("flights/search", f"{API}/flights/search", search_args),
    )
    decide(
        "the sub-agent runs different code than its link pins",
        "deny",
        search_token,
        search,
        "flights/search",
        f"{API}/flights/search",
        search_args,
        attestations=[bad_attestation],
    )
    store.revoke(agent_token.links[0].digest, until=agent_token.links[0].claims.window.exp)
    decide(
        "alice revokes the travel agent's link; the sub-agent searches again",
        "deny",
        search_token,
        search,
        "flights/search",
        f"{API}/flights/search",
        search_args,
        attestations=[attestation],
    )
    store.close()
    files = {"keys": directory, "audit log": audit_path, "store": directory / "verifier.sqlite"}
    return steps, files, search_token


def _record(  # noqa: PLR0917
    steps: list[Step],
    title: str,
    expected: str,
    verifier: Verifier,
    presentation: Presentation,
    request: Request,
) -> Any:
    try:
        decision = verifier.verify(presentation.to_bytes(), request)
    except AgentchainError as exc:
        steps.append(Step(title, expected, "invalid", [{"code": exc.code, "message": exc.message}]))
        return None
    data = decision.to_json()
    steps.append(
        Step(title, expected, decision.outcome.value, data["reasons"], data["chain"])  # type: ignore[arg-type]
    )
    return decision


def _holder_tree(token: Presentation) -> Tree:
    root = Tree(
        f"[bold]alice[/] (human, trust anchor) [dim]{token.links[0].claims.issuer.hex()[:12]}[/]"
    )
    node = root
    for link in token.links:
        c = link.claims
        d = c.descriptor
        label = f"[bold]{d.name}[/] ({d.kind}) depth {c.depth}, {c.window.exp - c.window.nbf}s"
        node = node.add(label)
        for cap in c.capabilities:
            node.add(f"[green]may[/] {cap.action} on {cap.resource}")
        for cav in c.caveats:
            scope = f" for {', '.join(cav.actions)}" if cav.actions else ""
            node.add(f"[yellow]if[/] {json.dumps(cav.statement.raw)}{scope}")
        for req in c.approvals:
            when = json.dumps(req.when.raw) if req.when else "always"
            node.add(f"[magenta]approval[/] by alice when {when}")
        for alg, value in d.code.items():
            node.add(f"[cyan]code[/] {alg}:{value.hex()[:16]}...")
    return root


def main(directory: Path, *, as_json: bool) -> int:
    steps, files, token = run(directory)
    ok = all(step.outcome == step.expected for step in steps)
    if as_json:
        data = {
            "steps": [step.__dict__ for step in steps],
            "files": {k: str(v) for k, v in files.items()},
            "as_expected": ok,
        }
        print(json.dumps(data, indent=2))
        return 0 if ok else 1
    console = Console()
    console.print("[bold]agentchain demo[/]: alice -> travel agent -> flight-search sub-agent\n")
    console.print(_holder_tree(token))
    console.print()
    colors = {"allow": "green", "deny": "red", "needs_approval": "yellow", "invalid": "red"}
    for number, step in enumerate(steps, 1):
        color = colors[step.outcome]
        mark = (
            ""
            if step.outcome == step.expected
            else f"  [bold red]UNEXPECTED, wanted {step.expected}[/]"
        )
        console.print(f"{number}. {step.title}: [{color} bold]{step.outcome}[/]{mark}")
        for reason in step.reasons:
            console.print(f"     {reason['code']}: {reason['message']}")
        if "summary" in step.extra:
            console.print(f"     [dim]alice is shown:[/] {step.extra['summary']}")
    console.print()
    for label, path in files.items():
        console.print(f"{label}: {path}")
    return 0 if ok else 1
