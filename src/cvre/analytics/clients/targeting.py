"""Campaign target lists: segment x churn risk x value, with the date to contact each customer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.analytics.clients.config import ClientsConfig, TargetList


def value_band(value: pd.Series, cuts: tuple[float, float]) -> pd.Series:
    """low / medium / high by the value's quantiles among customers."""
    pct = value.rank(pct=True, method="average")
    return pd.Series(np.where(pct > cuts[1], "high", np.where(pct > cuts[0], "medium", "low")), index=value.index)


def contact_by(rfm: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """When to reach out: at the customer's usual gap between orders after the last one, never before `as_of`.

    A customer with a single order gets the median gap of the repeat customers.
    """
    span = (rfm["last_purchase"] - rfm["first_purchase"]).dt.total_seconds() / 86400.0
    gap = span / (rfm["orders_total"] - 1).where(rfm["orders_total"] > 1)
    gap = gap.fillna(gap.median() if gap.notna().any() else 30.0)
    due = rfm["last_purchase"] + pd.to_timedelta(gap, unit="D")
    return due.where(due > as_of, as_of).dt.normalize()


def customer_targets(rfm: pd.DataFrame, clv: pd.DataFrame | None, as_of: pd.Timestamp,
                     cfg: ClientsConfig) -> pd.DataFrame:
    """Per customer: segment, value (CLV when fitted, else revenue), value band, churn risk, contact date."""
    out = rfm[["account_id", "segment", "r_score", "f_score", "m_score", "rfm_score", "recency_days", "frequency",
               "monetary", "revenue_total"]].copy()
    if clv is not None:
        out = out.merge(clv[["account_id", "clv", "clv_low", "clv_high", "p_alive"]], on="account_id", how="left")
        out["value"] = out["clv"].fillna(0.0)
        out["churn_risk"] = 1.0 - out["p_alive"]
    else:
        out["value"] = out["revenue_total"]
        out["churn_risk"] = np.nan
    out["value_band"] = value_band(out["value"], cfg.value_bands)
    out["contact_by"] = contact_by(rfm, as_of).to_numpy()
    return out


def target_list(customers: pd.DataFrame, spec: TargetList) -> pd.DataFrame:
    """The customers a campaign should reach, highest value first."""
    keep = customers["value_band"].isin(spec.value_bands)
    if spec.segments:
        keep &= customers["segment"].isin(spec.segments)
    risk = customers["churn_risk"]
    if spec.min_churn_risk > 0 or spec.max_churn_risk < 1:
        keep &= risk.between(spec.min_churn_risk, spec.max_churn_risk)
    out = customers[keep].sort_values("value", ascending=False)
    out = out.head(spec.limit) if spec.limit else out
    return out.assign(campaign=spec.name).reset_index(drop=True)


def target_summary(lists: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return pd.DataFrame([{"campaign": name, "customers": len(t), "value": float(t["value"].sum()),
                          "first_contact": t["contact_by"].min() if len(t) else pd.NaT,
                          "contact_now": int((t["contact_by"] == t["contact_by"].min()).sum()) if len(t) else 0}
                         for name, t in lists.items()])
