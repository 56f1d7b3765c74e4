"""Seed 000's rule engine over a deal table: EV, flags, deduplicated leakage, scenario recovery, trust.

The flags, amounts and leaked euros are `core.rules`' (the API uses the same); every number comes from config.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.analytics.config import LeakageConfig
from cvre.core.rules import (
    BEHAVIOURS,
    BehaviourRules,
    amount_stages,
    largest_haircut,
    leaked_ev,
    stage_medians,
    valuation,
)
from cvre.core.rules import behaviour_flags as core_flags


def amount_stage(deals: pd.DataFrame) -> pd.Series:
    """Seed 000's stage for amounts (`core.rules.amount_stages`) as a Series."""
    stages = amount_stages(deals.get("current_stage"), deals.get("won"), len(deals))
    return pd.Series(stages, index=deals.index)


def impute_amounts(deals: pd.DataFrame, medians: dict[str, float] | None = None) -> pd.Series:
    """A missing amount takes the median amount of its stage (a closed deal's stage is its outcome), else the
    overall median, else (no amount known at all) the product's list price; else 0 (`core.rules.valuation`).
    `medians`: the model's (its feature spec), else those of `deals`."""
    stages = amount_stage(deals).tolist()
    amount = deals.get("amount")
    medians = (stage_medians(amount, stages) if amount is not None else {}) if medians is None else medians
    return pd.Series(valuation(amount, stages, medians, deals.get("list_price"))[0], index=deals.index)


def behaviour_flags(deals: pd.DataFrame, rules: BehaviourRules) -> pd.DataFrame:
    """One boolean column per behaviour (`core.rules.behaviour_flags`, the API's definition too)."""
    return pd.DataFrame(core_flags(deals, len(deals), rules), index=deals.index)


def deal_leakage(deals: pd.DataFrame, probability: np.ndarray, cfg: LeakageConfig,
                 medians: dict[str, float] | None = None) -> pd.DataFrame:
    """Per deal: amount used, EV, flags, leaked EV and recovery under each scenario."""
    out = pd.DataFrame(index=deals.index)
    out["amount_used"] = impute_amounts(deals, medians)
    out["win_probability"] = probability
    out["ev"] = out["amount_used"] * out["win_probability"]
    flags = behaviour_flags(deals, cfg.rules)
    out = out.join(flags)
    out["leaked_ev"] = leaked_ev(out["ev"].to_numpy(), flags, cfg.rules)
    haircuts = cfg.rules.haircuts
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
