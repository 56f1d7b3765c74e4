"""Leakage drivers on a small simulated world with a real (tiny) LightGBM win model and its calibration."""

from pathlib import Path

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.isotonic import IsotonicRegression

from cvre.analytics.config import LeakageConfig
from cvre.analytics.drivers.attribution import additivity_error, attribute, secant_slopes
from cvre.analytics.drivers.config import ExplainConfig
from cvre.analytics.drivers.groups import OTHER, feature_groups, group_names, membership
from cvre.analytics.drivers.run import explain_deals, run_explain
from cvre.analytics.drivers.sampling import inclusion_probabilities
from cvre.analytics.drivers.summary import group_column
from cvre.analytics.rules import impute_amounts
from cvre.analytics.run import scoped_deals
from cvre.core.config import ConfigError, load_config
from cvre.features.config import FeatureConfig
from cvre.features.pipeline import build_features, resolve_as_of
from cvre.training.data import load_task
from cvre.training.model import CvreModel, save_artifacts

pytestmark = pytest.mark.slow
ALL = LeakageConfig(scope="all")


@pytest.fixture(scope="module")
def model_dir(small_world, tmp_path_factory) -> Path:
    """A real win model (40 trees + isotonic calibration) saved as the same pyfunc that training registers."""
    data = load_task(build_features(small_world, FeatureConfig()).out, "win")
    params = {"objective": "binary", "num_leaves": 15, "learning_rate": 0.1, "verbosity": -1, "seed": 3,
              "deterministic": True, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(data.X["train"], data.y["train"]), num_boost_round=40)
    calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(
        booster.predict(data.X["valid"]), data.y["valid"])
    tmp = tmp_path_factory.mktemp("explain-model")
    artifacts = save_artifacts(tmp / "parts", "win", data.features, data.categories, booster, calibrator)
    mlflow.pyfunc.save_model(str(tmp / "model"), python_model=CvreModel(), artifacts=artifacts)
    return tmp / "model"


@pytest.fixture(scope="module")
def model(model_dir):
    return mlflow.pyfunc.load_model(str(model_dir)).unwrap_python_model()


@pytest.fixture(scope="module")
def deals(small_world) -> pd.DataFrame:
    return scoped_deals(small_world, resolve_as_of(small_world, FeatureConfig(), None), "all")


@pytest.fixture(scope="module")
def drivers(deals, model):
    return explain_deals(deals, model, ExplainConfig(batch_rows=1000, plot_sample=300), ALL, progress=False)


def test_contributions_and_base_add_up_to_the_raw_margin(model, deals):
    X = model.features(deals)
    contrib = model.booster.predict(X, pred_contrib=True)
    assert contrib.shape == (len(X), X.shape[1] + 1)
    np.testing.assert_allclose(contrib.sum(axis=1), model.booster.predict(X, raw_score=True), atol=1e-9)
    assert additivity_error(model.booster, X) < 1e-9


def test_probability_is_the_served_models(drivers, model, deals):
    served = model.predict(None, deals)["probability"].to_numpy()
    np.testing.assert_allclose(drivers.tables["deals"]["win_probability"], served, atol=1e-9)


def test_euros_of_each_deal_add_up_to_its_shortfall(drivers):
    table = drivers.tables["deals"]
    base = drivers.attr.base_probability
    np.testing.assert_allclose(table["shortfall_eur"], table["amount_used"] * (base - table["win_probability"]),
                               rtol=1e-9, atol=1e-6)
    euros = table[[c for c in table if c.startswith("eur_")]].sum(axis=1)
    np.testing.assert_allclose(euros, table["shortfall_eur"], rtol=1e-4, atol=0.05)  # float32 storage
    assert (table["shortfall_eur"] > 0).any() and (table["shortfall_eur"] < 0).any()
    assert (table["driver_1_eur"] >= table["driver_2_eur"]).all()


def test_batches_do_not_change_the_result(model, deals):
    X, amount = model.features(deals), impute_amounts(deals).to_numpy()
    groups = membership(list(X.columns), ExplainConfig().groups)
    one, many = (attribute(model.booster, X, amount, model.calibrator, groups, rows, 100, 1, progress=False)
                 for rows in (len(X), 1000))
    np.testing.assert_allclose(one.group_eur, many.group_eur, rtol=1e-6, atol=1e-3)
    np.testing.assert_array_equal(one.sample_index, many.sample_index)
    np.testing.assert_allclose(one.sample_eur, many.sample_eur, rtol=1e-9)


def test_secant_slope_is_the_links_slope_and_the_local_one_at_the_base():
    p, slope, p_base = secant_slopes(np.array([-1.0, 1.0, 3.0]), 1.0, lambda m: 2.0 * np.asarray(m) + 1.0)
    np.testing.assert_allclose(slope, [2.0, 2.0, 2.0])
    assert p_base == 3.0 and p.tolist() == [-1.0, 3.0, 7.0]


def test_every_feature_has_one_group():
    features = ["emails_7d", "activities_total", "owner_win_rate", "is_open", "lead_response_hours", "mystery"]
    groups = feature_groups(features, ExplainConfig().groups)
    assert groups == ["activity", "activity", "owner & account history", "deal context", "lead response", OTHER]
    assert group_names(features, ExplainConfig().groups)[-1] == OTHER
    np.testing.assert_array_equal(membership(features, ExplainConfig().groups).sum(axis=1), 1.0)
    assert group_column("owner & account history") == "eur_owner_account_history"


