"""A fleet of verifiers: separate verifier processes sharing one store decide as one verifier.

The same presentation sent to several verifier processes sharing one Redis (or
one SQLite file) is allowed exactly once, and an approval that rides on several
invocations of the same request counts once, whichever process sees it first.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentchain import (
    ApprovalRequirement,
    Descriptor,
    Presentation,
    PrivateKey,
    approve,
    delegate,
    invoke,
    issue,
    request_digest,
)
from agentchain.model import parse_statement as parse
from tests.redis_server import RedisServer, free_port
from tests.store_conformance import SHARED_KINDS, StoreSpec, make_spec, run_together

NOW = 1_800_000_000
API = "https://api.example"
ALICE = PrivateKey.from_seed(bytes([1]) * 32)
AGENT = PrivateKey.from_seed(bytes([2]) * 32)
SUB = PrivateKey.from_seed(bytes([3]) * 32)
PAY = ("payments/create", f"{API}/payments/new")
SEARCH = ("flights/search", f"{API}/flights/x")
OVER_200 = ApprovalRequirement(when=parse([">", ".amount", 200]), actions=("payments",))


def _tokens() -> tuple[Presentation, Presentation]:
    """alice -> agent (payments over 200 need alice's approval) -> sub: depth 2."""
    agent = issue(
        ALICE,
        AGENT.public_key,
        capabilities=[("payments", f"{API}/payments/*"), ("flights", f"{API}/flights/*")],
        depth=1,
        require_approval=[OVER_200],
        now=NOW,
    )
    sub = delegate(
        agent,
        AGENT,
        SUB.public_key,
        capabilities=[("flights/search", f"{API}/flights/*")],
        descriptor=Descriptor(kind="tool", name="sub"),
        now=NOW,
    )
    return agent, sub


# One verifier process: its own store handle, a fixed clock; verifies every
# presentation of the job file in its own order and prints each outcome and reason.
_VERIFIER = """
import json, random, sys
sys.path.insert(0, sys.argv[1])
from agentchain import PublicKey, Request, TrustPolicy, Verifier
from tests.store_conformance import StoreSpec

job = json.loads(open(sys.argv[2]).read())
store = StoreSpec(*job["store"]).open()
policy = TrustPolicy(anchors=(PublicKey.from_jwk(job["anchor"]),), audience=job["audience"])
verifier = Verifier(policy, store=store, clock=lambda: job["now"])
items = list(enumerate(job["items"]))
random.Random(int(sys.argv[3])).shuffle(items)
print("ready", flush=True)
sys.stdin.readline()
results = {}
for index, (hex_, action, resource, args) in items:
    decision = verifier.verify(bytes.fromhex(hex_), Request(action, resource, args))
    results[index] = [decision.outcome.value, [r.code for r in decision.reasons]]
store.close()
print(json.dumps(results), flush=True)
"""


def _run_verifiers(
    spec: StoreSpec, items: list[list[object]], processes: int, tmp: Path
) -> list[dict[str, list[Any]]]:
    job = tmp / "job.json"
    job.write_text(
        json.dumps(
            {
                "store": spec.argv(),
                "anchor": ALICE.public_key.to_jwk(),
                "audience": API,
                "now": NOW + 10,
                "items": items,
            }
        )
    )
    root = str(Path(__file__).resolve().parent.parent)
    argvs = [
        [sys.executable, "-c", _VERIFIER, root, str(job), str(seed)] for seed in range(processes)
    ]
    return [json.loads(out) for out in run_together(argvs, timeout=120)]


@pytest.mark.parametrize("kind", [k for k in SHARED_KINDS if k != "redis-async"])
def test_verifier_processes_allow_each_presentation_once(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # R-8.3-1, R-9.4-3: K verifier processes x M presentations on one shared store
    url = request.getfixturevalue("redis_server").url if kind == "redis" else None
    spec = make_spec(kind, tmp_path, url)
    agent, sub = _tokens()
    items: list[list[object]] = []
    for i in range(12):  # distinct invocations: each allowed once, by whichever process
        args = {"to": f"LIS{i}"}
        p = invoke(
            sub, SUB, audience=API, action=SEARCH[0], resource=SEARCH[1], args=args, now=NOW + 5
        )
        items.append([p.to_bytes().hex(), *SEARCH, args])
    # one approval of one request, riding on four invocations of it: counted once
    pay_args = {"amount": 450}
    approval = approve(ALICE, request_digest(agent.chain_digest, API, *PAY, pay_args), now=NOW)
    for _ in range(4):
        p = invoke(
            agent,
            AGENT,
            audience=API,
            action=PAY[0],
            resource=PAY[1],
            args=pay_args,
            approvals=[approval],
            now=NOW + 5,
        )
        items.append([p.to_bytes().hex(), *PAY, pay_args])
    processes = 4
    results = _run_verifiers(spec, items, processes, tmp_path)
    for index in range(len(items)):
        outcomes = [r[str(index)] for r in results]
        allowed = [o for o in outcomes if o[0] == "allow"]
        if index < 12:
            assert len(allowed) == 1, (index, outcomes)
            assert sorted(o[1] for o in outcomes if o[0] != "allow") == [["replay"]] * (
                processes - 1
            )
    pays = [r[str(i)] for r in results for i in range(12, 16)]
    assert [o[0] for o in pays].count("allow") == 1, pays
    # the other first uses of a payment invocation met an approval already used
    assert sum(o[1] == ["approval_replayed"] for o in pays) == 3, pays


def _at(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_two_cli_verifiers_on_one_redis_allow_once(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    # R-8.3-1: `agentchain verify --store redis://...` in two processes, the same presentation
    _, sub = _tokens()
    args = {"to": "LIS"}
    presentation = invoke(
        sub, SUB, audience=API, action=SEARCH[0], resource=SEARCH[1], args=args, now=NOW + 5
    )
    (tmp_path / "p.txt").write_text(presentation.to_text())
    (tmp_path / "alice.pub.jwk").write_text(json.dumps(ALICE.public_key.to_jwk()))
    store = f"{redis_server.url.rsplit('/', 1)[0]}/3"  # another database: the CLI's default prefix

    def verify(*extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                sys.executable, "-m", "agentchain.cli", "verify",
                "--presentation", str(tmp_path / "p.txt"),
                "--trust", str(tmp_path / "alice.pub.jwk"),
                "--aud", API, "--action", SEARCH[0], "--resource", SEARCH[1],
                "--args", json.dumps(args), "--at", _at(NOW + 10), "--json",
                "--store", store, *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip

    procs = [verify(), verify()]
    outputs = [p.communicate(timeout=60) for p in procs]
    decisions = sorted(
        (json.loads(out)["outcome"], [r["code"] for r in json.loads(out)["reasons"]])
        for out, _ in outputs
    )
    assert decisions == [("allow", []), ("deny", ["replay"])], outputs
    assert sorted(p.returncode for p in procs) == [0, 1], outputs

    # `agentchain revoke-local --store redis://...` is seen by the next verifier process
    revoke = subprocess.run(
        [
            sys.executable, "-m", "agentchain.cli", "revoke-local",
            "--store", store, "--token", str(tmp_path / "p.txt"), "--link", "1",
        ],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert revoke.returncode == 0, revoke.stderr
    again = invoke(
        sub, SUB, audience=API, action=SEARCH[0], resource=SEARCH[1], args=args, now=NOW + 5
    )
    (tmp_path / "p.txt").write_text(again.to_text())
    out, err = verify().communicate(timeout=60)
    assert [r["code"] for r in json.loads(out)["reasons"]] == ["revoked"], (out, err)


def test_cli_store_unreachable_is_an_error_not_a_decision(tmp_path: Path) -> None:
    # R-9.4-4: a closed port: store_error, exit 1, no outcome printed
    _, sub = _tokens()
    presentation = invoke(
        sub, SUB, audience=API, action=SEARCH[0], resource=SEARCH[1], args={}, now=NOW + 5
    )
    (tmp_path / "p.txt").write_text(presentation.to_text())
    (tmp_path / "alice.pub.jwk").write_text(json.dumps(ALICE.public_key.to_jwk()))
    result = subprocess.run(
        [
            sys.executable, "-m", "agentchain.cli", "verify",
            "--presentation", str(tmp_path / "p.txt"), "--trust", str(tmp_path / "alice.pub.jwk"),
            "--aud", API, "--action", SEARCH[0], "--resource", SEARCH[1], "--args", "{}",
            "--at", _at(NOW + 10), "--json", "--store", f"redis://127.0.0.1:{free_port()}/0",
        ],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.stdout == ""
    assert "store_error" in result.stderr
    assert result.returncode == 1  # an error, never exit 0
