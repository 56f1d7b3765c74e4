"""The pandas client features the Polars engine replaced (as of 4888089), kept as a test-only oracle.

Client features at a snapshot (RFM, value, history, support, engagement) and the churn label."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.features.clients import RFM_SEGMENTS, RFM_VALUES, placed_in
from cvre.features.config import ClientFeatureConfig
from cvre.features.timeline import days_between


def score_quantiles(values: pd.Series, bins: int, higher_is_better: bool = True) -> pd.Series:
    """1..bins scores by rank (ties broken by order) so every bin is filled evenly."""
    ranked = values.rank(method="first", ascending=higher_is_better, pct=True)
    return np.ceil(ranked * bins).clip(1, bins).astype("Int64")


def rfm_segment(r: pd.Series, f: pd.Series) -> pd.Series:
    out = pd.Series("lost", index=r.index, dtype=object)
    assigned = pd.Series(False, index=r.index)
    for name, min_r, min_f in RFM_SEGMENTS:
        hit = ~assigned & (r >= min_r) & (f >= min_f)
        out[hit] = name
        assigned |= hit
    return out


def _sum_by(frame: pd.DataFrame, key: str, col: str | None = None) -> pd.Series:
    grouped = frame.groupby(key, observed=True)
    return grouped.size() if col is None else grouped[col].sum()


def rfm_scores(values: pd.DataFrame, bins: int) -> pd.DataFrame:
    """R, F and M scores (1..bins, by rank among all rows of `values`), the RFM code and its segment."""
    out = pd.DataFrame(index=values.index)
    out["r_score"] = score_quantiles(-values["recency_days"], bins)
    out["f_score"] = score_quantiles(values["frequency"], bins)
    out["m_score"] = score_quantiles(values["monetary"], bins)
    out["rfm_score"] = out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    out["rfm_segment"] = rfm_segment(out["r_score"], out["f_score"])
    return out


def client_features(tables: dict[str, pd.DataFrame], snapshot: pd.Timestamp, cfg: ClientFeatureConfig,
                    population: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per client with at least one purchase at or before `snapshot` (tables already cut).

    RFM scores rank the clients among themselves, or among `population` (R, F, M values indexed by
    account_id, e.g. the training snapshot's clients) when given: then a few clients score as they would
    within the whole population.
    """
    tx = tables["transactions"]
    tx = tx[tx["occurred_at"] <= snapshot]
    recent = tx[tx["occurred_at"] > snapshot - pd.Timedelta(days=cfg.lookback_days)]
    g = tx.groupby("account_id", observed=True)
    out = pd.DataFrame({"first_purchase": g["occurred_at"].min(), "last_purchase": g["occurred_at"].max(),
                        "turnover": g["amount"].sum(), "purchases_total": g.size()})
    out["recency_days"] = days_between(snapshot, out["last_purchase"])
    out["tenure_days"] = days_between(snapshot, out["first_purchase"])
    out["frequency"] = _sum_by(recent, "account_id").reindex(out.index, fill_value=0).astype(float)
    out["monetary"] = _sum_by(recent, "account_id", "amount").reindex(out.index, fill_value=0.0)
    out["average_basket"] = out["turnover"] / out["purchases_total"]
    values = out[RFM_VALUES] if population is None else placed_in(out[RFM_VALUES], population)
    out = out.join(rfm_scores(values, cfg.rfm_bins))
    out = out.join(_deal_history(tables, snapshot)).join(_back_office(tables, snapshot))
    out = out.join(_support(tables, snapshot)).join(_engagement(tables, snapshot))
    counts = [c for c in ("deals_closed", "deals_won", "jobs", "placements", "net_profit", "chats_180d",
                          "messages_received") if c in out.columns]
    out[counts] = out[counts].fillna(0.0).astype(float)
    if "repeat_business" in out.columns:
        out["repeat_business"] = out["repeat_business"].astype("boolean").fillna(False).astype(bool)
    accounts = tables.get("accounts")
    context = [c for c in ("industry", "tier", "region") if accounts is not None and c in accounts.columns]
    if context:
        out = out.join(accounts.drop_duplicates("account_id").set_index("account_id")[context])
    out.insert(0, "snapshot", snapshot)
    return out.drop(columns=["first_purchase", "last_purchase"]).reset_index().rename(columns={"index": "account_id"})


