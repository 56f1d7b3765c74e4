"""Shapes real exports have: a deal closed at its creation instant, closed deals without a close date,
no outcome column, no stage history but the CRM's own stage fields."""

from __future__ import annotations

import pandas as pd

from cvre.features.config import DealFeatureConfig
from cvre.features.contracts import DEAL_CONTRACT, check_contract
from cvre.features.deal_table import build_deal_features

AS_OF = pd.Timestamp("2024-06-30")


def _opps(**columns) -> pd.DataFrame:
    base = {"opportunity_id": ["A", "B", "C"],
            "created_at": pd.to_datetime(["2024-01-01 10:00", "2024-02-01 00:00", "2024-03-01 00:00"]),
            "stage": ["closed_won", "closed_lost", "proposal"]}
    return pd.DataFrame({**base, **columns})


def test_deal_closed_at_its_creation_has_age_zero_and_keeps_the_contract():
    opps = _opps(outcome=["won", "lost", "open"],
                 closed_at=pd.to_datetime(["2024-01-01 10:00", "2024-02-20 00:00", None]))
    deals, _ = build_deal_features({"opportunities": opps}, AS_OF, DealFeatureConfig())
    assert deals.set_index("opportunity_id").loc["A", "age_days"] == 0.0
    check_contract(deals, DEAL_CONTRACT, "deals")


def test_no_close_date_no_outcome_and_observed_stage_fields():
    opps = _opps(days_in_stage=[5.0, 7.0, 45.0], stage_jump=pd.array([False, True, True], dtype="boolean"),
                 backward_moves=pd.array([0, 1, 2], dtype="Int64"))
    deals, warnings = build_deal_features({"opportunities": opps}, AS_OF, DealFeatureConfig())
    deals = deals.set_index("opportunity_id")
    assert deals.loc["A", "won"] == 1.0 and deals.loc["B", "won"] == 0.0  # outcome from the stage
    assert pd.isna(deals.loc["A", "days_in_stage"])  # a closed deal's days in stage would reveal the close
    assert deals.loc["C", "days_in_stage"] == 45.0 and bool(deals.loc["C", "stalled"])
    assert deals.loc["C", "current_stage"] == "proposal" and deals.loc["B", "moves_without_activity"] == 1.0
    assert any("observed fields" in w for w in warnings)
    check_contract(deals.reset_index(), DEAL_CONTRACT, "deals")
