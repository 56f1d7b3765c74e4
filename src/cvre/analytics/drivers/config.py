"""Typed configuration of the leakage-driver report (configs/explain.yaml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from cvre.analytics.config import LeakageConfig
from cvre.core.config import StrictModel, load_config

DEFAULT_GROUPS: dict[str, list[str]] = {
    "lead response": ["has_lead", "lead_response_hours", "lead_unanswered", "slow_lead_response"],
    "activity": ["activities_*", "*_7d", "*_30d", "*_90d", "logged_share", "days_since_last_activity",
                 "longest_gap_days", "no_activity"],
    "stall": ["days_in_stage", "max_days_in_stage", "stalled"],
    "stage moves": ["moves_without_activity", "stage_moves", "stage_velocity", "backward_moves", "stage_skips",
                    "has_stage_history"],
    "close date": ["close_date_pushes", "expected_close_missing", "days_to_expected_close", "close_date_overdue"],
    "amount": ["amount", "amount_missing", "list_price"],
    "owner & account history": ["owner_*", "account_*", "employees"],
    "deal context": ["current_stage", "lead_source", "industry", "tier", "region", "country", "product",
                     "business_type", "age_days", "created_month", "snapshot_month", "is_open"],
}
BEHAVIOUR_GROUPS = ["lead response", "activity", "stall", "stage moves", "close date"]


class ExplainConfig(StrictModel):
    model: str = Field("models:/cvre-win@champion", description="MLflow URI of the win model to explain")
    exact_max_deals: int | None = Field(50_000, ge=1, le=10**9, description="attribute every deal up to this many; "
                                        "above it a seeded amount-proportional sample (null: always every deal)")
    sample_deals: int = Field(20_000, ge=100, le=10**8, description="expected deals in that sample")
    batch_rows: int = Field(100_000, ge=1_000, le=10**8, description="deals per pred_contrib batch (bounds memory)")
    n_jobs: int = Field(2, ge=1, le=256, description="LightGBM threads for pred_contrib")
    plot_sample: int = Field(2_000, ge=50, le=10**6, description="deals in the seeded sample behind the bar and "
                             "beeswarm plots")
    seed: int = Field(42, ge=0, le=2**32 - 1)
    top_deals: int = Field(5, ge=0, le=1000, description="waterfalls for the N deals with the largest shortfall")
    max_display: int = Field(12, ge=3, le=200, description="features shown per plot")
    segment_rows: int = Field(10, ge=1, le=10_000, description="segments per slicer shown in the HTML report")
    experiment: str = Field("cvre-explain", description="MLflow experiment of the run")
    groups: dict[str, list[str]] = Field(DEFAULT_GROUPS, description="driver group -> feature names or globs; "
                                         "first match wins, unmatched features go to 'other'")
    behaviours: list[str] = Field(BEHAVIOUR_GROUPS, description="groups that are CRM behaviours (governable)")

    @field_validator("behaviours")
    @classmethod
    def _behaviours_are_groups(cls, value: list[str], info) -> list[str]:
        unknown = [b for b in value if b not in info.data.get("groups", DEFAULT_GROUPS)]
        if unknown:
            raise ValueError(f"not a key of groups: {unknown}")
        return value


def load_explain_configs(config: Path | None, leakage_config: Path | None, scope: str | None = None,
                         model: str | None = None, top: int | None = None,
                         exact: bool = False) -> tuple[ExplainConfig, LeakageConfig]:
    """explain.yaml and leakage.yaml (scope, segments, amounts) with the command line's overrides applied."""
    cfg = load_config(ExplainConfig, config, "explain.yaml")
    leakage = load_config(LeakageConfig, leakage_config, "leakage.yaml")
    if scope:
        leakage.scope = scope
    if model:
        cfg.model = model
    if top is not None:
        cfg.top_deals = top
    if exact:
        cfg.exact_max_deals = None
    return cfg, leakage
