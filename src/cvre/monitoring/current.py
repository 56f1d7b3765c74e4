"""The current batch: a later feature snapshot scored by the champion, or the serving API's scoring log."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd

from cvre.features.spec import MANIFEST, feature_run_config
from cvre.training.data import SPLITS, TABLES
from cvre.training.drift_reference import LABEL, PREDICTION, SCORE_TABLES, Reference

LOG_FOLDERS = {"win": "deals", "churn": "clients"}
LOG_SCORES = {"win": "win_probability", "churn": "churn_probability"}


@dataclass
class Current:
    source: str
    scored: pd.DataFrame  # features + prediction
    labelled: pd.DataFrame | None = None  # features + prediction + label, labelled after the reference


class FeatureSpecMismatch(ValueError):
    """A later feature run built with other deal feature settings than the champion's: its rows mean other things."""


def _flat(values: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in values.items():
        out |= _flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value}
    return out


def settings_changed(trained: dict, later: dict) -> list[str]:
    """`field: trained -> later` for every (nested) setting that differs between two config dumps."""
    a, b = _flat(trained), _flat(later)
    return [f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]


def check_feature_run(features_dir: Path, model) -> None:
    """A deal champion scores a later feature run only if that run's deal features were built with the model's
    spec (`features.spec`): the same stall threshold, activity windows, ... — else its drift would be ours."""
    spec = getattr(model, "feature_spec", None)
    if spec is None or not (Path(features_dir) / MANIFEST).exists():
        return
    _, built_with = feature_run_config(Path(features_dir))
    changed = settings_changed(spec.deals.model_dump(mode="json"), built_with.model_dump(mode="json"))
    if changed:
        raise FeatureSpecMismatch(
            f"{features_dir}: built with other deal feature settings than the champion ({'; '.join(changed)}); "
            "rebuild it with the settings the champion was trained with (`cvre features DATA --config FILE`, the "
            "`deals:` block of the model's feature_spec.json artifact), or retrain on the new settings")


def _score(model, frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    out = frame.reindex(columns=features)
    out[PREDICTION] = model.predict(None, out)["probability"].to_numpy() if len(out) else []
    return out


def current_from_features(features_dir: Path, ref: Reference, model_uri: str) -> Current:
    """Scoring rows of a later snapshot and the rows labelled since the reference, scored by `model_uri`."""
    features_dir = Path(features_dir)
    score_path = features_dir / f"{SCORE_TABLES[ref.task]}.parquet"
    if not score_path.exists():
        raise FileNotFoundError(f"{score_path}: missing; build the later period's features with `cvre features`")
    # the python model itself: it casts the frame as training did (MLflow's signature check would refuse a
    # feature an export lacks, e.g. no_activity all missing without activities)
    model = mlflow.pyfunc.load_model(model_uri).unwrap_python_model()
    check_feature_run(features_dir, model)
    scored = _score(model, pd.read_parquet(score_path), ref.features)
    prefix, label, time_col, _ = TABLES[ref.task]
    parts = [pd.read_parquet(p) for s in SPLITS if (p := features_dir / f"{prefix}_{s}.parquet").exists()]
    labelled = None
    if parts:
        rows = pd.concat(parts, ignore_index=True)
        rows = rows[pd.to_datetime(rows[time_col]) > ref.labelled_until]
        labelled = _score(model, rows, ref.features).assign(**{LABEL: rows[label].to_numpy(dtype=float)})
    return Current(str(features_dir), scored, labelled)


def read_scoring_log(folder: Path, task: str, since: pd.Timestamp | None = None) -> pd.DataFrame:
    """Every `scored-*.parquet` of the serving log for the task, oldest first (no labels: they come later)."""
    folder = Path(folder) / LOG_FOLDERS[task]
    files = sorted(folder.glob("scored-*.parquet"))
    if not files:
        raise FileNotFoundError(f"{folder}: no scored-*.parquet files; is the scoring API logging there?")
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    if since is not None and "scored_at" in frame.columns:
        frame = frame[pd.to_datetime(frame["scored_at"]) >= since]
    return frame.rename(columns={LOG_SCORES[task]: PREDICTION})


def current_from_log(folder: Path, ref: Reference, since: pd.Timestamp | None = None) -> Current:
    frame = read_scoring_log(folder, ref.task, since)
    if PREDICTION not in frame.columns:
        raise ValueError(f"{folder}: the scoring log has no {LOG_SCORES[ref.task]} column")
    return Current(str(folder), frame.reindex(columns=[*ref.features, PREDICTION]))
