"""A recruitment firm's back office (seed 001): jobs opened for won deals, candidates pitched, MER meetings,
offers and placements, with the truth each seed-001 question can be checked against.

Off by default (the default world keeps its simple jobs table). When on: every won deal opens a job of a
type; the owning salesperson's pitch -> MER conversion is their own; a coach runs the job; each MER becomes a
placement with a probability that erodes over the years (seed 001: from about 9% to 5%) and depends on the job
type and the coach; the client base is skewed (a few accounts bring most of the profit).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from cvre.core.config import StrictModel
from cvre.simulation.clock import to_timestamps

_STREAM = 1400  # random stream of the recruitment traits, apart from the world's own streams
OFFER_ACCEPTANCE = 0.6
JobTypeName = Literal["sales_rep", "account_manager", "sales_manager", "head_of_sales"]


class JobType(StrictModel):
    share: float = Field(gt=0, le=1e6)
    candidates_mean: float = Field(gt=0, le=100_000, description="candidates sourced per job")
    placement_effect: float = Field(0.0, ge=-10, le=10, description="log-odds of a MER becoming a placement, vs the "
                                    "base")
    close_days_mean: float = Field(gt=0, le=3650, description="days from opening to the placement")


class RecruitmentPlan(StrictModel):
    enabled: bool = Field(False, description="recruitment back office (seed 001); off keeps the simple jobs table")
    job_types: dict[JobTypeName, JobType] = {
        # effects centred on the MER-weighted mix, so the observed ratio follows the configured 9% -> 5% line
        "sales_rep": JobType(share=0.45, candidates_mean=30, placement_effect=0.1, close_days_mean=35),
        "account_manager": JobType(share=0.25, candidates_mean=24, placement_effect=-0.1, close_days_mean=45),
        "sales_manager": JobType(share=0.20, candidates_mean=18, placement_effect=-0.4, close_days_mean=60),
        "head_of_sales": JobType(share=0.10, candidates_mean=12, placement_effect=-0.7, close_days_mean=80),
    }
    pitch_share: float = Field(0.75, gt=0, le=1, description="share of sourced candidates pitched to the client")
    pitch_to_mer: float = Field(0.30, gt=0, lt=1, description="median salesperson's pitch -> MER conversion")
    pitch_to_mer_sd: float = Field(0.45, ge=0, le=10, description="spread of salespeople's conversion (log-odds sd)")
    mer_to_placement_start: float = Field(0.09, gt=0, lt=1, description="placements per MER at the world's start")
    mer_to_placement_end: float = Field(0.05, gt=0, lt=1, description="placements per MER at the snapshot")
    coach_share: float = Field(0.3, gt=0, lt=1, description="share of the staff who are coaches (at least 2)")
    coach_effect_sd: float = Field(0.35, ge=0, le=10, description="coaches' effect on placements per MER (log-odds sd, "
                                   "centred: the average coach is the base)")
    client_skew: float = Field(1.6, gt=1, le=100, description="Pareto shape of the accounts' deal weight (lower: more "
                               "skewed)")
    cost_per_candidate: float = Field(40.0, ge=0, le=1e9)
    cost_per_mer: float = Field(150.0, ge=0, le=1e9)


def _traits_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAM])


def recruitment_cast(cast, plan: RecruitmentPlan, seed: int):
    """The cast with a skewed client base and each rep's pitch -> MER and coaching traits (no-op when off)."""
    if not plan.enabled:
        return cast
    rng = _traits_rng(seed)
    accounts = cast.accounts.assign(_deal_weight=cast.accounts["_deal_weight"].to_numpy()
                                    * (rng.pareto(plan.client_skew, len(cast.accounts)) + 1.0))
    n = len(cast.reps)
    role = np.where(rng.random(n) < plan.coach_share, "coach", "sales")
    role[: max(0, 2 - int((role == "coach").sum()))] = "coach"  # at least two coaches
    role[-1] = "sales"
    coach_effect = rng.normal(0.0, plan.coach_effect_sd, n)
    coach_effect -= coach_effect[role == "coach"].mean()
    reps = cast.reps.assign(role=role, _pitch_logit=np.log(plan.pitch_to_mer / (1 - plan.pitch_to_mer))
                            + rng.normal(0.0, plan.pitch_to_mer_sd, n), _coach_effect=coach_effect)
    return replace(cast, accounts=accounts, reps=reps)


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def placement_logit(plan: RecruitmentPlan, day: np.ndarray, end_day: float) -> np.ndarray:
    """Base log-odds of a MER becoming a placement: a straight line in log-odds from start to snapshot."""
    a, b = _logit(plan.mer_to_placement_start), _logit(plan.mer_to_placement_end)
    return a + (b - a) * np.clip(day / max(end_day, 1.0), 0.0, 1.0)


