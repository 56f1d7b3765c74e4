"""Evidently's HTML report and workspace snapshot, computed on a seeded sample of each side.

Evidently computes in memory with a fixed cost per column, so it details the columns that matter
(the most drifted features and the score) on at most `report.sample_rows` rows per side, with the
same tests and thresholds as our own full-data drift engine. The sampling error is stated with it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from cvre.monitoring.config import DriftConfig, ReportConfig
from cvre.training.drift_reference import PREDICTION, sample_rows


def sampling_error(reference_rows: int, current_rows: int, bins: int) -> dict:
    """What a sample of this size can resolve: 95% half-width of a share, and PSI's no-drift noise floor."""
    n = min(reference_rows, current_rows)
    return {"reference_rows": reference_rows, "current_rows": current_rows,
            "share_error_95": round(1.96 * math.sqrt(0.25 / max(n, 1)), 4),
            "psi_noise_floor": round((bins - 1) * (1 / max(reference_rows, 1) + 1 / max(current_rows, 1)), 4)}


def _definition(frame: pd.DataFrame, kinds: dict[str, str]):
    from evidently import DataDefinition

    numeric = [c for c in frame.columns if kinds.get(c) == "numeric" or c == PREDICTION]
    return DataDefinition(numerical_columns=numeric, categorical_columns=[c for c in frame.columns
                                                                          if c not in numeric])


def _as_evidently(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """Flags and categories as strings, numbers as floats: one type per column on both sides."""
    out = frame.copy()
    for c in out.columns:
        if kinds.get(c) == "numeric" or c == PREDICTION:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
        else:
            out[c] = np.where(out[c].isna(), None, out[c].astype(str))  # Evidently cannot count pd.NA
    return out


def build_snapshot(reference: pd.DataFrame, current: pd.DataFrame, columns: list[str], kinds: dict[str, str],
                   drift: DriftConfig, report: ReportConfig, seed: int):
    """Evidently drift and data summary of `columns` on seeded samples; returns (snapshot, sampling error)."""
    from evidently import Dataset, Report
    from evidently.presets import DataDriftPreset, DataSummaryPreset

    # Evidently refuses a column empty on either side (a field this batch's export lacks); our own drift engine
    # still reports it as missing
    cols = [c for c in columns if c in reference.columns and c in current.columns
            and reference[c].notna().any() and current[c].notna().any()]
    ref = _as_evidently(sample_rows(reference[cols], report.sample_rows, seed), kinds)
    cur = _as_evidently(sample_rows(current[cols], report.sample_rows, seed + 1), kinds)
    definition = _definition(ref, kinds)
    metrics = [DataDriftPreset(columns=cols, num_method=drift.numeric_method, cat_method="jensenshannon",
                               num_threshold=drift.numeric_threshold, cat_threshold=drift.categorical_threshold),
               DataSummaryPreset(columns=cols)]
    snapshot = Report(metrics, include_tests=True).run(Dataset.from_pandas(cur, data_definition=definition),
                                                      Dataset.from_pandas(ref, data_definition=definition))
    return snapshot, sampling_error(len(ref), len(cur), drift.bins)


def evidently_flags(snapshot) -> dict[str, float]:
    """Evidently's drift score per column, read back from the snapshot (for agreement with ours)."""
    out = {}
    for m in snapshot.dict()["metrics"]:
        config = m.get("config", {})
        if config.get("type", "").endswith(":ValueDrift"):
            out[config["column"]] = float(m["value"])
    return out


def add_to_workspace(snapshot, report: ReportConfig, name: str) -> str:
    """Add the snapshot to the local Evidently workspace (history for `evidently ui`); returns its id."""
    from evidently.ui.workspace import Workspace

    ws = Workspace(str(Path(report.workspace)))
    found = ws.search_project(report.project)
    project = found[0] if found else ws.create_project(report.project, description="CVRE drift watch")
    return str(ws.add_run(project.id, snapshot, name=name).id)
