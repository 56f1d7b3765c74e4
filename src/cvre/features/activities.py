"""Activity features of each deal on Polars: cadence by type and window, logged share, last activity, longest gap.

The 20M-row activity table never becomes a pandas frame: it is joined to the deals, cut at each deal's
cutoff and aggregated per deal in Polars; only the per-deal results come back as numpy columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl

from cvre.core.schema import ACTIVITY_TYPES
from cvre.features.config import DealFeatureConfig
from cvre.features.frames import deal_rows
from cvre.features.timeline import days_between, seconds, sorted_by_group_time

DAYS_PER_SECOND = 1 / 86_400.0  # activity ages as the Polars engine computed them (x * 1/86400), to the last bit


def deal_activities(acts: pd.DataFrame | pl.DataFrame | None, cut: pd.DataFrame) -> pl.DataFrame:
    """Activities of the deals in `cut`, at or before each deal's cutoff: d (row of `cut`), t (seconds),
    type_code (position in ACTIVITY_TYPES, -1 unknown: counted in the totals only), logged and the deal's cutoff_s."""
    if acts is None:
        return pl.DataFrame(schema={"t": pl.Int64, "type_code": pl.Int8, "logged": pl.Boolean, "d": pl.Int64,
                                    "cutoff_s": pl.Int64})
    columns = set(acts.columns)
    type_code = (pl.col("activity_type").cast(pl.String)
                 .replace_strict(list(ACTIVITY_TYPES), list(range(len(ACTIVITY_TYPES))), default=-1,
                                 return_dtype=pl.Int8).fill_null(-1)
                 if "activity_type" in columns else pl.lit(-1, pl.Int8))
    rows = deal_rows(acts, cut, "occurred_at", type_code=type_code,
                     logged=pl.col("logged").fill_null(False) if "logged" in columns else pl.lit(True))
    return rows.select("t", "type_code", "logged", "d", "cutoff_s")


def activity_features(acts: pl.DataFrame, cut: pd.DataFrame, cfg: DealFeatureConfig) -> pd.DataFrame:
    """Per deal of `cut` (rows aligned): counts by type and window, totals, logged share, recency and longest gap.

    Counted with one `np.bincount` per window over (deal, type) slots; first, last and longest step between
    activities from the (deal, time) pairs sorted once as single integers.
    """
    n, types = len(cut), len(ACTIVITY_TYPES) + 1  # slot 0: an unknown type, counted in the totals only
    d, t = acts["d"].to_numpy(), acts["t"].to_numpy()
    age = (acts["cutoff_s"].to_numpy() - t).astype(float) * DAYS_PER_SECOND
    slot = d * types + (acts["type_code"].to_numpy().astype(np.int64) + 1)
    cols: dict[str, np.ndarray] = {}
    for window in cfg.activity_windows_days:
        by_type = np.bincount(slot[age < window], minlength=n * types).reshape(n, types).astype(float)
        cols |= {f"{name}s_{window}d": by_type[:, k + 1] for k, name in enumerate(ACTIVITY_TYPES)}
        cols[f"activities_{window}d"] = by_type.sum(axis=1)
    del age, slot  # a million deals have ~20M activities: each such array is ~150 MB
    total = np.bincount(d, minlength=n).astype(float)
    logged = np.bincount(d, weights=acts["logged"].to_numpy().astype(float), minlength=n)
    age_days = days_between(cut["cutoff"], cut["created_at"])
    cols["activities_total"] = total
    cols["activities_per_30d"] = total / np.maximum(age_days, 1.0) * 30.0
    cols["logged_share"] = np.where(total > 0, logged / np.maximum(total, 1), np.nan)
    dd, tt = sorted_by_group_time(d, t)
    first_row = np.r_[0, np.flatnonzero(dd[1:] != dd[:-1]) + 1][:len(dd)]
    rows = dd[first_row]  # the deals with activities
    del dd
    last_row = np.append(first_row[1:], len(tt))[:len(first_row)] - 1
    last_t = tt[last_row]
    step = np.empty_like(tt)  # step[i]: from activity i to the next
    np.subtract(tt[1:], tt[:-1], out=step[:-1])
    step[last_row] = -1  # no step from a deal's last activity into the next deal
    longest_step = np.maximum.reduceat(step, first_row) if len(first_row) else step
    cutoff_s = seconds(cut["cutoff"])
    since_last = np.full(n, np.nan)
    since_last[rows] = (cutoff_s[rows] - last_t).astype(float) * DAYS_PER_SECOND
    cols["days_since_last_activity"] = since_last
    first_gap = np.full(n, np.nan)  # from the deal's creation to its first activity
    first_gap[rows] = (tt[first_row] - seconds(cut["created_at"])[rows]) / 86_400.0
    longest_step_days = np.full(n, np.nan)
    longest_step_days[rows] = np.where(longest_step >= 0, longest_step.astype(float), np.nan) / 86_400.0
    longest = np.fmax(np.fmax(first_gap, longest_step_days), since_last)
    cols["longest_gap_days"] = np.where(total > 0, longest, age_days)
    cols["no_activity"] = total == 0
    return pd.DataFrame(cols)
