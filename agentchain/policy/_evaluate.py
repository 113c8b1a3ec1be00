"""Caveat evaluation (spec 6.2, 6.3): total, bounded, three-valued, fail closed.

Judges parsed statements (:mod:`agentchain.model`) over a request's arguments;
never bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias, cast

from agentchain._frozen import slot_init
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
    is_number,
    kind_of,
    statement_text,
)

Truth: TypeAlias = Literal["true", "false", "error"]


#: ``like`` charges one step per this many code points of the subject (spec 6.3)
LIKE_CHARS_PER_STEP: Final = 64
#: ... and per this many (subject, subject + literal) character pairs
LIKE_PAIRS_PER_STEP: Final = 64 * LIKE_CHARS_PER_STEP


@slot_init
@dataclass(frozen=True, slots=True)
class Result:
    """Truth of evaluating caveats; ``detail`` names what failed and why (no argument values)."""

    outcome: Truth
    detail: str

    @property
    def holds(self) -> bool:
        """Whether the caveats authorize the request: only a TRUE outcome does."""
        return self.outcome == "true"


#: the one answer of every conjunction that holds (a Result is immutable)
_HOLDS: Final = Result("true", "")


def evaluate(
    statements: Sequence[Statement],
    args: object,
    *,
    limits: Limits = DEFAULT_LIMITS,
    budget: Budget | None = None,
) -> Result:
    """Evaluate the conjunction of ``statements`` (one link's caveats) over ``args``.

    Total: always returns a :class:`Result`, never raises. The outcome is "error"
    if any statement is ERROR, else "false" if any is FALSE, else "true" (so also
    for no statements). Every step is charged to ``budget``: pass one
    :class:`Budget` to every call of one verification (spec 6.3: one budget per
    evaluation of a presentation); without one, a fresh budget of
    ``max_policy_steps`` serves this call alone. ``detail`` reports the first
    statement with the final outcome.
    """
    if budget is None:
        budget = Budget(limits.max_policy_steps)
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
    return _HOLDS


class Budget:
    """The steps one evaluation of a presentation may spend (spec 6.3).

    One budget serves every caveat of every link and every approval
    requirement's ``when`` evaluated for one request: a statement restated in
    many links, or in many requirements, is charged every time it counts, so
    the work a presentation can cause is bounded by ``limit`` however it is
    spread. Once exhausted it stays exhausted.
    """

    __slots__ = ("left", "limit")

    def __init__(self, limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"a step budget is a positive int, got {limit!r}")
        self.limit = limit
        self.left = limit

    @property
    def spent(self) -> int:
        """Steps charged so far (may exceed ``limit`` by the charge that exhausted it)."""
        return self.limit - self.left

    def take(self, steps: int) -> bool:
        """Charge ``steps``; False once the budget is exhausted (and ever after)."""
        self.left -= steps
        return self.left >= 0

    def message(self) -> str:
        return f"step budget of {self.limit} exhausted"


class Evaluation:
    """Every caveat evaluation of one verification, under one :class:`Budget`.

    :meth:`caveats` remembers the answer for a sequence of statements it has
    seen (by identity: :func:`~agentchain.model.parse_statement` hands out one
    object per exact statement, and the links keep them alive) and charges the
    budget again for it without redoing the work, so reusing an answer never
    changes one: a chain that restates its parent's caveats pays for them twice,
    as an implementation without the memo would.
    """

    __slots__ = ("_args", "_limits", "_memo", "budget")

    def __init__(self, args: object, *, limits: Limits = DEFAULT_LIMITS) -> None:
        self._args = args
        self._limits = limits
        self._memo: dict[tuple[int, ...], tuple[Result, int]] = {}
        self.budget = Budget(limits.max_policy_steps)

    def caveats(self, statements: Sequence[Statement]) -> Result:
        """The conjunction of ``statements`` over the arguments, charged to the budget."""
        same = tuple(map(id, statements))
        known = self._memo.get(same)
        if known is not None:
            result, steps = known
            if result.outcome == "error" or self.budget.take(steps):
                return result
            return Result("error", self.budget.message())
        before = self.budget.spent
        result = evaluate(statements, self._args, limits=self._limits, budget=self.budget)
        self._memo[same] = (result, self.budget.spent - before)
        return result

    def repeated(self, statements: Sequence[Statement], times: int) -> tuple[Result, int]:
        """:meth:`caveats` of ``statements`` asked ``times`` times in a row (for links that
        share them), stopping at the first answer that is not true: (that answer, how many
        asks came before it), or (the true answer, ``times - 1``). Each ask is charged to the
        budget as :meth:`caveats` charges it, so the budget ends where the asks one by one
        would leave it, and the ask that exhausts it is the one named."""
        if times < 1:
            raise ValueError("a repeated ask is asked at least once")
        result = self.caveats(statements)
        if result.outcome != "true" or times == 1:
            return result, 0
        steps = self._memo[tuple(map(id, statements))][1]
        budget, more = self.budget, times - 1
        if steps * more <= budget.left:  # every further ask fits
            budget.left -= steps * more
            return result, more
        asked = budget.left // steps + 1  # the further ask that takes the budget below 0
        budget.left -= steps * asked
        return Result("error", budget.message()), asked

    def select(self, selector: Selector) -> tuple[object, str]:
        """The value ``selector`` picks from the arguments (a spend limit's amount,
        spec 9.5), charged to the budget as a caveat's selector is (spec 6.3):
        (value, "") or (None, why it is missing or the budget's message)."""
        if not self.budget.take(1 + len(selector.path)):
            return None, self.budget.message()
        return select(cast(Arguments, self._args), selector)


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


def _run(statement: Statement, args: object, budget: Budget) -> _Answer:
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
    statement: Statement, root: object, budget: Budget, stack: list[_Frame]
) -> _Answer | None:
    """Start evaluating ``statement``: an answer for a leaf, or None after pushing a frame."""
    op = statement.op
    if op in CONNECTIVES:
        if not budget.take(1):
            return "error", f"{describe(statement)}: {budget.message()}"
        stack.append(_Frame(statement, root, statement.children))
        return None
    selector = cast(Selector, statement.selector)
    # spec 6.3: the statement, and each step of its selector
    if not budget.take(1 + len(selector.path)):
        return "error", f"{describe(statement)}: {budget.message()}"
    value, missing = _select(root, selector)
    if missing:
        return "error", f"{op} {selector.text}: {missing}"
    if op in QUANTIFIERS:
        if type(value) is not list:
            return "error", f"{op} {selector.text}: selects a {kind_of(value)}, not a list"
        stack.append(_Frame(statement, root, value))
        return None
    return _leaf(statement, selector, value, budget)


def _leaf(statement: Statement, selector: Selector, value: object, budget: Budget) -> _Answer:
    op = statement.op
    literal = statement._literal
    # spec 6.3: every data item of the literal may be compared, so each is charged,
    # up front: the cost does not depend on where (or whether) a difference sits
    if op in ("==", "!=", "in") and not budget.take(statement.literal_items()):
        return "error", f"{_where(op, selector)}: {budget.message()}"
    if op in ("==", "!="):
        equal = deep_equal(value, literal)
        if equal is None:
            return "error", f"{_where(op, selector)}: value outside the data model"
        return ("true" if equal == (op == "==") else "false"), ""
    if op in ORDERING:
        if not is_number(value):
            return "error", f"{_where(op, selector)}: selects a {kind_of(value)}, not a number"
        # exact: Python compares an int with a float by their mathematical values,
        # never by rounding the int to a float (spec 6.2)
        bound = cast("int | float", literal)
        number = cast("int | float", value)
        if op == "<":
            holds = number < bound
        elif op == "<=":
            holds = number <= bound
        elif op == ">":
            holds = number > bound
        else:
            holds = number >= bound
        return ("true" if holds else "false"), ""
    if op == "like":
        if type(value) is not str:
            return "error", f"{_where(op, selector)}: selects a {kind_of(value)}, not a string"
        # spec 6.3: one step per literal segment (the stars split the pattern into stars
        # + 1 of them, each a scan), and one per 4096 (text, text + pattern) character
        # pairs: 64 code points of text scanned, and a search for a literal of m code
        # points that may compare up to m characters at each position (str.find does)
        segments = statement._pattern
        scanned = len(value) * (LIKE_CHARS_PER_STEP + statement.literal_items())
        if not budget.take(len(segments) + scanned // LIKE_PAIRS_PER_STEP):
            return "error", f"{_where(op, selector)}: {budget.message()}"
        return ("true" if _glob(segments, value) else "false"), ""
    choices = cast(list[Value], literal)
    for choice in choices:
        equal = deep_equal(value, choice)
        if equal is None:
            return "error", f"{_where(op, selector)}: value outside the data model"
        if equal:
            return "true", ""
    return "false", ""


def _where(op: str, selector: Selector) -> str:
    """What a leaf's error message names: its operator and selector (made only for one)."""
    return f"{op} {selector.text}"


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
