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
from desk.errors import SessionError
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


def test_a_cell_key_is_the_resolved_path_and_the_text_of_the_session(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_session(tmp_path / "a", "s")
    second = write_session(tmp_path / "b", "s")
    assert first.read_text() == second.read_text()
    assert Cell(str(first), 1).key != Cell(str(second), 1).key
    monkeypatch.chdir(tmp_path)
    relative = Cell("a/s.toml", 1)
    assert relative.session == str(first.resolve()) and relative.key == Cell(str(first), 1).key
    first.write_text(first.read_text() + "# edited\n")
    assert Cell(str(first), 1).key != relative.key


def test_a_cell_runs_without_its_session_file_in_any_working_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    t0 = 1_704_205_800_000_000_000
    folder = tmp_path / "here"
    folder.mkdir()
    lines = ["ts,price,size"] + [f"{t0 + i * 1_000_000_000},{100 + i % 7 / 100:.2f},5"
                                 for i in range(200)]
    (folder / "trades.csv").write_text("\n".join(lines) + "\n")
    session = folder / "session.toml"
    session.write_text(tomli_w.dumps({"data": {"files": [{"path": "trades.csv", "kind": "trade"}]},
                                      "instruments": [{"symbol": "ACME"}],
                                      "strategy": SMALL["strategy"]}))
    monkeypatch.chdir(folder)
    cell = Cell("session.toml", 1, (), 10.0)
    expected = without_wall(run_cell(cell))
    session.unlink()  # a worker has only the cell; the data file is found from the cell's path
    monkeypatch.chdir(tmp_path)
    assert without_wall(run_cell(cell)) == expected
    assert expected["events"] >= 200


def test_a_zero_or_tiny_curve_interval_is_refused_not_run_forever(tmp_path: Path) -> None:
    path = write_session(tmp_path, "a")
    with pytest.raises(SessionError, match="positive number of seconds"):
        run_cell(Cell(str(path), 1, (), 0.0))
    with pytest.raises(SessionError, match="give a longer interval"):
        run_cell(Cell(str(path), 1, (), 1e-6))


def test_same_file_names_in_two_folders_are_two_columns(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    for folder, fee in (("a", 0.5), ("b", 20.0)):
        (tmp_path / folder).mkdir()
        write_session(tmp_path / folder, "s", execution={"fees": {"taker_bps": fee}})
    paths = [str(tmp_path / "a" / "s.toml"), str(tmp_path / "b" / "s.toml")]
    assert main(["compare", *paths, "--seeds", "1", "--jobs", "1", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["label"] for s in lines] == paths
    assert lines[1]["fee_cost_mean"] > lines[0]["fee_cost_mean"]


def test_the_same_file_twice_is_two_equal_columns(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write_session(tmp_path, "one"))
    assert main(["compare", path, path, "--seeds", "2", "--jobs", "2", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["label"] for s in lines] == [f"{path} #1", f"{path} #2"]
    assert all(s["runs"] == 2 and s["seeds"] == [1, 2] for s in lines)
    assert {k: v for k, v in lines[0].items() if k != "label"} == \
        {k: v for k, v in lines[1].items() if k != "label"}


def test_runs_prints_one_line_per_session_and_seed_that_the_table_summarises(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = str(write_session(tmp_path, "cheap"))
    bad = str(write_session(tmp_path, "costly", execution={"fees": {"taker_bps": 20.0}}))
    assert main(["compare", good, bad, "--seeds", "2", "--jobs", "1", "--json"]) == 0
    sessions = {s["label"]: s for s in map(json.loads, capsys.readouterr().out.splitlines())}
    assert main(["compare", good, bad, "--seeds", "2", "--jobs", "1", "--runs"]) == 0
    runs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["label"], r["seed"]) for r in runs] == \
        [("cheap", 1), ("cheap", 2), ("costly", 1), ("costly", 2)]
    for label, summary in sessions.items():
        mine = [r for r in runs if r["label"] == label]
        assert sum(r["equity"] for r in mine) / 2 == pytest.approx(summary["equity_mean"])
        assert sum(r["fee_cost"] for r in mine) / 2 == pytest.approx(summary["fee_cost_mean"])
    assert "equity_curve" not in runs[0] and "wall_seconds" not in runs[0]


@pytest.mark.parametrize(("option", "says"), [
    (["--every", "0"], "--every: '0' must be a positive duration"),
    (["--every=-30s"], "--every: '-30s' must be a positive duration"),
    (["--every", "-5s"], "--every: '-5s' must be a positive duration"),
    (["--every", "-5"], "--every: '-5' must be a positive duration"),
    (["--every", "-0.5m"], "--every: '-0.5m' must be a positive duration"),
    (["--every", "0s"], "--every: '0s' must be a positive duration"),
    (["--every", "nan"], "--every: 'nan' must be a positive duration"),
    (["--width", "0"], "--width: 0 must be at least 10"),
    (["--jobs", "0"], "--jobs: 0 must be at least 1"),
    (["--seeds", "0"], "--seeds: 0 must be at least 1"),
])
def test_compare_rejects_a_bad_option_in_one_line(tmp_path: Path, option: list[str], says: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = write_session(tmp_path, "one")
    assert main(["compare", str(path), *option]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0]


def test_compare_refuses_json_and_runs_together_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_session(tmp_path, "one")
    with pytest.raises(SystemExit) as exited:
        main(["compare", str(path), "--json", "--runs"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip() == ("desk compare: argument --runs: not allowed with "
                                               "argument --json (see desk compare --help)")


def test_piped_compare_prints_whole_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    names = [f"a-rather-long-session-name-number-{i}" for i in range(3)]
    paths = [str(write_session(tmp_path, name)) for name in names]
    assert main(["compare", *paths, "--seeds", "1", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "figure" in line)
    assert all(name in header for name in names) and len(header) > 80


def test_a_narrow_screen_shows_every_value_whole_one_session_after_another(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [str(write_session(tmp_path, name)) for name in ("left", "right")]
    assert main(["compare", *paths, "--seeds", "2", "--jobs", "1", "--json"]) == 0
    stats = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    monkeypatch.setenv("COLUMNS", "30")
    assert main(["compare", *paths, "--seeds", "2", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    table = out.split("equity over time")[0].replace("(1…2)", "")  # the title's seeds
    assert "…" not in table  # before: `100,5…`, a cut figure that reads as another number
    for stat in stats:
        assert f"{stat['equity_p10']:,.0f} – {stat['equity_p90']:,.0f}" in table
        assert f"{stat['equity_median']:,.0f}" in table
    assert table.index("left") < table.index("right")
