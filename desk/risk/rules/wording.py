"""Numbers as a rule's verdict writes them: short, and never two unequal numbers printed alike."""

from __future__ import annotations

from collections.abc import Callable

from desk.figures import num


def fmt(value: float) -> str:
    """A number to four significant digits, or whole with thousands separators from 1,000 on."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    text = f"{value:,.4g}"
    return num(float(text)) if "e" in text else text  # four significant digits, never 9e-05


def pct(fraction: float) -> str:
    """A fraction as a short percentage: 0.1 → "10%", 0.031 → "3.1%"."""
    return f"{fraction * 100:.1f}".removesuffix(".0") + "%"


def signed(value: float) -> str:
    """`fmt` with a plus sign on a positive number, for the terms of a sum."""
    return ("+" if value > 0 else "") + fmt(value)


def times(multiplier: float) -> str:
    """` × 50` after a price, for an instrument whose contract multiplier is not 1."""
    return "" if multiplier == 1 else f" × {multiplier:g}"


def fmt2(value: float, limit: float) -> tuple[str, str]:
    """Both numbers as `fmt` writes them, with more digits when that would print them equal.

    A verdict must never read "position 1,000 > 1,000" (1,000.4 against 1,000).
    """
    return _apart(value, limit, fmt, lambda x, digits: f"{x:,.{digits}f}", 1)


def pct2(value: float, limit: float) -> tuple[str, str]:
    """Two fractions as `pct` writes them, with more digits when they would print equal."""
    return _apart(value, limit, pct, lambda x, digits: f"{x * 100:.{digits}f}%", 2)


def _apart(value: float, limit: float, short: Callable[[float], str],
           wide: Callable[[float, int], str], digits: int) -> tuple[str, str]:
    """`short` of both, or `wide` with the fewest digits from `digits` on that tells unequal
    numbers apart."""
    shown = short(value), short(limit)
    while shown[0] == shown[1] and value != limit and digits < 10:
        shown = wide(value, digits), wide(limit, digits)
        digits += 1
    return shown
