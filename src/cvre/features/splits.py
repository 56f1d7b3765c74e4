"""Time-based train / valid / test splits: the past trains, the most recent closes test."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.features.config import SplitConfig

SPLITS = ("train", "valid", "test")


def split_by_time(times: pd.Series, cfg: SplitConfig) -> np.ndarray:
    """Label each row train/valid/test by the quantiles of its time (equal times stay together)."""
    t = pd.to_datetime(times)
    rank = t.rank(method="max", pct=True).to_numpy()
    return np.where(rank <= cfg.train, "train", np.where(rank <= cfg.train + cfg.valid, "valid", "test"))
