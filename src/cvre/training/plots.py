"""Figures logged with every model: curves, calibration, residuals, importance, SHAP, Optuna."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from cvre.training.metrics import expected_calibration_error, grade_table  # noqa: E402


def _save(fig, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def classification_plots(y, p, folder: Path) -> list[Path]:
    fig, ax = plt.subplots(figsize=(5, 4))
    fpr, tpr, _ = roc_curve(y, p)
    ax.plot(fpr, tpr)
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.set(title="ROC curve (test)", xlabel="false positive rate", ylabel="true positive rate")
    paths = [_save(fig, folder, "roc_curve")]
    fig, ax = plt.subplots(figsize=(5, 4))
    precision, recall, _ = precision_recall_curve(y, p)
    ax.plot(recall, precision)
    ax.set(title="Precision-recall curve (test)", xlabel="recall", ylabel="precision")
    paths.append(_save(fig, folder, "pr_curve"))
    fig, ax = plt.subplots(figsize=(5, 4))
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    ax.plot(predicted, observed, marker="o")
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.set(title="Calibration (test)", xlabel="predicted probability", ylabel="observed rate")
    paths.append(_save(fig, folder, "calibration_curve"))
    return paths + reliability_plots(y, p, folder)


def reliability_plots(y, p, folder: Path) -> list[Path]:
    """Reliability diagram on 10 equal-width bins with their deal counts and the ECE; grade bands vs observed."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    which = np.clip((p * 10).astype(int), 0, 9)
    counts = np.bincount(which, minlength=10)
    seen = counts > 0
    mean_p = np.bincount(which, weights=p, minlength=10)[seen] / counts[seen]
    rate = np.bincount(which, weights=y, minlength=10)[seen] / counts[seen]
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.bar(np.arange(10)[seen] / 10 + 0.05, counts[seen] / counts.sum(), width=0.09, color="#dddddd",
           label="share of deals")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfectly calibrated")
    ax.plot(mean_p, rate, marker="o", label="observed rate per bin")
    ax.set(title=f"Reliability (test), ECE {expected_calibration_error(y, p):.3f}", xlabel="predicted probability",
           ylabel="observed rate", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left", fontsize=8)
    paths = [_save(fig, folder, "reliability")]
    table = grade_table(y, p)
    fig, ax = plt.subplots(figsize=(5, 4))
    x = np.arange(len(table))
    ax.bar(x, table["band_high"] - table["band_low"], bottom=table["band_low"], color="#e8eef7", label="grade band")
    ax.scatter(x, table["observed"], color="C1", zorder=3, label="observed rate")
    ax.set_xticks(x, [f"{g}\n{n} deals" for g, n in zip(table.index, table["deals"], strict=True)])
    ax.set(title="Grades: band vs observed rate (test)", ylabel="rate", ylim=(0, 1))
    ax.legend(fontsize=8)
    paths.append(_save(fig, folder, "grades"))
    return paths


def residual_plot(y, pred, folder: Path) -> list[Path]:
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(pred, y - pred, s=4, alpha=0.4)
    ax.axhline(0, color="grey")
    ax.set(title="Residuals (test)", xlabel="predicted amount", ylabel="actual - predicted")
    return [_save(fig, folder, "residuals")]


def importance_plot(booster, folder: Path, top: int = 20) -> list[Path]:
    gain = booster.feature_importance("gain")
    names = np.asarray(booster.feature_name())
    order = np.argsort(gain)[-top:]
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.barh(names[order], gain[order])
    ax.set(title="Feature importance (gain)")
    return [_save(fig, folder, "feature_importance")]


def shap_plot(booster, X, folder: Path, sample: int, seed: int) -> list[Path]:
    import shap

    rows = X.sample(min(sample, len(X)), random_state=seed)
    values = shap.TreeExplainer(booster).shap_values(rows)
    shap.summary_plot(values, rows, show=False, max_display=20)
    fig = plt.gcf()
    return [_save(fig, folder, "shap_summary")]


def optuna_plots(study, folder: Path) -> list[Path]:
    from optuna.visualization import matplotlib as ovm

    paths = []
    ax = ovm.plot_optimization_history(study)
    paths.append(_save(ax.figure, folder, "optuna_history"))
    completed = [t for t in study.trials if t.state.name == "COMPLETE"]
    if len(completed) >= 2 and len({tuple(sorted(t.params.items())) for t in completed}) >= 2:
        ax = ovm.plot_param_importances(study)
        paths.append(_save(ax.figure, folder, "optuna_param_importance"))
    return paths
