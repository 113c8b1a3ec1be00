"""The ``agentchain`` command (spec 10). The only code in the package that prints or exits.

Exit codes: 0 success or allow; 1 deny, or an invalid token or input; 2 usage
error; 3 needs approval. Errors are one line, ``error: CODE: message``; ``--debug``
shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from rich.console import Console

from agentchain import bench, codec, demo, inspection, issuer, policy
from agentchain.crypto import PrivateKey, PublicKey
from agentchain.errors import AgentchainError, KeyFileExposed, StoreError, UsageError
from agentchain.limits import DEFAULT_LIMITS
from agentchain.model import Capability, Descriptor
from agentchain.sqlite_store import SQLiteStore
from agentchain.vectors import cli as vectors_cli
from agentchain.verifier import AuditSink, JsonLinesAuditLog, Request, TrustPolicy, Verifier
from agentchain.wire import cbor

if TYPE_CHECKING:
    from agentchain.redis_store import RedisStore

EXIT_OK, EXIT_DENY, EXIT_USAGE, EXIT_NEEDS_APPROVAL = 0, 1, 2, 3
_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: how long a revocation is remembered after the revoked link's own expiry
_REVOCATION_GRACE = 86_400


class _UsageError(Exception):
    """A command-line mistake: exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


# -- input helpers ----------------------------------------------------------


#: no input of the command line is anywhere near this; a bigger one is a mistake
_MAX_INPUT_BYTES = 1 << 20
#: '-' names standard input, which one command can read only once
_stdin_readers: list[str] = []


def _read_stdin(what: str) -> str:
    if _stdin_readers:
        raise _UsageError(f"{what} and {_stdin_readers[0]} cannot both come from stdin ('-')")
    _stdin_readers.append(what)
    data = sys.stdin.read(_MAX_INPUT_BYTES + 1)
    if len(data) > _MAX_INPUT_BYTES:
        raise _UsageError(f"stdin holds more than {_MAX_INPUT_BYTES} bytes")
    return data


