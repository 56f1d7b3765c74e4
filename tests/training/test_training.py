"""Real LightGBM models on a small simulated world, logged to a real MLflow store in a temp folder."""

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from cvre.features.config import FeatureConfig
from cvre.features.pipeline import build_features
from cvre.training.config import TrainingConfig
from cvre.training.data import NotEnoughData, load_task
from cvre.training.registry import CHAMPION, alias_version, gate, rollback, set_champion
from cvre.training.tracking import setup_tracking
from cvre.training.train import check_minimum, train_task

pytestmark = pytest.mark.slow


def tiny_config(tmp: Path, seed: int = 42) -> TrainingConfig:
    cfg = TrainingConfig(seed=seed)
    cfg.tuning.trials = 3
    cfg.tuning.num_boost_round = 200
    cfg.tuning.early_stopping_rounds = 10
    cfg.tuning.storage = f"sqlite:///{tmp / 'optuna.db'}"
    cfg.tracking.tracking_uri = f"sqlite:///{tmp / 'mlflow.db'}"
    cfg.tracking.artifact_root = str(tmp / "artifacts")
    for task in (cfg.win, cfg.amount, cfg.churn):
        task.min_positive = task.min_negative = 50
        task.min_rows = 100
        task.baseline_margin = -1.0  # let the tiny model through; the gate itself is tested below
        task.auc_tolerance = 1.0
    return cfg


@pytest.fixture(scope="module")
def features_dir(small_world) -> Path:
    return build_features(small_world, FeatureConfig()).out


@pytest.fixture(scope="module")
def trained(features_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mlflow")
    cfg = tiny_config(tmp)
    setup_tracking(cfg.tracking)
    return cfg, train_task(features_dir, "win", cfg)


def test_run_logs_trials_metrics_artifacts_and_registers(trained):
    cfg, result = trained
    client = MlflowClient()
    run = client.get_run(result.run_id)
    for key in ("test_auc", "test_brier", "test_ece", "test_log_loss", "bayes_auc", "auc_gap", "baseline_linear_auc",
                "baseline_prior_brier"):
        assert key in run.data.metrics, key
    assert run.data.tags["git_commit"] and run.data.tags["data_sha256"]
    children = client.search_runs([run.info.experiment_id], f"tags.mlflow.parentRunId = '{result.run_id}'")
    assert len(children) == cfg.tuning.trials
    plots = {Path(a.path).name for a in client.list_artifacts(result.run_id, "plots")}
    assert {"roc_curve.png", "pr_curve.png", "calibration_curve.png", "feature_importance.png",
            "shap_summary.png", "optuna_history.png"} <= plots
    assert alias_version(client, "cvre-win", CHAMPION) == result.version
    assert 0.5 < run.data.metrics["test_auc"] <= 1.0
    native = mlflow.models.get_model_info(f"runs:/{result.run_id}/lightgbm")
    assert native.signature is not None and native.saved_input_example_info is not None
    assert mlflow.lightgbm.load_model(f"runs:/{result.run_id}/lightgbm").num_trees() > 0


def test_registered_model_scores_strings_and_unseen_categories(trained, features_dir):
    model = mlflow.pyfunc.load_model(f"models:/cvre-win@{CHAMPION}")
    frame = pd.read_parquet(features_dir / "deals_score.parquet").head(20)
    frame.loc[frame.index[0], "product"] = "brand new product"
    out = model.predict(frame)
    assert len(out) == 20 and out["probability"].between(0, 1).all()


def test_same_config_same_result(features_dir, tmp_path):
    results = []
    for name in ("a", "b"):
        cfg = tiny_config(tmp_path / name, seed=7)
        setup_tracking(cfg.tracking)
        results.append(train_task(features_dir, "win", cfg))
    assert results[0].best_params == results[1].best_params
    assert results[0].metrics["auc"] == pytest.approx(results[1].metrics["auc"], abs=1e-12)


def test_minimum_data_gate(features_dir):
    cfg = TrainingConfig()
    cfg.win.min_positive = 10**6
    with pytest.raises(NotEnoughData, match="below the minimum"):
        check_minimum(load_task(features_dir, "win"), cfg.win)


def test_gate_and_rollback(trained):
    assert gate(0.80, None, True, 0.002).promoted
    assert gate(0.799, 0.80, True, 0.002).promoted
    assert not gate(0.79, 0.80, True, 0.002).promoted
    assert not gate(110.0, 100.0, False, 0.002).promoted
    client = MlflowClient()
    first = alias_version(client, "cvre-win", CHAMPION)
    version = str(client.create_model_version("cvre-win", client.get_model_version("cvre-win", first).source).version)
    set_champion(client, "cvre-win", version)
    assert alias_version(client, "cvre-win", CHAMPION) == version
    assert rollback(client, "cvre-win") == first
    assert alias_version(client, "cvre-win", CHAMPION) == first
    with pytest.raises(ValueError, match="no earlier champion"):
        rollback(client, "cvre-win")
    assert np.isfinite(float(first))


def test_baseline_gate_uses_log_loss_with_an_auc_guard():
    from cvre.training.train import beats_baselines

    cfg = TrainingConfig().win
    win = {"log_loss": 0.606, "auc": 0.733, "baseline_linear_log_loss": 0.612, "baseline_prior_log_loss": 0.688,
           "baseline_linear_auc": 0.7327, "baseline_prior_auc": 0.5}
    assert beats_baselines(win, "win", cfg)[0]
    assert not beats_baselines(win | {"auc": 0.70}, "win", cfg)[0]  # better calibrated but ranks worse
    assert not beats_baselines(win | {"log_loss": 0.611}, "win", cfg)[0]  # less than the 0.5% margin
    amount = {"rmse": 14_000.0, "baseline_linear_rmse": 16_000.0, "baseline_mean_rmse": 30_000.0}
    assert beats_baselines(amount, "amount", cfg)[0]
    assert not beats_baselines(amount | {"rmse": 15_990.0}, "amount", cfg)[0]
