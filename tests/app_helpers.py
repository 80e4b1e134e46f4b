"""Helpers for the app tests: small sessions, a driven app, and the text a pane shows."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rich.console import Console

from desk.app.desk_app import DeskApp
from desk.engine import Engine
from desk.runner import Runner
from conftest import make_session


def make_app(tmp_path: Path, journal: str | None = "live.arrow", paused: bool = True,
             **extra: Any) -> DeskApp:
    """An app on a small synthetic session, paused on the first event unless told otherwise."""
    loaded = make_session(tmp_path, **extra)
    engine = Engine(loaded, tmp_path / journal if journal else None, strict=True)
    return DeskApp(Runner(engine, paused=paused))


def shown(widget: Any) -> str:
    """The plain text of what a pane was last given to show, rendered at its width."""
    console = Console(file=io.StringIO(), width=max(widget.content_size.width, 20), color_system=None)
    console.print(widget.content)
    return console.file.getvalue()  # type: ignore[attr-defined]


async def wait_until(pilot: Any, condition: Any, tries: int = 400) -> None:
    """Let the app run until `condition()` holds (a bounded number of short pauses)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("condition never became true")
