"""The risk engine and its rules."""

from desk.risk.engine import ACTIVE, HALTED, REDUCING, ApprovedOrder, RiskEngine, is_approved

__all__ = ["ACTIVE", "HALTED", "REDUCING", "ApprovedOrder", "RiskEngine", "is_approved"]
