"""Typed configuration of the recruitment cross-analysis (configs/recruitment.yaml)."""

from __future__ import annotations

from pydantic import Field, model_validator

from cvre.core.config import StrictModel


class RecruitmentConfig(StrictModel):
    as_of: str | None = Field(None, description="snapshot YYYY-MM-DD (default: the data's)")
    monthly_revenue_objective: float = Field(2_000_000.0, gt=0, le=1e12, description="fees per month the firm aims for")
    objective_window_months: int = Field(12, ge=1, le=1200, description="recent months whose funnel rates and fees are "
                                         "used")
    tiers: tuple[float, float, float] = Field((0.01, 0.04, 0.15), description="top / large / medium client shares "
                                              "by net profit (the rest: small)")
    churn_days: int = Field(365, gt=0, le=36_500, description="a client without a new job for this many days has left")
    time_waster_effort_quantile: float = Field(0.75, gt=0, lt=1, description="effort above this quantile is high")
    interval: float = Field(0.9, gt=0, lt=1, description="level of every interval")
    bootstrap: int = Field(200, ge=20, le=5000, description="resamples for bootstrap intervals")
    min_pitches: int = Field(20, ge=1, le=1_000_000, description="salespeople with fewer pitches are listed but not "
                             "ranked")
    seed: int = Field(42, ge=0, le=2**32 - 1)
    n_jobs: int = Field(1, ge=1, le=256, description="threads for the tier-driver model")

    @model_validator(mode="after")
    def _tiers_fit(self) -> RecruitmentConfig:
        if sum(self.tiers) >= 1:
            raise ValueError("tiers must leave a share for the rest (sum < 1)")
        return self
