"""The best hour to send: a binomial model of reads across send hours, with its uncertainty.

Reads per delivered message are modelled per campaign as logit(p) = hour effect + template effect
(quasi-binomial: extra spread between campaigns widens the intervals, never narrows them). Draws from the estimates'
normal approximation give each hour's probability of being the best, not just the raw maximum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm

METHOD = "quasi-binomial GLM per campaign: logit(read rate) ~ hour + template; P(best) from draws of the estimates"


def campaign_hour_counts(funnel: pd.DataFrame, metric: str = "read") -> pd.DataFrame:
    """Per campaign: send hour, template, delivered and `metric` counts (from the campaign funnel)."""
    cols = ["campaign_id", "send_hour", "template_variant", "delivered", metric]
    out = funnel[cols].rename(columns={metric: "success"})
    out["template_variant"] = out["template_variant"].fillna("none").astype(str)
    return out[out["delivered"] > 0].reset_index(drop=True)


def best_send_hour(counts: pd.DataFrame, draws: int = 4000, seed: int = 42) -> pd.DataFrame:
    """Per send hour: campaigns, delivered, raw rate, modelled rate with a 95% interval and P(best)."""
    hours = np.sort(counts["send_hour"].unique())
    raw = counts.groupby("send_hour").agg(campaigns=("campaign_id", "nunique"), delivered=("delivered", "sum"),
                                          success=("success", "sum"))
    raw["raw_rate"] = raw["success"] / raw["delivered"]
    if len(hours) < 2:
        return raw.assign(model_rate=raw["raw_rate"], ci_low=np.nan, ci_high=np.nan, p_best=1.0).reset_index()
    x = pd.get_dummies(counts["send_hour"].astype(int), prefix="h", dtype=float).drop(columns=f"h_{hours[0]}")
    templates = pd.get_dummies(counts["template_variant"], prefix="t", dtype=float)
    x = pd.concat([x, templates.iloc[:, 1:]], axis=1)
    x.insert(0, "const", 1.0)
    y = np.column_stack([counts["success"], counts["delivered"] - counts["success"]]).astype(float)
    df_resid = len(x) - x.shape[1]
    model = sm.GLM(y, x, family=sm.families.Binomial())
    fit = model.fit()
    dispersion = max(1.0, fit.pearson_chi2 / df_resid) if df_resid > 0 else 1.0  # only ever wider than binomial
    fit = model.fit(scale=dispersion)
    rng = np.random.default_rng(seed)
    sample = rng.multivariate_normal(fit.params.to_numpy(), fit.cov_params().to_numpy(), size=draws,
                                     method="eigh")
    names = list(x.columns)
    mix = x.iloc[:, len(hours):].mean().to_numpy() if x.shape[1] > len(hours) else np.zeros(0)
    base = sample[:, 0] + (sample[:, len(hours):] @ mix if len(mix) else 0.0)
    hour_effect = np.column_stack([np.zeros(draws)] + [sample[:, names.index(f"h_{h}")] for h in hours[1:]])
    rates = 1.0 / (1.0 + np.exp(-(base[:, None] + hour_effect)))
    point = fit.params.to_numpy()
    point_effect = np.array([0.0] + [point[names.index(f"h_{h}")] for h in hours[1:]])
    point_base = point[0] + (point[len(hours):] @ mix if len(mix) else 0.0)
    best = np.bincount(rates.argmax(axis=1), minlength=len(hours)) / draws
    out = raw.reindex(hours)
    out["model_rate"] = 1.0 / (1.0 + np.exp(-(point_base + point_effect)))
    out["ci_low"], out["ci_high"] = np.quantile(rates, 0.025, axis=0), np.quantile(rates, 0.975, axis=0)
    out["p_best"] = best
    return out.reset_index()


def best_hour_summary(table: pd.DataFrame) -> dict:
    top = table.loc[table["model_rate"].idxmax()]
    return {"best_hour": int(top["send_hour"]), "p_best": float(top["p_best"]), "rate": float(top["model_rate"]),
            "ci_low": float(top["ci_low"]), "ci_high": float(top["ci_high"]), "method": METHOD}
