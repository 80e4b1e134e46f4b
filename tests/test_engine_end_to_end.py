"""The whole pipeline headless: the demo runs, the journal tells its story, and runs are deterministic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from desk.audit import read_journal
from desk.config import load_session
from desk.engine import Engine


def test_demo_runs_strict_and_its_journal_shows_signals_blocks_by_two_rules_and_fills(
        demo_path: Path, tmp_path: Path) -> None:
    engine = Engine(load_session(demo_path), tmp_path / "j.arrow", strict=True)
    engine.run()
    engine.close()
    table = read_journal(tmp_path / "j.arrow").to_pylist()
    kinds = {r["kind"] for r in table}
    assert {"signal", "intent", "risk", "order", "arrival", "fill", "execution"} <= kinds
    assert len(engine.stats.blocked_by) >= 2
    assert engine.stats.fills > 0
    assert [r["seq"] for r in table] == list(range(len(table)))


def test_same_session_and_seed_give_a_byte_identical_journal_across_processes(
        demo_path: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        subprocess.run([sys.executable, "-m", "desk", "run", str(demo_path), "--out",
                        str(tmp_path / name), "--json"], check=True, capture_output=True)
    first = (tmp_path / "a" / "journal.arrow").read_bytes()
    second = (tmp_path / "b" / "journal.arrow").read_bytes()
    assert len(first) > 10_000
    assert first == second


def test_a_different_seed_gives_a_different_journal(demo_path: Path, tmp_path: Path) -> None:
    sizes = []
    for seed in (1, 2):
        engine = Engine(load_session(demo_path), tmp_path / f"{seed}.arrow", seed=seed)
        engine.run(max_events=20_000)
        engine.close()
        sizes.append((tmp_path / f"{seed}.arrow").read_bytes())
    assert sizes[0] != sizes[1]


def test_bad_session_value_is_one_line_with_file_and_key_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[data.synthetic]\nevents = 10\n[[instruments]]\nsymbol = "A"\n'
                   '[risk.max_leverage]\nlimit = -1\n')
    result = subprocess.run([sys.executable, "-m", "desk", "run", str(bad)], capture_output=True,
                            text=True)
    assert result.returncode == 2
    assert f"{bad}: risk.max_leverage.limit: Input should be greater than 0" in result.stderr
    assert "Traceback" not in result.stderr
