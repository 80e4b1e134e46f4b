"""The bundled real-data sessions: their own import commands (in their header comments) run,
and each session then replays headless and strict, and its strategy trades."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from conftest import REAL, ROOT
from importing import needs_real

from desk.cli import main
from desk.config import load_session
from desk.engine import Engine


def import_commands(session: Path) -> list[list[str]]:
    """The `desk data import` commands written in a session file's header comment."""
    commands: list[list[str]] = []
    current = ""
    for line in session.read_text().splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if text.startswith("desk data import") or current:
            current += " " + text.rstrip("\\").strip()
            if not text.endswith("\\"):
                commands.append(shlex.split(current)[1:])
                current = ""
    return commands


@needs_real
@pytest.mark.parametrize("name", ["binance-l2", "fx-bars"])
def test_real_data_session_imports_as_documented_and_runs_strict_with_fills(
        name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session = ROOT / "sessions" / f"{name}.toml"
    commands = import_commands(session)
    assert commands, "the session's header shows how to import its data"
    (tmp_path / "sessions").mkdir()
    copy = tmp_path / "sessions" / session.name
    copy.write_text(session.read_text())
    monkeypatch.chdir(tmp_path)
    for argv in commands:
        argv = [arg.replace("../shared/data/real", str(REAL)) for arg in argv]
        assert main(argv) == 0, argv
    engine = Engine(load_session(copy), tmp_path / "journal.arrow", strict=True)
    engine.run()
    engine.close()
    assert engine.stats.fills > 0
    assert engine.stats.market_events > 10_000
