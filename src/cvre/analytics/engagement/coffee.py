"""The "Morning Coffee" executive view: active contacts, yesterday's leads, live campaigns, team RAG."""

from __future__ import annotations

import pandas as pd

from cvre.analytics.engagement.config import CoffeeConfig, RagBand

RAG_ORDER = ("green", "amber", "red")


def rag(value: float | None, band: RagBand) -> str:
    """Green at or below `band.green`, amber up to `band.amber`, red above; grey when unmeasured."""
    if value is None or pd.isna(value):
        return "grey"
    return "green" if value <= band.green else "amber" if value <= band.amber else "red"


def active_contacts(as_of: pd.Timestamp, days: int, messages: pd.DataFrame | None, chats: pd.DataFrame | None,
                    support_messages: pd.DataFrame | None = None) -> int:
    """Contacts who read or replied to a campaign, opened a chat or wrote to support, in the last `days`."""
    since = as_of - pd.Timedelta(days=days)
    active: set = set()
    if messages is not None:  # a read or reply the export does not carry counts as none
        touched = pd.Series(False, index=messages.index)
        for column in ("read_at", "replied_at"):
            if column in messages:
                touched |= (messages[column] > since).fillna(False)
        active |= set(messages.loc[touched, "contact_id"].dropna())
    if chats is not None and "contact_id" in chats:
        active |= set(chats.loc[chats["created_at"] > since, "contact_id"].dropna())
    if chats is None and support_messages is not None:  # without chats, the customers' own messages
        wrote = support_messages["inbound"].fillna(False).astype(bool) & (support_messages["created_at"] > since)
        active |= set(support_messages.loc[wrote, "author_id"].dropna())
    return len(active)


def new_leads(leads: pd.DataFrame | None, as_of: pd.Timestamp) -> dict:
    """Leads created yesterday (the day before the snapshot) against the daily mean of the week before."""
    if leads is None or "created_at" not in leads:
        return {"yesterday": None, "previous_7_day_mean": None}
    day = as_of.normalize() - pd.Timedelta(days=1) if as_of == as_of.normalize() else as_of.normalize()
    created = leads["created_at"]
    yesterday = int(((created >= day) & (created < day + pd.Timedelta(days=1))).sum())
    week = int(((created >= day - pd.Timedelta(days=7)) & (created < day)).sum())
    return {"day": str(day.date()), "yesterday": yesterday, "previous_7_day_mean": week / 7}


def team_efficiency(responses: pd.DataFrame, queue: dict | None, as_of: pd.Timestamp, cfg: CoffeeConfig) -> dict:
    """Response time (median, p90) over the last `window_days` and the open queue, each RAG; overall = worst."""
    recent = responses[responses["asked_at"] > as_of - pd.Timedelta(days=cfg.window_days)]["minutes"]
    median = float(recent.median()) if len(recent) else None
    p90 = float(recent.quantile(0.9)) if len(recent) else None
    waiting = None if queue is None else queue["unanswered"]
    status = {"median_response_minutes": rag(median, cfg.median_response_minutes),
              "p90_response_minutes": rag(p90, cfg.p90_response_minutes),
              "open_queue_chats": rag(waiting, cfg.open_queue_chats)}
    measured = [s for s in status.values() if s != "grey"]
    overall = max(measured, key=RAG_ORDER.index) if measured else "grey"
    return {"window_days": cfg.window_days, "responses": int(len(recent)), "median_response_minutes": median,
            "p90_response_minutes": p90, "open_queue_chats": waiting, "rag": status, "overall": overall,
            "thresholds": cfg.model_dump()}
