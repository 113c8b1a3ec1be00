"""The ``agentchain`` command (spec 11). The only code in the package that prints or exits.

Exit codes: 0 success or allow; 1 deny, or an invalid token or input; 2 usage
error; 3 needs approval. Errors are one line, ``error: CODE: message``; ``--debug``
adds the traceback and keeps the exit code. The commands live in :mod:`._sign`
(what signs or writes) and :mod:`._read` (what reads and judges); the input
helpers every command shares in :mod:`._io`.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from agentchain import __version__, bench, codec
from agentchain.cli import _read, _revocations, _sign
from agentchain.cli._io import (
    EXIT_DENY,
    EXIT_NEEDS_APPROVAL,
    EXIT_OK,
    EXIT_USAGE,
    CommandLineError,
    safe,
    stdin_readers,
)
from agentchain.errors import AgentchainError, KeyFileExposed, UsageError
from agentchain.vectors import cli as vectors_cli

__all__ = ["EXIT_DENY", "EXIT_NEEDS_APPROVAL", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CommandLineError(message)


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
    # spec 9.5: the behaviour factor
    p.add_argument(
        "--rate-limit",
        action="append",
        metavar="N/PERIOD",
        help="at most N requests per fixed window, e.g. 20/1h; repeatable",
    )
    p.add_argument(
        "--spend-limit",
        action="append",
        nargs=2,
        metavar=("SELECTOR", "MAX/PERIOD"),
        help="the sum of the argument SELECTOR picks at most MAX per window, e.g. .amount 1000/1d",
    )
    p.add_argument(
        "--limit-actions",
        action="append",
        metavar="ACTION",
        help="count only these action patterns against this link's limits; repeatable",
    )
    p.add_argument(
        "--on-exceed",
        choices=("deny", "approve"),
        default="deny",
        help="when a limit would be exceeded: deny (default), or pause for approval",
    )
    p.add_argument(
        "--novelty",
        type=int,
        metavar="N",
        help="after N allowed requests, an action or host never used before pauses for approval",
    )
    p.add_argument(
        "--limit-approver",
        metavar="PUBKEY",
        help="who approves past a limit or a novelty (public JWK file; default: the root signer)",
    )
    p.add_argument("--at", metavar="RFC3339", help="signing time (default: now)")
    _add_format(p)


_EPILOGS = {
    "keygen": "example:\n  agentchain keygen --out alice.jwk --name mailto:alice@example.com",
    "issue": (
        "example:\n  agentchain issue --key alice.jwk --to agent.pub.jwk --depth 1 --ttl 30m \\\n"
        "    --cap payments/create 'https://api.example/payments/*' \\\n"
        '    --caveat \'["<=", ".amount", 500]\' --require-approval \'[">", ".amount", 200]\' \\\n'
        "    --spend-limit .amount 1000/1d --limit-actions payments --on-exceed approve"
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
        "example:\n  agentchain revoke --key alice.jwk --token agent.token [--link 0] > r.txt\n"
        "  agentchain revoke --key agent.jwk --subject agent.pub.jwk --store verifier.sqlite\n"
        "who may: the issuer of the revoked link or of any link above it; for --subject,\n"
        "also the key itself. A revocation of a link covers its CBOR and JOSE twins."
    ),
    "revoke-local": (
        "example:\n  agentchain revoke-local --store verifier.sqlite --token agent.token --link 0\n"
        "the operator's own block, by digest, for this store and this encoding only"
    ),
    "revocations": (
        "example:\n  agentchain revocations export --store a.sqlite > revocations.txt\n"
        "  agentchain revocations import revocations.txt --store b.sqlite\n"
        "every line is verified again on import; a bad line imports nothing"
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

errors are one line on stderr, "error: CODE: message"; --debug adds the traceback
(the exit code stays). Every string a token, an argument or a file gave is shown escaped.
"""


