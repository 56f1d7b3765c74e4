"""Turn a simulated chunk of deals into canonical export tables as seen on `as_of`, plus truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.core.schema import STAGES_OPEN
from cvre.simulation import defects
from cvre.simulation.clock import to_timestamps
from cvre.simulation.config import SimulationConfig
from cvre.simulation.deals import DealChunk
from cvre.simulation.entities import Cast
from cvre.simulation.recruitment import recruitment_jobs
from cvre.simulation.truth import POLICIES


def _contact_for(rng, cast: Cast, account_idx: np.ndarray) -> np.ndarray:
    contacts = cast.contacts
    counts = np.bincount(contacts["_account_idx"].to_numpy(), minlength=len(cast.accounts))
    offsets = np.cumsum(counts) - counts
    pick = offsets[account_idx] + (rng.random(len(account_idx)) * counts[account_idx]).astype(int)
    return contacts["contact_id"].to_numpy()[pick]


def _stage_history(chunk: DealChunk, end_day: float) -> pd.DataFrame:
    d = chunk.deals
    n = len(d)
    entries = chunk.stage_entries
    close_stage = np.where(d["won"], "closed_won", "closed_lost")
    days = np.hstack([entries, d["close_day"].to_numpy()[:, None]])
    stages = np.hstack([np.tile(np.array(STAGES_OPEN, dtype=object), (n, 1)), close_stage[:, None]])
    ids = np.repeat(d["opportunity_id"].to_numpy(), 5)
    flat_days = days.ravel()
    keep = flat_days <= end_day
    seq = np.tile(np.arange(5), n)
    return pd.DataFrame(
        {
            "stage_event_id": (pd.Series(ids) + "-" + pd.Series(seq).astype(str)).to_numpy()[keep],
            "opportunity_id": ids[keep],
            "stage": stages.ravel()[keep],
            "day": flat_days[keep],
        }
    )


def _current_stage(history: pd.DataFrame) -> pd.Series:
    return history.groupby("opportunity_id", sort=False)["stage"].last()


def export_deal_chunk(rng: np.random.Generator, chunk: DealChunk, cast: Cast, cfg: SimulationConfig,
                      end_day: float) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, list[tuple[str, str, str]]]:
    """Export tables, the truth table and the defects injected (table, row id, defect) for a chunk."""
    start, d, dfx = cfg.world.start, chunk.deals, cfg.defects
    ts = lambda days: to_timestamps(start, days).to_numpy()  # noqa: E731
    found: list[tuple[str, str, str]] = []

    def note(table, ids, kind):
        found.extend((table, str(i), kind) for i in ids)

    closed = d["close_day"].to_numpy() <= end_day
    history = _stage_history(chunk, end_day)
    stage_now = d["opportunity_id"].map(_current_stage(history))
    pushes = chunk.pushes[chunk.pushes["day"] <= end_day]
    pushes = pushes[d["close_day"].to_numpy()[pushes["deal"].to_numpy()] > pushes["day"].to_numpy()]
    n_pushes = np.bincount(pushes["deal"].to_numpy(), minlength=len(d))
    has_close_date = ~defects.pick(rng, len(d), dfx.missing_expected_close)
    expected_close = np.where(has_close_date, d["planned_close_day"].to_numpy() + 30.0 * n_pushes, np.nan)
    note("opportunities", d["opportunity_id"][~has_close_date], "missing_expected_close_date")

    opps = pd.DataFrame(
        {
            "opportunity_id": d["opportunity_id"],
            "account_id": cast.accounts["account_id"].to_numpy()[d["account_idx"]],
            "lead_id": d["lead_id"],
            "owner_id": cast.reps["rep_id"].to_numpy()[d["owner_idx"]],
            "product": d["product"],
            "business_type": d["business_type"],
            "created_at": ts(d["created_day"]),
            "stage": stage_now,
            "outcome": np.where(closed, np.where(d["won"], "won", "lost"), "open"),
            "amount": d["amount"],
            "currency": "EUR",
            "expected_close_date": ts(expected_close),
            "closed_at": ts(np.where(closed, d["close_day"], np.nan)),
        }
    )
    opps, ids = defects.blank_values(rng, opps, "amount", dfx.missing_amount, "opportunity_id")
    note("opportunities", ids, "missing_amount")
    opps, ids = defects.mess_up_categories(rng, opps, "product", dfx.messy_categories, "opportunity_id")
    note("opportunities", ids, "messy_category")
    opps, ids = defects.orphan_references(rng, opps, "account_id", dfx.orphan_account_refs, "opportunity_id",
                                          f"ACCX{d['opportunity_id'].iloc[0][3:]}")
    note("opportunities", ids, "orphan_account_reference")

    history, ids = defects.skip_stages(rng, history, dfx.stage_skips)
    note("stage_history", ids, "stage_skip")
    history = history.assign(entered_at=ts(history["day"])).drop(columns="day")

    acts = chunk.activities[chunk.activities["day"].to_numpy() <= end_day]
    activities = pd.DataFrame(
        {
            "activity_id": [f"ACT{d['opportunity_id'].iloc[0][3:]}{i:08d}" for i in range(len(acts))],
            "opportunity_id": d["opportunity_id"].to_numpy()[acts["deal"]],
            "owner_id": cast.reps["rep_id"].to_numpy()[d["owner_idx"].to_numpy()[acts["deal"]]],
            "activity_type": acts["activity_type"].to_numpy(),
            "occurred_at": ts(acts["day"]),
            "logged": acts["logged"].to_numpy(),
        }
    )
    activities, ids = defects.future_dates(rng, activities, "occurred_at", dfx.future_dates, "activity_id",
                                                cfg.world.as_of)
    note("activities", ids, "future_date")

    changes = pushes[has_close_date[pushes["deal"].to_numpy()]]
    close_changes = pd.DataFrame(
        {
            "change_id": [f"CHG{d['opportunity_id'].iloc[0][3:]}{i:07d}" for i in range(len(changes))],
            "opportunity_id": d["opportunity_id"].to_numpy()[changes["deal"]],
            "changed_at": ts(changes["day"]),
            "old_expected_close_date": ts(changes["old_expected_close_day"]),
            "new_expected_close_date": ts(changes["new_expected_close_day"]),
        }
    )
    tables = {
        "opportunities": opps,
        "stage_history": history,
        "activities": activities,
        "close_date_changes": close_changes,
        "leads": _leads_table(rng, chunk, cast, cfg, end_day, note),
        "jobs": (recruitment_jobs(rng, d, cast, cfg.recruitment, start, end_day) if cfg.recruitment.enabled
                 else _jobs_table(rng, d, cast, cfg, end_day)),
    }
    return tables, _truth_table(d, end_day), found


def _leads_table(rng, chunk: DealChunk, cast: Cast, cfg: SimulationConfig, end_day: float, note) -> pd.DataFrame:
    d, extra = chunk.deals[chunk.deals["has_lead"]], chunk.extra_leads
    extra = extra[extra["created_day"] <= end_day]
    answered = d["response_answered"].to_numpy()
    response_day = np.where(answered, d["lead_created_day"] + d["true_response_hours"] / 24.0, np.nan)
    frame = pd.DataFrame(
        {
            "lead_id": np.concatenate([d["lead_id"].to_numpy(), extra["lead_id"].to_numpy()]),
            "account_idx": np.concatenate([d["account_idx"].to_numpy(), extra["account_idx"].to_numpy()]),
            "owner_idx": np.concatenate([d["owner_idx"].to_numpy(), extra["owner_idx"].to_numpy()]),
            "source": np.concatenate([d["lead_source"].to_numpy(), extra["source"].to_numpy()]),
            "created_day": np.concatenate([d["lead_created_day"].to_numpy(), extra["created_day"].to_numpy()]),
            "response_day": np.concatenate([response_day, extra["response_day"].to_numpy()]),
            "converted": np.concatenate([np.ones(len(d), bool), np.zeros(len(extra), bool)]),
        }
    )
    response = frame["response_day"].where(frame["response_day"] <= end_day)
    leads = pd.DataFrame(
        {
            "lead_id": frame["lead_id"],
            "account_id": cast.accounts["account_id"].to_numpy()[frame["account_idx"]],
            "contact_id": _contact_for(rng, cast, frame["account_idx"].to_numpy()),
            "owner_id": cast.reps["rep_id"].to_numpy()[frame["owner_idx"]],
            "source": frame["source"],
            "created_at": to_timestamps(cfg.world.start, frame["created_day"]).to_numpy(),
            "first_response_at": to_timestamps(cfg.world.start, response).to_numpy(),
            "converted": frame["converted"],
        }
    )
    leads, ids = defects.mess_up_categories(rng, leads, "source", cfg.defects.messy_categories, "lead_id")
    note("leads", ids, "messy_category")
    return leads


def _jobs_table(rng, d: pd.DataFrame, cast: Cast, cfg: SimulationConfig, end_day: float) -> pd.DataFrame:
    """Back-office recruitment jobs for won deals: pitches -> MER meetings -> offers -> placements."""
    won = d[d["won"].to_numpy() & (d["close_day"].to_numpy() <= end_day)]
    n = len(won)
    opened = won["close_day"].to_numpy() + rng.uniform(0.5, 3.0, n)
    # MER -> placement efficiency erodes over the years, as seed 001 reports (9% down to 5%).
    age = opened / max(end_day, 1.0)
    pitches = rng.poisson(6.0, n) + 1
    mer = rng.binomial(pitches, 0.35)
    offers = rng.binomial(mer, 0.5)
    placements = rng.binomial(offers, np.clip(0.75 - 0.35 * age, 0.05, 1.0))
    fee = np.where(placements > 0, won["amount"].to_numpy() * np.minimum(placements, 3) / 2.0, 0.0)
    cost = np.round(fee * rng.uniform(0.35, 0.6, n) + 120.0 * pitches, 2)
    closed = opened + rng.uniform(15.0, 75.0, n)
    keep = opened <= end_day
    return pd.DataFrame(
        {
            "job_id": "JOB" + won["opportunity_id"].str[3:],
            "opportunity_id": won["opportunity_id"],
            "account_id": cast.accounts["account_id"].to_numpy()[won["account_idx"]],
            "owner_id": cast.reps["rep_id"].to_numpy()[won["owner_idx"]],
            "opened_at": to_timestamps(cfg.world.start, opened).to_numpy(),
            "pitches": pitches,
            "mer_meetings": mer,
            "offers": offers,
            "placements": placements,
            "fee": np.round(fee, 2),
            "cost": cost,
            "closed_at": to_timestamps(cfg.world.start, np.where(closed <= end_day, closed, np.nan)).to_numpy(),
        }
    ).loc[keep]


def _truth_table(d: pd.DataFrame, end_day: float) -> pd.DataFrame:
    truth_cols = ["opportunity_id", "true_win_prob", "true_expected_amount", "won", "close_day",
                  "true_response_hours", "true_cadence", "true_no_activity", "true_max_stage_days",
                  "true_unevidenced_moves", "true_owner_skill"]
    policy_cols = [f"{k}_{p}" for p in POLICIES for k in ("p", "won")]
    out = d[truth_cols + policy_cols].rename(columns={"won": "won_eventually"})
    out.insert(3, "true_amount", d["amount"].to_numpy())
    out["open_at_as_of"] = d["close_day"].to_numpy() > end_day
    return out
