"""`cvre leakage` on an export shaped like Maven's: no activities, stage history or lead timings, and no amount
before the close. Deals are valued at their product's list price, and no causal recovery is claimed for rules whose
behaviours the export never records."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from cvre.analytics.config import LeakageConfig
from cvre.analytics.report import print_headline
from cvre.analytics.run import run_leakage
from cvre.core.governance import SCENARIOS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def blind_world(small_world, tmp_path_factory):
    out = tmp_path_factory.mktemp("blind") / "world"
    shutil.copytree(small_world, out, ignore=shutil.ignore_patterns("features", "leakage", "reports", "truth"))
    export = out / "export"
    for table in ("activities", "stage_history", "leads", "close_date_changes"):
        (export / f"{table}.parquet").unlink()
    opps = pd.read_parquet(export / "opportunities.parquet")
    opps.drop(columns=["amount", "expected_close_date"]).to_parquet(export / "opportunities.parquet", index=False)
    return out


def test_list_prices_value_the_pipeline_and_blind_rules_get_no_estimate(blind_world, tmp_path):
    run = run_leakage(blind_world, LeakageConfig(probability="stage_rates"), out=tmp_path / "leakage")
    per_deal = pd.read_parquet(tmp_path / "leakage" / "deals.parquet")
    clean = lambda labels: labels.str.strip().str.lower().str.replace(r"\s+", " ", regex=True)  # noqa: E731
    products = pd.read_parquet(blind_world / "export" / "products.parquet")
    prices = products.set_index(clean(products["product"]))["list_price"]
    opps = pd.read_parquet(blind_world / "export" / "opportunities.parquet").set_index("opportunity_id")
    expected = clean(opps.loc[per_deal["opportunity_id"], "product"]).map(prices).fillna(0.0).to_numpy()
    np.testing.assert_allclose(per_deal["amount_used"].to_numpy(), expected)
    assert run.headline["ev"] > 0
    assert set(run.headline["causal_not_estimated"]) == set(SCENARIOS)
    assert "causal_recoverable_ev" not in run.headline
    console = Console(record=True, width=200)
    print_headline(run, console)
    assert "causal estimate of activity_evidence: not made, the export records none of no_activity" in (
        console.export_text())
