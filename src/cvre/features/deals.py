"""Deal features as of each deal's cutoff: stage, activity, lead, close-date, history and context.

Closed deals are described just before they closed (their label is the close); open deals at the
snapshot. Every lookup keeps events strictly at or before the deal's own cutoff.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl

from cvre.core.schema import STAGES_OPEN
from cvre.features.config import DealFeatureConfig
from cvre.features.frames import deal_rows
from cvre.features.timeline import (
    count_in_window,
    days_between,
    index_of,
    order_by_group_time,
    per_group,
    search_sorted,
    seconds,
)

STAGE_ORDER = {**{s: i for i, s in enumerate(STAGES_OPEN)}, "closed_won": 4, "closed_lost": 4}
ONE_SECOND = pd.Timedelta(seconds=1)


def deal_cutoffs(opps: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per deal: its cutoff, label (won 1/0, open NaN) and whether it is open at `as_of`; indexed by
    the deal's position in `opps`.

    A closed deal is described just before its close, never before its creation (a deal closed at its creation
    instant has age 0). A closed deal without a close date (exports without one) is described as exported, at
    `as_of`: it is still a labelled row, its features are the export's.
    """
    outcome = opps["outcome"] if "outcome" in opps.columns else outcome_of_stage(opps["stage"])
    closed = outcome.isin(["won", "lost"]).fillna(False).to_numpy()
    is_open = (outcome == "open").fillna(False).to_numpy()
    keep = closed | is_open
    o = opps.loc[keep]
    closed = closed[keep]
    closed_at = o["closed_at"] if "closed_at" in o.columns else pd.Series(pd.NaT, index=o.index)
    timed = closed & closed_at.notna().to_numpy()
    before_close = np.maximum((closed_at - ONE_SECOND).to_numpy(dtype="datetime64[ns]"),
                              o["created_at"].to_numpy(dtype="datetime64[ns]"))
    cutoff = np.where(timed, before_close, np.datetime64(as_of, "ns"))
    return pd.DataFrame(
        {
            "opportunity_id": o["opportunity_id"].to_numpy(),
            "cutoff": pd.to_datetime(cutoff),
            "won": np.where(closed, (outcome[keep] == "won").fillna(False).to_numpy().astype(float), np.nan),
            "is_open": ~closed,
        },
        index=np.flatnonzero(keep),
    )


def outcome_of_stage(stage: pd.Series) -> pd.Series:
    """won / lost / open from the stage, for an export without an outcome column."""
    return stage.map({"closed_won": "won", "closed_lost": "lost"}).fillna(
        stage.where(stage.isna(), "open")).astype("string")


def observed_stage_features(opps: pd.DataFrame, cut: pd.DataFrame) -> pd.DataFrame:
    """Stage features from the CRM's own fields when the export has no stage history (rows aligned with `cut`).

    Days in the current stage describe open deals only: on a closed deal the CRM counts the days since the
    close, which would reveal the outcome.
    """
    n = len(cut)
    col = lambda name: (opps[name].astype("Float64").to_numpy(dtype=float, na_value=np.nan)  # noqa: E731
                        if name in opps.columns else np.full(n, np.nan))
    is_open = cut["is_open"].to_numpy(dtype=bool)
    moves = col("stage_moves")
    jump = col("stage_jump")
    stage = opps["stage"].astype("string").to_numpy(dtype=object) if "stage" in opps.columns else np.full(n, None)
    age_days = days_between(cut["cutoff"], cut["created_at"])
    return pd.DataFrame(
        {
            "current_stage": np.where(is_open & pd.Series(stage).isin(STAGES_OPEN).to_numpy(), stage, None),
            "days_in_stage": np.where(is_open, col("days_in_stage"), np.nan),
            "stage_moves": moves,
            "stage_velocity": moves / np.maximum(age_days, 1.0) * 30.0,
            "backward_moves": col("backward_moves"),
            "moves_without_activity": jump,
            "has_stage_history": np.zeros(n, dtype=bool),
        }
    )


def stage_features(history: pd.DataFrame | pl.DataFrame, cut: pd.DataFrame, logged_acts: pl.DataFrame) -> pd.DataFrame:
    """Current stage, days in it, moves (backward, skipping, without logged activity) as of each deal's cutoff."""
    ranks = pl.DataFrame({"stage": list(STAGE_ORDER), "order": list(STAGE_ORDER.values())},
                         schema={"stage": pl.String, "order": pl.Float64})
    events = deal_rows(history, cut, "entered_at", stage=pl.col("stage").cast(pl.String))
    events = events.join(ranks, on="stage", how="left", maintain_order="left")  # unknown stages: NaN
    return stage_table(events["d"].to_numpy(), events["t"].to_numpy(), events["order"].to_numpy(), cut,
                       logged_acts["d"].to_numpy(), logged_acts["t"].to_numpy())


