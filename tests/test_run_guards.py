"""What `desk run` refuses before it writes anything, and what it never destroys: the run's own
inputs, an earlier journal, values of the wrong type or out of range."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from desk.audit import read_journal
from tests.cli_run import run_cli

SESSION = '''[data.synthetic]
events = 300

[[instruments]]
symbol = "ACME"

[strategy]
use = "momentum"

[strategy.params]
lookback = 5
threshold = 0.0001
'''


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_journal_path_that_is_the_session_file_is_refused_and_the_file_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = tmp_path / "self.toml"
    text = SESSION + f'\n[audit]\npath = "{session}"\n'
    session.write_text(text)
    assert run_cli(["run", str(session)]) == 2
    assert "audit.path" in _error_line(capsys)
    assert session.read_text() == text


def test_journal_path_that_is_a_data_file_is_refused_and_the_data_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "ticks.parquet"
    pq.write_table(pa.table({"ts": [1, 2], "price": [10.0, 10.1], "size": [1.0, 2.0]}), data)
    before = data.read_bytes()
    session = tmp_path / "s.toml"
    session.write_text('[[data.files]]\npath = "ticks.parquet"\n[[instruments]]\nsymbol = "X"\n'
                       f'[audit]\npath = "{data}"\n')
    assert run_cli(["run", str(session)]) == 2
    line = _error_line(capsys)
    assert "a data file of this run" in line and "audit.path" in line
    assert data.read_bytes() == before


def test_out_that_is_a_file_is_named_as_not_a_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = tmp_path / "s.toml"
    session.write_text(SESSION)
    assert run_cli(["run", str(session), "--out", str(session)]) == 2
    assert "is a file, not a folder" in _error_line(capsys)


REFUSING = '''
from desk.errors import StrategyError
from desk.strategy import Strategy


class Refusing(Strategy):
    """Fails as the engine builds it: the session loads, the run cannot start."""

    def __init__(self, *args, **kwargs):
        raise StrategyError("the venue refused the connection")
'''


def test_a_run_that_cannot_start_keeps_the_journal_of_an_earlier_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    session = tmp_path / "s.toml"
    session.write_text(SESSION)
    out = tmp_path / "out"
    assert run_cli(["run", str(session), "--out", str(out), "--json"]) == 0
    kept = read_journal(out).num_rows
    assert kept > 0
    (tmp_path / "refusing_strategy.py").write_text(REFUSING)
    monkeypatch.syspath_prepend(str(tmp_path))
    broken = tmp_path / "broken.toml"
    broken.write_text(SESSION.replace('use = "momentum"', 'use = "refusing_strategy:Refusing"')
                      .replace("[strategy.params]\nlookback = 5\nthreshold = 0.0001\n", ""))
    capsys.readouterr()
    assert run_cli(["run", str(broken), "--out", str(out)]) == 2
    assert "the venue refused the connection" in _error_line(capsys)
    assert read_journal(out).num_rows == kept


def _ticks(path: Path, bad_row: int | None = None) -> Path:
    """Sixty trades a second apart, the price NaN at `bad_row` (counted from 1)."""
    prices = [100.0 + (i % 7) * 0.05 for i in range(60)]
    if bad_row is not None:
        prices[bad_row - 1] = float("nan")
    ts = [1_700_000_000_000_000_000 + i * 1_000_000_000 for i in range(60)]
    pq.write_table(pa.table({"ts": ts, "price": prices, "size": [5.0] * 60}), path)
    return path


TICKS = """[[data.files]]
path = "ticks.parquet"
kind = "trade"

[[instruments]]
symbol = "ACME"
tick_size = 0.01

[strategy]
use = "momentum"
params = { lookback = 3, threshold = 0.0001, size = 10 }
"""


def test_bad_data_in_the_first_batch_keeps_the_journal_of_an_earlier_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The first batch is read and checked before the journal is opened: the run fails before
    its first event, so it writes nothing."""
    session = tmp_path / "s.toml"
    session.write_text(TICKS)
    out = tmp_path / "out"
    _ticks(tmp_path / "ticks.parquet")
    assert run_cli(["run", str(session), "--out", str(out), "--json"]) == 0
    before = (out / "journal.arrow").read_bytes()
    assert read_journal(out).num_rows > 2
    _ticks(tmp_path / "ticks.parquet", bad_row=16)
    capsys.readouterr()
    assert run_cli(["run", str(session), "--out", str(out), "--json"]) == 2
    assert "ticks.parquet: row 16: price: not a positive finite price: nan" in \
        _error_line(capsys)
    assert (out / "journal.arrow").read_bytes() == before


