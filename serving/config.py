"""Typed configuration of the scoring API (configs/serving.yaml)."""

from __future__ import annotations

from pydantic import Field

from core.config import StrictModel
from core.rules import BehaviourRules
from features.config import DealFeatureConfig


class ServingConfig(StrictModel):
    tracking_uri: str | None = Field(None, description="default: $MLFLOW_TRACKING_URI or the embedded store")
    win_model: str = "cvre-win"
    amount_model: str = "cvre-amount"
    alias: str = "champion"
    max_batch_size: int = Field(1000, ge=1, description="deals per request; more gets 413")
    api_key_env: str = Field("CVRE_API_KEY", description="when this variable is set, requests need x-api-key")
    deals: DealFeatureConfig = DealFeatureConfig()
    rules: BehaviourRules = BehaviourRules()
