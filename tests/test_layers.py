"""The package's layering, enforced: every import points down, none sideways, no cycles.

ARCHITECTURE.md describes the layers; this test is their contract. Every import
statement of every module counts, wherever it sits: at the top, inside a
function, or under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "agentchain"

#: unit (first component under agentchain, or "agentchain" for the package's own
#: __init__: the public API) -> layer. A unit imports only from lower layers, or
#: from itself; units of one layer never import each other.
LAYERS: Mapping[str, int] = {
    "errors": 1,
    "limits": 1,
    "_display": 1,  # what a person is shown: escaping and times
    "_frozen": 1,  # the frozen records' faster __init__
    "crypto": 2,
    "wire": 2,
    "store": 2,
    "model": 3,
    "_native": 3,  # the native core or the pure-Python reference, per call (wire and crypto)
    "redis_store": 3,  # the fleet store, on the store protocol; an optional extra
    "codec": 4,
    "policy": 5,
    "_build": 5,  # hand-made (and broken) objects for tests, vectors, strategies and fuzzers
    "issuer": 6,
    "verifier": 6,
    "agentchain": 7,  # the public API: agentchain/__init__.py
    # the surfaces, in the order they may import each other
    "inspection": 8,
    "vectors": 8,
    "bench": 8,
    # the integrations (spec/http.md, spec/mcp.md): on the public API, never under it
    "keys": 8,
    "observe": 8,
    "http": 9,
    "guard": 9,
    "client": 10,
    "fastapi": 10,
    "mcp": 10,
    "demo": 9,
    "testing": 9,
    "cli": 10,
    "_hypothesis": 10,  # hypothesis' entry point: loads agentchain.testing by name
    "__main__": 11,
}

Graph = Mapping[str, frozenset[str]]


def module_name(path: Path) -> str:
    parts = ["agentchain", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(source: str, module: str, *, is_package: bool, known: Iterable[str]) -> set[str]:
    """Every agentchain module ``source`` imports, by its dotted name.

    ``from agentchain import codec`` names the module ``agentchain.codec``;
    ``from agentchain import PrivateKey`` names ``agentchain`` (the public API).
    """
    known = set(known)
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "agentchain")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "agentchain":
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    found.discard(module)
    return found


def package_graph() -> dict[str, frozenset[str]]:
    modules = _modules()
    return {
        name: frozenset(
            imports_of(path.read_text(), name, is_package=path.name == "__init__.py", known=modules)
        )
        for name, path in modules.items()
    }


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "agentchain"


def violations(graph: Graph, layers: Mapping[str, int] = LAYERS) -> list[str]:
    """Each import that points up or sideways, and each module of no known layer."""
    found = []
    for module, targets in sorted(graph.items()):
        here = unit(module)
        if here not in layers:
            found.append(f"{module}: unit {here!r} has no layer in LAYERS")
            continue
        for target in sorted(targets):
            there = unit(target)
            if there == here:
                continue
            if there not in layers:
                found.append(f"{module} -> {target}: unit {there!r} has no layer")
            elif layers[there] > layers[here]:
                found.append(f"{module} -> {target}: points up ({here} {layers[here]} < {there})")
            elif layers[there] == layers[here]:
                found.append(f"{module} -> {target}: points sideways within layer {layers[here]}")
    return found


def cycles(graph: Graph) -> list[list[str]]:
    """Every cycle of imports between modules (one representative path per cycle found)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path: list[str] = [start]
        stack = [iter(sorted(graph.get(start, ())))]
        state[start] = 1
        while stack:
            target = next(stack[-1], None)
            if target is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif not state.get(target):
                state[target] = 1
                path.append(target)
                stack.append(iter(sorted(graph.get(target, ()))))
    return found


def test_every_unit_has_a_layer() -> None:
    units = {unit(m) for m in _modules()}
    assert units <= set(LAYERS), sorted(units - set(LAYERS))
    assert set(LAYERS) <= units, f"LAYERS names units that no longer exist: {set(LAYERS) - units}"


def test_every_import_points_down() -> None:
    assert violations(package_graph()) == []


def test_no_import_cycles() -> None:
    assert cycles(package_graph()) == []


def test_the_graph_sees_imports_in_functions_and_type_checking_blocks() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from agentchain.verifier import Verifier\n"
        "def f():\n"
        "    import agentchain.cli\n"
        "    from . import _keys\n"
    )
    known = {"agentchain.codec._keys", "agentchain.cli", "agentchain.verifier"}
    found = imports_of(source, "agentchain.codec._x", is_package=False, known=known)
    assert found == {"agentchain.verifier", "agentchain.cli", "agentchain.codec._keys"}


def test_the_check_fails_on_the_codec_to_policy_edge_of_0_1_0() -> None:
    # 0.1.0's codec.py began with `from agentchain import policy` (for the caveat
    # syntax); fed that module, the checker must refuse it.
    known = set(_modules())
    edges = imports_of(
        "from agentchain import policy\n", "agentchain.codec._claims", is_package=False, known=known
    )
    graph = {**package_graph(), "agentchain.codec._claims": frozenset(edges)}
    assert violations(graph) == [
        "agentchain.codec._claims -> agentchain.policy: points up (codec 4 < policy)"
    ]


