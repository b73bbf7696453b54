"""Confidence intervals and percentiles: pure functions over lists of numbers."""

from __future__ import annotations

import math
import random
from statistics import NormalDist


def wilson(successes: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion; (nan, nan) when n == 0. Always
    0 <= low <= successes / n <= high <= 1, with exactly 0 at 0 successes and exactly 1 at n."""
    if n == 0:
        return (math.nan, math.nan)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # centre - half is exactly 0 at p = 0 (and centre + half exactly 1 at p = 1) in exact arithmetic;
    # floating point leaves noise such as 7e-18 or 0.9999999999999999, which a plot reads as an interval
    # that misses its own point
    low = 0.0 if successes <= 0 else min(p, max(0.0, centre - half))
    high = 1.0 if successes >= n else max(p, min(1.0, centre + half))
    return (low, high)


def bootstrap_mean(values: list[float], confidence: float = 0.95, resamples: int = 2000,
                   seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean, seeded so a report is reproducible."""
    n = len(values)
    if n == 0:
        return (math.nan, math.nan)
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(values, k=n)) / n for _ in range(resamples))
    lo = (1 - confidence) / 2
    return (means[int(lo * (resamples - 1))], means[int((1 - lo) * (resamples - 1))])


def accuracy_interval(scores: list[float], confidence: float = 0.95) -> tuple[float, float, str]:
    """Mean-score interval: Wilson when every score is 0 or 1, bootstrap otherwise; names the method.
    Scores in [0, 1] give bounds in [0, 1]: the bootstrap's bounds are resampled means, which lie
    between the smallest and the largest score."""
    if all(s in (0.0, 1.0) for s in scores):
        return (*wilson(sum(scores), len(scores), confidence), "wilson")
    return (*bootstrap_mean(scores, confidence), "bootstrap")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between order statistics
    (numpy's default 'linear' method); nan for an empty list."""
    if not values:
        return math.nan
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def mcnemar_exact(a: list[float], b: list[float]) -> float:
    """Two-sided exact McNemar p-value for two models' 0/1 scores on the same examples: a binomial
    test (p = 1/2) on the discordant pairs. 1.0 when the models never disagree."""
    if len(a) != len(b):
        raise ValueError("paired scores must cover the same examples")
    only_a = sum(1 for x, y in zip(a, b) if x == 1 and y == 0)
    only_b = sum(1 for x, y in zip(a, b) if x == 0 and y == 1)
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(only_a, only_b) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def paired_bootstrap(a: list[float], b: list[float], confidence: float = 0.95, resamples: int = 2000,
                     seed: int = 0) -> tuple[float, float, float, float]:
    """Mean of a - b over paired examples, its percentile-bootstrap interval (examples resampled
    with their pairs kept together), and a two-sided p-value (twice the share of resampled
    differences on the other side of zero)."""
    if len(a) != len(b) or not a:
        raise ValueError("paired scores must cover the same, non-empty, examples")
    diffs = [x - y for x, y in zip(a, b)]
    n = len(diffs)
    observed = sum(diffs) / n
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(diffs, k=n)) / n for _ in range(resamples))
    lo = (1 - confidence) / 2
    interval = (means[int(lo * (resamples - 1))], means[int((1 - lo) * (resamples - 1))])
    if observed == 0:
        return observed, *interval, 1.0
    other_side = sum(1 for m in means if (m <= 0 if observed > 0 else m >= 0)) / resamples
    return observed, *interval, min(1.0, 2 * other_side)


def compare_paired(a: list[float], b: list[float], alpha: float = 0.05) -> dict:
    """Whether model A's scores differ from model B's on the same examples: exact McNemar for 0/1
    scores, paired bootstrap otherwise. Returns the method, the mean difference, p and the verdict."""
    diff = (sum(a) - sum(b)) / len(a) if a else math.nan
    if all(s in (0.0, 1.0) for s in [*a, *b]):
        method, p = "mcnemar_exact", mcnemar_exact(a, b)
    else:
        method, (diff, _, _, p) = "paired_bootstrap", paired_bootstrap(a, b)
    return {"method": method, "difference": diff, "p_value": p, "significant": p < alpha}


# ---------------------------------------------------------------- a candidate against a reference


