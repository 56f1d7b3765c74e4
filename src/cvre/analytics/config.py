"""Typed configuration of the leakage rule engine (configs/leakage.yaml); defaults are seed 000's."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from cvre.analytics.recovery.config import RecoveryConfig
from cvre.core.config import StrictModel
from cvre.core.governance import SCENARIOS
from cvre.core.rules import Behaviour, BehaviourRules, Share

Segment = Literal["tier", "industry", "owner_id", "lead_source", "created_year"]
SEGMENTS: tuple[str, ...] = get_args(Segment)


class Scenario(StrictModel):
    recovery: dict[Behaviour, Share] = Field(min_length=1, description="behaviour -> share (0-1) of its leakage "
                                             "the rule recovers")


class LeakageConfig(StrictModel):
    scope: Literal["open", "all"] = Field("open", description="open pipeline, or all deals (seed 000's table)")
    probability: Literal["auto", "model", "crm", "stage_rates", "truth"] = Field(
        "auto", description="auto: the champion cvre-win when trained on this data's source, else the CRM's own "
        "probability, else stage win rates; or one of model, crm, stage_rates, truth (simulated worlds)")
    governance_cost_eur: float = Field(150_000.0, gt=0, le=1e12)
    rules: BehaviourRules = BehaviourRules()
    scenarios: dict[Literal[SCENARIOS], Scenario] = {
        "response_sla": Scenario(recovery={"slow_response": 0.60}),
        "activity_evidence": Scenario(recovery={"no_activity": 0.50, "stage_jump": 0.40}),
        "stall_review": Scenario(recovery={"stalled": 0.40}),
        "combined": Scenario(recovery={"slow_response": 0.60, "no_activity": 0.50, "stage_jump": 0.40,
                                       "stalled": 0.40}),
    }
    segments: list[Segment] = Field(list(SEGMENTS), description="breakdowns of the leakage tables")
    recovery: RecoveryConfig = Field(RecoveryConfig(), description="the causal estimate of each scenario")
