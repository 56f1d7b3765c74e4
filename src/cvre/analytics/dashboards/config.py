"""Typed configuration of the dashboards (configs/report.yaml)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from cvre.analytics.config import SEGMENTS, Segment
from cvre.analytics.rules import BEHAVIOURS
from cvre.core.config import StrictModel


class Rule(StrictModel):
    rule: str = Field(description="the rule as leadership would enforce it")
    scenario: str | None = Field(None, description="leakage scenario that prices it in euros; none: data quality")
    behaviours: list[str] = Field(description="behaviours the rule fixes (counts the deals it touches)")
    tiers: list[str] | None = Field(None, description="account tiers the rule applies to (default: all)")

    @field_validator("behaviours")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(BEHAVIOURS))
        if unknown or not value:
            raise ValueError(f"unknown or no behaviours {unknown}; expected some of {', '.join(BEHAVIOURS)}")
        return value


class ReportConfig(StrictModel):
    top_deals: int = Field(20, ge=1, le=500, description="rows in the top leaking deals list")
    top_segment_values: int = Field(12, ge=2, le=100, description="bars per breakdown chart")
    filters: dict[Segment, str] = Field({s: s.replace("_", " ").capitalize() for s in SEGMENTS},
                                    description="slicer column -> label")
    rulebook: list[Rule] = []

    @model_validator(mode="after")
    def _tier_rules_need_the_tier_slicer(self) -> ReportConfig:
        if any(r.tiers for r in self.rulebook) and "tier" not in self.filters:
            raise ValueError("rulebook: a rule with `tiers` needs `tier` among the filters")
        return self
