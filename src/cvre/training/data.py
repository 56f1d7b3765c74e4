"""Training data of one task: time-split feature tables, typed for LightGBM, with truth kept apart."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cvre.training.config import Task

SPLITS = ("train", "valid", "test")
AMOUNT_LEAKS = ("amount", "amount_missing")  # the amount model must not see its own target
# task -> (table prefix, label, time column, manifest feature group)
TABLES = {"win": ("deals", "won", "cutoff", "deal"), "amount": ("deals", "won", "cutoff", "deal"),
          "churn": ("clients", "churned", "snapshot", "client"), "lead": ("leads", "converted", "created_at", "lead")}


class NotEnoughData(ValueError):
    """Below the configured minimum of labelled rows: refuse rather than train a misleading model."""


@dataclass
class TaskData:
    task: Task
    features: list[str]
    categories: dict[str, list[str]]
    X: dict[str, pd.DataFrame]
    y: dict[str, np.ndarray]
    keys: dict[str, pd.DataFrame]
    truth_test: np.ndarray | None = None
    fingerprint: dict = field(default_factory=dict)
    raw_example: pd.DataFrame | None = None  # feature columns as the pipeline writes them (model input)


class MissingFeatures(ValueError):
    """Rows that lack columns a model expects: an error naming them, never a silent column of NaN."""


def prepare_frame(df: pd.DataFrame, features: list[str], categories: dict[str, list[str]]) -> pd.DataFrame:
    """Feature columns typed as at training: categories fixed (unseen -> missing), flags as 0/1 floats."""
    absent = [col for col in features if col not in df.columns]
    if absent:
        raise MissingFeatures(f"the data lacks {len(absent)} feature(s) the model expects: {', '.join(absent)}; "
                              "build the rows with the feature spec the model was trained with")
    columns = {}
    for col in features:
        values = df[col]
        if col in categories:
            dtype = pd.CategoricalDtype(categories[col])  # codes by lookup: what Categorical(values, cats) does
            codes = dtype.categories.get_indexer(values.astype("string").astype(object))
            columns[col] = pd.Categorical.from_codes(codes, dtype=dtype)
        elif isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":  # numpy numbers, flags: a plain cast
            columns[col] = values.to_numpy(dtype="float64")
        else:
            columns[col] = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    return pd.DataFrame(columns, index=df.index, columns=features)  # built at once: ~100 inserts are slow


def _fingerprint(frames: dict[str, pd.DataFrame], time_col: str) -> dict:
    digest = hashlib.sha256()
    for name in SPLITS:
        digest.update(pd.util.hash_pandas_object(frames[name], index=False).to_numpy().tobytes())
    times = pd.concat([frames[s][time_col] for s in SPLITS])
    return {"sha256": digest.hexdigest(), "rows": {s: len(frames[s]) for s in SPLITS},
            "time_from": str(times.min()), "time_to": str(times.max())}


def load_task(features_dir: Path, task: Task) -> TaskData:
    features_dir = Path(features_dir)
    manifest = json.loads((features_dir / "feature_manifest.json").read_text())
    prefix, label, time_col, group = TABLES[task]
    frames = {}
    for split in SPLITS:
        path = features_dir / f"{prefix}_{split}.parquet"
        if not path.exists():
            raise FileNotFoundError(f"{path}: missing; run `cvre features` first")
        frames[split] = pd.read_parquet(path)
    for split in SPLITS[1:]:  # a model trained on a column the valid/test rows lack would be scored on NaN
        absent = [c for c in frames["train"].columns if c not in frames[split].columns]
        if absent:
            raise MissingFeatures(f"{features_dir / f'{prefix}_{split}.parquet'}: lacks {', '.join(absent)} that "
                                  f"{prefix}_train has; rebuild the features (`cvre features`)")
    if task == "amount":
        label = "amount"
        if "amount" not in frames["train"].columns:
            raise NotEnoughData("amount: the deals have no amount (opportunities.amount absent); map "
                                "opportunities.amount to train the amount model")
        frames = {s: f[f["amount"].notna() & (f["amount"] > 0)] for s, f in frames.items()}
    key_cols = {"churn": ["account_id", "snapshot"], "lead": ["lead_id"]}.get(task, ["opportunity_id"])
    names, cats = manifest[f"{group}_features"], manifest[f"{group}_categories"]
    if task == "lead" and time_col not in frames["train"].columns:
        time_col = "order"
    train = frames["train"]
    features = [c for c in names if c in train.columns and train[c].notna().any() and c not in
                (AMOUNT_LEAKS if task == "amount" else ())]
    categories = {c: sorted(train[c].dropna().astype(str).unique().tolist()) for c in cats if c in features}
    data = TaskData(
        task=task, features=features, categories=categories,
        X={s: prepare_frame(f, features, categories) for s, f in frames.items()},
        y={s: f[label].to_numpy(dtype=float) for s, f in frames.items()},
        keys={s: f[key_cols].reset_index(drop=True) for s, f in frames.items()},
        fingerprint=_fingerprint(frames, time_col),
        raw_example=train[features].head(5).reset_index(drop=True),
    )
    data.truth_test = _truth(features_dir, task, data.keys["test"])
    return data


def _truth(features_dir: Path, task: Task, keys: pd.DataFrame) -> np.ndarray | None:
    if task == "lead":
        return None
    if task == "churn":
        path = features_dir / "clients_truth.parquet"
        if not path.exists():
            return None
        truth = pd.read_parquet(path)
        return keys.merge(truth, on=["account_id", "snapshot"], how="left")["true_churn_prob"].to_numpy()
    path = features_dir / "deals_truth.parquet"
    if not path.exists():
        return None
    column = "true_expected_amount" if task == "amount" else "true_win_prob"
    truth = pd.read_parquet(path, columns=["opportunity_id", column])
    return keys.merge(truth, on="opportunity_id", how="left")[column].to_numpy()
