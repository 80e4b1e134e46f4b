"""`desk run`: a session headless, with a progress bar on a terminal and a summary at the end."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from desk.commands import given
from desk.termination import EXIT_CODE as TERMINATED

DEMO = Path(__file__).resolve().parent.parent.parent / "sessions" / "demo.toml"


_CHUNK = 2_000
"""Events per call of `Engine.run`: how often the loop looks at Ctrl-C and the progress bar."""


def seed_value(text: str) -> int:
    """`--seed` (and `desk compare --seed-start`): a whole number from 0 to 2**63 - 1, as a
    session's `seed` and a sweep's seeds are."""
    from desk.seeds import seed_problem

    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    problem = seed_problem(seed)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return seed


def _session_path(value: str | None) -> Path:
    return Path(value) if value else DEMO


def _journal_path(args: argparse.Namespace, configured: str) -> Path:
    if getattr(args, "out", None):
        return Path(args.out) / "journal.arrow"
    return Path(configured)


def check_journal_path(journal: Path, where: str, loaded: Any = None) -> None:
    """Fail with one line, before the engine is built, if the journal cannot be written there.

    `where` names what chose the path (`--out DIR` or `session.toml: audit.path`).
    A journal never takes the place of the run's own inputs (`loaded`: the session
    file and its data files). The folder is created (the journal would create it
    anyway) and probed with a throwaway file; the journal itself is not touched
    until the run starts.
    """
    import tempfile

    from desk.errors import OutputError

    if journal.is_dir():
        raise OutputError(f"{where}: {journal} is a folder; give a file path for the journal")
    if loaded is not None:
        target = journal.resolve()
        inputs = [] if loaded.path is None else [("the session file", Path(loaded.path))]
        inputs += [("a data file", loaded.resolve(source.path))
                   for source in loaded.config.data.files]
        for what, path in inputs:
            if path.resolve() == target:
                raise OutputError(f"{where}: {journal} is {what} of this run; the journal would "
                                  "overwrite it")
    if journal.parent.exists() and not journal.parent.is_dir():
        raise OutputError(f"{where}: {journal.parent} is a file, not a folder")
    try:
        journal.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=journal.parent):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise OutputError(f"{where}: cannot write the journal {journal}: {reason}") from None


def cmd_run(args: argparse.Namespace) -> int:
    """Run a session headless and print its summary."""
    from desk.collector import settle
    from desk.config import load_session
    from desk.data.units import unit_doubts
    from desk.engine import Engine
    from desk.report import summarize

    loaded = load_session(_session_path(args.session))
    journal = _journal_path(args, loaded.config.audit.path)
    check_journal_path(journal, f"--out {args.out}" if getattr(args, "out", None)
                       else f"{loaded.path}: audit.path", loaded)
    for doubt in unit_doubts(loaded):
        print(f"desk: warning: {doubt}", file=sys.stderr)
    started = time.perf_counter()
    # the journal's words and batches are made in a forked writer, on the other core
    engine = Engine(loaded, journal, seed=args.seed, strict=args.strict, journal_writer="process")
    console = None
    if not args.json:  # Rich only for people: a JSON run (sweeps, the benchmark) skips its import
        from desk.report import stdout_console

        console = stdout_console()
    settle()  # the collector keeps out of the way of the run's millions of short-lived objects
    stop = _StopOnInterrupt()
    first_event: float | None = None
    previous = signal.signal(signal.SIGINT, stop)
    previous_term = signal.signal(signal.SIGTERM, stop)  # `kill`, `timeout`: stopped as Ctrl-C
    try:
        if console is not None and console.is_terminal:
            _run_with_progress(engine, console, stop)
        else:
            # the first event alone, so that a launcher that says when it started us
            # (DESK_STARTED_AT, epoch seconds: `desk bench`) learns how long it took to reach it
            more = engine.run(max_events=1)
            first_event = time.time()
            # a Ctrl-C is seen between chunks: at most _CHUNK events later, still between events
            while more and not stop.requested and engine.run(max_events=_CHUNK):
                pass
    except KeyboardInterrupt:
        stop.requested = True
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
        engine.close()
    interrupted = stop.requested and not engine.finished
    note = engine.window_note()
    if note is not None:
        print(f"desk: warning: {loaded.path}: {note}", file=sys.stderr)
    summary = summarize(engine, time.perf_counter() - started)
    summary["journal"] = str(journal)
    spawned = os.environ.get("DESK_STARTED_AT")
    if args.json and spawned and first_event is not None:
        summary["first_event_s"] = first_event - float(spawned)
    if args.json:
        import json

        print(json.dumps(summary, sort_keys=True))
    else:
        from desk.report import summary_table

        assert console is not None
        console.print(summary_table(summary))
        console.print(f"journal: {journal}", markup=False, highlight=False)
    if interrupted:
        if stop.signum == signal.SIGTERM:
            print("terminated: journal flushed and closed", file=sys.stderr)
            return TERMINATED
        print("interrupted: journal flushed and closed", file=sys.stderr)
        return 130
    return 0


class _StopOnInterrupt:
    """The first Ctrl-C (or SIGTERM) asks the run to stop between two events; a second one
    interrupts at once.

    Stopping between events keeps the journal's last record whole, so `close()`
    seals a journal that is an exact prefix of the uninterrupted run.
    """

    def __init__(self) -> None:
        self.requested = False
        self.signum: int | None = None
        """The signal that asked: SIGTERM exits 143, Ctrl-C 130."""

    def __call__(self, signum: int, frame: Any) -> None:
        self.signum = signum
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


def _run_with_progress(engine: Any, console: Any, stop: _StopOnInterrupt) -> None:
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    total = None
    synthetic = engine.config.data.synthetic
    if synthetic is not None:
        total = synthetic.events
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed:,} events"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task(escape(engine.config.session.name), total=total)
        while not stop.requested:
            more = engine.run(max_events=_CHUNK)
            progress.update(task, completed=engine.stats.events)
            if not more:
                return



def register(sub: Any) -> None:
    run = sub.add_parser("run", help="run a session headless and print its summary")
    run.add_argument("session", nargs="?", type=given("a session file"),
                     help="session file (default: the bundled demo)")
    run.add_argument("--out", type=given("a folder"),
                     help="folder for the journal (default: the session's audit.path)")
    run.add_argument("--seed", type=seed_value, help="override the session's seed")
    run.add_argument("--strict", action="store_true",
                     help="check every invariant after every event")
    run.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    run.set_defaults(func=cmd_run, settles=True)
