"""The causal estimate inside `cvre leakage`: per scenario for the run's scope, per deal, beside the truth."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cvre.analytics.recovery.config import RecoveryConfig
from cvre.analytics.recovery.estimate import AmountRule, NotEnoughHistory, RecoveryResult, estimate_recovery
from cvre.analytics.recovery.mtp import interval
from cvre.core.governance import SCENARIOS, Governance
from cvre.core.io import TRUTH_DIR

log = logging.getLogger(__name__)
DealsAt = Callable[[pd.Timestamp, str], pd.DataFrame]  # (snapshot, "open" | "all") -> deal features


@dataclass
class CausalRun:
    scenarios: pd.DataFrame  # scenario, causal_recovered_ev, causal_ci_low, causal_ci_high, causal_estimand
    per_deal: pd.DataFrame  # opportunity_id, causal_<scenario> euros
    estimands: pd.DataFrame  # both estimands per scenario: overlap, sensitivity, truth where known
    segments: pd.DataFrame


ALL_HISTORY_DAYS = 36_500  # "every closed deal": a century back stays inside pandas' timestamp range


def world_governance_note(data: Path, gov: Governance) -> str | None:
    """On a simulated world, a warning when its policies differ from the governance being estimated."""
    manifest = Path(data) / "manifest.json"
    if not manifest.exists():
        return None
    policies = json.loads(manifest.read_text()).get("config", {}).get("policies")
    if policies is None or Governance.model_validate(policies) == gov:
        return None
    return ("the world was simulated under other governance rules than configs/governance.yaml; "
            "its truth answers a different question than the estimate")


def true_recovery(truth: pd.DataFrame, ids: pd.Series, scenario: str) -> float:
    t = truth.loc[truth.index.intersection(ids)]
    return float((t["true_amount"] * (t[f"p_{scenario}"] - t["true_win_prob"])).sum())


def causal_recovery(deals_at: DealsAt, snapshot: pd.Timestamp, scope: str, gov: Governance, cfg: RecoveryConfig,
                    scenarios: tuple[str, ...], segments: tuple[str, ...],
                    truth: pd.DataFrame | None = None, *, amount_of: AmountRule) -> CausalRun:
    """Both estimands; the scenario columns give the prospective one for the open scope, and prospective plus
    retrospective over every closed deal for the all-deals scope."""
    rcfg = cfg if scope == "open" else cfg.model_copy(update={"retrospective_days": ALL_HISTORY_DAYS})
    history = [deals_at(snapshot - pd.Timedelta(days=d), "open") for d in cfg.history_offsets_days]
    result = estimate_recovery(deals_at(snapshot, "all"), history, snapshot, gov, rcfg, scenarios, segments,
                               amount_of=amount_of)
    table = result.table.copy()
    if truth is not None:
        ids = {"retrospective": result.closed_deals["opportunity_id"],
               "prospective": result.open_deals["opportunity_id"]}
        table["truth_recovered_ev"] = [true_recovery(truth, ids[e], s)
                                       for s, e in zip(table["scenario"], table["estimand"], strict=True)]
        table["causal_error_vs_truth"] = table["causal_recovered_ev"] / table["truth_recovered_ev"] - 1.0
    return CausalRun(_scenario_columns(table, scope, cfg.level), _per_deal(result, scope), table, result.segments)


def _scenario_columns(table: pd.DataFrame, scope: str, level: float) -> pd.DataFrame:
    keep = table[table["estimand"] == "prospective"] if scope == "open" else table
    rows = []
    for scenario, part in keep.groupby("scenario", sort=False):
        total, variance = float(part["causal_recovered_ev"].sum()), float((part["causal_se"] ** 2).sum())
        low, high = interval(total, variance, level)
        rows.append({"scenario": scenario, "causal_recovered_ev": total, "causal_ci_low": low,
                     "causal_ci_high": high, "causal_estimand": "+".join(part["estimand"])})
    return pd.DataFrame(rows)


def _per_deal(result: RecoveryResult, scope: str) -> pd.DataFrame:
    frames = [result.open_deals] if scope == "open" else [result.open_deals, result.closed_deals]
    return pd.concat(frames, ignore_index=True)


def add_causal_columns(per_deal: pd.DataFrame, scenarios: pd.DataFrame, run: CausalRun) -> tuple[pd.DataFrame,
                                                                                                   pd.DataFrame]:
    """The causal euros beside the rules': per scenario (with its interval) and per deal (0 where not estimated)."""
    scenarios = scenarios.merge(run.scenarios, on="scenario", how="left")
    merged = per_deal[["opportunity_id"]].merge(run.per_deal, on="opportunity_id", how="left")
    for col in run.per_deal.columns.drop("opportunity_id"):
        per_deal[col] = merged[col].fillna(0.0).to_numpy()
    if "truth_recovered_ev" in scenarios:
        scenarios["causal_error_vs_truth"] = scenarios["causal_recovered_ev"] / scenarios["truth_recovered_ev"] - 1.0
        scenarios["causal_ci_covers_truth"] = ((scenarios["causal_ci_low"] <= scenarios["truth_recovered_ev"])
                                               & (scenarios["truth_recovered_ev"] <= scenarios["causal_ci_high"]))
    return per_deal, scenarios.replace({np.inf: np.nan})


def causal_run(deals_at: DealsAt, data: Path, snapshot: pd.Timestamp, scope: str, cfg: RecoveryConfig,
               scenarios: list[str], segments: list[str], gov: Governance, *,
               amount_of: AmountRule) -> CausalRun | None:
    """The causal estimate of every scenario (None, with a warning, without enough closed deals)."""
    if not cfg.enabled:
        return None
    path = Path(data) / TRUTH_DIR / "deals_truth.parquet"
    truth = None
    if path.exists():
        cols = ["opportunity_id", "true_amount", "true_win_prob", *(f"p_{s}" for s in SCENARIOS)]
        truth = pd.read_parquet(path, columns=cols).set_index("opportunity_id")
    try:
        return causal_recovery(deals_at, snapshot, scope, gov, cfg, tuple(s for s in scenarios if s in SCENARIOS),
                               tuple(segments), truth, amount_of=amount_of)
    except NotEnoughHistory as exc:
        log.warning("causal estimate skipped: %s", exc)
        return None


def add_causal_to_run(per_deal: pd.DataFrame, scenarios: pd.DataFrame, head: dict, causal: CausalRun | None,
                      data: Path, gov: Governance, level: float) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Causal columns on the deal and scenario tables, the headline's causal figure (updated in place), and the
    extra tables to write (recovery: both estimands; recovery_segments)."""
    if causal is None:
        return per_deal, scenarios, {}
    per_deal, scenarios = add_causal_columns(per_deal, scenarios, causal)
    names = causal.scenarios["scenario"].tolist()
    row = scenarios.set_index("scenario").loc["combined" if "combined" in names else names[0]]
    head |= {"causal_recoverable_ev": float(row["causal_recovered_ev"]), "causal_ci_low": float(row["causal_ci_low"]),
             "causal_ci_high": float(row["causal_ci_high"]), "causal_estimand": row["causal_estimand"],
             "causal_level": level}
    note = world_governance_note(data, gov)
    if note:
        head["governance_note"] = note
    return per_deal, scenarios, {"recovery": causal.estimands, "recovery_segments": causal.segments}
