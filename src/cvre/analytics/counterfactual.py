"""Model-based recovery: change the governed behaviour features as each rule would, re-score, sum the EV gained."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.analytics.config import LeakageConfig
from cvre.core.governance import Governance

GOVERNS = {"response_sla": ("slow_response",), "activity_evidence": ("no_activity", "stage_jump"),
           "stall_review": ("stalled",)}
TOUCHED = ("has_lead", "lead_response_hours", "moves_without_activity", "activities_total", "age_days", "no_activity",
           "days_in_stage", "max_days_in_stage", "logged_share", "days_since_last_activity", "longest_gap_days")


def _respond_within_sla(f: pd.DataFrame, sla_hours: float) -> pd.DataFrame:
    late = f["has_lead"].fillna(False).astype(bool) & (f["lead_response_hours"] > sla_hours)
    f.loc[late, "lead_response_hours"] = sla_hours
    f.loc[late, ["slow_lead_response", "lead_unanswered"]] = False
    return f


def _add_minimal_evidence(f: pd.DataFrame) -> pd.DataFrame:
    """One logged activity per unevidenced move, and at least one for a deal with none."""
    added = f["moves_without_activity"].fillna(0) + (f["activities_total"].fillna(0) == 0)
    f["activities_total"] = f["activities_total"].fillna(0) + added
    f["activities_per_30d"] = f["activities_total"] / np.maximum(f["age_days"], 1.0) * 30.0
    silent = f["no_activity"].fillna(False).astype(bool)
    f.loc[silent, "logged_share"] = 1.0
    f.loc[silent, "days_since_last_activity"] = f.loc[silent, "days_in_stage"]
    f.loc[silent, "longest_gap_days"] = f.loc[silent, "max_days_in_stage"]
    f["no_activity"] = False
    f["moves_without_activity"] = 0.0
    return f


def _review_stalls(f: pd.DataFrame, review_day: float) -> pd.DataFrame:
    f["days_in_stage"] = f["days_in_stage"].clip(upper=review_day)
    f["max_days_in_stage"] = f["max_days_in_stage"].clip(upper=review_day)
    if "stalled" in f:
        f["stalled"] = False
    return f


def governed_features(features: pd.DataFrame, scenario: str, sla_hours: float = 48.0,
                      review_day: float = 25.0) -> pd.DataFrame:
    """The deals as they would look had the scenario's rules been enforced (features an export lacks: missing)."""
    f = features.reindex(columns=list(dict.fromkeys([*features.columns, *TOUCHED])))
    parts = ("response_sla", "activity_evidence", "stall_review") if scenario == "combined" else (scenario,)
    if "response_sla" in parts and "lead_response_hours" in f:
        f = _respond_within_sla(f, sla_hours)
    if "activity_evidence" in parts and "activities_total" in f:
        f = _add_minimal_evidence(f)
    if "stall_review" in parts and "days_in_stage" in f:
        f = _review_stalls(f, review_day)
    return f


def model_recovery(features: pd.DataFrame, amount: pd.Series, win_model, cfg: LeakageConfig,
                   gov: Governance | None = None) -> pd.DataFrame:
    """Per scenario: EV gained when the win model re-scores the governed deals (naive: no adjustment for why
    deals behave as they do, and the snapshot's behaviour taken as final). SLA and review day: `gov`."""
    gov = gov or Governance()
    base = win_model.predict(None, features)["probability"].to_numpy()
    rows = []
    for scenario in cfg.scenarios:
        if scenario not in (*GOVERNS, "combined"):
            continue
        changed = governed_features(features, scenario, gov.response_sla_hours, gov.stall_review_day)
        gained = amount.to_numpy() * (win_model.predict(None, changed)["probability"].to_numpy() - base)
        rows.append({"scenario": scenario, "model_recovered_ev": float(gained.sum())})
    return pd.DataFrame(rows)
