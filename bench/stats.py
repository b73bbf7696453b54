"""Confidence intervals and percentiles: pure functions over lists of numbers."""

from __future__ import annotations

import math
import random
from statistics import NormalDist


def wilson(successes: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion; (nan, nan) when n == 0."""
    if n == 0:
        return (math.nan, math.nan)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


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
    """Mean-score interval: Wilson when every score is 0 or 1, bootstrap otherwise; names the method."""
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
