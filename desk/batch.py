"""One cell of a batch: a session file, a seed and overrides, run headless to a row of figures.

`desk compare` and `desk sweep` are many cells. A cell is a small frozen,
picklable value and `run_cell` a pure function of it (no journal, no wall
clock inside the simulation), so a cell gives the same row in this process,
in a pool worker, or on a Dask worker, and a retried cell gives the same row
again.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desk.errors import SessionError

DEFAULT_RUIN = 0.2
"""A desk that loses this fraction of its starting cash at any moment is ruined (closed)."""


@dataclass(frozen=True, slots=True)
class Cell:
    """What to run: the session file, the world's seed, and `dotted.key = value` overrides."""

    session: str
    seed: int
    overrides: tuple[tuple[str, Any], ...] = ()
    curve_every_s: float = 60.0
    ruin: float = DEFAULT_RUIN
    label: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """A stable id of what the cell computes: resumable sweeps skip keys already done."""
        text = json.dumps([Path(self.session).name, self.seed, [list(o) for o in self.overrides],
                           self.curve_every_s, self.ruin], sort_keys=True, default=str)
        return hashlib.sha1(text.encode()).hexdigest()[:16]


def apply_overrides(raw: dict[str, Any], overrides: tuple[tuple[str, Any], ...],
                    where: str) -> dict[str, Any]:
    """A copy of a session dict with each `a.b.c = value` set; a non-table on a path is an error."""
    out = copy.deepcopy(raw)
    for dotted, value in overrides:
        node = out
        parts = dotted.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise SessionError(f"{where}: {dotted}: {part!r} is not a table in the session")
            node = child
        node[parts[-1]] = value
    return out


def read_session_dict(path: str) -> dict[str, Any]:
    """The session file as a dict (errors as one line naming the file)."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SessionError(f"{path}: no such session file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SessionError(f"{path}: cannot read: {error}") from None


def run_cell(cell: Cell) -> dict[str, Any]:
    """Run the cell headless; its row: outcome, risk, execution cost and the equity curve."""
    from desk.config import parse_session
    from desk.engine import Engine
    from desk.report import summarize

    started = time.perf_counter()
    raw = apply_overrides(read_session_dict(cell.session), cell.overrides, cell.session)
    loaded = parse_session(raw, cell.session, Path(cell.session))
    engine = Engine(loaded, None, seed=cell.seed)
    portfolio = engine.portfolio
    risk = engine.risk
    every = round(cell.curve_every_s * 1e9)
    curve: list[float] = []
    min_equity = portfolio.start_cash
    halted = False
    try:
        engine.start()
        next_sample = engine.now + every
        step = engine.step
        while step():
            equity = portfolio.equity
            if equity < min_equity:
                min_equity = equity
            if risk.mode == "HALTED":
                halted = True
            while engine.now >= next_sample:
                curve.append(equity)
                next_sample += every
    finally:
        engine.close()
    summary = summarize(engine, time.perf_counter() - started)
    curve.append(portfolio.equity)
    ruined = min_equity <= portfolio.start_cash * (1.0 - cell.ruin)
    row: dict[str, Any] = {
        "key": cell.key,
        "label": cell.label or loaded.config.session.name,
        "session": Path(cell.session).name,
        "seed": cell.seed,
        "overrides": json.dumps(dict(cell.overrides), sort_keys=True, default=str),
    }
    for name in ("events", "start_cash", "equity", "return", "max_drawdown", "fills",
                 "orders_allowed", "orders_blocked", "latency_cost", "impact_cost", "fee_cost",
                 "shortfall", "realized", "fees", "strategy_faults"):
        row[name] = summary[name]
    row.update(min_equity=min_equity, ruined=ruined, halted=halted,
               survived=not (ruined or halted), final_mode=summary["mode"],
               equity_curve=curve, wall_seconds=summary["wall_seconds"])
    return row
