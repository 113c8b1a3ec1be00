"""Caveats as data: a small, total, bounded predicate language over arguments.

A caveat is a *statement* (a JSON/CBOR array), never code. The language is
modelled on UCAN 1.0's policy language; this is an independent implementation.

Values
    The CBOR/JSON data model: ``int | float | str | bytes | bool | None | list |
    dict[str, ...]``, floats finite and an integral float the integer (spec 5.2:
    ``12.0`` is ``12``). Typing is strict: ``bool`` is not an ``int`` (``True !=
    1``, and ordering a bool is a type error), and ``bytes`` never equals a
    ``str``; numbers compare by their exact values.

Statements
    ``["==", SEL, V]`` ``["!=", SEL, V]``  deep, type-strict equality.
    ``["<", SEL, NUM]`` (and ``<=``, ``>``, ``>=``)  numbers (not bools), exactly.
    ``["like", SEL, PATTERN]``  glob over a string: ``*`` matches any run of code
    points (also empty), ``\\*`` is a literal star, ``\\`` a literal backslash;
    any other escape is invalid.
    ``["in", SEL, [V, ...]]``  the selected value equals one of the elements.
    ``["and", [S, ...]]`` ``["or", [S, ...]]`` ``["not", S]``.
    ``["all", SEL, S]`` ``["any", SEL, S]``  SEL selects a list; S is evaluated
    with each element as its root ``.``.

Selectors
    ``.`` is the root; then segments chained freely: ``.name`` (identifier
    ``[A-Za-z_][A-Za-z0-9_-]*``), ``[N]`` (a non-negative decimal index without
    leading zeros), ``["key"]`` (JSON-style quoted key; only ``\"`` and ``\\``
    escapes). The first segment follows the leading dot directly (``.a``,
    ``.[0]``, ``.["k"]``); later ones are ``.name`` or a bracket (``.a[0].b``),
    so ``.a.[0]`` is invalid: one spelling per path. Negative indices are NOT
    supported (invalid): counting from the end would make a caveat's meaning
    depend on list length in a way that is easy to get wrong.

Three-valued, fail-closed semantics
    A statement evaluates to TRUE, FALSE or ERROR. ERROR comes from a missing
    path (absent key, index out of range, stepping into a scalar), a type
    mismatch in an ordering or ``like``, a non-list under ``all``/``any``, a value
    outside the data model, or an exhausted step budget. ERROR is absorbing in
    every combinator: ``not ERROR = ERROR``, and ``and``/``or``/``all``/``any``
    are ERROR as soon as any child is ERROR, whatever the other children say.
    Hence ``["not", ["==", ".missing", 1]]`` is ERROR, not TRUE: absence can
    never be turned into permission. Identities: ``["and", []]`` is TRUE,
    ``["or", []]`` is FALSE, ``all`` over an empty list is TRUE, ``any`` over an
    empty list is FALSE. Combinators evaluate every child (stopping early only
    on ERROR, which fixes the answer), so the outcome never depends on the order
    of children, nor of the caveats of a link. A caveat holds only if TRUE.

Limits (from :class:`~agentchain.limits.Limits`)
    ``max_policy_depth`` bounds the nesting of arrays/maps in one statement's
    data (the statement array itself is depth 1; literals count too);
    ``max_policy_nodes`` bounds the data items of one statement (every array,
    map, map value and scalar); ``max_string_bytes`` bounds each string's UTF-8
    length. All are checked during one iterative walk that stops at the first
    excess, so a hostile input costs O(limits) work whatever its size.
    ``max_policy_steps`` is the evaluation budget of one request, shared by every
    caveat of every link and every approval requirement's ``when`` (spec 6.3, charged
    in :mod:`agentchain.policy`): one step per statement evaluated and per step of its
    selector, one per element visited by ``all``/``any``, the data items of the
    literal for ``==``, ``!=`` and ``in``, and for ``like`` one per literal segment
    plus one per 4096 (text, text + pattern) character pairs.

Every walk (parsing, selecting, comparing, evaluating, rendering) is iterative,
so neither a deep statement nor deep arguments can raise ``RecursionError``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple, TypeAlias, cast

from agentchain.errors import DecodeError
from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.wire.cbor import number

__all__ = [
    "Op",
    "Selector",
    "Statement",
    "Value",
    "parse_selector",
    "parse_statement",
    "statement_text",
]


Value: TypeAlias = "int | float | str | bytes | bool | list[Value] | dict[str, Value] | None"


Op: TypeAlias = Literal[
    "==", "!=", "<", "<=", ">", ">=", "like", "in", "and", "or", "not", "all", "any"
]


#: operator -> array length (operator included)
_ARITY: Final[dict[str, int]] = {
    "==": 3,
    "!=": 3,
    "<": 3,
    "<=": 3,
    ">": 3,
    ">=": 3,
    "like": 3,
    "in": 3,
    "and": 2,
    "or": 2,
    "not": 2,
    "all": 3,
    "any": 3,
}


ORDERING: Final = frozenset({"<", "<=", ">", ">="})


QUANTIFIERS: Final = frozenset({"all", "any"})


CONNECTIVES: Final = frozenset({"and", "or", "not"})


# CBOR's major types 0 and 1 reach exactly this far; a JSON decoder could hand us
# a 100 000-digit int whose every comparison and rendering would be costly.
_INT_MIN: Final = -(2**64)


_INT_MAX: Final = 2**64 - 1


# An index beyond this could never be in range of a decodable list; the bound
# also keeps int() far from CPython's digit limit.
_MAX_INDEX_DIGITS: Final = 18


#: longest statement or value excerpt quoted in messages
_EXCERPT: Final = 80


_KINDS: Final[dict[type, str]] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "string",
    bytes: "bytes",
    type(None): "null",
    list: "list",
    dict: "map",
}


_IDENT_START: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")


_IDENT_REST: Final = _IDENT_START | frozenset("0123456789-")


_DIGITS: Final = frozenset("0123456789")


def _invalid(message: str) -> DecodeError:
    return DecodeError("caveat_invalid", message)


def _too_big(message: str) -> DecodeError:
    return DecodeError("limit_exceeded", message)


@dataclass(frozen=True, slots=True)
class Selector:
    """A parsed selector: ``text`` as written, ``path`` of map keys (str) and indices (int)."""

    text: str
    path: tuple[str | int, ...]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Statement:
    """A parsed, validated statement. Build it with :func:`parse_statement` only.

    ``op`` is the operator, ``selector`` is set for every operator but
    ``and``/``or``/``not``, ``children`` holds sub-statements (``and``/``or``: all
    of them; ``not``/``all``/``any``: one). :attr:`raw` is the original data and
    re-encodes to the same bytes. Equality is type-strict equality of the data
    (so a statement with literal ``1`` differs from one with ``True``).
    """

    op: Op
    selector: Selector | None
    children: tuple[Statement, ...]
    # Private: the evaluator reads these, and nobody else may alter them (the
    # semantics must stay the meaning of the signed bytes).
    _literal: Value
    _pattern: tuple[str, ...]
    _raw: Value
    #: ``==``, ``!=``, ``in``: data items of the literal (what comparing may visit), counted
    #: on first use (see :meth:`literal_items`); ``like``: code points of the pattern's
    #: literal segments (what a search may compare)
    _items: int = 0

    @property
    def raw(self) -> Value:
        """The statement's data. A fresh copy each time: mutating it cannot
        make the statement evaluate differently from what it re-encodes to."""
        return _copy(self._raw)

    def literal_items(self) -> int:
        """What evaluating this leaf may compare (spec 6.3): for ``==``, ``!=``, ``in`` the
        data items of the literal, counted once, when first evaluated (parsing a statement
        that is never evaluated does not pay for it); for ``like`` the pattern's literal
        code points; 0 otherwise."""
        if self._items < 0:
            object.__setattr__(self, "_items", count_items(self._literal))
        return self._items

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Statement):
            return NotImplemented
        return deep_equal(self._raw, other._raw) is True

    def __hash__(self) -> int:
        return hash(statement_text(self))

    def __repr__(self) -> str:
        return f"Statement({excerpt(statement_text(self))})"


def parse_statement(data: object, *, limits: Limits = DEFAULT_LIMITS) -> Statement:
    """Validate ``data`` (as produced by a strict CBOR/JSON decoder) as one statement.

    Raises :class:`DecodeError` with ``limit_exceeded`` (depth, node count or
    string size) or ``caveat_invalid`` (anything else: a float, an unknown
    operator, a wrong arity, a bad selector, literal or pattern).

    Parsed statements are remembered by their exact data (see
    :func:`_cache_key`): the same caveats recur in every chain, a Statement is
    immutable, and a refusal raises and is not remembered.
    """
    key = _cache_key(data, limits)
    known = None if key is None else _PARSED.get(key)
    # parsed under these very limits (or equal ones): the limits are compared, not hashed
    # (a Limits hashes all its fields, in Python, on every lookup)
    if known is not None and (known[0] is limits or known[0] == limits):
        return known[1]
    statement = _build(_checked_copy(data, limits))
    if key is not None:
        if len(_PARSED) >= _PARSED_MAX and key not in _PARSED:
            oldest = next(iter(_PARSED), None)  # the oldest entry goes first
            if oldest is not None:
                _PARSED.pop(oldest, None)
        _PARSED[key] = (limits, statement)
    return statement


#: statements parsed before, by the repr of the plain data: the limits they were parsed
#: under (a statement parsed under other limits is parsed again, and replaces it)
_PARSED: dict[str, tuple[Limits, Statement]] = {}


_PARSED_MAX: Final = 1024


#: statements larger than this are parsed every time: real caveats are small, and a walk
#: to build the key of a large one would cost as much as parsing it
_PARSED_MAX_NODES: Final = 16


_KEYABLE: Final = frozenset({list, str, int, float, bytes, bool, type(None)})


def _cache_key(data: object, limits: Limits) -> str | None:
    """The data's ``repr``, or None: do not remember.

    The ``repr`` names the data exactly only for plain types (a subclass of int or str
    prints like its base but parses differently) and without maps (two maps with the same
    items in another order are equal but keep their order in ``raw``), so anything else
    is parsed every time; so are large statements and over-long strings, which parsing
    refuses anyway. ``repr`` tells ``True`` from ``1`` and ``b"a"`` from ``"a"``.
    """
    stack = [data]
    nodes = 0
    while stack:
        item = stack.pop()
        if type(item) is list:
            nodes += len(item)
            if nodes > _PARSED_MAX_NODES:
                return None
            stack.extend(item)
        elif type(item) not in _KEYABLE or (
            type(item) is str and len(item) > limits.max_string_bytes
        ):
            return None
    return repr(data)


#: Where an item sits in the statement's data: (the location of its container, its
#: index or key), a cons list of plain tuples, so that each step costs one small tuple
#: and the path is only spelled out for an error message.
_Loc: TypeAlias = "tuple[_Loc | None, int | str]"


#: steps of a location shown in messages (the innermost ones)
_LOC_STEPS: Final = 8


def _where(loc: _Loc | None) -> str:
    steps: list[str] = []
    while loc is not None and len(steps) < _LOC_STEPS:
        loc, step = loc
        steps.append(f"[{step}]" if type(step) is int else f"[{excerpt(_render(step), 24)}]")
    return ("$" if loc is None else "$…") + "".join(reversed(steps))


def _checked_copy(data: object, limits: Limits) -> Value:
    """Copy ``data`` into fresh containers, checking the data model and the limits.

    Iterative, and a container's size is charged before its items are visited,
    so the walk stops after at most ``max_policy_nodes`` items and never goes
    deeper than ``max_policy_depth``. Copying means later mutation of the
    caller's data cannot change a parsed statement.
    """
    holder: list[Value] = [None]
    nodes = 1
    short = limits.max_string_bytes  # an ASCII string this long is within the limit
    deepest = limits.max_policy_depth
    # (item, depth of the container holding it, container of the copy, slot, location)
    stack: list[tuple[object, int, list[Value] | dict[str, Value], int | str, _Loc | None]] = [
        (data, 0, holder, 0, None)
    ]
    while stack:
        item, depth, parent, slot, loc = stack.pop()
        copied: Value
        if type(item) is list or type(item) is dict:
            if depth + 1 > limits.max_policy_depth:
                raise _too_big(
                    f"{_where(loc)}: statement nested deeper than {limits.max_policy_depth}"
                )
            nodes += len(item)
            if nodes > limits.max_policy_nodes:
                raise _too_big(
                    f"{_where(loc)}: statement has more than {limits.max_policy_nodes} nodes"
                )
            if type(item) is list:
                new_list: list[Value] = [None] * len(item)
                for index, element in enumerate(item):
                    # the common scalars are checked in place: no stack entry, no location
                    kind = type(element)
                    if (
                        (kind is int and _INT_MIN <= element <= _INT_MAX)
                        or (kind is str and element.isascii() and len(element) <= short)
                        or element is None
                        or kind is bool
                    ):
                        new_list[index] = element
                    elif (kind is list or kind is dict) and not element and depth + 2 <= deepest:
                        new_list[index] = [] if kind is list else {}
                    else:
                        stack.append((element, depth + 1, new_list, index, (loc, index)))
                copied = new_list
            else:
                new_dict: dict[str, Value] = {}
                for key, element in cast(dict[object, object], item).items():
                    if type(key) is not str:
                        raise _invalid(
                            f"{_where(loc)}: map key is {type(key).__name__}, not a string"
                        )
                    _check_string(key, limits, loc)
                    new_dict[key] = None  # keeps the key order of the input
                    stack.append((element, depth + 1, new_dict, key, (loc, key)))
                copied = new_dict
        elif type(item) is str:
            _check_string(item, limits, loc)
            copied = item
        elif type(item) is bytes:
            if len(item) > limits.max_string_bytes:
                raise _too_big(f"{_where(loc)}: byte string longer than {limits.max_string_bytes}")
            copied = item
        elif type(item) is int:
            if not _INT_MIN <= item <= _INT_MAX:
                raise _invalid(f"{_where(loc)}: integer outside the CBOR range")
            copied = item
        elif type(item) is bool or item is None:
            copied = cast(Value, item)
        elif type(item) is float:
            # spec 6.1: binary64 numbers; an integral one is the integer (12.0 is 12)
            try:
                copied = number(item)
            except ValueError:
                raise _invalid(f"{_where(loc)}: NaN and infinities are not numbers") from None
        else:
            raise _invalid(f"{_where(loc)}: {type(item).__name__} is not a caveat value")
        parent[slot] = copied  # type: ignore[index]  # an int slot in a list, a str in a dict
    return holder[0]


def _check_string(text: str, limits: Limits, loc: _Loc | None) -> None:
    # len() first: a string of more code points than the limit is too long in
    # any encoding, and we avoid encoding a hostile megabyte.
    if len(text) > limits.max_string_bytes:
        raise _too_big(f"{_where(loc)}: string longer than {limits.max_string_bytes} bytes")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        # lone surrogates: a JSON decoder accepts "\ud800", CBOR cannot carry it
        raise _invalid(f"{_where(loc)}: string is not valid Unicode") from None
    if size > limits.max_string_bytes:
        raise _too_big(f"{_where(loc)}: string longer than {limits.max_string_bytes} bytes")


class _Shape(NamedTuple):
    op: Op
    selector: Selector | None
    literal: Value
    pattern: tuple[str, ...]
    arity: int  # number of sub-statements


def _build(root: Value) -> Statement:
    """Turn checked data into a Statement tree, iteratively (post-order)."""
    # (data, location, shape once its own operands are checked)
    todo: list[tuple[Value, _Loc | None, _Shape | None]] = [(root, None, None)]
    built: list[Statement] = []
    while todo:
        raw, loc, shape = todo.pop()
        if shape is None:
            shape, subs = _shape(raw, loc)
            todo.append((raw, loc, shape))
            todo.extend((sub, where, None) for sub, where in reversed(subs))
            continue
        # its sub-statements are the last `arity` built, in order
        first = len(built) - shape.arity
        children = tuple(built[first:])
        del built[first:]
        built.append(
            Statement(
                shape.op,
                shape.selector,
                children,
                shape.literal,
                shape.pattern,
                raw,
                _cost_size(shape),
            )
        )
    return built[0]


def _shape(raw: Value, loc: _Loc | None) -> tuple[_Shape, list[tuple[Value, _Loc | None]]]:
    """Check one statement's operator and operands; return its sub-statement data."""
    if type(raw) is not list or not raw:
        raise _invalid(
            f"{_where(loc)}: a statement is a non-empty array, got {render_excerpt(raw)}"
        )
    head = raw[0]
    if type(head) is not str or head not in _ARITY:
        raise _invalid(f"{_where(loc)}: unknown operator {render_excerpt(head)}")
    op = cast(Op, head)
    if len(raw) != _ARITY[op]:
        raise _invalid(
            f"{_where(loc)}: {op!r} takes {_ARITY[op] - 1} operand(s), got {len(raw) - 1}"
        )
    if op in ("and", "or"):
        subs = raw[1]
        if type(subs) is not list:
            raise _invalid(f"{_where(loc)}: {op!r} takes an array of statements")
        return _Shape(op, None, None, (), len(subs)), [
            (sub, ((loc, 1), index)) for index, sub in enumerate(subs)
        ]
    if op == "not":
        return _Shape(op, None, None, (), 1), [(raw[1], (loc, 1))]
    selector = _parse_selector(raw[1], (loc, 1))
    operand = raw[2]
    if op in QUANTIFIERS:
        return _Shape(op, selector, None, (), 1), [(operand, (loc, 2))]
    pattern: tuple[str, ...] = ()
    if op in ORDERING and not is_number(operand):
        raise _invalid(f"{_where(loc)}[2]: {op!r} compares with a number, got {kind_of(operand)}")
    if op == "in" and type(operand) is not list:
        raise _invalid(f"{_where(loc)}[2]: 'in' takes an array, got {kind_of(operand)}")
    if op == "like":
        if type(operand) is not str:
            raise _invalid(
                f"{_where(loc)}[2]: 'like' takes a string pattern, got {kind_of(operand)}"
            )
        pattern = _parse_pattern(operand, (loc, 2))
    return _Shape(op, selector, operand, pattern, 0), []


