"""The seeds desk takes, the same for a session's `seed`, `desk run --seed`, `desk compare` and a
sweep: 0 to 2**63 - 1."""

from __future__ import annotations

MAX_SEED = 2**63 - 1
"""The largest seed: the world's generators take any seed of 0 or more, and results store it as
a 64-bit integer."""
SEEDS = "seeds are 0 to 2**63 - 1"


def seed_problem(seed: int) -> str | None:
    """Why `seed` is not a seed desk takes, in the words every command uses; None when it is."""
    return None if 0 <= seed <= MAX_SEED else f"{seed} is not a seed ({SEEDS})"


def seeds_problem(start: int, count: int, first: str) -> str | None:
    """Why `count` seeds from `start` on are not all seeds, `first` naming where the first one
    was given; None when they are (`count` ≥ 1)."""
    problem = seed_problem(start)
    if problem is None and start + count - 1 > MAX_SEED:
        problem = f"{count:,} seeds from {first} {start} go past the largest seed, 2**63 - 1"
    return problem
