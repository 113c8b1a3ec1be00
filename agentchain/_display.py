"""What a person is shown: escaping and times (spec 11.2).

The bottom of the house, beside :mod:`agentchain.errors`: every layer that writes for a person
(messages, the audit record's time, the CLI, inspect, the vector runner) uses these two
functions, so one escaping rule and one time format hold everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.markup import escape


def safe(text: str, *, markup: bool = True) -> str:
    """``text`` for a terminal: what is not printable shown as an escape, rich markup escaped.

    A token, an argument or a file is attacker-made; its strings must not move the cursor,
    restyle the screen or reorder what is shown. Escaped: C0, DEL, C1 (U+0085 too), the bidi
    controls (U+061C, U+200E/200F, U+202A-202E, U+2066-2069) and the line and paragraph
    separators U+2028/2029, with every other character Python does not call printable.
    The one escaping function of every human-readable output; ``markup=False`` for output
    that does not go through rich.
    """
    shown = "".join(c if c.isprintable() else _escaped(c) for c in text)
    return escape(shown) if markup else shown


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def rfc3339(seconds: int) -> str:
    """A time in whole seconds since the epoch as RFC 3339 UTC, e.g. 2027-01-15T08:00:00Z.

    One that RFC 3339 cannot write (before year 1 or after 9999, which a valid token may
    carry: exp up to 2^53-1) comes out as seconds since the epoch, never as an error.
    """
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return f"{seconds} seconds after 1970-01-01T00:00:00Z (beyond RFC 3339)"
