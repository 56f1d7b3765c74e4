"""Engagement analytics on the real public datasets through the shipped mappings."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvre.analytics.engagement.config import EngagementConfig
from cvre.analytics.engagement.run import run_engagement
from cvre.core.config import PACKAGE_CONFIG_DIR, load_config
from cvre.ingest.run import run_import
from tests.conftest import DATASETS

pytestmark = pytest.mark.real_data


def _imported(name: str, tmp_path: Path):
    if not (DATASETS / name).is_dir():
        pytest.skip(f"{DATASETS / name} not found")
    report = run_import(DATASETS / name, PACKAGE_CONFIG_DIR / "mappings" / f"{name}.yaml", tmp_path / name)
    assert all(t.rejected == 0 for t in report.tables.values())
    return tmp_path / name


def test_hillstrom_lifts_match_the_published_figures(tmp_path):
    data = _imported("hillstrom_email_ab", tmp_path)
    cfg = load_config(EngagementConfig, PACKAGE_CONFIG_DIR / "engagement_hillstrom.yaml", "engagement.yaml")
    run = run_engagement(data, cfg)
    table = run.tables["experiment"]
    assert len(table) == 6 and set(table["arm"]) == {"Mens E-Mail", "Womens E-Mail"}
    for row in table.itertuples():
        digits = 4  # published: rates to 0.01 percentage points, mean spend to 0.0001 USD
        assert round(row.value, digits) == pytest.approx(row.published_value, abs=10 ** -digits)
        assert round(row.control_value, digits) == pytest.approx(row.published_control_value, abs=10 ** -digits)
        assert row.ci_low < row.lift < row.ci_high and row.ci_low > 0  # every e-mail beats no e-mail
    assert (table["n"] + table["n_control"]).isin([21307 + 21306, 21387 + 21306]).all()


def test_support_conversations_response_times_and_signoffs(tmp_path):
    run = run_engagement(_imported("support_conversations", tmp_path), EngagementConfig())
    head = run.headline
    # the MANIFEST: 2,188 brand replies whose customer tweet is in the slice, median reply 12 min
    assert 2000 <= head["response_time"]["responses"] <= 2188
    assert 10.0 <= head["response_time"]["median_minutes"] <= 14.0
    teams = run.tables["response_by_team"].set_index("team")
    assert teams.index[0] == "ChipotleTweets" and teams["responses"].sum() == head["response_time"]["responses"]
    signed = run.tables["response_by_agent"]["agent"].str.contains(r" \^")
    assert signed.sum() > 50  # individual agents from sign-offs (^JK, -Becky)
    assert run.tables["heatmap"].drop(columns="weekday").to_numpy().sum() == 2778  # every inbound tweet
    assert "queue" in head and head["queue"] is None  # no chats: no queue, said so, not invented


def test_servicedesk_time_to_resolve_volume_and_sla(tmp_path):
    run = run_engagement(_imported("servicedesk_incident_log", tmp_path), EngagementConfig())
    tickets = run.headline["tickets"]
    assert tickets["tickets"] == 6000
    assert tickets["sla_share"] == pytest.approx(3664 / 6000)  # the MANIFEST's made_sla count
    resolvers = run.tables["resolvers"]
    assert resolvers["tickets"].sum() == run.tables["tickets"]["resolved_by"].notna().sum()
    assert 0 < tickets["median_hours_to_resolve"] < tickets["p90_hours_to_resolve"]
