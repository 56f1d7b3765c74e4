"""/score_clients over HTTP: parity with offline churn scoring, bad input, and the optional churn model."""

import json

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from cvre.features.clients import RFM_SEGMENTS
from cvre.serving.scoring_log import read_scoring_log
from tests.serving.conftest import client_bodies, deal

pytestmark = pytest.mark.slow
DEALS_AS_OF = "2024-12-31T00:00:00"


@pytest.fixture(scope="module")
def world(server):
    """The training snapshot's clients (features as training built them) and its as_of."""
    manifest = json.loads((server["features"] / "feature_manifest.json").read_text())
    score = pd.read_parquet(server["features"] / "clients_score.parquet")
    return {"as_of": manifest["as_of"], "score": score.set_index("account_id")}


@pytest.fixture(scope="module")
def churn_model(server):
    mlflow.set_tracking_uri(server["tracking_uri"])
    return mlflow.pyfunc.load_model("models:/cvre-churn@champion").unwrap_python_model()


def _with_chats_and_deals(score: pd.DataFrame, n: int) -> list[str]:
    """The first `n` clients whose rows exercise every feature group (support, campaigns, deals, jobs)."""
    rich = score[(score["chats_180d"] > 0) & (score["messages_received"] > 0) & (score["deals_closed"] > 0)
                 & (score["jobs"] > 0)]
    return rich.index[:n].tolist()


def test_api_matches_offline_scoring_and_logs_the_model_input(client, server, world, churn_model):
    ids = _with_chats_and_deals(world["score"], 4) + [world["score"].index[-1]]
    response = client.post("/score_clients", json={"clients": client_bodies(server["export"], ids),
                                                  "as_of": world["as_of"]})
    assert response.status_code == 200, response.text
    offline_rows = world["score"].loc[ids].reset_index()
    offline = churn_model.predict(None, offline_rows)["probability"].to_numpy()
    scores = response.json()
    assert [s["account_id"] for s in scores] == ids
    assert [s["churn_probability"] for s in scores] == [round(float(p), 6) for p in offline]
    for s, segment in zip(scores, offline_rows["rfm_segment"], strict=True):
        assert s["risk_band"] in ("very high", "high", "medium", "low") and s["rfm_segment"] == segment
        assert s["reasons_up"] or s["reasons_down"]
        assert all(r["points"] > 0 for r in s["reasons_up"]) and all(r["points"] < 0 for r in s["reasons_down"])
        assert s["model_versions"] == {"cvre-churn": "1"}
    logged = read_scoring_log(server["scoring_log"], "clients").tail(len(ids)).reset_index(drop=True)
    assert logged["account_id"].tolist() == ids
    expected = churn_model.features(offline_rows)
    expected = expected.astype({c: "string" for c in expected.select_dtypes("category").columns})
    pd.testing.assert_frame_equal(logged[list(expected.columns)], expected)


def test_a_client_unknown_to_the_population_is_ranked_against_it(client, server, world):
    known = world["score"].iloc[0]
    (body,) = client_bodies(server["export"], [known.name])
    response = client.post("/score_clients", json={"clients": [body | {"account_id": "NEW-CLIENT"}],
                                                  "as_of": world["as_of"]})
    assert response.status_code == 200, response.text
    assert response.json()[0]["rfm_segment"] in {name for name, _, _ in RFM_SEGMENTS}
    logged = read_scoring_log(server["scoring_log"], "clients").iloc[-1]
    assert logged["account_id"] == "NEW-CLIENT"
    for score in ("r_score", "f_score", "m_score"):  # one more client in 145 moves a rank by one bin at most
        assert abs(logged[score] - known[score]) <= 1


def _bodies(server, world, **over) -> list[dict]:
    (body,) = client_bodies(server["export"], [world["score"].index[0]])
    return [body | over]


@pytest.mark.parametrize(("over", "field"), [
    ({"transactions": []}, "transactions"),
    ({"tier": "Z"}, "tier"),
    ({"transactions": [{"amount": 10.0}]}, "occurred_at"),
    ({"chats": [{"created_at": "not a time"}]}, "created_at"),
    ({"deals": [{"opportunity_id": "D", "created_at": "2024-01-01", "stage": "won"}]}, "stage"),
    ({"email": "jane@example.com"}, "email"),
])
def test_bad_client_is_a_4xx_naming_the_field(client, server, world, over, field):
    response = client.post("/score_clients", json={"clients": _bodies(server, world, **over)})
    assert response.status_code == 400, response.text
    assert field in response.text


def test_clients_not_a_list_is_a_4xx(client):
    response = client.post("/score_clients", json={"clients": "not a list"})
    assert response.status_code == 400 and "clients" in response.text


def test_same_client_twice_is_a_4xx(client, server, world):
    bodies = _bodies(server, world) * 2
    response = client.post("/score_clients", json={"clients": bodies, "as_of": world["as_of"]})
    assert response.status_code == 400 and "clients[1].account_id" in response.text


def test_client_without_a_purchase_by_as_of_is_a_4xx(client, server, world):
    response = client.post("/score_clients", json={"clients": _bodies(server, world), "as_of": "2000-01-01"})
    assert response.status_code == 400 and "clients[0].transactions" in response.text


def test_oversized_client_batch_gets_413(client, server, world):
    response = client.post("/score_clients", json={"clients": _bodies(server, world) * 6})
    assert response.status_code == 413 and "limit is 5" in response.text


def test_without_a_churn_champion_clients_get_503_and_deals_still_score(client, server, world):
    registry = MlflowClient(tracking_uri=server["tracking_uri"])
    version = registry.get_model_version_by_alias("cvre-churn", "champion").version
    registry.delete_registered_model_alias("cvre-churn", "champion")
    try:
        reloaded = client.post("/reload").json()
        assert reloaded["reloaded"] is True and "cvre-churn" not in reloaded["serving"]
        response = client.post("/score_clients", json={"clients": _bodies(server, world)})
        assert response.status_code == 503 and "cvre-churn@champion" in response.text
        assert client.post("/score_deals", json={"deals": [deal()], "as_of": DEALS_AS_OF}).status_code == 200
    finally:
        registry.set_registered_model_alias("cvre-churn", "champion", version)
    assert client.post("/reload").json()["serving"]["cvre-churn"] == str(version)


def test_customer_rows_are_refused_by_a_model_trained_on_purchases(client):
    response = client.post("/score_clients", json={"customers": [{"account_id": "C-1", "x_day_minutes": 3.0}]})
    assert response.status_code == 400 and "trained on purchases" in response.text and "send `clients`" in \
        response.text, response.text
