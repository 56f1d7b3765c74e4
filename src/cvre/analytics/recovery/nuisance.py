"""Cross-fitted nuisances: the win model m(behaviour, context) (additive logistic by default, see
recovery/additive.py; LightGBM on request) and each scenario's density ratio (LightGBM).

The density ratio r(a, x) = g_shifted(a | x) / g(a | x) is estimated by classification (as the R package
lmtp does): observed rows against the same rows moved by the rule. Behaviours enter the ratio model
coarsened into quantile bins whose right edges include the rule's targets (SLA, review day, minimum
cadence), so a rule that moves many deals onto one value has a finite ratio on the bin that value closes.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from cvre.analytics.recovery.additive import AdditiveWinModel
from cvre.analytics.recovery.config import Booster, RecoveryConfig
from cvre.analytics.recovery.treatments import CADENCE, MONOTONE, RESPONSE, STALL, TREATMENTS
from cvre.core.governance import Governance

CATEGORICAL = ("tier", "business_type", "product", "lead_source", "industry")
NUMERIC = ("created_month", "owner_win_rate", "owner_prior_deals", "account_win_rate", "account_prior_deals",
           "list_price", "has_lead")


def category_levels(*frames: pd.DataFrame) -> dict[str, list[str]]:
    """Category levels seen in any of the frames, so every design codes a value the same way."""
    return {c: sorted(pd.concat([f[c] for f in frames if c in f]).dropna().astype(str).unique())
            for c in CATEGORICAL if any(c in f for f in frames)}


def context(deals: pd.DataFrame, amount: np.ndarray, levels: dict[str, list[str]]) -> pd.DataFrame:
    """The adjustment set: account, product, source, season, owner and account track records, amount."""
    cols = {c: pd.Categorical(deals[c].astype("string").astype(object), categories=levels[c]) for c in levels}
    for c in NUMERIC:
        if c in deals:
            cols[c] = pd.to_numeric(deals[c], errors="coerce").astype(float).to_numpy()
    cols["log_amount"] = np.log1p(np.maximum(amount, 0.0))
    return pd.DataFrame(cols, index=deals.index)


def expected_amounts(deals: pd.DataFrame, amount: np.ndarray, levels: dict[str, list[str]],
                     cfg: RecoveryConfig) -> np.ndarray:
    """Known amounts as given; a missing one is its mean given the deal's context (a LightGBM regression on the
    deals with an amount). The rules' stage median would value a closed deal by its outcome (won or lost), which
    the win model then reads back as a predictor, and a median undercounts the euros of a skewed amount."""
    known = deals["amount"].notna().to_numpy() if "amount" in deals else np.ones(len(deals), bool)
    if known.all() or known.sum() < cfg.min_closed_deals:
        return amount
    x = context(deals, np.zeros(len(deals)), levels).drop(columns="log_amount")
    model = _booster(lgb.LGBMRegressor, cfg.transport, cfg, cfg.seed + 200)
    model.fit(x[known], amount[known])
    return np.where(known, amount, np.maximum(model.predict(x), 0.0))


def _booster(kind, b: Booster, cfg: RecoveryConfig, seed: int, **extra):
    return kind(n_estimators=b.n_estimators, learning_rate=b.learning_rate, num_leaves=b.num_leaves,
                min_child_samples=b.min_child_samples, random_state=seed, n_jobs=cfg.n_jobs, verbose=-1,
                deterministic=True, force_col_wise=True, **extra)


def bin_edges(t: pd.DataFrame, gov: Governance, bins: int) -> dict[str, np.ndarray]:
    """Right-closed bin edges per continuous behaviour: quantiles, the nearest one moved onto the rule's target."""
    targets = {RESPONSE: gov.response_sla_hours, CADENCE: gov.evidence_min_cadence, STALL: gov.stall_review_day}
    out = {}
    for col, target in targets.items():
        values = t[col].dropna().to_numpy(dtype=float)
        qs = np.quantile(values, np.arange(1, bins) / bins) if len(values) else np.array([target])
        qs[np.argmin(np.abs(qs - target))] = target  # the target closes a bin of ordinary mass, not a sliver
        out[col] = np.unique(qs)
    return out


def coarsen(t: pd.DataFrame, edges: dict[str, np.ndarray]) -> pd.DataFrame:
    out = t.copy()
    for col, e in edges.items():
        codes = np.searchsorted(e, t[col].to_numpy(dtype=float), side="left").astype(float)
        out[col] = np.where(t[col].isna(), np.nan, codes)
    return out


