"""`desk sweep`: grid × seeds into Parquet, resumable, retrying dead workers, same rows on Dask."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from desk.batch import Cell, run_cell
from desk.cli import main
from desk.errors import SessionError
from desk.figures import counted
from desk.pool import BatchError, run_cells
from desk.sweep import Sweep
from desk.sweep_results import RESULTS, ResultStore
from tests.test_compare import write_session

SWEEP = """session = "base.toml"
seeds = 2
out = "out"
every = 30
[grid]
"execution.fees.taker_bps" = [0.5, 10.0]
"""


def make_sweep(folder: Path, text: str = SWEEP) -> Path:
    write_session(folder, "base")
    path = folder / "sweep.toml"
    path.write_text(text)
    return path


def comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(({k: v for k, v in r.items() if k != "wall_seconds"} for r in rows),
                  key=lambda r: r["key"])


def test_sweep_runs_every_cell_into_one_parquet_file(tmp_path: Path) -> None:
    path = make_sweep(tmp_path)
    assert main(["sweep", str(path), "--jobs", "1"]) == 0
    table = pq.read_table(tmp_path / "out" / RESULTS)
    assert table.num_rows == 4
    assert sorted(set(table.column("execution.fees.taker_bps").to_pylist())) == [0.5, 10.0]
    assert sorted(table.column("seed").to_pylist()) == [1, 1, 2, 2]
    assert not list((tmp_path / "out").glob("part-*"))
    rows = table.to_pylist()
    by_fee = {fee: [r["fee_cost"] for r in rows if r["execution.fees.taker_bps"] == fee]
              for fee in (0.5, 10.0)}
    assert min(by_fee[10.0]) > max(by_fee[0.5])


def test_a_resumed_sweep_runs_only_the_missing_cells(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_sweep(tmp_path)
    sweep = Sweep(path)
    cells = sweep.cells()
    store = ResultStore(sweep.out)
    store.add(run_cell(cells[0]))
    store.flush()
    ran: list[str] = []

    def counting(todo: list[Cell], **kwargs: Any) -> Any:
        ran.extend(cell.key for cell in todo)
        return run_cells(todo, **kwargs)

    monkeypatch.setattr("desk.pool.run_cells", counting)
    assert main(["sweep", str(path), "--jobs", "1"]) == 0
    assert sorted(ran) == sorted(cell.key for cell in cells[1:])
    assert pq.read_table(sweep.out / RESULTS).num_rows == 4
    ran.clear()
    assert main(["sweep", str(path), "--jobs", "1"]) == 0
    assert ran == []


def dies_once(cell: Cell) -> dict[str, Any]:
    """Kills its worker process the first time it sees a cell, then runs the cell normally."""
    marker = Path(os.environ["DESK_TEST_MARKERS"]) / cell.key
    if not marker.exists():
        marker.touch()
        os._exit(1)
    return run_cell(cell)


def test_a_worker_that_dies_loses_only_its_cell_which_is_retried(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_sweep(tmp_path)
    cells = Sweep(path).cells()[:2]
    monkeypatch.setenv("DESK_TEST_MARKERS", str(tmp_path))
    rows = [row for _, row in run_cells(cells, jobs=2, retries=2, runner=dies_once)]
    assert comparable(rows) == comparable([run_cell(cell) for cell in cells])


def test_sweep_on_a_dask_cluster_gives_the_same_rows_as_local(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    path = make_sweep(tmp_path)
    cells = Sweep(path).cells()
    local = [row for _, row in run_cells(cells, jobs=1)]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        assert main(["sweep", str(path), "--scheduler", cluster.scheduler_address]) == 0
    stored = comparable(pq.read_table(tmp_path / "out" / RESULTS).to_pylist())
    assert len(stored) == len(local) == 4
    for remote_row, local_row in zip(stored, comparable(local), strict=True):
        assert {k: remote_row[k] for k in local_row} == local_row


def test_a_bad_sweep_file_is_one_line_naming_the_key(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = make_sweep(tmp_path, SWEEP.replace("[0.5, 10.0]", "[]"))
    assert main(["sweep", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "grid" in err[0] and "no values" in err[0]


def test_an_override_through_a_non_table_is_reported(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = make_sweep(tmp_path, SWEEP.replace('"execution.fees.taker_bps"',
                                              '"session.name.x"'))
    assert main(["sweep", str(path), "--jobs", "1"]) == 2
    assert "'name' is not a table" in capsys.readouterr().err


def test_on_dask_a_worker_that_dies_loses_only_its_cell(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("distributed")
    import sys

    import cloudpickle

    cells = Sweep(make_sweep(tmp_path)).cells()[:1]
    monkeypatch.setenv("DESK_TEST_MARKERS", str(tmp_path))
    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)  # worker processes need not import the tests
    try:
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:
            rows = [row for _, row in run_cells(cells, scheduler=cluster.scheduler_address,
                                                runner=dies_once)]
    finally:
        cloudpickle.unregister_pickle_by_value(module)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name in {c.key for c in cells}) == \
        sorted(c.key for c in cells)
    assert comparable(rows) == comparable([run_cell(cell) for cell in cells])


def test_a_bad_grid_value_is_named_by_key_and_index_before_any_cell_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_sweep(tmp_path, SWEEP + '"execution.entry_latency.ms" = [1, -5, 2]\n')
    monkeypatch.setattr("desk.pool.run_cells", lambda *a, **k: pytest.fail("a cell ran"))
    assert main(["sweep", str(path), "--jobs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f'desk: {path}: grid."execution.entry_latency.ms"[1]: '
                   "Input should be greater than or equal to 0"]
    assert not (tmp_path / "out").exists()


def test_a_grid_key_that_no_value_can_fix_is_one_line_without_an_index(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_sweep(tmp_path, SWEEP.replace('"execution.fees.taker_bps"',
                                              '"execution.fees.taker_bpz"'))
    assert main(["sweep", str(path), "--jobs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f'desk: {path}: grid."execution.fees.taker_bpz": Extra inputs are not permitted']


def test_sweep_rejects_jobs_below_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", str(make_sweep(tmp_path)), "--jobs", "0"]) == 2
    assert capsys.readouterr().err.strip() == "desk: --jobs: 0 must be at least 1"


def counting_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Keys of the cells each `desk sweep` hands to the pool, collected in the list returned."""
    ran: list[str] = []

    def counting(todo: list[Cell], **kwargs: Any) -> Any:
        ran.extend(cell.key for cell in todo)
        return run_cells(todo, **kwargs)

    monkeypatch.setattr("desk.pool.run_cells", counting)
    return ran


