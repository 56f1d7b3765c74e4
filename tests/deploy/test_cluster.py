"""Point 3 of issue 18 on a real `distributed.LocalCluster`: the batch deal features per account partition equal
one pass to 1e-9 (also through `cvre features` with the scheduler's address in config), and `lightgbm.dask`
trained across the workers with shared bins ranks within 0.002 AUC of one machine."""

from __future__ import annotations

import lightgbm as lgb
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from cvre.cli.main import app
from cvre.core.io import read_tables
from cvre.deploy.cluster import deal_features_on_cluster
from cvre.deploy.cluster_training import COUNT_FREE_SPLITS, SAMPLE_PARAM, train_on_cluster
from cvre.features.config import FeatureConfig
from cvre.features.deal_table import build_deal_features
from cvre.features.snapshot import normalise_categories, tables_as_of
from cvre.training.data import load_task

distributed = pytest.importorskip("distributed", reason="dask's distributed is in the test extra")
pytestmark = pytest.mark.slow
SNAPSHOT = pd.Timestamp("2024-06-30")
runner = CliRunner()


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as local, distributed.Client(local) as client:
        yield client


def test_partitions_on_the_cluster_equal_one_pass(cluster, small_world):
    raw = {name: normalise_categories(frame, name) for name, frame in read_tables(small_world / "export").items()}
    cut = tables_as_of(raw, SNAPSHOT, normalise=False)
    whole, _ = build_deal_features(cut, SNAPSHOT, FeatureConfig().deals)
    rows, _ = deal_features_on_cluster(cut, SNAPSHOT, FeatureConfig().deals, cluster, parts=4)
    assert len(rows) == len(whole) > 500
    pd.testing.assert_frame_equal(rows, whole, check_exact=False, rtol=1e-9, atol=1e-9)  # the same order too


def test_cvre_features_builds_the_deals_on_the_scheduler_named_in_config(cluster, team_features, small_world,
                                                                        tmp_path):
    """`cluster.scheduler_address` in features.yaml: `cvre features` builds the deal rows per account partition
    on that cluster (the partitions run there: the task stream sees them) and writes what one process writes."""
    config = tmp_path / "features.yaml"
    address = cluster.scheduler_info()["address"]
    config.write_text(f"cluster:\n  scheduler_address: {address}\n  partitions: 3\n")
    with distributed.get_task_stream(cluster) as tasks:
        result = runner.invoke(app, ["features", "-d", str(small_world), "-o", str(tmp_path / "out"),
                                     "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert sum(t["key"].startswith("build_deal_features_partition") for t in tasks.data) == 3
    for name in ("deals_train", "deals_valid", "deals_test", "deals_score"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / f"{name}.parquet"),
                                      pd.read_parquet(team_features / f"{name}.parquet"), check_exact=False,
                                      rtol=1e-9, atol=1e-9)


def test_a_scheduler_that_does_not_answer_is_one_clear_line(small_world, tmp_path):
    config = tmp_path / "features.yaml"
    config.write_text("cluster:\n  scheduler_address: tcp://127.0.0.1:9\n  connect_timeout_s: 2\n")
    result = runner.invoke(app, ["features", "-d", str(small_world), "-o", str(tmp_path / "out"), "-c", str(config)])
    assert result.exit_code == 2
    assert "cluster.scheduler_address tcp://127.0.0.1:9: no Dask scheduler answers" in result.output
    assert "Traceback" not in result.output


def test_lightgbm_dask_with_shared_bins_matches_one_machine_on_the_win_data(cluster, team_features):
    """The win task's own train/test split (categories included), the same seeded parameters on one machine and
    across the cluster's 2 workers (data-parallel: each worker holds half the rows), with no split decided on row
    counts (`COUNT_FREE_SPLITS`: data-parallel LightGBM only estimates a leaf's rows from hessian sums)."""
    import dask.dataframe as dd

    data = load_task(team_features, "win")
    X, y, X_test, y_test = data.X["train"], data.y["train"], data.X["test"], data.y["test"]
    params = {"n_estimators": 200, "learning_rate": 0.05, "num_leaves": 15, "random_state": 7, "verbose": -1,
              **COUNT_FREE_SPLITS, "min_child_weight": 2.0}
    local = lgb.LGBMClassifier(**params).fit(X, y)
    parts = dd.from_pandas(X, npartitions=2), dd.from_pandas(pd.Series(y, index=X.index), npartitions=2)
    spread = train_on_cluster(cluster, *parts, params)
    assert "[num_machines: 2]" in spread.booster_.model_to_string()  # really trained across both workers
    p_local, p_spread = local.predict_proba(X_test)[:, 1], spread.predict_proba(X_test)[:, 1]
    auc_local, auc_spread = roc_auc_score(y_test, p_local), roc_auc_score(y_test, p_spread)
    assert auc_local > 0.6
    assert abs(auc_spread - auc_local) <= 0.002, (auc_spread, auc_local)
    assert abs(p_spread - p_local).max() < 1e-9  # the same trees (sums in another order at most)
    assert SAMPLE_PARAM not in spread.get_params()


def test_categories_unknown_to_the_cluster_are_refused(cluster):
    import dask.dataframe as dd

    X = dd.from_pandas(pd.DataFrame({"tier": pd.Categorical(["A", "B"] * 10)}), npartitions=2)
    y = dd.from_pandas(pd.Series([0, 1] * 10), npartitions=2)
    with pytest.raises(ValueError, match="tier have unknown categories"):
        train_on_cluster(cluster, X.assign(tier=X["tier"].cat.as_unknown()), y, {"n_estimators": 2})
