"""Journals damaged on disk (bytes overwritten, not cut): `desk audit` and `desk explain` say so in
one line naming the journal, exit 2, and never crash; whole batches before the damage are read,
with a warning, as those of a cut-short journal are."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from cli_run import run_cli
from conftest import ROOT
from test_risk_explain import write_two_order_journal

from desk.audit import END_OF_STREAM, SCHEMA, Journal, load_journal, read_journal
from desk.errors import JournalError
from desk.journal_file import batch_bytes, stream_header


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed journal of one blocked and one filled order, in one record batch."""
    return write_two_order_journal(tmp_path_factory.mktemp("damaged") / "journal.arrow")


def _ticks(path: Path) -> Path:
    """A closed journal of 25 records in batches of 10, 10 and 5."""
    journal = Journal(path, flush_every=10)
    for i in range(25):
        journal.record("market", 1_700_000_000_000_000_000 + i, f"tick {i:02}", instrument="ACME")
    journal.close()
    return path


def _where(data: bytes, batch: int, column: str, buffer: int) -> int:
    """The file offset of one Arrow buffer (1: a string column's offsets) of batch `batch`."""
    whole = pa.py_buffer(data)
    reader = ipc.open_stream(pa.BufferReader(whole))
    for _ in range(batch):
        reader.read_next_batch()
    return int(reader.read_next_batch().column(column).buffers()[buffer].address - whole.address)


def _batch_start(data: bytes, batch: int) -> int:
    """The file offset where batch `batch`'s message starts."""
    source = pa.BufferReader(pa.py_buffer(data))
    reader = ipc.open_stream(source)
    for _ in range(batch):
        reader.read_next_batch()
    return int(source.tell())


def _damage(tmp_path: Path, data: bytes, at: int, new: bytes) -> Path:
    damaged = bytearray(data)
    damaged[at:at + len(new)] = new
    path = tmp_path / "damaged.arrow"
    path.write_bytes(bytes(damaged))
    return path


