"""Metrics for probabilities and amounts, grades, and calibration error."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

GRADES = (("A", 0.75), ("B", 0.50), ("C", 0.25), ("D", 0.0))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(y[inside].mean() - p[inside].mean())
    return float(total)


def binary_metrics(y: np.ndarray, p: np.ndarray, prefix: str = "") -> dict[str, float]:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return {
        f"{prefix}auc": float(roc_auc_score(y, p)),
        f"{prefix}log_loss": float(log_loss(y, p)),
        f"{prefix}brier": float(brier_score_loss(y, p)),
        f"{prefix}ece": expected_calibration_error(y, p),
        f"{prefix}average_precision": float(average_precision_score(y, p)),
    }


def regression_metrics(y: np.ndarray, pred: np.ndarray, prefix: str = "") -> dict[str, float]:
    err = pred - y
    defined = y > 0
    out = {f"{prefix}mae": float(np.abs(err).mean()), f"{prefix}rmse": float(np.sqrt((err**2).mean()))}
    if defined.any():
        out[f"{prefix}mape"] = float(np.abs(err[defined] / y[defined]).mean())
    return out


def grade(probability: np.ndarray) -> np.ndarray:
    """A 75-100, B 50-74, C 25-49, D 0-24 (percent points)."""
    pct = np.asarray(probability) * 100
    return np.where(pct >= 75, "A", np.where(pct >= 50, "B", np.where(pct >= 25, "C", "D")))


def grade_table(y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """Per grade band: deals, share, mean predicted probability and observed rate (the API's bands checked)."""
    frame = pd.DataFrame({"grade": grade(p), "y": np.asarray(y, dtype=float), "p": np.asarray(p, dtype=float)})
    table = frame.groupby("grade").agg(deals=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    table = table.reindex([g for g, _ in GRADES]).fillna({"deals": 0}).astype({"deals": int})
    table["share"] = table["deals"] / max(len(frame), 1)
    bounds = dict(GRADES)
    table["band_low"] = [bounds[g] for g in table.index]
    table["band_high"] = [1.0] + [bounds[g] for g, _ in GRADES[:-1]]
    return table


def grade_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """`grade_A_observed_rate`, `grade_A_share`, ... for MLflow (grades without deals left out)."""
    table = grade_table(y, p)
    return {f"grade_{g}_{k}": float(row[col]) for g, row in table[table["deals"] > 0].iterrows()
            for k, col in (("observed_rate", "observed"), ("share", "share"), ("mean_probability", "predicted"))}
