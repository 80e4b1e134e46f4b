"""Bad data that stops a run partway is the journal's last word: an `error` record naming it,
whichever path read the batch (`Engine.run`'s fast loop, `Engine.step`, or the app's pacing
looking ahead), and a feed that failed never reads as one that ended."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_run import run_cli
from conftest import make_session
from test_runner import FakeClock

from desk.audit import details_of, read_journal
from desk.engine import Engine
from desk.errors import DataError
from desk.runner import Runner, RunState

BAD_ROW = 25
"""The row (counted from 1) whose price is NaN: in the third batch of ten rows."""

STOP = (f"run stopped: {{path}}: row {BAD_ROW}: price: not a positive finite price: nan; set "
        "data.on_bad = \"skip\" to skip such rows")


def _session(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    """A data file of 60 trades, NaN at BAD_ROW, and the session's tables that read it in
    batches of ten rows."""
    prices = [100.0 + (i % 7) * 0.05 for i in range(60)]
    prices[BAD_ROW - 1] = float("nan")
    ts = [1_700_000_000_000_000_000 + i * 1_000_000_000 for i in range(60)]
    data = tmp_path / "ticks.parquet"
    pq.write_table(pa.table({"ts": ts, "price": prices, "size": [5.0] * 60}), data)
    tables = {"data": {"synthetic": None, "batch_rows": 10,
                       "files": [{"path": str(data), "kind": "trade"}]},
              "strategy": {"use": "momentum",
                           "params": {"lookback": 3, "threshold": 0.0001, "size": 10}}}
    return data, tables


def _kinds(journal: Path) -> list[str]:
    return [str(kind) for kind in read_journal(journal).column("kind").to_pylist()]


def _last(journal: Path) -> dict[str, object]:
    return dict(read_journal(journal).to_pylist()[-1])


def _stopped(tables: dict[str, object], journal: Path, path: str) -> Engine:
    """Run to the bad row by `Engine.run` or by `Engine.step`, expecting it to stop there."""
    engine = Engine(make_session(**tables), journal)
    with pytest.raises(DataError):
        try:
            if path == "run":
                engine.run()
            else:
                while engine.step():
                    pass
        finally:
            engine.close()
    return engine


@pytest.mark.parametrize("path", ["run", "step"])
def test_the_last_record_names_the_data_error_on_either_path(tmp_path: Path, path: str) -> None:
    data, tables = _session(tmp_path)
    journal = tmp_path / "journal.arrow"
    engine = _stopped(tables, journal, path)
    assert engine.stats.market_events == 20  # the two whole batches before the bad one
    kinds = _kinds(journal)
    assert kinds[0] == "session" and kinds.count("error") == 1 and "end" not in kinds
    last = _last(journal)
    assert last["kind"] == "error"
    assert last["why"] == STOP.format(path=data)
    assert details_of(str(last["details"])) == {"error": "data"}


def test_both_paths_journal_the_same_records(tmp_path: Path) -> None:
    _, tables = _session(tmp_path)
    _stopped(tables, tmp_path / "run.arrow", "run")
    _stopped(tables, tmp_path / "step.arrow", "step")
    assert read_journal(tmp_path / "run.arrow").equals(read_journal(tmp_path / "step.arrow"))


def test_a_feed_that_failed_fails_again_rather_than_ending_the_replay(tmp_path: Path) -> None:
    _, tables = _session(tmp_path)
    journal = tmp_path / "journal.arrow"
    engine = Engine(make_session(**tables), journal)
    with pytest.raises(DataError):
        engine.run()
    with pytest.raises(DataError):  # not an empty feed: no `end` record as if the data ended
        engine.step()
    engine.close()
    kinds = _kinds(journal)
    assert kinds[-1] == "error" and kinds.count("error") == 1 and "end" not in kinds


def test_desk_run_says_it_in_one_line_and_the_journal_ends_with_the_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, _ = _session(tmp_path)
    session = tmp_path / "s.toml"
    session.write_text(
        '[data]\nbatch_rows = 10\n\n[[data.files]]\npath = "ticks.parquet"\nkind = "trade"\n\n'
        '[[instruments]]\nsymbol = "ACME"\n\n[strategy]\nuse = "momentum"\n'
        "params = { lookback = 3, threshold = 0.0001, size = 10 }\n")
    out = tmp_path / "out"
    assert run_cli(["run", str(session), "--out", str(out), "--json"]) == 2
    err = capsys.readouterr().err
    assert err == f"desk: {data}: row {BAD_ROW}: price: not a positive finite price: nan; set " \
                  "data.on_bad = \"skip\" to skip such rows\n"
    last = _last(out / "journal.arrow")
    assert (last["kind"], last["why"]) == ("error", STOP.format(path=data))


def test_the_app_paced_fails_with_the_error_journaled_once(tmp_path: Path) -> None:
    """Pacing looks at the next event's time (`queue.peek_ts`), which reads the bad batch."""
    data, tables = _session(tmp_path)
    journal = tmp_path / "journal.arrow"
    clock = FakeClock()
    runner = Runner(Engine(make_session(**tables), journal), clock=clock, paused=True)
    runner.speed_index = 1
    runner.resume()
    for _ in range(1_000):
        if runner.state is RunState.FAILED:
            break
        runner.run_slice()
        clock.now += 1.0
    assert runner.state is RunState.FAILED
    assert runner.error is not None and f"row {BAD_ROW}: price" in runner.error
    kinds = _kinds(journal)
    assert kinds.count("error") == 1 and "engine_error" not in kinds
    assert _last(journal)["why"] == STOP.format(path=data)