def parse_selector(text: object) -> Selector:
    """A selector on its own (as a spend limit names its amount, spec 9.5).

    The grammar of section 6.1; an ill-formed one is DecodeError(schema_invalid).
    """
    if not isinstance(text, str) or len(text) > _MAX_SELECTOR_CHARS:
        raise DecodeError("schema_invalid", f"a selector is text of 1..{_MAX_SELECTOR_CHARS}")
    try:
        return _parse_selector(text, None)
    except DecodeError as exc:
        raise DecodeError("schema_invalid", exc.message) from exc


_MAX_SELECTOR_CHARS: Final = 256


def _cost_size(shape: _Shape) -> int:
    """What evaluating a leaf costs beyond its statement and selector (spec 6.3); -1: not
    counted yet (see :meth:`Statement.literal_items`)."""
    if shape.op in ("==", "!=", "in"):
        return -1
    if shape.op == "like":
        return sum(map(len, shape.pattern))
    return 0


def _parse_selector(text: Value, loc: _Loc | None) -> Selector:
    if type(text) is not str:
        raise _invalid(f"{_where(loc)}: a selector is a string, got {kind_of(text)}")
    if not text.startswith("."):
        raise _invalid(f"{_where(loc)}: selector {excerpt(text)!r} does not start with '.'")
    path: list[str | int] = []
    end = len(text)
    pos = 1
    while pos < end:
        if text[pos] == "[":
            pos = _parse_bracket(text, pos, path, loc)
            continue
        if path:  # not the first segment: it must be ".name"
            if text[pos] != ".":
                raise _invalid(
                    f"{_where(loc)}: selector {excerpt(text)!r}: unexpected {text[pos]!r}"
                )
            pos += 1
        start = pos
        if pos < end and text[pos] in _IDENT_START:
            pos += 1
            while pos < end and text[pos] in _IDENT_REST:
                pos += 1
        if pos == start:
            raise _invalid(f"{_where(loc)}: selector {excerpt(text)!r}: expected a name at {start}")
        path.append(text[start:pos])
    return Selector(text, tuple(path))


