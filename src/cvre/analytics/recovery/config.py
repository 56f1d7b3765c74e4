"""Typed configuration of the causal recovery estimator (the `recovery:` block of configs/leakage.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cvre.core.config import StrictModel


class Booster(StrictModel):
    """A LightGBM nuisance model's size; small on purpose (cross-fitted, refitted per fold)."""

    n_estimators: int = Field(200, ge=1, le=100_000)
    learning_rate: float = Field(0.05, gt=0, le=1)
    num_leaves: int = Field(15, ge=2, le=4096)
    min_child_samples: int = Field(40, ge=1, le=1_000_000)


class RecoveryConfig(StrictModel):
    enabled: bool = Field(True, description="estimate each scenario causally (needs closed deals with outcomes)")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    folds: int = Field(3, ge=2, le=10, description="cross-fitting folds of the nuisance models")
    level: float = Field(0.95, gt=0.5, lt=1, description="confidence level of the intervals")
    n_jobs: int = Field(1, ge=1, le=256)
    monotone: bool = Field(True, description="win probability monotone in each governed behaviour")
    outcome_model: Literal["additive", "lightgbm"] = Field(
        "additive", description="the win model: logistic additive (splines per behaviour; see recovery/additive.py "
        "for why) or LightGBM (`outcome`)")
    outcome_knots: int = Field(12, ge=3, le=100, description="spline knots per behaviour in the additive win model")
    outcome_c: float = Field(1.0, gt=0, le=1e6, description="inverse L2 penalty of the additive win model")
    outcome: Booster = Booster()
    ratio: Booster = Booster(n_estimators=100, learning_rate=0.1, num_leaves=15, min_child_samples=40)
    transport: Booster = Booster(n_estimators=150, learning_rate=0.05, num_leaves=15, min_child_samples=30)
    ratio_bins: int = Field(4, ge=2, le=1000, description="quantile bins of each behaviour in the density-ratio model")
    max_ratio: float = Field(20.0, gt=1, le=1e6, description="density ratios above this are truncated (reported)")
    retrospective_days: int = Field(365, ge=1, le=36_500,
                                    description="the retrospective estimand's period: deals closed in the last N "
                                    "days before the snapshot")
    history_offsets_days: list[int] = Field(default=[120, 165, 210, 255, 300, 345, 390, 435], min_length=1,
                                            description="past snapshots (days before as_of) whose open deals, "
                                            "closed since, teach the prospective estimate")
    pool_correction: bool = Field(False, description="retrospective: the doubly robust correction learned from "
                                  "every closed deal, spread over the period's deals by amount (less variance)")
    min_closed_deals: int = Field(400, ge=10, le=10_000_000, description="below this many closed deals no causal "
                                  "estimate")
