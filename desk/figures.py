"""How desk writes numbers in its sentences: the journal's, the risk verdicts', the app's."""

from __future__ import annotations

_WRITTEN: dict[float, str] = {}
"""`num` of numbers already written: prices and sizes repeat, and a lookup is a fraction of
the formatting (the journal writes several per order)."""

_KEEP = 65_536
"""At most this many remembered; then the memory starts again."""


def num(x: float, digits: int = 10) -> str:
    """A price or a quantity as people write them: 61,682.45, 0.00009, -100,000; never 9e-05.

    At most `digits` decimals (a float's last bits of noise, 0.30000000000000004, are
    dropped); a number too large or too small for that keeps the `g` form.
    """
    if digits == 10:
        known = _WRITTEN.get(x)
        if known is not None:
            return known
    size = abs(x)
    if not size < 1e15 or (size and size < 10.0 ** -digits):  # also inf and nan
        return f"{x:g}"
    text = f"{x:,.{digits}f}".rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    if digits == 10:
        if len(_WRITTEN) >= _KEEP:
            _WRITTEN.clear()
        _WRITTEN[x] = text
    return text


def signed(x: float) -> str:
    """`num` with a sign: +207, -0.5, 0."""
    return ("+" if x > 0 else "") + num(x)


def money(x: float) -> str:
    """An amount to the cent, never "-0.00"."""
    text = f"{x:,.2f}"
    return "0.00" if text == "-0.00" else text


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """A count and its noun as a sentence has them: 1 order, 2 orders, 1,500 rows, 0 cells;
    `plural` where adding an s will not do (1 process, 2 processes)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def figures_say(limit: object, headroom: object) -> bool:
    """Whether a rule's verdict's value, limit and headroom mean something: a rule with no
    limit to measure against (the kill switch, engaged or not: 1 / 0 / 0) has only its
    sentence, and its figures would read as a limit of zero."""
    return bool(limit or headroom)
