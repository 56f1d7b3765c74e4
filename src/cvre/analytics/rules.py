"""Seed 000's rule engine, exactly: EV, behaviour flags, deduplicated leakage, scenario recovery, trust.

Pure functions over a deal table with the feature pipeline's columns; every number comes from config.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.analytics.config import LeakageConfig
from cvre.core.rules import BEHAVIOURS, BehaviourRules


def amount_stage(deals: pd.DataFrame) -> pd.Series:
    """Seed 000's stage for amounts: an open deal's current stage, a closed deal's outcome (won or lost)."""
    stage = deals["current_stage"] if "current_stage" in deals else pd.Series(None, index=deals.index, dtype=object)
    stage = stage.astype(object)
    if "won" in deals:
        won = deals["won"]
        stage = stage.where(won.isna(), np.where(won == 1, "won", "lost"))
    return stage.fillna("unknown")


def impute_amounts(deals: pd.DataFrame) -> pd.Series:
    """A missing amount takes the median amount of its stage (a closed deal's stage is its outcome), else the
    overall median; no amount at all is 0."""
    if "amount" not in deals:
        return pd.Series(0.0, index=deals.index)
    amount = deals["amount"].astype(float)
    by_stage = amount.groupby(amount_stage(deals)).transform("median")
    return amount.fillna(by_stage).fillna(amount.median()).fillna(0.0)


def behaviour_flags(deals: pd.DataFrame, rules: BehaviourRules) -> pd.DataFrame:
    """One boolean column per behaviour; a deal without a lead is never flagged for slow response, and a
    behaviour whose field is absent from the export is never flagged."""
    col = lambda name, default=0.0: deals[name] if name in deals else pd.Series(default, index=deals.index)  # noqa: E731
    has_lead = col("has_lead", False).fillna(False).astype(bool)
    return pd.DataFrame({
        "stalled": col("days_in_stage").fillna(0) > rules.stall_days,
        "no_activity": col("activities_total", np.nan) == 0,  # unknown (no activities table) is not "none"
        "slow_response": has_lead & (col("lead_response_hours").fillna(0) > rules.slow_response_hours),
        "stage_jump": col("moves_without_activity").fillna(0) > 0,
        "overdue_close_date": col("close_date_overdue", False).fillna(False).astype(bool),
        "missing_amount": col("amount_missing", False).fillna(False).astype(bool),
    }, index=deals.index)


def largest_haircut(flags: pd.DataFrame, weights: dict[str, float]) -> np.ndarray:
    """Per deal, the largest weight among its flagged behaviours (never the sum: no double counting)."""
    out = np.zeros(len(flags))
    for behaviour, weight in weights.items():
        if behaviour in flags:
            out = np.maximum(out, np.where(flags[behaviour].to_numpy(), weight, 0.0))
    return out


def deal_leakage(deals: pd.DataFrame, probability: np.ndarray, cfg: LeakageConfig) -> pd.DataFrame:
    """Per deal: amount used, EV, flags, leaked EV and recovery under each scenario."""
    out = pd.DataFrame(index=deals.index)
    out["amount_used"] = impute_amounts(deals)
    out["win_probability"] = probability
    out["ev"] = out["amount_used"] * out["win_probability"]
    flags = behaviour_flags(deals, cfg.rules)
    out = out.join(flags)
    haircuts = cfg.rules.haircuts
    out["leaked_ev"] = out["ev"] * largest_haircut(flags, haircuts)
    for name, scenario in cfg.scenarios.items():
        weights = {b: haircuts.get(b, 0.0) * rate for b, rate in scenario.recovery.items()}
        out[f"recovered_{name}"] = out["ev"] * largest_haircut(flags, weights)
    return out