def test_a_schedule_that_falls_out_of_range_after_the_first_event_keeps_the_earlier_journal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = tmp_path / "s.toml"
    session.write_text(SESSION)
    out = tmp_path / "out"
    assert run_cli(["run", str(session), "--out", str(out), "--json"]) == 0
    before = (out / "journal.arrow").read_bytes()
    late = tmp_path / "late.toml"
    late.write_text(SESSION.replace("events = 300", 'events = 300\nstart = "2262-04-01T00:00:00Z"')
                    + '[[risk.schedule]]\nat = "+30d"\nrule = "cash"\nenabled = false\n')
    capsys.readouterr()
    assert run_cli(["run", str(late), "--out", str(out), "--json"]) == 2
    assert "risk.schedule[0].at: '+30d' after the first event is outside" in _error_line(capsys)
    assert (out / "journal.arrow").read_bytes() == before


@pytest.mark.parametrize(("extra", "key", "words"), [
    ('[session]\nseed = -1\n', "session.seed", "-1 is not a seed (seeds are 0 to 2**63 - 1)"),
    ('[session]\nseed = true\n', "session.seed", "(not true)"),
    ('[session]\nseed = "7"\n', "session.seed", '(not "7")'),
    ('[session]\nstart_cash = true\n', "session.start_cash", "(not true)"),
    ('[execution.fees]\ntaker_bps = inf\n', "execution.fees.taker_bps", "finite"),
])
def test_values_of_the_wrong_type_or_not_finite_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, key: str,
        words: str) -> None:
    session = tmp_path / "s.toml"
    session.write_text(SESSION + extra)
    assert run_cli(["run", str(session), "--out", str(tmp_path / "out")]) == 2
    line = _error_line(capsys)
    assert f"{key}: " in line and words in line, line
    assert not (tmp_path / "out" / "journal.arrow").exists()


@pytest.mark.parametrize(("replace", "key"), [
    (("lookback = 5", "lookback = 5\nsize = \"400\""), "strategy.params.size"),
    (("events = 300", "events = 300\ntick_size_typo = 1"), "data.synthetic.tick_size_typo"),
    (("events = 300", "events = 300\nvolatility_bps = inf"), "data.synthetic.volatility_bps"),
    (("events = 300", "events = 300\njump_prob = 2.0"), "data.synthetic.jump_prob"),
    (("events = 300", "events = 300\nlevels = 100000000"), "data.synthetic.levels"),
    (("events = 300", 'events = 300\nstart = "2300-01-02T14:30:00Z"'), "data.synthetic.start"),
    (("events = 300", 'events = 300\nstart = "1600-01-02T14:30:00Z"'), "data.synthetic.start"),
    (("symbol = \"ACME\"", "symbol = \"ACME\"\ntick_size = inf"), "instruments[0].tick_size"),
])
def test_out_of_range_values_are_refused_at_load(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], replace: tuple[str, str],
        key: str) -> None:
    session = tmp_path / "s.toml"
    session.write_text(SESSION.replace(*replace))
    assert run_cli(["run", str(session), "--out", str(tmp_path / "out")]) == 2
    assert f": {key}: " in _error_line(capsys)


@pytest.mark.parametrize("at", ['"9999-01-01T00:00:00Z"', '"+99999999999999999999s"',
                                "99999999999999999999"])
def test_a_schedule_time_outside_int64_nanoseconds_is_refused_at_load(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], at: str) -> None:
    session = tmp_path / "s.toml"
    session.write_text(SESSION + f'[[risk.schedule]]\nat = {at}\nrule = "cash"\nenabled = false\n')
    assert run_cli(["run", str(session), "--out", str(tmp_path / "out")]) == 2
    assert ": risk.schedule[0].at: " in _error_line(capsys)


