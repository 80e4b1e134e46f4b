"""The header line: session, simulated time, speed, state, events per second, progress, risk mode."""

from __future__ import annotations

from rich.text import Text

from textual.widgets import Static

from desk.app.look import Palette
from desk.snapshot import Snapshot
from desk.timeutil import format_ns


class DeskHeader(Static):
    """One line that tells where the replay is and whether it is moving."""

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
        wide = self.size.width >= 110
        state = snap.state
        if snap.mode == "HALTED" and state in ("PLAYING", "PAUSED", "SEEKING"):
            state = f"HALTED·{state.lower()}"
        colour = {"PLAYING": palette.good, "PAUSED": palette.warn, "SEEKING": palette.primary,
                  "FINISHED": palette.accent, "FAILED": palette.bad}.get(snap.state, palette.bad)
        if state.startswith("HALTED"):
            colour = palette.bad
        when = format_ns(snap.now_ns) if snap.now_ns else "–"
        if not wide:
            when = when[11:23]
        progress = f"{snap.events:,}"
        if snap.total_events:
            progress += f"/{snap.total_events:,}" if wide else f" {snap.events / snap.total_events:.0%}"
        text = Text()
        text.append(f"desk · {snap.session}" if wide else snap.session, style="bold")
        text.append("  ")
        text.append(when)
        text.append("  ")
        text.append(f" {state} ", style=f"bold reverse {colour}")
        text.append(f"  {snap.speed}  {snap.events_per_second:,.0f} ev/s  ")
        text.append(progress + (" events" if wide else ""), style=palette.muted)
        mode_style = {"ACTIVE": palette.good, "REDUCING": palette.warn}.get(snap.mode, palette.bad)
        text.append("  ")
        text.append(snap.mode, style=f"bold {mode_style}")
        self.update(text, layout=False)