def _desk(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = run_cli([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


READERS = (("audit",), ("audit", "--json"), ("explain", "1"), ("explain", "--seq", "3"))
"""Every way to read a journal from the command line."""


@pytest.mark.parametrize("new, what", [
    (b"\x40" * 16, "column details: Offset invariant failure: offset for slot"),
    (struct.pack("<i", -1_685_253_217), "column details: Offset invariant failure: "
                                        "non-monotonic offset"),
], ids=["beyond-the-text", "negative"])
def test_offsets_out_of_bounds_are_damage_named_in_one_line_not_a_crash(
        orders: Path, tmp_path: Path, new: bytes, what: str) -> None:
    """Arrow reads text where the offsets say, unchecked: once a segfault, and a SystemError."""
    data = orders.read_bytes()
    offsets = _where(data, 0, "details", 1)
    path = _damage(tmp_path, data, offsets + 4 * 8, new)  # offsets 8 to 11 of 15
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for args in READERS:  # whole processes: a crash must show as an exit code, not end the tests
        run = subprocess.run([sys.executable, "-m", "desk", args[0], str(path), *args[1:]],
                             capture_output=True, text=True, env=env, check=False)
        assert (run.returncode, run.stdout) == (2, ""), (args, run.returncode, run.stderr)
        assert run.stderr.startswith(f"desk: {path}: damaged in its first record batch ({what}")
        assert run.stderr.endswith("): no record can be read\n")
        assert len(run.stderr.splitlines()) == 1


def test_text_that_is_not_utf8_is_damage_named_by_its_column(
        orders: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = orders.read_bytes()
    at = data.index(b"ACME", _where(data, 0, "why", 2))
    path = _damage(tmp_path, data, at, b"\xff")
    for args in READERS:
        code, out, err = _desk(capsys, args[0], path, *args[1:])
        assert (code, out) == (2, "")
        assert err.startswith(f"desk: {path}: damaged in its first record batch (column why: "
                              "Invalid UTF8 sequence at string index ")
        assert len(err.splitlines()) == 1
    with pytest.raises(JournalError, match="damaged in its first record batch"):
        read_journal(path)  # the library's reading refuses it too: no record is sound


def test_a_record_without_a_seq_is_damage(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    columns = [[0, None], [1, 2], ["session", "market"], [None, "ACME"], [None, 0], [None, None],
               ["start", "tick"], ["", ""]]
    batch = pa.RecordBatch.from_arrays(
        [pa.array(column, type=field.type) for column, field in zip(columns, SCHEMA, strict=True)],
        schema=SCHEMA)
    path = tmp_path / "noseq.arrow"
    path.write_bytes(stream_header() + batch.serialize().to_pybytes() + END_OF_STREAM)
    code, out, err = _desk(capsys, "audit", path, "--json")
    assert (code, out) == (2, "")
    assert err == (f"desk: {path}: damaged in its first record batch (column seq: 1 record "
                   "without a value): no record can be read\n")


def test_damage_after_whole_batches_keeps_them_with_a_warning_as_a_cut_does(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _ticks(tmp_path / "ticks.arrow").read_bytes()
    path = _damage(tmp_path, data, data.index(b"tick 21") + 5, b"\xff")
    code, out, err = _desk(capsys, "audit", path, "--json")
    assert code == 0
    assert [json.loads(line)["seq"] for line in out.splitlines()] == list(range(20))
    assert err == (f"desk: warning: {path} is damaged in its record batch 3 (column why: Invalid "
                   "UTF8 sequence at string index 1): only the 20 records before it are read\n")
    assert len(read_journal(path)) == 20
    code, out, err = _desk(capsys, "explain", path, "--seq", "24")
    assert code == 2 and out == ""
    assert err.splitlines()[1] == f"desk: no record with seq 24 in {path} (it has 20 records, " \
                                  "seqs 0 to 19)"


def test_a_closed_journal_that_does_not_read_on_is_said_damaged_not_cut_short(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _ticks(tmp_path / "ticks.arrow").read_bytes()
    path = _damage(tmp_path, data, _batch_start(data, 1), bytes(range(1, 9)))
    read = load_journal(path)
    assert len(read.table) == 10
    assert read.warning is not None
    assert read.warning.startswith(f"{path} is damaged in its record batch 2 (")
    assert read.warning.endswith("): only the 10 records before it are read")
    code, out, err = _desk(capsys, "audit", path, "--json")
    assert code == 0 and len(out.splitlines()) == 10
    assert err == f"desk: warning: {read.warning}\n"


def test_details_that_are_not_json_name_the_journal_and_the_record(
        orders: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = orders.read_bytes()
    table = read_journal(orders)
    risk = next(r for r in table.to_pylist() if r["kind"] == "risk")
    path = _damage(tmp_path, data, data.index(b'"approved":'), b'"approved"\x01')
    line = (f"desk: {path}: record {risk['seq']}: its details are not JSON (Expecting ':' "
            "delimiter: line 1 column 12 (char 11)): the journal is damaged\n")
    for args in (("audit",), ("audit", "--json"), ("audit", "--outcome", "blocked"),
                 ("explain", "--seq", str(risk["seq"]))):
        code, out, err = _desk(capsys, args[0], path, *args[1:])
        assert (code, out, err) == (2, "", line), args


def test_details_that_are_json_but_not_an_object_are_damage(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "list.arrow"
    row = [0, 1, "market", "ACME", None, None, "tick", "[1]"]
    path.write_bytes(stream_header() + batch_bytes([row]) + END_OF_STREAM)
    code, out, err = _desk(capsys, "audit", path, "--json")
    assert (code, out) == (2, "")
    assert err == (f"desk: {path}: record 0: its details are not a JSON object but list: the "
                   "journal is damaged\n")


def test_a_verdict_explain_cannot_show_is_damage_said_before_anything_is_printed(
        orders: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = orders.read_bytes()
    risk = next(r for r in read_journal(orders).to_pylist() if r["kind"] == "risk")
    path = _damage(tmp_path, data, data.index(b'"message":'), b'"massage":')
    code, out, err = _desk(capsys, "explain", path, "--seq", str(risk["seq"]))
    assert (code, out) == (2, "")
    assert err == (f"desk: {path}: record {risk['seq']}: its details have a verdict without its "
                   "message: the journal is damaged\n")
    code, out, _ = _desk(capsys, "explain", path, "--seq", str(risk["seq"]), "--json")
    assert code == 0 and json.loads(out)["records"]  # JSON shows the details as they are
