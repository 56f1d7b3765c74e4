"""World time: float days since the world's start, turned into timestamps only at the edges."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd


def to_timestamps(start: date, days: np.ndarray) -> pd.Series:
    """Days since `start` (NaN allowed) -> datetime64[ns], rounded to the second."""
    offsets = pd.to_timedelta(np.round(np.asarray(days, dtype=float) * 86400.0), unit="s")
    return pd.Series(pd.Timestamp(start) + offsets)


def span_days(start: date, end: date) -> float:
    return float((pd.Timestamp(end) - pd.Timestamp(start)).days)


def month_of(start: date, days: np.ndarray) -> np.ndarray:
    """Calendar month (1..12) of each day offset."""
    return to_timestamps(start, days).dt.month.to_numpy()


def seasonal_days(rng: np.random.Generator, n: int, start: date, end_day: float, amplitude: float,
                  growth_per_year: float = 0.0) -> np.ndarray:
    """n creation days in [0, end_day) with monthly seasonality (peaks in Q4, dip in summer)."""
    months = pd.date_range(pd.Timestamp(start), pd.Timestamp(start) + pd.Timedelta(days=end_day), freq="MS")
    edges = np.append((months - pd.Timestamp(start)).days.to_numpy(dtype=float), end_day)
    edges = np.clip(edges, 0.0, end_day)
    if edges[0] > 0:
        edges = np.insert(edges, 0, 0.0)
    lengths = np.diff(edges)
    mids = edges[:-1] + lengths / 2
    season = 1 + amplitude * np.cos(2 * np.pi * (month_of(start, mids) - 11) / 12.0)
    weight = lengths * season * (1 + growth_per_year * mids / 365.0)
    bins = rng.choice(len(lengths), size=n, p=weight / weight.sum())
    return edges[bins] + rng.random(n) * lengths[bins]
