"""The journal: inline or through its writer process, the same bytes; a crash leaves a prefix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tomli_w

from desk.audit import Journal, load_journal, read_journal
from desk.config import parse_session
from desk.engine import Engine
from desk.errors import JournalError
from tests.conftest import BASE, ROOT, make_session, merge


def _run(path: Path, writer: str, **extra: object) -> bytes:
    engine = Engine(make_session(**extra), path, journal_writer=writer)
    try:
        engine.run()
    finally:
        engine.close()
    return path.read_bytes()


def test_the_writer_process_writes_the_same_bytes_as_the_inline_journal(tmp_path: Path) -> None:
    extra = {"audit": {"flush_every": 300},  # many sealed batches, chunks straddling them
             "data": {"synthetic": {"events": 8_000}}}
    inline = _run(tmp_path / "inline.arrow", "inline", **extra)
    forked = _run(tmp_path / "forked.arrow", "process", **extra)
    assert inline == forked
    records = read_journal(tmp_path / "forked.arrow").to_pylist()
    kinds = {r["kind"] for r in records}
    assert {"signal", "intent", "risk", "order", "arrival", "fill", "execution"} <= kinds
    assert [r["seq"] for r in records] == list(range(len(records)))


def test_a_flush_puts_every_record_so_far_in_the_file_and_more_flushes_append_to_it(
        tmp_path: Path) -> None:
    path = tmp_path / "j.arrow"
    journal = Journal(path, flush_every=1_000, flush_ms=1e9)
    for i in range(700):
        journal.record("note", i, f"note {i}", value=i)
    journal.flush()
    assert read_journal(path).column("seq").to_pylist() == list(range(700))
    for i in range(700, 1_450):  # crosses the first sealed batch at 1,000
        journal.record("note", i, f"note {i}", value=i)
    journal.flush()
    assert read_journal(path).column("seq").to_pylist() == list(range(1_450))
    journal.close()
    closed = read_journal(path)
    assert closed.column("seq").to_pylist() == list(range(1_450))
    assert closed.column("details").to_pylist()[3] == '{"value":3}'


def test_a_quiet_run_loop_still_flushes_on_time(tmp_path: Path) -> None:
    path = tmp_path / "j.arrow"
    journal = Journal(path, flush_every=4_096, flush_ms=1)
    journal.record("note", 0, "one record, and then a long silence")
    time.sleep(0.01)
    journal.poll()  # what Engine.run does between chunks of events
    assert read_journal(path).num_rows == 1
    journal.close()


def test_an_unwritable_journal_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(JournalError, match="cannot write the journal"):
        Journal(blocker / "j.arrow")


def test_a_dead_writer_process_stops_the_run_with_a_clear_error(tmp_path: Path) -> None:
    engine = Engine(make_session(), tmp_path / "j.arrow", journal_writer="process")
    os.kill(engine.journal._sink._pid, signal.SIGKILL)  # the engine's writer dies (disk gone…)
    with pytest.raises(JournalError, match="journal could not be written"):
        engine.run()
        engine.close()


def _session_file(folder: Path) -> Path:
    data = merge(BASE, {"data": {"synthetic": {"events": 60_000}},
                        "audit": {"flush_every": 10_000_000, "flush_ms": 20}})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "session.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def test_killing_the_run_but_not_its_writer_still_leaves_a_closed_exact_prefix(
        tmp_path: Path) -> None:
    session = _session_file(tmp_path / "s")
    reference = tmp_path / "full.arrow"
    full = Engine(parse_session(merge(BASE, {"data": {"synthetic": {"events": 60_000}}}),
                                "s"), reference)
    full.run()
    full.close()
    expected = read_journal(reference).to_pylist()
    out = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "desk", "run", str(session), "--out", str(out),
                             "--json"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    journal = out / "journal.arrow"
    deadline = time.monotonic() + 60
    while (not journal.exists() or journal.stat().st_size < 20_000) and proc.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # the orphaned writer seals what it received and ends the stream, then exits
    deadline = time.monotonic() + 30
    while not journal.read_bytes().endswith(b"\xff\xff\xff\xff\x00\x00\x00\x00") \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    assert journal.read_bytes().endswith(b"\xff\xff\xff\xff\x00\x00\x00\x00")
    left = read_journal(journal).to_pylist()
    assert 0 < len(left) < len(expected)
    assert left == expected[:len(left)]
    # closed, but not the whole run: a reader is told so
    assert "ends before its run did" in (load_journal(journal).warning or "")


def test_a_run_folder_reads_as_its_journal_and_a_folder_without_one_is_a_clear_error(
        tmp_path: Path) -> None:
    _run(tmp_path / "run" / "journal.arrow", "inline")
    assert read_journal(tmp_path / "run").num_rows > 10
    (tmp_path / "empty").mkdir()
    with pytest.raises(JournalError, match=r"without a journal\.arrow"):
        read_journal(tmp_path / "empty")


def _gone(pid: int) -> bool:
    """Whether the process has ended and been reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("earlier", [b"an earlier run's journal", None])
def test_a_prepared_writer_leaves_the_file_as_it_was_and_abandoning_it_undoes_all(
        tmp_path: Path, earlier: bytes | None) -> None:
    path = tmp_path / "j.arrow"
    if earlier is not None:
        path.write_bytes(earlier)
    journal = Journal(path, writer="process", open_now=False)
    journal.prepare()
    pid = journal._sink._pid
    journal.record("note", 0, "made before the run was sure to start")
    journal.flush()
    assert path.read_bytes() == (earlier or b"")  # without an earlier journal: made, empty
    journal.abandon()
    assert _gone(pid)
    if earlier is None:
        assert not path.exists()
    else:
        assert path.read_bytes() == earlier
    journal.close()  # nothing left to close


def test_a_prepared_then_opened_writer_writes_the_same_bytes_as_an_inline_journal(
        tmp_path: Path) -> None:
    (tmp_path / "forked.arrow").write_bytes(b"x" * 100_000)  # longer than the new journal
    journals = {"inline": Journal(tmp_path / "inline.arrow", flush_every=50),
                "forked": Journal(tmp_path / "forked.arrow", flush_every=50, writer="process",
                                  open_now=False)}
    journals["forked"].prepare()
    for journal in journals.values():
        journal.record("session", 0, "before the file is opened", seed=1)
    journals["forked"].flush()  # as a record made a while after the last flush does
    journals["forked"].open()
    for journal in journals.values():
        for i in range(1, 120):
            journal.record("note", i, f"note {i}", value=i)
        journal.close()
    assert (tmp_path / "forked.arrow").read_bytes() == (tmp_path / "inline.arrow").read_bytes()


def test_the_writer_is_forked_before_the_first_batch_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """So that it shares none of the data: its memory stays that of the modules."""
    from desk.journal_writer import WriterProcess
    from desk.queue import EventQueue

    order: list[str] = []
    refill, fork = EventQueue._refill, WriterProcess.__init__

    def reading(queue: EventQueue) -> bool:
        order.append("read")
        return refill(queue)

    def forking(writer: WriterProcess, *args: object, **kwargs: object) -> None:
        order.append("fork")
        fork(writer, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(EventQueue, "_refill", reading)
    monkeypatch.setattr(WriterProcess, "__init__", forking)
    engine = Engine(make_session(), tmp_path / "j.arrow", journal_writer="process")
    engine.close()
    assert order[:2] == ["fork", "read"]
