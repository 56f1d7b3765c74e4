"""Behavioural checks of the true win function: the directions the world promises."""

from dataclasses import replace

import numpy as np
import pytest

from cvre.core.truth import true_no_purchase_probability
from cvre.simulation.config import Policies, WinModel
from cvre.simulation.truth import DealTraits, apply_policy, win_probability


def traits(**over) -> DealTraits:
    base = dict(response_hours=np.array([10.0]), cadence=np.array([8.0]), no_activity=np.array([False]),
                max_stage_days=np.array([15.0]), unevidenced_moves=np.array([0]), owner_skill=np.array([0.0]),
                tier_effect=np.array([0.0]), repeat=np.array([False]), product_effect=np.array([0.0]),
                amount_log_ratio=np.array([0.0]), created_month=np.array([6]))
    base.update({k: np.array([v]) for k, v in over.items()})
    return DealTraits(**base)


@pytest.mark.parametrize("worse", [dict(response_hours=72.0), dict(no_activity=True, cadence=0.0),
                                   dict(max_stage_days=60.0), dict(unevidenced_moves=2)])
def test_bad_behaviour_lowers_true_win_probability(worse):
    cfg = WinModel()
    assert win_probability(traits(**worse), cfg)[0] < win_probability(traits(), cfg)[0]


def test_more_activity_never_lowers_probability():
    cfg = WinModel()
    probs = [win_probability(traits(cadence=c), cfg)[0] for c in (1, 4, 8, 16)]
    assert probs == sorted(probs)


def test_policies_only_help_and_respect_compliance():
    bad = traits(response_hours=100.0, no_activity=True, cadence=0.0, max_stage_days=70.0, unevidenced_moves=3)
    cfg, policies = WinModel(), Policies()
    base = win_probability(bad, cfg)[0]
    gains = {p: win_probability(apply_policy(bad, p, policies, np.array([True])), cfg)[0] - base
             for p in ("response_sla", "activity_evidence", "stall_review", "combined")}
    assert all(g > 0 for g in gains.values())
    assert gains["combined"] > max(gains["response_sla"], gains["activity_evidence"], gains["stall_review"])
    untouched = apply_policy(bad, "combined", policies, np.array([False]))
    assert win_probability(untouched, cfg)[0] == pytest.approx(base)
    assert replace(bad) == bad


def test_unknown_policy_is_rejected():
    with pytest.raises(ValueError, match="unknown policy"):
        apply_policy(traits(), "free_lunch", Policies(), np.array([True]))


def test_churned_clients_never_buy_and_probability_grows_with_horizon():
    rate, hazard = np.array([1.0, 1.0]), np.array([0.05, 0.05])
    churn_day = np.array([10.0, 1000.0])
    p30 = true_no_purchase_probability(rate, hazard, churn_day, 100.0, 30.0)
    p90 = true_no_purchase_probability(rate, hazard, churn_day, 100.0, 90.0)
    assert p30[0] == 1.0 and 0 < p30[1] < 1
    assert p90[1] < p30[1]  # a longer window leaves more time to buy
