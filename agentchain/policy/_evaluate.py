"""Caveat evaluation (spec 6.2, 6.3): total, bounded, three-valued, fail closed.

Judges parsed statements (:mod:`agentchain.model`) over a request's arguments;
never bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias, cast

from agentchain.limits import DEFAULT_LIMITS, Limits
from agentchain.model import Arguments
from agentchain.model._caveats import (
    CONNECTIVES,
    ORDERING,
    QUANTIFIERS,
    Selector,
    Statement,
    Value,
    deep_equal,
    describe,
    excerpt,
    kind_of,
    statement_text,
)

Truth: TypeAlias = Literal["true", "false", "error"]


#: ``like`` charges one step per this many code points of the subject
_LIKE_CHARS_PER_STEP: Final = 64


@dataclass(frozen=True, slots=True)
class Result:
    """Truth of evaluating caveats; ``detail`` names what failed and why (no argument values)."""

    outcome: Truth
    detail: str

    @property
    def holds(self) -> bool:
        """Whether the caveats authorize the request: only a TRUE outcome does."""
        return self.outcome == "true"


def evaluate(
    statements: Sequence[Statement], args: object, *, limits: Limits = DEFAULT_LIMITS
) -> Result:
    """Evaluate the conjunction of ``statements`` (one link's caveats) over ``args``.

    Total: always returns a :class:`Result`, never raises. The outcome is "error"
    if any statement is ERROR, else "false" if any is FALSE, else "true" (so also
    for no statements). All statements share one budget of ``max_policy_steps``.
    ``detail`` reports the first statement with the final outcome.
    """
    budget = _Budget(limits.max_policy_steps)
    first_false = ""
    try:
        for index, statement in enumerate(statements):
            outcome, detail = _run(statement, args, budget)
            if outcome == "error":  # absorbing: nothing later can change the outcome
                return Result("error", f"caveat {index}: {detail}")
            if outcome == "false" and not first_false:
                first_false = f"caveat {index}: {excerpt(statement_text(statement))} is false"
    except Exception as exc:
        # Backstop for values outside the declared types (a caller's objects
        # whose __eq__ or __hash__ raises); the tests assert it is never reached
        # with well-typed input. Failing closed keeps `evaluate` total.
        return Result("error", f"internal error evaluating caveats ({type(exc).__name__})")
    if first_false:
        return Result("false", first_false)
    return Result("true", "")


class _Budget:
    __slots__ = ("left", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def take(self, steps: int) -> bool:
        """Charge ``steps``; False once the budget is exhausted (and ever after)."""
        self.left -= steps
        return self.left >= 0

    def message(self) -> str:
        return f"step budget of {self.limit} exhausted"


_Answer: TypeAlias = tuple[Truth, str]


@dataclass(slots=True)
class _Frame:
    """A connective or quantifier whose children are being evaluated."""

    statement: Statement
    root: object
    items: Sequence[object]  # and/or/not: the sub-statements; all/any: the list elements
    index: int = 0
    seen_true: bool = False
    seen_false: bool = False

    def where(self) -> str:
        op = self.statement.op
        if op == "not":
            return "not > "
        if op in ("and", "or"):
            return f"{op}[{self.index}] > "
        return f"{op} {cast(Selector, self.statement.selector).text}[{self.index}] > "

    def finish(self) -> _Answer:
        op = self.statement.op
        if op in ("and", "all"):
            return ("false" if self.seen_false else "true"), ""
        if op in ("or", "any"):
            return ("true" if self.seen_true else "false"), ""
        return ("false" if self.seen_true else "true"), ""  # not


def _run(statement: Statement, args: object, budget: _Budget) -> _Answer:
    """Evaluate one statement with an explicit stack (no recursion, whatever the depth)."""
    stack: list[_Frame] = []
    answer = _enter(statement, args, budget, stack)
    while stack:
        frame = stack[-1]
        if answer is not None:  # a child of `frame` finished
            outcome, detail = answer
            answer = None
            if outcome == "error":
                stack.pop()
                answer = ("error", frame.where() + detail)
                continue
            if outcome == "true":
                frame.seen_true = True
            else:
                frame.seen_false = True
            frame.index += 1
        if frame.index == len(frame.items):
            stack.pop()
            answer = frame.finish()
            continue
        if frame.statement.op in QUANTIFIERS:
            if not budget.take(1):
                stack.pop()
                answer = ("error", frame.where() + budget.message())
                continue
            answer = _enter(frame.statement.children[0], frame.items[frame.index], budget, stack)
        else:
            child = cast(Statement, frame.items[frame.index])
            answer = _enter(child, frame.root, budget, stack)
    assert answer is not None  # the loop only ends after the outermost answer
    return answer


def _enter(
    statement: Statement, root: object, budget: _Budget, stack: list[_Frame]
) -> _Answer | None:
    """Start evaluating ``statement``: an answer for a leaf, or None after pushing a frame."""
    op = statement.op
    if not budget.take(1):
        return "error", f"{describe(statement)}: {budget.message()}"
    if op in CONNECTIVES:
        stack.append(_Frame(statement, root, statement.children))
        return None
    selector = cast(Selector, statement.selector)
    value, missing = _select(root, selector)
    if missing:
        return "error", f"{op} {selector.text}: {missing}"
    if op in QUANTIFIERS:
        if type(value) is not list:
            return "error", f"{op} {selector.text}: selects a {kind_of(value)}, not a list"
        stack.append(_Frame(statement, root, value))
        return None
    return _leaf(statement, selector, value, budget)


def _leaf(statement: Statement, selector: Selector, value: object, budget: _Budget) -> _Answer:
    op = statement.op
    literal = statement._literal
    where = f"{op} {selector.text}"
    if op in ("==", "!="):
        equal = deep_equal(value, literal)
        if equal is None:
            return "error", f"{where}: value outside the data model"
        return ("true" if equal == (op == "==") else "false"), ""
    if op in ORDERING:
        if type(value) is not int:
            return "error", f"{where}: selects a {kind_of(value)}, not an int"
        bound = cast(int, literal)
        if op == "<":
            holds = value < bound
        elif op == "<=":
            holds = value <= bound
        elif op == ">":
            holds = value > bound
        else:
            holds = value >= bound
        return ("true" if holds else "false"), ""
    if op == "like":
        if type(value) is not str:
            return "error", f"{where}: selects a {kind_of(value)}, not a string"
        if not budget.take(len(value) // _LIKE_CHARS_PER_STEP):
            return "error", f"{where}: {budget.message()}"
        return ("true" if _glob(statement._pattern, value) else "false"), ""
    # "in": charged for every element up front, so the cost does not depend on
    # where (or whether) a match sits in the list
    choices = cast(list[Value], literal)
    if not budget.take(len(choices)):
        return "error", f"{where}: {budget.message()}"
    for choice in choices:
        equal = deep_equal(value, choice)
        if equal is None:
            return "error", f"{where}: value outside the data model"
        if equal:
            return "true", ""
    return "false", ""


def select(args: Arguments, selector: Selector) -> tuple[object, str]:
    """The value ``selector`` picks from the arguments: (value, "") or (None, why it is
    missing), by the rules of spec 6.2 (a spend limit's amount, spec 9.5)."""
    return _select(dict(args), selector)


def _select(root: object, selector: Selector) -> tuple[object, str]:
    """Follow ``selector`` from ``root``: (value, "") or (None, why it is missing)."""
    value = root
    for step in selector.path:
        if type(step) is str:
            if type(value) is not dict:
                return None, f"cannot take key {excerpt(step, 32)!r} of a {kind_of(value)}"
            if step not in value:
                return None, f"key {excerpt(step, 32)!r} is missing"
            value = value[step]
        else:
            index = cast(int, step)
            if type(value) is not list:
                return None, f"cannot take index {index} of a {kind_of(value)}"
            if index >= len(value):
                return None, f"index {index} is out of range"
            value = value[index]
    return value, ""


def _glob(segments: tuple[str, ...], text: str) -> bool:
    """Whether ``text`` matches the glob whose literal parts between stars are ``segments``.

    Greedy with backtracking only to the last star, done segment-wise: the first
    and last segments anchor the ends, and each middle segment is matched at its
    leftmost occurrence after the previous one (leftmost is optimal because a
    star can absorb anything). ``str.find`` does the scanning in C, so the cost
    is about O(len(text) + len(pattern)), never exponential.
    """
    if len(segments) == 1:
        return text == segments[0]
    head, tail = segments[0], segments[-1]
    if len(head) + len(tail) > len(text) or not text.startswith(head) or not text.endswith(tail):
        return False
    pos, stop = len(head), len(text) - len(tail)
    for segment in segments[1:-1]:
        found = text.find(segment, pos, stop)
        if found < 0:
            return False
        pos = found + len(segment)
    return True
