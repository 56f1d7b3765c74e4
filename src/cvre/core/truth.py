"""Closed forms of the simulated truth that evaluation reads back (the simulator and the feature
pipeline's truth tables share them, so features never import the simulator)."""

from __future__ import annotations

import numpy as np


def true_no_purchase_probability(
    purchases_per_month: np.ndarray,
    monthly_hazard: np.ndarray,
    churn_day: np.ndarray,
    snapshot_day: float,
    horizon_days: float,
) -> np.ndarray:
    """P(no purchase in (snapshot, snapshot + horizon]) given the world: the churn label's truth.

    Purchases and churn are competing Poisson processes; a client already churned never buys again.
    """
    rate = purchases_per_month / 30.0
    hazard = monthly_hazard / 30.0
    total = rate + hazard
    survive = np.exp(-total * horizon_days)
    alive = hazard / total * (1.0 - survive) + survive
    return np.where(churn_day <= snapshot_day, 1.0, alive)
