"""`desk play`: a session live in the Textual app (pause, step, seek decisions, switch rules)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desk.commands import given
from desk.commands.run import DEMO, check_journal_path, seed_value
from desk.errors import DeskError, SessionError

if TYPE_CHECKING:
    from desk.config import LoadedSession


def cmd_play(args: argparse.Namespace) -> int:
    """Load the session, build the engine and its runner, and hand them to the app."""
    from desk.app.desk_app import DeskApp
    from desk.config import load_session
    from desk.engine import Engine
    from desk.runner import Runner

    loaded = load_session(Path(args.session) if args.session else DEMO)
    _check_theme(args.theme, loaded)
    journal = (Path(args.out) / "journal.arrow") if args.out else Path(loaded.config.audit.path)
    check_journal_path(journal, f"--out {args.out}" if args.out else f"{loaded.path}: audit.path",
                       loaded)
    # built before the app starts its threads, so the journal's writer can be forked: the words
    # and batches of the journal are made on the other core, not between the app's frames
    engine = Engine(loaded, journal, seed=args.seed, strict=args.strict, journal_writer="process")
    runner = Runner(engine, paused=args.paused)
    app = DeskApp(runner, theme=args.theme)
    try:
        app.run()
    finally:
        runner.stop()
    for path in app.saved:
        print(f"saved session: {path}")
    if runner.failure is not None:
        if isinstance(runner.failure, DeskError):  # bad input, as `desk run` says it
            print(f"desk: {runner.failure}; journal kept in {journal}", file=sys.stderr)
            return 2
        print(f"desk: the engine failed: {runner.error}; journal kept in {journal}",
              file=sys.stderr)
        return 1
    print(f"journal: {journal}")
    return 0


def _check_theme(theme: str | None, loaded: LoadedSession) -> None:
    """A theme asked for that does not exist or cannot be read stops `desk play` before it
    starts, in one line: `--theme` first, else the session's `[app] theme`."""
    from desk.app.theme_choice import theme_problem
    from desk.app.themes import THEMES_DIR

    configured = loaded.config.app.theme
    if theme:
        where, name = "--theme", theme
    elif configured:
        where = f"{loaded.path or 'session'}: app.theme"
        name = str(loaded.resolve(configured)) if configured.endswith(".toml") else configured
    else:
        return
    problem = theme_problem(name, THEMES_DIR)
    if problem is not None:
        raise SessionError(f"{where}: {problem}")


def register(sub: Any) -> None:
    play = sub.add_parser("play", help="play a session live in the terminal app")
    play.add_argument("session", nargs="?", type=given("a session file"),
                      help="session file (default: the bundled demo)")
    play.add_argument("--theme", type=given("a theme's name or file", "an empty name"),
                      help="desk-dark (default), desk-light, desk-high-contrast, any "
                      "name in themes/*.toml, or the path of a theme TOML file")
    play.add_argument("--out", type=given("a folder"),
                      help="folder for the journal and for sessions saved with s "
                      "(default: the folder of the session's audit.path)")
    play.add_argument("--seed", type=seed_value, help="override the session's seed")
    play.add_argument("--strict", action="store_true",
                      help="check every invariant after every event")
    play.add_argument("--paused", action="store_true", help="start paused on the first event")
    play.set_defaults(func=cmd_play)
