"""``agentchain demo``: the whole story with real keys, tokens, stores and the real verifier.

A surface (layer 9, with the CLI): it prints through rich; the library never imports it.
Alice delegates to a travel agent, the agent delegates flight search to a
sub-agent whose code is pinned and attested, and a verifier decides ten
requests, one of them past the agent's daily spend limit. Nothing is simulated:
every decision comes from ``Verifier.verify`` over the bytes of presentations
built with the public API, against a SQLite store on disk; the thief signs with
its own key, the attester attests what the sub-agent runs, and the revocation is
written to the store by a second handle, as another process would.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.padding import Padding

from agentchain import (
    ApprovalRequirement,
    Capability,
    Decision,
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
    model,
    revoke,
    verify_revocation,
)
from agentchain._display import safe
from agentchain.errors import AgentchainError, UsageError
from agentchain.inspection import tree
from agentchain.model import Caveat, parse_statement
from agentchain.store import SQLiteStore

API = "https://api.travel.example"
#: every file the demo writes; a rerun in the same --dir replaces exactly these
KEY_NAMES = ("alice", "travel-agent", "flight-search", "ci-builder", "thief")
AUDIT_LOG = "audit.jsonl"
STORE = "verifier.sqlite"
#: spec 9.5: the travel agent's payments add up to at most 750 EUR a day; past that, alice
#: is asked (the budget is the link's, so a sub-agent's payments would count against it too)
DAILY_BUDGET = model.UsageLimit(
    period=86_400,
    max=750,
    selector=model.parse_selector(".amount"),
    actions=("payments",),
    on_exceed="approve",
)
TOKENS = ("travel-agent.token", "flight-search.token")
MARKER = ".agentchain-demo"


@dataclass
class _Clock:
    """The verifier's clock: starts at the real time and moves 7 s per request."""

    now: int

    def __call__(self) -> float:
        return float(self.now)


@dataclass
class Step:
    title: str
    why: str
    expected: str
    outcome: str
    reasons: list[dict[str, str]] = field(default_factory=list)
    factors: dict[str, str] = field(default_factory=dict)
    chain: list[dict[str, Any]] = field(default_factory=list)
    approval_request: dict[str, Any] | None = None
    #: spec 9.5: the usage limits the request counted against, consumed and remaining
    usage: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self, number: int) -> dict[str, Any]:
        out = {"step": number, **self.__dict__}
        if self.approval_request is None:
            del out["approval_request"]
        return out