@pytest.mark.parametrize(
    ("module", "target", "message"),
    [
        ("agentchain.model._claims", "agentchain.codec", "points up"),
        ("agentchain.wire.cbor", "agentchain.crypto", "points sideways"),
        ("agentchain.issuer._issuer", "agentchain.verifier", "points sideways"),
        ("agentchain.verifier._verifier", "agentchain", "points up"),
        ("agentchain.errors", "agentchain.cli", "points up"),
    ],
)
def test_the_check_fails_on_an_added_upward_or_sideways_import(
    module: str, target: str, message: str
) -> None:
    graph = dict(package_graph())
    graph[module] = graph[module] | {target}
    [found] = violations(graph)
    assert found.startswith(f"{module} -> {target}: {message}")


def test_the_check_fails_on_a_cycle_inside_a_package() -> None:
    graph = dict(package_graph())
    graph["agentchain.codec._keys"] = graph["agentchain.codec._keys"] | {"agentchain.codec"}
    assert violations(graph) == []  # same unit: only the cycle check can see it
    found = cycles(graph)
    assert found, "the cycle codec -> codec._keys -> codec went unseen"
    assert all(c[0] == c[-1] for c in found)
    assert any({"agentchain.codec", "agentchain.codec._keys"} <= set(c) for c in found)


def test_a_module_outside_every_layer_is_refused() -> None:
    graph = {**package_graph(), "agentchain.plugins": frozenset({"agentchain.errors"})}
    assert violations(graph) == ["agentchain.plugins: unit 'plugins' has no layer in LAYERS"]


def test_inspect_and_verify_share_one_function_per_check() -> None:
    # spec 11.1: inspect reports what verify would reject; it must never re-implement a
    # rule. Every check inspect runs is the verifier's own function object...
    from agentchain import inspection
    from agentchain.verifier import _checks, _run, _verifier

    shared = [name for name in vars(_checks) if name.startswith("check_")]
    assert len(shared) >= 10
    for name in shared:
        assert getattr(inspection, name) is getattr(_checks, name), name
        # the verifier runs V1-V3 in _verifier and V4-V11 in _run: each check is one of them
        used = [getattr(m, name) for m in (_verifier, _run) if hasattr(m, name)]
        assert used and all(f is getattr(_checks, name) for f in used), name
    # ...and none calls the model's rules around them
    for module in (inspection, _verifier, _run):
        source = Path(str(module.__file__)).read_text()
        called = {
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call)
        }
        assert not called & {"capabilities_cover", "inside"}, module.__name__


def test_the_code_type_names_exactly_the_registry() -> None:
    # spec 10: one registry of codes; errors.Code lets mypy refuse a misspelt literal code
    import typing

    from agentchain.errors import REGISTRY, Code

    codes = typing.get_args(Code)
    assert len(codes) == len(set(codes))
    assert set(codes) == set(REGISTRY)


def test_every_spec_citation_names_a_section_of_the_spec() -> None:
    # a comment says why and cites the section it implements: the section must exist
    import re

    root = PACKAGE.parent
    spec = (root / "spec" / "agentchain.md").read_text()
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?) ", spec, re.MULTILINE))
    assert {"5.5", "8.2", "9.3", "11"} <= sections
    docs = [root / name for name in ("ARCHITECTURE.md", "CONTRIBUTING.md", "VERSIONING.md")]
    stale = []
    for path in [*sorted(PACKAGE.rglob("*.py")), *docs]:
        for cited in re.finditer(
            r"\bspec (\d[\d.]*)((?:(?:, | and | to )\d[\d.]*)*)", path.read_text()
        ):
            numbers = re.findall(r"\d+(?:\.\d+)*", cited.group(0))
            stale += [(path.name, n) for n in numbers if n not in sections]
    assert stale == []


def test_the_algorithm_registry_is_the_only_allowlist() -> None:
    # spec 3.1: one object per algorithm; everything else derives from the registry
    from agentchain import crypto

    assert crypto.ALGORITHMS == frozenset(crypto.REGISTRY) == {crypto.EDDSA, crypto.ES256}
    assert dict(crypto.COSE_ALG) == {a.name: a.cose_id for a in crypto.REGISTRY.values()}
    for name, algorithm in crypto.REGISTRY.items():
        assert crypto.algorithm(name) is algorithm is crypto.by_cose_id(algorithm.cose_id)
        key = crypto.PrivateKey.generate(name)
        assert key.algorithm is key.public_key.algorithm is algorithm
        assert len(key.sign(b"m")) == algorithm.signature_size
    # no algorithm name is spelt out (compared, mapped, branched on) outside its own module
    owners = {PACKAGE / "crypto" / "_ed25519.py", PACKAGE / "crypto" / "_es256.py"}
    library = [p for p in _modules().values() if unit(module_name(p)) in _LIBRARY]
    spelt = []
    for path in library:
        tree = ast.parse(path.read_text())
        exported = {  # "ES256" in __all__ names the constant, not the algorithm
            id(element)
            for node in tree.body
            if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__"
            for element in ast.walk(node.value)
        }
        spelt += [
            (path.name, node.lineno)
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and node.value in crypto.ALGORITHMS
            and id(node) not in exported
            and path not in owners
        ]
    assert spelt == []


#: the units below the public API: the library proper
_LIBRARY = frozenset(u for u, layer in LAYERS.items() if layer < LAYERS["agentchain"])
