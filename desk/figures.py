"""How desk writes numbers in its sentences: the journal's, the risk verdicts', the app's."""

from __future__ import annotations


def num(x: float, digits: int = 10) -> str:
    """A price or a quantity as people write them: 61,682.45, 0.00009, -100,000; never 9e-05.

    At most `digits` decimals (a float's last bits of noise, 0.30000000000000004, are
    dropped); a number too large or too small for that keeps the `g` form.
    """
    size = abs(x)
    if not size < 1e15 or (size and size < 10.0 ** -digits):  # also inf and nan
        return f"{x:g}"
    text = f"{x:,.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def signed(x: float) -> str:
    """`num` with a sign: +207, -0.5, 0."""
    return ("+" if x > 0 else "") + num(x)


def money(x: float) -> str:
    """An amount to the cent, never "-0.00"."""
    text = f"{x:,.2f}"
    return "0.00" if text == "-0.00" else text
