"""Real datasets through every command that applies: the per-customer churn label (Orange telecom, its own
80/20 split) and a real CRM (Maven) through leakage and report without a model trained on it."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from cvre.core.config import PACKAGE_CONFIG_DIR
from cvre.features.config import FeatureConfig
from cvre.features.pipeline import build_features
from cvre.ingest.run import run_import
from cvre.training.tracking import setup_tracking
from cvre.training.train import train_task
from tests.conftest import DATASETS
from tests.training.test_training import tiny_config
from tests.workflows.cli_helpers import cvre

MAPPINGS = PACKAGE_CONFIG_DIR / "mappings"
pytestmark = [pytest.mark.slow, pytest.mark.real_data,
              pytest.mark.skipif(not DATASETS.exists(), reason="../shared/datasets not present")]


def test_orange_churn_label_and_published_split(tmp_path):
    report = run_import(DATASETS / "orange_telecom_churn", MAPPINGS / "orange_telecom_churn.yaml", tmp_path / "o")
    accounts = report.tables["accounts"]
    assert (accounts.rows_read, accounts.accepted, accounts.rejected) == (3333, 3333, 0)
    run = build_features(tmp_path / "o", FeatureConfig())
    test = pd.read_parquet(run.out / "clients_test.parquet")
    assert len(test) == 667 and set(test["x_split"]) == {"test"}  # the published 20% file is the test split
    assert test["churned"].sum() == 95  # as published
    assert "x_split" not in run.client_features and "x_service_calls" in run.client_features
    cfg = tiny_config(tmp_path / "ml")
    cfg.churn.min_positive = cfg.churn.min_negative = 100
    if hasattr(cfg.tuning.space, "linear_tree"):  # SHAP plots need plain trees
        cfg.tuning.space.linear_tree = [False]
    setup_tracking(cfg.tracking)
    result = train_task(run.out, "churn", cfg)
    assert not result.low_data
    assert result.metrics["auc"] > 0.8
    assert result.metrics["brier"] < result.metrics["baseline_prior_brier"]


def test_orange_has_no_deals_for_leakage(tmp_path):
    run_import(DATASETS / "orange_telecom_churn", MAPPINGS / "orange_telecom_churn.yaml", tmp_path / "o")
    ran = cvre("leakage", "--data", str(tmp_path / "o"), "--out", str(tmp_path / "leak"))
    assert ran.clean and ran.code == 2 and "no opportunities table" in ran.output, ran.output


def test_maven_leakage_and_report_without_a_model(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # an earlier test's store must not leak in
    old = Path.cwd()
    os.chdir(tmp_path)  # its own project folder: an empty MLflow store, so no champion
    try:
        run_import(DATASETS / "maven_crm", MAPPINGS / "maven_crm.yaml", tmp_path / "maven")
        ran = cvre("leakage", "--data", "maven")
        assert ran.code == 0 and "probability: stage_rates" in ran.output, ran.output
        assert "open pipeline only" in ran.output and str(tmp_path / "mlruns") in ran.output
        everything = cvre("leakage", "--data", "maven", "--all")  # seed 000's headline scope, causal step included
        assert everything.code == 0 and "covers all opportunities" in everything.output, everything.output
        assert cvre("report", "--data", "maven").code == 0
    finally:
        os.chdir(old)
