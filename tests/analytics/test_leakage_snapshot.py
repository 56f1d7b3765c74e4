"""`cvre leakage` reads deal rows through the feature run: after `cvre features --as-of D`, a plain leakage run
scores at D, on the feature run's own rows."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from cvre.analytics.config import LeakageConfig
from cvre.analytics.dashboards.data import deal_context
from cvre.analytics.run import leakage_snapshot, run_leakage
from cvre.features.config import DealFeatureConfig, FeatureConfig
from cvre.features.pipeline import build_features

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world_copy(small_world, tmp_path_factory):
    out = tmp_path_factory.mktemp("leakage-snapshot") / "world"
    shutil.copytree(small_world, out, ignore=shutil.ignore_patterns("features", "leakage", "reports"))
    return out


def test_plain_leakage_scores_at_the_feature_runs_snapshot(world_copy, tmp_path):
    default = leakage_snapshot(world_copy, None)  # no feature run yet: the data's own date
    earlier = (default - pd.Timedelta(days=120)).normalize()
    run = build_features(world_copy, FeatureConfig(), as_of_override=str(earlier.date()))
    assert leakage_snapshot(world_copy, None) == earlier
    result = run_leakage(world_copy, LeakageConfig(probability="stage_rates"), out=tmp_path / "leakage")
    assert result.headline["as_of"] == str(earlier.date())
    scored = pd.read_parquet(tmp_path / "leakage" / "deals.parquet")
    open_rows = pd.read_parquet(run.out / "deals_score.parquet")
    assert sorted(scored["opportunity_id"]) == sorted(open_rows["opportunity_id"])
    assert result.headline["deals"] == len(open_rows) and result.headline["rules_version"].startswith("v")


def test_dashboard_deals_use_the_settings_the_leakage_run_used(world_copy, tmp_path):
    """Issue 12: the dashboards rebuild the leakage run's deals with the deal settings that run used (a champion's
    spec, recorded in headline.json), not with features.yaml's."""
    result = run_leakage(world_copy, LeakageConfig(probability="stage_rates"), out=tmp_path / "leakage")
    assert result.headline["deal_features"] is None  # no champion: the feature run's own rows and settings
    used = DealFeatureConfig(activity_windows_days=[14])
    deals = deal_context(world_copy, result.headline | {"deal_features": used.model_dump(mode="json")})
    assert "activities_14d" in deals.columns and "activities_7d" not in deals.columns
    assert "activities_7d" in deal_context(world_copy, result.headline).columns