#: help for the options that share a meaning across commands (an option's own help wins)
_OPTION_HELP = {
    "--out": "where the private JWK goes; the public one goes beside it as NAME.pub.jwk",
    "--alg": "signature algorithm (default ed25519)",
    "--name": "a name bound to the key (mailto:, spiffe://, https://, or a word)",
    "--token": "token file, or - for stdin",
    "--key": "your private JWK file (mode 0600)",
    "--aud": "the audience: the verifier or resource server, e.g. https://api.example",
    "--action": "the action, '/'-segmented, e.g. payments/create",
    "--resource": "the resource URI acted on",
    "--args": "the request's arguments as a JSON object",
    "--at": "the time to act at, RFC 3339 (default: now)",
    "--cap": "grant ACTION on RESOURCE (prefix patterns, * at the end); repeatable",
    "--depth": "how many more hops may delegate further (default: root 0, delegate one less)",
    "--code-digest": "declared digest of the delegatee's code, ALG:HEX; repeatable",
    "--config-digest": "declared digest of the delegatee's config, ALG:HEX; repeatable",
    "--model": "the model the delegatee runs, e.g. a name and version",
    "--kind": "what the delegatee is: human, agent or tool (default agent)",
    "--purpose": "why the authority is granted, in words (shown, never checked)",
    "--presentation": "presentation file (invoke's output), or - for stdin",
    "--trust": "trust anchor: a root signer's public JWK file; repeatable",
    "--json": "print JSON instead of text",
    "--ttl": "lifetime, e.g. 30s, 15m, 2h, 1d",
    "--store": "the verifier's store: a SQLite file, or redis://host:port/db",
}


