import json

import pandas as pd
import pytest

from cvre.features.config import FeatureConfig
from cvre.features.contracts import DEAL_CONTRACT, ContractError, check_contract
from cvre.features.pipeline import build_features


@pytest.fixture(scope="module")
def feature_run(small_world):
    return build_features(small_world, FeatureConfig())


def test_every_table_is_written_and_split_by_time(feature_run):
    out = feature_run.out
    splits = {name: pd.read_parquet(out / f"deals_{name}.parquet") for name in ("train", "valid", "test")}
    assert all(len(s) for s in splits.values())
    assert splits["train"]["cutoff"].max() <= splits["valid"]["cutoff"].min()
    assert splits["valid"]["cutoff"].max() <= splits["test"]["cutoff"].min()
    score = pd.read_parquet(out / "deals_score.parquet")
    assert score["is_open"].all() and score["won"].isna().all()
    clients = pd.read_parquet(out / "clients_train.parquet")
    assert clients["churned"].isin([0.0, 1.0]).all() and clients["r_score"].between(1, 5).all()
    for name in ("contact_engagement", "campaign_funnel", "campaign_ab", "campaign_send_hour"):
        assert (out / f"{name}.parquet").exists()


def test_truth_is_kept_aside(feature_run):
    out = feature_run.out
    train = pd.read_parquet(out / "deals_train.parquet")
    assert not [c for c in train.columns if c.startswith("true_")]
    truth = pd.read_parquet(out / "deals_truth.parquet")
    assert set(train["opportunity_id"]) <= set(truth["opportunity_id"])
    client_truth = pd.read_parquet(out / "clients_truth.parquet")
    assert client_truth["true_churn_prob"].between(0, 1).all()


def test_manifest_lists_features(feature_run):
    manifest = json.loads((feature_run.out / "feature_manifest.json").read_text())
    assert "lead_response_hours" in manifest["deal_features"] and "won" not in manifest["deal_features"]
    assert "current_stage" in manifest["deal_categories"]
    assert manifest["rows"]["deals_train"] > 0


def test_campaign_funnel_is_monotone(feature_run):
    funnel = pd.read_parquet(feature_run.out / "campaign_funnel.parquet")
    assert (funnel["sent"] >= funnel["delivered"]).all() and (funnel["delivered"] >= funnel["read"]).all()
    assert (funnel["read"] >= funnel["replied"]).all()
    engagement = pd.read_parquet(feature_run.out / "contact_engagement.parquet")
    assert (engagement["high_intent"] == (engagement["replied"] > 3)).all()


def test_contract_names_the_column():
    bad = pd.DataFrame({"age_days": [-1.0, 2.0], "opportunity_id": ["a", "b"]})
    with pytest.raises(ContractError, match=r"age_days: 1 values outside \[0.0, None\], first at row 0"):
        check_contract(bad, DEAL_CONTRACT, "deals")
    with pytest.raises(ContractError, match="undeclared columns"):
        check_contract(pd.DataFrame({"mystery": [1]}), DEAL_CONTRACT, "deals")


def test_a_failed_table_write_fails_the_run_before_the_manifest(small_world, tmp_path):
    """Tables are written on a second thread: a write that fails still raises, and no manifest claims the run."""
    (tmp_path / "deals_train.parquet").mkdir()  # a folder where the table goes: writing it fails
    with pytest.raises(OSError):
        build_features(small_world, FeatureConfig(), out=tmp_path)
    assert not (tmp_path / "feature_manifest.json").exists()
