"""Typed configuration of the CRM world simulator (configs/simulate.yaml)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from cvre.core.config import StrictModel
from cvre.core.governance import Governance, Tier
from cvre.simulation.engagement import EngagementPlan
from cvre.simulation.recruitment import RecruitmentPlan
from cvre.simulation.shift import Shift


class WorldShape(StrictModel):
    start: date = date(2023, 1, 1)
    as_of: date = date(2024, 12, 31)
    deals_per_account: float = Field(10.0, gt=0, le=10_000)
    contacts_per_account: float = Field(3.0, gt=0, le=10_000)
    deals_per_rep: float = Field(250.0, gt=0, le=1_000_000)
    max_reps: int = Field(240, ge=4, le=1_000_000)
    reps_per_team: int = Field(8, ge=2, le=10_000)
    coach_share: float = Field(0.15, ge=0, lt=1)
    campaigns_per_month: float = Field(1.0, ge=0, le=1000)
    campaign_reach: float = Field(0.25, gt=0, le=1)
    chats_per_account_month: float = Field(0.4, ge=0, le=1000)
    seasonality: float = Field(0.25, ge=0, lt=1, description="amplitude of monthly deal volume")
    growth_per_year: float = Field(0.3, ge=0, le=100, description="yearly growth of deal volume")
    chunk_deals: int = Field(100_000, ge=1000, le=100_000_000)

    @model_validator(mode="after")
    def _dates_ordered(self) -> WorldShape:
        if self.as_of <= self.start:
            raise ValueError("as_of must be after start")
        return self


class Behaviour(StrictModel):
    """Rates of the CRM behaviours seed 000 penalises, at their defaults for a world like its own."""

    lead_share: float = Field(0.85, ge=0, le=1, description="deals that come from a lead")
    response_median_hours: float = Field(16.0, gt=0, le=8760)
    response_sigma: float = Field(1.63, gt=0, le=10, description="log-normal sigma; 1.63 -> ~25% over 48 h")
    unanswered_lead_share: float = Field(0.03, ge=0, le=1)
    no_activity_share: float = Field(0.20, ge=0, le=1)
    activity_cadence_median: float = Field(10.5, gt=0, le=10_000, description="activities per 30 days")
    logging_discipline: float = Field(0.75, gt=0, lt=1, description="mean share of activities logged")
    stall_share: float = Field(0.32, ge=0, le=1)
    stall_extra_days_mean: float = Field(30.0, gt=0, le=3650)
    stage_days_mean: list[float] = Field(default=[10.0, 14.0, 16.0, 12.0], min_length=4, max_length=4)


TIER_EFFECT = {"A": 0.30, "B": 0.0, "C": -0.20}
TIER_MULTIPLIER = {"A": 1.6, "B": 1.0, "C": 0.7}


def _every_tier(defaults: dict[str, float]) -> BeforeValidator:
    """A per-tier mapping given in part keeps the defaults of the tiers left out (never a tier without a value)."""
    return BeforeValidator(lambda value: {**defaults, **value} if isinstance(value, dict) else value)


BEHAVIOUR_TERMS = ("response_log", "response_over_48h", "no_activity", "cadence_log", "stall_per_30_days",
                   "stall_over_30_days", "unevidenced_move")


class WinModel(StrictModel):
    """Coefficients of the true win log-odds; the function lives in simulation/truth.py."""

    intercept: float = Field(0.35, ge=-10, le=10)
    response_log: float = Field(-0.30, ge=-10, le=10)
    response_over_48h: float = Field(-0.30, ge=-10, le=10)
    no_activity: float = Field(-0.70, ge=-10, le=10)
    cadence_log: float = Field(0.22, ge=-10, le=10)
    stall_per_30_days: float = Field(-0.45, ge=-10, le=10)
    stall_over_30_days: float = Field(-0.30, ge=-10, le=10)
    unevidenced_move: float = Field(-0.18, ge=-10, le=10)
    owner_skill_sd: float = Field(0.35, ge=0, le=10)
    tier_effect: Annotated[dict[Tier, float], _every_tier(TIER_EFFECT)] = TIER_EFFECT
    repeat_business: float = Field(0.40, ge=-10, le=10)
    amount_log_ratio: float = Field(-0.35, ge=-10, le=10)
    season_amplitude: float = Field(0.20, ge=-10, le=10)
    behaviour_effect_scale: float = Field(1.0, ge=0, le=100, description="multiplies every behaviour coefficient; 0 is "
                                          "a null world where the governance rules change nothing")

    def effective(self) -> WinModel:
        """The coefficients the world uses: behaviour terms times `behaviour_effect_scale`."""
        if self.behaviour_effect_scale == 1.0:
            return self
        k = self.behaviour_effect_scale
        return self.model_copy(update={name: getattr(self, name) * k for name in BEHAVIOUR_TERMS})


class Amounts(StrictModel):
    tier_multiplier: Annotated[dict[Tier, float], _every_tier(TIER_MULTIPLIER)] = TIER_MULTIPLIER
    repeat_multiplier: float = Field(1.15, gt=0, le=100)
    sigma: float = Field(0.35, gt=0, le=10)


class Churn(StrictModel):
    base_monthly_hazard: float = Field(0.025, gt=0, lt=1)
    frequency_effect: float = Field(-0.45, ge=-10, le=10)
    spend_effect: float = Field(-0.20, ge=-10, le=10)
    support_effect: float = Field(0.60, ge=-10, le=10)
    engagement_effect: float = Field(-0.90, ge=-10, le=10)
    purchases_per_month_median: float = Field(1.0, gt=0, le=1000)


class Defects(StrictModel):
    """Data-quality defects injected into the export only (never into truth)."""

    missing_amount: float = Field(0.12, ge=0, le=1)
    missing_expected_close: float = Field(0.30, ge=0, le=1)
    duplicate_contacts: float = Field(0.03, ge=0, le=1)
    messy_categories: float = Field(0.05, ge=0, le=1)
    stage_skips: float = Field(0.06, ge=0, le=1)
    orphan_account_refs: float = Field(0.005, ge=0, le=1)
    future_dates: float = Field(0.003, ge=0, le=1)


Policies = Governance  # the counterfactual policies are the one governance definition (core/governance.py)


class Confounding(StrictModel):
    """Knobs that tie behaviour to what also drives winning, so naive estimates are biased (0 = off)."""

    skill_behaviour: float = Field(0.0, ge=0, le=10, description="per sd of owner skill: log-faster responses, more "
                                   "activity (half as strong) and more logging")
    large_account_response: float = Field(0.0, ge=0, le=10, description="log-faster responses to tier A accounts")


class SimulationConfig(StrictModel):
    seed: int = Field(42, ge=0, le=2**32 - 1)
    deals: int = Field(20_000, ge=50, le=1_000_000_000)
    world: WorldShape = WorldShape()
    behaviour: Behaviour = Behaviour()
    win: WinModel = WinModel()
    amounts: Amounts = Amounts()
    churn: Churn = Churn()
    defects: Defects = Defects()
    policies: Governance = Governance()
    confounding: Confounding = Confounding()
    engagement: EngagementPlan = EngagementPlan()
    recruitment: RecruitmentPlan = RecruitmentPlan()
    shift: Shift | None = Field(None, description="a later period's shifts (see simulation/shift.py)")
