"""The scoring log through the real server: contract columns, no personal data, retention, failures."""

import re
import shutil

import mlflow
import pandas as pd
import pytest

from cvre.serving.scoring_log import read_scoring_log
from tests.serving.conftest import deal

AS_OF = "2024-12-31T00:00:00"
DEAL_OUTPUTS = ["win_probability", "expected_amount", "expected_value", "model_version_win", "scored_at",
                "opportunity_id"]


def test_reading_an_empty_or_unknown_log(tmp_path):
    assert read_scoring_log(tmp_path, "deals").empty
    with pytest.raises(ValueError, match="kind"):
        read_scoring_log(tmp_path, "leads")


@pytest.mark.slow
def test_scored_deals_are_logged_with_the_model_input_and_no_personal_data(client, server):
    body = deal("LOG-1", owner_id="jane.doe@example.com", account_id="jane@example.com")
    response = client.post("/score_deals", json={"deals": [body], "as_of": AS_OF})
    assert response.status_code == 200, response.text
    (score,) = response.json()
    row = read_scoring_log(server["scoring_log"], "deals").iloc[-1]
    mlflow.set_tracking_uri(server["tracking_uri"])
    win = mlflow.pyfunc.load_model("models:/cvre-win@champion").unwrap_python_model()
    assert list(row.index) == win.spec["features"] + DEAL_OUTPUTS
    assert row["opportunity_id"] == "LOG-1" and row["model_version_win"] == score["model_versions"]["cvre-win"]
    assert (row["win_probability"], row["expected_value"]) == (score["win_probability"], score["expected_value"])
    assert row["amount"] == 12000.0 and row["business_type"] == "new"
    assert str(row["scored_at"].tz) == "UTC"
    assert abs(pd.Timestamp.now(tz="UTC") - row["scored_at"]) < pd.Timedelta(minutes=5)
    assert "example.com" not in read_scoring_log(server["scoring_log"], "deals").to_csv()


@pytest.mark.slow
def test_one_file_per_batch_and_only_the_newest_are_kept(client, server):
    for i in range(4):
        assert client.post("/score_deals", json={"deals": [deal(f"R-{i}")], "as_of": AS_OF}).status_code == 200
    files = sorted(p.name for p in (server["scoring_log"] / "deals").iterdir())
    assert len(files) == 3  # scoring_log_max_files in the test server's config
    assert all(re.fullmatch(r"scored-\d{8}T\d{6}-\d+-\d{6}\.parquet", name) for name in files)
    assert read_scoring_log(server["scoring_log"], "deals")["opportunity_id"].tolist() == ["R-1", "R-2", "R-3"]


@pytest.mark.slow
def test_a_failing_log_never_fails_the_request(client, server):
    folder = server["scoring_log"] / "deals"
    shutil.rmtree(folder, ignore_errors=True)
    folder.write_text("a file where the log's folder should be")
    try:
        response = client.post("/score_deals", json={"deals": [deal("F-1")], "as_of": AS_OF})
        assert response.status_code == 200, response.text
    finally:
        folder.unlink()
    assert "scoring log: could not write deals" in server["log"].read_text()
