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