def stage_table(dd: np.ndarray, tt: np.ndarray, order: np.ndarray, cut: pd.DataFrame, act_d: np.ndarray,
                act_t: np.ndarray) -> pd.DataFrame:
    """Stage features from the stage events known by each cutoff (deal row, seconds, stage order; in the
    history's order) and the logged activities (deal row, seconds)."""
    n = len(cut)
    cutoff_s = seconds(cut["cutoff"])
    by_deal_time = order_by_group_time(dd, tt)  # stable: events at the same instant keep the history's order
    dd, tt, order = dd[by_deal_time], tt[by_deal_time], order[by_deal_time]
    m = len(dd)  # the [:m] keep an empty history empty
    first_row = np.r_[True, dd[1:] != dd[:-1]][:m]
    last_row = np.r_[dd[1:] != dd[:-1], True][:m]
    prev_order = np.r_[np.nan, order[:-1]][:m]
    prev_t = np.r_[0, tt[:-1]][:m]
    is_move = ~first_row
    next_t = np.where(last_row, cutoff_s[dd], np.r_[tt[1:], 0][:m])
    evidence = count_in_window(act_d, act_t, dd[is_move], prev_t[is_move], tt[is_move]) > 0
    unevidenced = np.zeros(len(dd), dtype=float)
    unevidenced[np.flatnonzero(is_move)] = ~evidence
    stage_at = np.full(n, np.nan)
    stage_at[dd[last_row]] = order[last_row]
    entered = np.full(n, np.nan)
    entered[dd[last_row]] = tt[last_row]
    moves = per_group(is_move.astype(float), dd, n, "sum")
    age_days = days_between(cut["cutoff"], cut["created_at"])
    out = pd.DataFrame(
        {
            "current_stage": pd.Series(stage_at).map({i: s for i, s in enumerate(STAGES_OPEN)}).to_numpy(),
            "days_in_stage": (cutoff_s - entered) / 86_400.0,
            "stage_moves": moves,
            "stage_velocity": moves / np.maximum(age_days, 1.0) * 30.0,
            "backward_moves": per_group((is_move & (order < prev_order)).astype(float), dd, n, "sum"),
            "stage_skips": per_group((is_move & (order - prev_order > 1)).astype(float), dd, n, "sum"),
            "moves_without_activity": per_group(unevidenced, dd, n, "sum"),
            "max_days_in_stage": per_group((next_t - tt) / 86_400.0, dd, n, "max"),
        }
    )
    out["has_stage_history"] = ~np.isnan(stage_at)
    return out


def lead_features(leads: pd.DataFrame, cut: pd.DataFrame, cfg: DealFeatureConfig) -> pd.DataFrame:
    if leads.empty:  # a placeholder row no deal points to keeps the lookups below in bounds
        leads = pd.DataFrame({"lead_id": ["\x00\x00"], "created_at": [pd.NaT], "first_response_at": [pd.NaT],
                              "source": [None]})
    pos = index_of(leads["lead_id"], cut["lead_id"].fillna("\x00"))
    found = pos >= 0
    p = np.maximum(pos, 0)
    created = np.where(found, seconds(leads["created_at"])[p], 0)
    has_response = leads["first_response_at"].notna().to_numpy()[p] & found
    response = np.where(has_response, seconds(leads["first_response_at"])[p], 0)
    cutoff_s = seconds(cut["cutoff"])
    answered = has_response & (response <= cutoff_s)
    hours = np.where(answered, (response - created) / 3600.0, (cutoff_s - created) / 3600.0)
    return pd.DataFrame(
        {
            "has_lead": found,
            "lead_response_hours": np.where(found, hours, np.nan),
            "lead_unanswered": found & ~answered,
            "slow_lead_response": found & (hours > cfg.slow_response_hours),
            "lead_source": (np.where(found, leads["source"].to_numpy(dtype=object)[p], None)
                            if "source" in leads.columns else np.full(len(cut), None)),
        }
    )


