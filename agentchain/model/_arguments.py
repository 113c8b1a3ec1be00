"""A request's arguments: the data model of spec 5.2 and the limits of spec 5.6.

Arguments are what agents send to tools: prices, e-mail bodies, file contents.
They are bounded by limits of their own (``max_args_bytes``, ``max_args_depth``,
``max_args_items``), separate from the limits of a presentation, and every
caveat over them is charged to the evaluation budget (spec 6.3), so their size
makes verification cost only what encoding them costs, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, cast

from agentchain.errors import DecodeError
from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.wire.cbor import float_head, number

__all__ = ["check_arguments"]

_INT_MIN: Final = -(2**64)
_INT_MAX: Final = 2**64 - 1


def _head_size(arg: int) -> int:
    """Bytes of the shortest CBOR head for ``arg`` (RFC 8949 section 4.2.1)."""
    if arg < 24:
        return 1
    if arg < 0x100:
        return 2
    if arg < 0x1_0000:
        return 3
    if arg < 0x1_0000_0000:
        return 5
    return 9


def check_arguments(args: object, *, limits: Limits = DEFAULT_LIMITS) -> dict[str, object]:
    """``args`` checked and in normal form (spec 5.2, 5.6).

    A map with text keys whose values are protocol data (spec 5.2: integers in
    ``[-2**64, 2**64 - 1]``, finite binary64 floats, text, bytes, booleans, null,
    arrays, maps with text keys). An integral float becomes its integer and
    ``-0.0`` becomes 0, so a request spelt ``12.0`` is the request spelt ``12``.
    Anything else raises ``DecodeError`` with ``schema_invalid``; more than the
    limits (nesting, items, encoded bytes) raises ``limit_exceeded``. Iterative
    and stopped at the first excess: a hostile value costs at most
    ``max_args_items`` steps. Plain data (dicts, lists, ints, strings...) without
    a float is returned as is, after one walk; anything else is copied into it.
    """
    if type(args) is dict and _plain_within(args, limits):
        return args
    if not isinstance(args, Mapping):
        raise DecodeError("schema_invalid", "arguments must be a map with text keys")
    copied = _normal_copy(args)
    _plain_within(copied, limits)
    return copied


def _plain_within(args: dict[str, object], limits: Limits) -> bool:
    """Check the limits of plain ``args``: False as soon as something is not plain data
    (a float, a tuple, a subclass...), which :func:`_normal_copy` then turns into it."""
    size = 0
    items = 0
    max_bytes = limits.max_args_bytes
    stack: list[tuple[list[object] | dict[str, object], int]] = [(args, 1)]
    if limits.max_args_depth < 1:
        raise _too_deep(limits)
    while stack:
        container, depth = stack.pop()
        count = len(container)
        items += count
        if items > limits.max_args_items:
            raise DecodeError(
                "limit_exceeded", f"arguments hold more than {limits.max_args_items} items"
            )
        size += _head_size(count)
        if type(container) is dict:
            values: list[object] = []
            for key, value in container.items():
                if type(key) is not str:
                    return False
                size += _text_size(key, limits)
                values.append(value)
        else:
            values = cast(list[object], container)
        for value in values:
            kind = type(value)
            if kind is int:
                number_ = cast(int, value)
                if not _INT_MIN <= number_ <= _INT_MAX:
                    raise DecodeError(
                        "schema_invalid", "an argument integer is outside CBOR's range"
                    )
                size += _head_size(number_ if number_ >= 0 else -1 - number_)
            elif kind is str:
                size += _text_size(cast(str, value), limits)
            elif kind is list or kind is dict:
                if depth + 1 > limits.max_args_depth:
                    raise _too_deep(limits)
                stack.append((cast(list[object], value), depth + 1))
            elif kind is bytes:
                size += _head_size(len(cast(bytes, value))) + len(cast(bytes, value))
            elif kind is bool or value is None:
                size += 1
            elif kind is float and type(number_or_none(cast(float, value))) is float:
                size += len(float_head(cast(float, value)))
            else:
                return False
        if size > max_bytes:
            raise _too_big(limits)
    return True


def number_or_none(value: float) -> int | float | None:
    """:func:`~agentchain.wire.cbor.number`, or None for NaN and the infinities."""
    try:
        return number(value)
    except ValueError:
        return None


def _text_size(text: str, limits: Limits) -> int:
    if len(text) > limits.max_args_bytes:  # before encoding a hostile megabyte
        raise _too_big(limits)
    try:
        length = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise DecodeError("schema_invalid", "an argument string is not Unicode") from None
    return _head_size(length) + length


def _normal_copy(args: Mapping[object, object]) -> dict[str, object]:
    """A copy of ``args`` in plain types, floats folded; DecodeError(schema_invalid) for
    anything that is not protocol data. Depth is bounded by the limits check that follows
    only for what it copies, so the copy itself refuses nesting beyond any limit."""
    holder: list[object] = [None]
    stack: list[tuple[object, int, list[object] | dict[str, object], int | str]] = [
        (args, 0, holder, 0)
    ]
    while stack:
        value, depth, parent, slot = stack.pop()
        copied: object
        if depth > _COPY_MAX_DEPTH:
            raise DecodeError("limit_exceeded", "arguments nest too deeply")
        if isinstance(value, bool) or value is None:
            copied = value
        elif isinstance(value, int):
            copied = int(value)
        elif isinstance(value, float):
            try:
                copied = number(value)
            except ValueError:
                raise DecodeError("schema_invalid", "NaN and infinities are not numbers") from None
        elif isinstance(value, str):
            copied = str(value)
        elif isinstance(value, bytes):
            copied = bytes(value)
        elif isinstance(value, list):
            new_list: list[object] = [None] * len(value)
            stack.extend((item, depth + 1, new_list, index) for index, item in enumerate(value))
            copied = new_list
        elif isinstance(value, Mapping):
            new_map: dict[str, object] = {}
            for key, item in cast(Mapping[object, object], value).items():
                if not isinstance(key, str):
                    raise DecodeError("schema_invalid", "an argument map key is not text")
                new_map[str(key)] = None
                stack.append((item, depth + 1, new_map, str(key)))
            copied = new_map
        else:
            raise DecodeError(
                "schema_invalid", f"an argument of type {type(value).__name__} is not protocol data"
            )
        parent[slot] = copied  # type: ignore[index]
    return cast(dict[str, object], holder[0])


#: nesting a copy refuses whatever the limits: far beyond any, below Python's recursion
_COPY_MAX_DEPTH: Final = 10_000


def _too_deep(limits: Limits) -> DecodeError:
    return DecodeError("limit_exceeded", f"arguments nest deeper than {limits.max_args_depth}")


def _too_big(limits: Limits) -> DecodeError:
    return DecodeError(
        "limit_exceeded", f"arguments encode to more than {limits.max_args_bytes} bytes"
    )
