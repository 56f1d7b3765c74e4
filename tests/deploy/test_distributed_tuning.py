"""Distributed tuning on the team's PostgreSQL: several worker processes on one Optuna study, the budget a count
of trials whichever worker runs them, one model registered, and a worker killed mid-trial leaves the study
usable (heartbeats fail its trial; the next run finishes the budget)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient
from optuna.trial import TrialState

from cvre.core.config import load_config
from cvre.training.config import TrainingConfig
from cvre.training.inputs import tuning_inputs
from cvre.training.tuning import open_study
from tests.deploy.conftest import team_yaml

pytestmark = pytest.mark.slow
CVRE = str(Path(sys.executable).parent / "cvre")


def _versions(client: MlflowClient) -> set[str]:
    return {v.version for v in client.search_model_versions("name='cvre-win'")}


def _cvre(args: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen([CVRE, *args], cwd=cwd, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT)


def _study(config: Path, features: Path) -> tuple[TrainingConfig, str]:
    cfg = load_config(TrainingConfig, config, "training.yaml")
    return cfg, tuning_inputs(features, "win", cfg).study_id


def _overlap(a: list, b: list) -> bool:
    """Some trial of worker a ran while some trial of worker b ran."""
    return any(x.datetime_start < y.datetime_complete and y.datetime_start < x.datetime_complete for x in a for y in b)


def test_two_workers_share_one_study_and_register_one_model(on_server, team_features, tmp_path):
    config = team_yaml(tmp_path / "cfg", on_server["optuna"], trials=6)
    client = MlflowClient(on_server["tracking_uri"])
    before = _versions(client)
    proc = _cvre(["train", "win", "--features", str(team_features), "--config", str(config), "--workers", "2"],
                 tmp_path, tmp_path / "train.log")
    assert proc.wait(timeout=1200) == 0, (tmp_path / "train.log").read_text()[-3000:]

    assert len(_versions(client) - before) == 1  # one model, registered by the training run only
    cfg, name = _study(config, team_features)
    trials = optuna.load_study(study_name=name, storage=cfg.tuning.storage).trials
    numbers = [t.number for t in trials]
    assert numbers == list(range(len(trials)))  # storage-assigned, no duplicates, no gaps
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == 6  # the budget is a count, whichever worker ran them
    by_worker: dict[str, list] = {}
    for t in finished:
        by_worker.setdefault(t.user_attrs["worker"], []).append(t)
    assert len(by_worker) == 2, by_worker.keys()  # two processes ...
    first, second = by_worker.values()
    assert _overlap(first, second)  # ... at the same time
    runs = client.search_runs([client.get_experiment_by_name("cvre").experiment_id],
                              f"tags.optuna_study = '{name}'")
    (parent,) = runs
    children = client.search_runs([parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert len([c for c in children if c.info.status == "FINISHED"]) == len(finished)  # every worker's trials


def test_a_killed_worker_leaves_the_study_usable(on_server, team_features, tmp_path):
    config = team_yaml(tmp_path / "cfg", on_server["optuna"], trials=5)
    cfg, name = _study(config, team_features)
    inputs = tuning_inputs(team_features, "win", cfg)
    open_study(name, cfg, inputs.task_cfg, create=True)  # what `cvre train` does before its workers start
    joiner = _cvre(["train", "win", "--join", "--features", str(team_features), "--config", str(config)], tmp_path,
                   tmp_path / "join.log")
    study = optuna.load_study(study_name=name, storage=cfg.tuning.storage)
    deadline, killed = time.time() + 600, None
    while killed is None and time.time() < deadline and joiner.poll() is None:
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        mine = [t for t in running if t.user_attrs.get("worker", "").endswith(f":{joiner.pid}")]
        if mine:
            os.kill(joiner.pid, signal.SIGKILL)  # mid-trial: no chance to tidy up
            killed = mine[0].number
        time.sleep(0.1)
    joiner.wait(timeout=60)
    assert killed is not None, (tmp_path / "join.log").read_text()[-3000:]
    assert study.trials[killed].state == TrialState.RUNNING  # stale: nobody will finish it

    client = MlflowClient(on_server["tracking_uri"])
    before = _versions(client)
    proc = _cvre(["train", "win", "--features", str(team_features), "--config", str(config)], tmp_path,
                 tmp_path / "train.log")
    assert proc.wait(timeout=1200) == 0, (tmp_path / "train.log").read_text()[-3000:]

    trials = optuna.load_study(study_name=name, storage=cfg.tuning.storage).trials
    assert trials[killed].state == TrialState.FAIL  # its heartbeat stopped: failed after the grace period
    assert len([t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]) == 5  # budget done
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert len(_versions(client) - before) == 1
    left = client.search_runs([client.get_experiment_by_name("cvre").experiment_id],
                              f"tags.`cvre.pid` = '{joiner.pid}' and attributes.run_name = 'trial-{killed}'")
    assert all(r.info.status == "FAILED" for r in left)  # its MLflow run (if it got that far) is marked too
