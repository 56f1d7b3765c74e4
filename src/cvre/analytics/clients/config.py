"""Typed configuration of client analytics (configs/clients.yaml): RFM rule, KPI periods, CLV, target lists."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cvre.core.config import StrictModel

Period = Literal["day", "month", "quarter", "year"]


class Segment(StrictModel):
    name: str = Field(description="segment name shown on the pages")
    r: tuple[int, int] = Field(description="recency score range, inclusive (5 = bought most recently)")
    f: tuple[int, int] = Field(description="frequency score range, inclusive (5 = buys most often)")
    action: str = Field("", description="what the CRM team does with this segment")


DEFAULT_SEGMENTS = [
    Segment(name="champions", r=(5, 5), f=(4, 5), action="reward; ask for referrals"),
    Segment(name="loyal", r=(3, 4), f=(4, 5), action="upsell; loyalty programme"),
    Segment(name="cannot_lose_them", r=(1, 2), f=(5, 5), action="win back now, personally"),
    Segment(name="at_risk", r=(1, 2), f=(3, 4), action="reactivation campaign"),
    Segment(name="potential_loyalists", r=(4, 5), f=(2, 3), action="membership; recommend"),
    Segment(name="new_customers", r=(5, 5), f=(1, 1), action="onboarding"),
    Segment(name="promising", r=(4, 4), f=(1, 1), action="brand awareness; free trials"),
    Segment(name="need_attention", r=(3, 3), f=(3, 3), action="limited-time offers"),
    Segment(name="about_to_sleep", r=(3, 3), f=(1, 2), action="reconnect with popular products"),
    Segment(name="hibernating", r=(2, 2), f=(1, 2), action="relevant offers; low cost"),
    Segment(name="lost", r=(1, 1), f=(1, 2), action="ignore unless cheap to reach"),
]


class RfmConfig(StrictModel):
    bins: int = Field(5, ge=2, le=10, description="scores 1..bins, by quantile among customers (ties share)")
    lookback_days: int | None = Field(None, gt=0, le=36_500, description="F and M over this many days (default: all "
                                       "history)")
    segments: list[Segment] = Field(default=DEFAULT_SEGMENTS, min_length=1,
                                    description="R x F grid map, first match wins; must cover every cell")

    @model_validator(mode="after")
    def _covers_the_grid(self) -> RfmConfig:
        cells = [(r, f) for r in range(1, self.bins + 1) for f in range(1, self.bins + 1)]
        uncovered = [c for c in cells if not any(s.r[0] <= c[0] <= s.r[1] and s.f[0] <= c[1] <= s.f[1]
                                                 for s in self.segments)]
        if uncovered:
            shown = ", ".join(f"R{r}F{f}" for r, f in uncovered[:8])
            raise ValueError(f"segments leave {len(uncovered)} R x F cells without a segment ({shown}); "
                             "add a segment that covers them")
        bad = [s.name for s in self.segments if not (1 <= s.r[0] <= s.r[1] <= self.bins
                                                     and 1 <= s.f[0] <= s.f[1] <= self.bins)]
        if bad:
            raise ValueError(f"segments {bad}: score ranges must be ordered and within 1..{self.bins}")
        return self


class ClvConfig(StrictModel):
    enabled: bool = True
    unit_days: float = Field(7.0, gt=0, le=365, description="time unit of the BG/NBD fit (7: weeks, as published)")
    horizon_days: int = Field(365, gt=0, le=36_500, description="CLV horizon after the snapshot")
    annual_discount_rate: float = Field(0.0, ge=0, lt=1, description="applied monthly")
    draws: int = Field(200, ge=10, le=5000, description="parameter draws for the intervals")
    interval: float = Field(0.9, gt=0, lt=1)
    seed: int = Field(42, ge=0, le=2**32 - 1)


class TargetList(StrictModel):
    name: str
    segments: list[str] = Field(default=[], description="segments to include (empty: all)")
    min_churn_risk: float = Field(0.0, ge=0, le=1, description="1 - probability alive (CLV model)")
    max_churn_risk: float = Field(1.0, ge=0, le=1)
    value_bands: list[Literal["high", "medium", "low"]] = Field(default=["high", "medium", "low"])
    limit: int | None = Field(None, ge=1, le=10_000_000, description="keep the top N by value")


class ClientsConfig(StrictModel):
    as_of: str | None = Field(None, description="snapshot YYYY-MM-DD (default: the data's)")
    kpi_period: Literal["month", "quarter", "year"] = "month"
    active_days: int = Field(90, gt=0, le=36_500, description="a customer is active with a purchase in this many days; "
                             "churned when active at one period end and not at the next")
    value_bands: tuple[float, float] = Field((0.5, 0.8), description="value quantiles splitting low/medium/high")
    rfm: RfmConfig = RfmConfig()
    clv: ClvConfig = ClvConfig()
    targets: list[TargetList] = [
        TargetList(name="win_back", segments=["cannot_lose_them", "at_risk"], value_bands=["high", "medium"]),
        TargetList(name="retain_high_value", min_churn_risk=0.3, value_bands=["high"]),
        TargetList(name="grow", segments=["potential_loyalists", "promising", "new_customers"]),
        TargetList(name="reward", segments=["champions", "loyal"], max_churn_risk=0.3),
    ]

    @model_validator(mode="after")
    def _targets_name_known_segments(self) -> ClientsConfig:
        known = {s.name for s in self.rfm.segments}
        for t in self.targets:
            unknown = sorted(set(t.segments) - known)
            if unknown:
                raise ValueError(f"targets.{t.name}: unknown segments {unknown}; known: {', '.join(sorted(known))}")
        if not self.value_bands[0] < self.value_bands[1]:
            raise ValueError("value_bands must be two increasing quantiles, e.g. [0.5, 0.8]")
        return self
