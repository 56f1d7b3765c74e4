"""The pandas/numpy deal-feature steps the Polars engine replaced (as of 4888089), kept as a test-only oracle.

Only what changed is here: mapping activities and stage events to deals (`index_of` over the ids, one
pass of numpy per table) and the activity aggregates; the stage arithmetic after the mapping did not change
and is shared (`cvre.features.deals.stage_table`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.core.schema import ACTIVITY_TYPES
from cvre.features.config import DealFeatureConfig
from cvre.features.deals import STAGE_ORDER, stage_table
from cvre.features.timeline import days_between, index_of, known_by_cutoff, per_group, seconds


def acts_for(acts: pd.DataFrame, cut: pd.DataFrame) -> pd.DataFrame:
    d = index_of(cut["opportunity_id"], acts["opportunity_id"])
    t = seconds(acts["occurred_at"])
    keep = known_by_cutoff(d, t, seconds(cut["cutoff"]))
    logged = acts["logged"].fillna(False).to_numpy(dtype=bool) if "logged" in acts else np.ones(len(acts), bool)
    type_code = (pd.Categorical(acts["activity_type"], categories=ACTIVITY_TYPES).codes if "activity_type" in acts
                 else np.full(len(acts), -1, dtype=np.int8))  # unknown types count in the totals only
    return pd.DataFrame({"d": d[keep], "t": t[keep], "type_code": type_code[keep], "logged": logged[keep]})


def stage_features(history: pd.DataFrame, cut: pd.DataFrame, logged_acts: pd.DataFrame) -> pd.DataFrame:
    d = index_of(cut["opportunity_id"], history["opportunity_id"])
    t = seconds(history["entered_at"])
    keep = known_by_cutoff(d, t, seconds(cut["cutoff"]))
    order = history["stage"].map(STAGE_ORDER).to_numpy(dtype=float)[keep]
    return stage_table(d[keep], t[keep], order, cut, logged_acts["d"].to_numpy(), logged_acts["t"].to_numpy())


def activity_features(acts: pd.DataFrame, cut: pd.DataFrame, cfg: DealFeatureConfig) -> pd.DataFrame:
    n = len(cut)
    d, t = acts["d"].to_numpy(), acts["t"].to_numpy()
    age = (seconds(cut["cutoff"])[d] - t) / 86_400.0
    type_code = acts["type_code"].to_numpy()
    cols: dict[str, np.ndarray] = {}
    for window in cfg.activity_windows_days:
        inside = age < window
        known = inside & (type_code >= 0)  # unknown activity types count in the total only
        counts = np.bincount(d[known] * len(ACTIVITY_TYPES) + type_code[known],
                             minlength=n * len(ACTIVITY_TYPES)).reshape(n, len(ACTIVITY_TYPES))
        for k, name in enumerate(ACTIVITY_TYPES):
            cols[f"{name}s_{window}d"] = counts[:, k].astype(float)
        cols[f"activities_{window}d"] = np.bincount(d[inside], minlength=n).astype(float)
    total = per_group(t, d, n, "count")
    cols["activities_total"] = total
    cols["activities_per_30d"] = total / np.maximum(days_between(cut["cutoff"], cut["created_at"]), 1.0) * 30.0
    cols["logged_share"] = np.where(total > 0, per_group(acts["logged"].to_numpy(dtype=float), d, n, "sum")
                                    / np.maximum(total, 1), np.nan)
    cols["days_since_last_activity"] = per_group(age, d, n, "min")
    order = np.lexsort((t, d))
    ds, ts = d[order], t[order]
    start = np.r_[True, ds[1:] != ds[:-1]]
    created_s = seconds(cut["created_at"])
    gap = np.where(start, ts - created_s[ds], np.r_[0, np.diff(ts)]) / 86_400.0
    longest = np.fmax(per_group(gap, ds, n, "max"), cols["days_since_last_activity"])
    age_days = days_between(cut["cutoff"], cut["created_at"])
    cols["longest_gap_days"] = np.where(total > 0, longest, age_days)
    cols["no_activity"] = total == 0
    return pd.DataFrame(cols)


def deal_activity_and_stage_columns(tables: dict[str, pd.DataFrame], deals: pd.DataFrame,
                                    cfg: DealFeatureConfig) -> pd.DataFrame:
    """The activity and stage columns of `deals` (rows of a deal table: id, cutoff, created_at) the old way."""
    cut = deals[["opportunity_id", "cutoff", "created_at"]].reset_index(drop=True)
    acts = acts_for(tables["activities"], cut)
    stages = stage_features(tables["stage_history"], cut, acts[acts["logged"]])
    return pd.concat([stages, activity_features(acts, cut, cfg)], axis=1)
