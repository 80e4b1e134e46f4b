"""The whole pipeline headless: the demo runs, the journal tells its story, and runs are
deterministic."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from desk.audit import read_journal
from desk.config import load_session
from desk.engine import Engine
from desk.report import summarize

GOLDEN = Path(__file__).parent / "golden" / "demo.json"
"""The demo's figures and a digest of its journal's records, as committed. After a deliberate
change to what the demo does, regenerate it: DESK_GOLDEN_UPDATE=1 python -m pytest -k golden."""

FIGURES = ("events", "market_events", "signals", "orders_allowed", "orders_blocked",
           "blocked_by", "fills", "filled_qty", "journal_records", "mode", "positions")
"""Summary figures compared exactly; the money figures are compared to the cent."""

MONEY = ("equity", "cash", "realized", "unrealized", "fees", "latency_cost", "impact_cost",
         "shortfall")


def _digest(table: list[dict[str, Any]]) -> str:
    """The records' content: not the file's bytes, which depend on the Arrow version, nor the
    details' JSON text, which depends on the encoder (`1e-5` or `1e-05`): their values."""
    text = "\n".join("\t".join(str(r[k]) for k in ("seq", "ts_ns", "kind", "instrument", "cause",
                                                    "order_id", "why"))
                      + "\t" + _canonical(r["details"]) for r in table)
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(details: str | None) -> str:
    return json.dumps(json.loads(details), sort_keys=True) if details else ""


def test_demo_runs_strict_its_journal_tells_its_story_and_matches_the_golden_run(
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
    # golden: the same figures and the same records as the committed run of the demo
    summary = summarize(engine, 1.0)
    found = {k: summary[k] for k in FIGURES}
    found.update({k: round(summary[k], 2) for k in MONEY})
    found["max_drawdown"] = round(summary["max_drawdown"], 8)
    found["records_sha256"] = _digest(table)
    if os.environ.get("DESK_GOLDEN_UPDATE"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    assert found == json.loads(GOLDEN.read_text())


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
