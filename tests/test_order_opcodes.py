"""`tools/order_opcodes.py`: an order's interpreter work, counted where the order path runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from desk.bench import bench_session, write_session
from desk.benchdata import ensure_ticks

TOOL = Path(__file__).resolve().parent.parent / "tools" / "order_opcodes.py"


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    data = ensure_ticks(tmp_path / "data", 3_000)
    session = write_session(bench_session(data, tmp_path / "j.arrow"), tmp_path / "s.toml")
    return subprocess.run([sys.executable, str(TOOL), str(session), *args],
                          capture_output=True, text=True)


def test_the_order_path_is_counted_per_order_and_the_tick_loop_per_event(tmp_path: Path) -> None:
    result = _run(tmp_path, "--skip", "500", "--events", "2000", "--top", "40")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    orders = int(lines[0].split()[0])
    assert orders > 10 and lines[0].endswith("in 2,000 events")
    per_event = {line.split()[-1] for line in lines if "per event" in line}
    assert "desk/engine/loop.py:_run_feed" in per_event
    assert "strategies/bench_momentum.py:on_trade" in per_event
    top = {line.split()[-1]: float(line.split()[0]) for line in lines[lines.index(
        next(line for line in lines if line.startswith("the top"))) + 1:]}
    assert top["desk/risk/engine.py:check"] > 50  # every order is judged, rule by rule
    assert "desk/engine/loop.py:_run_feed" not in top


def test_a_window_with_no_order_says_so_and_fails(tmp_path: Path) -> None:
    result = _run(tmp_path, "--skip", "0", "--events", "5")
    assert result.returncode == 1
    assert result.stdout.startswith("no order in events 0 to 5")
