"""Serving's feature path (the snapshot indexed once, only the request's deals featurised) against the full build."""

import pandas as pd
import pytest

from cvre.core.io import read_table
from cvre.features.config import DealFeatureConfig
from cvre.features.deal_table import DealReference, build_deal_features
from cvre.features.snapshot import tables_as_of
from cvre.training.reference import REFERENCE_TABLES

HISTORIES = ("stage_history", "activities", "leads", "close_date_changes")
CFG = DealFeatureConfig()


@pytest.fixture(scope="module")
def world(small_world) -> dict[str, pd.DataFrame]:
    export = small_world / "export"
    return {n: read_table(export, n) for n in (*REFERENCE_TABLES, *HISTORIES) if (export / f"{n}.parquet").exists()}


def test_rows_from_an_indexed_snapshot_equal_the_full_build(world):
    opps = world["opportunities"]
    times = pd.date_range(opps["created_at"].min(), opps["created_at"].max(), periods=8)[1:]
    checked = 0
    for snapshot_time, as_of in zip(times[:-1], times[1:], strict=True):
        # the model's snapshot: closed deals and static tables as of an earlier time, as training logs them
        reference = tables_as_of({n: t for n, t in world.items() if n in REFERENCE_TABLES}, snapshot_time)
        reference["opportunities"] = reference["opportunities"].query("outcome in ['won', 'lost']")
        # the request: the deals open at `as_of` with their own histories, none of them in the snapshot
        now = tables_as_of(world, as_of)
        open_ids = now["opportunities"].query("outcome == 'open'")["opportunity_id"]
        ids = open_ids[~open_ids.isin(reference["opportunities"]["opportunity_id"])].tolist()
        request = {"opportunities": now["opportunities"][now["opportunities"]["opportunity_id"].isin(ids)]}
        request |= {n: now[n][now[n]["opportunity_id"].isin(ids)] if "opportunity_id" in now[n] else now[n]
                    for n in HISTORIES if n in now}
        joined = {**reference, **request,
                  "opportunities": pd.concat([reference["opportunities"], request["opportunities"]], ignore_index=True)}
        full, _ = build_deal_features(joined, as_of, CFG, only=ids)
        fast, _ = build_deal_features({**reference, **request}, as_of, CFG, only=ids,
                                      reference=DealReference.of(reference))
        pd.testing.assert_frame_equal(fast, full, check_exact=True)
        checked += len(fast)
    assert checked > 100


@pytest.mark.slow
def test_model_matrix_predicts_as_the_typed_frame(registry):
    import mlflow
    import numpy as np

    from cvre.serving.config import ServingConfig
    from cvre.serving.models import load_deal_models

    mlflow.set_tracking_uri(registry["tracking_uri"])
    models = load_deal_models(ServingConfig())
    rows = pd.read_parquet(registry["features"] / "deals_test.parquet").head(200)
    for model in (models.win, models.amount):
        X = model.features(rows)
        data = model.matrix(X)
        for kwargs in ({}, {"pred_contrib": True}):
            np.testing.assert_array_equal(model.booster.predict(data, **kwargs), model.booster.predict(X, **kwargs))
