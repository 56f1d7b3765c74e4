"""The served model: a LightGBM booster plus its calibration, packaged as an MLflow pyfunc.

It casts incoming strings to the training categories (unseen -> missing) so that pyfunc, `mlflow
models serve` and the BentoML service all score exactly as training did.
"""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import lightgbm as lgb
import mlflow.pyfunc
import numpy as np
import pandas as pd

from cvre.features.spec import load_spec
from cvre.training.data import prepare_frame

TIE_BREAK = 1e-6


def calibrated(calibrator, raw: np.ndarray) -> np.ndarray:
    """Calibrated probability; isotonic steps are tied-broken by the raw score so ranking (AUC) is kept."""
    raw = np.asarray(raw, dtype=float)
    return np.clip(calibrator.predict(raw) + TIE_BREAK * (raw - 0.5), 0.0, 1.0)


class CvreModel(mlflow.pyfunc.PythonModel):
    """Predicts a calibrated probability (win, churn) or an amount with p10/p90 (amount)."""

    def load_context(self, context) -> None:
        a = context.artifacts
        self.spec = json.loads(Path(a["spec"]).read_text())
        self.booster = lgb.Booster(model_file=a["booster"])
        self.calibrator = joblib.load(a["calibrator"]) if "calibrator" in a else None
        self.quantiles = [lgb.Booster(model_file=a[k]) for k in ("q_low", "q_high") if k in a]
        self.reference = {k.removeprefix("ref_"): pd.read_parquet(v) for k, v in a.items() if k.startswith("ref_")}
        self.feature_config = json.loads(Path(a["feature_config"]).read_text()) if "feature_config" in a else {}
        self.feature_spec = load_spec(a["feature_spec"]) if "feature_spec" in a else None  # deal models

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        return prepare_frame(frame, self.spec["features"], self.spec["categories"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return self.predict_features(self.features(model_input))

    def matrix(self, X: pd.DataFrame) -> np.ndarray:
        """Typed rows as LightGBM reads a DataFrame (category codes against the booster's own categories, missing
        NaN), so that several booster calls on the same rows convert them once."""
        categories = iter(self.booster.pandas_categorical or [])
        out = np.empty(X.shape, dtype="float64")
        for j, (col, dtype) in enumerate(X.dtypes.items()):
            if isinstance(dtype, pd.CategoricalDtype):
                values = X[col]
                wanted = next(categories)
                if list(dtype.categories) != list(wanted):
                    values = values.cat.set_categories(wanted)
                codes = values.cat.codes.to_numpy()
                out[:, j] = np.where(codes >= 0, codes, np.nan)
            else:
                out[:, j] = X[col].to_numpy(dtype="float64")
        return out

    def predict_features(self, X: pd.DataFrame | np.ndarray, **lgb_params) -> pd.DataFrame:
        """`predict` on rows already typed by `features`, or `matrix` of them (serving prepares them once;
        `num_threads` e.g.)."""
        raw = self.booster.predict(X, **lgb_params)
        if self.spec["task"] == "amount":
            out = pd.DataFrame({"amount": raw})
            if self.quantiles:
                low, high = (q.predict(X, **lgb_params) for q in self.quantiles)
                out["amount_p10"], out["amount_p90"] = np.minimum(low, raw), np.maximum(high, raw)
            return out
        prob = calibrated(self.calibrator, raw) if self.calibrator is not None else np.clip(raw, 0.0, 1.0)
        return pd.DataFrame({"probability": prob})


def save_artifacts(folder: Path, task: str, features: list[str], categories: dict, booster: lgb.Booster,
                   calibrator=None, quantile_boosters=()) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "spec.json"
    spec.write_text(json.dumps({"task": task, "features": features, "categories": categories}, indent=1))
    booster_path = folder / "booster.txt"
    booster.save_model(str(booster_path))
    artifacts = {"spec": str(spec), "booster": str(booster_path)}
    if calibrator is not None:
        joblib.dump(calibrator, folder / "calibrator.joblib")
        artifacts["calibrator"] = str(folder / "calibrator.joblib")
    for key, q in zip(("q_low", "q_high"), quantile_boosters, strict=False):
        q.save_model(str(folder / f"{key}.txt"))
        artifacts[key] = str(folder / f"{key}.txt")
    return artifacts
