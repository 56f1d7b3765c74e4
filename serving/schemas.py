"""Request and response schemas of the scoring API: deals and clients in the canonical CRM form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.schema import ACTIVITY_TYPES, BUSINESS_TYPES, STAGES, STAGES_OPEN


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _times_in_utc(cls, value):
        return _naive_utc(value) if isinstance(value, datetime) else value


class StageEntry(Strict):
    stage: Literal[STAGES]  # type: ignore[valid-type]
    entered_at: datetime


class ActivityIn(Strict):
    activity_type: Literal[ACTIVITY_TYPES]  # type: ignore[valid-type]
    occurred_at: datetime
    logged: bool = True


class LeadIn(Strict):
    lead_id: str = Field(min_length=1, max_length=200)
    source: str | None = Field(None, max_length=200)
    created_at: datetime
    first_response_at: datetime | None = None


class CloseDateChange(Strict):
    changed_at: datetime
    old_expected_close_date: datetime | None = None
    new_expected_close_date: datetime


class DealIn(Strict):
    """An open deal with its history, as `cvre import` produces it."""

    opportunity_id: str = Field(min_length=1, max_length=200, examples=["OPP-1"])
    account_id: str | None = Field(None, max_length=200)
    owner_id: str | None = Field(None, max_length=200)
    product: str | None = Field(None, max_length=200)
    business_type: Literal[BUSINESS_TYPES] | None = None  # type: ignore[valid-type]
    created_at: datetime
    stage: Literal[STAGES_OPEN]  # type: ignore[valid-type]
    amount: float | None = Field(None, ge=0, le=1e12)
    expected_close_date: datetime | None = None
    stage_history: list[StageEntry] = Field(default_factory=list, max_length=200)
    activities: list[ActivityIn] = Field(default_factory=list, max_length=20_000)
    lead: LeadIn | None = None
    close_date_changes: list[CloseDateChange] = Field(default_factory=list, max_length=200)


class Reason(BaseModel):
    feature: str
    text: str
    points: float


class BehaviourWarning(BaseModel):
    behaviour: str
    text: str
    euros_at_stake: float


class DealScore(BaseModel):
    opportunity_id: str
    win_probability: float
    grade: str
    expected_amount: float
    amount_p10: float | None
    amount_p90: float | None
    expected_value: float
    reasons_up: list[Reason]
    reasons_down: list[Reason]
    warnings: list[BehaviourWarning]
    model_versions: dict[str, str]
