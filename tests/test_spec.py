"""The specification against the code and the tests (spec/*.md, spec/agentchain.cddl).

- the error code registry table lists exactly ``errors.REGISTRY``, with the same kinds;
- requirement ids are unique across every spec/*.md (agentchain.md, jose.md, ...);
- every CDDL rule referenced is defined;
- citation ratchet: every requirement id is cited by some test (as ``# R-x.y-n``) or by a
  conformance case (vectors/v1, run by tests/test_vectors.py), or listed in
  ``tests/spec_uncited.txt``, and that list only shrinks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from agentchain.errors import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "agentchain.md"
CDDL = ROOT / "spec" / "agentchain.cddl"
TESTS = Path(__file__).resolve().parent
UNCITED = TESTS / "spec_uncited.txt"

#: R-5.1-2 in agentchain.md, R-J.3-4 in jose.md
_ID = r"R-(?:\d+|[A-Z])(?:\.\d+)*-\d+"
_ID_DEF = re.compile(rf"\[({_ID})\]")


def _spec() -> str:
    return SPEC.read_text(encoding="utf-8")


def _registry_table() -> dict[str, str]:
    text = _spec()
    start = re.search(r"^## \d+ Error code registry$", text, re.MULTILINE)
    assert start is not None, "no 'Error code registry' section"
    section = text[start.end() :]
    end = re.search(r"^## ", section, re.MULTILINE)
    section = section[: end.start()] if end else section
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 2:
            continue
        match = re.fullmatch(r"`([a-z0-9_]+)`", cells[0])
        if match is None:
            continue  # header and separator rows
        assert match.group(1) not in rows, f"{match.group(1)} listed twice"
        rows[match.group(1)] = cells[1]
    return rows


def test_registry_table_matches_the_code() -> None:
    table = _registry_table()
    expected = {code: info.kind.value for code, info in REGISTRY.items()}
    assert sorted(set(table) - set(expected)) == [], "codes in the spec but not in REGISTRY"
    assert sorted(set(expected) - set(table)) == [], "codes in REGISTRY but not in the spec"
    assert table == expected


def _ids() -> list[str]:
    return [
        found
        for path in sorted((ROOT / "spec").glob("*.md"))
        for found in _ID_DEF.findall(path.read_text(encoding="utf-8"))
    ]


def test_every_spec_file_is_read() -> None:
    ids = _ids()
    assert any(i.startswith("R-J.") for i in ids), "spec/jose.md ids are not collected"
    assert any(i.startswith("R-5.") for i in ids)


def test_requirement_ids_are_unique() -> None:
    ids = _ids()
    assert ids, "the spec defines no requirement ids"
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert dupes == []


def _cddl_rules() -> tuple[set[str], set[str]]:
    text = "\n".join(line.split(";", 1)[0] for line in CDDL.read_text().splitlines())
    defined = set(re.findall(r"^([a-z][a-z0-9-]*)\s*=", text, re.MULTILINE))
    body = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)  # drop string literals
    body = re.sub(r"^[a-z][a-z0-9-]*\s*=", "", body, flags=re.MULTILINE)  # drop rule names
    body = re.sub(r"\b[a-z][a-z0-9-]*\s*:", "", body)  # drop member keys (name: type)
    words = set(re.findall(r"(?<![.\w-])([a-z][a-z0-9-]*)", body))
    prelude = {
        "bstr",
        "tstr",
        "int",
        "uint",
        "nint",
        "float",
        "bool",
        "null",
        "any",
        "true",
        "false",
    }
    return defined, words - prelude


def test_every_cddl_rule_referenced_is_defined() -> None:
    defined, referenced = _cddl_rules()
    assert "container" in defined
    assert sorted(referenced - defined) == []


def _cited() -> set[str]:
    # a conformance case citing an id counts: tests/test_vectors.py runs every case
    cited: set[str] = set()
    for path in sorted((ROOT / "vectors" / "v1").glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")).get("cases", []):
            cited.update(case["spec"])
    for path in sorted(TESTS.glob("*.py")):
        if path.name == Path(__file__).name:
            continue  # this file names ids only as examples
        cited.update(re.findall(_ID, path.read_text(encoding="utf-8")))
    return cited


def test_citation_ratchet() -> None:
    ids = set(_ids())
    cited = _cited() & ids
    uncited = ids - cited
    listed = {
        line.strip()
        for line in UNCITED.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    coverage = f"coverage: {len(cited)}/{len(ids)} requirement ids cited by a test"
    missing = sorted(uncited - listed)
    assert missing == [], (
        f"requirements without a test and not in {UNCITED.name}: cite them in a test "
        f"(# R-x.y-n) or, only for now, list them; {coverage}"
    )
    stale = sorted(listed - uncited)
    assert stale == [], (
        f"{UNCITED.name} lists ids that are now cited or no longer exist: remove them "
        f"(the list only shrinks); {coverage}"
    )
    print(coverage)
