"""The known functions that generate outcomes: true win probability, policies' effect, churn."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cvre.simulation.config import Churn, Policies, WinModel

POLICIES = ("response_sla", "activity_evidence", "stall_review", "combined")


@dataclass(frozen=True)
class DealTraits:
    """Behaviour and context of each deal that the true win probability depends on (arrays)."""

    response_hours: np.ndarray  # NaN where the deal has no lead
    cadence: np.ndarray  # activities per 30 days, 0 without activity
    no_activity: np.ndarray
    max_stage_days: np.ndarray
    unevidenced_moves: np.ndarray
    owner_skill: np.ndarray
    tier_effect: np.ndarray
    repeat: np.ndarray
    product_effect: np.ndarray
    amount_log_ratio: np.ndarray
    created_month: np.ndarray  # 1..12


def win_logit(t: DealTraits, cfg: WinModel) -> np.ndarray:
    """True log-odds of winning: behaviour penalties plus owner, account, product, amount, season."""
    hours = np.nan_to_num(t.response_hours, nan=0.0)
    has_lead = ~np.isnan(t.response_hours)
    response = has_lead * (cfg.response_log * np.log1p(hours / 24.0) + cfg.response_over_48h * (hours > 48))
    activity = np.where(t.no_activity, cfg.no_activity, cfg.cadence_log * np.log1p(t.cadence))
    stall_excess = np.clip(t.max_stage_days - 21.0, 0.0, 60.0) / 30.0
    stall = cfg.stall_per_30_days * stall_excess + cfg.stall_over_30_days * (t.max_stage_days > 30)
    season = cfg.season_amplitude * np.cos(2 * np.pi * (t.created_month - 12) / 12.0)
    return (
        cfg.intercept + response + activity + stall + cfg.unevidenced_move * t.unevidenced_moves
        + t.owner_skill + t.tier_effect + cfg.repeat_business * t.repeat + t.product_effect
        + cfg.amount_log_ratio * t.amount_log_ratio + season
    )


def win_probability(t: DealTraits, cfg: WinModel) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-win_logit(t, cfg)))


def apply_policy(t: DealTraits, policy: str, cfg: Policies, complies: np.ndarray) -> DealTraits:
    """The same deals with the governed behaviours changed as the rule would (where they comply)."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; expected one of {', '.join(POLICIES)}")
    governed = POLICIES[:3] if policy == "combined" else (policy,)
    out = t
    if "response_sla" in governed:
        capped = np.minimum(out.response_hours, cfg.response_sla_hours)
        out = replace(out, response_hours=np.where(complies, capped, out.response_hours))
    if "activity_evidence" in governed:
        cadence = np.where(out.no_activity, cfg.evidence_min_cadence, out.cadence)
        out = replace(
            out,
            cadence=np.where(complies, cadence, out.cadence),
            no_activity=np.where(complies, False, out.no_activity),
            unevidenced_moves=np.where(complies, 0, out.unevidenced_moves),
        )
    if "stall_review" in governed:
        capped = np.minimum(out.max_stage_days, cfg.stall_review_day)
        out = replace(out, max_stage_days=np.where(complies, capped, out.max_stage_days))
    return out


def churn_monthly_hazard(
    purchases_per_month: np.ndarray,
    spend_per_purchase: np.ndarray,
    bad_support: np.ndarray,
    engagement: np.ndarray,
    cfg: Churn,
) -> np.ndarray:
    """Monthly churn hazard of each client from frequency, spend, support experience, engagement."""
    log_hazard = (
        np.log(cfg.base_monthly_hazard)
        + cfg.frequency_effect * np.log(purchases_per_month / cfg.purchases_per_month_median)
        + cfg.spend_effect * np.log(spend_per_purchase / np.median(spend_per_purchase))
        + cfg.support_effect * bad_support
        + cfg.engagement_effect * (engagement - 0.3)
    )
    return np.exp(log_hazard)
