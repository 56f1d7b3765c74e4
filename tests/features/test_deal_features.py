"""Deal features on a world small enough to compute by hand."""

import pandas as pd
import pytest

from cvre.features.config import DealFeatureConfig
from cvre.features.deal_table import build_deal_features
from cvre.features.snapshot import tables_as_of

T = pd.Timestamp
AS_OF = T("2024-03-01")


def hand_world() -> dict[str, pd.DataFrame]:
    opps = pd.DataFrame({
        "opportunity_id": ["D1", "D2", "D3", "D4"],
        "account_id": ["A1", "A1", "A1", "A2"],
        "lead_id": ["L1", None, None, None],
        "owner_id": ["R1", "R1", "R1", "R2"],
        "product": ["Growth", " growth", "Scale", "Scale"],
        "business_type": ["new", "repeat", "new", "new"],
        "created_at": [T("2024-01-01"), T("2023-10-01"), T("2023-11-01"), T("2024-02-01")],
        "stage": ["proposal", "closed_won", "closed_lost", "prospecting"],
        "outcome": ["open", "won", "lost", "open"],
        "amount": [1000.0, 500.0, None, 200.0],
        "currency": "EUR",
        "expected_close_date": [T("2024-02-20"), T("2023-12-01"), None, None],
        "closed_at": [pd.NaT, T("2023-12-01"), T("2024-01-15"), pd.NaT],
    })
    history = pd.DataFrame({
        "stage_event_id": ["e1", "e2", "e3"],
        "opportunity_id": ["D1", "D1", "D1"],
        "stage": ["prospecting", "qualification", "proposal"],
        "entered_at": [T("2024-01-01"), T("2024-01-10"), T("2024-01-20")],
    })
    acts = pd.DataFrame({
        "activity_id": ["a1", "a2", "a3", "a4"],
        "opportunity_id": ["D1", "D1", "D1", "D1"],
        "owner_id": "R1",
        "activity_type": ["call", "email", "call", "meeting"],
        "occurred_at": [T("2024-01-05"), T("2024-01-15"), T("2024-02-25"), T("2024-03-05")],
        "logged": [True, False, True, True],
    })
    leads = pd.DataFrame({"lead_id": ["L1"], "source": ["Web "], "created_at": [T("2023-12-29")],
                          "first_response_at": [T("2024-01-01")]})
    changes = pd.DataFrame({"change_id": ["c1"], "opportunity_id": ["D1"], "changed_at": [T("2024-02-01")],
                            "old_expected_close_date": [T("2024-01-31")],
                            "new_expected_close_date": [T("2024-02-20")]})
    accounts = pd.DataFrame({"account_id": ["A1", "A2"], "tier": ["A", "C"], "industry": ["Software", "retail"]})
    return {"opportunities": opps, "stage_history": history, "activities": acts, "leads": leads,
            "close_date_changes": changes, "accounts": accounts}


@pytest.fixture(scope="module")
def d1() -> pd.Series:
    table, warnings = build_deal_features(tables_as_of(hand_world(), AS_OF), AS_OF, DealFeatureConfig())
    assert warnings == []
    return table.set_index("opportunity_id").loc["D1"]


def test_stage_features(d1):
    assert d1["current_stage"] == "proposal"
    assert d1["days_in_stage"] == pytest.approx(41.0)  # Jan 20 -> Mar 1
    assert d1["stage_moves"] == 2
    # move into qualification had a logged call on Jan 5; move into proposal only an unlogged email
    assert d1["moves_without_activity"] == 1
    assert d1["max_days_in_stage"] == pytest.approx(41.0)
    assert bool(d1["stalled"]) is True


def test_activity_features_use_only_the_past(d1):
    assert d1["activities_total"] == 3  # the Mar 5 meeting is after the snapshot
    assert d1["calls_7d"] == 1 and d1["activities_30d"] == 1 and d1["activities_90d"] == 3
    assert d1["logged_share"] == pytest.approx(2 / 3)
    assert d1["days_since_last_activity"] == pytest.approx(5.0)
    assert d1["longest_gap_days"] == pytest.approx(41.0)  # Jan 15 -> Feb 25


def test_lead_close_date_and_history(d1):
    assert d1["lead_response_hours"] == pytest.approx(72.0)
    assert bool(d1["slow_lead_response"]) is True
    assert d1["lead_source"] == "web"
    assert d1["close_date_pushes"] == 1
    assert d1["days_to_expected_close"] == pytest.approx(-10.0)
    assert bool(d1["close_date_overdue"]) is True
    # owner R1 closed D2 (won) and D3 (lost) before the snapshot: 1 of 2, smoothed toward 0.5
    assert d1["owner_prior_deals"] == 2
    assert d1["owner_win_rate"] == pytest.approx((1 + 5 * 0.5) / (2 + 5))
    assert d1["tier"] == "A" and d1["industry"] == "software" and d1["product"] == "growth"


def test_closed_deal_is_described_just_before_it_closed():
    table, _ = build_deal_features(tables_as_of(hand_world(), AS_OF), AS_OF, DealFeatureConfig())
    d3 = table.set_index("opportunity_id").loc["D3"]
    assert d3["won"] == 0.0 and d3["cutoff"] == T("2024-01-15") - pd.Timedelta(seconds=1)
    # D2 closed before D3: it counts in D3's owner history, D3 itself does not
    assert d3["owner_prior_deals"] == 1 and bool(d3["amount_missing"]) is True


def test_absent_inputs_are_skipped_with_a_warning():
    world = hand_world()
    del world["activities"], world["stage_history"]
    table, warnings = build_deal_features(tables_as_of(world, AS_OF), AS_OF, DealFeatureConfig())
    assert any("activities absent" in w for w in warnings) and any("stage_history absent" in w for w in warnings)
    assert "activities_total" not in table.columns and "days_in_stage" not in table.columns


def test_rows_for_some_deals_equal_the_full_build():
    tables = tables_as_of(hand_world(), AS_OF)
    full, _ = build_deal_features(tables, AS_OF, DealFeatureConfig())
    some, _ = build_deal_features(tables, AS_OF, DealFeatureConfig(), only=["D3", "D1"])
    expected = full.set_index("opportunity_id").loc[some["opportunity_id"]].reset_index()
    pd.testing.assert_frame_equal(some, expected, check_dtype=False)


def test_no_selected_deal_gives_no_rows_and_the_full_columns():
    tables = tables_as_of(hand_world(), AS_OF)
    full, _ = build_deal_features(tables, AS_OF, DealFeatureConfig())
    none, _ = build_deal_features(tables, AS_OF, DealFeatureConfig(), only=["NOT-A-DEAL"])
    assert len(none) == 0 and list(none.columns) == list(full.columns)


def test_empty_stage_history_and_leads_give_rows_without_them():
    world = hand_world()
    world["stage_history"], world["leads"] = world["stage_history"].iloc[:0], world["leads"].iloc[:0]
    table, _ = build_deal_features(tables_as_of(world, AS_OF), AS_OF, DealFeatureConfig())
    assert not table["has_stage_history"].any() and not table["has_lead"].any()
