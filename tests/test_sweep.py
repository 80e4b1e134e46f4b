"""`desk sweep`: grid × seeds into Parquet, resumable, retrying dead workers, same rows on Dask."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from desk.batch import Cell, run_cell
from desk.cli import main
from desk.pool import run_cells
from desk.sweep import RESULTS, ResultStore, Sweep
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
