"""Run many cells: in this process, in local worker processes, or on a Dask cluster.

Rows come back as cells finish, in any order; callers key them by `Cell.key`.
A worker that dies loses only the cells it was running: they are run again
(up to `retries` times), and every finished row has already been handed back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from desk.batch import Cell, run_cell
from desk.errors import DeskError

Row = dict[str, Any]
Runner = Callable[[Cell], Row]


class BatchError(DeskError):
    """A cell could not be run (its worker kept dying, or it raised)."""


def default_jobs() -> int:
    """Worker processes by default: the machine's cores, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def run_cells(cells: list[Cell], jobs: int = 1, scheduler: str | None = None,
              retries: int = 2, runner: Runner = run_cell) -> Iterator[tuple[Cell, Row]]:
    """Yield `(cell, row)` for every cell as it finishes."""
    if not cells:
        return
    if scheduler is not None:
        yield from _dask(cells, scheduler, retries, runner)
    elif jobs <= 1:
        for cell in cells:
            yield cell, runner(cell)
    else:
        yield from _processes(cells, jobs, retries, runner)


def _processes(cells: list[Cell], jobs: int, retries: int,
               runner: Runner) -> Iterator[tuple[Cell, Row]]:
    """A process pool that is rebuilt when a worker dies; the dead worker's cells are retried."""
    attempts = dict.fromkeys(range(len(cells)), 0)
    todo = list(range(len(cells)))
    while todo:
        broken = False
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
            futures: dict[Future[Row], int] = {}
            queue = list(todo)
            todo = []

            def fill(queue: list[int], futures: dict[Future[Row], int],
                     pool: ProcessPoolExecutor) -> None:
                while queue and len(futures) < 2 * jobs:
                    index = queue.pop(0)
                    attempts[index] += 1
                    futures[pool.submit(runner, cells[index])] = index

            fill(queue, futures, pool)
            try:
                while futures:
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for future in done:
                        index = futures.pop(future)
                        try:
                            row = future.result()
                        except BrokenProcessPool:
                            broken = True
                            if attempts[index] > retries:
                                raise BatchError(f"cell {cells[index].label or cells[index].key} "
                                                 f"(seed {cells[index].seed}): its worker died "
                                                 f"{attempts[index]} times") from None
                            todo.append(index)
                            continue
                        yield cells[index], row
                    if broken:
                        todo.extend(futures.values())
                        todo.extend(queue)
                        futures.clear()
                        break
                    fill(queue, futures, pool)
            except BaseException:
                # interrupted, or the consumer stopped: do not wait for the queued cells
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        todo.sort()


def _dask(cells: list[Cell], scheduler: str, retries: int,
          runner: Runner) -> Iterator[tuple[Cell, Row]]:
    """Submit every cell to a Dask cluster; the scheduler re-runs cells whose worker died."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise BatchError("--scheduler needs dask.distributed: pip install 'dask[distributed]'") \
            from None
    try:
        client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
    except OSError as error:
        raise BatchError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    try:
        futures = {client.submit(runner, cell, key=f"desk-cell-{cell.key}", pure=False,
                                 retries=retries): cell for cell in cells}
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            cell = futures[future]
            try:
                row = future.result()
            except Exception as error:
                raise BatchError(f"cell {cell.label or cell.key} (seed {cell.seed}) failed on the "
                                 f"cluster: {type(error).__name__}: {error}") from None
            yield cell, row
    finally:
        client.close()  # type: ignore[no-untyped-call]
