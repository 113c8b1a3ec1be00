"""A faster ``__init__`` for the frozen, slotted dataclasses every verification makes.

``@dataclass(frozen=True)`` writes each field of a new object with
``object.__setattr__(self, name, value)``, since its own ``__setattr__`` refuses every
write; that call finds the field's slot by name, every time. Measured here with
``timeit``: a frozen record of 3 fields took 0.75 us to make against 0.18 us for the same
record unfrozen, and one of 12 fields (a link's claims) 1.57 us. A verification makes
about 25 fields of such records per link (claims, window, envelope, the signed object) and
about 70 more per request (the invocation, the presentation, the decision...).

:func:`slot_init` gives such a class an ``__init__`` that stores each field through its
slot's own descriptor, found once when the class is made. Nothing else changes: the
parameters (names, order, defaults, keyword-only ones), ``__post_init__``, equality,
hashing, ``repr``, pickling and the refusal of every later write are the dataclass's
own, and ``tests/test_frozen.py`` holds every decorated class to that. The 12-field record
takes 0.86 us; a verification runs about 5% fewer instructions on either path
(``valgrind --tool=callgrind``, depth 1 and 8).

:func:`maker` goes further for the few records made on every verification, where
``type.__call__`` and the ``__init__`` frame cost as much as the fields: a function with the
same parameters that fills a twin of the class (its slots, without the frozen
``__setattr__``) with plain stores and then makes the object an instance of the class
(``__class__`` assignment, allowed exactly between layouts that agree). A link's claims
(12 fields) take about 0.6 us instead of 1.4, its envelope (8) 0.5 instead of 1.0, a signed
object (3) 0.43 instead of 0.53; a window (2) would take longer (0.51 against 0.44), so it
keeps ``Window(...)``.

:func:`composed` makes several such records in one call, the outer record's fields holding
the inner ones: the native core makes a link (its window, claims, envelope and signed
object) with one call from Rust, in 0.8 us instead of 1.1 for ``Window(...)`` and three
makers (``timeit``).

Layer 1: imports nothing of agentchain.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from collections.abc import Callable
from typing import Any, Final, ParamSpec, TypeVar, cast

__all__ = ["SLOT_INIT_CLASSES", "composed", "maker", "slot_init"]

T = TypeVar("T")
P = ParamSpec("P")

#: every class :func:`slot_init` decorated, for the tests that hold them to the dataclass
SLOT_INIT_CLASSES: Final[list[type]] = []


def slot_init(cls: type[T]) -> type[T]:
    """Decorate a class made by ``@dataclass(frozen=True, slots=True)`` (apply this one
    above it); refuse, at import, any class it cannot serve exactly: not a frozen slotted
    dataclass, a field left out of ``__init__``, a default factory, or an ``InitVar``."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__qualname__}: slot_init serves frozen, slotted dataclasses")
    generated = cls.__init__
    signature = inspect.signature(generated)
    header, scope = _parameters(cls, signature)
    body: list[str] = []
    for index, name in enumerate(_field_names(cls)):
        # the member descriptor of the field's slot: what object.__setattr__ ends up calling
        scope[f"_store_{index}"] = cls.__dict__[name].__set__
        body.append(f"    _store_{index}(self, {name})\n")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()\n")
    if not body:
        body.append("    pass\n")
    init = _compiled("__init__", f"self, {header}", body, scope)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = dict(generated.__annotations__)
    init.__doc__ = generated.__doc__
    if inspect.signature(init) != signature:  # pragma: no cover - refused above, case by case
        raise TypeError(f"{cls.__qualname__}: slot_init would change __init__'s signature")
    cls.__init__ = init  # type: ignore[method-assign]
    SLOT_INIT_CLASSES.append(cls)
    return cls