def _fill_help(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _fill_help(child)
        elif action.help is None and action.option_strings:
            action.help = _OPTION_HELP.get(action.option_strings[-1])


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
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback with an error (same exit code)"
    )
    parser.add_argument("--version", action="version", version=f"agentchain {__version__}")
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
    p.set_defaults(func=_sign.cmd_keygen)

    p = command("issue", "sign a root link")
    _add_link_options(p, root=True)
    p.set_defaults(func=_sign.cmd_issue)

    p = command("delegate", "append a narrower link to a token")
    p.add_argument("--token", required=True, help="token file, or - for stdin")
    _add_link_options(p, root=False)
    p.set_defaults(func=_sign.cmd_delegate)

    p = command("invoke", "sign an invocation: make a presentation")
    p.add_argument("--token", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--aud", required=True)
    p.add_argument("--action", required=True)
    p.add_argument("--resource", required=True)
    p.add_argument("--args", metavar="JSON")
    carried = p.add_mutually_exclusive_group()
    carried.add_argument(
        "--args-by-digest",
        dest="args_by_digest",
        action="store_const",
        const=True,
        help="sign the arguments' digest instead of carrying them (spec 5.7): the resource "
        "server verifies against the arguments it receives (the default for arguments over "
        "1,024 bytes of CBOR)",
    )
    carried.add_argument(
        "--args-inline",
        dest="args_by_digest",
        action="store_const",
        const=False,
        help="carry the arguments in the invocation whatever their size",
    )
    p.add_argument(
        "--attestation", action="append", metavar="FILE", help="attach (text form); repeatable"
    )
    p.add_argument(
        "--approval", action="append", metavar="FILE", help="attach (text form); repeatable"
    )
    p.add_argument("--at", metavar="RFC3339")
    p.add_argument(
        "--allow-expired",
        action="store_true",
        help="sign even if a link of the token has expired (refused by default)",
    )
    _add_format(p)
    p.set_defaults(func=_sign.cmd_invoke)

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
        "--request-id",
        metavar="ID",
        help="your id for this request, written in the audit record (default: a random one)",
    )
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
    p.set_defaults(func=_read.cmd_verify)

    p = command("attest", "as an attester, vouch for what a principal runs")
    p.add_argument("--key", required=True, help="the attester's private JWK file")
    p.add_argument("--subject", required=True, metavar="PUBKEY", help="the attested key")
    p.add_argument("--code-digest", action="append", metavar="ALG:HEX")
    p.add_argument("--model", metavar="NAME")
    p.add_argument("--config-digest", action="append", metavar="ALG:HEX")
    p.add_argument("--ttl", default="10m")
    p.add_argument("--at", metavar="RFC3339")
    _add_format(p)
    p.set_defaults(func=_sign.cmd_attest)

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
    p.set_defaults(func=_sign.cmd_approve)

    p = command("revoke", "sign a revocation of a link or a key; with --store, apply it")
    p.add_argument("--key", required=True, help="the revoker's private JWK file (mode 0600)")
    p.add_argument("--token", metavar="FILE", help="revoke a link of this token; - stdin")
    p.add_argument("--link", type=int, metavar="N", help="0-based link index (default: the last)")
    p.add_argument("--subject", metavar="PUBKEY", help="revoke every link this key holds or issued")
    p.add_argument(
        "--before", metavar="RFC3339", help="only links issued (iat) strictly before this time"
    )
    p.add_argument(
        "--exp",
        metavar="RFC3339",
        help="when what it revokes is expired anyway (default: the link's exp; a key: never)",
    )
    p.add_argument("--at", metavar="RFC3339", help="signing time (default: now)")
    p.add_argument(
        "--store", metavar="PATH|URL", help="also apply it to this verifier store (checked)"
    )
    p.add_argument(
        "--format",
        choices=codec.ENCODINGS,
        help="wire encoding (default: the token's, else cbor); either revokes both twins",
    )
    p.set_defaults(func=_revocations.cmd_revoke)

    p = command("revoke-local", "block a link by digest in this verifier's store only")
    p.add_argument("--store", required=True, metavar="PATH|URL")
    p.add_argument("--token", required=True, metavar="FILE", help="token or presentation; - stdin")
    p.add_argument("--link", type=int, metavar="N", help="0-based link index (default: the last)")
    p.set_defaults(func=_sign.cmd_revoke_local)

    p = command("revocations", "move signed revocations between verifier stores")
    moves = p.add_subparsers(dest="move", required=True, parser_class=_Parser)
    q = moves.add_parser("import", help="verify every line of FILE, then record them all")
    q.add_argument("file", help="a revocation file (export's output), or - for stdin")
    q.add_argument("--store", required=True, metavar="PATH|URL")
    q.add_argument("--at", metavar="RFC3339", help="the recording time (default: now)")
    q.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    q.set_defaults(func=_revocations.cmd_import)
    q = moves.add_parser("export", help="print every signed revocation of the store")
    q.add_argument("--store", required=True, metavar="PATH|URL")
    q.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    q.set_defaults(func=_revocations.cmd_export)

    p = command("demo", "run the end-to-end scenario")
    p.add_argument("--dir", help="where keys, store and audit log go (default: a new temp dir)")
    p.add_argument("--json", action="store_true", help="print the decisions as data")
    p.set_defaults(func=_read.cmd_demo)

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
    p.set_defaults(func=_read.cmd_inspect)

    bench.register(sub)
    vectors_cli.register(sub)
    _fill_help(parser)
    return parser


def _fail(debug: bool, code: str, message: str, exit_code: int) -> int:
    """spec 11.2: one line on stderr, the table's exit code; --debug adds the traceback."""
    if debug:
        traceback.print_exc()
    print(f"error: {code}: {safe(message)}", file=sys.stderr)
    return exit_code


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(argv if argv is not None else sys.argv[1:])
    parser = build_parser()
    stdin_readers.clear()
    debug = "--debug" in arguments
    if not arguments:
        print(parser.format_usage().rstrip(), file=sys.stderr)
        print(
            "error: usage: no command given: see agentchain --help (or start with agentchain demo)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        args = parser.parse_args(arguments)
        result: int = args.func(args)
        return result
    except CommandLineError as exc:
        return _fail(debug, "usage", str(exc), EXIT_USAGE)
    except (UsageError, KeyFileExposed) as exc:
        return _fail(debug, exc.code, exc.message, EXIT_USAGE)
    except AgentchainError as exc:
        return _fail(debug, exc.code, exc.message, EXIT_DENY)
    except BrokenPipeError:
        # the reader left early (`agentchain demo | head`): nothing more to say, and nowhere
        # to say it; point stdout at /dev/null so the interpreter's final flush is quiet too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_USAGE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(debug, "usage", f"{where}{exc.strerror or exc}", EXIT_USAGE)
