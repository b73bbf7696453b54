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


# ---------------------------------------------------------------- a candidate against a reference


def test_newcombe_paired_known_value_with_phi_zero():
    # Bentur et al. (2009) in Fagerland, Lydersen & Laake's paired 2x2 chapter: both 1, only A 1,
    # only B 7, neither 12 (n = 21). ad - bc = 12 - 7 = 5 lies in [0, n/2]: phi = 0. p1 = 2/21,
    # p2 = 8/21; Wilson (95%): p1 in [0.0265, 0.2891], p2 in [0.2049, 0.5915];
    # low = -6/21 - sqrt((0.0952 - 0.0265)^2 + (0.5915 - 0.3810)^2) = -0.5069,
    # high = -6/21 + sqrt((0.2891 - 0.0952)^2 + (0.3810 - 0.2049)^2) = -0.0256
    diff, low, high = stats.newcombe_paired(1, 1, 7, 12)
    assert diff == pytest.approx(-6 / 21)
    assert (low, high) == (pytest.approx(-0.5069, abs=1e-4), pytest.approx(-0.0256, abs=1e-4))


def test_newcombe_paired_known_value_with_phi():
    # Cavo et al. (2012): 59, 6, 16, 80 (n = 161). ad - bc = 4720 - 96 = 4624 > n/2: phi =
    # (4624 - 80.5) / sqrt(65 x 96 x 75 x 86) = 0.7162, which narrows the interval to [-0.1186, -0.0046]
    diff, low, high = stats.newcombe_paired(59, 6, 16, 80)
    assert diff == pytest.approx(-10 / 161)
    assert (low, high) == (pytest.approx(-0.1186, abs=1e-4), pytest.approx(-0.0046, abs=1e-4))
    # without the correlation (independent samples) the same margins give a wider interval
    l1, _ = stats.wilson(65, 161)
    _, u2 = stats.wilson(75, 161)
    assert low > diff - math.sqrt((65 / 161 - l1) ** 2 + (u2 - 75 / 161) ** 2)


def test_newcombe_paired_edges():
    assert all(math.isnan(x) for x in stats.newcombe_paired(0, 0, 0, 0))
    # every pair agrees (both wrong): the difference is 0 and the interval is the Wilson half-widths
    diff, low, high = stats.newcombe_paired(0, 0, 0, 20)
    assert diff == 0 and low == pytest.approx(-stats.wilson(0, 20)[1]) and high == pytest.approx(stats.wilson(0, 20)[1])
    # one example: bounds stay within [-1, 1] and contain the difference
    for counts in ((0, 1, 0, 0), (0, 0, 1, 0), (1, 0, 0, 0)):
        d, lo, hi = stats.newcombe_paired(*counts)
        assert -1 <= lo <= d <= hi <= 1


def test_paired_difference_binary_and_partial():
    a = [1.0] * 8 + [0.0] * 10 + [1.0] * 2  # 50%
    b = [1.0] * 18 + [0.0] * 2  # 90%
    out = stats.paired_difference(a, b)
    assert out["ci_method"] == "newcombe" and out["test"] == "mcnemar_exact"
    assert out["difference"] == pytest.approx(-0.4) and out["p_value"] == pytest.approx(2 * 79 / 4096)
    assert (out["low"], out["high"]) == pytest.approx(stats.newcombe_paired(8, 2, 10, 0)[1:])
    # per-pair variance: 12 discordant of 20 minus the squared mean: 0.6 - 0.16
    assert out["variance"] == pytest.approx(0.44) and out["n"] == 20
    partial = stats.paired_difference([0.5] * 10, [1.0] * 10)
    assert partial["ci_method"] == "paired_bootstrap" and partial["difference"] == pytest.approx(-0.5)
    # ten equal differences resample to one value; the interval is at least the normal one with the
    # variance floored at 1/n: -0.5 -+ 1.95996 x sqrt(0.1 / 10)
    assert partial["variance"] == pytest.approx(0) and partial["p_value"] == pytest.approx(1 / 2001)
    assert (partial["low"], partial["high"]) == pytest.approx((-0.5 - 0.195996, -0.5 + 0.195996), abs=1e-5)
    with pytest.raises(ValueError):
        stats.paired_difference([], [])


def test_pairs_needed_worked_example_of_docs_metrics():
    # docs/metrics.md, "Examples needed": 200 paired examples, 20 only the candidate got right and 24
    # only the reference (p10 = 0.10, p01 = 0.12): d = -0.02, s^2 = 0.22 - 0.0004 = 0.2196; margin 5
    # points: (1.95996 + 0.84162)^2 x 0.2196 / (-0.02 + 0.05)^2 = 7.84888 x 0.2196 / 0.0009 = 1915.1 -> 1916
    assert stats.pairs_needed(-0.02, 0.2196, 0.05, 200) == 1916
    # a difference beyond the margin: as many to show it is worse (the gap is what counts)
    assert stats.pairs_needed(-0.08, 0.2196 + 0.0004 - 0.0064, 0.05, 200) == math.ceil(7.84888 * 0.2136 / 0.0009)
    assert stats.pairs_needed(-0.05, 0.3, 0.05, 100) is None  # on the margin: no number of examples tells
    # no disagreement seen: the variance is taken as one discordant pair in n, never 0
    assert stats.pairs_needed(0.0, 0.0, 0.05, 50) == math.ceil(7.84888 * (1 / 50) / 0.0025)


def test_detectable_difference():
    # 20 pairs, one discordant: s^2 = max(0.05 - 0.0025, 1/20) = 0.05; 2.80159 x sqrt(0.05 / 20) = 0.1401
    assert stats.detectable_difference(0.0475, 20) == pytest.approx(0.14008, abs=1e-4)
    assert stats.detectable_difference(0.44, 400) < stats.detectable_difference(0.44, 100)
    assert math.isnan(stats.detectable_difference(0.1, 0))
