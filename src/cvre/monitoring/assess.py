"""Assess one current batch against its reference: drift per column, score drift, quality, performance."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cvre.monitoring.config import MonitorConfig, QualityConfig
from cvre.monitoring.drift import column_kind, detect_drift, profile_reference
from cvre.monitoring.performance import performance
from cvre.monitoring.policy import Verdict, decide
from cvre.training.drift_reference import PREDICTION, Reference


class TooFewRows(ValueError):
    """A current batch too small for drift to mean anything."""


@dataclass
class Assessment:
    table: pd.DataFrame  # one row per tested column (features and the score)
    kinds: dict[str, str]
    drift_share: float
    drifted: list[str]
    prediction: dict
    quality: list[str]
    performance: dict
    verdict: Verdict


def reference_kinds(ref: Reference) -> dict[str, str]:
    """Column kinds from the reference: the model's categories are categories, bools flags, the rest numbers."""
    kinds = {c: "category" if c in ref.categories else column_kind(ref.scored[c]) for c in ref.features}
    return kinds | {PREDICTION: "numeric"}


def quality_issues(table: pd.DataFrame, cfg: QualityConfig) -> list[str]:
    issues = []
    for row in table.itertuples():
        if row.new_category_share > cfg.new_category_share:
            issues.append(f"{row.column}: {row.new_category_share:.1%} of rows have unseen categories "
                          f"{row.new_categories}")
        if row.out_of_range_share > cfg.out_of_range_share:
            issues.append(f"{row.column}: {row.out_of_range_share:.1%} of values outside the reference range")
        if row.missing_current - row.missing_reference > cfg.missing_increase:
            issues.append(f"{row.column}: missing share {row.missing_reference:.1%} -> {row.missing_current:.1%}")
    return issues


def assess(ref: Reference, scored: pd.DataFrame, labelled: pd.DataFrame | None, cfg: MonitorConfig,
           profiles: dict | None = None) -> Assessment:
    """Drift of every feature and of the score, quality issues, performance on new labels and the verdict.

    `profiles` (from `profile_reference`) can be passed in to reuse reference histograms across batches.
    """
    if len(scored) < cfg.drift.min_rows:
        raise TooFewRows(f"current batch has {len(scored)} rows, below drift.min_rows={cfg.drift.min_rows}: "
                         "wait for more scored rows or lower the minimum in configs/monitor.yaml")
    kinds = reference_kinds(ref)
    profiles = profiles or profile_reference(ref.scored, [*ref.features, PREDICTION], cfg.drift, kinds, cfg.seed)
    table = detect_drift(profiles, scored, cfg.drift)
    features = table[table["column"] != PREDICTION]
    drifted = features.loc[features["drifted"], "column"].tolist()
    share = len(drifted) / max(len(features), 1)
    pred = table[table["column"] == PREDICTION].iloc[0].to_dict() if PREDICTION in set(table["column"]) else {}
    perf = performance(ref.labelled, labelled, cfg.policy, cfg.drift)
    verdict = decide(share, bool(pred.get("drifted")), perf, cfg.policy)
    return Assessment(table, kinds, share, drifted, pred, quality_issues(features, cfg.quality), perf, verdict)
