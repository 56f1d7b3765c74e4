"""The simulator's engagement world: planted effects recorded as truth, balanced send hours, a valid plan."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from cvre.simulation.engagement import EngagementPlan, campaign_send_hours, customer_hour_weights, hour_read_lift


def test_truth_records_the_planted_effects(small_world):
    truth = json.loads((small_world / "truth" / "engagement_truth.json").read_text())
    plan = EngagementPlan()
    assert truth["template_winner"] == plan.template_winner and truth["best_send_hour"] == plan.best_send_hour
    assert abs(truth["peak_share_realised"] - plan.peak_share) < 0.05
    assert set(truth["topic_shares_realised"]) == set(plan.topics)
    chats = pd.read_parquet(small_world / "export" / "chats.parquet")
    assert truth["chats_unassigned_at_export"] == chats["agent_id"].isna().sum() > 0
    assert (chats[["accepted_at", "first_response_at", "resolved_at"]] <= pd.Timestamp("2024-12-31")).all().all() or \
        chats[["accepted_at", "first_response_at", "resolved_at"]].isna().any().any()


def test_send_hours_pair_templates_and_visit_every_hour():
    plan = EngagementPlan()
    hours = campaign_send_hours(30, plan)
    assert (hours[0::2] == hours[1::2]).all()  # A and B of a pair share the hour: template and hour balanced
    assert set(hours) == set(range(plan.send_hours[0], plan.send_hours[1] + 1))
    assert hour_read_lift(np.arange(24), plan).argmax() == plan.best_send_hour


def test_peak_window_holds_the_planted_share():
    plan = EngagementPlan(peak_window=(18, 21), peak_share=0.6)
    weights = customer_hour_weights(plan)
    assert weights[18:21].sum() == pytest.approx(0.6) and weights.sum() == pytest.approx(1.0)


def test_an_impossible_plan_is_refused():
    with pytest.raises(ValidationError, match="best_send_hour inside"):
        EngagementPlan(send_hours=(8, 12), best_send_hour=19)
    with pytest.raises(ValidationError, match="topics.weather.*\\n.*Input should be 'refund'"):
        EngagementPlan(topics={"weather": 1.0})
    with pytest.raises(ValidationError, match="topics must name some of"):
        EngagementPlan(topics={})
