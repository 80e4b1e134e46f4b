"""The risk rules: each a name, an enabled flag, parameters, and a pure check of one intent."""

from desk.risk.rules.control import KillSwitch, OrderRate
from desk.risk.rules.drawdown import MaxDrawdown
from desk.risk.rules.fat_finger import MaxOrderSize, PriceBand
from desk.risk.rules.position import Cash, MaxLeverage, MaxPosition
from desk.risk.rules.rule import Exposure, Rule

__all__ = ["Cash", "Exposure", "KillSwitch", "MaxDrawdown", "MaxLeverage", "MaxOrderSize",
           "MaxPosition", "OrderRate", "PriceBand", "Rule"]
