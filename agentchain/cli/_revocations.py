"""Signed revocations on the command line (spec 8.5, 11.1): revoke, revocations import/export.

A revocation file is text: one revocation's text form per line (a JWS compact, or
``ac1c.`` and base64url for COSE), blank lines and lines starting with ``#``
ignored. Any verifier can load it; none trusts it: every line is verified again.
"""

from __future__ import annotations

import argparse
import time

from agentchain import codec, issuer
from agentchain.cli._io import (
    EXIT_OK,
    CommandLineError,
    open_store,
    parse_time,
    private_key,
    public_key,
    read_input,
    read_token,
)
from agentchain.errors import AgentchainError
from agentchain.verifier import VerifiedRevocation, check_entitled, verify_revocation

#: the first line of every exported file: names the format for people and tools
FILE_HEADER = "# agentchain revocations v1: one signed revocation per line"


def _pick_link(token: codec.Presentation, index: int | None) -> codec.Link:
    index = len(token.links) - 1 if index is None else index
    if not 0 <= index < len(token.links):
        raise CommandLineError(f"--link {index}: the token has links 0..{len(token.links) - 1}")
    return token.links[index]


def cmd_revoke(args: argparse.Namespace) -> int:
    """Sign a revocation of a link (--token) or a key (--subject); with --store, apply it."""
    if (args.token is None) == (args.subject is None):
        raise CommandLineError("revoke a link (--token [--link N]) or a key (--subject PUB)")
    if args.link is not None and args.token is None:
        raise CommandLineError("--link needs --token")
    key, _ = private_key(args.key)
    token = read_token(args.token) if args.token is not None else None
    subject = public_key(args.subject)[0] if args.subject is not None else None
    made = issuer.revoke(
        key,
        link=_pick_link(token, args.link) if token is not None else None,
        subject=subject,
        before=_time(args.before, "--before"),
        exp=_time(args.exp, "--exp"),
        now=parse_time(args.at),
        encoding=args.format or (token.encoding if token is not None else "cbor"),
    )
    verified = verify_revocation(made)
    if args.store is not None:
        if token is not None:
            # the chain is at hand: refuse a revocation its signer may not make
            check_entitled(verified, [link.claims for link in token.links])
        with open_store(args.store) as store:
            store.record_revocation(verified.record(_now(args.at)))
    print(verified.text())
    return EXIT_OK


def _time(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_time(text)
    except CommandLineError as exc:
        raise CommandLineError(str(exc).replace("--at", option)) from None


def _now(at: str | None) -> int:
    moment = parse_time(at)
    return int(time.time()) if moment is None else moment


def read_revocation_file(name: str) -> list[VerifiedRevocation]:
    """Every revocation of the file, each verified; the first bad line stops everything."""
    verified = []
    for number, line in enumerate(read_input(name, "the revocation file").splitlines(), 1):
        text = line.strip(codec.ASCII_WHITESPACE)
        if not text or text.startswith("#"):
            continue
        try:
            verified.append(verify_revocation(text))
        except AgentchainError as exc:
            raise AgentchainError(exc.code, f"line {number}: {exc.message}") from exc
    return verified


def cmd_import(args: argparse.Namespace) -> int:
    """Verify every line first, then record them all: a bad file records nothing."""
    verified = read_revocation_file(args.file)
    now = _now(args.at)
    with open_store(args.store) as store:
        for revocation in verified:
            store.record_revocation(revocation.record(now))
    print(f"imported {len(verified)} revocation(s)")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    with open_store(args.store) as store:
        records = store.export_revocations()
    print(FILE_HEADER)
    for record in records:
        # the bytes are the signed object exactly as it was verified and recorded
        print(codec.attachment_to_text(record.revocation))
    return EXIT_OK
