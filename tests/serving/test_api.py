"""The scoring API over HTTP: scoring, parity with offline scoring, bad input, limits, auth, reload."""

import json

import httpx
import pandas as pd
import pytest
from mlflow import MlflowClient
from pydantic import TypeAdapter

from cvre.core.rules import load_rules
from cvre.serving.config import ServingConfig
from cvre.serving.models import load_deal_models
from cvre.serving.schemas import DealIn, DealResult
from cvre.serving.scoring import score_deals
from tests.serving.conftest import deal

pytestmark = pytest.mark.slow
AS_OF = "2024-12-31T00:00:00"


def test_health_endpoints(server, client):
    for path in ("/livez", "/readyz"):
        assert httpx.get(server["url"] + path, timeout=5).status_code == 200
    metrics = client.get("/metrics", timeout=5)
    assert metrics.status_code == 200 and "cvre_http_requests_total" in metrics.text


def test_single_deal_is_scored_with_reasons_and_warnings(client):
    response = client.post("/score_deals", json={"deals": [deal()], "as_of": AS_OF})
    assert response.status_code == 200, response.text
    (score,) = response.json()
    assert 0 <= score["win_probability"] <= 1 and score["grade"] in "ABCD"
    assert score["expected_value"] == pytest.approx(score["win_probability"] * 12000.0, rel=1e-4)
    assert score["amount_p10"] <= score["amount_p90"]
    assert score["reasons_up"] or score["reasons_down"]
    behaviours = {w["behaviour"]: w for w in score["warnings"]}
    assert "stalled" in behaviours and "slow_response" in behaviours  # 72 days in proposal, answered after 72 h
    assert behaviours["stalled"]["euros_at_stake"] == pytest.approx(score["expected_value"] * 0.25, abs=0.02)
    assert set(score["model_versions"]) == {"cvre-win", "cvre-amount"}


def test_api_matches_offline_scoring(client, server):
    deals = [deal("P-1"), deal("P-2", amount=None, activities=[]), deal("P-3", product="a product never seen")]
    response = client.post("/score_deals", json={"deals": deals, "as_of": AS_OF})
    assert response.status_code == 200, response.text
    import mlflow

    mlflow.set_tracking_uri(server["tracking_uri"])
    cfg = ServingConfig()
    offline = score_deals([DealIn.model_validate(d) for d in deals], load_deal_models(cfg), pd.Timestamp(AS_OF),
                          load_rules())
    for api, local in zip(response.json(), offline, strict=True):
        assert api["opportunity_id"] == local["opportunity_id"]
        assert api["win_probability"] == pytest.approx(local["win_probability"], abs=1e-9)
        assert api["expected_value"] == pytest.approx(local["expected_value"], abs=1e-6)
    # the results are dicts written as they are: the same JSON as the response models' (the OpenAPI schema's)
    models = TypeAdapter(list[DealResult])
    assert json.dumps(models.dump_python(models.validate_python(offline), mode="json")) == json.dumps(offline)
    assert response.json() == json.loads(json.dumps(offline))
    no_amount = response.json()[1]
    assert {w["behaviour"] for w in no_amount["warnings"]} >= {"no_activity", "missing_amount"}


@pytest.mark.parametrize(("body", "field"), [
    ({"deals": [deal(created_at=None)]}, "created_at"),
    ({"deals": [deal(stage="closed_won")]}, "stage"),
    ({"deals": [deal(amount=-5)]}, "amount"),
    ({"deals": [deal(activities=[{"activity_type": "call"}])]}, "occurred_at"),
    ({"deals": [deal(colour="blue")]}, "colour"),
    ({"deals": "not a list"}, "deals"),
])
def test_bad_input_is_a_4xx_naming_the_field(client, body, field):
    response = client.post("/score_deals", json=body)
    assert response.status_code == 400, response.text
    assert field in response.text


def test_not_json_is_a_4xx(client):
    response = client.post("/score_deals", content=b"\x00\x01 not json", headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500


def test_oversized_batch_gets_413(client):
    response = client.post("/score_deals", json={"deals": [deal(f"B-{i}") for i in range(6)]})
    assert response.status_code == 413 and "limit is 5" in response.text


def test_requests_without_the_api_key_get_401(server):
    response = httpx.post(server["url"] + "/score_deals", json={"deals": [deal()]}, timeout=30)
    assert response.status_code == 401


def test_failed_reload_keeps_serving_the_old_models(client, server):
    registry = MlflowClient(tracking_uri=server["tracking_uri"])
    version = registry.get_model_version_by_alias("cvre-win", "champion").version
    registry.delete_registered_model_alias("cvre-win", "champion")
    try:
        failed = client.post("/reload").json()
        assert failed["reloaded"] is False and failed["serving"]["cvre-win"] == str(version)
        assert client.post("/score_deals", json={"deals": [deal()], "as_of": AS_OF}).status_code == 200
        assert client.post("/models").json()["last_reload_error"]
    finally:
        registry.set_registered_model_alias("cvre-win", "champion", version)
    assert client.post("/reload").json()["reloaded"] is True


def test_logs_hold_no_personal_data(client, server):
    response = client.post("/score_deals", json={"deals": [deal(owner_id="jane.doe@example.com")], "as_of": AS_OF})
    assert response.status_code == 200, response.text  # scored, so the request went through the logging path
    assert response.json()[0]["win_probability"] is not None
    assert "jane.doe@example.com" not in server["log"].read_text()
