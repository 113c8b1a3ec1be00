"""`agentchain bench` runs and reports every figure the issue asks for (no timing assertions)."""

from __future__ import annotations

import json
import math
import numbers
import sys
from pathlib import Path
from unittest import mock

import pytest

from agentchain import Verifier, _native, bench, codec
from agentchain.cli import main
from agentchain.codec._memo import caches as codec_caches
from agentchain.crypto import PublicKey
from agentchain.errors import UsageError
from agentchain.limits import Limits
from agentchain.model import LinkClaims, statement_text
from tests.helpers import make_policy

RATIOS = (
    "cold_per_hop_vs_floor",
    "cold_vs_biscuit_depth4",
    "cold_vs_biscuit_depth8",
    "warm_vs_biscuit_depth8",
    "bytes_per_link_vs_biscuit",
)


def test_bench_quick_json_has_every_ratio_and_numeric_medians(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "--quick", "--json", "--rounds", "1", "--iterations", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(RATIOS) <= set(result["ratios"]) and set(RATIOS) <= set(result["targets"])
    assert result["settings"]["encodings"] == ["cbor", "jose"]
    assert result["settings"]["encoding_of_ratios"] == "cbor"
    # the peers are installed in the dev environment, so every ratio is a number,
    # the (on CBOR) and JOSE's alike
    names = [*RATIOS, *(f"{name}_jose" for name in RATIOS)]
    assert all(isinstance(result["ratios"][name], numbers.Real) for name in names)
    medians = result["medians_us"]
    scalars = [medians[k] for k in ("floor", "floor_openssl", "issue", "delegate")]
    depths = [str(d) for d in bench.DEPTHS]
    series = [medians[peer][d] for peer in ("biscuit", "pymacaroons") for d in depths]
    for encoding in ("cbor", "jose"):
        series += [medians["cold"][encoding][d] for d in depths]
        series += [medians["warm"][encoding][d] for d in depths[1:]]
        # a slope over one noisy round per depth: a finite number, its sign is the machine's
        per_hop = result["cold_per_hop_us"][encoding]
        assert isinstance(per_hop, numbers.Real) and math.isfinite(per_hop)
    # the ignore: typeshed's numbers.Real declares no comparison with an int
    assert all(isinstance(v, numbers.Real) and v > 0 for v in scalars + series)  # type: ignore[operator]
    sizes = result["bytes_per_link"]
    assert sizes["cbor"] > 0 and sizes["jose"] > 0 and sizes["biscuit"] > 0
    # JOSE spells the same claims in base64url JSON: more bytes per link than CBOR
    assert sizes["jose"] > sizes["cbor"]
    # issue 13 (protocol 0.2): sizes are deterministic, so the targets are checked here:
    # CBOR at most 1.3 x biscuit's bytes per block for the same content, JOSE at most 2.5 x,
    # and a depth-8 presentation's text form under a common 8 KiB HTTP header limit
    ratios = result["ratios"]
    assert ratios["bytes_per_link_vs_biscuit"] <= 1.3
    assert (
        ratios["bytes_per_link_vs_biscuit_jose"]
        <= result["targets"]["bytes_per_link_vs_biscuit_jose"]
    )
    depth8 = result["presentation_bytes_depth8"]
    for encoding in ("cbor", "jose"):
        assert 0 < depth8[encoding]["binary"] < depth8[encoding]["text"] < 8192
        assert (
            ratios["presentation_text_bytes_depth8" + ("" if encoding == "cbor" else "_jose")]
            == (depth8[encoding]["text"])
        )


def test_bench_reports_both_paths_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    # issue 16: a block per installed backend, each over the floor of its own signature
    # library, with the ratios and targets; the table shows them side by side
    assert main(["bench", "--quick", "--json", "--rounds", "1", "--iterations", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    in_use = result["environment"]["backend"]
    blocks = result["paths"]
    expected = {"pure", "native"} if _native.available() else {"pure"}
    assert set(blocks) == expected and in_use in blocks
    assert in_use == Verifier(make_policy()).backend_name
    for name, block in blocks.items():
        assert (block["implementation"], block["signature_backend"]) == bench._PATHS[name]
        assert block["targets"] == bench.PATH_TARGETS[name]
        assert set(block["met"]) == set(block["targets"])
        figures = [
            block["floor_us"],
            block["worst_us"],
            block["cold_us"]["8"],
            block["warm_us"]["8"],
        ]
        assert all(isinstance(v, numbers.Real) and v > 0 for v in figures)  # type: ignore[operator]
        assert all(isinstance(v, numbers.Real) for v in block["ratios"].values())
    # the rows of the backend in use are the top-level rows (CBOR)
    assert blocks[in_use]["cold_us"] == result["medians_us"]["cold"]["cbor"]
    table = bench.format_table(result)
    assert "side by side" in table and "worst_vs_pure" in table


@pytest.mark.parametrize("encoding", bench.ENCODINGS)
def test_each_encoding_row_measures_tokens_in_that_encoding(encoding: str) -> None:
    keys = bench._keys()
    token = bench._chain(keys, 4, encoding, "test")
    assert len(token.links) == 4
    assert {link.encoding for link in token.links} == {encoding}
    ours = bench._Agentchain(keys, encoding)
    for task in (ours.cold(2), ours.warm(2)):
        assert task.key.split("/")[1] == encoding
        decision = task.prepare()()
        assert getattr(decision, "outcome", None) == "allow"


@pytest.mark.parametrize("encoding", bench.ENCODINGS)
def test_warm_rows_exercise_the_prefix_cache(
    encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # spec 8.4: the known prefix is neither decoded nor checked again, in either encoding:
    # one new link decoded, two signatures (the new link and the invocation), at any depth
    # (counted in the pure backend, whose calls a mock sees; test_native_chain counts the
    # native one's)
    monkeypatch.setenv("AGENTCHAIN_PURE", "1")
    ours = bench._Agentchain(bench._keys(), encoding)
    for depth in (2, 8):
        call = ours.warm(depth).prepare()
        with (
            mock.patch(
                "agentchain.codec._presentation.decode_unverified", wraps=codec.decode_unverified
            ) as decoded,
            mock.patch.object(
                PublicKey, "verify", autospec=True, side_effect=PublicKey.verify
            ) as checked,
        ):
            decision = call()
        assert getattr(decision, "outcome", None) == "allow"
        links = [c for c in decoded.call_args_list if c.args[0] is LinkClaims]
        assert (len(links), checked.call_count) == (1, 2)
        cold = ours.cold(depth).prepare()
        with mock.patch.object(
            PublicKey, "verify", autospec=True, side_effect=PublicKey.verify
        ) as c:
            cold()
        assert c.call_count == depth + 1  # the same count cold: the cache made the difference


def test_an_unknown_encoding_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="encoding"):
        bench._chain(bench._keys(), 1, "xml", "test")


def test_a_missing_peer_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "_optional", lambda module: None)
    result = bench.run(rounds=1, iterations=1, depths=(1, 4, 8))
    assert result["medians_us"]["biscuit"] is None and result["medians_us"]["pymacaroons"] is None
    assert result["ratios"]["cold_vs_biscuit_depth8"] is None
    assert result["ratios"]["cold_per_hop_vs_floor"] is not None
    assert result["ratios"]["cold_vs_biscuit_depth8_jose"] is None
    assert result["ratios"]["cold_per_hop_vs_floor_jose"] is not None
    table = bench.format_table(result)
    assert "not installed" in table and "n/a" in table
    assert "cold (jose)" in table and "warm: 1 new link (jose)" in table


def test_plot_draws_a_png_and_a_missing_matplotlib_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = bench.run(rounds=1, iterations=1, depths=(1, 4, 8))
    out = tmp_path / "bench.png"
    bench.plot(result, str(out))
    assert out.read_bytes().startswith(b"\x89PNG")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import now raises ImportError
    with pytest.raises(UsageError, match="matplotlib"):
        bench.plot(result, str(tmp_path / "again.png"))


def test_the_worst_presentation_is_within_the_default_limits_and_does_all_its_work() -> None:
    # issue 14: the `worst` row times a presentation a verifier with the default limits
    # accepts for decoding, and that spends the whole step budget (R-6.3-2)
    keys = bench._keys()
    data = bench.worst_presentation(keys)
    assert len(data) <= Limits().max_presentation_bytes
    decoded = codec.decode_presentation_unverified(data, Limits())
    assert len(decoded.links) == Limits().max_links
    assert all(len(link.claims.caveats) == Limits().max_caveats for link in decoded.links)
    # two variants share no statement: no cache makes the second cheaper
    other = codec.decode_presentation_unverified(bench.worst_presentation(keys, 1), Limits())
    mine = {statement_text(c.statement) for link in decoded.links for c in link.claims.caveats}
    theirs = {statement_text(c.statement) for link in other.links for c in link.claims.caveats}
    assert len(mine) == 30 + 15 * 32 + 1 and len(mine & theirs) == 1  # the spender recurs
    task, size = bench._worst_task(keys)
    assert size >= len(data) and task.key == "worst"
    # issue 16: what codec remembers by bytes (a link's caveats, its id) would spare the
    # worst case its work on the next turn of a variant: each call starts without it
    codec.decode_presentation_unverified(data, Limits())
    assert any(len(cache) for cache in codec_caches())
    task.prepare()
    assert not any(len(cache) for cache in codec_caches())


def test_the_pure_path_reports_its_cold_per_hop_over_its_own_floor() -> None:
    # issue 16 item 4: the pure-Python path's ratio, under paths.pure, with its target 1.8,
    # over libsodium's floor, whichever path the verifier uses by default
    result = bench.run(rounds=1, iterations=1, depths=(1, 4, 8))
    pure = result["paths"]["pure"]
    assert pure["targets"] == {"cold_per_hop_vs_floor": 1.8} == bench.PATH_TARGETS["pure"]
    assert pure["floor_us"] == round(result["medians_us"]["floor"], 1)
    expected = pure["cold_per_hop_us"]["cbor"] / pure["floor_us"]
    assert pure["ratios"]["cold_per_hop_vs_floor"] == pytest.approx(expected, rel=0.01)
    assert pure["met"]["cold_per_hop_vs_floor"] is (expected <= 1.8)
    table = bench.format_table(result)
    assert "cold_per_hop_vs_floor" in table and "<=1.8" in table


def test_the_floor_is_a_chain_s_signatures_verified_in_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the floor is the signature work a chain's verification meets: the deepest chain's
    # signatures, each under its own signer's key, one verification each, reported per
    # signature; one signature over and over (the floor before) is kept for reference
    seen: list[tuple[bytes, bytes]] = []
    real = bench.crypto_sign_open  # type: ignore[attr-defined]

    def counted(signed: bytes, raw: bytes) -> bytes:
        seen.append((signed[:64], raw))
        return real(signed, raw)

    monkeypatch.setattr(bench, "crypto_sign_open", counted)
    tasks = {t.key: t for t in bench._floor_tasks(bench._keys(), 8)}
    seen.clear()
    tasks["floor"].prepare()()
    assert len(set(seen)) == len(seen) == 8  # eight signatures
    assert len({raw for _, raw in seen}) == 8  # under eight keys
    assert tasks["floor"].per == tasks["floor_openssl"].per == 8
    seen.clear()
    for _ in range(3):
        tasks["floor_repeated"].prepare()()
    assert len(seen) == 3 and len(set(seen)) == 1 and tasks["floor_repeated"].per == 1
    if _native.available():
        assert tasks["floor_native"].per == 8 and tasks["floor_native_repeated"].per == 1
    # a call of ``per`` units is reported per unit: 8 us a call is 1 us a signature
    ticks = iter(range(0, 10**9, 8_000))
    monkeypatch.setattr(bench.time, "perf_counter_ns", lambda: next(ticks))  # type: ignore[attr-defined]
    measured = bench._measure([tasks["floor"], tasks["floor_repeated"]], 1, 3)
    assert measured == {"floor": 1.0, "floor_repeated": 8.0}


def test_the_paths_report_the_repeated_floor_beside_their_own() -> None:
    result = bench.run(rounds=1, iterations=1, depths=(1, 4, 8))
    assert result["medians_us"]["floor_repeated"] > 0
    for block in result["paths"].values():
        hop = block["cold_per_hop_us"]["cbor"]
        repeated = block["floor_repeated_us"]
        assert repeated > 0
        ratio = block["cold_per_hop_vs_repeated_floor"]
        assert ratio == pytest.approx(hop / repeated, rel=0.01)
        assert "cold_per_hop_vs_repeated_floor" not in block["targets"]
    assert "one signature repeated" in bench.format_table(result)