def _parse_bracket(text: str, pos: int, path: list[str | int], loc: _Loc | None) -> int:
    """Parse ``[N]`` or ``["key"]`` at ``text[pos] == "["``; return the position after it."""
    end = len(text)
    if pos + 1 < end and text[pos + 1] == '"':
        chars: list[str] = []
        cur = pos + 2
        while True:
            if cur >= end:
                raise _invalid(f"{_where(loc)}: selector {excerpt(text)!r}: unterminated key")
            char = text[cur]
            if char == '"':
                break
            if char == "\\":
                if cur + 1 < end and text[cur + 1] in '"\\':
                    chars.append(text[cur + 1])
                    cur += 2
                    continue
                raise _invalid(f"{_where(loc)}: selector {excerpt(text)!r}: bad escape at {cur}")
            chars.append(char)
            cur += 1
        if cur + 1 >= end or text[cur + 1] != "]":
            raise _invalid(f"{_where(loc)}: selector {excerpt(text)!r}: expected ']' at {cur + 1}")
        path.append("".join(chars))
        return cur + 2
    close = text.find("]", pos + 1)
    digits = text[pos + 1 : close] if close >= 0 else text[pos + 1 :]
    if close < 0 or not digits or not set(digits) <= _DIGITS:
        what = "negative indices are not supported" if digits[:1] == "-" else "bad index"
        raise _invalid(f"{_where(loc)}: selector {excerpt(text)!r}: {what}")
    if (len(digits) > 1 and digits[0] == "0") or len(digits) > _MAX_INDEX_DIGITS:
        raise _invalid(f"{_where(loc)}: selector {excerpt(text)!r}: non-canonical or huge index")
    path.append(int(digits))
    return close + 1


