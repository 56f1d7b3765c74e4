"""RFM per customer: recency, frequency, monetary value, their 1..bins scores and the configured segment."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.analytics.clients.config import RfmConfig


def orders(tx: pd.DataFrame) -> pd.DataFrame:
    """One row per order: a customer's transactions at the same timestamp form one basket."""
    return (tx.groupby(["account_id", "occurred_at"], observed=True, sort=False)["amount"].sum()
            .reset_index().rename(columns={"amount": "basket"}))


def quantile_scores(values: pd.Series, bins: int) -> pd.Series:
    """1..bins by the share of the other customers strictly below; equal values share a score (higher, higher)."""
    below = (values.rank(method="min") - 1) / max(len(values) - 1, 1)
    return (np.floor(below * bins) + 1).clip(1, bins).astype(int)


def segment_of(r: pd.Series, f: pd.Series, cfg: RfmConfig) -> pd.Series:
    out = pd.Series(None, index=r.index, dtype=object)
    for seg in reversed(cfg.segments):  # first match wins: assign in reverse so earlier segments overwrite
        hit = r.between(*seg.r) & f.between(*seg.f)
        out[hit] = seg.name
    return out


def rfm_table(order_rows: pd.DataFrame, as_of: pd.Timestamp, cfg: RfmConfig) -> pd.DataFrame:
    """Per customer with an order at or before `as_of`: R/F/M values, scores, RFM code and segment."""
    o = order_rows[order_rows["occurred_at"] <= as_of]
    g = o.groupby("account_id", observed=True)
    out = pd.DataFrame({"first_purchase": g["occurred_at"].min(), "last_purchase": g["occurred_at"].max(),
                        "orders_total": g.size(), "revenue_total": g["basket"].sum()})
    window = o if cfg.lookback_days is None else o[o["occurred_at"] > as_of - pd.Timedelta(days=cfg.lookback_days)]
    w = window.groupby("account_id", observed=True)
    out["recency_days"] = (as_of - out["last_purchase"]).dt.total_seconds() / 86400.0
    out["frequency"] = w.size().reindex(out.index, fill_value=0).astype(float)
    out["monetary"] = w["basket"].sum().reindex(out.index, fill_value=0.0)
    out["average_basket"] = out["revenue_total"] / out["orders_total"]
    out["r_score"] = quantile_scores(-out["recency_days"], cfg.bins)
    out["f_score"] = quantile_scores(out["frequency"], cfg.bins)
    out["m_score"] = quantile_scores(out["monetary"], cfg.bins)
    out["rfm_score"] = out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    out["segment"] = segment_of(out["r_score"], out["f_score"], cfg)
    out.index.name = "account_id"
    return out.reset_index()


def segment_summary(rfm: pd.DataFrame, cfg: RfmConfig) -> pd.DataFrame:
    """Per configured segment: its rule, customers, revenue and shares, average R/F/M (empty segments kept)."""
    g = rfm.groupby("segment")
    stats = pd.DataFrame({"customers": g.size(), "revenue": g["revenue_total"].sum(),
                          "recency_days": g["recency_days"].mean(), "frequency": g["frequency"].mean(),
                          "monetary": g["monetary"].mean()})
    rows = pd.DataFrame([{"segment": s.name, "r_range": f"{s.r[0]}-{s.r[1]}", "f_range": f"{s.f[0]}-{s.f[1]}",
                          "action": s.action} for s in cfg.segments]).set_index("segment")
    out = rows.join(stats).fillna({"customers": 0, "revenue": 0.0})
    out["customers"] = out["customers"].astype(int)
    out["customer_share"] = out["customers"] / max(int(out["customers"].sum()), 1)
    total = out["revenue"].sum()
    out["revenue_share"] = out["revenue"] / total if total else 0.0
    return out.reset_index()


def score_ranges(rfm: pd.DataFrame) -> pd.DataFrame:
    """The value range behind each R, F and M score, as shown on the page."""
    rows = []
    for letter, col, unit in (("R", "recency_days", "days since last order"), ("F", "frequency", "orders"),
                              ("M", "monetary", "revenue")):
        g = rfm.groupby(f"{letter.lower()}_score")[col]
        for score, lo, hi, n in zip(g.min().index, g.min(), g.max(), g.size(), strict=True):
            rows.append({"score": f"{letter}{score}", "measure": unit, "from": lo, "to": hi, "customers": int(n)})
    return pd.DataFrame(rows)
