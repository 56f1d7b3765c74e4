"""Seed 001's churn question: when clients leave (survival curves by tier), why (a Cox model), and the value of
loyal vs broken relationships."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight

from cvre.analytics.recruitment.answer import Answer, Chart, money
from cvre.analytics.recruitment.config import RecruitmentConfig
from cvre.analytics.recruitment.data import RecruitmentData
from cvre.analytics.recruitment.value import TIER_NAMES, client_tiers

COX_TERMS = ("log_average_basket", "fill_rate", "share_senior_jobs", "tier_A")


def client_lifetimes(d: RecruitmentData, cfg: RecruitmentConfig) -> pd.DataFrame:
    """Per client: days from the first job to the last (churned: no job for `churn_days`) or to the snapshot."""
    c = d.clients.copy()
    c["churned"] = (d.as_of - c["last_job"]).dt.days > cfg.churn_days
    end = c["last_job"].where(c["churned"], d.as_of)
    c["days"] = ((end - c["first_job"]).dt.days + 1).astype(float)
    c["client_tier"] = client_tiers(c, cfg.tiers)
    per = d.jobs.assign(senior=d.jobs["job_type"].isin(["sales_manager", "head_of_sales"]).astype(float)).groupby(
        "account_id").agg(fill_rate=("filled", "mean"), share_senior_jobs=("senior", "mean"))
    c = c.join(per, on="account_id")
    c["log_average_basket"] = np.log1p(c["average_basket"].clip(lower=0))
    c["tier_A"] = (c["tier"] == "A").astype(float) if "tier" in c else 0.0
    c["relationship"] = np.where(c["churned"], "broken", np.where(c["repeat"], "loyal", "new / single job"))
    return c


def churn(d: RecruitmentData, cfg: RecruitmentConfig) -> Answer:
    c = client_lifetimes(d, cfg)
    curves = []
    for tier in TIER_NAMES:
        part = c[c["client_tier"] == tier]
        if len(part) < 2:
            continue
        sf = SurvfuncRight(part["days"].to_numpy(), part["churned"].astype(int).to_numpy())
        half = stats.norm.ppf(0.5 + cfg.interval / 2) * np.nan_to_num(sf.surv_prob_se)  # pointwise (Greenwood)
        lo, hi = np.clip(sf.surv_prob - half, 0, 1), np.clip(sf.surv_prob + half, 0, 1)
        curves.append(pd.DataFrame({"client_tier": tier, "day": sf.surv_times, "survival": sf.surv_prob,
                                    "low": lo, "high": hi}))
    table = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(
        columns=["client_tier", "day", "survival", "low", "high"])
    terms = [t for t in COX_TERMS if c[t].notna().all() and c[t].std() > 0]
    notes = []
    if c["churned"].sum() >= 5 and terms:
        fit = PHReg(c["days"].to_numpy(), c[terms].to_numpy(float), status=c["churned"].astype(int).to_numpy()).fit()
        ci = fit.conf_int(1 - cfg.interval)
        notes.append("why they leave (Cox model, hazard ratio per unit): " + "; ".join(
            f"{t}: {np.exp(b):.2f} [{np.exp(ci[k, 0]):.2f}, {np.exp(ci[k, 1]):.2f}]"
            for k, (t, b) in enumerate(zip(terms, fit.params, strict=True))))
    years = (c["days"] / 365.25).clip(lower=0.25)
    value = c.assign(profit_per_year=c["net_profit"] / years).groupby("relationship").agg(
        clients=("account_id", "size"), net_profit=("net_profit", "mean"), profit_per_year=("profit_per_year", "mean"),
        jobs=("jobs", "mean")).reset_index()
    notes.append("lifetime value to date per client: " + "; ".join(
        f"{r.relationship}: {money(r.net_profit)} ({money(r.profit_per_year)} a year, {r.jobs:.1f} jobs)"
        for r in value.itertuples()))
    churned_days = c.loc[c["churned"], "days"]
    return Answer("churn", "Churn: when and why clients leave, loyal vs broken relationships",
                  "When do clients leave, why, and what is a loyal relationship worth against a broken one?",
                  {"Clients lost": f"{c['churned'].mean():.1%} (no job for {cfg.churn_days} days)",
                   "Median life of lost clients": f"{churned_days.median():.0f} days" if len(churned_days) else "n/a",
                   **{f"Net profit per client, {r.relationship}": money(r.net_profit) for r in value.itertuples()}},
                  table, Chart("line", "day", ["survival"], group="client_tier", y_format=".0%"), slicer="client_tier",
                  detail=c[[x for x in ("relationship", "account_id", "account_name", "client_tier", "jobs", "days",
                                        "net_profit", "churned") if x in c]], notes=notes)