def _parse_pattern(pattern: str, loc: _Loc | None) -> tuple[str, ...]:
    """Split a glob at its unescaped stars: ``a*b\\*c`` -> ``("a", "b*c")``."""
    segments: list[str] = []
    chars: list[str] = []
    pos = 0
    while pos < len(pattern):
        char = pattern[pos]
        if char == "\\":
            if pos + 1 < len(pattern) and pattern[pos + 1] in "*\\":
                chars.append(pattern[pos + 1])
                pos += 2
                continue
            raise _invalid(f"{_where(loc)}: pattern {excerpt(pattern)!r}: bad escape at {pos}")
        if char == "*":
            segments.append("".join(chars))
            chars = []
        else:
            chars.append(char)
        pos += 1
    segments.append("".join(chars))
    return tuple(segments)


def is_number(value: object) -> bool:
    """An int or a float, never a bool (spec 6.2: orderings compare numbers)."""
    return type(value) is int or type(value) is float


def count_items(value: Value) -> int:
    """Data items of ``value``: a scalar is one, a container one plus its elements' (spec 6.3)."""
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        count += 1
        if type(item) is list:
            stack.extend(item)
        elif type(item) is dict:
            stack.extend(item.values())
    return count


def deep_equal(left: object, right: object) -> bool | None:
    """Type-strict deep equality; None if a value outside the data model is met.

    Iterative, and stops at the first difference: with ``right`` a literal, the
    work is bounded by the literal's size however large or deep ``left`` is.
    """
    pending: list[tuple[object, object]] = [(left, right)]
    while pending:
        one, other = pending.pop()
        kind = type(one)
        if kind not in _KINDS or type(other) not in _KINDS:
            return None
        if kind is not type(other):
            # numbers compare by value, exactly (an int is never rounded to a float); with
            # integral floats folded to ints (spec 5.2) only unnormalized input needs it
            if is_number(one) and is_number(other):
                if one != other:
                    return False
                continue
            return False  # also keeps True apart from 1, and b"a" from "a"
        if kind is list:
            ones, others = cast(list[object], one), cast(list[object], other)
            if len(ones) != len(others):
                return False
            pending.extend(zip(ones, others, strict=True))
        elif kind is dict:
            one_map, other_map = cast(dict[str, object], one), cast(dict[str, object], other)
            if len(one_map) != len(other_map):
                return False
            for key, item in other_map.items():
                if key not in one_map:
                    return False
                pending.append((one_map[key], item))
        elif one != other:
            return False
    return True


