"""Client features at a snapshot (RFM, value, history, support, engagement) and the churn label, on Polars.

Tables come as pandas or Polars frames, raw or already cut to the snapshot: every function cuts what it reads
(rows dated after the snapshot dropped, later timestamps blanked, as `snapshot.table_as_of` does), so the batch
pipeline passes its raw tables once for all its monthly snapshots. Rows come back as a pandas table.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import polars as pl

from cvre.features.config import ClientFeatureConfig
from cvre.features.frames import as_polars, blank_after, days, instant, known_at

RFM_VALUES = ["recency_days", "frequency", "monetary"]  # what R, F and M scores rank
RFM_SEGMENTS = (  # (name, minimum R score, minimum F score), first match wins
    ("champions", 4, 4), ("loyal", 3, 4), ("potential_loyalists", 4, 2), ("new_customers", 4, 1),
    ("need_attention", 3, 2), ("at_risk", 1, 3), ("hibernating", 2, 1), ("lost", 1, 1),
)
COUNTS = ("deals_closed", "deals_won", "jobs", "placements", "net_profit", "chats_180d", "messages_received")
CONTEXT = ("industry", "tier", "region")
Tables = Mapping[str, pd.DataFrame | pl.DataFrame]


def score_quantiles(values: np.ndarray, bins: int) -> np.ndarray:
    """1..bins scores by rank (ties broken by order) so every bin is filled evenly; NaN stays unscored."""
    ranked = pd.Series(values).rank(method="first", pct=True).to_numpy()  # pandas' float steps, to the last bit
    with np.errstate(invalid="ignore"):
        return np.clip(np.ceil(ranked * bins), 1, bins)


def rfm_scores(values: pl.DataFrame, bins: int) -> pl.DataFrame:
    """R, F and M scores (1..bins, by rank among all rows of `values`), the RFM code and its segment."""
    scores = {name: score_quantiles(sign * values[col].to_numpy(), bins)
              for name, col, sign in (("r_score", "recency_days", -1.0), ("f_score", "frequency", 1.0),
                                      ("m_score", "monetary", 1.0))}
    r, f = pl.col("r_score"), pl.col("f_score")
    segment = pl.when(False).then(pl.lit(None, pl.String))
    for name, min_r, min_f in RFM_SEGMENTS:
        segment = segment.when((r >= min_r) & (f >= min_f)).then(pl.lit(name))
    return values.select("account_id").with_columns(
        pl.Series(name, v, nan_to_null=True).cast(pl.Int64) for name, v in scores.items()
    ).with_columns(rfm_score=pl.concat_str([r, f, pl.col("m_score")]), rfm_segment=segment.otherwise(pl.lit("lost")))


def placed_in(rows: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """`population` (R, F, M values by account) with `rows` in place of the same clients, new clients last."""
    new = rows.index.difference(population.index)
    index = population.index.append(new) if len(new) else population.index
    merged = population[RFM_VALUES].reindex(index)
    merged.loc[rows.index, RFM_VALUES] = rows[RFM_VALUES].to_numpy(dtype=float)
    return merged


def _purchases(tx: pl.DataFrame, snapshot: pd.Timestamp, cfg: ClientFeatureConfig) -> pl.DataFrame:
    at, recent = instant(snapshot), pl.col("occurred_at") > instant(snapshot - pd.Timedelta(days=cfg.lookback_days))
    g = (tx.filter((pl.col("occurred_at") <= at) & pl.col("account_id").is_not_null())
         .group_by("account_id")
         .agg(first=pl.col("occurred_at").min(), last=pl.col("occurred_at").max(), turnover=pl.col("amount").sum(),
              purchases_total=pl.len().cast(pl.Int64), frequency=recent.sum().cast(pl.Float64),
              monetary=pl.col("amount").filter(recent).sum().cast(pl.Float64))
         .with_columns(pl.col("account_id").cast(pl.String)).sort("account_id"))
    return g.select("account_id", "turnover", "purchases_total", recency_days=days(at - pl.col("last")),
                    tenure_days=days(at - pl.col("first")), frequency="frequency", monetary="monetary",
                    average_basket=pl.col("turnover") / pl.col("purchases_total"))


def client_features(tables: Tables, snapshot: pd.Timestamp, cfg: ClientFeatureConfig,
                    population: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per client with at least one purchase at or before `snapshot`, sorted by account.

    RFM scores rank the clients among themselves, or among `population` (R, F, M values indexed by
    account_id, e.g. the training snapshot's clients) when given: then a few clients score as they would
    within the whole population.
    """
    snapshot = pd.Timestamp(snapshot)
    t = {name: as_polars(frame) for name, frame in tables.items()
         if name in ("transactions", "opportunities", "jobs", "chats", "messages", "contacts", "accounts")}
    out = _purchases(t["transactions"], snapshot, cfg)
    if population is None:
        values = out.select("account_id", *RFM_VALUES)
    else:
        mine = out.select("account_id", *RFM_VALUES).to_pandas().set_index("account_id")
        values = as_polars(placed_in(mine, population).rename_axis("account_id").reset_index())
        values = values.with_columns(pl.col("account_id").cast(pl.String))
    out = out.join(rfm_scores(values, cfg.rfm_bins), on="account_id", how="left", maintain_order="left")
    for part in (_deal_history(t, snapshot), _back_office(t, snapshot), _support(t, snapshot),
                 _engagement(t, snapshot)):
        if part is not None:
            out = out.join(part, on="account_id", how="left", maintain_order="left")
    out = out.with_columns(pl.col(c).fill_null(0.0).cast(pl.Float64) for c in COUNTS if c in out.columns)
    if "repeat_business" in out.columns:
        out = out.with_columns(pl.col("repeat_business").fill_null(False))
    accounts = t.get("accounts")
    context = [c for c in CONTEXT if accounts is not None and c in accounts.columns]
    if context:
        first = known_at(accounts, "created_at", snapshot).unique("account_id", keep="first", maintain_order=True)
        first = first.select(pl.col("account_id").cast(pl.String), *context).filter(pl.col("account_id").is_not_null())
        out = out.join(first, on="account_id", how="left", maintain_order="left")
    return _as_pandas(out, snapshot, context)


