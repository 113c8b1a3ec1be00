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
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from agentchain import codec, issuer, policy
from agentchain.crypto import PrivateKey, PublicKey
from agentchain.errors import AgentchainError, UsageError
from agentchain.model import Capability, Descriptor
from agentchain.verifier import Request, TrustPolicy, Verifier

EXIT_OK, EXIT_DENY, EXIT_USAGE, EXIT_NEEDS_APPROVAL = 0, 1, 2, 3
_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class _UsageError(Exception):
    """A command-line mistake: exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


# -- input helpers ----------------------------------------------------------


def _read_input(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise _UsageError(f"cannot read {name}: {exc.strerror}") from None


def _load_json_file(name: str) -> dict[str, Any]:
    try:
        data = json.loads(_read_input(name))
    except json.JSONDecodeError as exc:
        raise _UsageError(f"{name} is not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise _UsageError(f"{name} is not a JWK object")
    return data


def _private_key(name: str) -> tuple[PrivateKey, str | None]:
    if name != "-":
        mode = os.stat(name).st_mode if os.path.exists(name) else 0
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise _UsageError(f"{name} is readable by others: chmod 600 {name}")
    jwk = _load_json_file(name)
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
    return codec.decode_presentation_unverified(_read_input(name))


# -- commands ---------------------------------------------------------------


def _cmd_keygen(args: argparse.Namespace) -> int:
    key = PrivateKey.generate({"ed25519": "EdDSA", "es256": "ES256"}[args.alg])
    out = Path(args.out)
    pub = out.with_name(f"{out.stem}.pub{out.suffix}") if out.suffix else Path(f"{out}.pub")
    private_jwk: dict[str, str] = key.to_jwk()
    public_jwk: dict[str, str] = key.public_key.to_jwk()
    if args.name:
        private_jwk["name"] = public_jwk["name"] = args.name
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
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


def _link_options(args: argparse.Namespace, to_name: str | None) -> dict[str, Any]:
    caveats = [_caveat(_json_arg(c, "--caveat")) for c in args.caveat or ()]
    return {
        "capabilities": [Capability(a, r) for a, r in args.cap],
        "caveats": caveats,
        "purpose": args.purpose,
        "now": _at(args.at),
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
        key, to, ttl=_duration(args.ttl), depth=args.depth, **_link_options(args, to_name)
    )
    print(token.to_text())
    return EXIT_OK


def _cmd_delegate(args: argparse.Namespace) -> int:
    token = _read_token(args.token)
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
    key, _ = _private_key(args.key)
    presentation = issuer.invoke(
        token,
        key,
        audience=args.aud,
        action=args.action,
        resource=args.resource,
        args=_request_args(args.args),
        now=_at(args.at),
    )
    print(presentation.to_text())
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace) -> int:
    anchors = tuple(_public_key(name)[0] for name in args.trust)
    trust = TrustPolicy(anchors=anchors, audience=args.aud)
    now = _at(args.at)
    clock = (lambda: float(now)) if now is not None else None
    verifier = Verifier(trust, clock=clock) if clock else Verifier(trust)
    request = Request(args.action, args.resource, _request_args(args.args))
    try:
        decision = verifier.verify(_read_input(args.presentation), request)
    except AgentchainError as exc:
        if args.json:
            reasons = [{"code": exc.code, "message": exc.message}]
            print(json.dumps({"outcome": "invalid", "reasons": reasons, "chain": []}))
        else:
            print(f"invalid: {exc.code}: {exc.message}")
        return EXIT_DENY
    if args.json:
        print(json.dumps(decision.to_json()))
    else:
        print(decision.outcome.value)
        for reason in decision.reasons:
            print(f"  {reason.code}: {reason.message}")
        for index, principal in enumerate(decision.chain.principals):
            d = principal.descriptor
            label = f" {d.kind} {d.name or ''}".rstrip() if d else " root"
            print(f"  {'  ' * index}{principal.kid}{label}")
    codes = {"allow": EXIT_OK, "deny": EXIT_DENY, "needs_approval": EXIT_NEEDS_APPROVAL}
    return codes[decision.outcome.value]


def _describe(presentation: codec.Presentation) -> dict[str, Any]:
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
                "depth": c.depth,
                "purpose": c.purpose,
                "iat": c.iat,
                "nbf": c.window.nbf,
                "exp": c.window.exp,
            }
        )
    out: dict[str, Any] = {"verified": False, "links": links}
    inv = presentation.invocation
    if inv is not None:
        out["invocation"] = {
            "audience": inv.claims.audience,
            "action": inv.claims.action,
            "resource": inv.claims.resource,
            "args": _jsonable(inv.claims.args),
            "iat": inv.claims.iat,
            "chain_matches": inv.claims.chain == presentation.chain_digest,
        }
    return out


def _jsonable(value: object) -> Any:
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cmd_inspect(args: argparse.Namespace) -> int:
    presentation = _read_token(args.file)
    described = _describe(presentation)
    if args.json:
        print(json.dumps(described, indent=2))
        return EXIT_OK
    print("UNVERIFIED: signatures and trust are not checked by inspect")
    for index, link in enumerate(described["links"]):
        pad = "  " * index
        who = f"{link['kind']} {link['name'] or ''}".rstrip()
        print(f"{pad}└─ {who} [{link['holder']}]")
        print(f"{pad}   window {_time(link['nbf'])} .. {_time(link['exp'])}, depth {link['depth']}")
        for action, resource in link["capabilities"]:
            print(f"{pad}   may {action} on {resource}")
        for caveat in link["caveats"]:
            print(f"{pad}   if {caveat}")
        for alg, value in link["code"].items():
            print(f"{pad}   code {alg}:{value}")
        if link["model"]:
            print(f"{pad}   model {link['model']}")
    inv = described.get("invocation")
    if inv:
        print(f"invocation: {inv['action']} on {inv['resource']} for {inv['audience']}")
        if not inv["chain_matches"]:
            print("  ! the invocation is bound to another chain")
    return EXIT_OK


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
    p.add_argument("--at", metavar="RFC3339", help="signing time (default: now)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="agentchain", description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser(
        "keygen",
        help="make a key pair",
        epilog="example: agentchain keygen --out alice.jwk --name mailto:alice@example.com",
    )
    p.add_argument("--out", required=True)
    p.add_argument("--alg", choices=("ed25519", "es256"), default="ed25519")
    p.add_argument("--name")
    p.set_defaults(func=_cmd_keygen)

    p = sub.add_parser("issue", help="sign a root link")
    _add_link_options(p, root=True)
    p.set_defaults(func=_cmd_issue)

    p = sub.add_parser("delegate", help="append a narrower link to a token")
    p.add_argument("--token", required=True, help="token file, or - for stdin")
    _add_link_options(p, root=False)
    p.set_defaults(func=_cmd_delegate)

    p = sub.add_parser("invoke", help="sign an invocation: make a presentation")
    p.add_argument("--token", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--aud", required=True)
    p.add_argument("--action", required=True)
    p.add_argument("--resource", required=True)
    p.add_argument("--args", metavar="JSON")
    p.add_argument("--at", metavar="RFC3339")
    p.set_defaults(func=_cmd_invoke)

    p = sub.add_parser("verify", help="decide on a presentation")
    p.add_argument("--presentation", required=True)
    p.add_argument("--trust", action="append", required=True, metavar="PUBKEY")
    p.add_argument("--aud", required=True)
    p.add_argument("--action", required=True)
    p.add_argument("--resource", required=True)
    p.add_argument("--args", metavar="JSON")
    p.add_argument("--at", metavar="RFC3339")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("inspect", help="show a token or presentation without verifying it")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_inspect)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        args = parser.parse_args(argv)
        result: int = args.func(args)
        return result
    except _UsageError as exc:
        print(f"error: usage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        if debug:
            raise
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except AgentchainError as exc:
        if debug:
            raise
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_DENY


if __name__ == "__main__":
    sys.exit(main())
