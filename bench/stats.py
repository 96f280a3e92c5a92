"""Small numeric helpers for the table: min/median, ratios, units."""

from __future__ import annotations

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