def test_a_synthetic_run_that_would_end_past_2262_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = tmp_path / "s.toml"
    late = 'events = 300\nstart = "2262-04-11T00:00:00Z"\nstep_ms = 86400000'
    session.write_text(SESSION.replace("events = 300", late))
    assert run_cli(["run", str(session), "--out", str(tmp_path / "out")]) == 2
    assert ": data.synthetic: " in _error_line(capsys)


@pytest.mark.parametrize("seed", ["-1", "x"])
def test_a_bad_seed_option_is_one_line(capsys: pytest.CaptureFixture[str], seed: str) -> None:
    with pytest.raises(SystemExit) as exited:
        run_cli(["run", "--seed", seed])
    assert exited.value.code == 2
    assert _error_line(capsys).startswith("desk run: argument --seed: ")


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run_cli(["audit"])
    assert exited.value.code == 2
    assert "desk audit --help" in _error_line(capsys)


def test_a_full_disk_behind_stdout_is_one_line_without_traceback(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    session = tmp_path / "s.toml"
    session.write_text(SESSION)
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "desk", "run", str(session), "--json",
                               "--out", str(tmp_path / "out")], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["desk: No space left on device"]


def test_a_parquet_file_read_as_csv_is_said_not_to_be_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "ticks.parquet"
    pq.write_table(pa.table({"ts": list(range(1, 2001)), "price": [10.0] * 2000,
                             "size": [1.0] * 2000}), data)
    session = tmp_path / "s.toml"
    session.write_text('[[data.files]]\npath = "ticks.parquet"\nformat = "csv"\n'
                       '[[instruments]]\nsymbol = "X"\n')
    assert run_cli(["run", str(session), "--out", str(tmp_path / "out")]) == 2
    line = _error_line(capsys)
    assert "not text" in line and "\\x" not in line and len(line) < 200, line


def _assert_doubted(data: Path, unit: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    """Run a session of `data` alone: one warning line naming `unit` before the run, or none."""
    session = data.parent / "s.toml"
    session.write_text(f'[[data.files]]\npath = "{data.name}"\n[[instruments]]\nsymbol = "X"\n')
    assert run_cli(["run", str(session), "--json", "--out", str(data.parent / "out")]) == 0
    err = capsys.readouterr().err.strip()
    if unit is None:
        assert err == ""
    else:
        assert err.startswith(f"desk: warning: {data}: ts: the times, read as nanoseconds, "
                              "begin at 1970-01-")
        assert f'set ts_unit = "{unit}" on this file' in err and "2024-01-02" in err
        assert len(err.splitlines()) == 1


@pytest.mark.parametrize(("first", "unit"), [(1_704_205_800, "s"), (1_704_205_800_000, "ms"),
                                             (1_704_205_800_000_000, "us"),
                                             (1_704_205_800_000_000_000, None), (1, None)])
def test_times_that_read_as_1970_in_nanoseconds_are_doubted_before_the_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], first: int, unit: str | None) -> None:
    data = tmp_path / "ticks.parquet"
    pq.write_table(pa.table({"ts": [first, first + 1], "price": [10.0, 10.1],
                             "size": [1.0, 2.0]}), data)
    _assert_doubted(data, unit, capsys)


@pytest.mark.parametrize(("rows", "suffix", "unit"), [
    (["1704205800000,10,1", "1704205800001,10.1,2"], ".csv", "ms"),
    (["\n", "1704205800,10,1"], ".csv.gz", "s"),
    (["2024-01-02T14:30:00Z,10,1"], ".csv", None),
    (["1704205800.5,10,1"], ".csv", None),
    (["1704205800000000000,10,1"], ".csv", None)])
def test_csv_times_that_read_as_1970_in_nanoseconds_are_doubted_from_the_first_row(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: list[str], suffix: str,
        unit: str | None) -> None:
    import gzip

    text = "\ufeffts,price,size\n" + "\n".join(rows) + "\n"
    data = tmp_path / f"ticks{suffix}"
    data.write_bytes(gzip.compress(text.encode()) if suffix.endswith(".gz") else text.encode())
    _assert_doubted(data, unit, capsys)


_IMPORT_IT = ("its header is one column, split by {}, not commas: import it with `desk data "
              "import --format csv --delimiter {}`")