def recruitment_jobs(rng: np.random.Generator, d: pd.DataFrame, cast, plan: RecruitmentPlan, start: date,
                     end_day: float) -> pd.DataFrame:
    """One job per won deal closed by the snapshot; counts drawn from the funnel, fees per placement."""
    won = d[d["won"].to_numpy() & (d["close_day"].to_numpy() <= end_day)]
    n = len(won)
    reps = cast.reps
    names = list(plan.job_types)
    shares = np.array([plan.job_types[t].share for t in names])
    kind = rng.choice(len(names), n, p=shares / shares.sum())
    spec = [plan.job_types[t] for t in names]
    opened = won["close_day"].to_numpy() + rng.uniform(0.5, 3.0, n)
    candidates = rng.poisson(np.array([s.candidates_mean for s in spec])[kind]) + 1
    pitches = rng.binomial(candidates, plan.pitch_share)
    owner = won["owner_idx"].to_numpy()
    p_mer = 1 / (1 + np.exp(-reps["_pitch_logit"].to_numpy()[owner]))
    mer = rng.binomial(pitches, p_mer)
    coaches = np.flatnonzero(reps["role"].to_numpy() == "coach")
    coaches = coaches if len(coaches) else np.arange(len(reps))
    coach = coaches[rng.integers(0, len(coaches), n)]
    logit = (placement_logit(plan, opened, end_day) + np.array([s.placement_effect for s in spec])[kind]
             + reps["_coach_effect"].to_numpy()[coach])
    q = 1 / (1 + np.exp(-logit))
    offers = rng.binomial(mer, np.minimum(q / OFFER_ACCEPTANCE, 1.0))
    placements = rng.binomial(offers, OFFER_ACCEPTANCE)
    duration = rng.gamma(3.0, np.array([s.close_days_mean for s in spec])[kind] / 3.0)
    closed = opened + np.where(placements > 0, duration, duration * 1.5)  # unfilled jobs are closed later, lost
    fee = won["amount"].to_numpy() * placements
    cost = plan.cost_per_candidate * candidates + plan.cost_per_mer * mer
    keep = opened <= end_day
    return pd.DataFrame(
        {
            "job_id": "JOB" + won["opportunity_id"].str[3:],
            "opportunity_id": won["opportunity_id"],
            "account_id": cast.accounts["account_id"].to_numpy()[won["account_idx"]],
            "owner_id": reps["rep_id"].to_numpy()[owner],
            "coach_id": reps["rep_id"].to_numpy()[coach],
            "job_type": np.asarray(names)[kind],
            "opened_at": to_timestamps(start, opened).to_numpy(),
            "candidates": candidates,
            "pitches": pitches,
            "mer_meetings": mer,
            "offers": offers,
            "placements": placements,
            "fee": np.round(np.nan_to_num(fee), 2),
            "cost": np.round(cost, 2),
            "closed_at": to_timestamps(start, np.where(closed <= end_day, closed, np.nan)).to_numpy(),
        }
    ).loc[keep]


def recruitment_truth(cast, plan: RecruitmentPlan, start: date, end_day: float) -> dict:
    """What generated the back office: the placement-per-MER line, job types, salespeople's and coaches' traits."""
    reps = cast.reps
    sales = reps[reps["role"] == "sales"]
    coaches = reps[reps["role"] == "coach"]
    months = pd.period_range(pd.Timestamp(start), to_timestamps(start, np.array([end_day]))[0], freq="M")
    mid = np.array([((m.start_time - pd.Timestamp(start)).days + 15.0) for m in months])
    by_month = 1 / (1 + np.exp(-placement_logit(plan, mid, end_day)))
    return {
        "mer_to_placement_by_month": dict(zip([str(m) for m in months], by_month.round(5).tolist(), strict=True)),
        "mer_to_placement_start": plan.mer_to_placement_start, "mer_to_placement_end": plan.mer_to_placement_end,
        "job_types": {k: v.model_dump() for k, v in plan.job_types.items()},
        "offer_acceptance": OFFER_ACCEPTANCE,
        "pitch_to_mer_by_sales": dict(zip(sales["rep_id"], (1 / (1 + np.exp(-sales["_pitch_logit"]))).round(4),
                                          strict=True)),
        "coach_effect": dict(zip(coaches["rep_id"], coaches["_coach_effect"].round(4), strict=True)),
        "pitch_to_mer_by_team": (sales.assign(p=1 / (1 + np.exp(-sales["_pitch_logit"])))
                                 .groupby("team")["p"].mean().round(4).to_dict()),
    }
