"""/score_clients over HTTP for a churn model trained on a per-customer table with its own churn label.

The export is imported, featurised and trained as a user would (real LightGBM, real MLflow store), a real
BentoML server serves it: customers are scored as offline scoring scores them, a wrong payload shape or a missing
field is a 400 naming it, and a low_data model's answers are marked.
"""

from __future__ import annotations

import json

import httpx
import mlflow
import pandas as pd
import pytest

from cvre.features.config import FeatureConfig
from cvre.features.pipeline import build_features
from cvre.ingest.run import run_import
from cvre.serving.scoring_log import read_scoring_log
from cvre.training.tracking import setup_tracking
from cvre.training.train import train_task
from tests.serving.conftest import API_KEY, running_server
from tests.serving.customer_export import MAPPING, write_customer_export
from tests.training.test_training import tiny_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def customers(tmp_path_factory):
    """The export imported and featurised, a churn champion trained on it, and a server serving it."""
    tmp = tmp_path_factory.mktemp("customers")
    run_import(write_customer_export(tmp / "export"), MAPPING, tmp / "data")
    features = build_features(tmp / "data", FeatureConfig()).out
    cfg = tiny_config(tmp)
    cfg.tuning.trials = 1
    setup_tracking(cfg.tracking)
    result = train_task(features, "churn", cfg)
    assert result.decision.promoted, result.decision.reason
    with running_server(tmp, cfg.tracking.tracking_uri, probe="/livez") as url, \
            httpx.Client(base_url=url, headers={"x-api-key": API_KEY}, timeout=60) as client:
        yield {"client": client, "features": features, "tmp": tmp, "tracking_uri": cfg.tracking.tracking_uri,
               "export": pd.read_csv(tmp / "export" / "customers.csv")}


def rows(export: pd.DataFrame, n: int, start: int = 0) -> list[dict]:
    """Customers as the API takes them: the imported fields under their canonical and x_ names."""
    out = []
    for _, r in export.iloc[start:start + n].iterrows():
        out.append({"account_id": r["Customer ID"], "region": r["State"], "created_at": f"{r['Signup Date']}T00:00:00",
                    "x_plan": r["Plan"], "x_international_plan": r["International Plan"] == "yes",
                    "x_day_minutes": float(r["Day Minutes"]), "x_service_calls": int(r["Service Calls"])})
    return out


def test_customers_score_as_offline_with_reasons_and_are_logged(customers):
    client, features = customers["client"], customers["features"]
    as_of = json.loads((features / "feature_manifest.json").read_text())["as_of"]
    body = rows(customers["export"], 4)
    response = client.post("/score_clients", json={"customers": body, "as_of": as_of})
    assert response.status_code == 200, response.text
    mlflow.set_tracking_uri(customers["tracking_uri"])
    model = mlflow.pyfunc.load_model("models:/cvre-churn@champion").unwrap_python_model()
    offline_rows = pd.read_parquet(features / "clients_score.parquet").set_index("account_id")
    offline = model.predict(None, offline_rows.loc[[c["account_id"] for c in body]].reset_index())["probability"]
    scores = response.json()
    assert [s["account_id"] for s in scores] == [c["account_id"] for c in body]
    assert [s["churn_probability"] for s in scores] == [round(float(p), 6) for p in offline]
    for s in scores:
        assert s["rfm_segment"] is None and s["low_data"] is False and s["model_versions"] == {"cvre-churn": "1"}
        assert s["risk_band"] in ("very high", "high", "medium", "low")
        assert s["reasons_up"] or s["reasons_down"]
        assert all(r["feature"] in model.spec["features"] for r in s["reasons_up"] + s["reasons_down"])
    logged = read_scoring_log(customers["tmp"] / "scoring_log", "clients").tail(4)
    assert logged["account_id"].tolist() == [c["account_id"] for c in body]
    assert "x_service_calls" in logged.columns


def test_more_service_calls_raise_the_churn_risk(customers):
    base = rows(customers["export"], 1)[0]
    calm, angry = base | {"account_id": "calm", "x_service_calls": 0}, base | {"account_id": "angry",
                                                                               "x_service_calls": 8}
    scores = customers["client"].post("/score_clients", json={"customers": [calm, angry]}).json()
    assert scores[1]["churn_probability"] > scores[0]["churn_probability"], scores


@pytest.mark.parametrize(("change", "named"), [
    (lambda c: {k: v for k, v in c.items() if k != "x_day_minutes"}, "customers[0].x_day_minutes: missing"),
    (lambda c: {k: v for k, v in c.items() if k != "created_at"}, "customers[0].created_at: missing"),
    (lambda c: c | {"x_day_minutes": "lots"}, "customers[0].x_day_minutes: expected a number"),
    (lambda c: c | {"email": "jane@example.com"}, "email: not a customer field"),
    (lambda c: c | {"x_plan": ["a"]}, "x_plan: expected a number"),
])
def test_a_bad_customer_is_a_400_naming_the_field(customers, change, named):
    body = [change(rows(customers["export"], 1)[0])]
    response = customers["client"].post("/score_clients", json={"customers": body})
    assert response.status_code == 400 and named in response.text, response.text


def test_unknown_values_are_sent_as_null_and_scored(customers):
    body = rows(customers["export"], 1)[0] | {"x_day_minutes": None, "region": None, "x_plan": "unseen"}
    response = customers["client"].post("/score_clients", json={"customers": [body]})
    assert response.status_code == 200, response.text


def test_clients_with_purchases_are_refused_by_a_per_customer_model(customers):
    body = {"account_id": "S00001", "transactions": [{"occurred_at": "2024-01-05T00:00:00", "amount": 30.0}]}
    response = customers["client"].post("/score_clients", json={"clients": [body]})
    assert response.status_code == 400, response.text
    assert "per-customer table" in response.text and "send `customers`" in response.text
    assert "x_service_calls" in response.text  # the fields to send


def test_a_low_data_churn_model_marks_its_answers(customers):
    cfg = tiny_config(customers["tmp"])
    cfg.churn.min_positive = cfg.churn.min_negative = 10_000  # the same rows are now too few: low_data
    setup_tracking(cfg.tracking)
    registry = mlflow.MlflowClient(tracking_uri=customers["tracking_uri"])
    full = registry.get_model_version_by_alias("cvre-churn", "champion").version
    result = train_task(customers["features"], "churn", cfg)
    assert result.low_data and not result.decision.promoted  # never over the full champion
    registry.set_registered_model_alias("cvre-churn", "champion", result.version)  # a user's explicit promote
    try:
        assert customers["client"].post("/reload").json()["serving"]["cvre-churn"] == result.version
        scores = customers["client"].post("/score_clients", json={"customers": rows(customers["export"], 2)}).json()
        assert [s["low_data"] for s in scores] == [True, True]
    finally:
        registry.set_registered_model_alias("cvre-churn", "champion", full)
        customers["client"].post("/reload")
