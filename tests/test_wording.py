"""How desk words what it prints: counts agree with their nouns, options say plainly what they
take, and a line stays one line whatever the data holds."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
import tomli_w
from cli_run import run_cli
from conftest import BASE, make_session, run_engine

from desk.audit import read_journal
from desk.figures import counted

# --- counts -------------------------------------------------------------------------------------


def test_a_count_of_one_takes_the_singular_and_others_the_plural() -> None:
    assert [counted(n, "order") for n in (0, 1, 2, 1_500)] == [
        "0 orders", "1 order", "2 orders", "1,500 orders"]
    assert counted(1, "process", "processes") == "1 process"
    assert counted(3, "process", "processes") == "3 processes"


def test_audit_and_explain_count_one_record_as_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = tmp_path / "s.toml"
    session.write_text(tomli_w.dumps(BASE))
    assert run_cli(["run", str(session), "--out", str(tmp_path), "--json"]) == 0
    capsys.readouterr()
    journal = str(tmp_path / "journal.arrow")
    assert run_cli(["audit", journal, "--kind", "session"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("\n1 record")
    one = tmp_path / "one.arrow"
    table = read_journal(journal)
    with pa.OSFile(str(one), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.slice(0, 1))
    assert run_cli(["explain", str(one), "--seq", "5"]) == 2
    assert "(it has 1 record, seqs 0 to 0)" in capsys.readouterr().err


def test_a_strategy_stopped_after_one_fault_says_one_fault(tmp_path: Path) -> None:
    session = make_session(strategy={"use": "fault_strategies:BuysThenBreaks", "params": {},
                                     "max_faults": 1, "on_fault": "stop"})
    run_engine(session, tmp_path / "journal.arrow")
    stopped = [r for r in read_journal(tmp_path / "journal.arrow").to_pylist()
               if r["kind"] == "strategy_stopped"]
    assert [r["why"] for r in stopped] == ["strategy stopped after 1 fault; policy stop"]


# --- options ------------------------------------------------------------------------------------


def _desk_file(path: Path, stamps: list[int]) -> Path:
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"ts": pa.array(stamps, pa.int64()), "instrument": ["X"] * len(stamps),
                             "kind": ["trade"] * len(stamps), "price": [1.0] * len(stamps),
                             "size": [1.0] * len(stamps)}), path)
    return path


@pytest.mark.parametrize("gap", ["0", "0s"])
def test_inspect_gap_zero_counts_every_gap_between_two_times(
        gap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _desk_file(tmp_path / "t.parquet", [0, 0, 5, 10, 10, 11])  # same times are no gap
    assert run_cli(["data", "inspect", str(path), "--gap", gap]) == 0
    assert f"gaps > {gap} │ 3 " in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(("gap", "said"), [
    ("5", "--gap: '5' has no unit; give a duration like 5s or 5m"),
    ("-1", "--gap: '-1' must be zero or a positive duration like 1m, 60s, 500ms, 1h"),
    ("-1m", "--gap: '-1m' must be zero or a positive duration like 1m, 60s, 500ms, 1h")])
def test_inspect_gap_that_is_no_duration_is_one_line_saying_why(
        gap: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _desk_file(tmp_path / "t.parquet", [0, 5])
    assert run_cli(["data", "inspect", str(path), f"--gap={gap}"]) == 2
    assert capsys.readouterr().err == f"desk: {said}\n"


# --- damaged Parquet files ------------------------------------------------------------------------

REDO = "copy it again, or import its source again with `desk data import`"


def _damaged_inside(path: Path) -> Path:
    """A desk-schema file whose second row group's prices are overwritten with garbage."""
    import pyarrow.parquet as pq

    n = 2_000
    pq.write_table(pa.table({"ts": pa.array(range(n), pa.int64()), "instrument": ["X"] * n,
                             "kind": ["trade"] * n, "price": [1.0 + i for i in range(n)],
                             "size": [1.0] * n}), path, row_group_size=1_000)
    chunk = pq.read_metadata(path).row_group(1).column(3)
    data = bytearray(path.read_bytes())
    data[chunk.data_page_offset + 30:chunk.data_page_offset + 70] = b"\xff" * 40
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("verb", ["inspect", "run"])
def test_a_parquet_file_cut_short_is_called_damaged_with_what_to_do(
        verb: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Not "not a Parquet file; import it first": it is one, and importing it would not help."""
    whole = _desk_file(tmp_path / "whole.parquet", list(range(100)))
    cut = tmp_path / "t.parquet"
    cut.write_bytes(whole.read_bytes()[:-100])
    (tmp_path / "s.toml").write_text('[[data.files]]\npath = "t.parquet"\nkind = "mixed"\n'
                                      '[[instruments]]\nsymbol = "X"\n')
    argv = ["data", "inspect", str(cut)] if verb == "inspect" else \
        ["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out")]
    assert run_cli(argv) == 2
    assert capsys.readouterr().err == (
        f"desk: {cut}: a damaged Parquet file: it begins as Parquet but its end is missing or "
        f"broken (a copy, download or write cut short?); {REDO}\n")


@pytest.mark.parametrize("verb", ["inspect", "replay", "run"])
def test_a_parquet_file_damaged_inside_says_after_which_row_and_what_to_do(
        verb: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _damaged_inside(tmp_path / "t.parquet")
    (tmp_path / "s.toml").write_text('[[data.files]]\npath = "t.parquet"\nkind = "mixed"\n'
                                      '[[instruments]]\nsymbol = "X"\n')
    argv = ["data", verb, str(path)] if verb != "run" else \
        ["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out")]
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"desk: {path}: a damaged Parquet file: cannot read after row "), err
    assert err.endswith(f"); {REDO}\n") and len(err.splitlines()) == 1, err


# --- one line, whatever the data holds --------------------------------------------------------


def test_a_quoted_line_end_in_a_csv_field_is_escaped_in_the_error_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t.csv").write_text('ts,instrument,price,size\n1704205800000000000,ACME,10,1\n'
                                    '1704205801000000000,"AC\nME",11,1\n')
    (tmp_path / "s.toml").write_text('[[data.files]]\npath = "t.csv"\nkind = "trade"\n'
                                      '[[instruments]]\nsymbol = "ACME"\n')
    assert run_cli(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (f"desk: {tmp_path / 't.csv'}:3: instrument: AC\\nME not in "
                                       "the session's [[instruments]] (ACME)\n")


def test_a_line_end_in_a_csv_header_is_escaped_in_the_import_error_and_names_in_its_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "t.csv"
    source.write_text('"t\ns",price,size\n1704205800000000000,10,1\n')
    out = str(tmp_path / "o.parquet")
    assert run_cli(["data", "import", str(source), "-f", "csv", "--kind", "trade",
                    "--instrument", "X", "--out", out]) == 2
    assert capsys.readouterr().err == (f"desk: {source}: missing column 'ts' (desk field 'ts'); "
                                       "the file has: t\\ns, price, size; map it with "
                                       "--map ts=COLUMN\n")
    source.write_text('ts,instrument,price,size\n1704205800000000000,"X\nY",10,1\n')
    assert run_cli(["data", "import", str(source), "-f", "csv", "--kind", "trade",
                    "--out", out]) == 0
    assert "│ instruments │ X\\nY (1)" in capsys.readouterr().out


# --- seeds ---------------------------------------------------------------------------------------

NOT_A_SEED = "is not a seed (seeds are 0 to 2**63 - 1)"


@pytest.mark.parametrize("seed", [str(-1), str(2**63)])
@pytest.mark.parametrize(("command", "option"), [
    ("run", "--seed"), ("play", "--seed"), ("compare", "--seed-start")])
def test_every_command_takes_the_same_seeds_and_says_so_alike(
        command: str, option: str, seed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`desk run --seed` took any seed of 0 or more, `desk compare` 0 to 2**63 - 1, each in its
    own words."""
    from desk.app.desk_app import DeskApp

    def started(self: DeskApp) -> None:
        raise AssertionError("the app started")

    monkeypatch.setattr(DeskApp, "run", started)
    monkeypatch.chdir(tmp_path)
    session = tmp_path / "s.toml"
    session.write_text(tomli_w.dumps(BASE))
    with pytest.raises(SystemExit) as exited:
        run_cli([command, str(session), option, seed])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (f"desk {command}: argument {option}: {seed} {NOT_A_SEED} "
                                       f"(see desk {command} --help)\n")


@pytest.mark.parametrize("seed", [-1, 2**63])
def test_a_session_seed_is_refused_in_the_same_words(
        seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = tmp_path / "s.toml"
    session.write_text(tomli_w.dumps({**BASE, "session": {**BASE["session"], "seed": seed}}))
    assert run_cli(["run", str(session), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"desk: {session}: session.seed: {seed} {NOT_A_SEED}\n"


def test_compare_seeds_that_run_past_the_largest_say_so_as_a_sweep_does(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = tmp_path / "s.toml"
    session.write_text(tomli_w.dumps(BASE))
    assert run_cli(["compare", str(session), "--seed-start", str(2**63 - 1), "--seeds", "2"]) == 2
    assert capsys.readouterr().err == (f"desk: --seeds: 2 seeds from --seed-start {2**63 - 1} go "
                                       "past the largest seed, 2**63 - 1\n")
