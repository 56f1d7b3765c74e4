"""The pandas contact engagement the Polars engine replaced (as of 4888089), kept as a test-only oracle."""

from __future__ import annotations

import pandas as pd

from cvre.features.campaigns import FUNNEL
from cvre.features.config import CampaignFeatureConfig


def _flags(messages: pd.DataFrame) -> pd.DataFrame:
    return messages.assign(sent=1.0, delivered=messages["delivered_at"].notna().astype(float),
                           read=messages["read_at"].notna().astype(float),
                           replied=messages["replied_at"].notna().astype(float))


def contact_engagement(messages: pd.DataFrame, snapshot: pd.Timestamp, cfg: CampaignFeatureConfig) -> pd.DataFrame:
    """Per contact: funnel counts and rates, recent replies, preferred read hour, high-intent flag."""
    m = _flags(messages)
    g = m.groupby("contact_id", observed=True)
    out = g[list(FUNNEL)].sum()
    out["delivery_rate"] = out["delivered"] / out["sent"]
    out["read_rate"] = out["read"] / out["delivered"].where(out["delivered"] > 0)
    out["reply_rate"] = out["replied"] / out["read"].where(out["read"] > 0)
    recent = m[m["replied_at"] > snapshot - pd.Timedelta(days=cfg.recent_days)]
    out["recent_replies"] = recent.groupby("contact_id", observed=True).size().reindex(out.index, fill_value=0)
    read_hours = m.loc[m["read_at"].notna()].assign(hour=lambda f: f["read_at"].dt.hour)
    preferred = read_hours.groupby(["contact_id", "hour"], observed=True).size().reset_index(name="n")
    preferred = preferred.sort_values(["contact_id", "n", "hour"], ascending=[True, False, True])
    out["preferred_hour"] = preferred.drop_duplicates("contact_id").set_index("contact_id")["hour"]
    out["high_intent"] = out["replied"] > cfg.high_intent_replies
    return out.reset_index()
