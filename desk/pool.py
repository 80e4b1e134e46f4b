"""Run many cells: in this process, in local worker processes, or on a Dask cluster.

Rows come back as cells finish, in any order; callers key them by `Cell.key`.
Cells with the same key compute the same row, so each key runs once and its
row is handed to every cell that shares it.

Each local worker process runs one cell at a time and the parent knows which:
a worker that dies (killed, out of memory) loses only that cell, which alone is
charged a retry and run again in a new worker (up to `retries` times); the
other workers and their cells carry on. On Dask the scheduler does the same
for a lost worker, and `retries` also covers exceptions.

With `finish_on_interrupt`, the first Ctrl-C starts no more cells: the cells
in flight finish and their rows are yielded, then `KeyboardInterrupt` is
raised; a second Ctrl-C abandons them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait
from types import FrameType
from typing import Any

from desk.batch import Cell, run_cell
from desk.errors import DeskError

Row = dict[str, Any]
Runner = Callable[[Cell], Row]
Notify = Callable[[int], None]

POLL_SECONDS = 0.2
"""How often a waiting batch looks at a Ctrl-C that asked it to stop."""


class BatchError(DeskError):
    """A cell could not be run (its worker kept dying, or it raised)."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker, as text: the cause `--debug` shows."""


def default_jobs() -> int:
    """Worker processes by default: the machine's cores, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def check_scheduler(scheduler: str | None) -> None:
    """Refuse a `--scheduler` that is no address before anything is loaded or run.

    An empty one would mean "no scheduler" in one place and an address in
    another; a malformed one is parsed here as Dask would parse it when it
    connects, so the mistake is named at once.
    """
    if scheduler is None:
        return
    if not scheduler.strip():
        raise BatchError("--scheduler: give a Dask scheduler's address, like tcp://host:8786, "
                         "not an empty one")
    try:
        from distributed.comm.addressing import parse_address, parse_host_port
        from distributed.comm.registry import get_backend
    except ImportError:
        return  # running the cells says what to install
    try:
        scheme, location = parse_address(scheduler)
        get_backend(scheme)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as error:
        raise _bad_address(scheduler, error) from None


def _bad_address(scheduler: str, error: Exception) -> BatchError:
    return BatchError(f"--scheduler: {scheduler!r} is not a Dask scheduler address ({error}); "
                      "give one like tcp://host:8786")


def run_cells(cells: list[Cell], jobs: int = 1, scheduler: str | None = None,
              retries: int = 2, runner: Runner = run_cell, finish_on_interrupt: bool = False,
              on_interrupt: Notify | None = None) -> Iterator[tuple[Cell, Row]]:
    """Yield `(cell, row)` for every cell as it finishes.

    Args:
        cells: what to run; cells sharing a key run once.
        jobs: local worker processes; 1 runs the cells in this process.
        scheduler: a Dask scheduler's address; the cells run there instead.
        retries: how many times a cell whose worker died is run again.
        runner: the function of a cell (tests swap it).
        finish_on_interrupt: a first Ctrl-C lets the cells in flight finish (see the module).
        on_interrupt: told how many cells are still in flight when a Ctrl-C is noticed.
    """
    if jobs < 1:
        raise BatchError(f"--jobs: {jobs} must be at least 1")
    twins: dict[str, list[Cell]] = {}
    for cell in cells:
        twins.setdefault(cell.key, []).append(cell)
    unique = [group[0] for group in twins.values()]
    if not unique:
        return
    with _Interrupts(finish_on_interrupt, on_interrupt) as stop:
        if scheduler is not None:
            results = _dask(unique, scheduler, retries, runner, stop)
        elif jobs == 1:
            results = _here(unique, runner, stop)
        else:
            results = _processes(unique, jobs, retries, runner, stop)
        for cell, row in results:
            for twin in twins[cell.key]:
                yield twin, (row if twin.label in ("", row["label"]) else
                             dict(row, label=twin.label))


class _Interrupts:
    """While a batch runs: the first Ctrl-C asks it to stop starting cells; the second raises."""

    def __init__(self, enabled: bool, notify: Notify | None) -> None:
        self.enabled = enabled
        self.notify = notify
        self.requested = False
        self.noticed = False
        self._previous: Any = None

    def __enter__(self) -> _Interrupts:
        # signal handlers belong to the main thread; elsewhere Ctrl-C keeps its usual meaning
        if self.enabled and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def stopping(self, in_flight: int) -> bool:
        """Whether to start no more cells; tells `notify` once, when the request is first seen."""
        if self.requested and not self.noticed:
            self.noticed = True
            if self.notify is not None:
                self.notify(in_flight)
        return self.requested

    def finish(self) -> None:
        """After the cells in flight: the interrupted batch ends as an interrupt."""
        if self.requested:
            raise KeyboardInterrupt


def _here(cells: list[Cell], runner: Runner, stop: _Interrupts) -> Iterator[tuple[Cell, Row]]:
    """One cell after another in this process (a Ctrl-C lets the current one finish)."""
    for cell in cells:
        if stop.stopping(0):
            break
        try:
            row = runner(cell)
        except DeskError:
            raise
        except Exception as error:  # as a worker's error is: one line, the traceback its cause
            raise BatchError(f"cell {cell.label or cell.key} (seed {cell.seed}) raised "
                             f"{type(error).__name__}: {error}") from error
        yield cell, row
    stop.finish()


def _work(conn: Connection, parent_end: Connection, runner: Runner) -> None:
    """A worker process: run the cells it is sent, one at a time, until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    parent_end.close()  # a forked copy would keep our pipe open after the parent dies
    while True:
        try:
            cell = conn.recv()
        except EOFError:
            return
        if cell is None:
            return
        try:
            conn.send(("row", runner(cell)))
        except BaseException as error:  # the parent decides what it means
            conn.send(("error", _portable(error), traceback.format_exc()))


