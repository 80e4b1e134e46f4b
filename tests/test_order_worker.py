"""The order worker: the same targets worked passively earn the spread that market orders pay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.ipc as ipc

from desk.config import parse_session
from tests.conftest import BASE, merge, run_engine


def session(style: str) -> Any:
    data = merge(BASE, {"data": {"synthetic": {"events": 6_000, "scenario": "calm",
                                               "alpha_bps": 0.3, "alpha_half_life": 100}},
                        "execution": {"fees": {"taker_bps": 1.0, "maker_bps": -0.2}}})
    data["strategy"] = {"use": "strategies.drift:DriftFilter",
                        "params": {"half_life": 100, "signal_bps": 0.3, "size": 100,
                                   "warmup": 100, "enter_bps": 2, "style": style,
                                   "patience_ms": 3000}}
    return parse_session(data, "test-session")


def fills(journal: Path) -> list[dict[str, Any]]:
    with ipc.open_stream(journal) as reader:
        table = reader.read_all()
    return [json.loads(r["details"]) for r in table.to_pylist() if r["kind"] == "fill"]


def test_passive_style_fills_as_maker_and_pays_less_than_market_style(tmp_path: Path) -> None:
    market = run_engine(session("market"), tmp_path / "market.arrow")
    passive = run_engine(session("passive"), tmp_path / "passive.arrow")
    market_fills = fills(tmp_path / "market.arrow")
    passive_fills = fills(tmp_path / "passive.arrow")
    assert market_fills and all(f["liquidity"] == "taker" for f in market_fills)
    assert sum(f["liquidity"] == "maker" for f in passive_fills) > len(passive_fills) / 2
    assert passive.stats.impact_cost < market.stats.impact_cost
    assert passive.stats.fee_cost < market.stats.fee_cost