def _decode_text(name: str, raw: bytes) -> str:
    if len(raw) > _MAX_INPUT_BYTES:
        raise _UsageError(f"{name} is larger than {_MAX_INPUT_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _UsageError(f"cannot read {name}: not UTF-8 text") from None


def _read_input(name: str, what: str = "an input") -> str:
    if name == "-":
        return _read_stdin(what)
    try:
        with Path(name).open("rb") as handle:
            raw = handle.read(_MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise _UsageError(f"cannot read {name}: {exc.strerror}") from None
    return _decode_text(name, raw)


def _read_private_key_file(name: str) -> str:
    """A private JWK file, refused unread when its group or others may read or write it.

    The mode is checked on the open descriptor, so the file checked is the file read.
    """
    if name == "-":
        return _read_stdin("the private key")
    try:
        fd = os.open(name, os.O_RDONLY)
    except OSError as exc:
        raise _UsageError(f"cannot read {name}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        # spec 11.1 (R-11.1-2): a secret others can read is no longer only its holder's
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileExposed(
                f"{name} has mode {mode:04o}, so others can read or change it: chmod 600 {name}"
            )
        raw = handle.read(_MAX_INPUT_BYTES + 1)
    return _decode_text(name, raw)


def _parse_json_object(name: str, text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _UsageError(f"{name} is not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise _UsageError(f"{name} is not {what}")
    return data


def _load_json_file(name: str, what: str = "a JWK object") -> dict[str, Any]:
    return _parse_json_object(name, _read_input(name, "a JSON file"), what)


def _private_key(name: str) -> tuple[PrivateKey, str | None]:
    jwk = _parse_json_object(name, _read_private_key_file(name), "a JWK object")
    label = jwk.pop("name", None)
    return PrivateKey.from_jwk(jwk), label if isinstance(label, str) else None


def _public_key(name: str) -> tuple[PublicKey, str | None]:
    jwk = _load_json_file(name)
    label = jwk.pop("name", None)
    return PublicKey.from_jwk(jwk), label if isinstance(label, str) else None


def _duration(text: str) -> int:
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise _UsageError(f"bad duration {text!r}: use e.g. 30s, 15m, 2h, 1d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _at(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _UsageError(f"bad --at {text!r}: use RFC 3339, e.g. 2026-01-01T12:00:00Z") from None
    if moment.tzinfo is None:
        raise _UsageError("--at needs a time zone, e.g. 2026-01-01T12:00:00Z")
    return int(moment.timestamp())


def _json_arg(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _UsageError(f"{what} is not JSON: {exc.msg}") from None


def _digests(values: Sequence[str] | None) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for value in values or ():
        alg, sep, hexdigest = value.partition(":")
        try:
            out[alg] = bytes.fromhex(hexdigest)
        except ValueError:
            raise _UsageError(f"bad digest {value!r}: use ALG:HEX, e.g. sha256:ab12...") from None
        if not sep:
            raise _UsageError(f"bad digest {value!r}: use ALG:HEX")
    return out


def _read_token(name: str) -> codec.Presentation:
    return codec.decode_presentation_unverified(_read_input(name, "the token"))


def _read_attachment_bytes(name: str) -> bytes:
    return codec.attachment_from_text(_read_input(name, "an attachment"))


def _format(args: argparse.Namespace, token: codec.Presentation | None = None) -> codec.Encoding:
    """--format: cbor by default; a token's encoding for delegate and invoke (one chain,
    one encoding), where asking for the other one is an error."""
    wanted: codec.Encoding | None = args.format
    if token is None:
        return wanted or "cbor"
    if wanted is not None and wanted != token.encoding:
        raise _UsageError(f"the token is {token.encoding}: one chain, one encoding")
    return token.encoding


# -- commands ---------------------------------------------------------------


def _cmd_keygen(args: argparse.Namespace) -> int:
    key = PrivateKey.generate({"ed25519": "EdDSA", "es256": "ES256"}[args.alg])
    out = Path(args.out)
    pub = out.with_name(f"{out.stem}.pub{out.suffix}") if out.suffix else Path(f"{out}.pub")
    private_jwk: dict[str, str] = key.to_jwk()
    public_jwk: dict[str, str] = key.public_key.to_jwk()
    if args.name:
        private_jwk["name"] = public_jwk["name"] = args.name
    try:
        # created 0600 in one step, never widened then narrowed; an existing key is kept
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise _UsageError(f"{out} exists: refusing to overwrite a key") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(private_jwk, handle, indent=2)
    pub.write_text(json.dumps(public_jwk, indent=2), encoding="utf-8")
    print(key.public_key.kid)
    return EXIT_OK


def _caveat(value: Any) -> codec.Caveat:
    """A statement, or {"when": STATEMENT, "actions": [PATTERN, ...]} for a scoped caveat."""
    if isinstance(value, dict):
        if set(value) != {"when", "actions"} or not isinstance(value["actions"], list):
            raise _UsageError('a scoped caveat is {"when": STATEMENT, "actions": [ACTION, ...]}')
        return codec.Caveat(policy.parse(value["when"]), tuple(value["actions"]))
    return codec.Caveat(policy.parse(value))


def _approval_requirements(args: argparse.Namespace) -> list[codec.ApprovalRequirement]:
    """--require-approval STATEMENT (null: always), scoped by --approval-actions, --approver."""
    statements = args.require_approval or ()
    if not statements:
        if args.approval_actions or args.approver:
            raise _UsageError("--approval-actions and --approver need --require-approval")
        return []
    actions = tuple(args.approval_actions or ())
    approver = _public_key(args.approver)[0] if args.approver else None
    out = []
    for text in statements:
        value = _json_arg(text, "--require-approval")
        when = None if value is None else policy.parse(value)
        out.append(codec.ApprovalRequirement(when=when, actions=actions, approver=approver))
    return out


def _link_options(args: argparse.Namespace, to_name: str | None) -> dict[str, Any]:
    caveats = [_caveat(_json_arg(c, "--caveat")) for c in args.caveat or ()]
    return {
        "capabilities": [Capability(a, r) for a, r in args.cap],
        "caveats": caveats,
        "purpose": args.purpose,
        "now": _at(args.at),
        "require_approval": _approval_requirements(args),
        "descriptor": Descriptor(
            kind=args.kind,
            name=to_name,
            code=_digests(args.code_digest),
            model=args.model,
            config=_digests(args.config_digest),
        ),
    }


def _cmd_issue(args: argparse.Namespace) -> int:
    key, _ = _private_key(args.key)
    to, to_name = _public_key(args.to)
    token = issuer.issue(
        key,
        to,
        ttl=_duration(args.ttl),
        depth=args.depth,
        encoding=_format(args),
        **_link_options(args, to_name),
    )
    print(token.to_text())
    return EXIT_OK


def _cmd_delegate(args: argparse.Namespace) -> int:
    token = _read_token(args.token)
    _format(args, token)
    key, _ = _private_key(args.key)
    to, to_name = _public_key(args.to)
    token = issuer.delegate(
        token,
        key,
        to,
        ttl=_duration(args.ttl) if args.ttl else None,
        depth=args.depth,
        **_link_options(args, to_name),
    )
    print(token.to_text())
    return EXIT_OK


def _request_args(text: str | None) -> dict[str, Any]:
    value = _json_arg(text, "--args") if text else {}
    if not isinstance(value, dict):
        raise _UsageError("--args must be a JSON object")
    return value


def _cmd_invoke(args: argparse.Namespace) -> int:
    token = _read_token(args.token)
    _format(args, token)
    key, _ = _private_key(args.key)
    attestations = [
        codec.decode_attestation_unverified(_read_attachment_bytes(name))
        for name in args.attestation or ()
    ]
    approvals = [
        codec.decode_approval_unverified(_read_attachment_bytes(name))
        for name in args.approval or ()
    ]
    presentation = issuer.invoke(
        token,
        key,
        audience=args.aud,
        action=args.action,
        resource=args.resource,
        args=_request_args(args.args),
        attestations=attestations,
        approvals=approvals,
        now=_at(args.at),
    )
    print(presentation.to_text())
    return EXIT_OK


def _cmd_attest(args: argparse.Namespace) -> int:
    key, _ = _private_key(args.key)
    subject, _ = _public_key(args.subject)
    attestation = issuer.attest(
        key,
        subject,
        code=_digests(args.code_digest),
        model=args.model,
        config=_digests(args.config_digest),
        ttl=_duration(args.ttl),
        now=_at(args.at),
        encoding=_format(args),
    )
    print(codec.attachment_to_text(attestation.encoded))
    return EXIT_OK


_REQUEST_FIELDS = ("digest", "chain", "audience", "action", "resource", "args_cbor")


def _load_approval_request(name: str) -> dict[str, Any]:
    """The approval_request object: alone, or inside the whole ``verify --json`` output."""
    data = _load_json_file(name, "a JSON object")
    if "approval_request" in data:
        data = data["approval_request"]
        if not isinstance(data, dict):
            raise _UsageError(f"{name}: approval_request is not an object")
    elif "outcome" in data:
        raise _UsageError(
            f"{name} is a verify result with outcome {data['outcome']!r} and no approval_request"
        )
    for key in _REQUEST_FIELDS:
        if not isinstance(data.get(key), str):
            raise _UsageError(f"{name}: the approval request lacks the text field {key!r}")
    return data


def _hex32(value: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise _UsageError(f"the approval request's {what} is not hex") from None
    if len(raw) != 32:
        raise _UsageError(f"the approval request's {what} is not 32 bytes")
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
        raise _UsageError(f"args_cbor is not deterministic CBOR: {exc.message}") from None
    if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
        raise _UsageError("args_cbor is not a map with text keys")
    checked: dict[str, Any] = {str(k): v for k, v in args.items()}
    actual = codec.request_digest(
        chain, request["audience"], request["action"], request["resource"], checked
    )
    if actual != claimed:
        raise _UsageError(
            "the approval request's digest does not match its fields: it was altered, "
            "refusing to approve"
        )
    if "args" in request and request["args"] != codec.args_to_json(checked):
        raise _UsageError(
            "the approval request's 'args' differ from its signed args_cbor: it was altered, "
            "refusing to approve"
        )
    return actual, checked


def _cmd_approve(args: argparse.Namespace) -> int:
    key, _ = _private_key(args.key)
    request = _load_approval_request(args.request)
    digest, request_args = _checked_request(request)
    wanted = request.get("approver")
    if isinstance(wanted, str) and wanted != key.public_key.kid:
        raise _UsageError(
            f"this request asks for approval by {wanted}; --key is {key.public_key.kid}"
        )
    shown = json.dumps(codec.args_to_json(request_args), sort_keys=True, ensure_ascii=False)
    lines = [
        "You approve exactly this request (checked against its digest), once:",
        f"  action:    {request['action']}",
        f"  resource:  {request['resource']}",
        f"  audience:  {request['audience']}",
        f"  arguments: {shown}",
        f"  chain:     {request['chain']}",
    ]
    summary = request.get("summary")
    if isinstance(summary, str) and summary:
        lines.append(f"The verifier describes it as (names unchecked): {summary}")
    print("\n".join(lines), file=sys.stderr)
    approval = issuer.approve(
        key, digest, ttl=_duration(args.ttl), now=_at(args.at), encoding=_format(args)
    )
    print(codec.attachment_to_text(approval.encoded))
    return EXIT_OK


def _open_store(location: str) -> SQLiteStore | RedisStore:
    """--store: a SQLite file, or redis://host:port/db for verifiers sharing one Redis."""
    if not location.startswith(("redis://", "rediss://", "unix://")):
        return SQLiteStore(location)
    try:
        from agentchain.redis_store import RedisStore  # noqa: PLC0415 -- optional extra
    except ImportError as exc:
        raise _UsageError(f"--store {location}: pip install 'agentchain[redis]' ({exc})") from exc
    return RedisStore.from_url(location)


def _cmd_revoke(args: argparse.Namespace) -> int:
    token = _read_token(args.token)
    index = len(token.links) - 1 if args.link is None else args.link
    if not 0 <= index < len(token.links):
        raise _UsageError(f"--link {index}: the token has links 0..{len(token.links) - 1}")
    link = token.links[index]
    with _open_store(args.store) as store:
        store.revoke(link.digest, until=link.claims.window.exp + _REVOCATION_GRACE)
    print(link.digest.hex())
    return EXIT_OK


def _print_human(decision_json: dict[str, Any], principals: list[tuple[str, str]]) -> None:
    print(decision_json["outcome"])
    for reason in decision_json["reasons"]:
        print(f"  {reason['code']}: {reason['message']}")
    for index, (kid, label) in enumerate(principals):
        print(f"  {'  ' * index}{kid}{label}")


def _cmd_verify(args: argparse.Namespace) -> int:
    anchors = tuple(_public_key(name)[0] for name in args.trust)
    attesters = tuple(_public_key(name)[0] for name in args.attester or ())
    trust = TrustPolicy(
        anchors=anchors,
        audience=args.aud,
        attesters=attesters,
        attestation_required=tuple(args.require_attestation or ()),
    )
    now = _at(args.at)
    clock: Callable[[], float] = (lambda: float(now)) if now is not None else time.time
    audit: AuditSink | None = JsonLinesAuditLog(args.audit_log) if args.audit_log else None
    request = Request(args.action, args.resource, _request_args(args.args))
    text = _read_input(args.presentation, "the presentation")
    store = _open_store(args.store) if args.store else None
    try:
        verifier = Verifier(trust, store=store, clock=clock, audit=audit)
        try:
            decision = verifier.verify(text, request)
        except (StoreError, UsageError):
            raise  # not a verdict on the presentation: one-line error, exit 1 or 2
        except AgentchainError as exc:
            if args.json:
                reasons = [{"code": exc.code, "message": exc.message}]
                print(json.dumps({"outcome": "invalid", "reasons": reasons, "chain": []}))
            else:
                print(f"invalid: {exc.code}: {exc.message}")
            return EXIT_DENY
    finally:
        if store is not None:
            store.close()
    data = decision.to_json()
    data["encoding"] = decision.chain.links[0].encoding
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
                (principal.kid, f" {d.kind} {d.name or ''}".rstrip() if d else " root")
            )
        _print_human(data, principals)
        print(f"encoding: {data['encoding']}")
        if pending is not None:
            where = args.request_out or "request.json"
            print(f"approval needed from {pending.approver.kid}:")
            print(f"  {pending.summary}")
            if not args.request_out:
                print("  the request (save it as request.json, or use --request-out FILE):")
                print(f"  {json.dumps(pending.to_json())}")
            print(f"  the approver runs: agentchain approve --key APPROVER.jwk --request {where}")
            print("  then invoke again with --approval APPROVAL_FILE")
    codes = {"allow": EXIT_OK, "deny": EXIT_DENY, "needs_approval": EXIT_NEEDS_APPROVAL}
    return codes[decision.outcome.value]


def _describe(
    presentation: codec.Presentation, found: Sequence[inspection.Finding] = ()
) -> dict[str, Any]:
    links = []
    for link in presentation.links:
        c = link.claims
        d = c.descriptor
        links.append(
            {
                "digest": link.digest.hex(),
                "issuer": codec.b64encode(c.issuer),
                "holder": c.holder.kid,
                "alg": link.alg,
                "kind": d.kind,
                "name": d.name,
                "code": {k: v.hex() for k, v in d.code.items()},
                "model": d.model,
                "config": {k: v.hex() for k, v in d.config.items()},
                "capabilities": [[cap.action, cap.resource] for cap in c.capabilities],
                "caveats": [
                    policy.to_text(cav.statement)
                    + (f" (for {', '.join(cav.actions)})" if cav.actions else "")
                    for cav in c.caveats
                ],
                "approvals": [
                    {
                        "when": policy.to_text(req.when) if req.when is not None else None,
                        "actions": list(req.actions),
                        "approver": req.approver.kid if req.approver is not None else None,
                    }
                    for req in c.approvals
                ],
                "depth": c.depth,
                "purpose": c.purpose,
                "iat": c.iat,
                "nbf": c.window.nbf,
                "exp": c.window.exp,
                "window": [codec.rfc3339(c.window.nbf), codec.rfc3339(c.window.exp)],
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


def _cmd_inspect(args: argparse.Namespace) -> int:
    presentation = _read_token(args.file)
    anchors = [_public_key(name) for name in args.trust or ()]
    at = _at(args.at)
    now = at if at is not None else int(time.time())
    found = inspection.findings(presentation, now=now, anchors=[key for key, _ in anchors])
    described = _describe(presentation, found)
    if args.json:
        print(json.dumps(described, indent=2))
        return EXIT_OK
    names = {key.thumbprint: label for key, label in anchors if label}
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    console.print(
        "[bold]UNVERIFIED[/]: decoded and checked without a trust policy; not a decision "
        "(use verify)"
    )
    console.print(f"encoding: {presentation.encoding}")
    root_checked = any(key.thumbprint == presentation.links[0].claims.issuer for key, _ in anchors)
    console.print(inspection.tree(presentation, found, names=names, root_checked=root_checked))
    for line in inspection.invocation_lines(presentation, found):
        console.print(line)
    when = codec.rfc3339(now)
    if found:
        console.print(f"[bold red]{len(found)} finding(s)[/] at {when}: verify would refuse this")
    else:
        console.print(f"no finding at {when} (trust, revocation and the request are verify's)")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    directory = Path(args.dir or tempfile.mkdtemp(prefix="agentchain-demo-"))
    return demo.main(directory, as_json=args.json)


# -- parser -----------------------------------------------------------------


def _add_link_options(p: argparse.ArgumentParser, *, root: bool) -> None:
    p.add_argument("--key", required=True, help="your private JWK file")
    p.add_argument("--to", required=True, help="the delegatee's public JWK file")
    p.add_argument("--cap", nargs=2, action="append", required=True, metavar=("ACTION", "RESOURCE"))
    p.add_argument("--ttl", default="15m" if root else None, help="lifetime, e.g. 15m")
    p.add_argument("--depth", type=int, default=0 if root else None)
    p.add_argument("--caveat", action="append", metavar="JSON", help='e.g. ["<=", ".amount", 500]')
    p.add_argument("--code-digest", action="append", metavar="ALG:HEX")
    p.add_argument("--config-digest", action="append", metavar="ALG:HEX")
    p.add_argument("--model", metavar="NAME")
    p.add_argument("--kind", choices=("human", "agent", "tool"), default="agent")
    p.add_argument("--purpose", metavar="TEXT")
    p.add_argument(
        "--require-approval",
        action="append",
        metavar="POLICY_JSON",
        help='requests need a human approval when this holds, e.g. [">", ".amount", 200] '
        "(null: always); repeatable",
    )
    p.add_argument(
        "--approval-actions",
        action="append",
        metavar="ACTION",
        help="limit --require-approval to these action patterns; repeatable",
    )
    p.add_argument(
        "--approver",
        metavar="PUBKEY",
        help="who approves (public JWK file; default: the chain's root signer)",
    )
    p.add_argument("--at", metavar="RFC3339", help="signing time (default: now)")
    _add_format(p)


_EPILOGS = {
    "keygen": "example:\n  agentchain keygen --out alice.jwk --name mailto:alice@example.com",
    "issue": (
        "example:\n  agentchain issue --key alice.jwk --to agent.pub.jwk --depth 1 --ttl 30m \\\n"
        "    --cap payments/create 'https://api.example/payments/*' \\\n"
        '    --caveat \'["<=", ".amount", 500]\' --require-approval \'[">", ".amount", 200]\''
        " > agent.token"
    ),
    "delegate": (
        "example:\n  agentchain delegate --token agent.token --key agent.jwk --to sub.pub.jwk \\\n"
        "    --cap flights/search 'https://api.example/flights/*' --ttl 5m > sub.token"
    ),
    "invoke": (
        "example:\n  agentchain invoke --token agent.token --key agent.jwk \\\n"
        "    --aud https://api.example --action payments/create \\\n"
        "    --resource https://api.example/payments/new --args '{\"amount\": 450}' \\\n"
        "    [--approval approval.txt] [--attestation attestation.txt] > presentation.txt"
    ),
    "verify": (
        "example:\n  agentchain verify --presentation presentation.txt --trust alice.pub.jwk \\\n"
        "    --aud https://api.example --action payments/create \\\n"
        "    --resource https://api.example/payments/new --args '{\"amount\": 450}' \\\n"
        "    --store verifier.sqlite --audit-log audit.jsonl --json\n"
        "exit 0 allow, 1 deny or invalid, 2 usage error, 3 needs approval"
    ),
    "attest": (
        "example:\n  agentchain attest --key builder.jwk --subject sub.pub.jwk \\\n"
        "    --code-digest sha256:$(sha256sum tool.py | cut -d' ' -f1) > attestation.txt"
    ),
    "approve": (
        "example:\n  agentchain verify ... --json > request.json   # exit 3: needs approval\n"
        "  agentchain approve --key alice.jwk --request request.json > approval.txt"
    ),
    "revoke": (
        "example:\n  agentchain revoke --store verifier.sqlite --token agent.token [--link 0]"
    ),
    "inspect": (
        "example:\n  agentchain inspect agent.token --trust alice.pub.jwk\n"
        "  agentchain inspect --json --at 2030-01-01T12:00:00Z presentation.txt\n"
        "it decodes and flags what verify would refuse (exit 0 either way); it never decides"
    ),
    "demo": "example:\n  agentchain demo --dir ./demo-run",
}


_DESCRIPTION = (
    "Holder-bound delegation chains for AI agents: a human delegates a narrow slice of\n"
    "authority to an agent, which delegates a narrower slice to a sub-agent; a verifier\n"
    "decides allow, deny or needs_approval. Start with: agentchain demo"
)
_TOP_EPILOG = """\
examples:
  agentchain demo                  # the whole story, in a temporary directory
  agentchain keygen --out alice.jwk --name alice && agentchain keygen --out agent.jwk
  agentchain issue --key alice.jwk --to agent.pub.jwk \\
    --cap payments/create 'https://api.example/payments/*' > agent.token
  agentchain inspect agent.token

keys, tokens and other inputs: a file name, or - for standard input (one per command);
private key files must be mode 0600 (keygen writes them so).

exit codes:
  0  success; for verify, the decision is allow
  1  verify denied, or an input (token, presentation, key) is invalid
  2  usage error: a bad command line, an unreadable file, a key file others can read
  3  verify decided needs_approval

errors are one line on stderr, "error: CODE: message"; --debug shows the traceback.
"""


def _add_format(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=codec.ENCODINGS,
        help="wire encoding: cbor (default) or jose; a token keeps its own",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="agentchain",
        description=_DESCRIPTION,
        epilog=_TOP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=_EPILOGS[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        # --debug is read by main() wherever it stands; accept it after the command too
        p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
        return p

    p = command("keygen", "make a key pair")
    p.add_argument("--out", required=True)
    p.add_argument("--alg", choices=("ed25519", "es256"), default="ed25519")
    p.add_argument("--name")
    p.set_defaults(func=_cmd_keygen)

    p = command("issue", "sign a root link")
    _add_link_options(p, root=True)
    p.set_defaults(func=_cmd_issue)

    p = command("delegate", "append a narrower link to a token")
    p.add_argument("--token", required=True, help="token file, or - for stdin")
    _add_link_options(p, root=False)
    p.set_defaults(func=_cmd_delegate)

    p = command("invoke", "sign an invocation: make a presentation")
    p.add_argument("--token", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--aud", required=True)
    p.add_argument("--action", required=True)
    p.add_argument("--resource", required=True)
    p.add_argument("--args", metavar="JSON")
    p.add_argument(
        "--attestation", action="append", metavar="FILE", help="attach (text form); repeatable"
    )
    p.add_argument(
        "--approval", action="append", metavar="FILE", help="attach (text form); repeatable"
    )
    p.add_argument("--at", metavar="RFC3339")
    _add_format(p)
    p.set_defaults(func=_cmd_invoke)

    p = command("verify", "decide on a presentation")
    p.add_argument("--presentation", required=True)
    p.add_argument("--trust", action="append", required=True, metavar="PUBKEY")
    p.add_argument("--aud", required=True)
    p.add_argument("--action", required=True)
    p.add_argument("--resource", required=True)
    p.add_argument("--args", metavar="JSON")
    p.add_argument("--at", metavar="RFC3339")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--attester", action="append", metavar="PUBKEY", help="trusted attester; repeatable"
    )
    p.add_argument(
        "--require-attestation",
        action="append",
        metavar="ACTION_PATTERN",
        help="these actions need an attestation of the holder; repeatable",
    )
    p.add_argument(
        "--store",
        metavar="PATH|URL",
        help="revocations and used nonces: a SQLite file, or redis://host:port/db for a fleet "
        "(default: in memory, forgotten)",
    )
    p.add_argument("--audit-log", metavar="PATH", help="append one JSON line per verification")
    p.add_argument(
        "--request-out",
        metavar="FILE",
        help="on needs_approval, write the approval request JSON here (for approve)",
    )
    p.set_defaults(func=_cmd_verify)

    p = command("attest", "as an attester, vouch for what a principal runs")
    p.add_argument("--key", required=True, help="the attester's private JWK file")
    p.add_argument("--subject", required=True, metavar="PUBKEY", help="the attested key")
    p.add_argument("--code-digest", action="append", metavar="ALG:HEX")
    p.add_argument("--model", metavar="NAME")
    p.add_argument("--config-digest", action="append", metavar="ALG:HEX")
    p.add_argument("--ttl", default="10m")
    p.add_argument("--at", metavar="RFC3339")
    _add_format(p)
    p.set_defaults(func=_cmd_attest)

    p = command("approve", "as the approver, consent to one request a verifier asked about")
    p.add_argument("--key", required=True, help="the approver's private JWK file")
    p.add_argument(
        "--request",
        required=True,
        metavar="FILE",
        help="verify --json output, or its approval_request; - for stdin",
    )
    p.add_argument("--ttl", default="5m")
    p.add_argument("--at", metavar="RFC3339")
    _add_format(p)
    p.set_defaults(func=_cmd_approve)

    p = command("revoke", "revoke a link in a verifier's store (SQLite file or redis:// URL)")
    p.add_argument("--store", required=True, metavar="PATH|URL")
    p.add_argument("--token", required=True, metavar="FILE", help="token or presentation; - stdin")
    p.add_argument("--link", type=int, metavar="N", help="0-based link index (default: the last)")
    p.set_defaults(func=_cmd_revoke)

    p = command("demo", "run the end-to-end scenario")
    p.add_argument("--dir", help="where keys, store and audit log go (default: a new temp dir)")
    p.add_argument("--json", action="store_true", help="print the decisions as data")
    p.set_defaults(func=_cmd_demo)

    p = command("inspect", "draw a token or presentation and flag what would fail verification")
    p.add_argument("file", help="token or presentation file, or - for stdin")
    p.add_argument("--json", action="store_true")
    p.add_argument("--at", metavar="RFC3339", help="judge the windows at this time (default: now)")
    p.add_argument(
        "--trust",
        action="append",
        metavar="PUBKEY",
        help="check the root signature against this anchor (public JWK file); repeatable",
    )
    p.set_defaults(func=_cmd_inspect)

    bench.register(sub)
    vectors_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    _stdin_readers.clear()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        args = parser.parse_args(argv)
        result: int = args.func(args)
        return result
    except _UsageError as exc:
        print(f"error: usage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (UsageError, KeyFileExposed) as exc:
        if debug:
            raise
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except AgentchainError as exc:
        if debug:
            raise
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_DENY
    except BrokenPipeError:
        # the reader left early (`agentchain demo | head`): nothing more to say, and nowhere
        # to say it; point stdout at /dev/null so the interpreter's final flush is quiet too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_USAGE
    except OSError as exc:
        if debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: usage: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
