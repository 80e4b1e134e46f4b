"""The `desk` command line in the places it meets the system: pipes and unwritable paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomli_w
from cli_run import run_cli
from conftest import BASE, ROOT


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _session(folder: Path, **audit: str) -> Path:
    path = folder / "session.toml"
    path.write_text(tomli_w.dumps({**BASE, "audit": audit} if audit else BASE))
    return path


def test_a_reader_that_closes_the_pipe_early_ends_desk_quietly(tmp_path: Path) -> None:
    assert run_cli(["run", str(_session(tmp_path)), "--out", str(tmp_path), "--json"]) == 0
    proc = subprocess.Popen([sys.executable, "-m", "desk", "audit", str(tmp_path / "journal.arrow"),
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env())
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert first.startswith(b"{") and stderr == ""


@pytest.mark.parametrize("out", ["/proc/nope", "a-file/inside"])
def test_an_unwritable_out_folder_is_one_line_before_the_run(
        out: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    assert run_cli(["run", str(_session(tmp_path)), "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"desk: --out {out}: cannot write the journal {out}/journal.arrow: ")
    assert len(err.splitlines()) == 1


def test_a_journal_path_that_is_a_folder_is_one_line_naming_audit_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = _session(tmp_path, path=str(tmp_path))
    assert run_cli(["run", str(session)]) == 2
    assert capsys.readouterr().err == (f"desk: {session}: audit.path: {tmp_path} is a folder; give "
                                       "a file path for the journal\n")


def test_a_word_like_a_negative_number_after_an_option_is_its_value_not_another_option() -> None:
    from desk.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["compare", "a.toml", "--every", "-5s", "--seeds", "-1"])
    assert (args.every, args.seeds, args.sessions) == ("-5s", -1, ["a.toml"])
    args = parser.parse_args(["audit", "j.arrow", "--since", "-1h", "--until=-2m"])
    assert (args.since, args.until) == ("-1h", "-2m")
    args = parser.parse_args(["data", "import", "s.csv", "-f", "csv", "-o", "-1.parquet"])
    assert args.out == "-1.parquet"
    # a long option abbreviated as argparse allows takes the value too
    args = parser.parse_args(["compare", "a.toml", "--ever", "-5s"])
    assert (args.every, args.sessions) == ("-5s", ["a.toml"])
    # after `--` every word is a positional, as argparse has it
    assert parser.parse_args(["compare", "--", "--every", "-5s"]).sessions == ["--every", "-5s"]


@pytest.mark.parametrize("argv", [
    ["run", "--out", ""], ["run", ""], ["run", "  "], ["play", "--out", ""], ["play", ""],
    ["play", "--theme", ""], ["data", "import", "t.csv", "-f", "csv", "--out", ""],
    ["data", "import", "", "-f", "csv", "--out", "o.parquet"], ["data", "inspect", ""],
    ["data", "replay", ""], ["audit", ""], ["explain", "", "1"], ["compare", ""], ["sweep", ""],
    ["bench", "--events", "10", "--repeat", "1", "--data", ""],
    ["bench", "--events", "10", "--repeat", "1", "--dir", ""],
])
def test_an_empty_path_is_refused_in_one_line_not_taken_for_a_default(
        argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`--out ""` is a slip (an unset variable in a script), not a wish for the session's
    `audit.path`; nor is an empty session file a wish for the bundled demo."""
    from desk.app.desk_app import DeskApp

    def started(self: DeskApp) -> None:
        raise AssertionError("the app started")

    monkeypatch.setattr(DeskApp, "run", started)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        run_cli(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"desk {argv[0]}"), err
    assert "not an empty" in err[0], err
    assert list(tmp_path.iterdir()) == []  # no journal written where the default would put it
