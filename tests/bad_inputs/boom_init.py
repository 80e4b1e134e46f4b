"""A strategy whose constructor raises (the bad-input corpus)."""

from __future__ import annotations

from desk.strategy import Context, Params, Strategy


class BoomInit(Strategy):
    """Raises before it is ready: a user's bug in `__init__`."""

    def __init__(self, params: Params, ctx: Context) -> None:
        super().__init__(params, ctx)
        raise ValueError("boom in __init__")
