"""Shared helpers: build sessions in memory and run them headless."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from desk.config import LoadedSession, parse_session
from desk.engine import Engine

settings.register_profile("desk", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("DESK_HYPOTHESIS", "desk"))
"""Property tests draw the same examples on every run, so the suite's verdict is the code's, not
the draw's; `DESK_HYPOTHESIS=explore python -m pytest` draws new ones."""

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REAL = SHARED / "data" / "real"

BASE: dict[str, Any] = {
    "session": {"name": "test", "seed": 1, "start_cash": 100_000.0},
    "data": {"synthetic": {"events": 4_000, "step_ms": 100, "volatility_bps": 3.0}},
    "instruments": [{"symbol": "ACME", "tick_size": 0.01, "lot_size": 1}],
    "strategy": {"use": "momentum", "params": {"lookback": 20, "threshold": 0.001, "size": 100}},
}


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `extra` into a copy of `base`."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "params":
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@pytest.fixture(autouse=True)
def _piped_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test sees output piped with no width asked for, as CI does: a `COLUMNS` exported by
    the shell the tests run from would otherwise change how tables and chains are laid out."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


def make_session(base_dir: Path | None = None, **extra: Any) -> LoadedSession:
    """A validated session from BASE plus overrides; relative paths resolve under `base_dir`."""
    data = merge(BASE, extra)
    path = (base_dir / "session.toml") if base_dir is not None else None
    return parse_session(data, "test-session", path)


def run_engine(session: LoadedSession, journal: Path | None = None, strict: bool = True,
               **kwargs: Any) -> Engine:
    engine = Engine(session, journal, strict=strict, **kwargs)
    try:
        engine.run()
    finally:
        engine.close()
    return engine


@pytest.fixture
def demo_path() -> Path:
    return ROOT / "sessions" / "demo.toml"
