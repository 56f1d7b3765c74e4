"""`cvre engagement` end to end on the simulated world: tables, headline, truth check, MLflow run, CLI errors."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest
from typer.testing import CliRunner

from cvre.analytics.engagement.config import EngagementConfig
from cvre.analytics.engagement.run import run_engagement
from cvre.analytics.engagement.summary import log_engagement_run, summary_lines
from cvre.cli.main import app


@pytest.fixture(scope="module")
def engagement_run(small_world, tmp_path_factory):
    return run_engagement(small_world, EngagementConfig(), out=tmp_path_factory.mktemp("engagement"))


def test_every_seed_003_table_is_written(engagement_run):
    for name in ("campaign_funnel", "funnel_dropoff", "campaign_comparison", "ab_test", "sample_size", "send_hour",
                 "high_intent", "new_contacts", "geography", "segments", "response_by_agent", "done_per_agent",
                 "leaderboard", "heatmap", "topics"):
        assert (engagement_run.out / f"{name}.parquet").exists() and (engagement_run.out / f"{name}.csv").exists()
    head = json.loads((engagement_run.out / "headline.json").read_text())
    assert set(head["sections"]) == {"campaigns", "audience", "support"}
    assert head["morning_coffee"]["team_efficiency"]["overall"] in ("green", "amber", "red")


def test_found_effects_match_the_planted_truth(engagement_run):
    check = engagement_run.headline["truth_check"]
    assert check["template_winner"]["found"] == check["template_winner"]["truth"] == "B"
    assert check["best_send_hour"]["found"] == check["best_send_hour"]["truth"]
    assert check["fastest_agent"]["found"] == check["fastest_agent"]["truth"]
    # this world has about 1,000 chats (standard error 1.5 points); test_support checks 2 points on 14,000
    assert abs(check["peak_share"]["found"] - check["peak_share"]["planted"]) <= 0.03


def test_high_intent_export_is_who_replied_more_than_the_threshold(engagement_run, small_world):
    hot = pd.read_csv(engagement_run.out / "high_intent.csv")
    messages = pd.read_parquet(small_world / "export" / "messages.parquet")
    replies = messages.groupby("contact_id")["replied_at"].count()
    assert set(hot["contact_id"]) == set(replies[replies > 3].index)
    assert {"email", "phone", "replied"} <= set(hot.columns)


def test_funnel_dropoff_adds_up(engagement_run):
    drop = engagement_run.tables["funnel_dropoff"]
    one = drop[drop["campaign_id"] == drop["campaign_id"].iloc[0]].set_index("step")
    assert one.loc["delivered", "count"] + one.loc["delivered", "dropped"] == one.loc["sent", "count"]
    assert one.loc["read", "step_rate"] == pytest.approx(one.loc["read", "count"] / one.loc["delivered", "count"])


def test_mlflow_run_logs_figures_and_tables(engagement_run, tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'm.db'}")
    run_id = log_engagement_run(engagement_run, "test-engagement")
    run = mlflow.get_run(run_id)
    assert run.data.metrics["best_send_hour"] == engagement_run.headline["best_send_hour"]["best_hour"]
    assert any("headline.json" in a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "engagement"))
    assert any("best send hour" in line for line in summary_lines(engagement_run))


def test_cli_runs_and_reports_bad_input_in_one_line(small_world, tmp_path):
    runner = CliRunner()
    out = tmp_path / "eng"
    result = runner.invoke(app, ["engagement", "--data", str(small_world), "--out", str(out), "--no-track",
                                 "--compare", "CMP0000", "--compare", "CMP0001"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "best send hour" in result.output
    assert set(pd.read_csv(out / "campaign_comparison.csv")["second_campaign"]) == {"CMP0001"}
    result = runner.invoke(app, ["engagement", "--data", str(small_world), "--out", str(out), "--no-track",
                                 "--compare", "CMP0000", "--compare", "NOPE"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "NOPE not found" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["engagement", "--data", str(small_world), "--no-track", "--compare", "CMP0000"])
    assert result.exit_code == 2 and "give two campaign ids" in result.output
    result = runner.invoke(app, ["engagement", "--data", str(small_world), "--no-track", "--as-of", "soon"])
    assert result.exit_code == 2 and "soon" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["engagement", "--data", str(tmp_path / "empty"), "--no-track"])
    assert result.exit_code == 2 and "engagement tables" in result.output.replace("\n", "")
    bad = tmp_path / "bad.yaml"
    bad.write_text("coffee:\n  median_response_minutes: {green: 30, amber: 10}\n")
    result = runner.invoke(app, ["engagement", "--data", str(small_world), "--config", str(bad), "--no-track"])
    assert result.exit_code == 2 and "amber must be >= green" in result.output
