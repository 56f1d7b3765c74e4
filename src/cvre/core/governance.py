"""The governance rules, defined once: what each rule enforces and which deals it governs.

The simulator's counterfactual policies (simulation/truth.py::apply_policy) and every recovery
estimator (analytics/counterfactual.py, analytics/recovery/) read this one definition.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cvre.core.config import StrictModel

RULES = ("response_sla", "activity_evidence", "stall_review")
SCENARIOS = (*RULES, "combined")
# The behaviours (core.field_sources) a rule moves: where none of them is recorded, the data cannot say what the rule
# would recover (every deal looks the same on it), so no estimate is made
RULE_BEHAVIOURS = {"response_sla": ("slow_response",), "activity_evidence": ("no_activity", "stage_jump"),
                   "stall_review": ("stalled",)}
Tier = Literal["A", "B", "C"]
BusinessType = Literal["new", "repeat"]


class RuleScope(StrictModel):
    """The deals a rule governs: account tiers and business types (new or repeat)."""

    tiers: list[Tier] = Field(default=["A", "B", "C"], min_length=1)
    business_types: list[BusinessType] = Field(default=["new", "repeat"], min_length=1)


class RuleScopes(StrictModel):
    response_sla: RuleScope = RuleScope()
    activity_evidence: RuleScope = RuleScope()
    stall_review: RuleScope = RuleScope()


class Governance(StrictModel):
    """Seed 000's governance rules as enforced: response SLA, activity evidence gate, stall review."""

    response_sla_hours: float = Field(48.0, gt=0, le=8760, description="first response to a lead within this many "
                                      "hours")
    stall_review_day: float = Field(25.0, ge=21, le=30, description="a deal is reviewed (unstalled) by this day "
                                    "in a stage")
    evidence_min_cadence: float = Field(2.0, gt=0, le=1000, description="activities per 30 days a gated deal logs at "
                                        "least")
    compliance: float = Field(1.0, ge=0, le=1, description="share of governed deals that comply")
    scope: RuleScopes = RuleScopes()


def blind_scenarios(scenarios, sources: dict[str, str]) -> dict[str, list[str]]:
    """Scenarios enforcing a rule none of whose behaviours the data records (`sources`:
    `core.field_sources.behaviour_sources`), each with those behaviours."""
    out = {}
    for scenario in scenarios:
        unseen = [b for rule in scenario_rules(scenario) if all(sources.get(x, "absent") == "absent"
                                                                 for x in RULE_BEHAVIOURS[rule])
                  for b in RULE_BEHAVIOURS[rule]]
        if unseen:
            out[scenario] = unseen
    return out


def scenario_rules(scenario: str) -> tuple[str, ...]:
    """The rules a scenario enforces ('combined' enforces all three)."""
    if scenario == "combined":
        return RULES
    if scenario not in RULES:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {', '.join(SCENARIOS)}")
    return (scenario,)
