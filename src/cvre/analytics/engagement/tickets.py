"""Service-desk tickets from an event log: time to resolve, volume per resolver, SLA share."""

from __future__ import annotations

import pandas as pd


def tickets_from_events(events: pd.DataFrame) -> pd.DataFrame:
    """One row per ticket, from its last event (the log's final word on resolver and SLA)."""
    order = ["ticket_id", "updated_at"] if "updated_at" in events else ["ticket_id"]
    last = events.sort_values(order, kind="stable").groupby("ticket_id", sort=False).tail(1)
    out = last.set_index("ticket_id")
    hours = (out["resolved_at"] - out["opened_at"]).dt.total_seconds() / 3600.0
    return out.assign(hours_to_resolve=hours).reset_index()


def resolver_summary(tickets: pd.DataFrame) -> pd.DataFrame:
    """Per resolver: tickets resolved, median and p90 hours to resolve, share within SLA."""
    resolved = tickets[tickets["resolved_by"].notna()]
    g = resolved.groupby("resolved_by")
    out = pd.DataFrame({"tickets": g.size(), "median_hours": g["hours_to_resolve"].median(),
                        "p90_hours": g["hours_to_resolve"].quantile(0.9)})
    if "made_sla" in resolved:
        out["sla_share"] = g["made_sla"].mean()
    return out.sort_values("tickets", ascending=False).reset_index().rename(columns={"resolved_by": "resolver"})


def ticket_headline(tickets: pd.DataFrame) -> dict:
    hours = tickets["hours_to_resolve"].dropna()
    out = {"tickets": int(len(tickets)), "resolved": int(hours.size),
           "median_hours_to_resolve": float(hours.median()) if hours.size else None,
           "p90_hours_to_resolve": float(hours.quantile(0.9)) if hours.size else None,
           "resolvers": int(tickets["resolved_by"].nunique())}
    if "made_sla" in tickets:
        out["sla_share"] = float(tickets["made_sla"].dropna().astype(bool).mean())
    return out
