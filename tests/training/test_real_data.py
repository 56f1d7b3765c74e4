"""Real exports end to end: import through the shipped mapping, build features, train with a small budget."""

from pathlib import Path

import pytest

from cvre.core.config import PACKAGE_CONFIG_DIR
from cvre.features.config import FeatureConfig
from cvre.features.pipeline import build_features
from cvre.ingest.run import run_import
from cvre.training.tracking import setup_tracking
from cvre.training.train import train_task
from tests.conftest import DATASETS
from tests.training.test_training import tiny_config

MAPPINGS = PACKAGE_CONFIG_DIR / "mappings"
pytestmark = [pytest.mark.slow, pytest.mark.real_data,
              pytest.mark.skipif(not DATASETS.exists(), reason="../shared/datasets not present")]


def _train(name: str, mapping: str, task: str, tmp_path: Path):
    data = tmp_path / name
    run_import(DATASETS / name, MAPPINGS / mapping, data)
    features = build_features(data, FeatureConfig())
    cfg = tiny_config(tmp_path / "ml")
    cfg.lead.min_positive = cfg.win.min_positive = 200
    cfg.lead.min_negative = cfg.win.min_negative = 200
    setup_tracking(cfg.tracking)
    return features, train_task(features.out, task, cfg)


def test_x_education_lead_conversion_beats_chance_and_the_prior(tmp_path):
    features, result = _train("x_education_leads", "x_education_leads.yaml", "lead", tmp_path)
    assert "leads_train" in features.rows
    assert result.metrics["auc"] > 0.75
    assert result.metrics["brier"] < result.metrics["baseline_prior_brier"]


def test_maven_win_model_never_sees_the_leaky_amount(tmp_path):
    features, result = _train("maven_crm", "maven_crm.yaml", "win", tmp_path)
    assert any("revealing the outcome" in w for w in features.warnings)
    import pandas as pd

    train = pd.read_parquet(features.out / "deals_train.parquet")
    assert "amount" not in train.columns and "list_price" in train.columns
    # Maven carries little signal (published models reach ~0.54): the model must not look better than that
    assert 0.35 < result.metrics["auc"] < 0.65