def newcombe_paired(both: int, only_a: int, only_b: int, neither: int,
                    confidence: float = 0.95) -> tuple[float, float, float]:
    """Difference of two paired proportions p_A - p_B, with Newcombe's hybrid score interval for
    paired data (Newcombe 1998, method 10): the Wilson intervals of p_A and p_B combined with the
    phi correlation of the 2x2 table (its numerator ad - bc lowered by n/2 when above n/2, 0 when
    between 0 and n/2; phi is 0 when a margin is empty). Counts: `both` right, `only_a` right,
    `only_b` right, `neither` right. Returns (difference, low, high), bounds within [-1, 1]."""
    n = both + only_a + only_b + neither
    if n == 0:
        return (math.nan, math.nan, math.nan)
    p1, p2 = (both + only_a) / n, (both + only_b) / n
    l1, u1 = wilson(both + only_a, n, confidence)
    l2, u2 = wilson(both + only_b, n, confidence)
    margins = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    ad_bc = both * neither - only_a * only_b
    if margins == 0:
        phi = 0.0
    elif ad_bc > n / 2:
        phi = (ad_bc - n / 2) / math.sqrt(margins)
    elif ad_bc >= 0:
        phi = 0.0
    else:
        phi = ad_bc / math.sqrt(margins)
    diff = p1 - p2
    low = diff - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    high = diff + math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return (diff, max(-1.0, low), min(1.0, high))


def paired_difference(a: list[float], b: list[float], confidence: float = 0.95) -> dict:
    """Model A's mean score minus model B's on the same examples, with its interval and test:
    0/1 scores: Newcombe's paired interval and the exact McNemar test; partial scores: the paired
    bootstrap for both. Also the per-pair variance of the difference (for sample sizes)."""
    if len(a) != len(b) or not a:
        raise ValueError("paired scores must cover the same, non-empty, examples")
    diffs = [x - y for x, y in zip(a, b)]
    mean_d = sum(diffs) / len(diffs)
    variance = max(0.0, sum(d * d for d in diffs) / len(diffs) - mean_d * mean_d)
    if all(s in (0.0, 1.0) for s in [*a, *b]):
        counts = {(x, y): 0 for x in (1.0, 0.0) for y in (1.0, 0.0)}
        for x, y in zip(a, b):
            counts[(x, y)] += 1
        diff, low, high = newcombe_paired(counts[1.0, 1.0], counts[1.0, 0.0], counts[0.0, 1.0], counts[0.0, 0.0],
                                          confidence)
        return {"difference": diff, "low": low, "high": high, "ci_method": "newcombe", "test": "mcnemar_exact",
                "p_value": mcnemar_exact(a, b), "n": len(a), "variance": variance}
    resamples = 2000
    diff, low, high, p = paired_bootstrap(a, b, confidence, resamples)
    # a few pairs with equal differences resample to one value: a zero-width interval and p = 0 that
    # claim certainty the pairs cannot give. The interval is at least the normal one with the
    # per-pair variance floored at 1/n (as pairs_needed does), and p at least 1 / (resamples + 1)
    half = NormalDist().inv_cdf(0.5 + confidence / 2) * math.sqrt(max(variance, 1 / len(a)) / len(a))
    return {"difference": diff, "low": min(low, diff - half), "high": max(high, diff + half),
            "ci_method": "paired_bootstrap", "test": "paired_bootstrap", "p_value": max(p, 1 / (resamples + 1)),
            "n": len(a), "variance": variance}


def _z_sum(alpha: float, power: float) -> float:
    normal = NormalDist()
    return normal.inv_cdf(1 - alpha / 2) + normal.inv_cdf(power)


def pairs_needed(difference: float, variance: float, margin: float, n: int, alpha: float = 0.05,
                 power: float = 0.8) -> int | None:
    """Paired examples needed to tell a difference from the margin -margin at `power`, with a
    two-sided `alpha` (the 95% interval's bound): n = (z_{1-alpha/2} + z_power)^2 s^2 / (d + margin)^2,
    the normal approximation for a mean of paired differences (for 0/1 scores s^2 = p10 + p01 - d^2,
    the non-inferiority form of Connor's McNemar sample size), taking the observed difference d
    and variance s^2 as the truth. s^2 is at least 1/n (one discordant pair): no disagreement
    seen is no proof there is none. None when d is on the margin (no number of examples tells)."""
    gap = difference + margin
    if n <= 0 or abs(gap) < 1e-12:
        return None
    return math.ceil(_z_sum(alpha, power) ** 2 * max(variance, 1 / n) / gap ** 2)


def detectable_difference(variance: float, n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest true difference `n` paired examples detect at `power` and two-sided `alpha`:
    (z_{1-alpha/2} + z_power) s / sqrt(n), s^2 the per-pair variance, at least 1/n."""
    if n <= 0:
        return math.nan
    return _z_sum(alpha, power) * math.sqrt(max(variance, 1 / n) / n)
