"""The prospective estimand: what a rule would add to today's open deals, from the snapshot on.

An open deal's behaviour is still unfolding (its stall grows, its cadence changes), so its effect is
learned from history: deals that were open at past snapshots and have closed since carry a full-life,
doubly robust effect score. A LightGBM regression of the per-euro plug-in effect on what was known at
their snapshot is applied to today's open deals; the mean doubly robust correction per euro of the
historical deals is added on top. The interval combines the historical deals' influence on the total
(the trees' leaves used as a smoothing kernel, clustered by owner) with the spread of effects among deals
that looked alike at the snapshot (the future still to happen).
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from cvre.analytics.recovery.config import RecoveryConfig
from cvre.analytics.recovery.mtp import clustered_variance
from cvre.analytics.recovery.nuisance import _booster, context
from cvre.analytics.recovery.treatments import treatments

SNAPSHOT = ("age_days", "days_in_stage", "stage_moves", "days_since_last_activity", "activities_30d",
            "activities_total", "logged_share")


def snapshot_design(deals: pd.DataFrame, amount: np.ndarray, levels: dict[str, list[str]]) -> pd.DataFrame:
    """What is known about an open deal at a snapshot: behaviour so far, stage, age, context."""
    cols = {c: pd.to_numeric(deals[c], errors="coerce").astype(float).to_numpy() for c in SNAPSHOT if c in deals}
    if "current_stage" in levels:
        cols["current_stage"] = pd.Categorical(deals["current_stage"].astype("string").astype(object),
                                               categories=levels["current_stage"])
    frame = pd.DataFrame(cols, index=deals.index)
    return pd.concat([treatments(deals), frame, context(deals, amount, {k: v for k, v in levels.items()
                                                                        if k != "current_stage"})], axis=1)


@dataclass
class Transported:
    per_deal: np.ndarray  # euros per open deal (full compliance)
    total: float
    estimation_var: float  # of the total, from the historical deals' influence, clustered by owner
    spread: float  # variance of a deal's per-euro effect around its prediction (the future still to happen)
    amount: np.ndarray  # today's open deals' amounts

    @property
    def variance(self) -> float:
        return self.estimation_var + self.spread * float((self.amount**2).sum())

    def segment_variance(self, rows: np.ndarray) -> float:
        """A segment's share of the estimation variance (its share of the amount, squared) plus its own future."""
        share = float(self.amount[rows].sum() / self.amount.sum()) if self.amount.sum() else 0.0
        return share**2 * self.estimation_var + self.spread * float((self.amount[rows] ** 2).sum())


def transport(hist: pd.DataFrame, hist_amount: np.ndarray, plugin: np.ndarray, dr: np.ndarray,
              owners: np.ndarray, now: pd.DataFrame, now_amount: np.ndarray, cfg: RecoveryConfig) -> Transported:
    """Per-euro effects learned on historical snapshot rows (plug-in and DR scores in euros), applied to `now`."""
    weight = np.maximum(hist_amount, 1e-9)
    per_euro = plugin / weight
    correction = float((dr - plugin).sum() / weight.sum())
    model = _booster(lgb.LGBMRegressor, cfg.transport, cfg, cfg.seed)
    model.fit(hist, per_euro, sample_weight=weight)
    tau_now, tau_hist = model.predict(now), model.predict(hist)
    per_deal = now_amount * (tau_now + correction)
    spread = float(np.average((per_euro - tau_hist) ** 2, weights=weight))
    # Influence of each historical row on the total: the trees' leaves as a kernel (how much of today's amount
    # shares its leaf, per unit of weight in the leaf), times its residual; plus its part of the correction.
    omega = leaf_kernel_weights(model.booster_, hist, weight, now, now_amount)
    scale = float(now_amount.sum() / weight.sum())
    influence = omega * (per_euro - tau_hist) + scale * ((dr - plugin) - correction * weight)
    return Transported(per_deal, float(per_deal.sum()), clustered_variance(influence, owners), spread, now_amount)


def leaf_kernel_weights(booster: lgb.Booster, hist: pd.DataFrame, weight: np.ndarray, now: pd.DataFrame,
                        now_amount: np.ndarray) -> np.ndarray:
    """Per historical row, d(total over today's deals) / d(its target) if each tree were a leaf-mean smoother."""
    leaves_hist = booster.predict(hist, pred_leaf=True).reshape(len(hist), -1)
    leaves_now = booster.predict(now, pred_leaf=True).reshape(len(now), -1)
    trees = leaves_hist.shape[1]
    omega = np.zeros(len(hist))
    for t in range(trees):
        size = int(max(leaves_hist[:, t].max(), leaves_now[:, t].max())) + 1
        mass = np.bincount(leaves_hist[:, t], weights=weight, minlength=size)
        target = np.bincount(leaves_now[:, t], weights=now_amount, minlength=size)
        omega += weight * target[leaves_hist[:, t]] / np.maximum(mass[leaves_hist[:, t]], 1e-12)
    return omega / trees
