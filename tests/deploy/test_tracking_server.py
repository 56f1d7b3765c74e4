"""Every `cvre` command against a team's tracking server: `mlflow server` on PostgreSQL, artifacts served by the
server, reached only through MLFLOW_TRACKING_URI (nothing written to a local store)."""

from __future__ import annotations

import psycopg
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from cvre.cli.main import app
from tests.deploy.conftest import team_yaml

pytestmark = pytest.mark.slow
runner = CliRunner()


def cvre(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _rows(db_url: str, sql: str) -> list[tuple]:
    with psycopg.connect(db_url.replace("postgresql+psycopg", "postgresql")) as conn:
        return conn.execute(sql).fetchall()


def test_train_models_leakage_monitor_on_the_server(on_server, team_features, small_world, tmp_path):
    config = team_yaml(tmp_path / "cfg", on_server["optuna"], trials=2)
    trained = cvre("train", "win", "--features", str(team_features), "--config", str(config))
    assert trained.exit_code == 0, trained.output
    assert f"MLflow {on_server['tracking_uri']}" in trained.output and "champion" in trained.output

    client = MlflowClient(on_server["tracking_uri"])
    version = client.get_model_version_by_alias("cvre-win", "champion")
    run = client.get_run(version.run_id)
    assert run.info.artifact_uri.startswith("mlflow-artifacts:"), run.info.artifact_uri  # stored by the server
    assert any(on_server["artifacts"].rglob("MLmodel"))  # ... in its artifacts destination
    assert not (tmp_path / "mlruns").exists()  # and nothing in the project folder
    runs = _rows(on_server["mlflow_db"], "select count(*) from runs where status = 'FINISHED'")[0][0]
    assert runs >= 3  # the training run and its 2 trials, in PostgreSQL
    studies = _rows(on_server["optuna"], "select study_name from studies")
    assert any(name.startswith("cvre-win-") for (name,) in studies)

    listed = cvre("models", "list")
    assert listed.exit_code == 0 and "cvre-win" in listed.output and "champion" in listed.output
    promoted = cvre("models", "promote", "cvre-win", version.version)
    assert promoted.exit_code == 0, promoted.output

    leakage = cvre("leakage", "--data", str(small_world), "--probability", "model", "--out", str(tmp_path / "leak"))
    assert leakage.exit_code == 0, leakage.output
    assert (tmp_path / "leak").is_dir() and any((tmp_path / "leak").iterdir())

    small = tmp_path / "cfg" / "monitor.yaml"  # the small world's open deals: fewer than the default minimum
    small.write_text("drift:\n  min_rows: 10\nreport:\n  evidently: false\n")
    monitored = cvre("monitor", "win", "--features", str(team_features), "--out", str(tmp_path / "monitor"),
                     "--config", str(small))
    assert monitored.exit_code in (0, 3), monitored.output  # ok or drift alert: it ran on the champion's reference
    assert "champion" in monitored.output or "cvre-win" in monitored.output
