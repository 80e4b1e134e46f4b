"""The explanation of the risk decision a seek (`d`) stopped at, shown until the replay plays on
or a newer decision is made (stepping with `n` may reach one)."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from desk.app.look import Palette
from desk.app.pane import LineView
from desk.snapshot import Decision


def wrapped(text: Text, width: int, rows: int) -> list[Text]:
    """`text` wrapped to `width`, at most `rows` lines; an ellipsis ends a text that goes on."""
    lines = list(text.wrap(Console(width=max(width, 1)), max(width, 1)))
    if len(lines) > rows:
        lines = lines[:rows]
        last = lines[-1].copy()
        last.rstrip()
        if last.cell_len >= width:  # room for the one ellipsis that says the text goes on
            last.truncate(width - 1)
        last.append("…")
        lines[-1] = last
    return lines


HIDDEN_BY_FILTER = "(the log's filter hides it: / and enter on an emptied box show it)"
"""Said instead of pointing at the decision's row when the filter leaves that row out."""


class DecisionBar(LineView):
    """A few rows under the log: the decision's verdict, then why, wrapped and cut to fit.

    Its height is fixed by the CSS (5 rows; the app's CSS makes it 3 on a short
    screen) and the rows are taken from the log above, so showing it never pushes
    the screen past the terminal's height.
    """

    DEFAULT_CSS = """
    DecisionBar {
        display: none;
        height: 5;
        background: $boost;
        padding: 0 1;
    }
    DecisionBar.-shown { display: block; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.decision: Decision | None = None
        self._palette: Palette | None = None
        self._in_log = True

    def show_decision(self, decision: Decision, palette: Palette, in_log: bool = True) -> None:
        """Explain `decision`; `in_log` False: the log's filter hides its row, so the bar must
        not send the person to a row that is not there (enter would explain another)."""
        self.decision, self._palette, self._in_log = decision, palette, in_log
        self.add_class("-shown")
        self._fill()

    def on_resize(self) -> None:
        self._fill()

    def _fill(self) -> None:
        decision, palette = self.decision, self._palette
        if decision is None or palette is None:
            return
        width = self.size.width or max(10, self.app.size.width - 2)
        rows = self.size.height or 3
        head = Text()
        if decision.approved:
            head.append(" ALLOWED ", style=f"bold reverse {palette.good}")
        else:
            head.append(" BLOCKED ", style=f"bold reverse {palette.bad}")
            head.append(f" by {', '.join(decision.blocked_by)}", style=f"bold {palette.bad}")
        where = (HIDDEN_BY_FILTER if not self._in_log
                 else "(enter on it in the log: full chain)")
        head.append(f"  #{decision.seq} {where}", style="dim")
        self.set_lines([head, *wrapped(Text(decision.why), width, max(1, rows - 1))])

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    def outdated_by(self, latest: Decision | None) -> bool:
        """A newer decision than the one explained has been made: the bar would read as the
        verdict on it."""
        shown = self.decision
        return (shown is not None and latest is not None and latest.seq != shown.seq
                and self.shown)

    def hide(self) -> None:
        if self.has_class("-shown"):
            self.remove_class("-shown")
