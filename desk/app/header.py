"""The header line: session, simulated time, state, speed asked and achieved, progress, mode."""

from __future__ import annotations

from rich.text import Text

from desk.app.look import Palette
from desk.app.pane import LineView
from desk.snapshot import Pace, Snapshot
from desk.timeutil import format_ns


def count(value: float) -> str:
    """A rate in at most four characters: 820 · 8.2k · 12k · 1.2M."""
    if value >= 1e6:
        return f"{value / 1e6:.2g}M".replace("e+0", "e")
    if value >= 1e3:
        return f"{value / 1e3:.2g}k" if value < 1e4 else f"{value / 1e3:.0f}k"
    return f"{value:.0f}"


def pace_text(pace: Pace, moving: bool) -> str:
    """The requested speed, and while moving what is achieved: `max ≈8.2k ev/s`,
    `1000× (≈640×) ≈8.2k ev/s` when the engine cannot keep up with the speed asked."""
    if not moving:
        return pace.speed
    if pace.events_per_second is None:
        return f"{pace.speed} ≈… ev/s"
    text = pace.speed
    if (pace.requested is not None and pace.achieved is not None
            and pace.achieved < 0.9 * pace.requested):
        text += f" (≈{pace.achieved:.2g}×)"
    return f"{text} ≈{count(pace.events_per_second)} ev/s"


class DeskHeader(LineView):
    """One line that tells where the replay is, whether it is moving, and how fast."""

    DEFAULT_CSS = """
    DeskHeader {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    """

    def show(self, snap: Snapshot, palette: Palette) -> None:
        width = self.size.width
        for detail in (2, 1, 0):  # the most detailed line that fits the width
            line = self.line(snap, palette, detail)
            if line.cell_len <= width:
                break
        self.set_lines([line])

    @staticmethod
    def line(snap: Snapshot, palette: Palette, detail: int = 2) -> Text:
        """The header at a level of `detail`: 2 spells everything out, 0 fits 80 columns."""
        state = snap.state
        if snap.mode == "HALTED" and state in ("PLAYING", "PAUSED", "SEEKING"):
            state = f"HALTED·{state.lower()}"
        colour = {"PLAYING": palette.good, "PAUSED": palette.warn, "SEEKING": palette.primary,
                  "FINISHED": palette.accent, "FAILED": palette.bad}.get(snap.state, palette.bad)
        if state.startswith("HALTED"):
            colour = palette.bad
        when = format_ns(snap.now_ns) if snap.now_ns else "–"
        if detail < 2:
            when = when[11:23]
        gap = "  " if detail else " "
        text = Text(no_wrap=True)
        text.append(f"desk · {snap.session}" if detail == 2 else snap.session, style="bold")
        text.append(gap + when + gap)
        text.append(f" {state} ", style=f"bold reverse {colour}")
        text.append(gap + pace_text(snap.pace, snap.state in ("PLAYING", "SEEKING")) + gap)
        parts = []
        if detail:
            parts.append(f"{snap.events:,} events" if detail == 2 else f"{snap.events:,} ev")
        if snap.progress is not None:
            parts.append(f"{snap.progress:.0%}")
        if parts:
            text.append(" · ".join(parts) + gap, style=palette.muted)
        mode_style = {"ACTIVE": palette.good, "REDUCING": palette.warn}.get(snap.mode, palette.bad)
        text.append(snap.mode, style=f"bold {mode_style}")
        faults = snap.stats.get("strategy_faults", 0)
        if not snap.strategy_active:
            text.append(gap + ("⚠ strategy stopped" if detail else "⚠ stopped"),
                        style=f"bold {palette.bad}")
        elif faults:
            text.append(gap + f"⚠ {faults} fault{'s' if faults > 1 else ''}",
                        style=f"bold {palette.warn}")
        return text
