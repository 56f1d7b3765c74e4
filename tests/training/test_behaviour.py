"""Behavioural tests of a trained win model (Made-With-ML's kind), on a real LightGBM model trained through
`train_task` on the session's small simulated world: direction where the config constrains it, invariance to ids
and a rep's name, minimum functionality, and the API's grade bands against observed win rates."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from cvre.core.config import ConfigError
from cvre.features.config import FeatureConfig
from cvre.features.pipeline import build_features
from cvre.training.config import WIN_MONOTONE, TrainingConfig
from cvre.training.constraints import constraint_params
from cvre.training.data import load_task
from cvre.training.metrics import grade_table
from cvre.training.tracking import setup_tracking
from cvre.training.train import train_task
from cvre.training.tuning import base_params, fit_booster
from tests.training.test_training import tiny_config

GOOD = {"lead_response_hours": 1.0, "slow_lead_response": 0.0, "lead_unanswered": 0.0, "no_activity": 0.0,
        "max_days_in_stage": 5.0, "stalled": 0.0, "moves_without_activity": 0.0}
BAD = {"lead_response_hours": 240.0, "slow_lead_response": 1.0, "lead_unanswered": 0.0, "no_activity": 1.0,
       "activities_per_30d": 0.0, "max_days_in_stage": 90.0, "stalled": 1.0, "moves_without_activity": 3.0}


@pytest.fixture(scope="module")
def features_dir(small_world, tmp_path_factory) -> Path:
    return build_features(small_world, FeatureConfig(), out=tmp_path_factory.mktemp("behaviour") / "features").out


@pytest.fixture(scope="module")
def win_model(features_dir, tmp_path_factory):
    """The default config's constraints (TrainingConfig's win.monotone), a short real study."""
    cfg = tiny_config(tmp_path_factory.mktemp("mlflow-behaviour"))
    setup_tracking(cfg.tracking)
    result = train_task(features_dir, "win", cfg)
    return mlflow.pyfunc.load_model(f"runs:/{result.run_id}/model").unwrap_python_model(), result


@pytest.fixture(scope="module")
def test_rows(features_dir) -> pd.DataFrame:
    return pd.read_parquet(features_dir / "deals_test.parquet").reset_index(drop=True)


def score(model, rows: pd.DataFrame) -> np.ndarray:
    return model.predict(None, rows)["probability"].to_numpy()


def direction_violations(scorer, rows: pd.DataFrame, feature: str, direction: int, grid: np.ndarray) -> int:
    """Rows whose score moves against `direction` anywhere along `grid` (all other features held)."""
    curves = np.column_stack([scorer(rows.assign(**{feature: value})) for value in grid])
    steps = np.diff(curves, axis=1) * direction
    return int((steps < -1e-9).any(axis=1).sum())


def grid_for(train: pd.DataFrame, feature: str) -> np.ndarray:
    values = train[feature].dropna()
    if set(values.unique()) <= {0, 1}:
        return np.array([0.0, 1.0])
    return np.unique(np.concatenate([[0.0], values.quantile(np.linspace(0, 1, 15)).to_numpy(), [values.max() * 3]]))


@pytest.mark.slow  # one real study on the session's world: ~90 s for the module under load
def test_direction_holds_for_every_constrained_feature(win_model, features_dir, test_rows):
    model, _ = win_model
    train = pd.read_parquet(features_dir / "deals_train.parquet")
    rows = test_rows.sample(120, random_state=1)
    checked = [f for f in WIN_MONOTONE if f in model.spec["features"]]
    assert len(checked) >= 6, checked  # the simulated world has them all but a rare flag or two
    bad = {f: direction_violations(lambda r: score(model, r), rows, f, WIN_MONOTONE[f], grid_for(train, f))
           for f in checked}
    assert not any(bad.values()), f"rows scored against the constraint, per feature: {bad}"


@pytest.mark.slow
def test_the_direction_check_catches_an_unconstrained_model(features_dir, test_rows):
    """The same data without constraints: the check above finds rows scored the wrong way (so it can fail)."""
    data = load_task(features_dir, "win")
    cfg = TrainingConfig(seed=42)
    cfg.tuning.num_boost_round = 200
    booster = fit_booster(base_params("win", cfg) | {"num_leaves": 31, "min_child_samples": 5}, data, cfg)
    train = pd.read_parquet(features_dir / "deals_train.parquet")
    rows = test_rows.sample(120, random_state=1)
    feats, cats = data.features, data.categories

    def raw(r):
        from cvre.training.data import prepare_frame
        return booster.predict(prepare_frame(r, feats, cats))

    found = sum(direction_violations(raw, rows, f, d, grid_for(train, f)) for f, d in WIN_MONOTONE.items()
                if f in feats)
    assert found > 0


@pytest.mark.slow
def test_ids_and_names_do_not_change_a_score(win_model, test_rows):
    model, _ = win_model
    rows = test_rows.head(100)
    relabelled = rows.assign(opportunity_id="OPP-X-" + rows["opportunity_id"].astype(str),
                             account_id="ACC-other", owner_id="REP-someone-else", lead_id=None,
                             owner_name="A. Nother Name", rep_name="Someone")
    assert np.array_equal(score(model, rows), score(model, relabelled))


@pytest.mark.slow
def test_renamed_reps_and_relabelled_deals_give_the_same_features_and_scores(win_model, small_world, features_dir,
                                                                               tmp_path, test_rows):
    """Through the feature pipeline: every rep renamed and every opportunity id relabelled in the export."""
    model, _ = win_model
    copy = tmp_path / "world"
    shutil.copytree(small_world / "export", copy / "export")
    shutil.copy(small_world / "manifest.json", copy / "manifest.json")
    reps = pd.read_parquet(copy / "export/reps.parquet")
    reps["rep_name"] = "Renamed " + reps["rep_name"].astype(str).str[::-1]
    reps.to_parquet(copy / "export/reps.parquet")
    for path in (copy / "export").glob("*.parquet"):
        table = pd.read_parquet(path)
        if "opportunity_id" in table.columns:
            table["opportunity_id"] = "Z" + table["opportunity_id"].astype("string")
            table.to_parquet(path)
    rebuilt = pd.read_parquet(build_features(copy, FeatureConfig()).out / "deals_test.parquet")
    rebuilt["opportunity_id"] = rebuilt["opportunity_id"].astype(str).str.removeprefix("Z")
    rebuilt = rebuilt.set_index("opportunity_id").loc[test_rows["opportunity_id"].astype(str)].reset_index()
    assert len(rebuilt) == len(test_rows)
    np.testing.assert_array_equal(score(model, test_rows), score(model, rebuilt))


@pytest.mark.slow
def test_obvious_deals_are_scored_the_obvious_way(win_model, features_dir, test_rows):
    """Same deal context, once answered in an hour, active and moving; once ignored, silent and stalled."""
    model, _ = win_model
    train = pd.read_parquet(features_dir / "deals_train.parquet")
    rows = test_rows.sample(60, random_state=2)
    good = rows.assign(**GOOD, activities_per_30d=train["activities_per_30d"].quantile(0.9))
    bad = rows.assign(**BAD)
    gap = score(model, good) - score(model, bad)
    assert (gap > 0).all(), f"{int((gap <= 0).sum())} of {len(gap)} obvious pairs not ordered"
    assert np.median(gap) > 0.15, np.median(gap)
    prob, won = score(model, test_rows), test_rows["won"].to_numpy()
    top, bottom = prob >= np.quantile(prob, 0.8), prob <= np.quantile(prob, 0.2)
    assert won[top].mean() > won[bottom].mean() + 0.2  # the best-scored fifth wins far more than the worst


@pytest.mark.slow
def test_grade_bands_hold_against_observed_win_rates(win_model, test_rows):
    """Each grade the API returns (A 75-100, B 50-74, C 25-49, D 0-24) against the test split's win rate: the
    rates fall from A to D, and each grade's rate lies in its band within sampling error (3 s.e., >= 20 deals)."""
    model, result = win_model
    table = grade_table(test_rows["won"].to_numpy(), score(model, test_rows))
    graded = table[table["deals"] >= 20]
    assert len(graded) >= 3, table
    assert graded["observed"].is_monotonic_decreasing, table
    se = np.sqrt(graded["observed"].clip(0.05, 0.95) * (1 - graded["observed"].clip(0.05, 0.95)) / graded["deals"])
    outside = graded[(graded["observed"] < graded["band_low"] - 3 * se) | (graded["observed"] > graded["band_high"]
                                                                           + 3 * se)]
    assert outside.empty, f"grades whose observed win rate is outside their band:\n{table}"
    logged = mlflow.get_run(result.run_id).data.metrics
    for g in graded.index:
        assert logged[f"test_grade_{g}_observed_rate"] == pytest.approx(graded.loc[g, "observed"])
    assert 0 <= logged["test_ece"] < 0.15
    plots = {Path(a.path).name for a in mlflow.MlflowClient().list_artifacts(result.run_id, "plots")}
    assert {"reliability.png", "grades.png"} <= plots


