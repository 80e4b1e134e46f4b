"""The header line: session, simulated time, state, speed asked and achieved, progress, mode."""

from __future__ import annotations

from rich.text import Text

from desk.app.look import Palette
from desk.app.pane import LineView
from desk.figures import counted
from desk.snapshot import Pace, Snapshot
from desk.timeutil import format_ns


def count(value: float) -> str:
    """A rate in at most four characters: 820 · 8.2k · 12k · 1.2M."""
    if value >= 1e6:
        return f"{value / 1e6:.2g}M".replace("e+0", "e")
    if value >= 1e3:
        return f"{value / 1e3:.2g}k" if value < 1e4 else f"{value / 1e3:.0f}k"
    return f"{value:.0f}"


def times(value: float) -> str:
    """A speed as a person reads it: `530×`, `64×`, `5.3×`, `0.42×` (never `5.3e+02×`)."""
    return f"{value:,.0f}×" if value >= 10 else f"{value:.2g}×"


def clock_text(ts: int, date: bool, short_date: bool = False) -> str:
    """Simulated time to the millisecond (what the log shows), with the date when `date`:
    `2024-01-02 14:33:25.100`, or `01-02 14:33:25.100` when `short_date`."""
    text = format_ns(ts)[:23]
    if not date:
        return text[11:]
    return text[5:] if short_date else text


def pace_text(pace: Pace, moving: bool, detail: int = 2) -> str:
    """The requested speed, and while moving what is achieved: `max ≈8.2k ev/s`,
    `1000× (≈640×) ≈8.2k ev/s` when the engine cannot keep up with the speed asked; while
    it waits through a stretch without events, the time of the next one."""
    if not moving:
        return pace.speed
    if pace.waiting_for is not None:
        at = format_ns(pace.waiting_for)[11:19]
        if detail == 2:
            return f"{pace.speed} waiting for the next event at {at} · n: jump"
        return f"{pace.speed} next event {at}"
    if pace.events_per_second is None:
        return f"{pace.speed} ≈… ev/s"
    text = pace.speed
    if (pace.requested is not None and pace.achieved is not None
            and pace.achieved < 0.9 * pace.requested):
        text += f" (≈{times(pace.achieved)})"
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

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[Snapshot, Palette] | None = None
        """What the line was made from: a resize remakes it for the new width, since while
        paused no new snapshot comes to do so."""

    def on_resize(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)

    def show(self, snap: Snapshot, palette: Palette) -> None:
        self._shown = (snap, palette)
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
        now = snap.now_ns
        if snap.pace.clock_ns is not None and snap.state == "PLAYING":
            now = max(now, snap.pace.clock_ns)  # the pacing clock runs on between events
        # a day's change must show: 17:00 then 00:01 without a date reads as time running back
        when = clock_text(now, detail == 2 or snap.multi_day, detail < 2) if now else "–"
        gap = "  " if detail else " "
        text = Text(no_wrap=True)
        text.append(f"desk · {snap.session}" if detail == 2 else snap.session, style="bold")
        text.append(gap + when + gap)
        text.append(f" {state} ", style=f"bold reverse {colour}")
        text.append(gap + pace_text(snap.pace, snap.state in ("PLAYING", "SEEKING"), detail) + gap)
        parts = []
        if detail:
            parts.append(counted(snap.events, "event") if detail == 2 else f"{snap.events:,} ev")
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
