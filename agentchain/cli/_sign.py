"""Commands that sign or write: keygen, issue, delegate, invoke, attest, approve, revoke-local."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from agentchain import codec, issuer, model
from agentchain.cli._io import (
    EXIT_OK,
    CommandLineError,
    digests,
    duration,
    json_arg,
    load_json_file,
    open_store,
    parse_time,
    private_key,
    public_key,
    read_attachment_bytes,
    read_token,
    request_args,
    safe,
    wire_format,
)
from agentchain.crypto import PrivateKey
from agentchain.errors import AgentchainError
from agentchain.limits import DEFAULT_LIMITS
from agentchain.model import Capability, Descriptor
from agentchain.wire import cbor

#: how long a revocation is remembered after the revoked link's own expiry
_REVOCATION_GRACE = 86_400


def _create(path: Path, text: str) -> None:
    """Write a new file of mode 0600 (umask permitting less), refusing to follow a symlink or
    replace anything already there: a planted link must not aim a key at another file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise CommandLineError(f"{path} exists: refusing to overwrite a key") from None
    except OSError as exc:
        raise CommandLineError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def cmd_keygen(args: argparse.Namespace) -> int:
    key = PrivateKey.generate({"ed25519": "EdDSA", "es256": "ES256"}[args.alg])
    out = Path(args.out)
    pub = out.with_name(f"{out.stem}.pub{out.suffix}") if out.suffix else Path(f"{out}.pub")
    private_jwk: dict[str, str] = key.to_jwk()
    public_jwk: dict[str, str] = key.public_key.to_jwk()
    if args.name:
        private_jwk["name"] = public_jwk["name"] = args.name
    # both files are new, created in the call that opens them (spec 11.1); the private one
    # is created 0600 in one step, never widened then narrowed
    _create(out, json.dumps(private_jwk, indent=2))
    try:
        _create(pub, json.dumps(public_jwk, indent=2))
    except CommandLineError:
        out.unlink()
        raise
    print(key.public_key.kid)
    return EXIT_OK


def _caveat(value: Any) -> model.Caveat:
    """A statement, or {"when": STATEMENT, "actions": [PATTERN, ...]} for a scoped caveat."""
    if isinstance(value, dict):
        if set(value) != {"when", "actions"} or not isinstance(value["actions"], list):
            raise CommandLineError(
                'a scoped caveat is {"when": STATEMENT, "actions": [ACTION, ...]}'
            )
        return model.Caveat(model.parse_statement(value["when"]), tuple(value["actions"]))
    return model.Caveat(model.parse_statement(value))


def _approval_requirements(args: argparse.Namespace) -> list[model.ApprovalRequirement]:
    """--require-approval STATEMENT (null: always), scoped by --approval-actions, --approver."""
    statements = args.require_approval or ()
    if not statements:
        if args.approval_actions or args.approver:
            raise CommandLineError("--approval-actions and --approver need --require-approval")
        return []
    actions = tuple(args.approval_actions or ())
    approver = public_key(args.approver)[0] if args.approver else None
    out = []
    for text in statements:
        value = json_arg(text, "--require-approval")
        when = None if value is None else model.parse_statement(value)
        out.append(model.ApprovalRequirement(when=when, actions=actions, approver=approver))
    return out


