"""The win model m(behaviour, context) as a logistic additive model: a spline per governed behaviour, flags
at the rule's threshold, splines of the numeric context and one-hot categories (scikit-learn).

Why not LightGBM here: on tuning worlds (seeds 7 and 8, apart from the harness's reporting seeds) a
LightGBM win model, tuned for log loss, flattened the rules' effects (plug-in -34% for the response SLA,
-18% for activity evidence on a 20k world) and left the doubly robust correction, the noisy part of the
estimate, to do the work; the additive model's plug-in came within a few percent. LightGBM remains as
`recovery.outcome_model: lightgbm`, and it still fits the density ratios and the transport model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, SplineTransformer

from cvre.analytics.recovery.treatments import CADENCE, RESPONSE, SILENT, STALL, UNEVIDENCED


def _curves(t: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each continuous behaviour on the scale its splines use, and where it applies (1) or not (0)."""
    has_lead = t[RESPONSE].notna().to_numpy(dtype=float)
    return {RESPONSE: (np.log1p(t[RESPONSE].fillna(0.0).to_numpy(dtype=float) / 24.0), has_lead),
            CADENCE: (np.log1p(t[CADENCE].to_numpy(dtype=float)), 1.0 - t[SILENT].to_numpy(dtype=float)),
            STALL: (t[STALL].to_numpy(dtype=float), np.ones(len(t)))}


class AdditiveWinModel:
    """Logistic regression on spline bases; `fit(t, x, y)` then `predict(t, x)` -> win probabilities."""

    def __init__(self, sla_hours: float, knots: int = 12, context_knots: int = 5, c: float = 1.0):
        self.sla_hours, self.knots, self.context_knots, self.c = sla_hours, knots, context_knots, c

    def fit(self, t: pd.DataFrame, x: pd.DataFrame, y: np.ndarray) -> AdditiveWinModel:
        self.splines_ = {}
        for col, (value, applies) in _curves(t).items():
            seen = value[applies > 0]
            seen = seen if len(np.unique(seen)) > 1 else np.r_[value, 0.0, 1.0]
            self.splines_[col] = SplineTransformer(n_knots=self.knots, degree=3, knots="quantile",
                                                   extrapolation="constant").fit(seen[:, None])
        self.numeric_ = [c for c in x.columns if not isinstance(x[c].dtype, pd.CategoricalDtype)]
        self.categorical_ = [c for c in x.columns if isinstance(x[c].dtype, pd.CategoricalDtype)]
        self.fill_ = x[self.numeric_].median().fillna(0.0)
        self.context_splines_ = SplineTransformer(n_knots=self.context_knots, degree=3, knots="quantile",
                                                  extrapolation="constant").fit(self._numeric(x))
        self.onehot_ = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(self._categories(x))
        basis = self._basis(t, x)
        self.mean_, self.scale_ = basis.mean(axis=0), basis.std(axis=0) + 1e-9
        self.logistic_ = LogisticRegression(C=self.c, max_iter=3000).fit((basis - self.mean_) / self.scale_, y)
        return self

    def predict(self, t: pd.DataFrame, x: pd.DataFrame) -> np.ndarray:
        return self.logistic_.predict_proba((self._basis(t, x) - self.mean_) / self.scale_)[:, 1]

    def _numeric(self, x: pd.DataFrame) -> np.ndarray:
        return x[self.numeric_].astype(float).fillna(self.fill_).to_numpy()

    def _categories(self, x: pd.DataFrame) -> pd.DataFrame:
        return x[self.categorical_].astype("string").fillna("unknown").astype(object)

    def _basis(self, t: pd.DataFrame, x: pd.DataFrame) -> np.ndarray:
        flags = np.c_[t[RESPONSE].notna(), t[RESPONSE] > self.sla_hours, t[SILENT], t[UNEVIDENCED]]
        parts = [flags.astype(float)]
        for col, (value, applies) in _curves(t).items():
            parts.append(self.splines_[col].transform(value[:, None]) * applies[:, None])
        parts += [self.context_splines_.transform(self._numeric(x)), x[self.numeric_].isna().to_numpy(dtype=float),
                  self.onehot_.transform(self._categories(x))]
        return np.hstack(parts)