def statement_text(statement: Statement) -> str:
    """Compact JSON for humans (``inspect``); bytes render as DAG-JSON ``{"/":{"bytes":…}}``."""
    return _render(statement._raw)


def _render(value: Value) -> str:
    out: list[str] = []
    # entries: (is_text, item); text is emitted as is, values are expanded
    stack: list[tuple[bool, object]] = [(False, value)]
    while stack:
        is_text, item = stack.pop()
        if is_text:
            out.append(cast(str, item))
        elif type(item) is list:
            stack.append((True, "]"))
            for index in range(len(item) - 1, -1, -1):
                stack.append((False, item[index]))
                if index:
                    stack.append((True, ","))
            stack.append((True, "["))
        elif type(item) is dict:
            stack.append((True, "}"))
            pairs = list(item.items())
            for index in range(len(pairs) - 1, -1, -1):
                key, element = pairs[index]
                stack.append((False, element))
                stack.append((True, json.dumps(key, ensure_ascii=False) + ":"))
                if index:
                    stack.append((True, ","))
            stack.append((True, "{"))
        elif type(item) is bytes:
            encoded = base64.b64encode(item).decode("ascii").rstrip("=")
            out.append(f'{{"/":{{"bytes":"{encoded}"}}}}')
        elif type(item) is bool:
            out.append("true" if item else "false")
        elif item is None:
            out.append("null")
        elif type(item) is str:
            out.append(json.dumps(item, ensure_ascii=False))
        else:
            out.append(repr(item))  # int, or a finite float: the shortest round-trip form
    return "".join(out)