def _as_pandas(out: pl.DataFrame, snapshot: pd.Timestamp, context: list[str]) -> pd.DataFrame:
    """The pandas table the pipeline writes: pandas' nullable integers for scores, strings for ids and labels."""
    frame = out.to_pandas()
    for col in ("r_score", "f_score", "m_score"):
        frame[col] = frame[col].astype("Int64")
    frame["account_id"] = frame["account_id"].astype("string")
    for col in context:
        frame[col] = frame[col].astype("string")
    if "deal_win_rate" in frame:
        frame["deal_win_rate"] = frame["deal_win_rate"].astype(float)
    frame.insert(1, "snapshot", snapshot)
    return frame


def churn_labels(tables: Tables, clients: pd.DataFrame, snapshot: pd.Timestamp, horizon_days: int) -> pd.Series:
    """1 when the client makes no purchase in (snapshot, snapshot + horizon]: strictly after it."""
    tx = as_polars(tables["transactions"])
    end = pd.Timestamp(snapshot) + pd.Timedelta(days=horizon_days)
    buyers = tx.filter((pl.col("occurred_at") > instant(snapshot)) & (pl.col("occurred_at") <= instant(end)))
    buyers = buyers["account_id"].cast(pl.String).drop_nulls().unique()
    ids = clients["account_id"]
    bought = (pl.Series(ids.astype("string").to_numpy(dtype=object, na_value=None), dtype=pl.String)
              .is_in(buyers.implode()).fill_null(False).to_numpy())  # matched in Polars, not a Python set
    return pd.Series(np.where(bought, 0.0, 1.0), index=ids.index, name=ids.name)


def _by_account(frame: pl.DataFrame, *aggs: pl.Expr, **named: pl.Expr) -> pl.DataFrame:
    """Per account (grouped on the ids as they are, categories included; the ids come back as strings)."""
    return (frame.filter(pl.col("account_id").is_not_null()).group_by("account_id").agg(*aggs, **named)
            .with_columns(pl.col("account_id").cast(pl.String)))


