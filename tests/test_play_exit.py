"""`desk play` exits as `desk run` does: 2 when bad input stops the run, 1 for a bug of desk."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_run import run_cli

from desk.app.desk_app import DeskApp
from desk.pace_clock import SPEEDS
from desk.runner import RunState

SESSION = """
instruments = [{{ symbol = "ACME", tick_size = 0.01, lot_size = 1 }}]
[session]
name = "bad-row"
[data]
files = [{{ path = "{data}", kind = "trade", instrument = "ACME" }}]
batch_rows = 10
[strategy]
use = "strategies.bench_momentum:BenchMomentum"
"""


def _session(tmp_path: Path, bad_price: float) -> Path:
    """A trade file whose 41st row has `bad_price`: read in batches of 10, the run starts first."""
    prices = [100.0 + i * 0.01 for i in range(60)]
    prices[40] = bad_price
    table = pa.table({"ts": pa.array([1_704_200_000_000_000_000 + i * 1_000_000_000
                                      for i in range(60)], pa.int64()),
                      "price": prices, "size": [1.0] * 60})
    pq.write_table(table, tmp_path / "trades.parquet")
    path = tmp_path / "bad-row.toml"
    path.write_text(SESSION.format(data="trades.parquet"))
    return path


def _play_to_the_end(app: DeskApp) -> None:
    """The app's run, without a terminal: the runner at full speed until it stops."""
    runner = app.runner
    runner.speed_index = len(SPEEDS) - 1
    runner.resume()
    while runner.state not in (RunState.FAILED, RunState.FINISHED):
        runner.run_slice()


def test_play_exits_2_when_bad_data_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(DeskApp, "run", _play_to_the_end)
    session = _session(tmp_path, -5.0)
    assert run_cli(["play", str(session), "--out", str(tmp_path / "out")]) == 2
    said = capsys.readouterr()
    assert "trades.parquet" in said.err and "row 41" in said.err and said.out == ""


def test_play_exits_1_for_a_fault_of_desk_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def exploding(app: DeskApp) -> None:
        app.runner.engine.step = _raise  # type: ignore[method-assign]
        _play_to_the_end(app)

    monkeypatch.setattr(DeskApp, "run", exploding)
    session = _session(tmp_path, 100.5)
    assert run_cli(["play", str(session), "--out", str(tmp_path / "out")]) == 1
    assert "RuntimeError: the feed handler exploded" in capsys.readouterr().err


def _raise() -> bool:
    raise RuntimeError("the feed handler exploded")


def _started(app: DeskApp) -> None:
    app.started = True  # type: ignore[attr-defined]


def test_a_theme_that_picks_none_stops_play_before_it_starts_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(DeskApp, "run", _started)
    session = _session(tmp_path, 100.5)
    out = ["--out", str(tmp_path / "out")]
    assert run_cli(["play", str(session), "--theme", "drak", *out]) == 2
    assert capsys.readouterr().err.strip() == (
        "desk: --theme: no theme 'drak' (themes: desk-dark, desk-high-contrast, desk-light; "
        "or a theme file's path)")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nprimary = "#zzz"\n')
    assert run_cli(["play", str(session), "--theme", str(bad), *out]) == 2
    assert capsys.readouterr().err.startswith(f"desk: --theme: {bad}: primary: '#zzz'")
    session.write_text(session.read_text() + '[app]\ntheme = "neon"\n')
    assert run_cli(["play", str(session), *out]) == 2
    assert capsys.readouterr().err.startswith(f"desk: {session}: app.theme: no theme 'neon'")
    assert not (tmp_path / "out").exists()  # stopped before the journal was made
    for name in ("light", "desk-light", str(Path("themes") / "light.toml")):
        assert run_cli(["play", str(session), "--theme", name, *out]) == 0, name
