"""Seed 000's rule engine on a world small enough to compute by hand."""

import numpy as np
import pandas as pd
import pytest

from cvre.analytics.config import LeakageConfig
from cvre.analytics.rules import behaviour_summary, deal_leakage, headline, scenario_summary, trust_score
from cvre.core.rules import valuation

CFG = LeakageConfig()


def hand_deals() -> pd.DataFrame:
    return pd.DataFrame({
        "opportunity_id": ["A", "B", "C", "D"],
        "current_stage": ["proposal", "proposal", "proposal", "negotiation"],
        "amount": [1000.0, np.nan, 3000.0, np.nan],
        "amount_missing": [False, True, False, True],
        "days_in_stage": [45.0, 5.0, 10.0, 3.0],
        "activities_total": [0.0, 3.0, 5.0, 2.0],
        "has_lead": [True, True, False, False],
        "lead_response_hours": [10.0, 72.0, np.nan, np.nan],
        "moves_without_activity": [0.0, 0.0, 2.0, 0.0],
        "close_date_overdue": [False, False, False, True],
        "expected_close_missing": [False, False, True, True],
    })


@pytest.fixture(scope="module")
def per_deal():
    return deal_leakage(hand_deals(), np.array([0.5, 0.5, 0.2, 0.8]), CFG).set_index(hand_deals()["opportunity_id"])


def test_amount_imputation_uses_stage_then_overall_median(per_deal):
    assert per_deal["amount_used"].tolist() == [1000.0, 2000.0, 3000.0, 2000.0]


def test_amount_imputation_falls_back_to_list_price_only_without_any_amount():
    """An export whose amount is the outcome (Maven's close_value, dropped) knows no amount at all: deals are valued at
    their product's list price; where amounts exist, the stage median still comes first."""
    deals = hand_deals().assign(list_price=[550.0, 4000.0, np.nan, 0.0])
    assert deal_leakage(deals, np.full(4, 0.5), CFG)["amount_used"].tolist() == [1000.0, 2000.0, 3000.0, 2000.0]
    unknown = deals.assign(amount=np.nan)
    assert deal_leakage(unknown, np.full(4, 0.5), CFG)["amount_used"].tolist() == [550.0, 4000.0, 0.0, 0.0]
    assert deal_leakage(unknown.drop(columns="amount"), np.full(4, 0.5), CFG)["ev"].tolist() == [275, 2000, 0, 0]
    _, sources = valuation(unknown["amount"], ["proposal"] * 4, {}, unknown["list_price"])
    assert sources == ["list_price", "list_price", "none", "none"]
    _, sources = valuation(deals["amount"], ["proposal"] * 4, {"proposal": 2000.0}, deals["list_price"])
    assert sources == ["deal", "stage_median", "deal", "stage_median"]


def test_leakage_takes_the_largest_haircut_never_the_sum(per_deal):
    assert per_deal.loc["A", "ev"] == 500.0
    assert bool(per_deal.loc["A", "stalled"]) and bool(per_deal.loc["A", "no_activity"])
    assert per_deal.loc["A", "leaked_ev"] == pytest.approx(500 * 0.25)  # not 500 * (0.25 + 0.20)
    assert per_deal.loc["B", "leaked_ev"] == pytest.approx(1000 * 0.15)  # slow response, 72 h
    assert not per_deal.loc["C", "slow_response"]  # no lead: never flagged
    assert per_deal.loc["C", "leaked_ev"] == pytest.approx(600 * 0.10)  # stage jump
    assert per_deal.loc["D", "leaked_ev"] == 0.0  # overdue and missing amount carry no haircut


def test_scenarios_recover_without_double_counting(per_deal):
    # A: stall 0.25 x 0.40 = 0.10 and no activity 0.20 x 0.50 = 0.10 -> 0.10, not 0.20
    assert per_deal.loc["A", "recovered_combined"] == pytest.approx(500 * 0.10)
    assert per_deal.loc["B", "recovered_response_sla"] == pytest.approx(1000 * 0.15 * 0.60)
    assert per_deal.loc["C", "recovered_activity_evidence"] == pytest.approx(600 * 0.10 * 0.40)
    assert per_deal.loc["B", "recovered_stall_review"] == 0.0
    scenarios = scenario_summary(per_deal, CFG).set_index("scenario")
    combined = 50 + 90 + 24
    assert scenarios.loc["combined", "recovered_ev"] == pytest.approx(combined)
    assert scenarios.loc["combined", "share_of_leakage"] == pytest.approx(combined / (125 + 150 + 60))
    assert scenarios.loc["combined", "roi"] == pytest.approx(combined / 150_000)


def test_behaviour_table(per_deal):
    table = behaviour_summary(per_deal, CFG).set_index("behaviour")
    assert table.loc["stalled", "deals_flagged"] == 1 and table.loc["stalled", "ev_at_risk"] == pytest.approx(125)
    assert table.loc["overdue_close_date", "deals_flagged"] == 1
    assert table.loc["overdue_close_date", "ev_at_risk"] == 0.0


def test_trust_score_is_the_mean_of_four_shares(per_deal):
    trust = trust_score(hand_deals(), CFG.rules)
    assert trust["amounts_filled"] == 0.5 and trust["close_dates_filled"] == 0.5
    assert trust["deals_with_activity"] == 0.75 and trust["leads_answered_within_48h"] == 0.5
    assert trust["trust_score"] == pytest.approx(0.5625)
    head = headline(per_deal, scenario_summary(per_deal, CFG), trust, CFG)
    assert head["ev"] == pytest.approx(500 + 1000 + 600 + 1600)
    assert head["leaked_share"] == pytest.approx(335 / 3700)


def test_cli_leakage_on_a_simulated_world(small_world, tmp_path):
    from typer.testing import CliRunner

    from cvre.cli.main import app

    result = CliRunner().invoke(app, ["leakage", "--data", str(small_world), "--probability", "truth",
                                      "--out", str(tmp_path / "leak")],
                                 env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'm.db'}", "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "CRM trust" in result.output and "rule vs truth" in result.output
    for name in ("deals", "behaviours", "scenarios", "segments"):
        assert (tmp_path / "leak" / f"{name}.parquet").exists() and (tmp_path / "leak" / f"{name}.csv").exists()
    segments = pd.read_parquet(tmp_path / "leak" / "segments.parquet")
    assert {"tier", "industry", "owner_id", "lead_source", "created_year"} <= set(segments["slicer"])


def test_an_export_without_activities_flags_no_deal_for_missing_activity():
    deals = hand_deals().drop(columns=["activities_total"])
    flags = deal_leakage(deals, np.array([0.5, 0.5, 0.2, 0.8]), CFG)
    assert not flags["no_activity"].any()
    assert flags["stalled"].sum() == 1  # the other behaviours are still judged
