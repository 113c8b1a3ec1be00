"""Reading what the command line names: files, standard input, keys, JSON, times.

Every input is bounded before it is parsed (size, JSON nesting, number length), and
every mistake is a :class:`CommandLineError` (exit 2) or a typed
:class:`~agentchain.errors.AgentchainError`, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import stat
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from agentchain import _display, codec
from agentchain.crypto import PrivateKey, PublicKey
from agentchain.errors import KeyFileExposed
from agentchain.store import SQLiteStore

EXIT_OK, EXIT_DENY, EXIT_USAGE, EXIT_NEEDS_APPROVAL = 0, 1, 2, 3
_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: the file names keygen gives public keys (X.pub.jwk, X.pub)
_PUBLIC_NAME = re.compile(r"\.pub(\.[^./]*)?$")
#: deeper JSON than this is a mistake (arguments and statements are far shallower)
MAX_JSON_DEPTH = 64
#: a CBOR integer has at most 20 digits; a longer number is a mistake, not a value
_MAX_NUMBER_DIGITS = 40
#: the latest time a token carries (2^53 - 1 seconds, spec 5.5), so also the longest duration
_MAX_SECONDS = 2**53 - 1


if TYPE_CHECKING:
    from agentchain.redis_store import RedisStore


class CommandLineError(Exception):
    """A command-line mistake: exit 2."""


#: no input of the command line is anywhere near this; a bigger one is a mistake
_MAX_INPUT_BYTES = 1 << 20
#: '-' names standard input, which one command can read only once
stdin_readers: list[str] = []


def _read_stdin(what: str) -> str:
    if stdin_readers:
        raise CommandLineError(f"{what} and {stdin_readers[0]} cannot both come from stdin ('-')")
    stdin_readers.append(what)
    data = sys.stdin.read(_MAX_INPUT_BYTES + 1)
    if len(data) > _MAX_INPUT_BYTES:
        raise CommandLineError(f"stdin holds more than {_MAX_INPUT_BYTES} bytes")
    return data


def _decode_text(name: str, raw: bytes) -> str:
    if len(raw) > _MAX_INPUT_BYTES:
        raise CommandLineError(f"{name} is larger than {_MAX_INPUT_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandLineError(f"cannot read {name}: not UTF-8 text") from None


def read_input(name: str, what: str = "an input") -> str:
    if name == "-":
        return _read_stdin(what)
    try:
        with Path(name).open("rb") as handle:
            raw = handle.read(_MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise CommandLineError(f"cannot read {name}: {exc.strerror}") from None
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
        raise CommandLineError(f"cannot read {name}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        # spec 11.1 (R-11.1-2): a secret others can read is no longer only its holder's
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            if _PUBLIC_NAME.search(name):
                # still unread: the name keygen gives a public key says enough
                raise CommandLineError(_public_not_private(name))
            raise KeyFileExposed(
                f"{name} has mode {mode:04o}, so others can read or change it: chmod 600 {name}"
            )
        raw = handle.read(_MAX_INPUT_BYTES + 1)
    return _decode_text(name, raw)


def _public_not_private(name: str) -> str:
    return (
        f"{name} is a public key; this option needs a private key file "
        "(keygen --out X.jwk writes the private X.jwk and the public X.pub.jwk)"
    )


def _json_number(text: str) -> int | float:
    if len(text.lstrip("-")) > _MAX_NUMBER_DIGITS:
        raise CommandLineError(f"a number of {len(text)} characters: at most {_MAX_NUMBER_DIGITS}")
    return int(text) if text.lstrip("-").isdigit() else float(text)


def _json_constant(text: str) -> NoReturn:
    raise CommandLineError(f"{text} is not a JSON value")


def _json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text``, strings skipped: checked before
    the parser recurses (a 3,000-deep array would exhaust its stack)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_json(text: str, what: str) -> Any:
    """JSON from the command line or a file, bounded before and while it is parsed:
    nesting at most MAX_JSON_DEPTH, numbers at most _MAX_NUMBER_DIGITS long, no NaN or
    Infinity. Anything else is a usage error, never a traceback."""
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise CommandLineError(f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(
            text,
            parse_int=_json_number,
            parse_float=_json_number,
            parse_constant=_json_constant,
        )
    except json.JSONDecodeError as exc:
        raise CommandLineError(f"{what} is not JSON: {exc.msg}") from None
    except CommandLineError as exc:
        raise CommandLineError(f"{what}: {exc}") from None


def _parse_json_object(name: str, text: str, what: str) -> dict[str, Any]:
    data = parse_json(text, name)
    if not isinstance(data, dict):
        raise CommandLineError(f"{name} is not {what}")
    return data


def load_json_file(name: str, what: str = "a JWK object") -> dict[str, Any]:
    return _parse_json_object(name, read_input(name, "a JSON file"), what)


def private_key(name: str) -> tuple[PrivateKey, str | None]:
    jwk = _parse_json_object(name, _read_private_key_file(name), "a JWK object")
    if "d" not in jwk:
        raise CommandLineError(_public_not_private(name))
    label = jwk.pop("name", None)
    return PrivateKey.from_jwk(jwk), label if isinstance(label, str) else None


def public_key(name: str) -> tuple[PublicKey, str | None]:
    jwk = load_json_file(name)
    label = jwk.pop("name", None)
    return PublicKey.from_jwk(jwk), label if isinstance(label, str) else None


def duration(text: str) -> int:
    match = _DURATION.fullmatch(text.strip())
    if not match or len(match.group(1)) > _MAX_NUMBER_DIGITS:
        raise CommandLineError(f"bad duration {text[:40]!r}: use e.g. 30s, 15m, 2h, 1d")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > _MAX_SECONDS:
        # no token time goes beyond 2^53 - 1 (spec 5.5); a longer lifetime is a mistake
        raise CommandLineError(f"duration {text[:40]!r} is longer than any token can carry")
    return seconds


def parse_time(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandLineError(
            f"bad --at {text!r}: use RFC 3339, e.g. 2026-01-01T12:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise CommandLineError("--at needs a time zone, e.g. 2026-01-01T12:00:00Z")
    return int(moment.timestamp())


def request_args(text: str | None) -> dict[str, Any]:
    value = json_arg(text, "--args") if text else {}
    if not isinstance(value, dict):
        raise CommandLineError("--args must be a JSON object")
    return value


def json_arg(text: str, what: str) -> Any:
    return parse_json(text, what)


def digests(values: Sequence[str] | None) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for value in values or ():
        alg, sep, hexdigest = value.partition(":")
        try:
            out[alg] = bytes.fromhex(hexdigest)
        except ValueError:
            raise CommandLineError(
                f"bad digest {value!r}: use ALG:HEX, e.g. sha256:ab12..."
            ) from None
        if not sep:
            raise CommandLineError(f"bad digest {value!r}: use ALG:HEX")
    return out


def read_token(name: str) -> codec.Presentation:
    return codec.decode_presentation_unverified(read_input(name, "the token"))


def read_attachment_bytes(name: str) -> bytes:
    return codec.attachment_from_text(read_input(name, "an attachment"))


def wire_format(
    args: argparse.Namespace, token: codec.Presentation | None = None
) -> codec.Encoding:
    """--format: cbor by default; a token's encoding for delegate and invoke (one chain,
    one encoding), where asking for the other one is an error."""
    wanted: codec.Encoding | None = args.format
    if token is None:
        return wanted or "cbor"
    if wanted is not None and wanted != token.encoding:
        raise CommandLineError(f"the token is {token.encoding}: one chain, one encoding")
    return token.encoding


def safe(text: object) -> str:
    """Any string of a token, an argument or a file, for plain (not rich) human output."""
    return _display.safe(str(text), markup=False)


def open_store(location: str) -> SQLiteStore | RedisStore:
    """--store: a SQLite file, or redis://host:port/db for verifiers sharing one Redis."""
    if not location.startswith(("redis://", "rediss://", "unix://")):
        return SQLiteStore(location)
    try:
        from agentchain.redis_store import RedisStore  # noqa: PLC0415 -- optional extra
    except ImportError as exc:
        raise CommandLineError(
            f"--store {location}: pip install 'agentchain[redis]' ({exc})"
        ) from exc
    return RedisStore.from_url(location)
