"""`desk bench`: its data follow the benchmark's specification and its runs agree with the floor."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from desk.bench import bench_session, write_session
from desk.benchdata import make_book_rows, make_ticks, write_parquet
from tests.conftest import SHARED


def test_benchmark_ticks_follow_the_spec_and_a_short_file_is_a_prefix_of_a_long_one() -> None:
    long, short = make_ticks(5_000), make_ticks(1_000)
    for name in ("ts", "price", "size"):
        assert np.array_equal(long[name][:1_000], short[name])
    assert long["ts"].dtype == np.int64 and long["size"].dtype == np.int64
    gaps = np.diff(long["ts"])
    assert gaps.min() >= 50_000_000 and gaps.max() <= 150_000_000
    assert long["price"][0] == 100.0
    assert np.allclose(long["price"] * 100, np.rint(long["price"] * 100), atol=1e-6)
    assert long["size"].min() >= 1 and long["size"].max() <= 499


GEN = SHARED / "bench" / "gen_ticks.py"


@pytest.mark.skipif(not GEN.exists(), reason="the shared benchmark generator is absent")
def test_benchmark_ticks_are_identical_to_the_shared_generator() -> None:
    spec = importlib.util.spec_from_file_location("gen_ticks", GEN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    theirs, ours = module.make_ticks(20_000, 42), make_ticks(20_000)
    for name in ("ts", "price", "size"):
        assert np.array_equal(theirs[name], ours[name])


def test_synthetic_book_starts_with_a_snapshot_and_then_sets_levels_near_the_mid() -> None:
    rows = make_book_rows(1_000, levels=10)
    assert rows["snapshot"][:20].all() and not rows["snapshot"][20:].any()
    assert set(np.unique(rows["side"])) == {-1, 1}
    assert (np.diff(rows["ts"]) >= 0).all()
    assert (rows["size"] >= 0).all() and (rows["size"] == 0).any()


def _bench(tmp_path: Path, *args: str) -> dict:
    # a relative --dir, as the default `runs/bench` is: the sessions it writes must still work
    result = subprocess.run([sys.executable, "-m", "desk", "bench", "--repeat", "1", "--dir",
                             "bench", "--json", *args], capture_output=True, text=True,
                            check=True, cwd=tmp_path)
    return json.loads(result.stdout)


def test_bench_runs_desk_the_strategy_alone_and_the_bare_loop_and_all_make_the_same_orders(
        tmp_path: Path) -> None:
    result = _bench(tmp_path, "--events", "3000")
    assert result["market_events"] == 3_000
    assert result["orders"] > 20
    assert result["orders"] == result["floor_orders"] == result["strategy_orders"] \
        == result["fills"]
    assert result["strategy_wall_s"] > 0 and result["strategy_ratio"] > 0
    assert result["events"] == 3_000 + 2 * result["orders"]  # each order: arrival and fill report
    assert result["desk_wall_s"] > 0 and result["floor_wall_s"] > 0 and result["desk_peak_mib"] > 0
    # reaching the first event is measured inside the run, so it is shorter than the whole run
    assert 0 < result["first_event_s"] < result["first_run_s"]
    assert (tmp_path / "bench" / "run" / "journal.arrow").exists()


def test_bench_l2_replays_every_level_update_into_book_events(tmp_path: Path) -> None:
    result = _bench(tmp_path, "--l2", "--events", "3000")
    assert result["level_updates"] == 3_000
    assert 500 < result["book_events"] < 3_000


def test_bench_with_a_missing_data_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "desk", "bench", "--data",
                             str(tmp_path / "nope.parquet")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == f"desk: {tmp_path / 'nope.parquet'}: no such data file"


def test_desk_run_headless_never_imports_the_app(tmp_path: Path) -> None:
    data = write_parquet(make_ticks(500), tmp_path / "ticks.parquet")
    session = write_session(bench_session(data, tmp_path / "j.arrow"), tmp_path / "s.toml")
    code = ("import sys; from desk.cli import main; "
            f"assert main(['run', {str(session)!r}, '--json']) == 0; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual' "
            "or m.startswith('desk.app')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
