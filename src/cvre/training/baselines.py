"""Reference models every LightGBM model is logged beside: the prior/mean and a linear model."""

from __future__ import annotations

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from cvre.training.data import TaskData
from cvre.training.metrics import binary_metrics, regression_metrics


def _linear(data: TaskData, estimator):
    numeric = [c for c in data.features if c not in data.categories]
    cats = list(data.categories)
    prep = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                              OneHotEncoder(handle_unknown="ignore", min_frequency=20)), cats),
    ])
    as_object = lambda X: X.assign(**{c: X[c].astype(object).where(X[c].notna(), "missing") for c in cats})  # noqa: E731
    model = make_pipeline(prep, estimator).fit(as_object(data.X["train"]), data.y["train"])
    return model, as_object(data.X["test"])


def baseline_metrics(data: TaskData, seed: int) -> dict[str, float]:
    y, y_test = data.y["train"], data.y["test"]
    if data.task == "amount":
        out = regression_metrics(y_test, np.full(len(y_test), y.mean()), "baseline_mean_")
        model, X_test = _linear(data, Ridge(alpha=1.0))
        return out | regression_metrics(y_test, model.predict(X_test), "baseline_linear_")
    out = binary_metrics(y_test, np.full(len(y_test), y.mean()), "baseline_prior_")
    out["baseline_prior_auc"] = 0.5
    model, X_test = _linear(data, LogisticRegression(max_iter=2000, random_state=seed))
    return out | binary_metrics(y_test, model.predict_proba(X_test)[:, 1], "baseline_linear_")


def bayes_metrics(data: TaskData, model_metrics: dict[str, float]) -> dict[str, float]:
    """The same metrics from the simulator's true probabilities, and the model's gap to them."""
    truth = data.truth_test
    if truth is None or np.isnan(truth).all():
        return {}
    y = data.y["test"]
    if data.task == "amount":
        ref = regression_metrics(y, truth, "bayes_")
        return ref | {"rmse_gap": model_metrics["rmse"] - ref["bayes_rmse"]}
    ref = binary_metrics(y, truth, "bayes_")
    return ref | {"auc_gap": ref["bayes_auc"] - model_metrics["auc"],
                  "brier_gap_pct": (model_metrics["brier"] / ref["bayes_brier"] - 1.0) * 100.0}


