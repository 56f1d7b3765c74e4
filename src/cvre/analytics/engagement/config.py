"""Typed configuration of `cvre engagement` (configs/engagement.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from cvre.core.config import StrictModel


class AudienceConfig(StrictModel):
    default_region: str | None = Field(None, description="ISO region for phone numbers written without +code")
    active_days: int = Field(90, ge=1, le=36_500, description="a contact is active with a chat or a read/reply this "
                             "recent")


class CampaignConfig(StrictModel):
    high_intent_replies: int = Field(3, ge=1, le=1000, description="high intent = replied more than this many times")
    ab_metric: Literal["read", "replied"] = Field("read", description="per delivered message")
    alpha: float = Field(0.05, gt=0, lt=0.5)
    power: float = Field(0.8, gt=0.5, lt=1)
    minimum_detectable_lift: float = Field(0.02, gt=0, lt=1, description="absolute, for power and sample size")
    sample_size_baselines: list[float] = Field(default_factory=lambda: [0.05, 0.1, 0.2, 0.3, 0.5])
    sample_size_lifts: list[float] = Field(default_factory=lambda: [0.01, 0.02, 0.05, 0.1])
    send_hour_draws: int = Field(4000, ge=100, le=10_000_000, description="draws from the model's estimates for P(best "
                                 "hour)")
    seed: int = Field(42, ge=0, le=2**32 - 1)
    active_campaign_days: int = Field(30, ge=1, le=3650, description="campaigns sent this recently are 'active'")
    compare: list[str] = Field(default_factory=list,
                               description="two campaign ids side by side (default: the last two sent)")

    @field_validator("compare")
    @classmethod
    def _two_or_none(cls, value: list[str]) -> list[str]:
        if len(value) not in (0, 2):
            raise ValueError(f"give two campaign ids to compare, or none (got {len(value)})")
        return value


class SupportConfig(StrictModel):
    peak_window_hours: int = Field(3, ge=1, le=23)
    topic_keywords: int = Field(15, ge=1, le=1000)
    topic_min_messages: int = Field(3, ge=1, le=1_000_000, description="a keyword must appear in this many messages")
    topic_stop_words: list[str] = Field(
        default_factory=lambda: ["just", "thanks", "thank", "don", "like", "got", "hi", "hello", "hey", "pls",
                                 "please", "know", "ve", "ll", "didn", "doesn", "ok", "im", "dm", "sent"],
        description="chat fillers ignored on top of scikit-learn's English stop words")
    queue_stale_days: float = Field(7.0, gt=0, le=3650, description="unanswered longer than this: stale, not queue")


class RagBand(StrictModel):
    """Red/amber/green: green at or below `green`, amber up to `amber`, red above (lower is better)."""

    green: float = Field(gt=0, le=1e9)
    amber: float = Field(gt=0, le=1e9)

    @model_validator(mode="after")
    def _ordered(self) -> RagBand:
        if self.amber < self.green:
            raise ValueError("amber must be >= green")
        return self


class CoffeeConfig(StrictModel):
    window_days: int = Field(7, ge=1, le=3650, description="team efficiency over the last N days")
    median_response_minutes: RagBand = RagBand(green=15, amber=60)
    p90_response_minutes: RagBand = RagBand(green=60, amber=240)
    open_queue_chats: RagBand = RagBand(green=10, amber=30)


class ExperimentConfig(StrictModel):
    """How a randomised test imported as ab_units is read (e.g. Hillstrom's e-mail test)."""

    control_arm: str | None = Field(None, description="arm to compare against (default: the first, sorted)")
    published: dict[str, dict[Literal["visited", "converted", "revenue"], float]] = Field(
        default_factory=dict, description="arm -> metric -> published figure, shown beside ours")


class EngagementConfig(StrictModel):
    audience: AudienceConfig = AudienceConfig()
    campaigns: CampaignConfig = CampaignConfig()
    support: SupportConfig = SupportConfig()
    coffee: CoffeeConfig = CoffeeConfig()
    experiment: ExperimentConfig = ExperimentConfig()
    experiment_name: str = Field("cvre-engagement", description="MLflow experiment")
