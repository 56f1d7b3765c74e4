"""Campaign features: per-contact engagement, per-campaign funnel, A/B and send-hour comparisons."""

from __future__ import annotations

import pandas as pd
import polars as pl

from cvre.features.config import CampaignFeatureConfig
from cvre.features.frames import as_polars, instant

FUNNEL = ("sent", "delivered", "read", "replied")


def _flags(messages: pd.DataFrame) -> pd.DataFrame:
    return messages.assign(sent=1.0, delivered=messages["delivered_at"].notna().astype(float),
                           read=messages["read_at"].notna().astype(float),
                           replied=messages["replied_at"].notna().astype(float))


def contact_engagement(messages: pd.DataFrame | pl.DataFrame, snapshot: pd.Timestamp,
                       cfg: CampaignFeatureConfig) -> pd.DataFrame:
    """Per contact: funnel counts and rates, recent replies, preferred read hour, high-intent flag (on Polars)."""
    m = as_polars(messages).filter(pl.col("contact_id").is_not_null())
    m = m.with_columns(pl.col("contact_id").cast(pl.String))
    seen = {step: pl.col(f"{step}_at").is_not_null().sum().cast(pl.Float64).alias(step) for step in FUNNEL[1:]}
    recent = pl.col("replied_at") > instant(pd.Timestamp(snapshot) - pd.Timedelta(days=cfg.recent_days))
    out = (m.group_by("contact_id").agg(pl.len().cast(pl.Float64).alias("sent"), *seen.values(),
                                        recent_replies=recent.sum().cast(pl.Int64)).sort("contact_id"))
    hours = (m.filter(pl.col("read_at").is_not_null()).group_by("contact_id", hour=pl.col("read_at").dt.hour())
             .agg(n=pl.len()).sort(["contact_id", "n", "hour"], descending=[False, True, False])
             .unique("contact_id", keep="first", maintain_order=True)
             .select("contact_id", preferred_hour=pl.col("hour").cast(pl.Float64)))
    positive = lambda col: pl.when(pl.col(col) > 0).then(pl.col(col))  # noqa: E731 - a zero count leaves the rate NaN
    out = out.join(hours, on="contact_id", how="left", maintain_order="left").select(
        "contact_id", *FUNNEL, delivery_rate=pl.col("delivered") / pl.col("sent"),
        read_rate=pl.col("read") / positive("delivered"), reply_rate=pl.col("replied") / positive("read"),
        recent_replies="recent_replies", preferred_hour="preferred_hour",
        high_intent=pl.col("replied") > cfg.high_intent_replies)
    frame = out.to_pandas()
    ids = messages["contact_id"].dtype if isinstance(messages, pd.DataFrame) else "string"
    frame["contact_id"] = frame["contact_id"].astype(ids)
    return frame


def campaign_funnel(messages: pd.DataFrame, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Per campaign: sent -> delivered -> read -> replied counts and step rates, with variant and hour."""
    m = _flags(messages)
    out = m.groupby("campaign_id", observed=True)[list(FUNNEL)].sum()
    out["delivered_rate"] = out["delivered"] / out["sent"]
    out["read_rate"] = out["read"] / out["delivered"].where(out["delivered"] > 0)
    out["reply_rate"] = out["replied"] / out["read"].where(out["read"] > 0)
    meta = campaigns.set_index("campaign_id")[["campaign_name", "channel", "template_variant", "sent_at"]]
    out = out.join(meta)
    out["send_hour"] = out["sent_at"].dt.hour
    return out.reset_index()


def compare_by(funnel: pd.DataFrame, key: str) -> pd.DataFrame:
    """Funnel rates pooled by `key` (template_variant for A/B, send_hour for best time)."""
    pooled = funnel.groupby(key, observed=True)[list(FUNNEL)].sum()
    pooled["read_rate"] = pooled["read"] / pooled["delivered"].where(pooled["delivered"] > 0)
    pooled["reply_rate"] = pooled["replied"] / pooled["read"].where(pooled["read"] > 0)
    return pooled.reset_index()
