"""One team set-up for the deployment tests: a throwaway PostgreSQL cluster (databases `mlflow` and `optuna`),
an `mlflow server` on it serving the artifacts, and a training config whose Optuna storage is that database."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cvre.features.config import FeatureConfig
from cvre.features.pipeline import build_features
from tests.deploy.services import mlflow_server, postgres_cluster

SMALL = {"min_positive": 50, "min_negative": 50, "min_rows": 100, "baseline_margin": -1.0, "auc_tolerance": 1.0}


@pytest.fixture(scope="session")
def team(tmp_path_factory):
    """PostgreSQL + mlflow server, for the whole tests/deploy session."""
    tmp = tmp_path_factory.mktemp("team")
    with postgres_cluster(("mlflow", "optuna")) as pg, \
            mlflow_server(pg["urls"]["mlflow"], tmp / "server-artifacts", tmp / "mlflow-server.log") as url:
        yield {"tmp": tmp, "tracking_uri": url, "optuna": pg["urls"]["optuna"], "mlflow_db": pg["urls"]["mlflow"],
               "artifacts": tmp / "server-artifacts"}


@pytest.fixture(scope="session")
def team_features(small_world) -> Path:
    return build_features(small_world, FeatureConfig()).out


def team_yaml(folder: Path, optuna_url: str, trials: int = 4) -> Path:
    """A small but real training config: no tracking URI (MLFLOW_TRACKING_URI names the server), Optuna on the
    shared PostgreSQL, heartbeats fast enough that a killed worker's trial is failed within seconds."""
    cfg = {"seed": 11, "n_jobs": 1,
           "tuning": {"trials": trials, "num_boost_round": 150, "early_stopping_rounds": 10, "storage": optuna_url,
                      "heartbeat_interval_s": 1, "grace_period_s": 4},
           "win": SMALL, "amount": SMALL}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "training.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture()
def on_server(team, monkeypatch, tmp_path):
    """This test's commands talk to the team's server from a fresh project folder (no local store in it)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", team["tracking_uri"])
    monkeypatch.chdir(tmp_path)
    return team
