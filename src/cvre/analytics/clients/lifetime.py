"""CLV on the canonical transactions, and against the simulator's true expected spend on simulated worlds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.analytics.clients.clv import fit_bgnbd, fit_gamma_gamma, lifetime_values, purchase_summary
from cvre.analytics.clients.config import ClvConfig

# The simulator draws each purchase as spend x lognormal(0, 0.4) (simulation/clients.py): its mean factor.
SIM_SPEND_NOISE_MEAN = float(np.exp(0.4**2 / 2))


def customer_lifetime_values(tx: pd.DataFrame, as_of: pd.Timestamp, cfg: ClvConfig) -> tuple[pd.DataFrame, dict]:
    """Per customer: frequency/recency/T, expected purchases, probability alive and CLV with intervals."""
    summary = purchase_summary(tx, as_of, cfg.unit_days)
    bg, gg = fit_bgnbd(summary), fit_gamma_gamma(summary)
    horizon = cfg.horizon_days / cfg.unit_days
    steps = max(1, round(cfg.horizon_days / 30.4))
    monthly = (1 + cfg.annual_discount_rate) ** (1 / 12) - 1
    values = lifetime_values(summary, bg, gg, horizon, steps, monthly, cfg.draws, cfg.interval, cfg.seed)
    out = summary.join(values).reset_index()
    stuck = [n for f in (bg, gg) for n, v in zip(f.names, np.log(f.params), strict=True) if abs(v) > 11.5]
    fit = {"warnings": [f"CLV parameters {stuck} at their bound: the history shows almost no dropout or spread, "
                        "so probability alive stays near 1; judge the CLV with care"] if stuck else [],
           "bgnbd": bg.as_dict(), "gamma_gamma": gg.as_dict(), "bgnbd_loglik": bg.loglik,
           "customers": len(summary), "repeat_customers": int((summary["frequency"] > 0).sum()),
           "unit_days": cfg.unit_days, "horizon_days": cfg.horizon_days,
           "total_clv": float(out["clv"].sum()), "total_expected_purchases": float(out["expected_purchases"].sum())}
    return out, fit


def true_expected_spend(truth: pd.DataFrame, as_of_day: float, horizon_days: float) -> pd.Series:
    """The simulator's expected spend over the horizon per account: purchase rate x mean spend x expected
    remaining lifetime within the horizon (exponential churn), zero for accounts churned by the snapshot."""
    rate = truth["purchases_per_month"] / 30.0
    hazard = truth["monthly_hazard"] / 30.0
    alive = truth["churn_day"] > as_of_day
    life = (1 - np.exp(-hazard * horizon_days)) / hazard
    return (rate * truth["spend_per_purchase"] * SIM_SPEND_NOISE_MEAN * life).where(alive, 0.0).rename(
        "true_expected_spend")


def clv_against_truth(clv: pd.DataFrame, truth: pd.DataFrame, as_of_day: float, horizon_days: float) -> dict:
    """Total and per-customer error of CLV against the true expected spend (customers seen by the model)."""
    true = true_expected_spend(truth.set_index("account_id"), as_of_day, horizon_days)
    both = clv.set_index("account_id")[["clv", "clv_low", "clv_high"]].join(true, how="inner")
    err = both["clv"] - both["true_expected_spend"]
    total_true = float(both["true_expected_spend"].sum())
    return {"customers": len(both), "total_clv": float(both["clv"].sum()), "total_true": total_true,
            "total_error": float(err.sum() / total_true) if total_true else float("nan"),
            "mae": float(err.abs().mean()), "mean_true": float(both["true_expected_spend"].mean()),
            "spearman": float(both["clv"].corr(both["true_expected_spend"], method="spearman")),
            "interval_coverage": float(both["true_expected_spend"].between(both["clv_low"], both["clv_high"]).mean())}
