"""The desk's choice of theme: the bundled ones and a file's, the one asked for, the next one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from desk.app.themes import DEFAULT_THEME, load_theme_file, load_themes

if TYPE_CHECKING:
    from desk.app.desk_app import DeskApp


def apply_wanted_theme(app: DeskApp) -> None:
    """Register the themes found and switch to the one asked for; a bad or unknown one is said
    in a notification and the default is used instead."""
    loaded = load_themes(app.themes_dir)
    for theme in loaded.themes:
        app.register_theme(theme)
    app.theme_names = loaded.names
    if loaded.problems:
        app.notify("\n".join(loaded.problems) + f"\nusing {DEFAULT_THEME} instead",
                   title="bad theme file", severity="warning", timeout=8)
    name = app.wanted_theme
    if name.endswith(".toml") or Path(name).is_file():
        name = _theme_from_file(app, Path(name))
    name = loaded.by_file.get(name, name) if name not in app.theme_names else name
    if name not in app.theme_names:
        app.notify(f"no theme {name!r} (themes: {', '.join(app.theme_names)}); "
                   f"using {DEFAULT_THEME}", severity="warning")
        name = DEFAULT_THEME
    app.theme = name


def _theme_from_file(app: DeskApp, path: Path) -> str:
    """`--theme FILE`: that theme, registered beside the bundled ones; the default if bad."""
    try:
        theme = load_theme_file(path)
    except ValueError as error:
        app.notify(f"{error}\nusing {DEFAULT_THEME} instead", title="bad theme file",
                   severity="warning", timeout=8)
        return DEFAULT_THEME
    app.register_theme(theme)
    if theme.name not in app.theme_names:
        app.theme_names.append(theme.name)
    return theme.name


def theme_problem(name: str, folder: Path) -> str | None:
    """Why `name` picks no theme, in one line; None when it picks one. `name` is a theme's name,
    its file's name in `folder` (`light`), or the path of a theme file, as `--theme` takes it."""
    if name.endswith(".toml") or Path(name).is_file():
        try:
            load_theme_file(Path(name))
        except ValueError as error:
            return "; ".join(str(error).splitlines())
        return None
    loaded = load_themes(folder)
    if name in loaded.names or name in loaded.by_file:
        return None
    return f"no theme {name!r} (themes: {', '.join(loaded.names)}; or a theme file's path)"


def next_theme(app: DeskApp) -> None:
    """`t`: the next theme in the list, named in a notification."""
    names = app.theme_names or [DEFAULT_THEME]
    current = names.index(app.theme) if app.theme in names else -1
    app.theme = names[(current + 1) % len(names)]
    app.notify(f"theme {app.theme}")
