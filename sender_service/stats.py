"""Closed-form statistics for two booking rates: Wilson intervals, Newcombe's interval for
their difference, and the sample size to detect a difference. Standard library only: the
normal quantiles come from `statistics.NormalDist`."""

from __future__ import annotations

import math
from statistics import NormalDist

Z95 = NormalDist().inv_cdf(0.975)


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for successes/trials; None without trials."""
    if trials <= 0:
        return None
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    denominator = 1 + z * z / trials
    return (centre - spread) / denominator, (centre + spread) / denominator


def difference_interval(
    k1: int, n1: int, k2: int, n2: int, z: float = Z95
) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval for p1 - p2 (method 10 of Newcombe 1998), built from
    the two Wilson intervals; None when either arm has no trials."""
    first, second = wilson_interval(k1, n1, z), wilson_interval(k2, n2, z)
    if first is None or second is None:
        return None
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = first, second
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high


def sample_size_per_arm(
    p1: float, p2: float, *, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """Trials per arm for a two-sided test of p1 = p2 to detect this difference (equal arms,
    normal approximation without continuity correction); None when p1 == p2."""
    if p1 == p2:
        return None
    z_alpha = NormalDist().inv_cdf(1 - alpha / 2)
    z_beta = NormalDist().inv_cdf(power)
    mean = (p1 + p2) / 2
    numerator = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_beta * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    return math.ceil(numerator**2 / (p1 - p2) ** 2)
