"""Small numeric helpers for the table: min/median, ratios, units."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def min_med(values: Sequence[float]) -> tuple[float, float] | None:
    return (min(values), statistics.median(values)) if values else None


def seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.0f} ms" if value >= 0.0095 else f"{value * 1000:.1f} ms"
    return f"{value:.1f} s" if value < 100 else f"{value:.0f} s"


def mib(value: float) -> str:
    return f"{value / 2**20:.1f} MiB"


def ratio(official: float | None, ours: float | None) -> str:
    if official is None or ours is None:
        return "n/a"
    if ours <= 0:
        return "n/a (ours is 0)" if official > 0 else "1x"
    value = official / ours
    return f"{value:.0f}x" if value >= 10 else f"{value:.1f}x"


def median_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """A distribution-free confidence interval for the median: the k-th smallest and k-th largest value,
    with k the largest rank whose binomial tail (each value falls below the median with probability 1/2)
    keeps both ends' miss chance within (1 - confidence) / 2. None when there are too few values for any
    interval at that confidence (fewer than 6 at 95 %)."""
    ordered = sorted(values)
    n = len(ordered)
    alpha = (1.0 - confidence) / 2
    k, below = 0, 0.0  # below: P(fewer than k+1 values under the median)
    while k < n // 2:
        below += math.comb(n, k) / 2**n
        if below > alpha:
            break
        k += 1
    return (ordered[k - 1], ordered[n - k]) if k else None
