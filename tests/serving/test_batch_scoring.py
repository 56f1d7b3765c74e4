"""A large batch is scored with the amount model on a thread of its own and LightGBM on several threads: the scores
are the same as one thread's, and the same as each deal scored alone."""

from __future__ import annotations

import mlflow
import pandas as pd

from cvre.core.io import read_table
from cvre.core.rules import load_rules
from cvre.serving.config import ServingConfig
from cvre.serving.models import load_deal_models
from cvre.serving.scoring import score_deals
from tests.features.test_request import payloads
from tests.serving.test_leakage_parity import TABLES


def test_parallel_batches_score_as_one_thread_and_as_deals_alone(registry):
    mlflow.set_tracking_uri(registry["tracking_uri"])
    world = {n: read_table(registry["export"], n) for n in TABLES}
    opps = world["opportunities"]
    snapshot = pd.Timestamp(read_table(registry["features"], "deals_score")["cutoff"].iloc[0])
    deals = payloads(world, opps.loc[opps["created_at"] <= snapshot, "opportunity_id"].head(300).tolist())
    rules = load_rules()
    serial = load_deal_models(ServingConfig(predict_threads=1))
    parallel = load_deal_models(ServingConfig(predict_threads=2, parallel_from_rows=2))
    assert parallel.threads.parallel(len(deals)) and not serial.threads.parallel(len(deals))
    together = score_deals(deals, parallel, snapshot, rules)
    assert together == score_deals(deals, serial, snapshot, rules)
    alone = [score_deals([d], parallel, snapshot, rules)[0] for d in deals[:40]]
    assert alone == together[:40]
    assert sum(s["status"] == "scored" for s in together) > 250
    assert all(s["predicted_amount"] is not None for s in together if s["status"] == "scored")