def close_date_features(opps: pd.DataFrame, changes: pd.DataFrame, cut: pd.DataFrame) -> pd.DataFrame:
    n = len(cut)
    cutoff_s = seconds(cut["cutoff"])
    final = opps["expected_close_date"]
    value = np.where(final.notna().to_numpy(), seconds(final), np.nan).astype(float)
    pushes = np.zeros(n)
    if len(changes):
        d = index_of(cut["opportunity_id"], changes["opportunity_id"])
        c = changes[d >= 0].assign(d=d[d >= 0], t=seconds(changes["changed_at"])[d >= 0]).sort_values(["d", "t"])
        before = c[c["t"].to_numpy() <= cutoff_s[c["d"].to_numpy()]]
        after = c[c["t"].to_numpy() > cutoff_s[c["d"].to_numpy()]]
        first_after = after.drop_duplicates("d", keep="first")
        if "old_expected_close_date" in c.columns:
            value[first_after["d"].to_numpy()] = seconds(first_after["old_expected_close_date"]).astype(float)
        last_before = before.drop_duplicates("d", keep="last")
        value[last_before["d"].to_numpy()] = seconds(last_before["new_expected_close_date"]).astype(float)
        pushes = np.bincount(before["d"].to_numpy(), minlength=n).astype(float)
    days_to_close = (value - cutoff_s) / 86_400.0
    return pd.DataFrame(
        {
            "close_date_pushes": pushes,
            "expected_close_missing": np.isnan(value),
            "days_to_expected_close": days_to_close,
            "close_date_overdue": days_to_close < 0,
        }
    )


@dataclass(frozen=True)
class WinHistory:
    """Closed deals by owner/account and close time with running win counts: prior win rates by binary search.

    Built once per table of deals (serving indexes a model's reference snapshot once, not per request).
    """

    keys: pd.Index  # distinct owner/account ids ("\x00": missing)
    times: np.ndarray  # distinct close times, sorted (ns)
    by_key: np.ndarray  # per closed deal, sorted: key code * (len(times) + 1) + rank of its close time
    key_wins: np.ndarray  # running wins along by_key, from 0
    closes: np.ndarray  # close times of all closed deals, sorted (ns)
    wins: np.ndarray  # running wins along closes, from 0

    @classmethod
    def of(cls, opps: pd.DataFrame, key: str) -> WinHistory:
        """Deals without a close date have no place in time: they never count as prior history."""
        if "closed_at" not in opps.columns or "outcome" not in opps.columns:
            opps = opps.iloc[:0].assign(outcome=pd.Series(dtype="string"), closed_at=pd.Series(dtype="M8[ns]"))
        is_closed = (opps["outcome"].isin(["won", "lost"]) & opps["closed_at"].notna()).to_numpy(dtype=bool)
        closed = opps.loc[is_closed, [c for c in (key, "closed_at", "outcome") if c in opps.columns]]
        codes, keys = pd.factorize(_keys(closed, key))
        closes = closed["closed_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        won = (closed["outcome"] == "won").to_numpy(dtype=float)
        by_time = np.argsort(closes, kind="stable")
        first_of_time = np.r_[True, np.diff(closes[by_time]) != 0][:len(closes)]
        times = closes[by_time][first_of_time]  # distinct close times (np.unique is a hash, far slower), sorted
        rank = np.empty(len(closes), dtype=np.int64)
        rank[by_time] = np.cumsum(first_of_time) - 1
        by_key = codes.astype(np.int64) * (len(times) + 1) + rank
        order = np.argsort(by_key, kind="stable")
        return cls(pd.Index(keys), times, by_key[order], np.r_[0.0, np.cumsum(won[order])], closes[by_time],
                   np.r_[0.0, np.cumsum(won[by_time])])

    def rates(self, cut: pd.DataFrame, key: str, prefix: str, prior: float) -> pd.DataFrame:
        """Deals of the same owner/account closed strictly before each cutoff: count and smoothed win rate."""
        cutoff = cut["cutoff"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        code = self.keys.get_indexer(_keys(cut, key))
        by_cutoff = np.argsort(cutoff)
        first = np.maximum(code, 0) * (len(self.times) + 1)
        last = first + search_sorted(self.times, cutoff, by_cutoff)
        by_last = np.argsort(last)  # also orders `first`: last - first < len(self.times) + 1
        start, end = search_sorted(self.by_key, first, by_last), search_sorted(self.by_key, last, by_last)
        n = np.where(code >= 0, end - start, 0).astype(float)
        wins = np.where(code >= 0, self.key_wins[end] - self.key_wins[start], 0.0)
        before = search_sorted(self.closes, cutoff, by_cutoff)  # all owners/accounts: the rate the prior leans to
        with np.errstate(invalid="ignore", divide="ignore"):
            base = np.where(before > 0, self.wins[before] / before, 0.5)
        return pd.DataFrame({f"{prefix}_prior_deals": n, f"{prefix}_win_rate": (wins + prior * base) / (n + prior)})


def _keys(frame: pd.DataFrame, key: str) -> np.ndarray:
    if key not in frame.columns:
        return np.full(len(frame), "\x00", dtype=object)
    return frame[key].fillna("\x00").astype(str).to_numpy(dtype=object)

