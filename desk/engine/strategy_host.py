"""The engine's host for the strategy: loading it, calling it, and what its faults do."""

from __future__ import annotations

import traceback
from typing import Any

from desk.engine.state import EngineState
from desk.figures import counted
from desk.orders import TimeInForce
from desk.strategy import Context, Strategy, find_strategy, make_params, make_strategy

FAULTS = (Exception, SystemExit)
"""What a strategy's callback raises that is its own fault: any error, and `sys.exit()`, which
would otherwise end the desk with the journal cut short. Ctrl-C and SIGTERM are not."""


class StrategyHost(EngineState):
    """A strategy's exception is journaled and counted, never fatal to the engine."""

    def _load_strategy(self) -> Strategy:
        cfg = self.config.strategy
        where = str(self.loaded.path) if self.loaded.path else "session"
        cls = find_strategy(cfg.use, where)
        params = make_params(cls, cfg.params, where)
        ctx = Context(self.portfolio_view, self.market_view, self._target, self._order,
                      self._cancel, self._open_orders, self._clock)
        return make_strategy(cls, params, ctx, where)

    def _clock(self) -> int:
        return self.now

    def _call_strategy(self, callback: Any, *args: Any) -> None:
        """Run one strategy callback; an exception is journaled and counted, never fatal to the
        engine."""
        try:
            callback(*args)
        except FAULTS as error:  # a strategy's bug must not take the desk down
            self._strategy_fault(callback.__name__, error)
        if self._rejects:
            self._deliver_rejects()

    def _deliver_rejects(self) -> None:
        """Tell the strategy about the intents risk blocked during its last callback."""
        if self._rejects:
            rejects, self._rejects = self._rejects, []
            for reject in rejects:
                if not self.strategy_active:
                    break
                try:
                    self.strategy.on_reject(reject)
                except FAULTS as error:
                    self._strategy_fault("on_reject", error)

    def _strategy_fault(self, where: str, error: BaseException) -> None:
        self.strategy_faults += 1
        self.stats.strategy_faults += 1
        cfg = self.config.strategy
        # from the strategy's own frame on: the engine frame that caught it is noise, and
        # differs between step() and the fast loop, which must journal the same bytes
        tb = error.__traceback__
        trace = "".join(traceback.format_exception(type(error), error,
                                                   tb.tb_next if tb is not None else None,
                                                   limit=8))
        self.journal.record("strategy_error", self.now, f"strategy raised in {where}: "
                            f"{type(error).__name__}: {error} (fault {self.strategy_faults} of "
                            f"{cfg.max_faults})", traceback=trace)
        if self.strategy_faults >= cfg.max_faults and self.strategy_active:
            self.strategy_active = False
            self.journal.record("strategy_stopped", self.now, f"strategy stopped after "
                                f"{counted(self.strategy_faults, 'fault')}; policy {cfg.on_fault}",
                                policy=cfg.on_fault)
            if cfg.on_fault == "flatten":
                for symbol, qty in self.portfolio_view.positions().items():
                    self._current = None
                    self._intend(symbol, self._round_lot(symbol, -qty - self.risk.pending[symbol]),
                                 "flatten: strategy stopped after repeated faults", None,
                                 TimeInForce.GTC, {})