def _fresh(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace what an earlier run left at ``path`` with ``text``, so every file is this run's
    own: the old entry is removed, and the new file is created in the call that opens it,
    never through a symbolic link planted in between (spec 11.1, R-11.1-3)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _write_key(directory: Path, name: str, key: PrivateKey) -> None:
    # created 0600 in one step (spec 11.1), never widened then narrowed
    _fresh(directory / f"{name}.jwk", json.dumps({**key.to_jwk(), "name": name}, indent=2), 0o600)
    public = {**key.public_key.to_jwk(), "name": name}
    _fresh(directory / f"{name}.pub.jwk", json.dumps(public, indent=2))


@dataclass
class Scenario:
    """What the demo made: the steps decided, the files written, the chain and its names."""

    steps: list[Step]
    files: dict[str, Path]
    token: Presentation
    names: dict[bytes, str]
    attestation: codec.Attestation
    policy: TrustPolicy


def run(directory: Path, *, now: int | None = None) -> Scenario:
    """Play the scenario in ``directory`` from ``now`` (default: the current time).

    The directory is new, empty, or one an earlier demo made: the demo replaces its own
    files there and refuses to touch a directory that may hold someone's real keys or store.
    """
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / MARKER
    if any(directory.iterdir()) and not marker.is_file():
        raise UsageError(f"{directory} is not empty and no earlier demo made it: pick a new --dir")
    marker.write_text("made by agentchain demo; a rerun replaces the files here\n")
    keys = {name: PrivateKey.generate() for name in KEY_NAMES}
    keys["ci-builder"] = PrivateKey.generate("ES256")  # an attester on P-256, as a KMS would be
    for name, key in keys.items():
        _write_key(directory, name, key)
    alice, agent, search = keys["alice"], keys["travel-agent"], keys["flight-search"]
    builder, thief = keys["ci-builder"], keys["thief"]
    search_code = {"sha256": hashlib.sha256(b"flight-search v1.4.2").digest()}
    clock = _Clock(int(time.time()) if now is None else now)
    store_path, audit_path = directory / STORE, directory / AUDIT_LOG
    for stale in (store_path, Path(f"{store_path}-wal"), Path(f"{store_path}-shm"), audit_path):
        stale.unlink(missing_ok=True)
    store = SQLiteStore(store_path)
    trust = TrustPolicy(
        anchors=(alice.public_key,),
        audience=API,
        attesters=(builder.public_key,),
        attestation_required=("flights",),
    )
    verifier = Verifier(trust, store=store, clock=clock, audit=JsonLinesAuditLog(str(audit_path)))

    # alice -> travel agent: calendar, flights, payments up to 500 EUR for 30 minutes;
    # payments over 200 EUR need her approval, and past 750 EUR a day too (spec 9.5)
    agent_token = issue(
        alice,
        agent.public_key,
        capabilities=[
            Capability("calendar/read", f"{API}/calendar/alice"),
            Capability("flights/search", f"{API}/flights/*"),
            Capability("payments/create", f"{API}/payments/*"),
        ],
        caveats=[
            Caveat(parse_statement(["<=", ".amount", 500]), ("payments",)),
            Caveat(parse_statement(["==", ".currency", "EUR"]), ("payments",)),
        ],
        require_approval=[
            ApprovalRequirement(when=parse_statement([">", ".amount", 200]), actions=("payments",))
        ],
        usage=model.Usage(limits=(DAILY_BUDGET,)),
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
    for name, token in zip(TOKENS, (agent_token, search_token), strict=True):
        _fresh(directory / name, token.to_text() + "\n")
    # the CI builder that built the sub-agent attests the code it runs
    attestation = attest(builder, search.public_key, code=search_code, now=clock.now)

    steps: list[Step] = []

    def decide(  # noqa: PLR0917 - a local script of steps reads best positionally
        title: str,
        why: str,
        expected: str,
        token: Presentation,
        signer: PrivateKey,
        action: str,
        resource: str,
        args: dict[str, Any],
        **attachments: Any,
    ) -> Decision | None:
        clock.now += 7
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
        step = Step(title, why, expected, "")
        steps.append(step)
        return _decide(step, verifier, presentation, Request(action, resource, args))

    search_args = {"from": "BER", "to": "LIS", "date": "2026-12-18"}
    search_at = ("flights/search", f"{API}/flights/search", search_args)
    pay_at = ("payments/create", f"{API}/payments/new")
    decide(
        "the flight-search sub-agent searches flights",
        "its link grants flights/search, and the CI builder attests the code its link pins",
        "allow",
        search_token,
        search,
        *search_at,
        attestations=[attestation],
    )
    decide(
        "the sub-agent tries to pay 120 EUR",
        "its link grants flight search only: scope",
        "deny",
        search_token,
        search,
        *pay_at,
        {"amount": 120, "currency": "EUR"},
        attestations=[attestation],
    )
    decide(
        "the travel agent pays 150 EUR",
        "within alice's grant and caveats (<= 500 EUR), under her 200 EUR approval threshold",
        "allow",
        agent_token,
        agent,
        *pay_at,
        {"amount": 150, "currency": "EUR"},
    )
    pay_450 = {"amount": 450, "currency": "EUR"}
    pending = decide(
        "the travel agent pays 450 EUR",
        "over 200 EUR: alice asked to approve such payments herself",
        "needs_approval",
        agent_token,
        agent,
        *pay_at,
        pay_450,
    )
    if pending is None or pending.approval_request is None:
        raise AssertionError("the 450 EUR payment did not ask for approval")
    # alice's device shows her the summary and signs exactly this request's digest
    approval = approve(alice, pending.approval_request.digest, now=clock.now)
    decide(
        "alice approves; the agent sends the 450 EUR payment again with her approval",
        "her signed approval names exactly this request; it is now used up",
        "allow",
        agent_token,
        agent,
        *pay_at,
        pay_450,
        approvals=[approval],
    )
    decide(
        "the agent replays the same approval for 480 EUR",
        "an approval binds one request's digest: 480 is not the 450 alice approved",
        "deny",
        agent_token,
        agent,
        *pay_at,
        {"amount": 480, "currency": "EUR"},
        approvals=[approval],
    )
    decide(
        "the travel agent pays 180 EUR more",
        "under 200 EUR, but 150 + 450 + 180 would pass its 750 EUR daily budget: alice decides",
        "needs_approval",
        agent_token,
        agent,
        *pay_at,
        {"amount": 180, "currency": "EUR"},
    )
    # the thief copied the sub-agent's token but has no private key: invoke() refuses a
    # key that is not the holder's, so it signs an invocation by hand with its own key
    clock.now += 7
    stolen = model.InvocationClaims(
        chain=search_token.chain_digest,
        audience=API,
        action=search_at[0],
        resource=search_at[1],
        args=search_args,
        iat=clock.now,
        nonce=os.urandom(16),
    )
    forged = codec.decode_unverified(
        model.InvocationClaims,
        codec.sign_object(thief, codec.TYP_INVOCATION, codec.encode_claims(stolen)),
    )
    step = Step(
        "a thief holding the sub-agent's token, but not its key, searches",
        "the token names the sub-agent's public key; the thief can only sign with its own",
        "invalid",
        "",
    )
    steps.append(step)
    _decide(
        step,
        verifier,
        Presentation(search_token.links, forged, (attestation,)),
        Request(*search_at),
    )
    # the sub-agent is redeployed with patched code; the builder attests what now runs
    other_code = {"sha256": hashlib.sha256(b"flight-search v1.4.2 + patch").digest()}
    patched = attest(builder, search.public_key, code=other_code, now=clock.now)
    decide(
        "the sub-agent, now running patched code, searches",
        "the attested code digest is not the one the travel agent pinned in its link",
        "deny",
        search_token,
        search,
        *search_at,
        attestations=[patched],
    )
    # alice signs a revocation of the travel agent's link (spec 8.5); a verifier of the
    # service records it in the shared store, as `agentchain revoke --store` would
    revocation = revoke(alice, link=agent_token.links[0], now=clock.now)
    with SQLiteStore(store_path) as admin:
        admin.record_revocation(verify_revocation(revocation).record(clock.now))
    decide(
        "alice revokes the travel agent's link; the sub-agent searches again",
        "a signed revocation of a link revokes every chain that extends it, in both encodings",
        "deny",
        search_token,
        search,
        *search_at,
        attestations=[attestation],
    )
    store.close()
    files = {
        "keys": directory,
        "tokens": directory / TOKENS[1],
        "audit log": audit_path,
        "store": store_path,
    }
    names = {keys[name].public_key.thumbprint: name for name in KEY_NAMES}
    return Scenario(steps, files, search_token, names, attestation, trust)


def _decide(
    step: Step, verifier: Verifier, presentation: Presentation, request: Request
) -> Decision | None:
    """Verify the presentation's bytes, as a resource server receives them, into ``step``."""
    try:
        decision = verifier.verify(presentation.to_bytes(), request)
    except AgentchainError as exc:
        # spec 8.2: not a valid presentation, so no decision at all (the audit log has it)
        step.outcome = "invalid"
        step.reasons = [{"code": exc.code, "message": exc.message}]
        step.factors = {"signatures": "error"}
        return None
    data = decision.to_json()
    step.outcome = decision.outcome.value
    step.reasons = data["reasons"]  # type: ignore[assignment]
    step.chain = data["chain"]  # type: ignore[assignment]
    step.factors = dict(decision.audit["factors"])  # type: ignore[call-overload]
    if decision.approval_request is not None:
        step.approval_request = decision.approval_request.to_json()
    step.usage = [u.to_json() for u in decision.usage]
    return decision


_COLORS = {"allow": "green", "deny": "red", "needs_approval": "yellow", "invalid": "red"}
_FACTOR_COLORS = {"pass": "green", "fail": "red", "error": "red", "required": "yellow"}


def _factors(factors: dict[str, str]) -> str:
    shown = []
    for name, result in factors.items():
        color = _FACTOR_COLORS.get(result, "dim")
        shown.append(f"{name} [{color}]{result.replace('_', ' ')}[/]")
    return ", ".join(shown)


def _narrate(console: Console, scenario: Scenario) -> None:
    steps, token, names = scenario.steps, scenario.token, scenario.names
    console.print(
        "[bold]agentchain demo[/]: alice -> travel agent -> flight-search sub-agent\n"
        "Real keys, signed tokens, a SQLite store and the verifier a service would run;"
        " nothing is mocked.\n"
    )
    console.print("[bold]The chain[/] the sub-agent holds, root first:")
    console.print(tree(token, (), names=names, root_checked=True))
    a = scenario.attestation.claims
    code = ", ".join(f"{alg}:{value.hex()[:16]}..." for alg, value in a.code.items())
    console.print(
        f"[bold]Attestation[/]: {names[a.issuer]} vouches that {names[a.subject]} runs {code}"
    )
    trust = scenario.policy
    anchors = ", ".join(names[key.thumbprint] for key in trust.anchors)
    attesters = ", ".join(names[key.thumbprint] for key in trust.attesters)
    console.print(
        f"[bold]The verifier[/] at {trust.audience} trusts {anchors} as anchor and {attesters} "
        f"as attester, and requires attestation for: {', '.join(trust.attestation_required)}\n"
    )
    for number, step in enumerate(steps, 1):
        color = _COLORS[step.outcome]
        unexpected = (
            ""
            if step.outcome == step.expected
            else f"  [bold red]UNEXPECTED: wanted {step.expected}[/]"
        )
        console.print(f"[bold]{number}. {safe(step.title)}[/]")
        lines = [f"[{color} bold]{step.outcome.upper()}[/]{unexpected}  [dim]{safe(step.why)}[/]"]
        lines += [f"[{color}]{r['code']}[/]: {safe(r['message'])}" for r in step.reasons]
        if step.outcome == "invalid":
            lines.append("[dim]an error, not a denial: the presentation is not valid at all[/]")
        else:
            lines.append(f"[dim]factors:[/] {_factors(step.factors)}")
        for u in step.usage:
            lines.append(
                f"[dim]budget:[/] {u['used']} of {u['max']} EUR used today, "
                f"{u['remaining']} remaining"
            )
        if step.approval_request is not None:
            lines.append(f"[dim]alice is shown:[/] {safe(step.approval_request['summary'])}")
        for line in lines:
            if console.is_terminal:  # wrapped as an indented block, under its step
                console.print(Padding(line, (0, 0, 0, 3), expand=False))
            else:  # a log: one line each, never cut
                console.print("   " + line)
        console.print()
    files = scenario.files
    console.print(f"[bold]Audit log[/] (one JSON record per request): {files['audit log']}")
    console.print(
        f"[bold]Store[/] (revocations, used nonces and approvals, spend counters): {files['store']}"
    )
    console.print(f"[bold]Keys[/] (private .jwk files are 0600) and tokens: {files['keys']}")
    console.print(f"Next: agentchain inspect {files['tokens']}")


def main(directory: Path, *, as_json: bool, now: int | None = None) -> int:
    """Run the scenario; exit 0 when every decision is the one the story expects."""
    scenario = run(directory, now=now)
    ok = all(step.outcome == step.expected for step in scenario.steps)
    if as_json:
        data = {
            "steps": [step.to_json(number) for number, step in enumerate(scenario.steps, 1)],
            "files": {k: str(v) for k, v in scenario.files.items()},
            "as_expected": ok,
        }
        print(json.dumps(data, indent=2))
        return 0 if ok else 1
    # wide enough that a log file keeps each reason on one line
    tty = sys.stdout.isatty()
    console = Console(highlight=False, soft_wrap=not tty, width=None if tty else 200)
    _narrate(console, scenario)
    return 0 if ok else 1
