"""Metrics for probabilities and amounts, grades, and calibration error."""

from __future__ import annotations

import numpy as np
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
