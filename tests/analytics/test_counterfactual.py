import pandas as pd

from cvre.analytics.counterfactual import governed_features


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "has_lead": [True, True, False], "lead_response_hours": [100.0, 10.0, float("nan")],
        "slow_lead_response": [True, False, False], "lead_unanswered": [False, False, False],
        "activities_total": [0.0, 4.0, 2.0], "moves_without_activity": [2.0, 0.0, 1.0],
        "no_activity": [True, False, False], "age_days": [30.0, 60.0, 15.0], "activities_per_30d": [0.0, 2.0, 4.0],
        "logged_share": [float("nan"), 0.5, 1.0], "days_since_last_activity": [float("nan"), 3.0, 1.0],
        "longest_gap_days": [30.0, 10.0, 5.0], "days_in_stage": [40.0, 10.0, 28.0],
        "max_days_in_stage": [40.0, 20.0, 28.0], "stalled": [True, False, False],
    })


def test_each_rule_changes_only_its_behaviour():
    sla = governed_features(frame(), "response_sla")
    assert sla["lead_response_hours"].tolist()[:2] == [48.0, 10.0] and not sla["slow_lead_response"].any()
    assert sla["days_in_stage"].tolist() == frame()["days_in_stage"].tolist()
    evidence = governed_features(frame(), "activity_evidence")
    assert evidence["activities_total"].tolist() == [3.0, 4.0, 3.0]  # +1 per unevidenced move, +1 if none
    assert (evidence["moves_without_activity"] == 0).all() and not evidence["no_activity"].any()
    assert evidence["lead_response_hours"].iloc[0] == 100.0
    stall = governed_features(frame(), "stall_review")
    assert stall["days_in_stage"].tolist() == [25.0, 10.0, 25.0] and not stall["stalled"].any()


def test_combined_applies_all_three():
    combined = governed_features(frame(), "combined")
    assert combined["lead_response_hours"].iloc[0] == 48.0
    assert combined["activities_total"].iloc[0] == 3.0 and combined["days_in_stage"].iloc[0] == 25.0
