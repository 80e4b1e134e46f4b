"""The bad-input corpus (tests/bad_inputs/cases.toml) through the real CLI: one line, exit 2, no
traceback.

Every data file is run twice: as `python -m desk run` in a subprocess with the
default `data.on_bad = "fail"`, which must print the expected line; and with
`on_bad = "skip"` (in-process, through `desk.cli.main`), which must finish and
journal the expected number of data_quality records, or fail with the same
line when the fault is the file's and not a row's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from cli_run import run_cli
from conftest import ROOT

from desk.audit import read_journal

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = tomllib.loads((CORPUS / "cases.toml").read_text())
DATA_CASES: list[dict[str, Any]] = CASES["data_case"]
SESSION_CASES: list[dict[str, Any]] = CASES["session_case"]
def data_session(case: dict[str, Any], on_bad: str) -> dict[str, Any]:
    """A session replaying one corpus file with the momentum strategy."""
    source = {"path": f"data/{case['file']}", "kind": case["kind"], **case.get("options", {})}
    return {"session": {"name": case["file"], "seed": 1},
            "data": {"on_bad": on_bad, "files": [source]},
            "instruments": [{"symbol": "ACME"}],
            "strategy": {"use": "momentum",
                         "params": {"lookback": 2, "threshold": 0.00001, "size": 1}}}


class Corpus:
    """A copy of the corpus in a temporary folder, its subprocess runs started two at a time."""

    def __init__(self, folder: Path) -> None:
        shutil.copytree(CORPUS, folder, dirs_exist_ok=True)
        self.folder = folder
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = str(ROOT) + os.pathsep + self.env.get("PYTHONPATH", "")
        self.pool = ThreadPoolExecutor(max_workers=2)
        self.runs: dict[str, Future[subprocess.CompletedProcess[str]]] = {}
        for case in DATA_CASES:
            session = folder / f"fail-{case['file']}.toml"
            session.write_text(tomli_w.dumps(data_session(case, "fail")))
            self._start(case["file"], session, True)
        for case in SESSION_CASES:
            self._start(case["session"], folder / "sessions" / case["session"],
                        case.get("out", True))

    def _start(self, key: str, session: Path, out: bool) -> None:
        argv = [sys.executable, "-m", "desk", "run", str(session.relative_to(self.folder)),
                "--json"]
        if out:
            argv += ["--out", f"out/{key}"]
        self.runs[key] = self.pool.submit(subprocess.run, argv, cwd=self.folder, env=self.env,
                                          capture_output=True, text=True, timeout=120)

    def result(self, key: str) -> subprocess.CompletedProcess[str]:
        return self.runs[key].result()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Any:
    made = Corpus(tmp_path_factory.mktemp("bad_inputs"))
    yield made
    made.pool.shutdown(cancel_futures=True)


def assert_one_clean_line(run: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("desk: "), run.stderr
    assert fragment in lines[0], f"expected {fragment!r} in {lines[0]!r}"
    assert run.returncode == 2, run.stderr


def test_the_corpus_is_as_large_as_its_notes_say() -> None:
    files = {case["file"] for case in DATA_CASES}
    suffixes = {Path(name).suffix for name in files}
    assert suffixes == {".csv", ".parquet", ".arrow"}
    assert len(DATA_CASES) + len(SESSION_CASES) >= 60
    assert files == {p.name for p in (CORPUS / "data").iterdir()} - {
        "trade_same_time_not_duplicate.csv"}, "every data file in the corpus has its case"


@pytest.mark.parametrize("case", DATA_CASES, ids=[c["file"] for c in DATA_CASES])
def test_bad_data_file_fails_with_one_line_naming_file_row_and_column(
        case: dict[str, Any], corpus: Corpus) -> None:
    run = corpus.result(case["file"])
    assert_one_clean_line(run, case["fail"])
    assert run.stdout == ""


@pytest.mark.parametrize("case", DATA_CASES, ids=[c["file"] for c in DATA_CASES])
def test_bad_data_file_with_on_bad_skip_runs_and_journals_each_problem_or_fails_the_same_way(
        case: dict[str, Any], corpus: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(corpus.folder)
    session = corpus.folder / f"skip-{case['file']}.toml"
    session.write_text(tomli_w.dumps(data_session(case, "skip")))
    code = run_cli(["run", str(session), "--out", str(tmp_path), "--json", "--strict"])
    out, err = capsys.readouterr()
    if "skipped" not in case:
        expected = case.get("skip_fail", case["fail"])
        assert code == 2 and expected in err and "Traceback" not in err, err
        return
    assert code == 0, err
    summary = json.loads(out)
    assert summary["data_issues"] == case["skipped"]
    records = read_journal(tmp_path / "journal.arrow").to_pylist()
    issues = [r for r in records if r["kind"] == "data_quality"]
    assert len(issues) == case["skipped"]
    assert all(case["file"] in r["why"] and "skipped" in r["why"] for r in issues)
    assert records[-1]["kind"] == "end"


def _session_param(case: dict[str, Any]) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if "xfail" in case else []
    return pytest.param(case, marks=marks, id=case["session"])


@pytest.mark.parametrize("case", [_session_param(c) for c in SESSION_CASES])
def test_bad_session_fails_with_one_line_naming_file_and_key_before_any_journal(
        case: dict[str, Any], corpus: Corpus) -> None:
    run = corpus.result(case["session"])
    assert_one_clean_line(run, case["fail"])
    journal = corpus.folder / "out" / case["session"] / "journal.arrow"
    if case.get("out", True):  # a scheduled value the rule refuses too: checked as the engine
        assert not journal.exists()  # is built, before the journal is


def test_debug_shows_the_traceback_of_a_strategy_that_fails_at_import(corpus: Corpus) -> None:
    run = subprocess.run([sys.executable, "-m", "desk", "--debug", "run",
                          "sessions/strategy_raises_at_import.toml", "--out", "out/debug"],
                         cwd=corpus.folder, env=corpus.env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 1
    assert "Traceback" in run.stderr and "RuntimeError: boom at import" in run.stderr
