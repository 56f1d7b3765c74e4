"""`cvre train TASK --join`: one more worker on a study that a training run (`cvre train TASK`) is tuning.

The worker reads the same features and config, so it finds the study by name in the shared storage; it runs
trials until the study's budget is taken and registers nothing: the training run refits the best trial and
registers the one model.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from cvre.training.config import Task, TrainingConfig
from cvre.training.data import NotEnoughData
from cvre.training.inputs import tuning_inputs
from cvre.training.tracking import optuna_storage
from cvre.training.tuning import counted, make_objective, open_study, work, worker_id


class NoStudy(Exception):
    """The study to join does not exist (yet) in the storage."""


@dataclass
class JoinSummary:
    study: str
    mine: int  # trials this worker finished
    counted: int  # finished trials in the study (complete or pruned)
    budget: int


def join_study(features_dir: Path, task: Task, cfg: TrainingConfig, progress: bool = True) -> JoinSummary:
    inputs = tuning_inputs(features_dir, task, cfg)
    if inputs.verdict.low_data:
        raise NotEnoughData(f"{task}: nothing to tune (a low_data model has fixed parameters): "
                            f"{inputs.verdict.message}")
    try:  # a seed of its own: the same seed everywhere draws the same startup trials in every worker
        study = open_study(inputs.study_id, cfg, inputs.task_cfg, create=False, seed_offset=1000 + os.getpid())
    except KeyError:
        raise NoStudy(f"no study {inputs.study_id} in {optuna_storage(cfg.tuning.storage)} yet: start `cvre train "
                      f"{task}` with the same features and config first (it creates the study and registers the "
                      "model), then join it") from None
    objective = make_objective(inputs.data, cfg, inputs.task_cfg, inputs.constraints,
                               study.user_attrs.get("mlflow_parent_run"))
    deadline = None if cfg.tuning.safety_timeout_s is None else time.monotonic() + cfg.tuning.safety_timeout_s
    work(study, objective, cfg, deadline, progress)
    me = worker_id()
    mine = sum(1 for t in study.get_trials(deepcopy=False) if t.user_attrs.get("worker") == me and t.state.is_finished()
               and t.state.name != "FAIL")
    return JoinSummary(inputs.study_id, mine, counted(study), cfg.tuning.trials)
