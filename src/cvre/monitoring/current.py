"""The current batch: a later feature snapshot scored by the champion, or the serving API's scoring log."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd

from cvre.training.data import SPLITS, TABLES
from cvre.training.drift_reference import LABEL, PREDICTION, SCORE_TABLES, Reference

LOG_FOLDERS = {"win": "deals", "churn": "clients"}
LOG_SCORES = {"win": "win_probability", "churn": "churn_probability"}


@dataclass
class Current:
    source: str
    scored: pd.DataFrame  # features + prediction
    labelled: pd.DataFrame | None = None  # features + prediction + label, labelled after the reference


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
