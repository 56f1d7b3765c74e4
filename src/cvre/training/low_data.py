"""Small data: how many labelled rows a full model needs, and the `low_data` model trained below that.

A low_data model has fixed, strongly regularised parameters (no tuning), Platt calibration, and the tag
`low_data=true` on its run and registered version. It becomes champion only where no full model is champion,
and any full model replaces it; the API and the CLI mark its answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cvre.training.config import LowDataConfig, TaskConfig
from cvre.training.data import NotEnoughData, TaskData

LOW_DATA_TAG = "low_data"
LABELS = {"win": ("won", "lost", "deals"), "churn": ("churned", "stayed", "clients"),
          "lead": ("converted", "not converted", "leads")}


@dataclass(frozen=True)
class DataVerdict:
    low_data: bool
    message: str  # what the user is told: counts, what a full model needs, what was done


def rows_needed(data: TaskData, task_cfg: TaskConfig, train_share: float) -> DataVerdict:
    """Full, low_data, or refused (NotEnoughData), with exact counts for the CLI."""
    y = data.y["train"]
    if data.task == "amount":
        if len(y) < task_cfg.min_rows:
            raise NotEnoughData(f"amount: {len(y)} training deals with an amount; a full model needs "
                                f"{task_cfg.min_rows} (training.amount.min_rows): {task_cfg.min_rows - len(y)} more")
        return DataVerdict(False, "")
    pos, neg = int((y == 1).sum()), int((y == 0).sum())
    if pos >= task_cfg.min_positive and neg >= task_cfg.min_negative:
        return DataVerdict(False, "")
    yes, no, rows = LABELS.get(data.task, ("positive", "negative", "rows"))
    more_pos, more_neg = max(0, task_cfg.min_positive - pos), max(0, task_cfg.min_negative - neg)
    share = pos / max(pos + neg, 1)
    # labelled rows in all (every split) at this mix and split that would put the minimum in the training split
    total = math.ceil(max(task_cfg.min_positive / max(share, 1e-9), task_cfg.min_negative / max(1 - share, 1e-9))
                      / train_share)
    message = (f"{data.task}: {pos} {yes} / {neg} {no} in the training split, below the minimum of "
               f"{task_cfg.min_positive} / {task_cfg.min_negative} a full model needs ({more_pos} more {yes}, "
               f"{more_neg} more {no}: "
               f"about {total:,} labelled {rows} in all at this mix and a {train_share:.0%} training split)")
    return DataVerdict(True, message)


def check_low_data(verdict: DataVerdict, data: TaskData, low: LowDataConfig) -> None:
    """Refuse when even a low_data model would be guesswork, or when low_data models are switched off."""
    if not verdict.low_data:
        return
    y = data.y["train"]
    pos, neg = int((y == 1).sum()), int((y == 0).sum())
    if not low.enabled:
        raise NotEnoughData(f"{verdict.message}; low_data models are off (training.low_data.enabled)")
    if pos < low.min_positive or neg < low.min_negative or len(set(data.y["valid"])) < 2:
        raise NotEnoughData(f"{verdict.message}; below {low.min_positive} / {low.min_negative} (or a validation "
                            "split with one class) not even a low_data model is trained")
