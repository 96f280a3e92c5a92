"""The bench's median interval (bench/stats.py): the makespan verdict is read with it, so its ranks must be
the distribution-free ones (binomial, p = 1/2), neither wider nor narrower."""

from __future__ import annotations

import math
import sys

import pytest

from omlineage_devkit.paths import REPO

sys.path.insert(0, str(REPO / "bench"))
from stats import median_interval


def _miss(n: int, k: int) -> float:
    """Chance that [k-th smallest, k-th largest] misses the median: both tails of Binomial(n, 1/2) below k."""
    return 2 * sum(math.comb(n, j) for j in range(k)) / 2**n


def test_too_few_values_give_no_interval() -> None:
    assert median_interval([1.0, 2.0, 3.0, 4.0, 5.0]) is None  # even min..max misses 1 time in 16
    assert median_interval([]) is None


@pytest.mark.parametrize(("n", "rank"), [(6, 1), (9, 2), (25, 8), (45, 16)])
def test_ranks_are_the_binomial_ones(n: int, rank: int) -> None:
    values = [float(v) for v in range(1, n + 1)]  # the k-th smallest is k
    assert median_interval(list(reversed(values))) == (rank, n + 1 - rank)
    assert _miss(n, rank) <= 0.05 < _miss(n, rank + 1)  # the narrowest that still covers 95 %


def test_every_size_covers_and_is_the_narrowest() -> None:
    for n in range(6, 80):
        low, high = median_interval([float(v) for v in range(1, n + 1)])  # type: ignore[misc]
        assert low == n + 1 - high
        assert _miss(n, int(low)) <= 0.05 < _miss(n, int(low) + 1), n
