"""A model's input row from a feature dict, without pandas: what `CvreModel.matrix(CvreModel.features(frame))`
gives for the same row (categories as the booster's codes, unseen ones missing, flags as 0/1, missing NaN)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
from scipy.special import expit

from cvre.training.model import calibrated

PREDICT = {"num_threads": 1}  # one deal, or a few: one LightGBM thread beats an OpenMP fan-out on a busy server


@dataclass(frozen=True)
class PredictThreads:
    """LightGBM threads per prediction: one for a few deals; from `from_rows` deals up, `threads` shared by the win
    and amount models predicting at the same time (serving.yaml `predict_threads`, `parallel_from_rows`)."""

    threads: int = 1
    from_rows: int = 256

    def parallel(self, rows: int) -> bool:
        """Whether the amount model predicts on a thread of its own, beside the win model (LightGBM frees the GIL)."""
        return rows >= self.from_rows and self.threads >= 2

    def args(self, rows: int) -> dict:
        """LightGBM's keywords for one of the models of a `rows`-deal batch."""
        share = self.threads // 2 if self.parallel(rows) else 1
        return {"num_threads": share} if share > 1 else PREDICT


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

    def matrix(self, rows: list[dict]) -> np.ndarray:
        """Feature rows (dicts) as the model reads them."""
        return self.table(columns_of(rows, self.names), len(rows))

    def table(self, columns: Mapping[str, Sequence], n: int) -> np.ndarray:
        """Feature columns (numpy arrays or lists, each `n` long; a column the request cannot give may be absent)
        as the model reads them."""
        out = np.empty((n, len(self.names)), dtype="float64")
        for j, (name, codes) in enumerate(zip(self.names, self.codes, strict=True)):
            values = columns.get(name)
            if values is None:
                out[:, j] = math.nan
            elif codes is not None:
                out[:, j] = [codes.get(v, math.nan) if isinstance(v, str) else math.nan for v in values]
            elif isinstance(values, np.ndarray) and values.dtype.kind in "fbiu":
                out[:, j] = values
            else:
                try:
                    out[:, j] = [math.nan if v is None else v for v in values]
                except (TypeError, ValueError):  # a string or pandas NA among the numbers: missing
                    out[:, j] = [_number(v) for v in values]
        return out


def columns_of(rows: list[dict], names: Sequence[str]) -> dict[str, list]:
    """The rows' values of `names` as columns (a name no row has is left out: missing)."""
    if not rows or not names:
        return {}
    try:  # each row read in one C call (itemgetter), then turned into columns by zip
        get = itemgetter(*names)
        table = list(map(get, rows)) if len(names) > 1 else [(v,) for v in map(get, rows)]
    except KeyError:  # a feature some rows lack
        table = [tuple(row.get(name) for name in names) for row in rows]
    return {name: list(values) for name, values in zip(names, zip(*table, strict=True), strict=True)}


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


def win_probability(model, data: np.ndarray, predict: dict = PREDICT) -> np.ndarray:
    """`CvreModel.predict_features(data)["probability"]`, without building a DataFrame (`predict`: LightGBM's
    keywords, `PredictThreads.args`)."""
    raw = model.booster.predict(data, **predict)
    return calibrated(_Closed(model.calibrator), raw) if model.calibrator is not None else np.clip(raw, 0.0, 1.0)


def amounts(model, data: np.ndarray, predict: dict = PREDICT) -> tuple[np.ndarray, np.ndarray | None,
                                                                      np.ndarray | None]:
    """The amount model's prediction and its p10/p90 (None without quantile boosters)."""
    raw = model.booster.predict(data, **predict)
    if not model.quantiles:
        return raw, None, None
    low, high = (q.predict(data, **predict) for q in model.quantiles)
    return raw, np.minimum(low, raw), np.maximum(high, raw)
