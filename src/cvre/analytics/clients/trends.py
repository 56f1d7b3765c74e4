"""Sales trends at day, month, quarter and year, overall and by segment and business category."""

from __future__ import annotations

import pandas as pd

from cvre.analytics.clients.kpis import period_of

UNKNOWN_CATEGORY = "not in export"


def with_context(tx: pd.DataFrame, rfm: pd.DataFrame) -> pd.DataFrame:
    """Transactions with their customer's segment and a business category (or 'not in export')."""
    category = (tx["business_category"].astype(object).fillna(UNKNOWN_CATEGORY) if "business_category" in tx
                else pd.Series(UNKNOWN_CATEGORY, index=tx.index))
    out = tx[["account_id", "occurred_at", "amount"]].assign(business_category=category.astype(str))
    return out.merge(rfm[["account_id", "segment"]], on="account_id", how="inner")


def sales_trend(tx: pd.DataFrame, period: str, by: list[str] | None = None) -> pd.DataFrame:
    """Revenue, transactions and distinct customers per period (and per `by` columns)."""
    keys = [period_of(tx["occurred_at"], period).astype(str).rename("period"), *(tx[c] for c in by or [])]
    g = tx.groupby(keys, observed=True)
    return pd.DataFrame({"revenue": g["amount"].sum(), "transactions": g.size(),
                         "customers": g["account_id"].nunique()}).reset_index()


def category_sales(tx: pd.DataFrame) -> pd.DataFrame:
    """Revenue, transactions, customers and revenue share per business category, largest first."""
    g = tx.groupby("business_category", observed=True)
    out = pd.DataFrame({"revenue": g["amount"].sum(), "transactions": g.size(),
                        "customers": g["account_id"].nunique()})
    out["revenue_share"] = out["revenue"] / out["revenue"].sum() if out["revenue"].sum() else 0.0
    return out.sort_values("revenue", ascending=False).reset_index()


def category_by_segment(tx: pd.DataFrame) -> pd.DataFrame:
    """Revenue per business category x segment (long form)."""
    return tx.groupby(["business_category", "segment"], observed=True)["amount"].sum().rename("revenue").reset_index()


def daily_sales(tx: pd.DataFrame) -> pd.DataFrame:
    """Revenue per customer, day, segment and category: what the page's slicers re-aggregate."""
    return (tx.assign(day=tx["occurred_at"].dt.normalize())
            .groupby(["account_id", "day", "segment", "business_category"], observed=True)["amount"].sum()
            .rename("revenue").reset_index())