def churn_labels(tables: dict[str, pd.DataFrame], clients: pd.DataFrame, snapshot: pd.Timestamp,
                 horizon_days: int) -> pd.Series:
    """1 when the client makes no purchase in (snapshot, snapshot + horizon]: strictly after it."""
    tx = tables["transactions"]
    window = tx[(tx["occurred_at"] > snapshot) & (tx["occurred_at"] <= snapshot + pd.Timedelta(days=horizon_days))]
    buyers = set(window["account_id"].astype(str))
    return (~clients["account_id"].astype(str).isin(buyers)).astype(float)


def _deal_history(tables, snapshot) -> pd.DataFrame:
    opps = tables.get("opportunities")
    if opps is None or not {"account_id", "closed_at", "outcome"} <= set(opps.columns):
        return pd.DataFrame()  # a deal history needs the account, the close date and the outcome
    closed = opps[opps["closed_at"].notna() & (opps["closed_at"] <= snapshot)]
    won = closed[closed["outcome"] == "won"]
    out = pd.DataFrame({"deals_closed": _sum_by(closed, "account_id"), "deals_won": _sum_by(won, "account_id")})
    out = out.fillna(0.0)
    out["deal_win_rate"] = out["deals_won"] / out["deals_closed"].where(out["deals_closed"] > 0)
    out["repeat_business"] = out["deals_won"] > 1
    return out


def _back_office(tables, snapshot) -> pd.DataFrame:
    jobs = tables.get("jobs")
    if jobs is None or "account_id" not in jobs.columns:
        return pd.DataFrame()
    done = jobs[jobs["opened_at"] <= snapshot]
    out = pd.DataFrame({"jobs": _sum_by(done, "account_id")})
    if "placements" in done.columns:
        out["placements"] = _sum_by(done, "account_id", "placements")
    if {"fee", "cost"} <= set(done.columns):
        profit = done.assign(net=done["fee"].fillna(0) - done["cost"].fillna(0))
        out["net_profit"] = _sum_by(profit, "account_id", "net")
    return out


def _support(tables, snapshot) -> pd.DataFrame:
    chats = tables.get("chats")
    if chats is None or "account_id" not in chats.columns:
        return pd.DataFrame()
    c = chats[chats["created_at"] > snapshot - pd.Timedelta(days=180)]
    g = c.groupby("account_id", observed=True)
    out = pd.DataFrame({"chats_180d": g.size()})
    if "first_response_at" in c.columns:
        minutes = pd.Series(days_between(c["first_response_at"], c["created_at"]) * 1440.0, index=c.index)
        out["chat_response_minutes"] = minutes.groupby(c["account_id"], observed=True).median()
    if "resolved_at" in c.columns:
        out["chat_unresolved_share"] = c["resolved_at"].isna().astype(float).groupby(c["account_id"],
                                                                                     observed=True).mean()
    return out


def _engagement(tables, snapshot) -> pd.DataFrame:
    messages, contacts = tables.get("messages"), tables.get("contacts")
    if messages is None or ("account_id" not in messages.columns and
                            (contacts is None or "account_id" not in contacts.columns)):
        return pd.DataFrame()
    m = messages if "account_id" in messages.columns else with_account(messages, contacts)
    g = m.groupby("account_id", observed=True)
    out = pd.DataFrame({"messages_received": g.size()})
    for column, name in (("read_at", "message_read_rate"), ("replied_at", "message_reply_rate")):
        if column in m.columns:
            out[name] = m[column].notna().astype(float).groupby(m["account_id"], observed=True).mean()
    return out


def with_account(messages: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """Messages with their contact's account (done once before the churn snapshots, not at each)."""
    if "account_id" not in contacts.columns:
        return messages
    return messages.merge(contacts[["contact_id", "account_id"]], on="contact_id", how="inner")
