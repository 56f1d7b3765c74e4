"""Which deals to attribute: all of them, or above `exact_max_deals` a seeded amount-proportional sample.

A deal's driver euros are proportional to its amount, so Poisson sampling with inclusion probability
pi proportional to the amount (capped at 1; the top leaking deals always in) keeps the variance of the
Horvitz-Thompson totals sum(y / pi) small. Their variance estimate is sum((1 - pi) / pi^2 * y^2).
"""

from __future__ import annotations

import numpy as np


def inclusion_probabilities(amount: np.ndarray, size: int, certain: np.ndarray) -> np.ndarray:
    """pi proportional to the amount with sum(pi) = size; `certain` rows get 1; no amount -> never (no euros)."""
    pi = np.zeros(len(amount))
    pi[certain] = 1.0
    free = pi < 1.0
    weight = np.where(free, np.clip(amount, 0.0, None), 0.0)
    for _ in range(50):  # re-spread the budget left by deals capped at 1 until none is above 1
        budget = size - pi[~free].sum()
        if budget <= 0 or weight[free].sum() <= 0:
            break
        pi[free] = weight[free] * budget / weight[free].sum()
        over = free & (pi >= 1.0)
        if not over.any():
            break
        pi[over], free = 1.0, free & ~over
    return np.clip(pi, 0.0, 1.0)


def attribution_plan(amount: np.ndarray, shortfall: np.ndarray, exact_max_deals: int | None, sample_deals: int,
                     top_deals: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(row positions to attribute, their Horvitz-Thompson weights 1/pi); every deal with weight 1 when small."""
    n = len(amount)
    if exact_max_deals is None or n <= exact_max_deals:
        return np.arange(n), np.ones(n)
    certain = np.argsort(-shortfall, kind="stable")[:top_deals]
    pi = inclusion_probabilities(np.asarray(amount, dtype=float), sample_deals, certain)
    chosen = np.flatnonzero(np.random.default_rng(seed).random(n) < pi)
    return chosen, 1.0 / pi[chosen]


def total_and_se(values: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Horvitz-Thompson totals of the columns of `values` and their standard errors (0 when weights are 1)."""
    values = np.asarray(values, dtype=float)
    w = np.asarray(weight, dtype=float).reshape(-1, *([1] * (values.ndim - 1)))
    return (w * values).sum(axis=0), np.sqrt(((w * w - w) * values * values).sum(axis=0))
