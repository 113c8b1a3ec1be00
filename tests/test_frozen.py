"""``agentchain._frozen.slot_init``: the faster ``__init__`` changes nothing but its speed.

Every class it decorates is held to what ``@dataclass(frozen=True, slots=True)`` alone
would make: the same parameters, the same objects in the same fields, ``__post_init__``
run, later writes refused, equality, hashing and pickling unchanged. A twin of each class,
undecorated, is the reference.
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from agentchain import Verifier, codec, model, policy
from agentchain._frozen import SLOT_INIT_CLASSES, composed, maker, slot_init
from agentchain.errors import DecodeError
from agentchain.store import Use
from agentchain.verifier import _run
from agentchain.verifier._facts import chain_facts
from agentchain.verifier._types import Reason
from agentchain.wire import cbor
from tests.helpers import NOW, REQUEST, make_policy, standard_presentation


def _twin(cls: type) -> type:
    """``cls``'s fields, made by dataclasses alone (the reference ``__init__``)."""
    return dataclasses.make_dataclass(
        cls.__name__,
        [
            (f.name, f.type, dataclasses.field(default=f.default, kw_only=f.kw_only))
            for f in dataclasses.fields(cls)
        ],
        frozen=True,
        slots=True,
    )


def _examples() -> Iterator[object]:
    """One instance of every decorated class, from a real verification where one occurs."""
    data = standard_presentation().to_bytes()
    decision = Verifier(make_policy(), clock=lambda: NOW).verify(data, REQUEST)
    presentation = codec.decode_presentation_unverified(data)
    link = decision.chain.links[-1]
    yield from (decision, decision.chain, decision.invocation, presentation)
    yield from (link, link.claims, link.claims.window, link.envelope)
    yield from decision.chain.principals
    yield from (
        model.ApprovalClaims(b"i" * 32, b"r" * 32, NOW, NOW + 60),
        model.AttestationClaims(b"i" * 32, b"s" * 32, NOW, NOW + 60, {}, None, {}),
        policy.evaluate([model.parse_statement(["==", ".a", 1])], {"a": 2}),
        _run._Revocations((b"x",), (b"y",)),
        _run._UseNonce(b"n", NOW + 1, NOW),
        _run._Consume(Use(keys=((b"k", NOW + 1),)), NOW),
    )
    yield Reason("caveat_failed", "link 0: a caveat is false")
    links = decision.chain.links
    yield chain_facts(links, decision.chain.principals[0], encode=cbor.encode)


def _hashed(value: object) -> object:
    """The hash, or the error hashing raises (a field holding a dict is unhashable)."""
    try:
        return hash(value)
    except TypeError as exc:
        return str(exc)


def _pickled(value: object) -> object:
    """The object pickled and read back, or the error pickling raises (a descriptor's
    digests are read-only mappings, which pickle refuses, decorated or not)."""
    try:
        return pickle.loads(pickle.dumps(value))
    except TypeError as exc:
        return str(exc)


def test_every_decorated_class_has_an_example() -> None:
    found = {type(e) for e in _examples()}
    assert set(SLOT_INIT_CLASSES) <= found, set(SLOT_INIT_CLASSES) - found


@pytest.mark.parametrize("cls", SLOT_INIT_CLASSES, ids=lambda c: c.__qualname__)
def test_the_parameters_are_the_dataclass_s(cls: type) -> None:
    init, reference = vars(cls)["__init__"], vars(_twin(cls))["__init__"]
    ours, theirs = inspect.signature(init), inspect.signature(reference)
    described = [(p.name, p.kind, p.default) for p in ours.parameters.values()]
    assert described == [(p.name, p.kind, p.default) for p in theirs.parameters.values()]
    assert init.__qualname__ == f"{cls.__qualname__}.__init__"
    # the maker: the same parameters but self, and one maker per class
    made = inspect.signature(maker(cls))
    assert [(p.name, p.kind, p.default) for p in made.parameters.values()] == described[1:]
    assert maker(cls) is maker(cls) and maker(cls) is not cls


