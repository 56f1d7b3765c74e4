"""Simulator knobs for causal validation: rule scope, null world, effect scale, confounding."""

import numpy as np
import pandas as pd
import pytest

from cvre.core.governance import Governance, RuleScope, RuleScopes
from cvre.simulation.config import Confounding, SimulationConfig, WinModel
from cvre.simulation.deals import _governed_masks
from cvre.simulation.world import simulate_world


def _truth(tmp_path, name, **over) -> pd.DataFrame:
    cfg = SimulationConfig(deals=1500, seed=3, **over)
    simulate_world(cfg, tmp_path / name, progress=False)
    return pd.read_parquet(tmp_path / name / "truth" / "deals_truth.parquet")


def test_null_world_rules_change_nothing_and_scale_grows_effects(tmp_path):
    null = _truth(tmp_path, "null", win=WinModel(behaviour_effect_scale=0.0))
    base = _truth(tmp_path, "base")
    strong = _truth(tmp_path, "strong", win=WinModel(behaviour_effect_scale=1.5))
    for policy in ("response_sla", "activity_evidence", "stall_review", "combined"):
        assert np.allclose(null[f"p_{policy}"], null["true_win_prob"])
        gain = (base[f"p_{policy}"] - base["true_win_prob"]).sum()
        assert gain > 0 and (strong[f"p_{policy}"] - strong["true_win_prob"]).sum() > 1.2 * gain


def test_confounding_ties_behaviour_to_owner_skill(tmp_path):
    def corr(t):
        answered = t["true_response_hours"].notna()
        return np.corrcoef(t.loc[answered, "true_owner_skill"], np.log(t.loc[answered, "true_response_hours"]))[0, 1]

    off = _truth(tmp_path, "off")
    on = _truth(tmp_path, "on", confounding=Confounding(skill_behaviour=1.0, large_account_response=0.5))
    assert abs(corr(off)) < 0.1 and corr(on) < -0.3
    assert np.corrcoef(on["true_owner_skill"], on["true_cadence"])[0, 1] > 0.1


def test_rule_scope_limits_the_governed_deals():
    gov = Governance(scope=RuleScopes(response_sla=RuleScope(tiers=["A"]),
                                      stall_review=RuleScope(business_types=["new"])))
    tier, repeat = np.array(["A", "B", "A", "C"]), np.array([False, False, True, True])
    masks = _governed_masks(gov, np.array([True, True, True, False]), tier, repeat)
    assert masks["response_sla"].tolist() == [True, False, True, False]
    assert masks["stall_review"].tolist() == [True, True, False, False]
    assert masks["activity_evidence"].tolist() == [True, True, True, False]


def test_governance_is_strict():
    with pytest.raises(ValueError):
        Governance(scope={"response_sla": {"tiers": ["Z"]}})
    with pytest.raises(ValueError):
        Governance(review_day=25)