def account_keyed(tables: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The tables with account ids as Polars categories: the group-bys of many snapshots then key on integer
    codes, and each id is hashed once rather than once per snapshot."""
    return {name: frame.with_columns(pl.col("account_id").cast(pl.String).cast(pl.Categorical))
            if "account_id" in frame.columns else frame for name, frame in tables.items()}


def _deal_history(t: dict[str, pl.DataFrame], snapshot: pd.Timestamp) -> pl.DataFrame | None:
    opps = t.get("opportunities")
    if opps is None or not {"account_id", "closed_at", "outcome"} <= set(opps.columns):
        return None  # a deal history needs the account, the close date and the outcome
    closed = known_at(opps, "created_at", snapshot).filter(pl.col("closed_at") <= instant(snapshot))
    won = (pl.col("outcome").cast(pl.String) == "won").fill_null(False)
    out = _by_account(closed, deals_closed=pl.len().cast(pl.Float64), deals_won=won.sum().cast(pl.Float64))
    return out.with_columns(deal_win_rate=pl.col("deals_won") / pl.col("deals_closed"),
                            repeat_business=pl.col("deals_won") > 1)


def _back_office(t: dict[str, pl.DataFrame], snapshot: pd.Timestamp) -> pl.DataFrame | None:
    jobs = t.get("jobs")
    if jobs is None or "account_id" not in jobs.columns:
        return None
    aggs = [pl.len().cast(pl.Float64).alias("jobs")]
    if "placements" in jobs.columns:
        aggs.append(pl.col("placements").sum().cast(pl.Float64))
    if {"fee", "cost"} <= set(jobs.columns):
        aggs.append((pl.col("fee").fill_null(0) - pl.col("cost").fill_null(0)).sum().cast(pl.Float64)
                    .alias("net_profit"))
    return _by_account(jobs.filter(pl.col("opened_at") <= instant(snapshot)), *aggs)


def _support(t: dict[str, pl.DataFrame], snapshot: pd.Timestamp) -> pl.DataFrame | None:
    chats = t.get("chats")
    if chats is None or "account_id" not in chats.columns:
        return None
    c = blank_after(known_at(chats, "created_at", snapshot), ("first_response_at", "resolved_at"), snapshot)
    c = c.filter(pl.col("created_at") > instant(snapshot - pd.Timedelta(days=180)))
    aggs = [pl.len().cast(pl.Float64).alias("chats_180d")]
    if "first_response_at" in c.columns:
        aggs.append((days(pl.col("first_response_at") - pl.col("created_at")) * 1440.0).median()
                    .alias("chat_response_minutes"))
    if "resolved_at" in c.columns:
        aggs.append(pl.col("resolved_at").is_null().cast(pl.Float64).mean().alias("chat_unresolved_share"))
    return _by_account(c, *aggs)


def _engagement(t: dict[str, pl.DataFrame], snapshot: pd.Timestamp) -> pl.DataFrame | None:
    messages, contacts = t.get("messages"), t.get("contacts")
    if messages is None or ("account_id" not in messages.columns and
                            (contacts is None or "account_id" not in contacts.columns)):
        return None
    m = known_at(messages, "sent_at", snapshot)
    if "account_id" not in m.columns:
        m = _joined_account(m, known_at(contacts, "created_at", snapshot))
    m = blank_after(m, ("read_at", "replied_at"), snapshot)
    aggs = [pl.len().cast(pl.Float64).alias("messages_received")]
    for column, name in (("read_at", "message_read_rate"), ("replied_at", "message_reply_rate")):
        if column in m.columns:
            aggs.append(pl.col(column).is_not_null().cast(pl.Float64).mean().alias(name))
    return _by_account(m, *aggs)


def _joined_account(messages: pl.DataFrame, contacts: pl.DataFrame) -> pl.DataFrame:
    keys = contacts.select(pl.col("contact_id").cast(pl.String), pl.col("account_id").cast(pl.String))
    return messages.with_columns(pl.col("contact_id").cast(pl.String)).join(keys, on="contact_id", how="inner")


def with_account(messages: pd.DataFrame | pl.DataFrame, contacts: pd.DataFrame | pl.DataFrame) -> pl.DataFrame:
    """Messages with their contact's account (done once before the churn snapshots, not at each)."""
    messages, contacts = as_polars(messages), as_polars(contacts)
    return messages if "account_id" not in contacts.columns else _joined_account(messages, contacts)