@pytest.mark.parametrize("example", list(_examples()), ids=lambda e: type(e).__qualname__)
def test_an_object_is_the_one_the_dataclass_makes(example: Any) -> None:
    cls = type(example)
    fields = [f.name for f in dataclasses.fields(cls)]
    values = [getattr(example, name) for name in fields]
    # what the dataclass's own __init__ does: every field through object.__setattr__
    reference = object.__new__(cls)
    for name, value in zip(fields, values, strict=True):
        object.__setattr__(reference, name, value)
    if hasattr(cls, "__post_init__"):
        reference.__post_init__()
    named = dict(zip(fields, values, strict=True))
    make = maker(cls)
    for made in (cls(*values), cls(**named), make(*values), make(**named)):
        assert type(made) is cls
        assert made == reference == example
        assert all(getattr(made, n) is getattr(reference, n) for n in fields)
        assert _hashed(made) == _hashed(reference)
        assert repr(made) == repr(reference)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(made, fields[0], values[0])
        assert _pickled(made) == _pickled(reference)
    calls: tuple[Any, ...] = (cls, make)
    for call in calls:
        with pytest.raises(TypeError):
            call(*values, "one too many")


def _base(calls: list[object]) -> Any:
    """A new frozen slotted dataclass with a default, a keyword-only field and a
    ``__post_init__`` that records each object in ``calls`` and refuses a negative ``a``."""

    @dataclasses.dataclass(frozen=True, slots=True)
    class Base:
        a: int
        b: str = "b"
        c: tuple[int, ...] = dataclasses.field(default=(), kw_only=True)

        def __post_init__(self) -> None:
            calls.append(self)
            if self.a < 0:
                raise DecodeError("schema_invalid", "a is negative")

    return Base


def test_post_init_runs_and_defaults_and_keyword_only_fields_are_kept() -> None:
    calls: list[object] = []
    Base = _base(calls)  # noqa: N806 - a class
    plain = _twin(Base)
    fast = slot_init(Base)
    try:
        assert fast(1) == fast(1, "b", c=()) and fast(1).b == "b" and fast(1).c == ()
        assert (fast(2, "x", c=(1,)).b, fast(2, "x", c=(1,)).c) == ("x", (1,))
        assert calls and all(isinstance(c, fast) for c in calls)
        with pytest.raises(DecodeError):
            fast(-1)
        for bad in ((), (1, "b", ()), (1, "b", (), 4)):
            with pytest.raises(TypeError):
                fast(*bad)
            with pytest.raises(TypeError):
                plain(*bad)
        with pytest.raises(TypeError):
            fast(1, d=2)
    finally:
        SLOT_INIT_CLASSES.remove(fast)


def test_what_it_cannot_serve_is_refused_at_once() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(slots=True)
    class NotFrozen:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Factory:
        a: list[int] = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True, slots=True)
    class LeftOut:
        a: int
        b: int = dataclasses.field(default=0, init=False)

    @dataclasses.dataclass(frozen=True, slots=True)
    class WithInitVar:
        a: int
        b: dataclasses.InitVar[int]

        def __post_init__(self, b: int) -> None:
            pass

    class NotADataclass:
        pass

    for cls in (NoSlots, NotFrozen, Factory, LeftOut, WithInitVar, NotADataclass):
        before = list(SLOT_INIT_CLASSES)
        with pytest.raises(TypeError):
            slot_init(cls)
        assert before == SLOT_INIT_CLASSES


def test_a_maker_runs_post_init_and_serves_only_decorated_classes() -> None:
    calls: list[object] = []
    Base = _base(calls)  # noqa: N806 - a class
    with pytest.raises(TypeError):
        maker(Base)  # not decorated: no maker
    fast = slot_init(Base)
    try:
        make = maker(fast)
        assert make(1) == fast(1) and make(2, "x", c=(3,)) == fast(2, "x", c=(3,))
        assert type(make(1)) is fast
        made = make(5)
        assert calls[-1] is made  # __post_init__ ran on the object made, as a fast(5)
        with pytest.raises(DecodeError):
            make(-1)
        with pytest.raises(TypeError):
            make(1, "b", (3,))  # c is keyword-only, as in __init__
        with pytest.raises(dataclasses.FrozenInstanceError):
            make(1).a = 2
        # unchecked: the same object, __post_init__ skipped (the caller checked)
        unchecked = maker(fast, checked=False)
        assert unchecked is not make and maker(fast, checked=False) is unchecked
        before = len(calls)
        assert unchecked(2, "x", c=(3,)) == fast(2, "x", c=(3,))
        assert len(calls) == before + 1  # fast's own, not unchecked's
        assert type(unchecked(-1)) is fast  # what __post_init__ would refuse
    finally:
        SLOT_INIT_CLASSES.remove(fast)


def test_an_unchecked_maker_needs_a_post_init_to_skip() -> None:
    with pytest.raises(TypeError, match="nothing to skip"):
        maker(codec.Envelope, checked=False)


