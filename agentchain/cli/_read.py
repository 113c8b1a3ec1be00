"""The commands that read and judge: verify, inspect, demo."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from agentchain import codec, demo, inspection, model
from agentchain._display import rfc3339
from agentchain.cli._io import (
    EXIT_DENY,
    EXIT_NEEDS_APPROVAL,
    EXIT_OK,
    open_store,
    parse_time,
    public_key,
    read_input,
    read_token,
    request_args,
    safe,
)
from agentchain.errors import AgentchainError, StoreError, UsageError
from agentchain.verifier import (
    FACTORS,
    AuditSink,
    JsonLinesAuditLog,
    Request,
    TrustPolicy,
    Verifier,
)


def _print_human(decision_json: dict[str, Any], principals: list[tuple[str, str]]) -> None:
    print(decision_json["outcome"])
    for reason in decision_json["reasons"]:
        print(f"  {safe(reason['code'])}: {safe(reason['message'])}")
    for index, (kid, label) in enumerate(principals):
        print(f"  {'  ' * index}{safe(kid)}{safe(label)}")
    factors = decision_json["factors"]
    print("factors: " + ", ".join(f"{name} {state}" for name, state in factors.items()))
    print(f"request id: {safe(decision_json['request_id'])}")


def cmd_verify(args: argparse.Namespace) -> int:
    named = [public_key(name) for name in args.trust]
    anchors = tuple(key for key, _ in named)
    attesters = tuple(public_key(name)[0] for name in args.attester or ())
    trust = TrustPolicy(
        anchors=anchors,
        audience=args.aud,
        attesters=attesters,
        attestation_required=tuple(args.require_attestation or ()),
        # the name a key file carries ("name" of keygen --name) names the root signer
        names={key.kid: label for key, label in named if label},
    )
    now = parse_time(args.at)
    clock: Callable[[], float] = (lambda: float(now)) if now is not None else time.time
    audit: AuditSink | None = JsonLinesAuditLog(args.audit_log) if args.audit_log else None
    # the id is made here, not by the verifier, so that an invalid presentation reports it too
    request_id = args.request_id if args.request_id is not None else os.urandom(16).hex()
    request = Request(args.action, args.resource, request_args(args.args), id=request_id)
    text = read_input(args.presentation, "the presentation")
    store = open_store(args.store) if args.store else None
    try:
        verifier = Verifier(trust, store=store, clock=clock, audit=audit)
        try:
            decision = verifier.verify(text, request)
        except (StoreError, UsageError):
            raise  # not a verdict on the presentation: one-line error, exit 1 or 2
        except AgentchainError as exc:
            if args.json:
                invalid = {
                    "outcome": "invalid",
                    "reasons": [{"code": exc.code, "message": exc.message}],
                    "factors": {
                        "signatures": "error",
                        **dict.fromkeys(FACTORS[1:], "not_evaluated"),
                    },
                    "request_id": request_id,
                    "chain": [],
                }
                print(json.dumps(invalid))
            else:
                print(f"invalid: {exc.code}: {safe(exc.message)}")
            return EXIT_DENY
    finally:
        if store is not None:
            store.close()
    data = decision.to_json()
    data["encoding"] = decision.chain.links[0].encoding
    factors: dict[str, str] = dict(decision.audit["factors"])  # type: ignore[call-overload]
    data["factors"] = factors
    pending = decision.approval_request
    if pending is not None and args.request_out:
        Path(args.request_out).write_text(
            json.dumps(pending.to_json(), indent=2) + "\n", encoding="utf-8"
        )
    if args.json:
        print(json.dumps(data))
    else:
        principals = []
        for principal in decision.chain.principals:
            d = principal.descriptor
            principals.append(
                (
                    principal.kid,
                    f" {d.kind} {d.name or ''}".rstrip()
                    if d
                    else f" root {principal.name or ''}".rstrip(),
                )
            )
        _print_human(data, principals)
        print(f"encoding: {data['encoding']}")
        for u in decision.usage:  # spec 9.5: what the request consumed, what remains
            print(
                f"usage: link {u.link} {u.kind} limit {u.limit}: {u.used} of {u.max} used, "
                f"{u.remaining} remaining in [{rfc3339(u.window_start)}, "
                f"{rfc3339(u.window_end)})"
            )
        if pending is not None:
            where = args.request_out or "request.json"
            print(f"approval needed from {safe(pending.approver.kid)}:")
            print(f"  {safe(pending.summary)}")
            if not args.request_out:
                print("  the request (save it as request.json, or use --request-out FILE):")
                print(f"  {json.dumps(pending.to_json())}")
            run = f"agentchain approve --key APPROVER.jwk --request {safe(where)}"
            print(f"  the approver runs: {run}")
            print("  then invoke again with --approval APPROVAL_FILE")
    codes = {"allow": EXIT_OK, "deny": EXIT_DENY, "needs_approval": EXIT_NEEDS_APPROVAL}
    return codes[decision.outcome.value]


def _usage_json(usage: model.Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "limits": [
            {
                "period": limit.period,
                "max": limit.max,
                "selector": limit.selector.text if limit.selector is not None else None,
                "actions": list(limit.actions),
                "on": limit.on_exceed,
                "approver": limit.approver.kid if limit.approver is not None else None,
            }
            for limit in usage.limits
        ],
        "novelty": (
            None
            if usage.novelty is None
            else {
                "learn": usage.novelty.learn,
                "approver": (
                    usage.novelty.approver.kid if usage.novelty.approver is not None else None
                ),
            }
        ),
    }


def _describe(
    presentation: codec.Presentation, found: Sequence[inspection.Finding] = ()
) -> dict[str, Any]:
    links = []
    for index, link in enumerate(presentation.links):
        c = link.claims
        d = c.descriptor
        # spec 5.5 (0.2): below the root, the issuer is the parent's holder
        issuer = c.issuer or presentation.links[index - 1].claims.holder.thumbprint
        links.append(
            {
                "digest": link.digest.hex(),
                "issuer": codec.b64encode(issuer),
                "holder": c.holder.kid,
                "alg": link.alg,
                "kind": d.kind,
                "name": d.name,
                "code": {k: v.hex() for k, v in d.code.items()},
                "model": d.model,
                "config": {k: v.hex() for k, v in d.config.items()},
                "capabilities": [[cap.action, cap.resource] for cap in c.capabilities],
                "caveats": [
                    model.statement_text(cav.statement)
                    + (f" (for {', '.join(cav.actions)})" if cav.actions else "")
                    for cav in c.caveats
                ],
                "approvals": [
                    {
                        "when": model.statement_text(req.when) if req.when is not None else None,
                        "actions": list(req.actions),
                        "approver": req.approver.kid if req.approver is not None else None,
                    }
                    for req in c.approvals
                ],
                "usage": _usage_json(c.usage),
                "depth": c.depth,
                "purpose": c.purpose,
                "iat": c.iat,
                "nbf": c.window.nbf,
                "exp": c.window.exp,
                "window": [rfc3339(c.window.nbf), rfc3339(c.window.exp)],
            }
        )
    out: dict[str, Any] = {
        "verified": False,
        "encoding": presentation.encoding,
        "links": links,
        "findings": [finding.to_json() for finding in found],
    }
    inv = presentation.invocation
    if inv is not None:
        out["invocation"] = {
            "audience": inv.claims.audience,
            "action": inv.claims.action,
            "resource": inv.claims.resource,
            "args": codec.args_to_json(inv.claims.args),
            "iat": inv.claims.iat,
            "chain_matches": inv.claims.chain == presentation.chain_digest,
        }
    out["attestations"] = [
        {
            "issuer": codec.b64encode(a.claims.issuer),
            "subject": codec.b64encode(a.claims.subject),
            "code": {k: v.hex() for k, v in a.claims.code.items()},
            "model": a.claims.model,
            "iat": a.claims.iat,
            "exp": a.claims.exp,
        }
        for a in presentation.attestations
    ]
    out["approvals"] = [
        {
            "issuer": codec.b64encode(a.claims.issuer),
            "request": a.claims.request.hex(),
            "iat": a.claims.iat,
            "exp": a.claims.exp,
        }
        for a in presentation.approvals
    ]
    return out


def cmd_inspect(args: argparse.Namespace) -> int:
    presentation = read_token(args.file)
    anchors = [public_key(name) for name in args.trust or ()]
    when_given = parse_time(args.at)
    now = when_given if when_given is not None else int(time.time())
    found = inspection.findings(presentation, now=now, anchors=[key for key, _ in anchors])
    described = _describe(presentation, found)
    if args.json:
        print(json.dumps(described, indent=2))
        return EXIT_OK
    names = {key.thumbprint: label for key, label in anchors if label}
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    against = "the given anchors" if anchors else "no trust anchor"
    console.print(
        f"[bold]UNVERIFIED[/]: decoded and checked against {against}; not a decision (use verify)"
    )
    console.print(f"encoding: {presentation.encoding}")
    root_checked = any(key.thumbprint == presentation.links[0].claims.issuer for key, _ in anchors)
    console.print(inspection.tree(presentation, found, names=names, root_checked=root_checked))
    for line in inspection.invocation_lines(presentation, found):
        console.print(line)
    when = rfc3339(now)
    if found:
        console.print(f"[bold red]{len(found)} finding(s)[/] at {when}: verify would refuse this")
    else:
        console.print(f"no finding at {when} (trust, revocation and the request are verify's)")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    directory = Path(args.dir or tempfile.mkdtemp(prefix="agentchain-demo-"))
    return demo.main(directory, as_json=args.json)