def _field_names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _parameters(cls: type, signature: inspect.Signature) -> tuple[str, dict[str, object]]:
    """The parameter list of ``cls``'s ``__init__`` as source (without ``self``), and the
    scope its defaults are found in; refuse what :func:`slot_init` cannot serve exactly."""
    fields = dataclasses.fields(cls)
    if [p for p in signature.parameters if p != "self"] != [f.name for f in fields]:
        raise TypeError(f"{cls.__qualname__}: every field, and only fields, in __init__")
    header: list[str] = []
    scope: dict[str, object] = {}
    keyword_only = False
    for index, field in enumerate(fields):
        if field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__qualname__}.{field.name}: a default factory")
        parameter = signature.parameters[field.name]
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and not keyword_only:
            header.append("*")
            keyword_only = True
        if parameter.default is inspect.Parameter.empty:
            header.append(field.name)
        else:
            scope[f"_default_{index}"] = parameter.default
            header.append(f"{field.name}=_default_{index}")
    return ", ".join(header), scope


def _compiled(name: str, header: str, body: list[str], scope: dict[str, object]) -> Any:
    source = f"def {name}({header}):\n" + "".join(body)
    made: dict[str, object] = {}
    # the source is built from field names (Python identifiers) alone, as dataclasses does
    exec(source, scope, made)  # noqa: S102
    return made[name]


_MAKERS: Final[dict[tuple[type, bool], Callable[..., object]]] = {}


def maker(cls: Callable[P, T], *, checked: bool = True) -> Callable[P, T]:
    """A function that makes a ``cls`` (a class :func:`slot_init` decorated) exactly as
    ``cls(...)`` does, with the same parameters, up to twice as fast: for the records made
    on every verification (a link's claims, envelope and signed object, the invocation's
    claims, the chain's facts, the decision).

    ``cls(...)`` pays for ``type.__call__`` and a frame for ``__init__``, and each field of a
    frozen record is written through a call (``object.__setattr__``, or :func:`slot_init`'s
    slot descriptor). The function made here writes the fields of a new object of a twin
    class: the same slots in the same places, but no frozen ``__setattr__``, so each write
    is the interpreter's plain store into a slot. It then makes the object a ``cls``
    (``__class__`` assignment, which Python allows exactly between classes of the same
    layout and checks) and runs ``__post_init__`` where ``cls`` has one. The object is
    then what ``cls(...)`` makes: ``tests/test_frozen.py`` holds every decorated class to
    that. Where the twin cannot stand in for ``cls``, ``cls`` itself is returned.

    With ``checked=False`` the function skips ``__post_init__``, for a class whose
    ``__post_init__`` only checks, and a caller that has established what it checks (the
    native core's presentation, every object of which it read as COSE, where the check
    would read every link's envelope and so make it); TypeError for a class without one.
    """
    key = (cast(type, cls), checked)
    made = _MAKERS.get(key)
    if made is None:
        made = _MAKERS[key] = _make_maker(cast(type, cls), checked=checked)
    return cast("Callable[P, T]", made)


def _twin_of(cls: type) -> type | None:
    """A twin of ``cls`` (a class :func:`slot_init` decorated): its slots over its own bases
    (a generic class keeps its Generic base), without the frozen ``__setattr__``; None
    where an object of the twin could not become a ``cls``."""
    if cls not in SLOT_INIT_CLASSES:
        raise TypeError(f"{cls.__qualname__}: a maker serves a class slot_init decorated")
    bases = cls.__dict__.get("__orig_bases__", cls.__bases__)
    twin = types.new_class(
        f"_{cls.__name__}Fields",
        bases,
        exec_body=lambda namespace: namespace.update(__slots__=cls.__dict__["__slots__"]),
    )
    probe: Any = object.__new__(twin)
    try:
        probe.__class__ = cls
    except TypeError:  # pragma: no cover - every decorated class takes it (the tests)
        return None
    return twin


def _make_maker(cls: type, *, checked: bool = True) -> Callable[..., object]:
    if not checked and not hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__qualname__}: nothing to skip (no __post_init__)")
    twin = _twin_of(cls)
    if twin is None:  # pragma: no cover - every decorated class has a twin (the tests)
        return cls
    header, scope = _parameters(cls, inspect.signature(cls))
    scope.update(_twin=twin, _cls=cls)
    # the twin's own call: object's __new__ and __init__, faster than object.__new__(twin)
    body = ["    self = _twin()\n"]
    body += [f"    self.{name} = {name}\n" for name in _field_names(cls)]
    body.append("    self.__class__ = _cls\n")
    if checked and hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()\n")
    body.append("    return self\n")
    made = _compiled("make", header, body, scope)
    made.__qualname__ = f"maker({cls.__qualname__})"
    made.__module__ = cls.__module__
    return made  # type: ignore[no-any-return]