@pytest.mark.parametrize(("text", "on_bad", "said"), [
    ("ts;price;size\n2024-01-02T14:30:00Z;10,5;1\n", "skip",
     "the file has no rows that split into the header's columns (1 line does not, the first is "
     "line 2); " + _IMPORT_IT.format("';'", "';'")),
    ("ts;price;size\n2024-01-02T14:30:00Z;10,5;1\n", "fail",
     "2: expected 1 columns, found 2: '2024-01-02T14:30:00Z;10,5;1'; "
     + _IMPORT_IT.format("';'", "';'")),
    ("ts|price|size\n2024-01-02T14:30:00Z|10.5|1\n", "fail",
     "missing column 'ts' (desk field 'ts'); the file has: ts|price|size; "
     + _IMPORT_IT.format("'|'", "'|'"))])
def test_a_csv_split_by_another_separator_says_how_to_import_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, on_bad: str,
        said: str) -> None:
    data = tmp_path / "ticks.csv"
    data.write_text(text)
    session = tmp_path / "s.toml"
    session.write_text(f'[data]\non_bad = "{on_bad}"\n[[data.files]]\npath = "ticks.csv"\n'
                       '[[instruments]]\nsymbol = "X"\n')
    assert run_cli(["run", str(session), "--out", str(tmp_path / "out")]) == 2
    separator = "" if said[0].isdigit() else " "
    assert _error_line(capsys) == f"desk: {data}:{separator}{said}"


@pytest.mark.parametrize(("replay", "said"), [
    ('start = "2030-01-01T00:00:00Z"', "replay.start 2030-01-01T00:00:00Z is after the data's "
                                       "last event (2024-01-02 14:30:"),
    ('stop = "2000-01-01T00:00:00Z"', "replay.stop 2000-01-01T00:00:00Z is before the data's "
                                      "first event (2024-01-02 14:30:00.000000 UTC)"),
    ('start = "2000-01-01T00:00:00Z"\nstop = "2001-01-01T00:00:00Z"',
     "replay.stop 2001-01-01T00:00:00Z is before the data's first event")])
def test_a_replay_window_outside_the_data_is_said_in_one_warning(
        replay: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = tmp_path / "s.toml"
    session.write_text(SESSION + f"[replay]\n{replay}\n")
    assert run_cli(["run", str(session), "--out", str(tmp_path / "out"), "--json"]) == 0
    line = _error_line(capsys)
    assert line.startswith(f"desk: warning: {session}: {said}"), line
    assert line.endswith(": the replay had no market event")
    kinds = read_journal(tmp_path / "out" / "journal.arrow").column("kind").to_pylist()
    assert kinds == ["session", "end"]


def test_a_replay_window_in_a_gap_of_the_data_is_said_and_one_with_data_is_not(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hour = 3_600_000_000_000
    t0 = 1_704_205_800_000_000_000  # 2024-01-02 14:30 UTC
    pq.write_table(pa.table({"ts": [t0, t0 + 1, t0 + 5 * hour, t0 + 5 * hour + 1],
                             "price": [10.0, 10.1, 10.2, 10.3], "size": [1.0] * 4}),
                   tmp_path / "ticks.parquet")
    session = tmp_path / "s.toml"
    data = '[[data.files]]\npath = "ticks.parquet"\n[[instruments]]\nsymbol = "X"\n'
    session.write_text(data + '[replay]\nstart = "2024-01-02T16:00:00Z"\n'
                       'stop = "2024-01-02T17:00:00Z"\n')
    assert run_cli(["run", str(session), "--out", str(tmp_path / "out"), "--json"]) == 0
    assert _error_line(capsys) == (
        f"desk: warning: {session}: no data event between replay.start 2024-01-02T16:00:00Z and "
        "replay.stop 2024-01-02T17:00:00Z, a gap in the data (its first event is at 2024-01-02 "
        "14:30:00.000000 UTC): the replay had no market event")
    session.write_text(data + '[replay]\nstart = "2024-01-02T16:00:00Z"\n')
    assert run_cli(["run", str(session), "--out", str(tmp_path / "out"), "--json"]) == 0
    assert capsys.readouterr().err == ""
