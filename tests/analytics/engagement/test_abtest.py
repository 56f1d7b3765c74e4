"""The A/B test keeps its promises: power at the planted lift, false positives near alpha, a sound calculator."""

from __future__ import annotations

import numpy as np
import pytest

from cvre.analytics.engagement.abtest import (
    arm_comparison,
    power_for_lift,
    sample_size_per_arm,
    sample_size_table,
    two_proportion_test,
)
from cvre.analytics.engagement.campaigns import template_test
from cvre.features.campaigns import campaign_funnel
from cvre.simulation.clients import _campaigns
from cvre.simulation.clock import span_days
from cvre.simulation.config import SimulationConfig
from cvre.simulation.entities import make_cast


def _detections(rng, p_a, p_b, n, draws, alpha=0.05):
    a, b = rng.binomial(n, p_a, draws), rng.binomial(n, p_b, draws)
    pairs = zip(a, b, strict=True)
    return np.array([two_proportion_test(int(x), n, int(y), n, alpha)["significant"] for x, y in pairs])


def test_power_at_the_calculated_sample_size_is_the_stated_power():
    n = sample_size_per_arm(0.40, 0.05, alpha=0.05, power=0.8)
    found = _detections(np.random.default_rng(1), 0.40, 0.45, n, 1000)
    assert 0.75 <= found.mean() <= 0.85  # 1,000 draws: the standard error is 0.013


def test_false_positive_rate_is_alpha_when_templates_are_equal():
    found = _detections(np.random.default_rng(2), 0.30, 0.30, 800, 2000)
    assert 0.035 <= found.mean() <= 0.065


def test_repeated_small_worlds_find_the_planted_winner_at_the_stated_power():
    """Many cheap simulated campaign histories: B wins as often as the test's own power says, and when the
    templates are made equal, B or A 'wins' about alpha of the time."""
    cfg = SimulationConfig(deals=1000, seed=3)
    cast = make_cast(np.random.default_rng([3, 0]), cfg)
    end_day = span_days(cfg.world.start, cfg.world.as_of)
    equal = cfg.model_copy(deep=True)
    equal.engagement.template_read_lift = 0.0
    found, power, false_alarms = [], [], []
    for world in range(150):
        campaigns, messages = _campaigns(np.random.default_rng([world, 2]), cast, cfg, end_day)
        result = template_test(campaign_funnel(messages, campaigns), "read", 0.05, 0.06)
        found.append(result["winner"] == "B")
        power.append(power_for_lift(result["rate_a"], 0.06, result["n_a"], result["n_b"], 0.05))
        c_eq, m_eq = _campaigns(np.random.default_rng([world, 2]), cast, equal, end_day)
        false_alarms.append(template_test(campaign_funnel(m_eq, c_eq), "read", 0.05, 0.06)["significant"])
    stated = float(np.mean(power))
    assert 0.5 < stated < 0.95  # the worlds are small enough that the test can miss
    assert abs(np.mean(found) - stated) < 0.12, (np.mean(found), stated)
    assert np.mean(false_alarms) <= 0.10


def test_result_reads_like_the_method_says():
    r = two_proportion_test(400, 1000, 460, 1000, alpha=0.05, mde=0.05)
    assert r["winner"] == "B" and r["significant"]
    assert r["difference"] == pytest.approx(0.06) and r["ci_low"] < 0.06 < r["ci_high"]
    assert r["ci_low"] > 0 and "z-test" in r["method"]
    flat = two_proportion_test(400, 1000, 405, 1000)
    assert flat["winner"] is None and flat["ci_low"] < 0 < flat["ci_high"]


def test_sample_size_grows_as_the_lift_shrinks():
    table = sample_size_table([0.1, 0.3], [0.01, 0.05], 0.05, 0.8)
    small, large = (table[(table["baseline"] == 0.1) & (table["lift"] == d)]["per_arm"].item() for d in (0.01, 0.05))
    assert small > 10 * large
    # the textbook figure for 10% -> 15% at alpha 0.05, power 0.8 (Cohen's h): about 680 per arm
    assert 640 <= sample_size_per_arm(0.10, 0.05) <= 720


def test_arm_comparison_against_control_with_revenue():
    rng = np.random.default_rng(4)
    import pandas as pd

    n = 4000
    arm = np.repeat(["No E-Mail", "Mail"], n)
    converted = np.r_[rng.random(n) < 0.01, rng.random(n) < 0.02]
    units = pd.DataFrame({"unit_id": np.arange(2 * n).astype(str), "arm": arm, "converted": converted,
                          "revenue": np.where(converted, 100.0, 0.0)})
    table = arm_comparison(units, "No E-Mail")
    conv = table[table["metric"] == "converted"].iloc[0]
    assert conv["arm"] == "Mail" and conv["ci_low"] < conv["lift"] < conv["ci_high"]
    assert set(table["metric"]) == {"converted", "revenue"} and (table["p_holm"] >= table["p_value"]).all()
    with pytest.raises(ValueError, match="control arm 'nobody' not found"):
        arm_comparison(units, "nobody")


def test_published_figures_for_an_arm_the_data_lacks_are_refused():
    import pandas as pd

    from cvre.analytics.engagement.config import EngagementConfig
    from cvre.analytics.engagement.run import experiment_table

    units = pd.DataFrame({"unit_id": ["1", "2", "3", "4"], "arm": ["No E-Mail", "No E-Mail", "Mail", "Mail"],
                          "converted": [False, True, True, True]})
    good = EngagementConfig(experiment={"control_arm": "No E-Mail", "published": {"Mail": {"converted": 0.9}}})
    assert experiment_table(units, good)["published_value"].tolist() == [0.9]
    typo = EngagementConfig(experiment={"published": {"Male": {"converted": 0.9}}})
    with pytest.raises(ValueError, match=r"published names arms \['Male'\] not in ab_units"):
        experiment_table(units, typo)
