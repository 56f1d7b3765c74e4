"""The prospective estimand: what a rule would add to today's open deals, from the snapshot on.

An open deal's behaviour is still unfolding (its stall grows, its cadence changes), so its effect is
learned from history: deals that were open at past snapshots and have closed since carry a full-life,
doubly robust effect score. A LightGBM regression of the per-euro plug-in effect on what was known at
their snapshot is applied to today's open deals; the mean doubly robust correction per euro of the
historical deals is added on top. The interval combines an owner-clustered bootstrap of that transport
with the spread of effects among deals that looked alike at the snapshot (the future still to happen).
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from cvre.analytics.recovery.config import RecoveryConfig
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
    variance: float
    boot: np.ndarray  # (bootstrap, open deals) euros, for segment intervals
    spread: float  # variance of a deal's per-euro effect around its prediction (the future still to happen)

    def segment_variance(self, rows: np.ndarray, amount: np.ndarray) -> float:
        boot = float(self.boot[:, rows].sum(axis=1).var(ddof=1)) if len(self.boot) > 1 else 0.0
        return boot + self.spread * float((amount[rows] ** 2).sum())


def transport(hist: pd.DataFrame, hist_amount: np.ndarray, plugin: np.ndarray, dr: np.ndarray,
              owners: np.ndarray, now: pd.DataFrame, now_amount: np.ndarray, cfg: RecoveryConfig) -> Transported:
    """Per-euro effects learned on historical snapshot rows (plug-in and DR scores in euros), applied to `now`."""
    per_euro = plugin / np.maximum(hist_amount, 1e-9)
    correction = float((dr - plugin).sum() / hist_amount.sum()) if hist_amount.sum() else 0.0

    def fit_predict(rows: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        model = _booster(lgb.LGBMRegressor, cfg.transport, cfg, seed)
        model.fit(hist.iloc[rows], per_euro[rows], sample_weight=hist_amount[rows])
        return model.predict(now), model.predict(hist)

    tau_now, tau_hist = fit_predict(np.arange(len(hist)), cfg.seed)
    per_deal = now_amount * (tau_now + correction)
    resid = per_euro - tau_hist
    spread = float(np.average(resid**2, weights=hist_amount)) if hist_amount.sum() else 0.0
    future_var = spread * float((now_amount**2).sum())
    rng = np.random.default_rng(cfg.seed)
    groups = pd.Series(np.arange(len(hist))).groupby(pd.Series(owners).astype(str).to_numpy()).apply(np.asarray)
    boot = np.zeros((cfg.bootstrap, len(now)))
    for b in range(cfg.bootstrap):
        rows = np.concatenate(groups.iloc[rng.integers(0, len(groups), len(groups))].to_list())
        tau_b, _ = fit_predict(rows, cfg.seed + 1 + b)
        corr_b = float((dr[rows] - plugin[rows]).sum() / hist_amount[rows].sum())
        boot[b] = now_amount * (tau_b + corr_b)
    boot_var = float(boot.sum(axis=1).var(ddof=1)) if cfg.bootstrap > 1 else 0.0
    return Transported(per_deal, float(per_deal.sum()), boot_var + future_var, boot, spread)