def behaviour_summary(per_deal: pd.DataFrame, cfg: LeakageConfig) -> pd.DataFrame:
    rows = []
    for behaviour in BEHAVIOURS:
        flagged = per_deal[behaviour]
        haircut = cfg.rules.haircuts.get(behaviour, 0.0)
        ev = float(per_deal.loc[flagged, "ev"].sum())
        rows.append({"behaviour": behaviour, "deals_flagged": int(flagged.sum()), "ev_flagged": ev,
                     "haircut": haircut, "ev_at_risk": ev * haircut})
    return pd.DataFrame(rows)


def scenario_summary(per_deal: pd.DataFrame, cfg: LeakageConfig) -> pd.DataFrame:
    ev, leaked = per_deal["ev"].sum(), per_deal["leaked_ev"].sum()
    rows = []
    for name in cfg.scenarios:
        recovered = float(per_deal[f"recovered_{name}"].sum())
        rows.append({"scenario": name, "recovered_ev": recovered,
                     "share_of_leakage": recovered / leaked if leaked else 0.0,
                     "share_of_ev": recovered / ev if ev else 0.0,
                     "roi": recovered / cfg.governance_cost_eur})
    return pd.DataFrame(rows)


TRUST_SHARES = ("amounts_filled", "close_dates_filled", "deals_with_activity", "leads_answered_within_48h")


def trust_evidence(context: pd.DataFrame, rules: BehaviourRules) -> pd.DataFrame:
    """Per deal, 1/0 for each share of the trust score (NaN where the share does not apply or is unknown)."""
    out = pd.DataFrame(np.nan, index=context.index, columns=TRUST_SHARES)
    if "amount_missing" in context:
        out["amounts_filled"] = 1.0 - context["amount_missing"].astype(float)
    if "expected_close_missing" in context:
        out["close_dates_filled"] = 1.0 - context["expected_close_missing"].astype(float)
    if "activities_total" in context:
        out["deals_with_activity"] = (context["activities_total"].fillna(0) > 0).astype(float)
    if "has_lead" in context:
        answered = (context["lead_response_hours"] <= rules.slow_response_hours).astype(float)
        out["leads_answered_within_48h"] = answered.where(context["has_lead"].fillna(False).astype(bool))
    return out


def trust_score(deals: pd.DataFrame, rules: BehaviourRules) -> dict[str, float]:
    """Mean of four shares: amounts filled, close dates filled, deals with activity, leads answered in 48 h."""
    shares = {k: float(v) for k, v in trust_evidence(deals, rules).mean().items()}
    known = [v for v in shares.values() if not np.isnan(v)]
    return {**shares, "trust_score": float(np.mean(known)) if known else float("nan")}


def headline(per_deal: pd.DataFrame, scenarios: pd.DataFrame, trust: dict, cfg: LeakageConfig) -> dict[str, float]:
    ev, leaked = float(per_deal["ev"].sum()), float(per_deal["leaked_ev"].sum())
    combined = scenarios.set_index("scenario")["recovered_ev"].get("combined", scenarios["recovered_ev"].max())
    return {"deals": len(per_deal), "ev": ev, "leaked_ev": leaked, "leaked_share": leaked / ev if ev else 0.0,
            "recoverable_ev": float(combined), "recoverable_share_of_leakage": combined / leaked if leaked else 0.0,
            "governance_roi": float(combined) / cfg.governance_cost_eur, "trust_score": trust["trust_score"]}


def segment_summary(per_deal: pd.DataFrame, deals: pd.DataFrame, segment: str) -> pd.DataFrame:
    key = deals[segment] if segment in deals else pd.Series("unknown", index=deals.index)
    frame = per_deal[["ev", "leaked_ev", "recovered_combined"]].assign(segment=key.fillna("unknown").astype(str))
    out = frame.groupby("segment").agg(deals=("ev", "size"), ev=("ev", "sum"), leaked_ev=("leaked_ev", "sum"),
                                       recoverable_ev=("recovered_combined", "sum")).reset_index()
    out.insert(0, "slicer", segment)
    out["leaked_share"] = out["leaked_ev"] / out["ev"].where(out["ev"] > 0)
    return out.sort_values("leaked_ev", ascending=False)