@dataclass
class CrossFit:
    """Out-of-fold predictions for each row: m at the observed and at each scenario's moved behaviour, and the
    density ratio at the observed behaviour (truncated) and at the moved one (for the overlap report)."""

    m_observed: np.ndarray
    m_shifted: dict[str, np.ndarray]
    ratio: dict[str, np.ndarray]
    ratio_at_shift: dict[str, np.ndarray]
    truncated: dict[str, np.ndarray]


def crossfit(t: pd.DataFrame, x: pd.DataFrame, y: np.ndarray, moved: dict[str, pd.DataFrame],
             gov: Governance, cfg: RecoveryConfig) -> CrossFit:
    """Fit the nuisances on all folds but one and predict the one left out, for every fold."""
    n = len(t)
    edges = bin_edges(t, gov, cfg.ratio_bins)
    coarse = pd.concat([coarsen(t, edges).reset_index(drop=True), x.reset_index(drop=True)], axis=1)
    out = CrossFit(np.zeros(n), {s: np.zeros(n) for s in moved}, {s: np.ones(n) for s in moved},
                   {s: np.ones(n) for s in moved}, {s: np.zeros(n, bool) for s in moved})
    moved_coarse = {s: pd.concat([coarsen(m, edges).reset_index(drop=True), x.reset_index(drop=True)], axis=1)
                    for s, m in moved.items()}
    folds = KFold(cfg.folds, shuffle=True, random_state=cfg.seed).split(np.arange(n))
    for k, (train, test) in enumerate(folds):
        model = win_model(cfg, gov, cfg.seed + k).fit(t.iloc[train], x.iloc[train], y[train])
        out.m_observed[test] = model.predict(t.iloc[test], x.iloc[test])
        for s in moved:
            out.m_shifted[s][test] = model.predict(moved[s].iloc[test], x.iloc[test])
            stacked = pd.concat([coarse.iloc[train], moved_coarse[s].iloc[train]], ignore_index=True)
            label = np.r_[np.zeros(len(train)), np.ones(len(train))]
            clf = _booster(lgb.LGBMClassifier, cfg.ratio, cfg, cfg.seed + 100 + k)
            clf.fit(stacked, label)
            odds = _odds(clf.predict_proba(coarse.iloc[test])[:, 1])
            out.truncated[s][test] = odds > cfg.max_ratio
            out.ratio[s][test] = np.minimum(odds, cfg.max_ratio)
            out.ratio_at_shift[s][test] = _odds(clf.predict_proba(moved_coarse[s].iloc[test])[:, 1])
    return out


class BoostedWinModel:
    """The LightGBM win model (`recovery.outcome_model: lightgbm`), monotone in each behaviour."""

    def __init__(self, cfg: RecoveryConfig, gov: Governance, seed: int):
        self.cfg, self.gov, self.seed = cfg, gov, seed

    def fit(self, t: pd.DataFrame, x: pd.DataFrame, y: np.ndarray) -> BoostedWinModel:
        sign = int(self.cfg.monotone)
        monotone = [MONOTONE[c] * sign for c in TREATMENTS] + [-sign] + [0] * x.shape[1]
        self.model_ = _booster(lgb.LGBMClassifier, self.cfg.outcome, self.cfg, self.seed,
                               monotone_constraints=monotone).fit(_design(t, x, self.gov), y)
        return self

    def predict(self, t: pd.DataFrame, x: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(_design(t, x, self.gov))[:, 1]


def win_model(cfg: RecoveryConfig, gov: Governance, seed: int) -> AdditiveWinModel | BoostedWinModel:
    if cfg.outcome_model == "additive":
        return AdditiveWinModel(gov.response_sla_hours, cfg.outcome_knots, c=cfg.outcome_c)
    return BoostedWinModel(cfg, gov, seed)


def _design(t: pd.DataFrame, x: pd.DataFrame, gov: Governance) -> pd.DataFrame:
    """Behaviours, a flag for a response past the SLA (the rule's own threshold, where a penalty may jump),
    and the context."""
    over = (t[RESPONSE] > gov.response_sla_hours).astype(float).rename("response_over_sla")
    return pd.concat([t.reset_index(drop=True), over.reset_index(drop=True), x.reset_index(drop=True)], axis=1)


def _odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return p / (1.0 - p)