def _usage(args: argparse.Namespace) -> model.Usage | None:
    """spec 9.5: --rate-limit, --spend-limit, --novelty, scoped by --limit-actions and
    --on-exceed, paused for --limit-approver."""
    rates, spends = args.rate_limit or (), args.spend_limit or ()
    if not rates and not spends and args.novelty is None:
        if args.limit_actions or args.limit_approver or args.on_exceed != "deny":
            raise CommandLineError(
                "--limit-actions, --on-exceed and --limit-approver need a limit or --novelty"
            )
        return None
    approver = public_key(args.limit_approver)[0] if args.limit_approver else None
    if approver is not None and args.on_exceed != "approve" and args.novelty is None:
        raise CommandLineError("--limit-approver needs --on-exceed approve or --novelty")
    actions = tuple(args.limit_actions or ())
    pausing = args.on_exceed == "approve"
    limits = []
    for selector, text in [(None, r) for r in rates] + [(s, t) for s, t in spends]:
        count, slash, period = text.partition("/")
        if not slash or not count.isdigit() or len(count) > 16:
            raise CommandLineError(f"bad limit {text[:40]!r}: use N/PERIOD, e.g. 1000/1d")
        limits.append(
            model.UsageLimit(
                period=duration(period),
                max=int(count),
                selector=None if selector is None else model.parse_selector(selector),
                actions=actions,
                on_exceed="approve" if pausing else "deny",
                approver=approver if pausing else None,
            )
        )
    novelty = None
    if args.novelty is not None:
        novelty = model.Novelty(learn=args.novelty, approver=approver)
    return model.Usage(limits=tuple(limits), novelty=novelty)


def _link_options(args: argparse.Namespace, to_name: str | None) -> dict[str, Any]:
    caveats = [_caveat(json_arg(c, "--caveat")) for c in args.caveat or ()]
    return {
        "capabilities": [Capability(a, r) for a, r in args.cap],
        "caveats": caveats,
        "purpose": args.purpose,
        "now": parse_time(args.at),
        "require_approval": _approval_requirements(args),
        "usage": _usage(args),
        "descriptor": Descriptor(
            kind=args.kind,
            name=to_name,
            code=digests(args.code_digest),
            model=args.model,
            config=digests(args.config_digest),
        ),
    }


def cmd_issue(args: argparse.Namespace) -> int:
    key, _ = private_key(args.key)
    to, to_name = public_key(args.to)
    token = issuer.issue(
        key,
        to,
        ttl=duration(args.ttl),
        depth=args.depth,
        encoding=wire_format(args),
        **_link_options(args, to_name),
    )
    print(token.to_text())
    return EXIT_OK


def cmd_delegate(args: argparse.Namespace) -> int:
    token = read_token(args.token)
    wire_format(args, token)
    key, _ = private_key(args.key)
    to, to_name = public_key(args.to)
    token = issuer.delegate(
        token,
        key,
        to,
        ttl=duration(args.ttl) if args.ttl else None,
        depth=args.depth,
        **_link_options(args, to_name),
    )
    print(token.to_text())
    return EXIT_OK


def cmd_invoke(args: argparse.Namespace) -> int:
    token = read_token(args.token)
    wire_format(args, token)
    key, _ = private_key(args.key)
    attestations = [
        codec.decode_unverified(model.AttestationClaims, read_attachment_bytes(name))
        for name in args.attestation or ()
    ]
    approvals = [
        codec.decode_unverified(model.ApprovalClaims, read_attachment_bytes(name))
        for name in args.approval or ()
    ]
    presentation = issuer.invoke(
        token,
        key,
        audience=args.aud,
        action=args.action,
        resource=args.resource,
        args=request_args(args.args),
        attestations=attestations,
        approvals=approvals,
        now=parse_time(args.at),
        allow_expired=args.allow_expired,
    )
    print(presentation.to_text())
    return EXIT_OK


def cmd_attest(args: argparse.Namespace) -> int:
    key, _ = private_key(args.key)
    subject, _ = public_key(args.subject)
    attestation = issuer.attest(
        key,
        subject,
        code=digests(args.code_digest),
        model=args.model,
        config=digests(args.config_digest),
        ttl=duration(args.ttl),
        now=parse_time(args.at),
        encoding=wire_format(args),
    )
    print(codec.attachment_to_text(attestation.encoded))
    return EXIT_OK


_REQUEST_FIELDS = ("digest", "chain", "audience", "action", "resource", "args_cbor")


