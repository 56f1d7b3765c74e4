"""The KPI board: customers, active, revenue, average basket, repeat rate and churn rate, per period."""

from __future__ import annotations

import pandas as pd

PERIOD_CODES = {"day": "D", "month": "M", "quarter": "Q", "year": "Y"}
KPIS = ("customers", "active", "revenue", "average_basket", "repeat_rate", "churn_rate")


def period_of(times: pd.Series, period: str) -> pd.Series:
    return times.dt.to_period(PERIOD_CODES[period])


def _active_at(order_rows: pd.DataFrame, end: pd.Timestamp, active_days: int) -> set:
    recent = order_rows[(order_rows["occurred_at"] <= end)
                        & (order_rows["occurred_at"] > end - pd.Timedelta(days=active_days))]
    return set(recent["account_id"])


def kpi_trend(order_rows: pd.DataFrame, as_of: pd.Timestamp, period: str, active_days: int) -> pd.DataFrame:
    """One row per period up to `as_of` (the last may be partial: `complete` says so).

    customers: distinct buyers in the period; active: buyers within `active_days` at the period end;
    repeat_rate: share of the period's buyers who had bought before it; churn_rate: share of the customers
    active at the previous period end who are no longer active at this one.
    """
    o = order_rows[order_rows["occurred_at"] <= as_of].assign(period=lambda d: period_of(d["occurred_at"], period))
    first = o.groupby("account_id", observed=True)["occurred_at"].min()
    rows, previous = [], None
    for p, chunk in o.groupby("period", sort=True):
        start, end = p.start_time, min(p.end_time, as_of)
        buyers = set(chunk["account_id"])
        active = _active_at(o, end, active_days)
        returning = sum(first[b] < start for b in buyers)
        churned = len(previous - active) / len(previous) if previous else float("nan")
        rows.append({
            "period": str(p), "start": start, "end": end, "complete": p.end_time.normalize() <= as_of.normalize(),
            "customers": len(buyers), "active": len(active),
            "revenue": float(chunk["basket"].sum()), "orders": len(chunk),
            "average_basket": float(chunk["basket"].mean()), "repeat_rate": returning / len(buyers),
            "churn_rate": churned})
        previous = active
    return pd.DataFrame(rows)


def kpi_board(trend: pd.DataFrame) -> pd.DataFrame:
    """Each KPI in the last complete period, the period before, and the change between them."""
    done = trend[trend["complete"]]
    if done.empty:
        done = trend
    last = done.iloc[-1]
    before = done.iloc[-2] if len(done) > 1 else None
    rows = []
    for kpi in KPIS:
        prev = None if before is None else before[kpi]
        change = None if prev is None or pd.isna(prev) or prev == 0 else (last[kpi] - prev) / abs(prev)
        rows.append({"kpi": kpi, "period": last["period"], "value": float(last[kpi]),
                     "previous_period": None if before is None else before["period"],
                     "previous": None if prev is None else float(prev), "change": change})
    return pd.DataFrame(rows)
