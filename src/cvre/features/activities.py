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
from cvre.features.timeline import days_between, seconds


def deal_activities(acts: pd.DataFrame | pl.DataFrame | None, cut: pd.DataFrame) -> pl.DataFrame:
    """Activities of the deals in `cut`, at or before each deal's cutoff: d (row of `cut`), t (seconds),
    type_code (position in ACTIVITY_TYPES, -1 unknown: counted in the totals only), logged and the deal's cutoff_s."""
    if acts is None:
        return pl.DataFrame(schema={"t": pl.Int64, "type_code": pl.Int8, "logged": pl.Boolean, "d": pl.Int64,
                                    "cutoff_s": pl.Int64})
    codes = pl.DataFrame({"activity_type": list(ACTIVITY_TYPES), "type_code": range(len(ACTIVITY_TYPES))},
                         schema={"activity_type": pl.String, "type_code": pl.Int8})
    columns = set(acts.columns)
    rows = deal_rows(acts, cut, "occurred_at",
                     activity_type=(pl.col("activity_type").cast(pl.String) if "activity_type" in columns
                                    else pl.lit(None, pl.String)),
                     logged=pl.col("logged").fill_null(False) if "logged" in columns else pl.lit(True))
    return (rows.join(codes, on="activity_type", how="left")
            .select("t", pl.col("type_code").fill_null(-1), "logged", "d", "cutoff_s"))


def activity_features(acts: pl.DataFrame, cut: pd.DataFrame, cfg: DealFeatureConfig) -> pd.DataFrame:
    """Per deal of `cut` (rows aligned): counts by type and window, totals, logged share, recency and longest gap."""
    n = len(cut)
    age = (pl.col("cutoff_s") - pl.col("t")).cast(pl.Float64) / 86_400.0
    flags: list[pl.Expr] = []  # per activity, then plain sums per deal (Polars' fast group-by path)
    for window in cfg.activity_windows_days:
        inside = pl.col("age") < window
        flags += [(inside & (pl.col("type_code") == k)).alias(f"{name}s_{window}d")
                  for k, name in enumerate(ACTIVITY_TYPES)]
        flags.append(inside.alias(f"activities_{window}d"))
    counts = [flag.meta.output_name() for flag in flags]
    same_deal = pl.col("d") == pl.col("d").shift(1)  # rows sorted by deal and time: the step from the previous one
    grouped = (acts.lazy().sort("d", "t").with_columns(age=age)
               .with_columns(*flags, step=pl.when(same_deal).then(pl.col("t") - pl.col("t").shift(1)))
               .group_by("d").agg(pl.col(counts).sum(), pl.len().alias("activities_total"), pl.col("logged").sum(),
                                  pl.col("age").min().alias("days_since_last_activity"),
                                  pl.col("t").min().alias("first_t"), pl.col("step").max().alias("longest_step_s"))
               .collect())
    rows = grouped["d"].to_numpy()

    def column(name: str, empty: float) -> np.ndarray:
        out = np.full(n, empty, dtype=float)
        out[rows] = grouped[name].cast(pl.Float64).to_numpy()
        return out

    cols = {name: column(name, 0.0) for name in counts}
    total = column("activities_total", 0.0)
    age_days = days_between(cut["cutoff"], cut["created_at"])
    cols["activities_total"] = total
    cols["activities_per_30d"] = total / np.maximum(age_days, 1.0) * 30.0
    cols["logged_share"] = np.where(total > 0, column("logged", 0.0) / np.maximum(total, 1), np.nan)
    cols["days_since_last_activity"] = column("days_since_last_activity", np.nan)
    first_gap = np.full(n, np.nan)  # from the deal's creation to its first activity
    first_gap[rows] = (grouped["first_t"].to_numpy() - seconds(cut["created_at"])[rows]) / 86_400.0
    longest = np.fmax(np.fmax(first_gap, column("longest_step_s", np.nan) / 86_400.0),
                      cols["days_since_last_activity"])
    cols["longest_gap_days"] = np.where(total > 0, longest, age_days)
    cols["no_activity"] = total == 0
    return pd.DataFrame(cols)
