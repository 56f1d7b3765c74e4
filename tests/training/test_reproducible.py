"""Reproducible by construction: tuning stops by trial count, so machine load cannot change a model; a study's
name hashes the config and the data; the wall-clock cap is only a safety net that says when it bites."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import mlflow
import optuna
import pytest
import yaml
from mlflow import MlflowClient
from typer.testing import CliRunner

from cvre.cli.main import app
from cvre.features.config import FeatureConfig
from cvre.features.pipeline import build_features
from cvre.training.config import TrainingConfig
from cvre.training.tuning import report_safety_cap, study_name

runner = CliRunner()


def training_yaml(tmp: Path, trials: int = 4) -> Path:
    """A small but real training config whose stores all live in `tmp`."""
    small = {"min_positive": 50, "min_negative": 50, "min_rows": 100, "baseline_margin": -1.0, "auc_tolerance": 1.0}
    cfg = {"seed": 11, "n_jobs": 1,
           "tracking": {"tracking_uri": f"sqlite:///{tmp / 'mlflow.db'}", "artifact_root": str(tmp / "artifacts")},
           "tuning": {"trials": trials, "num_boost_round": 150, "early_stopping_rounds": 10,
                      "storage": f"sqlite:///{tmp / 'optuna.db'}"},
           "win": small}
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "training.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def registered(tmp: Path) -> tuple[dict, dict]:
    """Test metrics and best_* params of the version the training command registered in `tmp`'s store."""
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}")
    version = max(client.search_model_versions("name='cvre-win'"), key=lambda v: int(v.version))
    run = client.get_run(version.run_id)
    metrics = {k: v for k, v in run.data.metrics.items() if k.startswith("test_")}
    params = {k: v for k, v in run.data.params.items() if k.startswith("best_")}
    return metrics, params


@pytest.fixture(scope="module")
def features_dir(small_world) -> Path:
    return build_features(small_world, FeatureConfig()).out


@pytest.mark.slow
def test_same_command_gives_the_same_model_on_an_idle_and_a_loaded_machine(features_dir, tmp_path):
    results = []
    for name, load in (("idle", False), ("loaded", True)):
        config = training_yaml(tmp_path / name)
        burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load else None
        try:
            result = runner.invoke(app, ["train", "win", "--features", str(features_dir), "--config", str(config)])
        finally:
            if burner is not None:
                burner.kill()
                burner.wait()
        assert result.exit_code == 0, result.output
        results.append(registered(tmp_path / name))
    (idle_metrics, idle_params), (loaded_metrics, loaded_params) = results
    assert idle_params and idle_params == loaded_params
    assert {"test_auc", "test_log_loss", "test_brier"} <= set(idle_metrics)
    assert idle_metrics == loaded_metrics


def test_study_name_changes_with_the_search_and_not_with_the_store(tmp_path):
    base = TrainingConfig()
    name = study_name("win", "ab" * 32, base, base.win)
    assert name.startswith("cvre-win-abababababab-")
    assert study_name("win", "ab" * 32, TrainingConfig(), TrainingConfig().win) == name
    moved = TrainingConfig.model_validate({"tuning": {"storage": f"sqlite:///{tmp_path / 'x.db'}",
                                                      "safety_timeout_s": 5}})
    assert study_name("win", "ab" * 32, moved, moved.win) == name
    for changed in ({"tuning": {"space": {"num_leaves": [8, 64]}}}, {"tuning": {"trials": 26}}, {"seed": 1}):
        other = TrainingConfig.model_validate(changed)
        assert study_name("win", "ab" * 32, other, other.win) != name, changed
    assert study_name("win", "cd" * 32, base, base.win) != name


def test_safety_cap_says_when_it_bites(tmp_path, caplog):
    study = optuna.create_study()
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("safety-cap")  # not an experiment id left over from another test's store
    with mlflow.start_run() as run, caplog.at_level(logging.WARNING, logger="cvre"):
        assert report_safety_cap(study, trials=5, timeout_s=1.0) == 2
    assert "safety cap" in caplog.text and "2 of 5 trials" in caplog.text
    tags = MlflowClient().get_run(run.info.run_id).data.tags
    assert tags["tuning_stopped_by_safety_cap"] == "true"
    caplog.clear()
    with mlflow.start_run() as run:
        report_safety_cap(study, trials=2, timeout_s=1.0)
    assert "safety cap" not in caplog.text
    assert "tuning_stopped_by_safety_cap" not in MlflowClient().get_run(run.info.run_id).data.tags


def test_first_trial_outside_the_space_is_refused():
    with pytest.raises(ValueError, match=r"first_trial.num_leaves 120 is outside space.num_leaves \[2, 96\]"):
        TrainingConfig.model_validate({"tuning": {"first_trial": {"num_leaves": 120}}})
    with pytest.raises(ValueError, match="low < high"):
        TrainingConfig.model_validate({"tuning": {"space": {"learning_rate": [0.2, 0.02]}}})
