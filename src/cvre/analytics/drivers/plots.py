"""SHAP plots in euros (shap's own bar, beeswarm and waterfall on an Explanation built from pred_contrib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cvre.features.names import readable
from cvre.training.plots import _save as save_figure
from cvre.training.plots import plt

EV_AXIS = "effect on the deal's expected value (EUR)"


def numeric_view(X: pd.DataFrame) -> np.ndarray:
    """Feature values as floats for the colour scale (categories as their codes, missing as NaN)."""
    cols = [X[c].cat.codes.where(X[c].cat.codes >= 0).astype(float) if isinstance(X[c].dtype, pd.CategoricalDtype)
            else X[c].astype(float) for c in X.columns]
    return np.column_stack(cols) if cols else np.empty((len(X), 0))


def explanation(eur: np.ndarray, X: pd.DataFrame, base_ev: np.ndarray):
    """shap.Explanation in euros of expected value: base = amount x p_base, base + sum(values) = the deal's EV."""
    import shap

    return shap.Explanation(values=-np.asarray(eur, dtype=float), base_values=np.asarray(base_ev, dtype=float),
                            data=numeric_view(X), display_data=X.astype(object).to_numpy(),
                            feature_names=[readable(c) for c in X.columns])


def global_plots(expl, folder: Path, max_display: int) -> dict[str, Path]:
    import shap

    shap.plots.bar(expl, max_display=max_display, show=False)
    plt.gca().set_xlabel(f"mean |{EV_AXIS}|")
    paths = {"bar": save_figure(plt.gcf(), folder, "shap_bar")}
    shap.plots.beeswarm(expl, max_display=max_display, show=False)
    plt.gca().set_xlabel(EV_AXIS)
    plt.gca().xaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    paths["beeswarm"] = save_figure(plt.gcf(), folder, "shap_beeswarm")
    return paths


def group_plot(by_group: pd.DataFrame, folder: Path) -> Path:
    frame = by_group.sort_values("cost_eur")
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(frame) + 1.2))
    colours = ["#c0392b" if kind == "behaviour" else "#7f8c8d" for kind in frame["kind"]]
    ax.barh(frame["group"], frame["cost_eur"], color=colours)
    ax.set(title="What the drivers cost the deals (EUR; red = CRM behaviour)", xlabel="EUR below the base value")
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    return save_figure(fig, folder, "driver_groups")


def waterfall(expl_row, title: str, folder: Path, name: str, max_display: int) -> Path:
    import shap

    shap.plots.waterfall(expl_row, max_display=max_display, show=False)
    fig = plt.gcf()
    fig.set_size_inches(10, fig.get_size_inches()[1] + 0.4)
    fig.axes[0].xaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    fig.suptitle(f"{title}\nexpected value in EUR, from E[f(X)] (a base deal of this amount) to f(x) (this deal)",
                 fontsize=10)
    return save_figure(fig, folder, name)
