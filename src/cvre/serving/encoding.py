"""A model's input row from a feature dict, without pandas: what `CvreModel.matrix(CvreModel.features(frame))`
gives for the same row (categories as the booster's codes, unseen ones missing, flags as 0/1, missing NaN)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
from scipy.special import expit

from cvre.training.model import calibrated

PREDICT = {"num_threads": 1}  # one deal, or a few: one LightGBM thread beats an OpenMP fan-out on a busy server


def _number(value) -> float:
    if value is None or isinstance(value, str):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):  # pandas NA and the like
        return math.nan


@dataclass(frozen=True)
class ModelInput:
    """How one model reads a feature row: its columns in order, and a code per category for the categorical ones."""

    names: tuple[str, ...]
    codes: tuple[dict[str, float] | None, ...]  # per column: category -> booster code, or None (a number)
    labels: dict[str, list[str]]  # categorical column -> the booster's categories (code i is labels[i])

    @classmethod
    def of(cls, model) -> ModelInput:
        names, categories = model.spec["features"], model.spec["categories"]
        booster_categories = iter(model.booster.pandas_categorical or [])
        codes, labels = [], {}
        for name in names:
            if name in categories:
                wanted = list(map(str, next(booster_categories)))
                known = set(map(str, categories[name]))
                codes.append({c: float(i) for i, c in enumerate(wanted) if c in known})
                labels[name] = wanted
            else:
                codes.append(None)
        return cls(tuple(names), tuple(codes), labels)

    def matrix(self, rows: list[dict], columns: dict[str, list] | None = None) -> np.ndarray:
        """The rows as the model reads them; `columns`: the rows' values by name, filled as needed (a cache that
        several models of the same rows share)."""
        columns = {} if columns is None else columns
        wanted = [name for name in self.names if name not in columns]
        if wanted:  # each row read in one C call (itemgetter), the values then turned into columns by zip
            get = itemgetter(*wanted)
            try:
                table = list(map(get, rows))
            except KeyError:  # a feature some rows lack (the request cannot give it): missing
                table = [tuple(row.get(name) for name in wanted) for row in rows]
                table = table if len(wanted) > 1 else [values[0] for values in table]
            found = zip(*table, strict=True) if len(wanted) > 1 else [table]
            columns.update(zip(wanted, map(list, found), strict=False))
            columns.update((name, []) for name in wanted if name not in columns)  # no rows
        out = np.empty((len(rows), len(self.names)), dtype="float64")
        for j, (name, codes) in enumerate(zip(self.names, self.codes, strict=True)):
            values = columns[name]
            if codes is not None:
                out[:, j] = [codes.get(v, math.nan) if isinstance(v, str) else math.nan for v in values]
                continue
            try:
                out[:, j] = [math.nan if v is None else v for v in values]
            except (TypeError, ValueError):  # a string or pandas NA among the numbers: missing
                out[:, j] = [_number(v) for v in values]
        return out


def _calibrate(calibrator, raw: np.ndarray) -> np.ndarray:
    """`calibrator.predict(raw)` in closed form where the calibrator is one of training's (Platt: a logistic
    regression on the logit; isotonic: linear interpolation between its thresholds): scikit-learn's input checks
    cost about a millisecond a call, the arithmetic microseconds."""
    platt = getattr(calibrator, "model_", None)
    if platt is not None and getattr(platt, "coef_", np.empty(0)).shape == (1, 1):
        p = np.clip(raw, 1e-6, 1 - 1e-6)
        return expit(np.log(p / (1 - p)) * platt.coef_[0, 0] + platt.intercept_[0])
    if hasattr(calibrator, "X_thresholds_") and calibrator.out_of_bounds == "clip":
        x = np.clip(raw, calibrator.X_min_, calibrator.X_max_)
        return np.interp(x, calibrator.X_thresholds_, calibrator.y_thresholds_)
    return calibrator.predict(raw)


class _Closed:
    """A calibrator whose predict is `_calibrate` (what `calibrated` expects)."""

    def __init__(self, calibrator):
        self.calibrator = calibrator

    def predict(self, raw: np.ndarray) -> np.ndarray:
        return _calibrate(self.calibrator, raw)


def win_probability(model, data: np.ndarray) -> np.ndarray:
    """`CvreModel.predict_features(data)["probability"]`, without building a DataFrame."""
    raw = model.booster.predict(data, **PREDICT)
    return calibrated(_Closed(model.calibrator), raw) if model.calibrator is not None else np.clip(raw, 0.0, 1.0)


def amounts(model, data: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The amount model's prediction and its p10/p90 (None without quantile boosters)."""
    raw = model.booster.predict(data, **PREDICT)
    if not model.quantiles:
        return raw, None, None
    low, high = (q.predict(data, **PREDICT) for q in model.quantiles)
    return raw, np.minimum(low, raw), np.maximum(high, raw)
