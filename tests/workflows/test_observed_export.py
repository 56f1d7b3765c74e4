"""Issue 10's export end to end: observed durations and flags, no stage history, no close date, few labels.

Every command runs in-process on it (import --check, import, features, train win, leakage with each
probability source and scope, explain, report), and a champion trained on simulated data is refused for it
unless forced.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from cvre.simulation.world import simulate_world
from tests.conftest import small_config
from tests.workflows.cli_helpers import cvre
from tests.workflows.observed_export import MAPPING, write_observed_export

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder (the working directory: its mlruns/ and configs/) with the export imported and featurised."""
    root = tmp_path_factory.mktemp("project")
    old = Path.cwd()
    os.chdir(root)
    env = pytest.MonkeyPatch()
    env.delenv("MLFLOW_TRACKING_URI", raising=False)  # an earlier fixture's store must not become this project's
    configs = root / "configs"
    configs.mkdir()
    (configs / "training.yaml").write_text("tuning:\n  trials: 1\n  num_boost_round: 100\n"
                                           "  early_stopping_rounds: 10\n", encoding="utf-8")
    write_observed_export(root / "export")
    yield root
    env.undo()
    os.chdir(old)


def test_issue_export_every_command(project):
    check = cvre("import", "export", "--mapping", str(MAPPING), "--check")
    assert check.code == 0, check.output
    assert "stalled from opportunities.days_in_stage (observed field)" in check.output
    assert not (project / "data").exists()

    ran = cvre("import", "export", "--mapping", str(MAPPING), "--out", "data/crm")
    assert ran.code == 0 and "900 read, 900 accepted, 0 rejected" in ran.output, ran.output
    ran = cvre("features", "--data", "data/crm")
    assert ran.code == 0, ran.output
    manifest = json.loads((project / "data/crm/features/feature_manifest.json").read_text())
    assert manifest["feature_sources"]["days_in_stage"] == "observed"
    assert manifest["feature_sources"]["activities_total"] == "events"
    assert manifest["feature_sources"]["close_date_overdue"] == "absent"
    assert manifest["data_source"]["kind"] == "import"
    train = pd.read_parquet(project / "data/crm/features/deals_train.parquet")
    assert len(train) > 100 and train["age_days"].min() >= 0  # closed deals without a close date are rows

    # no model yet: leakage still answers, from the CRM's own probability, and says so
    ran = cvre("leakage", "--data", "data/crm", "--all")
    assert ran.code == 0, ran.output
    assert "probability: crm" in ran.output and "all opportunities, open and closed" in ran.output
    assert f"stores: MLflow sqlite:///{project / 'mlruns' / 'mlflow.db'}" in ran.output
    ran = cvre("leakage", "--data", "data/crm", "--probability", "stage_rates")
    assert ran.code == 0 and "stage_rates" in ran.output and "open pipeline only" in ran.output

    ran = cvre("train", "win", "--features", "data/crm/features")
    assert ran.code == 0, ran.output
    assert "low_data model" in ran.output and "below the minimum of 200 / 200 a full model needs" in ran.output
    ran = cvre("leakage", "--data", "data/crm")
    assert ran.code == 0 and "probability: model: champion cvre-win v1" in ran.output and "low_data" in ran.output
    for args in (("explain", "--data", "data/crm", "--no-progress"), ("report", "--data", "data/crm")):
        ran = cvre(*args)
        assert ran.code == 0, ran.output


def permissive_training(project: Path) -> Path:
    """A lower minimum makes small data a "full" model, and the gate lets it through."""
    full = project / "full.yaml"
    full.write_text("tuning:\n  trials: 1\n  num_boost_round: 100\n  early_stopping_rounds: 10\nwin:\n"
                    "  min_positive: 20\n  min_negative: 20\n  baseline_margin: -1.0\n  auc_tolerance: 1.0\n",
                    encoding="utf-8")
    return full


def test_full_model_replaces_low_data_and_never_the_reverse(project):
    ran = cvre("train", "win", "--features", "data/crm/features", "--config", str(permissive_training(project)))
    assert ran.code == 0 and "a full model replaces the low_data champion" in ran.output, ran.output
    ran = cvre("train", "win", "--features", "data/crm/features")  # the default minimum: low_data again
    assert ran.code == 0 and "never replaces the full champion" in ran.output, ran.output


def test_champion_of_another_source_is_refused_unless_forced(project):
    simulate_world(small_config(deals=400, seed=11), project / "data/world", progress=False)
    assert cvre("features", "--data", "data/world").code == 0
    ran = cvre("train", "win", "--features", "data/world/features", "--config", str(permissive_training(project)))
    assert ran.code == 0 and "champion" in ran.output.split("low_data")[0], ran.output
    ran = cvre("leakage", "--data", "data/crm", "--probability", "model")
    assert ran.clean and ran.code == 2, ran.output
    assert "trained on simulated data, this data is import 'crm_observed_fields'" in ran.output
    assert "cvre train win" in ran.output and "--force" in ran.output
    forced = cvre("leakage", "--data", "data/crm", "--probability", "model", "--force")  # past the source check,
    assert forced.clean and forced.code == 2 and "trained on simulated data" not in forced.output  # the model's
    assert "feature(s) this data lacks" in forced.output and "tables.stage_history" in forced.output  # own needs
    ran = cvre("monitor", "win", "--features", "data/crm/features")
    assert ran.code == 1 and "trained on simulated data" in ran.output and "shows the traceback" not in ran.output
    ran = cvre("leakage", "--data", "data/crm")  # auto: the foreign champion is passed over, not used
    assert ran.code == 0 and "probability: crm" in ran.output, ran.output
