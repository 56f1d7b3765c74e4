"""The drift reference logged with each model: what it scored at training time, and labelled test rows.

`reference/scored.parquet`: a seeded sample of the scoring table at the training snapshot (open deals or
clients, the population the API scores) with the model's `prediction`. `reference/labelled.parquet`:
test rows with `prediction` and `label`, for target drift and the performance baseline. `reference/meta.json`
names the task, the feature columns and the last labelled time, so monitoring knows what is new.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient

from cvre.training.config import ReferenceConfig
from cvre.training.data import TABLES, TaskData, prepare_frame

ARTIFACT_PATH = "reference"
PREDICTION, LABEL = "prediction", "label"
SCORE_TABLES = {"win": "deals_score", "churn": "clients_score"}
REFERENCE_TASKS = tuple(SCORE_TABLES)


@dataclass
class Reference:
    task: str
    features: list[str]
    categories: dict[str, list[str]]
    scored: pd.DataFrame  # features + prediction
    labelled: pd.DataFrame  # features + prediction + label
    labelled_until: pd.Timestamp  # rows labelled after this are new to the model
    run_id: str = ""
    model: str = ""
    version: str = ""


def sample_rows(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """A seeded sample of at most `rows` rows (all of them when there are fewer)."""
    if len(frame) <= rows:
        return frame.reset_index(drop=True)
    keep = np.sort(np.random.default_rng(seed).choice(len(frame), size=rows, replace=False))
    return frame.iloc[keep].reset_index(drop=True)


def build_reference(features_dir: Path, data: TaskData, predict: Callable[[pd.DataFrame], np.ndarray],
                    cfg: ReferenceConfig, seed: int) -> Reference:
    """Scored and labelled reference frames of a freshly trained model (`predict` takes typed features)."""
    features_dir = Path(features_dir)
    prefix, label, time_col, _ = TABLES[data.task]
    scored = sample_rows(pd.read_parquet(features_dir / f"{SCORE_TABLES[data.task]}.parquet"), cfg.rows, seed)
    scored = scored.reindex(columns=data.features).assign(
        **{PREDICTION: predict(prepare_frame(scored, data.features, data.categories))})
    test = sample_rows(pd.read_parquet(features_dir / f"{prefix}_test.parquet"), cfg.labelled_rows, seed)
    labelled = test.reindex(columns=data.features).assign(**{PREDICTION: predict(prepare_frame(test, data.features,
                                                                               data.categories)),
                                             LABEL: test[label].to_numpy(dtype=float)})
    return Reference(data.task, data.features, data.categories, scored, labelled,
                     pd.Timestamp(data.fingerprint["time_to"]))


def save_reference(ref: Reference, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ref.scored.to_parquet(folder / "scored.parquet", index=False)
    ref.labelled.to_parquet(folder / "labelled.parquet", index=False)
    (folder / "meta.json").write_text(json.dumps({"task": ref.task, "features": ref.features,
                                                  "categories": ref.categories,
                                                  "labelled_until": str(ref.labelled_until),
                                                  "rows": {"scored": len(ref.scored),
                                                           "labelled": len(ref.labelled)}}, indent=1))
    return folder


def read_reference(folder: Path) -> Reference:
    meta = json.loads((Path(folder) / "meta.json").read_text())
    return Reference(meta["task"], meta["features"], meta["categories"],
                     pd.read_parquet(Path(folder) / "scored.parquet"),
                     pd.read_parquet(Path(folder) / "labelled.parquet"), pd.Timestamp(meta["labelled_until"]))


def log_reference_snapshot(features_dir: Path, data: TaskData, predict: Callable[[pd.DataFrame], np.ndarray],
                           cfg: ReferenceConfig, seed: int) -> None:
    """Training hook: log the reference under `reference/` of the active run (sizes: training.yaml `reference`)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_reference(build_reference(features_dir, data, predict, cfg, seed), Path(tmp) / ARTIFACT_PATH)
        mlflow.log_artifacts(str(folder), ARTIFACT_PATH)


def load_champion_reference(name: str, alias: str = "champion", client: MlflowClient | None = None) -> Reference:
    """The reference logged with `models:/NAME@ALIAS`; a clear error when that model has none."""
    client = client or MlflowClient()
    version = client.get_model_version_by_alias(name, alias)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            folder = mlflow.artifacts.download_artifacts(run_id=version.run_id, artifact_path=ARTIFACT_PATH,
                                                         dst_path=tmp)
        except Exception as exc:  # MLflow raises several types for a missing artifact
            raise FileNotFoundError(f"{name} v{version.version} (run {version.run_id}) has no {ARTIFACT_PATH}/ "
                                    "artifact: it was trained before monitoring existed; retrain it "
                                    "(`cvre train`)") from exc
        ref = read_reference(Path(folder))
    ref.run_id, ref.model, ref.version = version.run_id, name, str(version.version)
    return ref
