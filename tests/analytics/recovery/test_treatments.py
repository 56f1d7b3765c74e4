import numpy as np
import pandas as pd

from cvre.analytics.recovery.treatments import CADENCE, RESPONSE, SILENT, STALL, UNEVIDENCED, shifted, treatments
from cvre.core.governance import Governance, RuleScope, RuleScopes


def deals() -> pd.DataFrame:
    return pd.DataFrame({
        "has_lead": [True, True, False, True], "lead_response_hours": [100.0, 10.0, np.nan, 72.0],
        "activities_total": [0.0, 4.0, 2.0, 3.0], "activities_per_30d": [0.0, 2.0, 4.0, 1.0],
        "max_days_in_stage": [40.0, 20.0, 28.0, 60.0], "moves_without_activity": [3.0, 0.0, 1.0, 0.0],
        "tier": ["A", "B", "C", "B"], "business_type": ["new", "new", "repeat", "repeat"],
    })


def test_each_rule_moves_only_its_behaviour_as_the_simulator_does():
    d = deals()
    t = treatments(d)
    sla, moved = shifted(t, d, "response_sla", Governance())
    assert sla[RESPONSE].tolist()[:2] == [48.0, 10.0] and np.isnan(sla[RESPONSE].iloc[2])
    assert moved.tolist() == [True, False, False, True] and sla[STALL].equals(t[STALL])
    evidence, moved = shifted(t, d, "activity_evidence", Governance(evidence_min_cadence=2.5))
    assert evidence[CADENCE].tolist() == [2.5, 2.0, 4.0, 1.0] and (evidence[SILENT] == 0).all()
    assert (evidence[UNEVIDENCED] == 0).all() and moved.tolist() == [True, False, True, False]
    stall, _ = shifted(t, d, "stall_review", Governance(stall_review_day=25))
    assert stall[STALL].tolist() == [25.0, 20.0, 25.0, 25.0]


def test_combined_and_scope():
    d = deals()
    gov = Governance(scope=RuleScopes(response_sla=RuleScope(tiers=["A"]),
                                      stall_review=RuleScope(business_types=["new"])))
    both, moved = shifted(treatments(d), d, "combined", gov)
    assert both[RESPONSE].tolist()[::3] == [48.0, 72.0]  # tier B is outside the SLA's scope
    assert both[STALL].tolist() == [25.0, 20.0, 28.0, 60.0]  # repeat business is outside the review's scope
    assert moved.tolist() == [True, False, True, False]
