"""What a task's tuning needs, read once from the feature folder: the same for the training run and for a
worker that joins its study from another process or machine (so both land on the same study)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cvre.training.config import Task, TaskConfig, TrainingConfig
from cvre.training.constraints import constraint_params
from cvre.training.data import TABLES, TaskData, load_task
from cvre.training.low_data import DataVerdict, check_low_data, rows_needed
from cvre.training.tuning import study_name


@dataclass
class TuningInputs:
    data: TaskData
    task_cfg: TaskConfig  # the task's config, Platt calibration for a low_data model
    manifest: dict
    verdict: DataVerdict
    study_id: str
    constraints: dict  # LightGBM params every trial gets (monotone constraints, interaction groups)


def tuning_inputs(features_dir: Path, task: Task, cfg: TrainingConfig) -> TuningInputs:
    """Data, verdict (NotEnoughData below the low_data minimum), study name and constraints of `task`."""
    task_cfg: TaskConfig = getattr(cfg, task)
    data = load_task(features_dir, task)
    manifest = json.loads((Path(features_dir) / "feature_manifest.json").read_text())
    verdict = rows_needed(data, task_cfg, manifest.get("config", {}).get("split", {}).get("train", 0.6))
    check_low_data(verdict, data, cfg.low_data)
    if verdict.low_data:
        task_cfg = task_cfg.model_copy(update={"calibration": "sigmoid"})  # isotonic steps overfit a few rows
    study_id = study_name(task, data.fingerprint["sha256"], cfg, task_cfg)
    constraints = constraint_params(task, task_cfg, data.features, manifest.get(f"{TABLES[task][3]}_features", []))
    return TuningInputs(data, task_cfg, manifest, verdict, study_id, constraints)
