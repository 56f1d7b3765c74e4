"""Performance and target drift once labels arrive: AUC on newly labelled rows against the reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from cvre.monitoring.config import DriftConfig, PolicyConfig
from cvre.monitoring.drift import js_distance
from cvre.training.drift_reference import LABEL, PREDICTION


def _auc(frame: pd.DataFrame) -> float | None:
    y = frame[LABEL].to_numpy()
    return float(roc_auc_score(y, frame[PREDICTION].to_numpy())) if len(np.unique(y)) == 2 else None


def auc_standard_error(auc: float, positives: int, negatives: int) -> float:
    """Hanley and McNeil's (1982) standard error of an AUC."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)) / max(
        positives * negatives, 1)
    return float(np.sqrt(max(var, 0.0)))


def _se(frame: pd.DataFrame, auc: float) -> float:
    positives = int((frame[LABEL] == 1).sum())
    return auc_standard_error(auc, positives, len(frame) - positives)


def performance(reference: pd.DataFrame, current: pd.DataFrame | None, policy: PolicyConfig,
                drift: DriftConfig) -> dict:
    """AUC and label rate of reference vs newly labelled rows; `status` says whether it could be judged."""
    ref_auc = _auc(reference)
    out = {"reference_rows": len(reference), "reference_auc": ref_auc,
           "reference_label_rate": float(reference[LABEL].mean()) if len(reference) else None,
           "current_rows": 0 if current is None else len(current)}
    if current is None or len(current) < policy.min_labelled:
        return out | {"status": f"waiting for labels ({out['current_rows']} of {policy.min_labelled} rows)"}
    cur_auc = _auc(current)
    counts = [np.bincount(f[LABEL].to_numpy(dtype=int), minlength=2) for f in (reference, current)]
    target_score = js_distance(*counts)
    auc_drop = se = None
    if ref_auc is not None and cur_auc is not None:
        auc_drop = ref_auc - cur_auc
        se = float(np.hypot(_se(reference, ref_auc), _se(current, cur_auc)))
    return out | {"status": "judged", "current_auc": cur_auc, "auc_drop": auc_drop,
                  "current_label_rate": float(current[LABEL].mean()),
                  "current_mean_prediction": float(current[PREDICTION].mean()),
                  "target_drift_score": target_score,
                  "target_drifted": bool(target_score > drift.categorical_threshold),
                  "auc_drop_se": se,
                  "performance_lost": bool(auc_drop is not None and auc_drop > policy.auc_drop
                                           and auc_drop > policy.auc_z * se)}
