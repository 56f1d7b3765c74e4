"""Both estimands of every scenario, in euros with intervals: retrospective (deals closed in the period)
and prospective (today's open pipeline), per scenario, per segment and per deal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cvre.analytics.recovery.config import RecoveryConfig
from cvre.analytics.recovery.mtp import (
    clustered_variance,
    dr_scores,
    interval,
    overlap_report,
    plugin_scores,
    pooled_correction,
    pooled_variance,
    sensitivity,
)
from cvre.analytics.recovery.nuisance import category_levels, context, crossfit, expected_amounts
from cvre.analytics.recovery.prospective import snapshot_design, transport
from cvre.analytics.recovery.treatments import shifted, treatments
from cvre.core.governance import Governance

ESTIMANDS = ("retrospective", "prospective")
AmountRule = Callable[[pd.DataFrame], pd.Series]


class NotEnoughHistory(ValueError):
    """Too few closed deals with an outcome to learn what the rules would change."""


@dataclass
class RecoveryResult:
    table: pd.DataFrame  # one row per scenario and estimand
    open_deals: pd.DataFrame  # euros per open deal and scenario (prospective)
    closed_deals: pd.DataFrame  # euros per deal closed in the period and scenario (retrospective)
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)


def _row(scenario, estimand, deals, total, variance, plugin, cfg, gov, extra) -> dict:
    low, high = interval(total, variance, cfg.level)
    return {"scenario": scenario, "estimand": estimand, "deals": deals, "causal_recovered_ev": total,
            "causal_ci_low": low, "causal_ci_high": high, "causal_se": float(np.sqrt(max(variance, 0.0))),
            "plugin_recovered_ev": plugin, "compliance": gov.compliance, **extra}


def estimate_recovery(all_deals: pd.DataFrame, history: list[pd.DataFrame], as_of: pd.Timestamp, gov: Governance,
                      cfg: RecoveryConfig, scenarios: tuple[str, ...],
                      segments: tuple[str, ...] = (), *, amount_of: AmountRule) -> RecoveryResult:
    """`all_deals`: deal features at `as_of` (closed ones described at their close); `history`: the open deals
    at each past snapshot of `cfg.history_offsets_days`; `amount_of`: the amount rule (analytics/rules.py's
    impute_amounts), passed in so that the estimator and the rule engine value a deal the same way."""
    levels = category_levels(all_deals, *history)
    amount_all = expected_amounts(all_deals, amount_of(all_deals).to_numpy(dtype=float), levels, cfg)
    closed_mask = (~all_deals["is_open"].astype(bool) & all_deals["won"].notna()).to_numpy()
    if closed_mask.sum() < cfg.min_closed_deals:
        raise NotEnoughHistory(f"{int(closed_mask.sum())} closed deals with an outcome; the causal estimate needs "
                               f"at least {cfg.min_closed_deals} (recovery.min_closed_deals)")
    closed, amount = all_deals[closed_mask].reset_index(drop=True), amount_all[closed_mask]
    now, now_amount = all_deals[all_deals["is_open"].astype(bool).to_numpy()].reset_index(drop=True), \
        amount_all[all_deals["is_open"].astype(bool).to_numpy()]
    y = closed["won"].astype(float).to_numpy()
    t = treatments(closed)
    moves = {s: shifted(t, closed, s, gov) for s in scenarios}
    cf = crossfit(t, context(closed, amount, levels), y, {s: m[0] for s, m in moves.items()}, gov, cfg)
    owners = closed["owner_id"].astype(str).to_numpy()
    period = (pd.to_datetime(closed["cutoff"]) > as_of - pd.Timedelta(days=cfg.retrospective_days)).to_numpy()

    stage_levels = sorted(pd.concat([now["current_stage"], *[h["current_stage"] for h in history]])
                          .dropna().astype(str).unique())
    levels_s = {**levels, "current_stage": stage_levels}
    position = pd.Series(np.arange(len(closed)), index=closed["opportunity_id"].to_numpy())
    hist = pd.concat([h[h["opportunity_id"].isin(position.index)] for h in history], ignore_index=True)
    hist_pos = position.loc[hist["opportunity_id"]].to_numpy()
    hist_design = snapshot_design(hist, amount[hist_pos], levels_s)
    now_design = snapshot_design(now, now_amount, levels_s)

    c, rows, per_open, per_closed, seg_rows = gov.compliance, [], {}, {}, []
    for s in scenarios:
        phi, plug = dr_scores(cf, s, y, amount), plugin_scores(cf, s, amount)
        moved = moves[s][1]
        overlap = overlap_report(cf, s, moved, amount, cfg.max_ratio)
        base = float((amount * cf.m_observed)[moved & period].sum())
        retro = pooled_correction(plug, phi - plug, amount, period) if cfg.pool_correction else phi[period]
        total, var = c * float(retro.sum()), c**2 * pooled_variance(plug, phi - plug, amount, period, owners) \
            if cfg.pool_correction else c**2 * clustered_variance(phi[period], owners[period])
        low, high = interval(total, var, cfg.level)
        sens = sensitivity(total, low if total >= 0 else high, base, float(amount[moved & period].sum()))
        rows.append(_row(s, "retrospective", int(period.sum()), total, var, c * float(plug[period].sum()), cfg, gov,
                         {**overlap, **sens}))
        per_closed[s] = c * retro
        if len(hist) and len(now):
            moved_t = transport(hist_design, amount[hist_pos], plug[hist_pos], phi[hist_pos], owners[hist_pos],
                                now_design, now_amount, cfg)
            p_total, p_var = c * moved_t.total, c**2 * moved_t.variance
            p_low, p_high = interval(p_total, p_var, cfg.level)
            mean_p = float(np.average(cf.m_observed[hist_pos], weights=np.maximum(amount[hist_pos], 1e-9)))
            sens = sensitivity(p_total, p_low if p_total >= 0 else p_high, mean_p * float(now_amount.sum()),
                               float(now_amount.sum()))
            rows.append(_row(s, "prospective", len(now), p_total, p_var, float("nan"), cfg, gov,
                             {**overlap, **sens, "history_deals": len(hist)}))
            per_open[s] = c * moved_t.per_deal
            for seg in segments:
                key = (now[seg].astype("string").fillna("unknown").to_numpy() if seg in now
                       else np.full(len(now), "unknown"))
                for value in np.unique(key):
                    idx = np.flatnonzero(key == value)
                    seg_total = float(per_open[s][idx].sum())
                    lo, hi = interval(seg_total, c**2 * moved_t.segment_variance(idx), cfg.level)
                    seg_rows.append({"slicer": seg, "segment": value, "scenario": s, "deals": len(idx),
                                     "causal_recovered_ev": seg_total, "causal_ci_low": lo, "causal_ci_high": hi})
    open_deals = pd.DataFrame({"opportunity_id": now["opportunity_id"].to_numpy(),
                               **{f"causal_{s}": v for s, v in per_open.items()}})
    closed_deals = pd.DataFrame({"opportunity_id": closed.loc[period, "opportunity_id"].to_numpy(),
                                 **{f"causal_{s}": v for s, v in per_closed.items()}})
    return RecoveryResult(pd.DataFrame(rows), open_deals, closed_deals, pd.DataFrame(seg_rows))
