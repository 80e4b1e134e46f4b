"""The risk gate: each rule with its switch, limits, value and headroom; the mode; recent blocks."""

from __future__ import annotations

from collections import deque

from rich.text import Text

from desk.app.look import Palette, limit_text
from desk.app.pane import Pane
from desk.snapshot import RuleRow, Snapshot

_FIXED = 2 + 4 + 15 + 1 + 33 + 2
"""Cells of the wide layout besides limits and verdict: number, switch, name, three figures."""


class RiskPane(Pane):
    """Rules numbered as their keys (1…9 switch them), the latest decision, and recent blocks."""

    DEFAULT_CSS = """
    RiskPane.-alert { border: round $error; border-title-color: $error; }
    """

    def __init__(self, title: str, **kwargs: object) -> None:
        super().__init__(title, **kwargs)
        self.recent_blocks: deque[str] = deque(maxlen=5)
        self._seen_decision = -1

    def show(self, snapshot: Snapshot, palette: Palette, force: bool = False) -> None:
        decision = snapshot.decision
        if decision is not None and decision.seq != self._seen_decision:
            self._seen_decision = decision.seq
            if not decision.approved:
                self.recent_blocks.appendleft(f"#{decision.seq} {', '.join(decision.blocked_by)}")
        super().show(snapshot, palette, force)

    def key(self, snapshot: Snapshot) -> object:
        return (snapshot.rules, snapshot.decision, snapshot.mode,
                snapshot.stats.get("approved"), snapshot.stats.get("blocked"))

    def paint(self, snap: Snapshot, palette: Palette, width: int, height: int) -> Text:
        stats = snap.stats
        self.retitle(f"risk · {snap.mode}",
                     f"allowed {stats.get('approved', 0):,} · blocked {stats.get('blocked', 0):,}")
        if self.has_class("-alert") != (snap.mode != "ACTIVE"):
            self.set_class(snap.mode != "ACTIVE", "-alert")
        text = Text(no_wrap=True, overflow="ellipsis")
        wide = width >= 90
        # as they will be: a change queued while paused shows here as in the verdict column
        limits_of = {rule.name: " ".join(f"{k}={limit_text(rule.will_have(k))}"
                                         for k, _ in rule.limits)
                     for rule in snap.rules}
        # the limits column takes what the pane has beyond the fixed columns, up to the
        # longest limits text, and leaves at least as much to the verdict sentence
        room = max(12, (width - _FIXED) // 2)
        lw = min(max((len(t) for t in limits_of.values()), default=6), room)
        if wide and height > len(snap.rules) + 1:
            text.append(f"{'':6} {'rule':<14} {'limits':<{lw}} {'value':>10} {'limit':>10} "
                        f"{'headroom':>10}  verdict\n", style=f"bold {palette.muted}")
            height -= 1
        for rule in snap.rules:
            on = rule.will_enable
            style = palette.text if on else palette.muted
            text.append(f"{rule.index} ", style=f"bold {palette.accent}")
            text.append("●on " if on else "○OFF",
                        style=palette.good if on else f"bold {palette.warn}")
            text.append(f" {rule.name:<14}", style=style)
            verdict_style = f"bold {palette.bad}" if rule.passed is False and on else style
            state = self._state(rule, palette, wide)
            if wide:
                limits = limits_of[rule.name]
                if len(limits) > lw:
                    limits = limits[: lw - 1] + "…"
                text.append(f" {limits:<{lw}}", style="dim")
                # figures under limits still in force, and only figures that say something
                judged = on and not rule.changed_since and self._figures_say(rule)
                figures = (rule.value, rule.limit, rule.headroom) if judged else (None,) * 3
                text.append(" " + " ".join(f"{self._figure(f):>10}" for f in figures) + "  ",
                            style=verdict_style)
                verdict = rule.message
            else:
                text.append(" ")
                verdict = self._verdict(rule)
            if state is not None:
                text.append_text(state)
            else:
                text.append(verdict, style=verdict_style)
            if rule.blocks:
                text.append(f" ✗{rule.blocks}", style=f"bold {palette.bad}")
            text.append("\n")
        room = height - len(snap.rules)
        decision = snap.decision
        if decision is not None and room >= 1:
            style = palette.good if decision.approved else f"bold {palette.bad}"
            text.append(f"last #{decision.seq} ", style="dim")
            text.append(decision.why, style=style)
            text.append("\n")
            room -= 1
        if self.recent_blocks and room >= 1:
            text.append("recent blocks ", style=f"bold {palette.bad}")
            text.append(" · ".join(self.recent_blocks), style=palette.bad)
        text.rstrip()
        return text

    @staticmethod
    def _state(rule: RuleRow, palette: Palette, wide: bool = False) -> Text | None:
        """What the rule's switch means, in words, where its verdict would say too little: off
        (its checks are skipped), the kill switch engaged or not, a change queued for the next
        event. None: the latest verdict says it."""
        on = rule.will_enable
        pending = "(next event) " if rule.pending else ""
        if not on:
            return Text(f"{pending}OFF: its checks are skipped", style=f"bold {palette.warn}")
        if rule.name == "kill_switch":
            if rule.will_have("engaged"):
                return Text(f"{pending}ENGAGED — every order blocked",
                            style=f"bold reverse {palette.bad}")
            return Text(f"{pending}not engaged", style=palette.text)
        changes = dict(rule.pending)
        if "enabled" in changes:
            return Text(f"{pending}on: checked again", style=f"bold {palette.good}")
        if changes:
            return Text(pending + " ".join(f"{k}={limit_text(v)}" for k, v in changes.items()),
                        style=f"bold {palette.warn}")
        if rule.changed_since and rule.passed is not None:
            # its latest verdict was under other limits (or before it was off): its figures
            # would say room under a limit no longer in force. The wide layout shows the limits
            # in their own column; the narrow one, here
            if wide:
                return Text("changed since its latest verdict: not judged yet",
                            style=palette.muted)
            limits = " ".join(f"{k}={limit_text(v)}" for k, v in rule.limits)
            return Text(f"not judged since: {limits}", style=palette.muted)
        return None

    @staticmethod
    def _figure(value: float | None) -> str:
        return "–" if value is None else limit_text(value)

    @staticmethod
    def _figures_say(rule: RuleRow) -> bool:
        """Whether the verdict's value, limit and headroom mean something: a rule with no limit
        to measure against (the kill switch: engaged or not), or nothing measured (the price
        band on a market order), has only its sentence."""
        return rule.value is not None and bool(rule.limit or rule.headroom)

    @classmethod
    def _verdict(cls, rule: RuleRow) -> str:
        """value/limit and headroom; the rule's own sentence when those figures say nothing."""
        if rule.passed is None:
            return "not judged yet"
        if not cls._figures_say(rule):
            return rule.message
        verdict = f"{cls._figure(rule.value)}/{cls._figure(rule.limit)}"
        if rule.headroom is not None:
            verdict += f" room {cls._figure(rule.headroom)}"
        return verdict
