"""Confidence intervals and percentiles."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from bench.core import stats
from bench.core.stats import accuracy_interval, bootstrap_mean, mean, percentile, wilson

# ---------------------------------------------------------------- wilson


@pytest.mark.parametrize("k, n, lo, hi", [
    (8, 10, 0.4902, 0.9433),
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (5, 10, 0.2366, 0.7634),
    (1, 1, 0.2065, 1.0),
    (50, 100, 0.4038, 0.5962),
])
def test_wilson_known_values(k, n, lo, hi):
    got = wilson(k, n)
    assert round(got[0], 4) == lo
    assert round(got[1], 4) == hi


def test_wilson_stays_in_unit_interval():
    for n in (1, 3, 10, 1000):
        for k in (0, n):
            lo, hi = wilson(k, n)
            assert 0.0 <= lo <= hi <= 1.0
    assert wilson(10, 10)[1] == 1.0
    assert wilson(0, 10)[0] == 0.0


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
def test_wilson_is_exact_at_0_and_100_percent(confidence):
    """0% and 100% cells are common; rounding noise (7e-18, 0.9999999999999999) at the edges once
    gave plots negative error bars. Every n up to 200, at every level."""
    for n in range(1, 201):
        assert wilson(0, n, confidence)[0] == 0.0, n
        assert wilson(n, n, confidence)[1] == 1.0, n


def test_wilson_contains_its_proportion_for_every_count():
    for n in range(1, 201):
        for k in range(n + 1):
            lo, hi = wilson(k, n)
            assert 0.0 <= lo <= k / n <= hi <= 1.0, (k, n)
            assert (lo < k / n or k == 0) and (hi > k / n or k == n), (k, n)


def test_wilson_confidence_level():
    narrow, wide = wilson(8, 10, 0.80), wilson(8, 10, 0.99)
    assert wide[0] < narrow[0] < 0.8 < narrow[1] < wide[1]
    assert round(wilson(8, 10, 0.90)[0], 4) == 0.5408  # z = 1.6449


def test_wilson_empty():
    lo, hi = wilson(0, 0)
    assert math.isnan(lo) and math.isnan(hi)


# ---------------------------------------------------------------- bootstrap


VALUES = [0.2, 0.4, 0.4, 0.6, 0.8, 1.0, 0.0, 0.5, 0.7, 0.9, 0.3, 0.6]


def test_bootstrap_is_reproducible():
    assert bootstrap_mean(VALUES) == bootstrap_mean(VALUES)
    assert bootstrap_mean(VALUES, seed=3) == bootstrap_mean(VALUES, seed=3)
    assert bootstrap_mean(VALUES, seed=3) != bootstrap_mean(VALUES, seed=4)


def test_bootstrap_brackets_the_mean():
    lo, hi = bootstrap_mean(VALUES)
    m = sum(VALUES) / len(VALUES)
    assert lo < m < hi
    assert min(VALUES) <= lo and hi <= max(VALUES)
    # about the normal-theory width: half-width ~ 1.96 * sd / sqrt(n)
    half = 1.96 * float(np.std(VALUES)) / math.sqrt(len(VALUES))
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.25)


def test_bootstrap_wider_at_higher_confidence():
    lo80, hi80 = bootstrap_mean(VALUES, confidence=0.80)
    lo99, hi99 = bootstrap_mean(VALUES, confidence=0.99)
    assert lo99 < lo80 and hi80 < hi99


def test_bootstrap_bounds_stay_between_the_smallest_and_largest_score():
    rng = random.Random(7)
    for _ in range(300):
        values = [rng.choice([0.0, 0.1, 0.25, 1 / 3, 0.5, 0.7, 0.9, 1.0]) for _ in range(rng.randint(0, 40))]
        values.append(rng.choice([0.1, 0.9, 1 / 3]))  # partial credit: the bootstrap's case
        lo, hi, method = accuracy_interval(values)
        assert method == "bootstrap"
        assert min(values) <= lo <= mean(values) <= hi <= max(values), values


def test_bootstrap_constant_and_empty():
    assert bootstrap_mean([0.5] * 7) == (0.5, 0.5)
    lo, hi = bootstrap_mean([])
    assert math.isnan(lo) and math.isnan(hi)


# ---------------------------------------------------------------- accuracy_interval


def test_accuracy_interval_uses_wilson_for_binary_scores():
    scores = [1.0] * 8 + [0.0] * 2
    lo, hi, method = accuracy_interval(scores)
    assert method == "wilson"
    assert (lo, hi) == wilson(8, 10)
    assert accuracy_interval([1, 0, 1, True, False])[2] == "wilson"


def test_accuracy_interval_uses_bootstrap_for_partial_credit():
    scores = [1.0, 0.6, 0.0, 1.0, 0.8, 0.4]
    lo, hi, method = accuracy_interval(scores)
    assert method == "bootstrap"
    assert (lo, hi) == bootstrap_mean(scores)


def test_accuracy_interval_empty():
    lo, hi, _ = accuracy_interval([])
    assert math.isnan(lo) and math.isnan(hi)


# ---------------------------------------------------------------- percentile and mean


@pytest.mark.parametrize("values", [
    [5.0],
    [1.0, 2.0],
    [3.0, 1.0, 2.0],
    [0.12, 0.5, 0.07, 1.9, 0.33, 0.33, 4.2, 0.8, 0.21, 0.6],
    list(range(101)),
    [-3.5, 10.0, 2.25, 7.0],
])
@pytest.mark.parametrize("q", [0, 10, 25, 37.5, 50, 90, 95, 99, 100])
def test_percentile_matches_numpy(values, q):
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), rel=1e-12, abs=1e-12)


def test_percentile_does_not_reorder_the_input():
    values = [3.0, 1.0, 2.0]
    percentile(values, 50)
    assert values == [3.0, 1.0, 2.0]


def test_empty_lists_give_nan():
    assert math.isnan(percentile([], 50))
    assert math.isnan(mean([]))
    assert mean([1.0, 2.0, 6.0]) == 3.0


# ---------------------------------------------------------------- paired comparisons


def test_mcnemar_exact_known_value():
    # 10 examples only A gets right, 2 only B: p = 2 * (C(12,0)+C(12,1)+C(12,2)) / 2^12 = 158/4096
    a = [1] * 10 + [0] * 2 + [1] * 5 + [0] * 3
    b = [0] * 10 + [1] * 2 + [1] * 5 + [0] * 3
    assert stats.mcnemar_exact(a, b) == pytest.approx(158 / 4096)
    assert stats.mcnemar_exact(a, a) == 1.0
    assert stats.mcnemar_exact([1, 0], [0, 1]) == 1.0  # one disagreement each way: no evidence


def test_mcnemar_second_known_value_and_symmetry():
    # 7 vs 1 discordant: p = 2 * (C(8,0) + C(8,1)) / 2^8 = 18/256, whichever model is A
    a = [1] * 7 + [0] * 1 + [1] * 20
    b = [0] * 7 + [1] * 1 + [1] * 20
    assert stats.mcnemar_exact(a, b) == stats.mcnemar_exact(b, a) == pytest.approx(18 / 256)


def test_paired_bootstrap_is_seeded_and_brackets_the_difference():
    a = [0.9, 0.8, 1.0, 0.7, 0.95, 0.85, 0.9, 0.75]
    b = [0.5, 0.6, 0.55, 0.4, 0.7, 0.5, 0.65, 0.45]
    d, lo, hi, p = stats.paired_bootstrap(a, b)
    assert (d, lo, hi, p) == stats.paired_bootstrap(a, b)
    assert d == pytest.approx(sum(x - y for x, y in zip(a, b)) / len(a))
    assert 0 < lo <= d <= hi and p < 0.01
    same = stats.paired_bootstrap(a, a)
    assert same[0] == 0 and same[3] == 1.0


def test_compare_paired_picks_the_method_and_says_whether_it_matters():
    binary = stats.compare_paired([1] * 12 + [0] * 8, [0] * 12 + [1] * 8)
    assert binary["method"] == "mcnemar_exact" and not binary["significant"]  # 12 vs 8 discordant
    clear = stats.compare_paired([1] * 20, [0] * 20)
    assert clear["significant"] and clear["difference"] == 1.0
    partial = stats.compare_paired([0.9, 0.8, 1.0, 0.7] * 4, [0.2, 0.3, 0.1, 0.2] * 4)
    assert partial["method"] == "paired_bootstrap" and partial["significant"]
    with pytest.raises(ValueError):
        stats.mcnemar_exact([1], [1, 0])
