"""The conformance vectors (vectors/, agentchain.vectors): format, determinism, coverage, harness.

- every file validates against the JSON Schema; flags are documented once and all used;
- regenerating writes byte-identical files to the committed ones (the CI check);
- our verifier agrees with every case (in process), and through the harness protocol in a
  real subprocess, via the ``vectors run`` command;
- every requirement id of the spec is cited by a case or exempted with a reason;
- the runner bites: wrong implementations are reported failing with exact counts.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from collections import Counter
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agentchain.cli import main
from agentchain.errors import REGISTRY, Kind
from agentchain.vectors import runner
from agentchain.vectors.generator.flags import FLAGS
from agentchain.vectors.generator.generate import generate
from agentchain.vectors.harness import run_case

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "vectors"
V1 = VECTORS / "v1"
EXEMPT = VECTORS / "spec_exempt.txt"
WRONG = Path(__file__).resolve().parent / "harnesses" / "wrong_harness.py"
#: the exemption list may only shrink: lower this when you cite an exempted id
#: (22, plus the four ids of spec 8.4's verified-prefix cache, which no vector can observe,
#: plus two issuer-side rules of spec/jose.md, R-J.1-3 and R-J.5-2: an issuer refusing to
#: mix encodings or to put byte strings in JSON, which no verifier input can show; minus
#: R-3.3-4, JWK validation, which the JOSE cases now exercise through holder keys in cnf;
#: plus five of issue 14 that only the command line and the audit log can show: R-9.2-13,
#: R-9.3-4, R-11.1-3, R-11.2-3, R-11.2-4, each tested in tests/test_cli_hardening.py;
#: plus R-4.7-3, the issuer refusing to invoke on an expired token, in tests/test_api_edges.py;
#: minus R-9.4-3, store retention, which the replay-retention cases of issue 17 now cite;
#: plus five of signed revocation (spec 8.5) that sit below or beside one verification:
#: R-8.5-7 acceptance against a chain, R-9.4-6 to R-9.4-8 the store, R-11.1-4 the file,
#: tested in tests/test_revocation.py, test_store_conformance.py, test_revocation_cli.py)
MAX_EXEMPT = 37
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _cases() -> list[dict[str, Any]]:
    return runner.load_cases(V1)


CASES = _cases()


def _impl(*args: str) -> str:
    return " ".join([sys.executable, *args])


def test_every_file_validates_against_the_schema() -> None:
    schema = json.loads((VECTORS / "schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted(V1.glob("*.json"))
    assert len(files) >= 13
    for path in files:
        errors = [e.message for e in validator.iter_errors(json.loads(path.read_text()))]
        assert errors == [], path.name


def test_schema_enums_follow_the_registry_and_the_flags() -> None:
    defs = json.loads((VECTORS / "schema.json").read_text())["$defs"]
    error, decision = defs["result"]["oneOf"]
    assert set(error["properties"]["error"]["enum"]) == {
        c for c, i in REGISTRY.items() if i.kind is Kind.ERROR
    }
    assert set(decision["properties"]["reasons"]["items"]["enum"]) == {
        c for c, i in REGISTRY.items() if i.kind is Kind.DENY
    }
    assert set(defs["flag"]["enum"]) == set(FLAGS)


def test_schema_rejects_a_malformed_case() -> None:
    schema = json.loads((VECTORS / "schema.json").read_text())
    doc = json.loads((V1 / "valid.json").read_text())
    doc["cases"][0]["steps"][0]["expected"] = {"outcome": "deny", "reasons": ["signature_invalid"]}
    assert not jsonschema.Draft202012Validator(schema).is_valid(doc)  # an error code as reason


def test_generation_is_deterministic_and_committed(tmp_path: Path) -> None:
    written = generate(tmp_path)
    for path in written:
        rel = path.relative_to(tmp_path)
        committed = VECTORS / rel
        assert committed.is_file(), f"{rel} is not committed: run agentchain vectors generate"
        assert path.read_bytes() == committed.read_bytes(), f"{rel} differs: regenerate"
    assert {p.name for p in V1.glob("*.json")} == {p.name for p in (tmp_path / "v1").iterdir()}


def test_every_vector_file_has_its_own_case_module() -> None:
    # one module (or package of parts) per vector file, in the order the files are built
    from agentchain.vectors.generator.cases import CATEGORIES

    names = [name for name, _ in CATEGORIES]
    assert sorted(names) == sorted(p.stem for p in V1.glob("*.json") if p.stem != "flags")
    for name, add_cases in CATEGORIES:
        assert add_cases.__module__ == f"agentchain.vectors.generator.cases.{name}"


def test_the_wheel_ships_the_vectors_runner_and_harness_but_not_the_generator(
    tmp_path: Path,
) -> None:
    from hatchling.builders.wheel import WheelBuilder

    (wheel,) = WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    names = set(zipfile.ZipFile(wheel).namelist())
    assert not [n for n in names if n.startswith("agentchain/vectors/generator/")]
    for shipped in ("runner.py", "harness.py", "cli.py", "schema.json"):
        assert f"agentchain/vectors/{shipped}" in names
    assert {f"agentchain/_vectors/v1/{p.name}" for p in V1.glob("*.json")} <= names
    # what agentchain.testing stands on ships with it
    assert {"agentchain/_build.py", "agentchain/testing/__init__.py"} <= names


def test_generate_without_the_generator_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # what an installed wheel looks like: the generator package is absent
    monkeypatch.setitem(sys.modules, "agentchain.vectors.generator.generate", None)
    assert main(["vectors", "generate", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: usage: the vector generator is not installed")
    assert "from a checkout" in err
    assert not list(tmp_path.iterdir())


def test_the_suite_is_large_and_ids_are_stable_slugs() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 200
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)
    by_category = Counter(c["category"] for c in CASES)
    for category in ("valid", "wire", "signature", "chain", "attenuation", "time", "context"):
        assert by_category[category] > 0
    for category in ("attestation", "approval", "revocation", "policy", "limits", "precedence"):
        assert by_category[category] > 0


def test_valid_chains_cover_depths_algorithms_and_encodings() -> None:
    valid = {c["id"]: c for c in CASES if c["category"] == "valid"}
    for depth in range(1, 9):
        for alg in ("eddsa", "es256"):
            for encoding in ("cbor", "jose"):
                case = valid[f"valid-depth-{depth}-{alg}-{encoding}"]
                assert case["encoding"] == encoding
                prefix = {"cbor": "ac1c.", "jose": "ac1j."}[encoding]
                assert case["steps"][0]["presentation"]["text"].startswith(prefix)


def test_jose_cases_exercise_every_rfc_8725_attack() -> None:
    # issue 4: each RFC 8725 attack as an invalid vector, with its exact code
    jose = {c["id"]: c for c in CASES if c["encoding"] == "jose"}
    expected = {
        "jose-alg-none": "alg_not_allowed",
        "jose-alg-hs256-public-key-secret": "alg_not_allowed",
        "jose-alg-rs256": "alg_not_allowed",
        "jose-alg-es256-header-ed25519-key": "alg_not_allowed",
        "jose-alg-eddsa-header-es256-key": "alg_not_allowed",
        "jose-header-jku": "jose_header_forbidden",
        "jose-header-x5u": "jose_header_forbidden",
        "jose-header-x5c": "jose_header_forbidden",
        "jose-header-jwk-embedded": "jose_header_forbidden",
        "jose-header-crit": "jose_crit_unsupported",
        "jose-typ-jwt": "type_mismatch",
        "jose-json-duplicate-header-member": "json_duplicate_key",
        "jose-json-duplicate-payload-member": "json_duplicate_key",
        "jose-b64-stray-bits-signature": "base64_invalid",
        "jose-mix-jws-link-in-cbor-container": "encoding_mixed",
    }
    for case_id, code in expected.items():
        assert jose[case_id]["steps"][0]["expected"] == {"error": code}, case_id
    kid = jose["jose-kid-other-key"]["steps"][0]["expected"]
    assert kid == {"outcome": "allow", "reasons": []}  # R-J.3-5: kid is only a hint
    assert len(jose) >= 100


def test_expected_codes_come_from_the_registry() -> None:
    for case in CASES:
        for step in case["steps"]:
            for result in [step["expected"], *step.get("acceptable", [])]:
                if "error" in result:
                    assert REGISTRY[result["error"]].kind is Kind.ERROR
                else:
                    assert all(REGISTRY[r].kind is Kind.DENY for r in result["reasons"])


def test_flags_are_documented_once_and_all_used() -> None:
    documented = json.loads((V1 / "flags.json").read_text())["flags"]
    assert set(documented) == set(FLAGS)
    used = {f for c in CASES for f in c["flags"]}
    assert used == set(documented), "a documented flag no case uses, or the reverse"


def test_our_verifier_agrees_with_every_case() -> None:
    wrong = {
        c["id"]: run_case(runner.for_implementation(c))
        for c in CASES
        if not all(
            runner.matches(r, s)
            for r, s in zip(run_case(runner.for_implementation(c)), c["steps"], strict=True)
        )
    }
    assert wrong == {}


_BINDINGS = frozenset({"http.md", "mcp.md"})


def _spec_ids() -> list[str]:
    """Every requirement id of every spec/*.md: R-5.1-2 (agentchain.md), R-J.3-4 (jose.md).

    Not the bindings (http.md, mcp.md): they say how a presentation travels, which no
    conformance case can exercise; tests/test_spec.py holds them to a test each.
    """
    files = [f for f in sorted((ROOT / "spec").glob("*.md")) if f.name not in _BINDINGS]
    assert {"agentchain.md", "jose.md", "harness.md"} <= {f.name for f in files}
    pattern = re.compile(r"\[(R-(?:\d+|[A-Z])(?:\.\d+)*-\d+)\]")
    return [rid for f in files for rid in pattern.findall(f.read_text(encoding="utf-8"))]


def _exempt() -> dict[str, str]:
    out = {}
    for line in EXEMPT.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            rid, _, reason = line.partition(" ")
            out[rid] = reason.strip()
    return out


def test_every_requirement_is_cited_by_a_case_or_exempted() -> None:
    ids = set(_spec_ids())
    assert any(i.startswith("R-J.") for i in ids), "spec/jose.md ids are not collected"
    cited = {r for c in CASES for r in c["spec"]}
    exempt = _exempt()
    assert sorted(cited - ids) == [], "cases cite ids the spec does not define"
    assert sorted(ids - cited - set(exempt)) == [], "requirements no case exercises"
    assert sorted(set(exempt) & cited) == [], "exempted ids now cited: remove them"
    assert sorted(set(exempt) - ids) == [], "exempted ids the spec does not define"
    assert all(exempt.values()), "every exemption needs a reason"
    assert len(exempt) <= MAX_EXEMPT, "the exemption list only shrinks"
    print(f"MUST coverage: {len(cited & ids)}/{len(ids)} cited, {len(exempt)} exempted")


def _run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["vectors", "run", *args])
    return code, out.getvalue()


def test_our_harness_passes_every_case_through_a_subprocess() -> None:
    code, out = _run_cli(
        "--impl", _impl("-m", "agentchain.cli", "vectors", "harness"), "--format", "json"
    )
    report = json.loads(out)
    assert report["implementation"]["name"] == "agentchain-python"
    assert (report["passed"], report["failed"], report["errored"]) == (len(CASES), 0, 0)
    assert report["skipped"] == 0
    assert code == 0


def _expected_counts(predicate: Any, cases: list[dict[str, Any]]) -> int:
    return sum(1 for c in cases if all(predicate(s["expected"]) for s in c["steps"]))


#: the deliberately wrong harnesses declare only the cbor encoding
CBOR_CASES = [c for c in CASES if c["encoding"] == "cbor"]
JOSE_CASES = [c for c in CASES if c["encoding"] == "jose"]


def test_runner_reports_an_accept_all_implementation_failing() -> None:
    code, out = _run_cli("--impl", _impl(str(WRONG), "accept-all"), "--format", "json")
    report = json.loads(out)
    passes = _expected_counts(lambda e: e == {"outcome": "allow", "reasons": []}, CBOR_CASES)
    assert 0 < passes < len(CBOR_CASES)
    assert report["passed"] == passes
    assert report["failed"] == len(CBOR_CASES) - passes
    assert (report["errored"], report["skipped"]) == (0, len(JOSE_CASES))
    assert "wire-text-no-prefix" in report["failed_cases"]
    assert code == 1


def test_runner_reports_a_reject_all_implementation_failing_and_counts_skips() -> None:
    code, out = _run_cli("--impl", _impl(str(WRONG), "reject-all"), "--format", "json")
    report = json.loads(out)
    skipped = [c for c in CASES if "approval" in c["features"] or c["encoding"] == "jose"]
    ran = [c for c in CBOR_CASES if "approval" not in c["features"]]
    passes = _expected_counts(lambda e: e == {"error": "signature_invalid"}, ran)
    assert skipped and passes > 0
    assert report["skipped"] == len(skipped)
    assert report["passed"] == passes
    assert report["failed"] == len(ran) - passes
    assert report["errored"] == 0
    assert code == 1


def test_runner_reports_a_crash_mid_run_as_errors() -> None:
    code, out = _run_cli("--impl", _impl(str(WRONG), "crash"), "--format", "json")
    report = json.loads(out)
    first = CASES[:10]
    passes = _expected_counts(lambda e: e == {"outcome": "allow", "reasons": []}, first)
    assert all(c["encoding"] == "cbor" for c in first)
    assert report["passed"] == passes
    assert report["failed"] == 10 - passes
    assert report["errored"] == len(CBOR_CASES) - 10
    assert report["skipped"] == len(JOSE_CASES)  # never sent, so never errored
    assert report["errored_cases"][0] == CASES[10]["id"]
    assert code == 1


def test_runner_skips_and_counts_jose_cases_for_a_cbor_only_implementation() -> None:
    # spec/harness.md 3.1: an undeclared encoding is skipped, counted, never passed
    code, out = _run_cli(
        "--impl", _impl(str(WRONG), "accept-all"), "--format", "json", "--only", "jose-"
    )
    report = json.loads(out)
    jose_ids = [c["id"] for c in JOSE_CASES if c["id"].startswith("jose-")]
    assert len(jose_ids) >= 100
    assert (report["passed"], report["failed"], report["errored"]) == (0, 0, 0)
    assert sorted(report["skipped_cases"]) == sorted(jose_ids)
    assert set(report["skipped_cases"].values()) == {"encoding jose not supported"}
    assert code == 0  # nothing failed; the skips are reported, not passed
    code, out = _run_cli(
        "--impl", _impl(str(WRONG), "accept-all"), "--format", "json", "--only", "valid-depth-"
    )
    report = json.loads(out)
    assert report["skipped"] == 16 and report["passed"] == 16  # the jose half, the cbor half
    assert code == 0


def test_runner_times_out_a_hung_implementation() -> None:
    args = ("--format", "json", "--only", "time-", "--timeout", "0.5")
    code, out = _run_cli("--impl", _impl(str(WRONG), "hang"), *args)
    report = json.loads(out)
    ran = [c for c in CASES if c["id"].startswith("time-")]
    assert report["passed"] + report["failed"] == 1
    assert report["errored"] == len(ran) - 1
    assert "no answer within 0.5s" in report["details"][ran[1]["id"]]
    assert code == 1


def test_runner_human_and_markdown_output() -> None:
    code, out = _run_cli(
        "--impl", _impl(str(WRONG), "crash"), "--format", "markdown", "--only", "valid-depth-1"
    )
    assert code == 0 and "| passed | 2 |" in out
    code, out = _run_cli("--impl", _impl(str(WRONG), "reject-all"), "--only", "valid-depth-1")
    assert code == 1 and "failed: valid-depth-1-eddsa-cbor" in out and out.endswith("FAIL\n")


def test_runner_survives_an_implementation_that_cannot_start() -> None:
    code, out = _run_cli("--impl", "/nonexistent/impl", "--format", "json", "--only", "time-")
    report = json.loads(out)
    assert report["errored"] == len([c for c in CASES if c["id"].startswith("time-")])
    assert code == 2  # issue 14: it cannot start, so it says so (stderr) and stops: a usage error


def test_harness_command_speaks_the_protocol() -> None:
    case = runner.for_implementation(
        next(c for c in CASES if c["id"] == "ctx-replay-same-presentation")
    )
    lines = [
        json.dumps({"cmd": "start", "version": 1}),
        json.dumps({"cmd": "run", "seq": "opaque-7", "case": case}),
        json.dumps({"cmd": "stop"}),
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "agentchain.cli", "vectors", "harness"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
        check=True,
    )
    start, result = (json.loads(line) for line in proc.stdout.splitlines())
    assert start["ready"] is True
    assert start["implementation"]["encodings"] == ["cbor", "jose"]
    assert result == {
        "seq": "opaque-7",
        "results": [
            {"outcome": "allow", "reasons": []},
            {"outcome": "deny", "reasons": ["replay"]},
        ],
    }


@pytest.mark.parametrize("missing", ["expected", "acceptable", "intermediates"])
def test_cases_sent_to_implementations_carry_no_answers(missing: str) -> None:
    for case in CASES[:50]:
        assert all(missing not in s for s in runner.for_implementation(case)["steps"])


def test_matching_honours_acceptable_alternatives_and_nothing_else() -> None:
    step = {"expected": {"error": "cbor_malformed"}, "acceptable": [{"error": "cbor_trailing"}]}
    assert runner.matches({"error": "cbor_trailing", "message": "ignored"}, step)
    assert runner.matches({"error": "cbor_malformed"}, step)
    assert not runner.matches({"error": "schema_invalid"}, step)
    assert not runner.matches({"outcome": "deny", "reasons": ["cbor_malformed"]}, step)
    deny = {"expected": {"outcome": "deny", "reasons": ["expired"]}}
    assert not runner.matches({"outcome": "deny", "reasons": []}, deny)
    assert not runner.matches({"outcome": "allow", "reasons": ["expired"]}, deny)
    assert not runner.matches("deny", deny)
