"""`desk compare` and the batch cell it is made of: same seed, same row; sessions side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from desk.batch import Cell, run_cell
from desk.cli import main
from desk.compare import aggregate, equity_chart, sparkline
from tests.conftest import BASE, merge

SMALL: dict[str, Any] = {
    "data": {"synthetic": {"events": 3_000, "scenario": "calm", "alpha_bps": 0.2,
                           "alpha_half_life": 100}},
    "strategy": {"use": "strategies.drift:DriftFilter",
                 "params": {"half_life": 100, "signal_bps": 0.2, "size": 100, "warmup": 100,
                            "enter_bps": 2}},
}


def write_session(folder: Path, name: str, **extra: Any) -> Path:
    data = merge(merge(BASE, SMALL), extra)
    data["strategy"] = SMALL["strategy"]
    data["session"]["name"] = name
    path = folder / f"{name}.toml"
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


def without_wall(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "wall_seconds"}


def test_a_cell_gives_the_same_row_twice_and_a_new_seed_gives_another(tmp_path: Path) -> None:
    path = write_session(tmp_path, "a")
    first = run_cell(Cell(str(path), 3, (), 10.0))
    assert without_wall(first) == without_wall(run_cell(Cell(str(path), 3, (), 10.0)))
    assert first["equity"] != run_cell(Cell(str(path), 4, (), 10.0))["equity"]
    assert first["fills"] > 0
    assert len(first["equity_curve"]) >= 3


def test_overrides_change_the_session_and_the_key(tmp_path: Path) -> None:
    path = write_session(tmp_path, "a")
    plain = Cell(str(path), 1)
    slow = Cell(str(path), 1, (("execution.entry_latency.ms", 500.0),))
    assert plain.key != slow.key
    assert run_cell(plain)["latency_cost"] != run_cell(slow)["latency_cost"]


def test_a_run_that_loses_more_than_the_ruin_level_is_not_a_survivor(tmp_path: Path) -> None:
    path = write_session(tmp_path, "a", execution={"fees": {"taker_bps": 200.0,
                                                             "maker_bps": 200.0}})
    row = run_cell(Cell(str(path), 1, (), 10.0, ruin=0.01))
    assert row["min_equity"] < row["start_cash"] * 0.99
    assert row["ruined"] and not row["survived"]


def test_compare_prints_each_session_over_the_seeds(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    good = write_session(tmp_path, "cheap")
    bad = write_session(tmp_path, "costly", execution={"fees": {"taker_bps": 20.0}})
    assert main(["compare", str(good), str(bad), "--seeds", "2", "--jobs", "1", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["label"] for s in lines] == ["cheap", "costly"]
    assert all(s["runs"] == 2 and s["seeds"] == [1, 2] for s in lines)
    assert lines[1]["fee_cost_mean"] > lines[0]["fee_cost_mean"]


def test_compare_draws_the_equity_chart(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = write_session(tmp_path, "one")
    assert main(["compare", str(path), "--seeds", "2", "--jobs", "1", "--every", "30s"]) == 0
    out = capsys.readouterr().out
    assert "survival" in out and "equity over time" in out


def test_compare_rejects_a_missing_session_in_one_line(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such session file" in err[0]


def test_chart_shares_one_scale_across_sessions() -> None:
    rows = [{"label": label, "seed": 1, "equity": curve[-1], "start_cash": 100.0, "return": 0.0,
             "max_drawdown": 0.0, "survived": True, "ruined": False, "halted": False,
             "shortfall": 0.0, "latency_cost": 0.0, "impact_cost": 0.0, "fee_cost": 0.0,
             "fills": 0, "orders_blocked": 0, "equity_curve": curve}
            for label, curve in (("up", [100.0, 110.0, 120.0]), ("down", [100.0, 90.0, 80.0]))]
    lines = equity_chart(aggregate(rows), width=3)
    assert "80 … 120" in lines[0]
    up_median = next(line for line in lines if line.startswith("up"))
    down_median = next(line for line in lines if line.startswith("down"))
    assert "▅▆█" in up_median and "▅▃▁" in down_median
    assert sparkline([1.0, 1.0], 1.0, 1.0) == "▅▅"
