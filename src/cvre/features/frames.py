"""Polars helpers of the batch engine: pandas tables in, exact nanosecond times, day counts as pandas computes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow.parquet as pq

from cvre.core.io import table_path
from cvre.features.snapshot import EVENT_TIME, LATER_TIMES
from cvre.features.timeline import seconds

SECONDS_PER_DAY = 86_400.0
NAT_SECONDS = np.iinfo(np.int64).min  # what `timeline.seconds` makes of a missing time


def read_polars(root: Path, table: str, columns: list[str] | None = None) -> pl.DataFrame:
    """One Parquet table of a dataset folder straight into Polars, only the `columns` it has."""
    path = table_path(root, table)
    if columns is not None:
        present = set(pq.read_schema(path).names)
        columns = [c for c in columns if c in present]
    return pl.read_parquet(path, columns=columns)


def as_polars(frame: pd.DataFrame | pl.DataFrame) -> pl.DataFrame:
    """A pandas table as a Polars frame (strings and categories as strings, NaN as null); Polars frames as they are."""
    if isinstance(frame, pl.DataFrame):
        return frame
    out = pl.from_pandas(frame, nan_to_null=True)  # the index is left out (a reset_index would copy every column)
    cats = [name for name, dtype in out.schema.items() if dtype in (pl.Categorical, pl.Enum)]
    return out.with_columns(pl.col(cats).cast(pl.String)) if cats else out


def instant(ts: pd.Timestamp) -> pl.Expr:
    """A timestamp as a nanosecond literal (Python datetimes would round to microseconds)."""
    return pl.lit(int(pd.Timestamp(ts).value)).cast(pl.Datetime("ns"))


def days(delta: pl.Expr) -> pl.Expr:
    """A duration in days, computed as `timeline.days_between` does (nanoseconds / 1e9 / 86400)."""
    return delta.dt.total_nanoseconds() / 1e9 / SECONDS_PER_DAY


def known_at(frame: pl.DataFrame, time_col: str, snapshot: pd.Timestamp) -> pl.DataFrame:
    """Rows not dated after `snapshot` (undated rows stay, as `snapshot.table_as_of` keeps them)."""
    if time_col not in frame.columns:
        return frame
    return frame.filter(~(pl.col(time_col) > instant(snapshot)).fill_null(False))


def blank_after(frame: pl.DataFrame, columns: tuple[str, ...], snapshot: pd.Timestamp) -> pl.DataFrame:
    """Later timestamps (a response or a read after `snapshot`) blanked, as `snapshot.table_as_of` does."""
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    at = instant(snapshot)
    return frame.with_columns(pl.when(pl.col(c) > at).then(None).otherwise(pl.col(c)).alias(c) for c in present)


def polars_as_of(frame: pl.DataFrame, table: str, snapshot: pd.Timestamp) -> pl.DataFrame:
    """`snapshot.table_as_of` for a Polars table without a reopening rule (every table but opportunities)."""
    if table == "opportunities":
        raise ValueError("opportunities reopen at a snapshot: cut them with snapshot.table_as_of")
    return blank_after(known_at(frame, EVENT_TIME.get(table, ""), snapshot), LATER_TIMES.get(table, ()), snapshot)


def epoch_seconds(col: str) -> pl.Expr:
    """Whole seconds since the epoch, as `timeline.seconds` truncates them (missing -> NAT_SECONDS)."""
    return pl.col(col).cast(pl.Datetime("ns")).dt.epoch("ns").floordiv(10**9).fill_null(NAT_SECONDS)


def deal_rows(frame: pd.DataFrame | pl.DataFrame, cut: pd.DataFrame, time_col: str, **columns: pl.Expr
              ) -> pl.DataFrame:
    """Rows of `frame` (keyed by opportunity_id) of the deals in `cut`, at or before each deal's cutoff:
    d (row of `cut`), t (seconds), the deal's cutoff_s and `columns`, in the order of `frame`.

    A deal's rows usually come together (exports list them by deal): each run of equal ids is looked up once,
    not each of ~20M activities.
    """
    deals = pl.DataFrame({"opportunity_id": cut["opportunity_id"].astype("string").to_numpy(dtype=object),
                          "d": np.arange(len(cut), dtype=np.int64)}, schema_overrides={"opportunity_id": pl.String})
    cutoff_s = seconds(cut["cutoff"])
    source = as_polars(frame)
    runs = source.select(pl.col("opportunity_id").cast(pl.String)).with_columns(run=pl.col("opportunity_id").rle_id())
    heads = runs.filter(pl.col("run").diff().fill_null(1) != 0).drop("run")  # one row per run, in run order
    d_of_run = (heads.join(deals, on="opportunity_id", how="left", validate="m:1", maintain_order="left")["d"]
                .fill_null(-1).to_numpy())
    d = d_of_run[runs["run"].to_numpy()]
    rows = source.select(t=epoch_seconds(time_col), **columns)
    deal_cutoff = cutoff_s[np.maximum(d, 0)] if len(cutoff_s) else np.zeros(len(d), dtype=np.int64)
    known = (d >= 0) & (rows["t"].to_numpy() <= deal_cutoff)
    return rows.with_columns(d=pl.Series(d, dtype=pl.Int64), cutoff_s=pl.Series(deal_cutoff, dtype=pl.Int64)).filter(
        pl.Series(known))
