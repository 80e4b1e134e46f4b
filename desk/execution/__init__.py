"""Execution: latency, matching, slippage and fees."""
