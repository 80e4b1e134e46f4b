"""Reading journals with `desk audit` and `desk explain` when the file or the question is odd:
cut-short and non-journal files, values no journal can hold, empty filters, closed pipes."""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import tomli_w
from cli_run import run_cli
from conftest import BASE, ROOT, make_session
from test_risk_explain import write_two_order_journal

from desk.audit import END_OF_STREAM, SCHEMA, Journal, load_journal, read_journal
from desk.engine import Engine
from desk.errors import JournalError
from desk.explain import JournalIndex, explain_order, explain_seq

HEADER = len(SCHEMA.serialize())
"""Bytes of a journal's stream header."""

@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed journal of one blocked and one filled order on ACME, in one record batch."""
    return write_two_order_journal(tmp_path_factory.mktemp("reading") / "journal.arrow")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _desk(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """`desk ARGS` in-process: exit code, stdout, stderr."""
    code = run_cli([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code: int, err: str, starts: str) -> None:
    assert code == 2, err
    assert err.startswith(f"desk: {starts}"), err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err


# --- values no journal can hold ------------------------------------------------------------

@pytest.mark.parametrize("args", [("100000000000000000000000",), (str(2**63),),
                                  ("--", str(-(2**63) - 1))])
def test_an_order_id_beyond_64_bits_is_no_order_in_the_journal(
        journal: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    code, out, err = _desk(capsys, "explain", journal, *args)
    _one_line_error(code, err, f"no order #{args[-1]} in {journal} (it has 1 order;")
    assert out == ""


def test_a_seq_beyond_64_bits_is_no_record_also_where_seqs_are_not_positions(
        journal: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _desk(capsys, "explain", journal, "--seq", str(10**23))
    _one_line_error(code, err, f"no record with seq {10**23} in {journal}")
    part = JournalIndex(read_journal(journal).slice(3))  # a window: seqs are looked up, not indexed
    assert not part.dense
    assert part.record(2**63) is None and part.record(-(2**63) - 1) is None
    assert part.caused_by(2**64) == [] and part.of_order(2**64) == []
    with pytest.raises(JournalError, match=f"no record with seq {2**70} in the journal"):
        explain_seq(part, 2**70)
    with pytest.raises(JournalError, match=f"no order #{2**70} in the journal"):
        explain_order(part, 2**70)


@pytest.mark.parametrize("option", ["--since", "--until"])
@pytest.mark.parametrize("value", ["9999-12-31T23:59:59Z", "0001-01-01", "2300-01-01",
                                   "1677-09-21T00:12:43Z", "+99999999999999999999s",
                                   pytest.param("+" + "9" * 400 + "s", id="+9x400s"),
                                   "0001-01-01T00:00:00+01:00"])
def test_a_time_outside_64_bit_nanoseconds_is_an_error_naming_the_option_and_the_range(
        journal: Path, capsys: pytest.CaptureFixture[str], option: str, value: str) -> None:
    code, out, err = _desk(capsys, "audit", journal, option, value)
    _one_line_error(code, err, f"{option}: {value!r}")
    assert "is outside the times a journal can hold, 1677-09-21 00:12:43 to " \
           "2262-04-11 23:47:16 UTC" in err
    assert out == ""


@pytest.mark.parametrize("option", ["--since", "--until"])
@pytest.mark.parametrize("spelled", ["apart", "joined"])
def test_a_negative_offset_is_an_error_naming_the_option_not_an_unknown_option(
        journal: Path, capsys: pytest.CaptureFixture[str], option: str, spelled: str) -> None:
    words = [option, "-1h"] if spelled == "apart" else [f"{option}=-1h"]
    code, out, err = _desk(capsys, "audit", journal, *words)
    _one_line_error(code, err, f"{option}: '-1h' is neither an ISO time nor an offset like")
    assert out == ""


def test_times_at_the_edges_of_the_range_are_accepted(
        journal: Path, capsys: pytest.CaptureFixture[str]) -> None:
    total = len(read_journal(journal))
    code, out, err = _desk(capsys, "audit", journal, "--since", "1677-09-21T00:12:44Z",
                           "--until", "2262-04-11T23:47:16Z", "--json")
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == total


# --- filters that select nothing by mistake -----------------------------------------------

@pytest.mark.parametrize("limit", ["0", "-1", "-5"])
def test_a_limit_that_is_not_positive_is_refused(
        journal: Path, capsys: pytest.CaptureFixture[str], limit: str) -> None:
    for mode in ((), ("--json",)):
        code, out, err = _desk(capsys, "audit", journal, "--limit", limit, *mode)
        _one_line_error(code, err, f"--limit: {limit} is not a positive number of records")
        assert out == ""


def test_a_limit_of_one_shows_one_and_says_how_to_see_all(
        journal: Path, capsys: pytest.CaptureFixture[str]) -> None:
    total = len(read_journal(journal))
    code, out, _ = _desk(capsys, "audit", journal, "--limit", "1", "--json")
    assert code == 0 and len(out.splitlines()) == 1
    code, out, _ = _desk(capsys, "audit", journal, "--limit", "1")
    assert code == 0 and f"(first 1 shown; --limit {total} or --json for all)" in out


@pytest.mark.parametrize("limit", [str(2**63), "100000000000000000000000"])
def test_a_limit_beyond_any_count_shows_every_record(
        journal: Path, capsys: pytest.CaptureFixture[str], limit: str) -> None:
    total = len(read_journal(journal))
    code, out, err = _desk(capsys, "audit", journal, "--limit", limit)
    assert (code, err) == (0, "") and out.endswith(f"\n{total} records\n"), err
    for mode, header in (("--json", 0), ("--csv", 1)):
        code, out, err = _desk(capsys, "audit", journal, "--limit", limit, mode)
        assert (code, err) == (0, "") and len(out.splitlines()) == total + header, err


def test_an_empty_time_range_is_an_error(journal: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _desk(capsys, "audit", journal, "--since", "+5m", "--until", "+1m")
    _one_line_error(code, err, "--until: '+1m'")
    assert "is before --since '+5m'" in err
    code, _, err = _desk(capsys, "audit", journal, "--since", "", "--json")
    _one_line_error(code, err, "--since: empty")
    code, _, err = _desk(capsys, "audit", journal, "--since", "+5s", "--until", "+5s", "--json")
    assert (code, err) == (0, "")  # one instant: both ends are inclusive


@pytest.mark.parametrize("kinds", [("",), (",",), ("risk,",), ("risk", " ")])
def test_an_empty_kind_name_is_refused_not_read_as_every_kind(
        journal: Path, capsys: pytest.CaptureFixture[str], kinds: tuple[str, ...]) -> None:
    args = [a for kind in kinds for a in ("--kind", kind)]
    code, out, err = _desk(capsys, "audit", journal, *args, "--json")
    _one_line_error(code, err, f"--kind {kinds[0]!r}")
    assert "an empty kind name" in err and out == ""


def test_kinds_may_be_spaced_after_their_commas(
        journal: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _desk(capsys, "audit", journal, "--kind", "order, fill", "--json")
    assert (code, err) == (0, "")
    assert {json.loads(line)["kind"] for line in out.splitlines()} == {"order", "fill"}


def test_an_instrument_the_journal_never_mentions_is_an_error_naming_those_it_has(
        journal: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _desk(capsys, "audit", journal, "--instrument", "ZZZ")
    _one_line_error(code, err, "--instrument: no record of 'ZZZ' in this journal "
                               "(instruments: ACME)")
    assert out == ""
    code, out, err = _desk(capsys, "audit", journal, "--instrument", "ACME", "--json")
    assert (code, err) == (0, "")
    assert {json.loads(line)["instrument"] for line in out.splitlines()} == {"ACME"}


# --- files that are not whole journals ----------------------------------------------------

def test_a_journal_cut_inside_its_only_batch_says_so_and_lists_no_records(
        journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = journal.read_bytes()
    cut = tmp_path / "cut.arrow"
    cut.write_bytes(data[:len(data) // 2])
    code, out, err = _desk(capsys, "audit", cut)
    assert code == 0
    assert err == (f"desk: warning: {cut} was cut short after 0 records: then "
                   f"{len(data) // 2 - HEADER:,} bytes that are not a whole record batch, and no "
                   "end-of-stream marker (a run killed or out of disk space, or one still "
                   "writing)\n")
    assert "0 records" in out
    code, out, err = _desk(capsys, "audit", cut, "--json")
    assert code == 0 and out == "" and err.startswith(f"desk: warning: {cut} was cut short")
    code, out, err = _desk(capsys, "explain", cut, "1")
    assert code == 2 and out == ""
    assert err.splitlines() == [f"desk: warning: {cut} was cut short after 0 records: then "
                                f"{len(data) // 2 - HEADER:,} bytes that are not a whole record "
                                "batch, and no end-of-stream marker (a run killed or out of disk "
                                "space, or one still writing)",
                                f"desk: no order #1 in {cut} (it has 0 orders; blocked intents "
                                "have no order id: use --seq with the risk record's seq)"]


def test_a_journal_cut_between_batches_keeps_them_and_says_after_how_many_records(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "batches.arrow"
    writer = Journal(path, flush_every=10)
    for i in range(25):
        writer.record("market", 1_700_000_000_000_000_000 + i, f"tick {i}", instrument="ACME")
    writer.close()
    data = path.read_bytes()
    assert data.endswith(END_OF_STREAM)
    whole = load_journal(path)
    assert whole.warning is None and len(whole.table) == 25
    code, out, err = _desk(capsys, "audit", path, "--json")
    assert (code, err, len(out.splitlines())) == (0, "", 25)
    # without the marker: all 25 records, but said to be cut short
    (tmp_path / "no-end.arrow").write_bytes(data[:-len(END_OF_STREAM)])
    code, out, err = _desk(capsys, "audit", tmp_path / "no-end.arrow", "--json")
    assert code == 0 and [json.loads(line)["seq"] for line in out.splitlines()] == list(range(25))
    assert err == (f"desk: warning: {tmp_path / 'no-end.arrow'} was cut short after 25 records: "
                   "it ends without its end-of-stream marker (a run killed or out of disk space, "
                   "or one still writing)\n")
    # cut inside the third batch: the first two
    cut = tmp_path / "two.arrow"
    cut.write_bytes(data[:-len(END_OF_STREAM) - 40])
    code, out, err = _desk(capsys, "audit", cut, "--json")
    assert code == 0 and [json.loads(line)["seq"] for line in out.splitlines()] == list(range(20))
    assert err.startswith(f"desk: warning: {cut} was cut short after 20 records: then ")
    # bytes after the marker are not records, and are said to be there
    (tmp_path / "more.arrow").write_bytes(data + b"more")
    code, out, err = _desk(capsys, "audit", tmp_path / "more.arrow", "--json")
    assert code == 0 and len(out.splitlines()) == 25
    assert err == (f"desk: warning: {tmp_path / 'more.arrow'} has 4 bytes after its end-of-stream "
                   "marker; they are ignored (the 25 records before it are read)\n")


@pytest.mark.parametrize("content, message", [
    (b"", "an empty file, not a desk journal"),
    (b"\xff\xff\xff\xff", f"cut short inside the journal's header (4 of {HEADER} bytes): it "
                          "holds no records"),
    (b"not a journal at all\n", "not a desk journal ("),
    (b"PAR1" + bytes(100), "not a desk journal ("),
])
def test_a_file_that_holds_no_journal_is_an_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str) -> None:
    path = tmp_path / "bad.arrow"
    path.write_bytes(content)
    for args in (("audit", path), ("audit", path, "--json"), ("explain", path, "1")):
        code, out, err = _desk(capsys, *args)
        _one_line_error(code, err, f"{path}: {message}")
        assert out == ""
    if not message.startswith("not a desk journal"):  # what a run killed as it began leaves:
        assert read_journal(path).num_rows == 0  # the library's reading still gives no records


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no fifos here")
def test_a_fifo_is_refused_at_once_not_read_until_a_writer_comes(tmp_path: Path) -> None:
    fifo = tmp_path / "journal.arrow"
    os.mkfifo(fifo)
    for args in (("audit", fifo), ("explain", fifo, "1"), ("audit", tmp_path)):
        # a subprocess, with a deadline: the reading used to wait for ever on the fifo
        done = subprocess.run([sys.executable, "-m", "desk", *map(str, args)], env=_env(),
                              capture_output=True, text=True, timeout=60, check=False)
        _one_line_error(done.returncode, done.stderr,
                        f"{fifo}: not a regular file (a fifo, a device, a pipe), not a desk "
                        "journal")


def test_an_unreadable_journal_is_one_line(
        journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.arrow"
    path.write_bytes(journal.read_bytes())
    path.chmod(0)
    if os.geteuid() == 0:  # root reads files whatever their mode: the refusal is made here
        import pyarrow as pa

        opened = pa.OSFile

        def refuse(where: str, *args: object) -> object:
            if where == str(path):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), where)
            return opened(where, *args)

        monkeypatch.setattr(pa, "OSFile", refuse)
    code, _, err = _desk(capsys, "audit", path)
    _one_line_error(code, err, f"{path}: cannot read the journal: Permission denied")


def test_a_run_that_filled_the_disk_leaves_a_journal_audit_calls_cut_short(
        tmp_path: Path) -> None:
    session = tmp_path / "session.toml"
    session.write_text(tomli_w.dumps(BASE))
    out = tmp_path / "full"

    def small_disk() -> None:  # writes past 3,000 bytes fail as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (3_000, 3_000))

    run = subprocess.run([sys.executable, "-m", "desk", "run", str(session), "--out", str(out),
                          "--json"], capture_output=True, text=True, env=_env(),
                         preexec_fn=small_disk, check=False)
    assert run.returncode == 2 and "the journal could not be written" in run.stderr, run.stderr
    journal = out / "journal.arrow"
    assert HEADER < journal.stat().st_size <= 3_000
    audit = subprocess.run([sys.executable, "-m", "desk", "audit", str(journal), "--json"],
                           capture_output=True, text=True, env=_env(), check=False)
    assert audit.returncode == 0
    assert audit.stderr.startswith(f"desk: warning: {journal} was cut short after ")
    assert len(audit.stderr.splitlines()) == 1
    assert all(json.loads(line) for line in audit.stdout.splitlines())


def test_a_closed_journal_of_a_run_stopped_before_its_end_says_so(
        journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # what Ctrl-C leaves, and kill -9 of a run whose writer process lives on to close the file
    stopped = tmp_path / "stopped.arrow"
    engine = Engine(make_session(), stopped)
    engine.run(max_events=500)
    engine.close()
    read = load_journal(stopped)
    said = (f"{stopped} ends before its run did: no end record after its {len(read.table):,} "
            "records (a run stopped by Ctrl-C or SIGTERM, killed, or ended by an unexpected "
            "error)")
    assert read.warning == said
    for args in (("audit", stopped, "--json"), ("explain", stopped, "--seq", "2")):
        code, out, err = _desk(capsys, *args)
        assert code == 0 and out and err == f"desk: warning: {said}\n"
    assert load_journal(journal).warning is None  # a whole run's ends with its end record


# --- a reader that goes away ------------------------------------------------------------

@pytest.mark.parametrize("args", [("audit",), ("audit", "--kind", "fill"), ("explain", "1"),
                                  ("explain", "1", "--json")])
def test_a_closed_pipe_ends_audit_and_explain_with_141_in_every_mode(
        journal: Path, args: tuple[str, ...]) -> None:
    command, *rest = args
    proc = subprocess.Popen([sys.executable, "-m", "desk", command, str(journal), *rest],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # closed before desk writes a byte: its first write meets no reader
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, stderr
    assert stderr == ""