def composed(
    cls: type, *, becomes: type | None = None, **inner: type | Callable[..., object]
) -> Callable[..., Any]:
    """One function that makes a ``cls`` whose fields named in ``inner`` are objects it makes
    too: ``composed(Signed, claims=composed(LinkClaims, window=Window), envelope=Envelope)``
    makes a window, a link's claims, an envelope and the signed object in one call, as
    ``Signed(LinkClaims(..., Window(nbf, exp), ...), Envelope(...), digest)`` would.

    Its parameters are the fields of ``cls`` in order, each field of ``inner`` replaced by
    the parameters of what makes it; every one is required (a default inside would stand
    before fields without one). Each object is filled as :func:`maker` fills it, then
    ``__post_init__`` runs where its class has one, innermost first. For the object the
    native core makes per link: one call from Rust instead of one per object, and no
    ``type.__call__``. A parameter name met twice is refused when the function is made.

    With ``becomes``, a subclass of ``cls`` that adds no slots (``__slots__ = ()``), the
    outer object is made one of those instead (the verifier's links whose claims the
    native core makes when first read); TypeError, when the function is made, where
    Python would refuse that ``__class__`` assignment.
    """
    parts = _composition(cls, inner)
    if becomes is not None:
        outer = _twin_of(cls)
        if outer is None or not issubclass(becomes, cls):
            name = cls.__qualname__
            raise TypeError(f"composed({name}): {becomes.__qualname__} is no {name} subclass")
        probe: Any = object.__new__(outer)
        probe.__class__ = becomes  # TypeError unless the layouts agree
    scope: dict[str, object] = {}
    params: list[str] = []
    body: list[str] = []

    def emit(part: tuple[type, dict[str, Any]]) -> str:
        made_cls, nested = part
        values: dict[str, str] = {}
        for field in _field_names(made_cls):
            if field in nested:
                values[field] = emit(nested[field])
            elif field in params:
                raise TypeError(f"composed({cls.__qualname__}): {field!r} is named twice")
            else:
                params.append(field)
                values[field] = field
        twin = _twin_of(made_cls)
        if twin is None:  # pragma: no cover - every decorated class has a twin (the tests)
            raise TypeError(f"{made_cls.__qualname__}: no twin")
        index = len(scope) // 2
        final = becomes if made_cls is cls and becomes is not None else made_cls
        scope[f"_twin_{index}"], scope[f"_cls_{index}"] = twin, final
        name = f"_made_{index}"
        body.append(f"    {name} = _twin_{index}()\n")
        body.extend(f"    {name}.{field} = {value}\n" for field, value in values.items())
        body.append(f"    {name}.__class__ = _cls_{index}\n")
        if hasattr(made_cls, "__post_init__"):
            body.append(f"    {name}.__post_init__()\n")
        return name

    body.append(f"    return {emit(parts)}\n")
    made = _compiled("make", ", ".join(params), body, scope)
    made.__qualname__ = f"composed({cls.__qualname__})"
    made.__module__ = cls.__module__
    _COMPOSITIONS[made] = parts
    return made  # type: ignore[no-any-return]


#: what :func:`composed` returns, described: the class and the composition of its fields
_COMPOSITIONS: Final[dict[Callable[..., object], tuple[type, dict[str, Any]]]] = {}


def _composition(cls: type, inner: dict[str, Any]) -> tuple[type, dict[str, Any]]:
    fields = set(_field_names(cls)) if dataclasses.is_dataclass(cls) else set()
    unknown = sorted(set(inner) - fields)
    if unknown:
        raise TypeError(f"composed({cls.__qualname__}): no field {', '.join(unknown)}")
    nested: dict[str, Any] = {}
    for field, part in inner.items():
        if isinstance(part, type):
            nested[field] = (part, {})
        elif part in _COMPOSITIONS:
            nested[field] = _COMPOSITIONS[part]
        else:
            raise TypeError(f"composed({cls.__qualname__}).{field}: a class or a composed()")
    return cls, nested
