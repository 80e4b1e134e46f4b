"""Themes from `themes/*.toml`: validated as pydantic models, then turned into Textual themes."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from textual.color import Color, ColorParseError
from textual.theme import Theme

from desk.config import validation_lines

THEMES_DIR = Path(__file__).resolve().parent.parent.parent / "themes"
DEFAULT_THEME = "desk-dark"
FALLBACK = Theme(name=DEFAULT_THEME, primary="#3b82f6", secondary="#94a3b8", accent="#f59e0b",
                 foreground="#e2e8f0", background="#0b1220", surface="#111a2e", panel="#1c2a44",
                 success="#22c55e", warning="#eab308", error="#ef4444", dark=True)
"""Built in, so the app always has its default even when the themes folder is missing or broken."""


def _color(value: str | None) -> str | None:
    if value is not None:
        try:
            Color.parse(value)
        except ColorParseError:
            raise ValueError(
                f"{value!r} is not a colour (try \"#1e90ff\" or \"dodgerblue\")") from None
    return value


class ThemeFile(BaseModel):
    """One theme file, as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    dark: bool = True
    primary: str
    secondary: str | None = None
    accent: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    success: str | None = None
    warning: str | None = None
    error: str | None = None
    variables: dict[str, str] = {}

    _check = field_validator("primary", "secondary", "accent", "foreground", "background",
                             "surface", "panel", "success", "warning", "error")(_color)

    def to_theme(self) -> Theme:
        return Theme(name=self.name, primary=self.primary, secondary=self.secondary,
                     accent=self.accent, foreground=self.foreground, background=self.background,
                     surface=self.surface, panel=self.panel, success=self.success,
                     warning=self.warning, error=self.error, dark=self.dark,
                     variables=dict(self.variables))


@dataclass
class LoadedThemes:
    """The themes that loaded, in name order with the default first, and one line per failure."""

    themes: list[Theme] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    by_file: dict[str, str] = field(default_factory=dict)
    """The theme's name by its file's name (`light` → `desk-light`): either one picks it."""

    @property
    def names(self) -> list[str]:
        return [theme.name for theme in self.themes]


def load_theme_file(path: Path) -> Theme:
    """One theme file as a Textual theme; ValueError with `file: key: message` lines if bad."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: invalid TOML: {error}") from None
    try:
        return ThemeFile.model_validate(data).to_theme()
    except ValidationError as error:
        raise ValueError("\n".join(validation_lines(str(path), error))) from None


def load_themes(folder: Path = THEMES_DIR) -> LoadedThemes:
    """Every `*.toml` theme in `folder`; bad files are reported, never fatal."""
    loaded = LoadedThemes()
    by_name: dict[str, Theme] = {}
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        try:
            theme = load_theme_file(path)
        except ValueError as error:
            loaded.problems.append(str(error))
            continue
        by_name[theme.name] = theme
        loaded.by_file[path.stem] = theme.name
    by_name.setdefault(DEFAULT_THEME, FALLBACK)
    loaded.themes = [by_name.pop(DEFAULT_THEME), *(by_name[n] for n in sorted(by_name))]
    return loaded