def test_group_summary_totals_are_the_deals_sums(drivers):
    table, by_group = drivers.tables["deals"], drivers.tables["drivers_by_group"].set_index("group")
    for group, row in by_group.iterrows():
        assert row["cost_eur"] == pytest.approx(table[group_column(group)].clip(lower=0).sum(), rel=1e-5)
        assert row["net_eur"] == pytest.approx(table[group_column(group)].sum(), rel=1e-4, abs=1.0)
    assert drivers.headline["method"] == "exact" and drivers.headline["behaviour_cost_se_eur"] == 0.0
    by_tier = drivers.tables["drivers_by_segment"].query("slicer == 'tier'")
    assert by_tier["shortfall_eur"].sum() == pytest.approx(drivers.headline["shortfall_eur"], rel=1e-9)
    assert {"tier", "industry", "owner_id", "lead_source", "created_year"} == set(
        drivers.tables["drivers_by_segment"]["slicer"])


def test_inclusion_probabilities():
    amount = np.array([0.0, 10.0, 10.0, 20.0, 1000.0, 40.0])
    pi = inclusion_probabilities(amount, 3, certain=np.array([1]))
    assert pi.sum() == pytest.approx(3.0) and pi[0] == 0.0 and pi[1] == 1.0 and pi[4] == 1.0
    assert pi[3] == pytest.approx(2 * pi[2])


def test_sample_estimates_bracket_the_exact_totals(deals, model, drivers):
    cfg = ExplainConfig(exact_max_deals=500, sample_deals=600, plot_sample=100, top_deals=3)
    sampled = explain_deals(deals, model, cfg, ALL, progress=False)
    h, exact = sampled.headline, drivers.headline
    assert h["method"] == "sample" and h["attributed_deals"] < 0.6 * h["deals"]
    assert h["shortfall_eur"] == pytest.approx(exact["shortfall_eur"])  # exact over every deal either way
    assert h["behaviour_cost_se_eur"] > 0
    assert abs(h["behaviour_cost_eur"] - exact["behaviour_cost_eur"]) < 3 * h["behaviour_cost_se_eur"]
    top = np.argsort(-drivers.tables["deals"]["shortfall_eur"].to_numpy())[:3]
    assert set(drivers.tables["deals"]["opportunity_id"].iloc[top]) <= set(sampled.tables["deals"]["opportunity_id"])


def test_run_writes_tables_plots_and_a_self_contained_report(small_world, model, tmp_path):
    cfg = ExplainConfig(top_deals=2, plot_sample=200, max_display=8)
    run = run_explain(small_world, cfg, tmp_path / "explain", leakage=ALL, model=model, progress=False)
    for name in ("deals", "drivers_by_group", "drivers_by_feature", "drivers_by_segment"):
        assert (run.out / f"{name}.parquet").exists() and (run.out / f"{name}.csv").exists()
    for name in ("shap_bar", "shap_beeswarm", "driver_groups"):
        assert (run.out / "plots" / f"{name}.png").stat().st_size > 5000
    assert len(list((run.out / "plots").glob("waterfall_*.png"))) == 2
    html = (run.out / "report.html").read_text()
    h = run.headline
    for figure in (h["ev"], h["shortfall_eur"], h["behaviour_cost_eur"], h["top_behaviour_cost_eur"]):
        assert f"EUR {figure:,.0f}" in html
    assert html.count("data:image/png;base64,") == 5 and "src=\"plots/" not in html
    assert h["top_behaviour"] in html and "TreeSHAP" in html
    assert len(pd.read_csv(run.out / "deals.csv")) == h["deals"]


def test_config_names_the_bad_key(tmp_path):
    path = tmp_path / "explain.yaml"
    path.write_text("behaviours: [lead response, gossip]\n")
    with pytest.raises(ConfigError, match="behaviours.*gossip"):
        load_config(ExplainConfig, path, "explain.yaml")


def _cli(args, tmp_path):
    from typer.testing import CliRunner

    from cvre.cli.main import app

    return CliRunner().invoke(app, args, env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'm.db'}",
                                              "COLUMNS": "200"})


def test_cli_help_documents_every_option(tmp_path):
    result = _cli(["explain", "--help"], tmp_path)
    assert result.exit_code == 0, result.output
    for option in ("--data", "--as-of", "--scope", "--model", "--top", "--exact", "--out", "--config",
                   "--leakage-config", "--progress"):
        assert option in result.output


def test_cli_run_writes_the_report_and_logs_to_mlflow(small_world, model_dir, tmp_path):
    result = _cli(["explain", "--data", str(small_world), "--scope", "all", "--model", str(model_dir),
                   "--top", "1", "--out", str(tmp_path / "out"), "--no-progress"], tmp_path)
    assert result.exit_code == 0, result.output
    assert "behaviours cost" in result.output and "report:" in result.output
    assert (tmp_path / "out" / "report.html").exists()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'm.db'}")
    runs = mlflow.search_runs(experiment_names=["cvre-explain"])
    assert len(runs) == 1 and runs["metrics.behaviour_cost_eur"].iloc[0] > 0
    assert "explain/report.html" in {a.path for a in mlflow.MlflowClient().list_artifacts(
        runs["run_id"].iloc[0], "explain")}


def test_cli_without_a_champion_says_what_to_do(small_world, tmp_path):
    result = _cli(["explain", "--data", str(small_world), "--out", str(tmp_path / "out")], tmp_path)
    assert result.exit_code == 2
    assert "cvre train win" in " ".join(result.output.split()) and not (tmp_path / "out").exists()
