"""Seed 000's behaviour rules: when a deal is flagged, and the share of its expected value at stake."""

from __future__ import annotations

from pydantic import Field

from cvre.core.config import StrictModel


class BehaviourRules(StrictModel):
    slow_response_hours: float = Field(48.0, gt=0)
    stall_days: float = Field(30.0, gt=0)
    haircuts: dict[str, float] = Field(
        default={"stalled": 0.25, "no_activity": 0.20, "slow_response": 0.15, "stage_jump": 0.10,
                 "overdue_close_date": 0.0, "missing_amount": 0.0},
        description="share of a flagged deal's expected value at risk, per behaviour")
