"""Vectorised random draws shared by the generators."""

from __future__ import annotations

import numpy as np


def pick(rng: np.random.Generator, shares: np.ndarray) -> np.ndarray:
    """One choice per row: row i is k with probability shares[i, k]."""
    cumulative = np.cumsum(shares, axis=1)
    # Comparing with all but the last bound keeps a sum of 0.9999… from drawing past the end.
    return (rng.random(len(shares))[:, None] >= cumulative[:, :-1]).sum(axis=1)


def uniform(rng: np.random.Generator, ranges: np.ndarray) -> np.ndarray:
    """One draw per row, uniform between ranges[i, 0] and ranges[i, 1]."""
    return ranges[:, 0] + rng.random(len(ranges)) * (ranges[:, 1] - ranges[:, 0])