def test_a_made_decision_reads_its_pending_audit_record() -> None:
    # Decision.audit is a property over the field's slot (verifier._types): the maker
    # writes the slot, and the property reads it
    decision = Verifier(make_policy(), clock=lambda: NOW).verify(
        standard_presentation().to_bytes(), REQUEST
    )
    fields = [f.name for f in dataclasses.fields(decision)]
    again = maker(type(decision))(**{n: getattr(decision, n) for n in fields})
    assert again == decision and again.audit is decision.audit


def test_a_composed_maker_makes_the_objects_the_classes_make() -> None:
    # a link in one call (as the native core made it before it left the claims to when
    # they are read, verifier/_native_chain._core_link): the window, the claims, the
    # envelope and the signed object the classes themselves make
    link = codec.decode_presentation_unverified(standard_presentation().to_bytes()).links[-1]
    claims, envelope = link.claims, link.envelope
    make = composed(
        codec.Signed,
        claims=composed(model.LinkClaims, window=model.Window),
        envelope=codec.Envelope,
    )
    inner = [f.name for f in dataclasses.fields(model.LinkClaims)]
    expected = [
        *inner[: inner.index("window")],
        "nbf",
        "exp",
        *inner[inner.index("window") + 1 :],
        *(f.name for f in dataclasses.fields(codec.Envelope)),
        "digest",
    ]
    assert list(inspect.signature(make).parameters) == expected
    values = {
        **{f: getattr(claims, f) for f in inner},
        "nbf": claims.window.nbf,
        "exp": claims.window.exp,
        **{f.name: getattr(envelope, f.name) for f in dataclasses.fields(codec.Envelope)},
        "digest": link.digest,
    }
    made = make(*(values[name] for name in expected))
    assert made == link and _pickled(made) == _pickled(link) and hash(made.claims.window)
    for obj, cls in (
        (made, codec.Signed),
        (made.claims, model.LinkClaims),
        (made.claims.window, model.Window),
        (made.envelope, codec.Envelope),
    ):
        assert type(obj) is cls
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, dataclasses.fields(cls)[0].name, None)
    assert made.claims.holder is claims.holder and made.envelope.encoded is envelope.encoded
    with pytest.raises(TypeError):  # every parameter is required
        make(*(values[name] for name in expected[:-1]))


def test_a_composed_maker_runs_post_init_and_refuses_what_it_cannot_make() -> None:
    calls: list[object] = []
    Base = slot_init(_base(calls))  # noqa: N806 - a class
    try:

        @slot_init
        @dataclasses.dataclass(frozen=True, slots=True)
        class Outer:
            inner: Any
            d: int

        try:
            make = composed(Outer, inner=Base)
            assert list(inspect.signature(make).parameters) == ["a", "b", "c", "d"]
            made = make(1, "x", (2,), 3)
            assert calls[-1] is made.inner  # its __post_init__ ran on it
            assert made == Outer(Base(1, "x", c=(2,)), 3)
            with pytest.raises(DecodeError):  # Base's own __post_init__ refuses it
                make(-1, "x", (), 3)
            with pytest.raises(TypeError):  # "d" would be named twice
                composed(Outer, inner=composed(Outer, inner=Base))
            with pytest.raises(TypeError):  # no such field
                composed(Outer, other=Base)
            with pytest.raises(TypeError):  # neither a class nor a composed maker
                composed(Outer, inner=lambda: None)
            with pytest.raises(TypeError):  # a class slot_init did not decorate
                composed(Outer, inner=_twin(Base))
            # the outer object made a subclass that adds no slots, its fields as given
            Sub = type("Sub", (Outer,), {"__slots__": ()})  # noqa: N806 - a class
            sub: Any = composed(Outer, becomes=Sub, inner=Base)(1, "x", (2,), 3)
            kind = type(sub)
            assert kind is Sub and type(sub.inner) is Base and sub.d == 3
            assert calls[-1] is sub.inner
            with pytest.raises(dataclasses.FrozenInstanceError):
                sub.d = 4
            Wider = type("Wider", (Outer,), {"__slots__": ("e",)})  # noqa: N806
            with pytest.raises(TypeError):  # another layout: Python refuses the assignment
                composed(Outer, becomes=Wider, inner=Base)
            with pytest.raises(TypeError):  # not a subclass
                composed(Outer, becomes=Base)
        finally:
            SLOT_INIT_CLASSES.remove(Outer)
    finally:
        SLOT_INIT_CLASSES.remove(Base)