def _portable(error: BaseException) -> BaseException:
    """The error itself if it survives pickling, else a BatchError carrying its text."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # any failure to round-trip means: send the text
        return BatchError(f"{type(error).__name__}: {error}")
    return error


class _Worker:
    """A worker process, the parent's end of its pipe, and the cell it is running."""

    def __init__(self, runner: Runner) -> None:
        context = multiprocessing.get_context()
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_work, args=(child, self.conn, runner),
                                       daemon=True)
        self.process.start()
        child.close()
        self.index: int | None = None

    def send(self, index: int, cell: Cell) -> bool:
        """Hand the worker a cell; False if the worker is gone."""
        try:
            self.conn.send(cell)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            return False
        self.index = index
        return True

    def receive(self) -> tuple[Any, ...] | None:
        """The worker's answer, or None if it died before giving one."""
        try:
            if self.conn.poll():
                answer: tuple[Any, ...] = self.conn.recv()
                return answer
        except (EOFError, OSError):
            pass
        return None

    def end(self) -> None:
        """Stop the worker: politely if idle, by force if it is still running a cell."""
        if self.index is None and self.process.is_alive():
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


def _processes(cells: list[Cell], jobs: int, retries: int, runner: Runner,
               stop: _Interrupts) -> Iterator[tuple[Cell, Row]]:
    """Up to `jobs` worker processes, each given one cell at a time."""
    queue = deque(range(len(cells)))
    attempts = [0] * len(cells)
    idle: list[_Worker] = []
    busy: dict[Connection, _Worker] = {}
    try:
        while queue or busy:
            if queue and stop.stopping(len(busy)):
                queue.clear()
            while queue and len(busy) < jobs:
                worker = idle.pop() if idle else _Worker(runner)
                index = queue[0]
                if not worker.send(index, cells[index]):
                    worker.end()  # it died while idle: no cell of its own to charge
                    continue
                queue.popleft()
                attempts[index] += 1
                busy[worker.conn] = worker
            if not busy:
                break
            sentinels = {w.process.sentinel: w for w in busy.values()}
            ready = wait([*busy, *sentinels], timeout=POLL_SECONDS)
            finished = {busy[r] if isinstance(r, Connection) else sentinels[r]
                        for r in ready if r in busy or r in sentinels}
            for worker in sorted(finished, key=lambda w: w.index or 0):
                index = worker.index or 0  # a busy worker always has its cell's index
                del busy[worker.conn]
                answer = worker.receive()
                if answer is None:
                    worker.end()
                    cell = cells[index]
                    if attempts[index] > retries:
                        raise BatchError(f"cell {cell.label or cell.key} (seed {cell.seed}): its "
                                         f"worker process died {attempts[index]} times")
                    queue.appendleft(index)
                    continue
                worker.index = None
                idle.append(worker)
                if answer[0] == "error":
                    _raise(cells[index], answer[1], answer[2])
                yield cells[index], answer[1]
        stop.finish()
    finally:
        for worker in [*busy.values(), *idle]:
            worker.end()


def _raise(cell: Cell, error: BaseException, text: str) -> None:
    """A worker's exception, raised here: a DeskError as it is, anything else as a BatchError."""
    cause = RemoteTraceback(text)
    if isinstance(error, DeskError):
        raise error from cause
    raise BatchError(f"cell {cell.label or cell.key} (seed {cell.seed}) raised "
                     f"{type(error).__name__}: {error}") from cause


def _dask(cells: list[Cell], scheduler: str, retries: int, runner: Runner,
          stop: _Interrupts) -> Iterator[tuple[Cell, Row]]:
    """Submit every cell to a Dask cluster; the scheduler re-runs cells whose worker died."""
    try:
        from distributed import Client
        from distributed import wait as dask_wait
    except ImportError:
        raise BatchError("--scheduler needs dask.distributed: pip install 'dask[distributed]'") \
            from None
    try:
        client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
    except OSError as error:
        raise BatchError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    except (ValueError, TypeError) as error:  # Dask cannot parse the address
        raise _bad_address(scheduler, error) from None
    try:
        futures = {client.submit(runner, cell, key=f"desk-cell-{cell.key}", pure=False,
                                 retries=retries): cell for cell in cells}
        pending = set(futures)
        cancelled = False
        while pending:
            if stop.requested and not cancelled:
                cancelled = True
                processing = client.processing()  # type: ignore[no-untyped-call]
                running = {key for keys in processing.values() for key in keys}
                queued = {f for f in pending
                          if f.key not in running and not f.done()}  # type: ignore[no-untyped-call]
                client.cancel(list(queued))  # type: ignore[no-untyped-call]
                pending -= queued
                stop.stopping(len(pending))
                continue
            try:
                done, _ = dask_wait(list(pending), timeout=POLL_SECONDS,  # type: ignore[no-untyped-call]
                                    return_when="FIRST_COMPLETED")
            except TimeoutError:
                continue
            for future in done:
                pending.discard(future)
                cell = futures[future]
                try:
                    row = future.result()
                except DeskError:
                    raise
                except Exception as error:
                    raise BatchError(f"cell {cell.label or cell.key} (seed {cell.seed}) failed "
                                     f"on the cluster: {type(error).__name__}: {error}") from None
                yield cell, row
        stop.finish()
    finally:
        client.close()  # type: ignore[no-untyped-call]