def _load_approval_request(name: str) -> dict[str, Any]:
    """The approval_request object: alone, or inside the whole ``verify --json`` output."""
    data = load_json_file(name, "a JSON object")
    if "approval_request" in data:
        data = data["approval_request"]
        if not isinstance(data, dict):
            raise CommandLineError(f"{name}: approval_request is not an object")
    elif "outcome" in data:
        raise CommandLineError(
            f"{name} is a verify result with outcome {data['outcome']!r} and no approval_request"
        )
    for key in _REQUEST_FIELDS:
        if not isinstance(data.get(key), str):
            raise CommandLineError(f"{name}: the approval request lacks the text field {key!r}")
    return data


def _hex32(value: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise CommandLineError(f"the approval request's {what} is not hex") from None
    if len(raw) != 32:
        raise CommandLineError(f"the approval request's {what} is not 32 bytes")
    return raw


def _checked_request(request: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """Recompute the digest from the request's own fields; never take it on trust (spec 9.2)."""
    claimed = _hex32(request["digest"], "digest")
    chain = _hex32(request["chain"], "chain")
    try:
        args = cbor.decode(
            codec.b64decode(request["args_cbor"]),
            max_depth=DEFAULT_LIMITS.max_cbor_depth,
            max_items=DEFAULT_LIMITS.max_cbor_items,
            max_string_bytes=DEFAULT_LIMITS.max_string_bytes,
        )
    except AgentchainError as exc:
        raise CommandLineError(f"args_cbor is not deterministic CBOR: {exc.message}") from None
    if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
        raise CommandLineError("args_cbor is not a map with text keys")
    checked: dict[str, Any] = {str(k): v for k, v in args.items()}
    actual = codec.request_digest(
        chain, request["audience"], request["action"], request["resource"], checked
    )
    if actual != claimed:
        raise CommandLineError(
            "the approval request's digest does not match its fields: it was altered, "
            "refusing to approve"
        )
    if "args" in request and request["args"] != codec.args_to_json(checked):
        raise CommandLineError(
            "the approval request's 'args' differ from its signed args_cbor: it was altered, "
            "refusing to approve"
        )
    return actual, checked


def cmd_approve(args: argparse.Namespace) -> int:
    key, _ = private_key(args.key)
    request = _load_approval_request(args.request)
    digest, request_args = _checked_request(request)
    wanted = request.get("approver")
    if isinstance(wanted, str) and wanted != key.public_key.kid:
        raise CommandLineError(
            f"this request asks for approval by {wanted}; --key is {key.public_key.kid}"
        )
    # spec 9.2 (R-9.2-14): only what the digest covers, recomputed above, and escaped; the
    # request's free summary is not covered, so it is never shown
    shown = json.dumps(codec.args_to_json(request_args), sort_keys=True, ensure_ascii=False)
    lines = [
        "You approve exactly this request (checked against its digest), once:",
        f"  action:    {safe(request['action'])}",
        f"  resource:  {safe(request['resource'])}",
        f"  audience:  {safe(request['audience'])}",
        f"  arguments: {safe(shown)}",
        f"  chain:     {safe(request['chain'])}",
    ]
    print("\n".join(lines), file=sys.stderr)
    approval = issuer.approve(
        key, digest, ttl=duration(args.ttl), now=parse_time(args.at), encoding=wire_format(args)
    )
    print(codec.attachment_to_text(approval.encoded))
    return EXIT_OK


def cmd_revoke_local(args: argparse.Namespace) -> int:
    """The operator's own block of one link by digest (this encoding only): no signature,
    so it never leaves this store; a principal's revocation is ``revoke`` (spec 8.5)."""
    token = read_token(args.token)
    index = len(token.links) - 1 if args.link is None else args.link
    if not 0 <= index < len(token.links):
        raise CommandLineError(f"--link {index}: the token has links 0..{len(token.links) - 1}")
    link = token.links[index]
    with open_store(args.store) as store:
        store.revoke(link.digest, until=link.claims.window.exp + _REVOCATION_GRACE)
    print(link.digest.hex())
    return EXIT_OK