@pytest.mark.slow
def test_amount_never_falls_with_the_list_price(features_dir, test_rows, tmp_path):
    """The amount model trains with its constraint (its p10/p90 boosters without: LightGBM's quantile objective
    refuses monotone constraints) and a higher list price never lowers the expected amount."""
    cfg = tiny_config(tmp_path)
    cfg.tuning.trials = 2
    setup_tracking(cfg.tracking)
    result = train_task(features_dir, "amount", cfg)
    model = mlflow.pyfunc.load_model(f"runs:/{result.run_id}/model").unwrap_python_model()
    rows = test_rows.sample(80, random_state=3)
    prices = pd.read_parquet(features_dir / "deals_train.parquet")["list_price"].dropna()
    grid = np.quantile(prices, [0, .25, .5, .75, 1])
    amount = lambda r: model.predict(None, r)["amount"].to_numpy()  # noqa: E731
    assert direction_violations(amount, rows, "list_price", 1, grid) == 0
    assert "amount_p90" in model.predict(None, rows.head(3)).columns


def test_constraint_names_are_checked_against_the_feature_list():
    cfg = TrainingConfig()
    task = cfg.win.model_copy(update={"monotone": {"lead_respons_hours": -1}})
    with pytest.raises(ConfigError, match="unknown feature.*lead_respons_hours.*win features are"):
        constraint_params("win", task, ["a", "b"], ["a", "b", "lead_response_hours"])
    task = cfg.win.model_copy(update={"monotone": {"b": 1, "absent_here": -1}, "interactions": [["a", "c"]]})
    params = constraint_params("win", task, ["a", "b", "c", "d"], ["a", "b", "c", "d", "absent_here"])
    assert params["monotone_constraints"] == [0, 1, 0, 0]
    assert params["interaction_constraints"] == [[0, 2], [1, 3]]  # the features in no group: one group together


def test_linear_tree_is_never_searched_with_monotone_constraints():
    only_linear = {"space": {"linear_tree": [True]}, "first_trial": {"linear_tree": True}}
    with pytest.raises(ValueError, match="linear_tree.*win, amount"):
        TrainingConfig.model_validate({"tuning": only_linear})
    cfg = TrainingConfig.model_validate({"tuning": only_linear, "win": {"monotone": {}}, "amount": {"monotone": {}}})
    assert cfg.tuning.space.linear_tree == [True]
    with pytest.raises(ValueError, match="first_trial.linear_tree"):
        TrainingConfig.model_validate({"tuning": {"space": {"linear_tree": [False]}, "first_trial": {"linear_tree":
                                                                                                     True}}})
