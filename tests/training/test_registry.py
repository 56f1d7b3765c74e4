"""The registry under unlucky operators: `cvre models` on real stores, promotion checks, interrupted runs
(issue 17, point 7)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
import yaml
from mlflow import MlflowClient
from typer.testing import CliRunner

from cvre.cli.models import models_app
from cvre.training.registry import CHALLENGER, CHAMPION, PREVIOUS_TAG, alias_version, promote, rollback, set_champion
from cvre.training.runs import HeldAliases, mark_interrupted_runs, owner_tags

NAME = "cvre-win"


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory) -> Path:
    """An empty sqlite MLflow store, created once (its schema migrations take seconds); tests copy it."""
    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture()
def store(tmp_path, monkeypatch, empty_store):
    """A real sqlite MLflow store with cvre-win v1..v3 (v3's run FAILED), champion v2, and its training.yaml."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = tmp_path / "training.yaml"
    config.write_text(yaml.safe_dump({"tracking": {"tracking_uri": uri, "artifact_root": str(tmp_path / "art")}}))
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    experiment = client.create_experiment("cvre", artifact_location=(tmp_path / "art").as_uri())
    client.create_registered_model(NAME)
    for version, status in ((1, "FINISHED"), (2, "FINISHED"), (3, "FAILED")):
        run = client.create_run(experiment)
        client.log_metric(run.info.run_id, "test_auc", 0.7 + version / 100)
        client.set_terminated(run.info.run_id, status=status)
        client.create_model_version(NAME, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    set_champion(client, NAME, "1")
    set_champion(client, NAME, "2")
    return {"client": client, "config": config, "experiment": experiment, "uri": uri}


def cvre(*args):
    assert args[0] == "models"
    return CliRunner().invoke(models_app, [*args[1:]], catch_exceptions=False, env={"COLUMNS": "200"})


def test_models_list_renders_every_version(store):
    result = cvre("models", "list", "--config", str(store["config"]))
    assert result.exit_code == 0, result.output
    assert "cvre-win" in result.output and "champion" in result.output and "FAILED" in result.output, result.output
    assert "0.7200" in result.output


def test_promote_an_unknown_version_changes_nothing(store):
    client = store["client"]
    before = client.get_registered_model(NAME).tags.get(PREVIOUS_TAG)
    result = cvre("models", "promote", NAME, "999", "--config", str(store["config"]))
    assert result.exit_code == 2 and "cvre-win has no version 999 (versions: 1, 2, 3)" in result.output
    assert "Traceback" not in result.output
    assert client.get_registered_model(NAME).tags.get(PREVIOUS_TAG) == before == "1"
    assert alias_version(client, NAME, CHAMPION) == "2"
    assert cvre("models", "promote", "cvre-nope", "1", "--config", str(store["config"])).exit_code == 2


def test_promote_refuses_a_version_whose_run_never_finished(store):
    with pytest.raises(ValueError, match="v3: its training run .* is FAILED, not FINISHED"):
        promote(store["client"], NAME, "3")
    assert alias_version(store["client"], NAME, CHAMPION) == "2"


def test_promote_then_rollback_round_trip(store):
    client = store["client"]
    result = cvre("models", "promote", NAME, "1", "--config", str(store["config"]))
    assert result.exit_code == 0 and "champion -> v1 (was v2)" in result.output
    assert cvre("models", "rollback", NAME, "--config", str(store["config"])).exit_code == 0
    assert alias_version(client, NAME, CHAMPION) == "2"


def test_rollback_skips_deleted_and_current_versions(store):
    client = store["client"]
    client.set_registered_model_tag(NAME, PREVIOUS_TAG, "1,7,2")  # 7 was deleted, 2 is the champion now
    assert rollback(client, NAME) == "1"
    with pytest.raises(ValueError, match="no earlier champion"):
        rollback(client, NAME)
    result = cvre("models", "rollback", NAME, "--config", str(store["config"]))
    assert result.exit_code == 2 and "no earlier champion" in result.output


def test_held_aliases_move_only_when_applied(store):
    client = store["client"]
    held = HeldAliases(client)
    held.set_registered_model_alias(NAME, CHALLENGER, "1")
    set_champion(held, NAME, "1")
    assert alias_version(client, NAME, CHAMPION) == "2" and alias_version(client, NAME, CHALLENGER) is None
    held.apply()
    assert alias_version(client, NAME, CHAMPION) == "1" and alias_version(client, NAME, CHALLENGER) == "1"
    assert client.get_registered_model(NAME).tags[PREVIOUS_TAG] == "1,2"


KILLED_RUN = """
import os, sys, mlflow
from cvre.training.runs import owner_tags
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment(experiment_id=sys.argv[2])
with mlflow.start_run(tags=owner_tags()) as run:
    with mlflow.start_run(nested=True):
        print(run.info.run_id, flush=True)
        os._exit(9)  # killed mid-run: nothing ends the runs
"""


@pytest.mark.slow
def test_runs_of_a_killed_process_are_marked_failed_on_the_next_start(store):
    client = store["client"]
    out = subprocess.run([sys.executable, "-c", KILLED_RUN, store["uri"], store["experiment"]], capture_output=True,
                         text=True, timeout=120)
    killed = out.stdout.strip()
    assert client.get_run(killed).info.status == "RUNNING", out.stderr[-2000:]
    live = client.create_run(store["experiment"], tags=owner_tags())  # this process: alive, left alone
    marked = mark_interrupted_runs(client)
    assert killed in marked and len(marked) == 2  # the parent and its nested trial
    assert client.get_run(killed).info.status == "FAILED"
    assert "marked FAILED" in client.get_run(killed).data.tags["cvre.interrupted"]
    assert client.get_run(live.info.run_id).info.status == "RUNNING"
    assert mark_interrupted_runs(client) == []


def test_models_list_on_an_empty_store(tmp_path, monkeypatch, empty_store):
    monkeypatch.chdir(tmp_path)
    shutil.copy(empty_store, tmp_path / "m.db")
    config = Path("training.yaml")
    config.write_text(yaml.safe_dump({"tracking": {"tracking_uri": f"sqlite:///{tmp_path / 'm.db'}"}}))
    result = cvre("models", "list", "--config", str(config))
    assert result.exit_code == 0 and "no registered models" in result.output


@pytest.mark.slow
def test_a_run_failing_after_the_gate_moves_no_alias(small_world, tmp_path, monkeypatch):
    from cvre.features.config import FeatureConfig
    from cvre.features.pipeline import build_features
    from cvre.training import train
    from cvre.training.tracking import setup_tracking
    from tests.training.test_training import tiny_config

    features = build_features(small_world, FeatureConfig(), out=tmp_path / "features").out
    cfg = tiny_config(tmp_path)
    cfg.tuning.trials = 1
    setup_tracking(cfg.tracking)
    client = MlflowClient()
    real_promote = train._promote

    def promote_then_die(*args, **kwargs):
        decision = real_promote(*args, **kwargs)
        assert decision.promoted  # the gate said champion...
        raise RuntimeError("killed after the gate")

    monkeypatch.setattr(train, "_promote", promote_then_die)
    with pytest.raises(RuntimeError, match="killed after the gate"):
        train.train_task(features, "win", cfg)
    assert alias_version(client, NAME, CHAMPION) is None and alias_version(client, NAME, CHALLENGER) is None
    (run,) = client.search_runs([mlflow.get_experiment_by_name(cfg.tracking.experiment).experiment_id],
                                "tags.task = 'win' and attributes.status = 'FAILED'")
    monkeypatch.setattr(train, "_promote", real_promote)
    result = train.train_task(features, "win", cfg)  # ...and a run that finishes moves them
    assert alias_version(client, NAME, CHAMPION) == result.version
    assert client.get_run(result.run_id).info.status == "FINISHED" and run.info.run_id != result.run_id
