"""Typed configuration of the feature pipelines (configs/features.yaml)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, model_validator

from cvre.core.config import StrictModel


class DealFeatureConfig(StrictModel):
    activity_windows_days: list[Annotated[int, Field(ge=1, le=3650)]] = Field(default=[7, 30, 90], min_length=1)
    slow_response_hours: float = Field(48.0, gt=0, le=24 * 365)
    stall_days: float = Field(30.0, gt=0, le=3650)
    win_rate_prior_deals: float = Field(5.0, ge=0, le=10_000, description="smoothing of owner/account win rates")


class ClientFeatureConfig(StrictModel):
    churn_horizon_days: int = Field(90, gt=0, le=3650)
    lookback_days: int = Field(365, gt=0, le=36_500)
    training_snapshots: int = Field(6, ge=1, le=120, description="monthly snapshots that build the churn table")
    snapshot_step_days: int = Field(30, gt=0, le=3650)
    rfm_bins: int = Field(5, ge=2, le=10)


class CampaignFeatureConfig(StrictModel):
    high_intent_replies: int = Field(3, ge=1, le=1000, description="replied more than this many times")
    recent_days: int = Field(90, gt=0, le=3650)


class SplitConfig(StrictModel):
    train: float = Field(0.6, gt=0, lt=1)
    valid: float = Field(0.2, gt=0, lt=1)

    @model_validator(mode="after")
    def _leaves_test(self) -> SplitConfig:
        if self.train + self.valid >= 1:
            raise ValueError("train + valid must leave a share for test (sum < 1)")
        return self


class ClusterConfig(StrictModel):
    """A Dask cluster that builds the deal features per account partition (docs/team.md); null: this process."""
    scheduler_address: str | None = Field(None, description="e.g. tcp://scheduler:8786; null = one process")
    partitions: int = Field(8, ge=1, le=100_000, description="account partitions the deals are built in")
    connect_timeout_s: float = Field(30.0, gt=0, le=3600, description="wait this long for the scheduler")


class FeatureConfig(StrictModel):
    as_of: date | None = Field(None, description="snapshot; default: the export's manifest as_of")
    deals: DealFeatureConfig = DealFeatureConfig()
    clients: ClientFeatureConfig = ClientFeatureConfig()
    campaigns: CampaignFeatureConfig = CampaignFeatureConfig()
    split: SplitConfig = SplitConfig()
    cluster: ClusterConfig = ClusterConfig()
