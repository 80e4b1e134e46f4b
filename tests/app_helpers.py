"""Helpers for the app tests: small sessions, a driven app, the text a pane or the screen shows."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from conftest import make_session
from rich.console import Console
from textual.app import App

from desk.app.audit_log import AuditLog
from desk.app.desk_app import DeskApp
from desk.app.pane import LineView
from desk.engine import Engine
from desk.runner import Runner, RunState
from desk.strategy import Strategy


def make_app(tmp_path: Path, journal: str | None = "live.arrow", paused: bool = True,
             **extra: Any) -> DeskApp:
    """An app on a small synthetic session, paused on the first event unless told otherwise."""
    loaded = make_session(tmp_path, **extra)
    engine = Engine(loaded, tmp_path / journal if journal else None, strict=True)
    return DeskApp(Runner(engine, paused=paused))


def shown(widget: Any) -> str:
    """The plain text a widget shows: a pane's rows as drawn (cut to its width), else content."""
    if isinstance(widget, LineView):
        return "\n".join(widget.shown_lines)
    if isinstance(widget, AuditLog):
        return "\n".join(widget.lines())
    width = max(widget.content_size.width, 20)
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(widget.content)
    return console.file.getvalue()  # type: ignore[attr-defined]


def screen_text(app: App[Any]) -> list[str]:
    """Every row of the terminal as the person sees it (the screen and any pop-up over it)."""
    width, height = app.size
    console = Console(file=io.StringIO(), width=width, height=height, color_system=None,
                      record=True, legacy_windows=False, safe_box=False)
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    return console.export_text().split("\n")[:height]


async def wait_until(pilot: Any, condition: Any, tries: int = 400) -> None:
    """Let the app run until `condition()` holds (a bounded number of short pauses)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition never became true")


async def seek_decision(pilot: Any, app: DeskApp, decisions: int) -> None:
    """`d`, then wait until the replay has paused on its `decisions`-th risk decision."""
    await pilot.press("d")
    journal = app.runner.engine.journal
    await wait_until(pilot, lambda: app.runner.state is RunState.PAUSED
                     and journal.counts.get("risk", 0) == decisions)
    await pilot.pause(0.1)


def pane_row(app: App[Any], pane: str, word: str) -> str:
    """The first row the pane shows that holds `word` (a rule's name, say)."""
    return next(line for line in shown(app.query_one(pane)).splitlines() if word in line)


async def open_rules(pilot: Any, app: App[Any]) -> None:
    """Press `r` and wait until the rules screen is up with its fields (a loaded machine can
    take longer than one pause to push and mount it)."""
    from desk.app.rules_screen import RulesScreen

    await pilot.press("r")
    await wait_until(pilot, lambda: isinstance(app.screen, RulesScreen)
                     and bool(app.screen.query("Input")))


class Faulty(Strategy):
    """Raises on every 50th trade (a fault the engine journals), trading now and then."""

    def on_start(self) -> None:
        self.seen = 0

    def on_trade(self, trade: Any) -> None:
        self.seen += 1
        if self.seen % 50 == 0:
            raise RuntimeError(f"boom at trade {self.seen}")
        if self.seen % 20 == 0:
            self.ctx.target(trade.instrument, 10 if self.seen % 40 else -10, "flip")


ROOT = Path(__file__).resolve().parent.parent


def session_app(tmp_path: Path, name: str, paused: bool = True) -> DeskApp:
    """The app on a bundled session (sessions/NAME.toml), its journal in `tmp_path`."""
    from desk.config import load_session

    engine = Engine(load_session(ROOT / "sessions" / f"{name}.toml"), tmp_path / "live.arrow")
    return DeskApp(Runner(engine, paused=paused))


def assert_rows_as_painted(app: App[Any], widget: LineView) -> None:
    """Each row of `widget` on the terminal is its painted line cut to the width: nothing
    wrapped onto the next row, nothing ran past the pane's edge."""
    from desk.app.pane import fit_line

    region = widget.content_region
    screen = screen_text(app)
    for y, line in enumerate(widget.lines[:region.height]):
        expected = fit_line(line, region.width).plain
        assert len(expected) <= region.width
        on_screen = screen[region.y + y][region.x:region.x + region.width]
        assert on_screen.rstrip() == expected.rstrip(), (widget.id, y, on_screen, expected)
