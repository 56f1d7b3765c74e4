"""Seed 000's behaviour rules: when a deal is flagged, and the share of its expected value at stake."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, field_validator

from cvre.core.config import StrictModel

Behaviour = Literal["stalled", "no_activity", "slow_response", "stage_jump", "overdue_close_date", "missing_amount"]
BEHAVIOURS: tuple[str, ...] = get_args(Behaviour)
Share = Annotated[float, Field(ge=0, le=1)]
DEFAULT_HAIRCUTS: dict[str, float] = {"stalled": 0.25, "no_activity": 0.20, "slow_response": 0.15, "stage_jump": 0.10,
                                      "overdue_close_date": 0.0, "missing_amount": 0.0}


class BehaviourRules(StrictModel):
    slow_response_hours: float = Field(48.0, gt=0, le=24 * 365)
    stall_days: float = Field(30.0, gt=0, le=3650)
    haircuts: dict[Behaviour, Share] = Field(
        default=DEFAULT_HAIRCUTS,
        description="share (0-1) of a flagged deal's expected value at risk, per behaviour; behaviours left out "
                    "keep their default")

    @field_validator("haircuts", mode="before")
    @classmethod
    def _defaults_for_behaviours_left_out(cls, value: object) -> object:
        return {**DEFAULT_HAIRCUTS, **value} if isinstance(value, dict) else value