def _copy(value: Value) -> Value:
    """Deep copy of checked data, iteratively."""
    holder: list[Value] = [None]
    stack: list[tuple[Value, list[Value] | dict[str, Value], int | str]] = [(value, holder, 0)]
    while stack:
        item, parent, slot = stack.pop()
        copied: Value = item
        if type(item) is list:
            new_list: list[Value] = [None] * len(item)
            stack.extend((element, new_list, index) for index, element in enumerate(item))
            copied = new_list
        elif type(item) is dict:
            new_dict: dict[str, Value] = dict.fromkeys(item)
            stack.extend((element, new_dict, key) for key, element in item.items())
            copied = new_dict
        if type(parent) is list:
            parent[cast(int, slot)] = copied
        else:
            cast(dict[str, Value], parent)[cast(str, slot)] = copied
    return holder[0]


def statement_data(statement: Statement) -> Value:
    """The statement's own data, not a copy (:attr:`Statement.raw` copies): only for a
    caller that encodes it at once and keeps nothing of it (a JOSE link's id, spec 8.5)."""
    return statement._raw


def kind_of(value: object) -> str:
    return _KINDS.get(type(value), "unsupported value")


def excerpt(text: str, size: int = _EXCERPT) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def render_excerpt(value: Value) -> str:
    return excerpt(_render(value))


def describe(statement: Statement) -> str:
    if statement.selector is None:
        return statement.op
    return f"{statement.op} {statement.selector.text}"
