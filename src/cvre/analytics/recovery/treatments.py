"""The governed behaviours of each deal, and the same deals as a rule would move them (feature level).

Mirrors simulation/truth.py::apply_policy on the feature pipeline's columns, from the one governance
definition (core/governance.py): responses capped at the SLA, deals without activity brought to the
minimum evidence cadence and every stage move evidenced, stalls capped at the review day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.core.governance import Governance, scenario_rules

RESPONSE, CADENCE, SILENT, STALL, UNEVIDENCED = (
    "lead_response_hours", "activities_per_30d", "no_activity", "max_days_in_stage", "moves_without_activity")
TREATMENTS = (RESPONSE, CADENCE, SILENT, STALL, UNEVIDENCED)
MONOTONE = {RESPONSE: -1, CADENCE: 1, SILENT: -1, STALL: -1, UNEVIDENCED: -1}


def treatments(deals: pd.DataFrame) -> pd.DataFrame:
    """Governed behaviours as numbers; a deal without a lead has no response time (NaN)."""
    has_lead = deals["has_lead"].fillna(False).astype(bool) if "has_lead" in deals else pd.Series(False, deals.index)
    col = lambda name: pd.to_numeric(deals[name], errors="coerce") if name in deals else pd.Series(  # noqa: E731
        np.nan, index=deals.index)
    total = col("activities_total").fillna(0)
    return pd.DataFrame({
        RESPONSE: col(RESPONSE).where(has_lead),
        CADENCE: col(CADENCE).fillna(0).where(total > 0, 0.0),
        SILENT: (total == 0).astype(float),
        STALL: col(STALL).fillna(col("days_in_stage")).fillna(0),
        UNEVIDENCED: col(UNEVIDENCED).fillna(0),
    }, index=deals.index)


def in_scope(deals: pd.DataFrame, rule: str, gov: Governance) -> np.ndarray:
    """Deals the rule governs: its tiers and business types (unknown values are governed)."""
    scope = getattr(gov.scope, rule)
    ok = np.ones(len(deals), dtype=bool)
    for column, allowed in (("tier", scope.tiers), ("business_type", scope.business_types)):
        if column in deals:
            values = deals[column].astype("string")
            ok &= (values.isna() | values.isin(allowed)).to_numpy(dtype=bool)
    return ok


def shifted(t: pd.DataFrame, deals: pd.DataFrame, scenario: str, gov: Governance) -> tuple[pd.DataFrame, np.ndarray]:
    """The behaviours as the scenario's rules would move them, and which deals it moved."""
    out = t.copy()
    for rule in scenario_rules(scenario):
        governed = in_scope(deals, rule, gov)
        if rule == "response_sla":
            late = governed & (out[RESPONSE] > gov.response_sla_hours).to_numpy()
            out.loc[late, RESPONSE] = gov.response_sla_hours
        elif rule == "activity_evidence":
            silent = governed & (out[SILENT] > 0).to_numpy()
            out.loc[silent, CADENCE] = np.maximum(out.loc[silent, CADENCE], gov.evidence_min_cadence)
            out.loc[silent, SILENT] = 0.0
            out.loc[governed, UNEVIDENCED] = 0.0
        else:
            out.loc[governed, STALL] = np.minimum(out.loc[governed, STALL], gov.stall_review_day)
    moved = ~np.isclose(out.to_numpy(dtype=float), t.to_numpy(dtype=float), equal_nan=True).all(axis=1)
    return out, moved
