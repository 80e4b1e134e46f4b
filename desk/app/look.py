"""How figures and journal kinds look: number formats and colours taken from the current theme."""

from __future__ import annotations

from dataclasses import dataclass

from textual.theme import Theme


@dataclass(frozen=True, slots=True)
class Palette:
    """Rich styles derived from a Textual theme, so panes that paint Rich text follow the theme."""

    good: str
    bad: str
    warn: str
    accent: str
    primary: str
    muted: str
    text: str

    @classmethod
    def of(cls, theme: Theme) -> Palette:
        fg = theme.foreground or ("#e0e0e0" if theme.dark else "#202020")
        return cls(good=theme.success or "green", bad=theme.error or "red",
                   warn=theme.warning or "yellow", accent=theme.accent or "magenta",
                   primary=theme.primary, muted=theme.secondary or "grey50", text=fg)

    def kind(self, kind: str, blocked: bool = False) -> str:
        """The style of one journal kind; a blocked risk decision stands out."""
        if kind == "risk":
            return f"bold reverse {self.bad}" if blocked else self.good
        if kind in ("strategy_error", "engine_error", "control_error", "strategy_stopped"):
            return f"bold {self.bad}"
        if kind in ("mode", "limit_change", "rule_toggle", "cash_guard", "data_quality"):
            return f"bold {self.warn}"
        if kind in ("fill", "execution"):
            return self.accent
        if kind in ("order", "arrival", "cancel", "order_end"):
            return self.primary
        if kind == "signal":
            return f"bold {self.text}"
        return self.muted


def money(value: float) -> str:
    return f"{value:,.2f}"


def short(value: float) -> str:
    """Money in at most ~8 characters: 1,234.56 · 12.3k · 1.23M."""
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:,.2f}M"
    if size >= 1e4:
        return f"{value / 1e3:,.1f}k"
    return f"{value:,.2f}"


def qty(value: float) -> str:
    return f"{value:+,.0f}" if value == int(value) else f"{value:+,.4g}"


def fit(text: str, width: int) -> str:
    """`text` cut to `width` cells with an ellipsis when it is longer."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"


def limit_text(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)
