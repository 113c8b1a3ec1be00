"""pytest-benchmark suite: the contenders of ``agentchain bench``, one benchmark each.

Not collected by the normal test run (testpaths is tests/). Run it with::

    PYTHONPATH=. python -m pytest benchmarks/ --benchmark-group-by=param:depth

It reuses the set-up of :mod:`agentchain.bench`, so both measure the same tokens:
a chain of ``depth`` links with one caveat each, a biscuit of ``depth`` blocks with
one check each, a macaroon of ``depth`` first-party caveats.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from agentchain import bench
from agentchain.codec import Encoding

DEPTHS = bench.DEPTHS
_keys = bench._keys()
_ours = {encoding: bench._Agentchain(_keys, encoding) for encoding in bench.ENCODINGS}
_biscuit = {t.key: t for t in bench._biscuit_tasks(DEPTHS)[0]}
_macaroons = {t.key: t for t in bench._macaroon_tasks(DEPTHS)}


def _run(benchmark: BenchmarkFixture, task: bench._Task) -> None:
    # a fresh call (fresh verifier and store, a primed cache for warm) for every round
    # (the ignore: pytest-benchmark ships py.typed but leaves pedantic unannotated)
    benchmark.pedantic(lambda call: call(), setup=lambda: ((task.prepare(),), {}), rounds=50)  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("backend", ["floor", "floor_openssl"])
def test_signature_floor(benchmark: BenchmarkFixture, backend: str) -> None:
    # one link's signature, one verification a round (the bench's floor is per signature)
    (task,) = [t for t in bench._floor_tasks(_keys, 1) if t.key == backend]
    _run(benchmark, task)


@pytest.mark.parametrize("encoding", bench.ENCODINGS)
@pytest.mark.parametrize("depth", DEPTHS)
def test_cold_verify(benchmark: BenchmarkFixture, depth: int, encoding: Encoding) -> None:
    _run(benchmark, _ours[encoding].cold(depth))


@pytest.mark.parametrize("encoding", bench.ENCODINGS)
@pytest.mark.parametrize("depth", [d for d in DEPTHS if d > 1])
def test_warm_verify(benchmark: BenchmarkFixture, depth: int, encoding: Encoding) -> None:
    _run(benchmark, _ours[encoding].warm(depth))


@pytest.mark.parametrize("depth", DEPTHS)
def test_biscuit_verify(benchmark: BenchmarkFixture, depth: int) -> None:
    if not _biscuit:
        pytest.skip("biscuit-python is not installed")
    _run(benchmark, _biscuit[f"biscuit/{depth}"])


@pytest.mark.parametrize("depth", DEPTHS)
def test_pymacaroons_verify(benchmark: BenchmarkFixture, depth: int) -> None:
    if not _macaroons:
        pytest.skip("pymacaroons is not installed")
    _run(benchmark, _macaroons[f"pymacaroons/{depth}"])


def test_issue(benchmark: BenchmarkFixture) -> None:
    _run(benchmark, _ours["cbor"].issue_task())


def test_delegate(benchmark: BenchmarkFixture) -> None:
    _run(benchmark, _ours["cbor"].delegate_task())
