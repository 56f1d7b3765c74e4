"""One definition: the same open deals through the real API (HTTP) and through `cvre leakage` get the same
probability, EV, flags and leaked euros."""

from __future__ import annotations

import pandas as pd
import pytest

from cvre.analytics.config import LeakageConfig
from cvre.analytics.run import run_leakage
from cvre.core.io import read_table
from cvre.core.rules import BEHAVIOURS
from tests.features.test_request import payloads
from tests.serving.conftest import API_KEY

pytestmark = pytest.mark.slow
TABLES = ("opportunities", "stage_history", "activities", "leads", "close_date_changes")


def _body(deal) -> dict:
    """A payload as JSON (times ISO, with the nanoseconds of the export)."""
    def value(v):
        if isinstance(v, list):
            return [value(x) for x in v]
        if hasattr(v, "__dict__"):
            return {k: value(x) for k, x in vars(v).items()}
        return v.isoformat() if hasattr(v, "isoformat") else v
    return value(deal)


def test_api_and_leakage_report_agree_deal_by_deal(server, client, tmp_path):
    import mlflow

    mlflow.set_tracking_uri(server["tracking_uri"])
    snapshot = pd.Timestamp(read_table(server["features"], "deals_score")["cutoff"].iloc[0])
    report = run_leakage(server["features"].parent, LeakageConfig(probability="model"), as_of=str(snapshot),
                         out=tmp_path / "leakage")
    assert report.headline["probability"] == "model" and report.headline["as_of"] == str(snapshot.date())
    per_deal = pd.read_parquet(tmp_path / "leakage" / "deals.parquet").set_index("opportunity_id")
    world = {n: read_table(server["export"], n) for n in TABLES}
    deals = payloads(world, per_deal.index.tolist())
    api = {}
    for start in range(0, len(deals), 5):  # the test server takes 5 deals a request
        response = client.post("/score_deals", json={"deals": [_body(d) for d in deals[start:start + 5]],
                                                      "as_of": snapshot.isoformat()},
                               headers={"x-api-key": API_KEY})
        assert response.status_code == 200, response.text
        api |= {s["opportunity_id"]: s for s in response.json()}
    assert len(api) == len(per_deal) > 50
    flagged = 0
    for oid, row in per_deal.iterrows():
        score = api[oid]
        assert score["status"] == "scored", score
        assert score["win_probability"] == pytest.approx(row["win_probability"], abs=1e-9), oid
        assert score["expected_amount"] == pytest.approx(row["amount_used"], abs=1e-9), oid
        assert score["expected_value"] == pytest.approx(row["ev"], abs=1e-9), oid
        assert score["leaked_ev"] == pytest.approx(row["leaked_ev"], abs=1e-9), oid
        assert {w["behaviour"] for w in score["warnings"]} == {b for b in BEHAVIOURS if row[b]}, oid
        flagged += bool(score["warnings"])
    assert flagged > 10 and per_deal["leaked_ev"].sum() > 0