def test_an_edited_session_runs_again_and_its_old_rows_leave_the_results(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = make_sweep(tmp_path)
    ran = counting_runs(monkeypatch)
    assert main(["sweep", str(path), "--jobs", "1"]) == 0
    before = set(pq.read_table(tmp_path / "out" / RESULTS).column("key").to_pylist())
    session = tmp_path / "base.toml"
    session.write_text(session.read_text().replace("events = 3000", "events = 2500"))
    ran.clear()
    capsys.readouterr()
    assert main(["sweep", str(path), "--jobs", "1"]) == 0
    assert len(ran) == 4 and not set(ran) & before
    table = pq.read_table(tmp_path / "out" / RESULTS)
    assert set(table.column("key").to_pylist()) == set(ran)
    assert set(table.column("events").to_pylist()) < set(range(2_000, 3_000))
    assert "4 rows of cells no longer in the sweep left out" in capsys.readouterr().out


def test_a_shrunk_grid_leaves_old_rows_out_of_the_results_and_keeps_them_for_later(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = make_sweep(tmp_path)
    ran = counting_runs(monkeypatch)
    assert main(["sweep", str(path), "--jobs", "1"]) == 0
    path.write_text(SWEEP.replace("[0.5, 10.0]", "[0.5]"))
    ran.clear()
    capsys.readouterr()
    assert main(["sweep", str(path), "--jobs", "1"]) == 0
    assert ran == []
    table = pq.read_table(tmp_path / "out" / RESULTS)
    assert table.column("execution.fees.taker_bps").to_pylist() == [0.5, 0.5]
    assert "2 rows in" in (out := capsys.readouterr().out) and "2 rows of cells no longer" in out
    path.write_text(SWEEP)
    assert main(["sweep", str(path), "--jobs", "1"]) == 0
    assert ran == [] and pq.read_table(tmp_path / "out" / RESULTS).num_rows == 4


def test_sessions_with_the_same_file_name_are_separate_cells(tmp_path: Path) -> None:
    for folder, fee in (("a", 0.5), ("b", 20.0)):
        (tmp_path / folder).mkdir()
        write_session(tmp_path / folder, "base", execution={"fees": {"taker_bps": fee}})
    path = tmp_path / "sweep.toml"
    path.write_text('session = ["a/base.toml", "b/base.toml"]\nseeds = 2\nout = "out"\n')
    assert main(["sweep", str(path), "--jobs", "1"]) == 0
    rows = pq.read_table(tmp_path / "out" / RESULTS).to_pylist()
    assert sorted(r["label"] for r in rows) == ["a/base.toml"] * 2 + ["b/base.toml"] * 2
    fees = {label: {r["fee_cost"] for r in rows if r["label"] == label} for label in
            ("a/base.toml", "b/base.toml")}
    assert min(fees["b/base.toml"]) > max(fees["a/base.toml"])


def interrupting(monkeypatch: pytest.MonkeyPatch) -> None:
    """`desk sweep` gets a Ctrl-C (SIGINT to this process) while it stores its first row."""

    def interrupted(todo: list[Cell], **kwargs: Any) -> Any:
        for number, result in enumerate(run_cells(todo, **kwargs)):
            if number == 0:
                os.kill(os.getpid(), signal.SIGINT)
            yield result

    monkeypatch.setattr("desk.pool.run_cells", interrupted)


@pytest.mark.parametrize(("jobs", "kept", "rows"), [(1, 1, "1 row"), (2, 2, "2 rows")])
def test_ctrl_c_keeps_the_cells_in_flight_exits_130_and_a_rerun_resumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        jobs: int, kept: int, rows: str) -> None:
    path = make_sweep(tmp_path)
    with monkeypatch.context() as patch:
        interrupting(patch)
        assert main(["sweep", str(path), "--jobs", str(jobs)]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        f"interrupted: {rows} kept; rerun to resume"
    assert not (tmp_path / "out" / RESULTS).exists()
    assert ResultStore(tmp_path / "out").read().num_rows == kept
    ran = counting_runs(monkeypatch)
    assert main(["sweep", str(path), "--jobs", str(jobs)]) == 0
    assert len(ran) == 4 - kept
    stored = comparable(pq.read_table(tmp_path / "out" / RESULTS).to_pylist())
    expected = comparable([run_cell(cell) for cell in Sweep(path).cells()])
    assert [{k: row[k] for k in want} for row, want in zip(stored, expected, strict=True)] == \
        expected


def dies_for_seed_one(cell: Cell) -> dict[str, Any]:
    """Kills its worker for every cell of seed 1 (the first time only if DESK_TEST_ONCE is set);
    every run of a cell is counted in a marker file."""
    marker = Path(os.environ["DESK_TEST_MARKERS"]) / cell.key
    with marker.open("a") as runs:
        runs.write("x")
    if cell.seed == 1 and (not os.environ.get("DESK_TEST_ONCE") or marker.stat().st_size == 1):
        os._exit(1)
    return run_cell(cell)


def runs_per_cell(folder: Path, cells: list[Cell]) -> dict[int, int]:
    return {cell.seed: len((folder / cell.key).read_text()) if (folder / cell.key).exists()
            else 0 for cell in cells}


def three_seeds_marked(tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> tuple[list[Cell], Path]:
    """One value's cells for seeds 1–3, each run leaving a marker in the folder returned."""
    path = make_sweep(tmp_path, SWEEP.replace("seeds = 2", "seeds = [1, 2, 3]"))
    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setenv("DESK_TEST_MARKERS", str(markers))
    return [c for c in Sweep(path).cells() if c.overrides[0][1] == 0.5], markers


def test_a_dead_worker_charges_a_retry_to_its_own_cell_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cells, markers = three_seeds_marked(tmp_path, monkeypatch)
    monkeypatch.setenv("DESK_TEST_ONCE", "1")
    rows = [row for _, row in run_cells(cells, jobs=2, retries=1, runner=dies_for_seed_one)]
    assert comparable(rows) == comparable([run_cell(cell) for cell in cells])
    assert runs_per_cell(markers, cells) == {1: 2, 2: 1, 3: 1}


def test_a_cell_that_always_kills_its_worker_is_the_one_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cells, markers = three_seeds_marked(tmp_path, monkeypatch)
    with pytest.raises(BatchError, match=r"\(seed 1\): its worker process died 3 times"):
        for _ in run_cells(cells, jobs=2, retries=2, runner=dies_for_seed_one):
            pass
    counts = runs_per_cell(markers, cells)
    assert counts[1] == 3 and counts[2] <= 1 and counts[3] <= 1


def raises_for_seed_two(cell: Cell) -> dict[str, Any]:
    if cell.seed == 2:
        raise SessionError(f"{cell.session}: made up")
    if cell.seed == 3:
        raise ValueError("a bug")
    return run_cell(cell)


@pytest.mark.parametrize(("seed", "error", "says"), [
    (2, SessionError, "base.toml: made up"),
    (3, BatchError, r"\(seed 3\) raised ValueError: a bug"),
])
def test_an_error_in_a_worker_is_raised_here_as_one_line(
        tmp_path: Path, seed: int, error: type[Exception], says: str) -> None:
    path = make_sweep(tmp_path, SWEEP.replace("seeds = 2", f"seeds = [{seed}]"))
    with pytest.raises(error, match=says):
        for _ in run_cells(Sweep(path).cells(), jobs=2, runner=raises_for_seed_two):
            pass


def test_on_dask_same_named_sessions_are_two_and_cells_need_no_session_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    distributed = pytest.importorskip("distributed")
    for folder, fee in (("a", 0.5), ("b", 20.0)):
        (tmp_path / folder).mkdir()
        write_session(tmp_path / folder, "s", execution={"fees": {"taker_bps": fee}})
    paths = [str(tmp_path / "a" / "s.toml"), str(tmp_path / "b" / "s.toml")]
    assert main(["compare", *paths, "--seeds", "1", "--jobs", "1", "--json"]) == 0
    local = capsys.readouterr().out
    cells = Sweep(make_sweep(tmp_path)).cells()
    expected = comparable([run_cell(cell) for cell in cells])
    (tmp_path / "base.toml").unlink()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        assert main(["compare", *paths, "--seeds", "1", "--json",
                     "--scheduler", cluster.scheduler_address]) == 0
        remote = [row for _, row in run_cells(cells, scheduler=cluster.scheduler_address)]
    assert capsys.readouterr().out == local and len(local.splitlines()) == 2
    assert comparable(remote) == expected


def test_on_dask_ctrl_c_keeps_what_finishes_and_cancels_the_queued_cells(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    distributed = pytest.importorskip("distributed")
    path = make_sweep(tmp_path, SWEEP.replace("seeds = 2", "seeds = 4"))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        with monkeypatch.context() as patch:
            interrupting(patch)
            assert main(["sweep", str(path), "--scheduler", cluster.scheduler_address]) == 130
        last = capsys.readouterr().err.strip().splitlines()[-1]
        kept = ResultStore(tmp_path / "out").read().num_rows
        assert last == f"interrupted: {counted(kept, 'row')} kept; rerun to resume" \
            and 1 <= kept < 8
        ran = counting_runs(monkeypatch)
        assert main(["sweep", str(path), "--scheduler", cluster.scheduler_address]) == 0
    assert len(ran) == 8 - kept
    assert pq.read_table(tmp_path / "out" / RESULTS).num_rows == 8


def test_a_grid_value_that_is_not_a_list_names_its_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_sweep(tmp_path, SWEEP + '"execution.entry_latency.ms" = 5\n')
    assert main(["sweep", str(path), "--jobs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f'desk: {path}: grid."execution.entry_latency.ms": Input should be a valid '
                   "list (not 5)"]


def test_a_grid_over_the_sessions_seed_is_refused_not_run_as_identical_cells(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # each cell runs with its own seed from `seeds`: `session.seed` values would give cells
    # labelled seed=1, seed=2 with the same rows, read as a sweep over worlds
    path = make_sweep(tmp_path, SWEEP + '"session.seed" = [1, 2]\n')
    monkeypatch.setattr("desk.pool.run_cells", lambda *a, **k: pytest.fail("a cell ran"))
    assert main(["sweep", str(path), "--jobs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f'desk: {path}: grid."session.seed": each cell '
                                               "runs with its seed from `seeds`"), err


@pytest.mark.parametrize(("grid", "says"), [
    ('"" = [1]', 'grid."": a grid key is a dotted path of session keys'),
    ('"execution..fees" = [{}]', 'grid."execution..fees": a grid key is a dotted path'),
    ('"session" = [{name = "a", seed = 5, start_cash = 1000.0}]',
     'grid."session": vary the session\'s keys one by one'),
])
def test_a_grid_key_that_is_no_path_or_the_whole_session_is_one_line_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        grid: str, says: str) -> None:
    # before: an empty key was blamed on the session file; a `session` table ran its seed as
    # identical cells and replaced the rows' `session` column
    path = make_sweep(tmp_path, SWEEP + grid + "\n")
    monkeypatch.setattr("desk.pool.run_cells", lambda *a, **k: pytest.fail("a cell ran"))
    assert main(["sweep", str(path), "--jobs", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"desk: {path}: {says}"), err


def test_cell_labels_tell_apart_grid_keys_with_the_same_last_part(tmp_path: Path) -> None:
    path = make_sweep(tmp_path, SWEEP.replace(
        '"execution.fees.taker_bps" = [0.5, 10.0]',
        '"execution.entry_latency.ms" = [1, 50]\n"execution.response_latency.ms" = [2]\n'
        '"execution.fees.taker_bps" = [0.5]'))
    labels = sorted({cell.label for cell in Sweep(path).cells()})
    assert labels == ["base entry_latency.ms=1 response_latency.ms=2 taker_bps=0.5",
                      "base entry_latency.ms=50 response_latency.ms=2 taker_bps=0.5"]


@pytest.mark.parametrize("command", ["run", "compare", "play"])
def test_a_sweep_file_given_as_a_session_is_one_line_naming_desk_sweep(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    path = make_sweep(tmp_path)
    assert main([command, str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"desk: {path}: is a sweep file, not a session file (its `session` names the "
                   f"session to sweep): run it with `desk sweep {path}`, or give the session "
                   "file it names"]


def test_a_file_that_is_not_text_is_said_so_by_compare_and_sweep(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "journal.arrow"
    binary.write_bytes(b"\xff\xff\xff\xff\x00\x01")
    for argv in (["compare", str(binary)], ["sweep", str(binary)]):
        assert main(argv) == 2
        assert capsys.readouterr().err.strip() == f"desk: {binary}: not a UTF-8 text file"
