"""`desk sweep`, `desk compare` and `desk bench` on bad input and damaged results: one line, exit 2,
and a sweep's finished cells kept."""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from desk.batch import Cell, run_cell
from desk.cli import main
from desk.data.schema import conform
from desk.errors import OutputError
from desk.pool import BatchError, run_cells
from desk.sweep import Sweep
from desk.sweep_results import RESULTS, ResultStore, flatten
from tests.test_compare import write_session
from tests.test_sweep import SWEEP, counting_runs, make_sweep


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The single line `desk:` printed on stderr (failing if there were more or none)."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("desk: "), lines
    return lines[0]


def store_cells(path: Path, indices: list[int]) -> list[Cell]:
    """Run the sweep's cells at `indices` and store their rows as one part file, as a sweep that
    stopped after them leaves its folder."""
    sweep = Sweep(path)
    cells = [sweep.cells()[i] for i in indices]
    store = ResultStore(sweep.out)
    for cell in cells:
        store.add(flatten(cell, run_cell(cell)))
    store.flush()
    return cells


# --- damaged result files ---------------------------------------------------------------------

def test_a_part_that_does_not_read_is_moved_aside_and_its_cells_run_again(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_sweep(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    garbage = b"PAR1 half of a part file, cut off by a crash"
    (out / "part-00000.parquet").write_bytes(garbage)
    assert main(["sweep", str(path), "--jobs", "1"]) == 0
    err = capsys.readouterr().err
    assert "part-00000.parquet: cannot read" in err
    assert "moved aside to part-00000.parquet.bad; its cells run again" in err
    assert (out / "part-00000.parquet.bad").read_bytes() == garbage
    assert pq.read_table(out / RESULTS).num_rows == 4


def test_a_part_that_is_not_rows_of_a_sweep_is_moved_aside(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_sweep(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    pq.write_table(pa.table({"x": [1, 2]}), out / "part-00003.parquet")
    assert main(["sweep", str(path), "--jobs", "1"]) == 0
    assert "no key, label, seed column" in capsys.readouterr().err
    assert (out / "part-00003.parquet.bad").exists()
    assert pq.read_table(out / RESULTS).num_rows == 4


def test_a_results_file_that_does_not_read_is_rebuilt_from_the_parts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = make_sweep(tmp_path)
    kept = store_cells(path, [0, 1])
    out = tmp_path / "out"
    (out / RESULTS).write_bytes(b"")  # a results file that a dying machine left empty
    ran = counting_runs(monkeypatch)
    assert main(["sweep", str(path), "--jobs", "1"]) == 0
    err = capsys.readouterr().err
    assert f"{out / RESULTS}: cannot read" in err and "rebuilt from 1 part file (2 rows)" in err
    assert (out / (RESULTS + ".bad")).exists()
    assert len(ran) == 2 and not set(ran) & {cell.key for cell in kept}
    assert pq.read_table(out / RESULTS).num_rows == 4


def test_a_results_file_that_does_not_read_and_no_parts_is_one_line_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_sweep(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / RESULTS).write_bytes(b"not parquet at all")
    assert main(["sweep", str(path), "--jobs", "1"]) == 2
    line = one_error(capsys)
    assert line.startswith(f"desk: {out / RESULTS}: cannot read (") and "move it aside" in line
    assert (out / RESULTS).read_bytes() == b"not parquet at all"  # left as it was


def test_a_part_that_cannot_be_written_is_one_line_and_leaves_no_temporary_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("desk.sweep_results.pq.write_table", full)
    store = ResultStore(tmp_path / "out")
    store.add({"key": "k", "label": "a", "seed": 1})
    with pytest.raises(OutputError, match=r"part-00000\.parquet: cannot write: No space left"):
        store.flush()
    assert list((tmp_path / "out").iterdir()) == []


def test_a_grid_key_whose_values_differ_in_kind_is_stored_as_text(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "out", flush_rows=100)
    store.add({"key": "a", "label": "at=+2h", "seed": 1, "risk.schedule": [{"at": "+2h"}]})
    store.add({"key": "b", "label": "at=3600", "seed": 1, "risk.schedule": [{"at": 3600}]})
    store.flush()  # before: Arrow refused the rows after their cells had run
    table, _ = store.consolidate()
    assert table is not None
    assert table.column("risk.schedule").to_pylist() == ['[{"at": "+2h"}]', '[{"at": 3600}]']


def test_parts_that_disagree_on_a_grid_keys_type_still_read_together(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    pq.write_table(pa.table({"key": ["a"], "label": ["x=1"], "seed": [1], "x": [1],
                             "y": [1]}), out / "part-00000.parquet")
    pq.write_table(pa.table({"key": ["b"], "label": ["x=fast"], "seed": [1], "x": ["fast"],
                             "y": [0.5]}), out / "part-00001.parquet")
    table = ResultStore(out).read()  # before: "the stored rows do not fit together", every rerun
    assert table is not None
    assert table.column("x").to_pylist() == ["1", "fast"]
    assert table.column("y").to_pylist() == [1.0, 0.5]  # numbers that fit stay numbers


# --- where the results go ---------------------------------------------------------------------

@pytest.mark.parametrize(("out", "option", "says"), [
    ("file", False, "out: {path} is a file, not a folder"),
    ("file", True, "--out: {path} is a file, not a folder"),
    ("/dev/null", True, "--out: /dev/null is a file, not a folder"),
    ("file/below", True, "--out: {path}: a part of the path is a file, not a folder"),
    ("", True, "--out: give a folder, not an empty path"),
])
def test_an_out_path_that_is_not_a_folder_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], out: str, option: bool,
        says: str) -> None:
    (tmp_path / "file").write_text("a file the user keeps\n")
    target = out if out in ("", "/dev/null") else str(tmp_path / out)
    text = SWEEP if option else SWEEP.replace('out = "out"', f'out = "{out}"')
    path = make_sweep(tmp_path, text)
    assert main(["sweep", str(path), "--jobs", "1", *(["--out", target] if option else [])]) == 2
    assert one_error(capsys).endswith(says.format(path=target))
    assert (tmp_path / "file").read_text() == "a file the user keeps\n"


def test_an_out_folder_that_takes_no_file_is_one_line_before_any_cell_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def read_only(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    path = make_sweep(tmp_path)
    (tmp_path / "out").mkdir()
    ran = counting_runs(monkeypatch)
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    assert main(["sweep", str(path), "--jobs", "1"]) == 2
    assert one_error(capsys).endswith(
        f"out: {tmp_path / 'out'}: cannot write in the folder: Read-only file system")
    assert ran == []  # before: the cells ran, and their rows were lost at the first write


def test_a_write_refused_by_a_read_only_file_system_is_still_the_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    store = ResultStore(tmp_path / "out")
    store.add({"key": "k", "label": "a", "seed": 1})
    monkeypatch.setattr("desk.sweep_results.pq.write_table", read_only)
    monkeypatch.setattr(Path, "unlink", read_only)  # removing the temporary file fails too
    with pytest.raises(OutputError, match=r"part-00000\.parquet: cannot write: Read-only"):
        store.flush()


def test_an_empty_out_in_the_sweep_file_is_refused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = make_sweep(tmp_path, SWEEP.replace('out = "out"', 'out = ""'))
    assert main(["sweep", str(path)]) == 2
    assert f"{path}: out: String should have at least 1 character" in one_error(capsys)


# --- a cell that raises -----------------------------------------------------------------------

def raises_for_seed_three(cell: Cell) -> dict[str, Any]:
    if cell.seed == 3:
        raise OverflowError("cannot convert float infinity to integer")
    return run_cell(cell)


def test_in_this_process_a_cell_that_raises_is_one_line_as_in_a_worker(tmp_path: Path) -> None:
    path = make_sweep(tmp_path, SWEEP.replace("seeds = 2", "seeds = [3]"))
    for jobs in (1, 2):
        with pytest.raises(BatchError, match=r"\(seed 3\) raised OverflowError: cannot convert"):
            for _ in run_cells(Sweep(path).cells(), jobs=jobs, runner=raises_for_seed_three):
                pass


def test_a_sweep_with_one_job_stops_on_a_raising_cell_in_one_line_and_keeps_what_finished(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = make_sweep(tmp_path, SWEEP.replace("seeds = 2", "seeds = [1, 3]"))

    def failing(todo: list[Cell], **kwargs: Any) -> Any:
        return run_cells(todo, **dict(kwargs, runner=raises_for_seed_three))

    monkeypatch.setattr("desk.pool.run_cells", failing)
    assert main(["sweep", str(path), "--jobs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("sweep ") and len(err) == 2  # the sweep's header, then the error
    assert err[1].startswith("desk: cell base taker_bps=0.5 (seed 3) raised OverflowError")
    stored = pq.read_table(tmp_path / "out" / "part-00000.parquet")
    assert stored.column("seed").to_pylist() == [1]  # the cell before it, kept for a rerun


# --- how many cells, and which seeds ----------------------------------------------------------

@pytest.mark.parametrize(("seeds", "says"), [
    ("seeds = 100000000000", "seeds: 100,000,000,000 seeds is more than the 1,000,000 cells"),
    ("seeds = [1, -1]", "seeds: -1 is not a seed"),
    ("seeds = 0", "seeds: give at least one seed"),
    ("seeds = 2\nseed_start = -5", "seed_start: -5 is not a seed"),
    ("seeds = 4\nseed_start = 9223372036854775806", "go past the largest seed"),
])
def test_seeds_are_bounded_and_not_negative(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            seeds: str, says: str) -> None:
    path = make_sweep(tmp_path, SWEEP.replace("seeds = 2", seeds))
    assert main(["sweep", str(path), "--jobs", "1"]) == 2
    assert says in one_error(capsys)
    assert not (tmp_path / "out").exists()


def test_a_grid_of_too_many_cells_is_one_line_before_anything_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("desk.sweep.MAX_CELLS", 3)
    path = make_sweep(tmp_path)  # 2 grid values × 2 seeds
    assert main(["sweep", str(path), "--jobs", "1"]) == 2
    assert one_error(capsys).endswith(
        "grid: 1 session × 2 grid points × 2 seeds = 4 cells, more than the 3 a sweep may have")
    assert not (tmp_path / "out").exists()


def test_an_empty_list_of_sessions_is_an_error_naming_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text('session = []\nout = "out"\n')
    assert main(["sweep", str(path)]) == 2
    assert one_error(capsys) == f"desk: {path}: session: give at least one session file"


def test_a_session_file_given_as_a_sweep_is_one_line_with_a_hint(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = write_session(tmp_path, "base")
    assert main(["sweep", str(session)]) == 2
    line = one_error(capsys)
    assert line.startswith(f"desk: {session}: is a session file, not a sweep file")
    assert f"desk run {session}" in line and "desk compare" in line


# --- the scheduler's address ------------------------------------------------------------------

@pytest.mark.parametrize(("address", "says"), [
    ("garbage", "--scheduler: 'garbage' is not a Dask scheduler address"),
    ("tcp://host:notaport", "--scheduler: 'tcp://host:notaport' is not a Dask scheduler address"),
    ("", "--scheduler: give a Dask scheduler's address"),
])
def test_a_malformed_scheduler_is_one_line_naming_the_option(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], address: str, says: str) -> None:
    if address:
        pytest.importorskip("distributed")
    session = write_session(tmp_path, "one")
    assert main(["compare", str(session), "--seeds", "1", "--scheduler", address]) == 2
    assert says in one_error(capsys)
    path = make_sweep(tmp_path)
    assert main(["sweep", str(path), "--scheduler", address]) == 2
    assert says in one_error(capsys)
    assert not (tmp_path / "out").exists()


def test_compare_refuses_a_negative_first_seed(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    session = write_session(tmp_path, "one")
    with pytest.raises(SystemExit) as exited:
        main(["compare", str(session), "--seeds", "2", "--seed-start", "-1", "--jobs", "1"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == ("desk compare: argument --seed-start: -1 is not a seed "
                                       "(seeds are 0 to 2**63 - 1) (see desk compare --help)\n")


def test_compare_of_more_runs_than_a_sweep_may_have_is_one_line_before_anything_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("runs started")

    session = write_session(tmp_path, "one")
    monkeypatch.setattr("desk.pool.run_cells", never)
    # before: `--seeds 100000000000` listed its runs for minutes, until memory ran out
    assert main(["compare", str(session), "--seeds", "100000000000"]) == 2
    assert one_error(capsys) == ("desk: --seeds: 1 session × 100,000,000,000 seeds = "
                                 "100,000,000,000 runs, more than the 1,000,000 a compare "
                                 "may have")
    monkeypatch.setattr("desk.sweep.MAX_CELLS", 3)
    assert main(["compare", str(session), str(session), "--seeds", "2"]) == 2
    assert "2 sessions × 2 seeds = 4 runs, more than the 3" in one_error(capsys)


# --- desk bench -------------------------------------------------------------------------------

@pytest.mark.parametrize(("where", "says"), [
    ("file", "--dir: {path} is a file, not a folder"),
    ("/dev/null", "--dir: /dev/null is a file, not a folder"),
    ("file/below", "--dir: {path}: a part of the path is a file, not a folder"),
])
def test_bench_dir_that_is_not_a_folder_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, says: str) -> None:
    (tmp_path / "file").write_text("kept\n")
    target = where if where.startswith("/") else str(tmp_path / where)
    assert main(["bench", "--dir", target, "--events", "10", "--repeat", "1"]) == 2
    assert one_error(capsys) == "desk: " + says.format(path=target)
    assert (tmp_path / "file").read_text() == "kept\n"


def test_bench_l2_on_a_file_of_trades_only_says_it_has_no_book_rows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n = 50
    trades = conform(pa.table({
        "ts": pa.array([1_704_153_600_000_000_000 + i * 100_000_000 for i in range(n)],
                       pa.int64()),
        "instrument": ["ACME"] * n, "kind": ["trade"] * n,
        "price": [100.0 + i / 100 for i in range(n)], "size": [10.0] * n}))
    data = tmp_path / "trades.parquet"
    pq.write_table(trades, data)
    args = ["bench", "--l2", "--data", str(data), "--repeat", "1", "--dir", str(tmp_path / "b")]
    assert main(args) == 2
    assert one_error(capsys) == (f"desk: {data}: --l2: no book rows (book_snapshot or "
                                 "book_delta) in 50 rows; give a depth file")


def test_bench_l2_on_a_file_without_book_columns_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "ticks.parquet"
    pq.write_table(pa.table({"ts": [1, 2], "price": [1.0, 2.0], "size": [1, 1]}), data)
    args = ["bench", "--l2", "--data", str(data), "--repeat", "1", "--dir", str(tmp_path / "b")]
    assert main(args) == 2
    assert "--l2: no book rows: the file has no `kind` column and no `side`" in one_error(capsys)
