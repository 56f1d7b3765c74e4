"""The dashboards' data: the leakage outputs, per deal, with slicer keys and trust evidence, as compact JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cvre.analytics.dashboards.config import ReportConfig
from cvre.analytics.rules import BEHAVIOURS, TRUST_SHARES, trust_evidence
from cvre.core.rules import BehaviourRules
from cvre.features.config import DealFeatureConfig

TABLES = ("deals", "behaviours", "scenarios", "segments")
UNKNOWN = "unknown"  # as analytics.rules.segment_summary labels a missing segment value


class LeakageOutputsMissing(FileNotFoundError):
    """The leakage run the dashboards read has not been written yet."""


@dataclass
class LeakageOutputs:
    deals: pd.DataFrame
    behaviours: pd.DataFrame
    scenarios: pd.DataFrame
    segments: pd.DataFrame
    headline: dict
    trust: dict


def read_leakage(leakage_dir: Path) -> LeakageOutputs:
    """The tables and headline.json written by `cvre leakage`, or an error saying how to make them."""
    leakage_dir = Path(leakage_dir)
    files = [leakage_dir / f"{t}.parquet" for t in TABLES] + [leakage_dir / "headline.json"]
    missing = [p.name for p in files if not p.exists()]
    if missing:
        raise LeakageOutputsMissing(f"{leakage_dir}: leakage outputs missing ({', '.join(missing)}); "
                                    f"run `cvre leakage --data {leakage_dir.parent}` first")
    summary = json.loads((leakage_dir / "headline.json").read_text())
    return LeakageOutputs(*(pd.read_parquet(p) for p in files[:4]), summary["headline"], summary["trust"])


def deal_context(data: Path, headline: dict) -> pd.DataFrame:
    """The scored deals' features at the leakage run's snapshot and scope (slicer keys, trust evidence), built with
    the deal feature settings that run used (the champion's spec), not whatever features.yaml says now."""
    from cvre.analytics.run import scoped_deals

    used = headline.get("deal_features")
    return scoped_deals(Path(data), pd.Timestamp(headline["as_of"]), headline["scope"],
                        spec=None if used is None else DealFeatureConfig.model_validate(used))


def primary_behaviour(deals: pd.DataFrame, haircuts: dict[str, float]) -> pd.Series:
    """Per deal, the flagged behaviour whose haircut set its leakage (the largest; None when nothing leaked)."""
    best, name = np.zeros(len(deals)), np.full(len(deals), None, dtype=object)
    for behaviour in BEHAVIOURS:
        weight = haircuts.get(behaviour, 0.0)
        wins = deals[behaviour].to_numpy(dtype=bool) & (weight > best)
        best, name = np.where(wins, weight, best), np.where(wins, behaviour, name)
    return pd.Series(name, index=deals.index, name="primary_behaviour")


def dashboard_rows(outputs: LeakageOutputs, context: pd.DataFrame, cfg: ReportConfig,
                   rules: BehaviourRules) -> pd.DataFrame:
    """The leakage per deal joined to its slicer keys, its primary behaviour and its trust evidence."""
    keys = context[["opportunity_id"]].copy()
    for key in cfg.filters:
        values = context[key] if key in context else pd.Series(UNKNOWN, index=context.index)
        keys[key] = values.astype(object).where(values.notna(), UNKNOWN).astype(str)
    keys = keys.join(trust_evidence(context, rules))
    rows = outputs.deals.merge(keys, on="opportunity_id", how="left", validate="one_to_one")
    if rows[list(cfg.filters)].isna().any().any():
        raise ValueError("leakage deals not found at the run's snapshot: the data changed since `cvre leakage`; "
                         "run it again")
    haircuts = outputs.behaviours.set_index("behaviour")["haircut"].to_dict()
    return rows.assign(primary_behaviour=primary_behaviour(rows, haircuts))


def governance_cost(outputs: LeakageOutputs) -> float:
    """The cost the leakage run divided by (its ROI is recovered / cost)."""
    priced = outputs.scenarios[outputs.scenarios["roi"] > 0]
    return float((priced["recovered_ev"] / priced["roi"]).median()) if len(priced) else float("nan")


def _numbers(series: pd.Series, digits: int = 2) -> list:
    return [None if np.isnan(v) else v for v in series.astype(float).round(digits).tolist()]


def scenario_estimates(scenarios: pd.DataFrame) -> list[dict]:
    """Per scenario, the causal estimate with its interval, the win model's and the truth's recovery where the
    run has them (None otherwise)."""
    def known(row: pd.Series, col: str) -> float | None:
        return float(row[col]) if col in row and pd.notna(row[col]) else None

    return [{"name": row["scenario"], "causal": known(row, "causal_recovered_ev"),
             "ci_low": known(row, "causal_ci_low"), "ci_high": known(row, "causal_ci_high"),
             "estimand": row.get("causal_estimand") if isinstance(row.get("causal_estimand"), str) else None,
             "model": known(row, "model_recovered_ev"),
             "truth": known(row, "truth_recovered_ev")} for _, row in scenarios.iterrows()]


def payload(rows: pd.DataFrame, outputs: LeakageOutputs, cfg: ReportConfig) -> dict:
    """Everything the pages' script needs: columns of numbers and coded keys (ids, no names)."""
    scenarios = outputs.scenarios["scenario"].tolist()
    filters = [{"key": k, "label": label, "values": sorted(rows[k].unique())} for k, label in cfg.filters.items()]
    haircuts = outputs.behaviours.set_index("behaviour")["haircut"]
    recoverable = "combined" if "combined" in scenarios else scenarios[int(outputs.scenarios["recovered_ev"].argmax())]
    return {
        "headline": outputs.headline,
        "cost": governance_cost(outputs),
        "recoverable_scenario": recoverable,
        "top_deals": cfg.top_deals,
        "top_values": cfg.top_segment_values,
        "filters": filters,
        "behaviours": [{"name": b, "haircut": float(haircuts.get(b, 0.0))} for b in BEHAVIOURS],
        "scenarios": scenario_estimates(outputs.scenarios),
        "rulebook": [r.model_dump() for r in cfg.rulebook],
        "deals": {
            "id": rows["opportunity_id"].astype(str).tolist(),
            "seg": {f["key"]: pd.Categorical(rows[f["key"]], categories=f["values"]).codes.tolist() for f in filters},
            "ev": _numbers(rows["ev"]),
            "leaked": _numbers(rows["leaked_ev"]),
            "recovered": {s: _numbers(rows[f"recovered_{s}"]) for s in scenarios},
            "causal": {s: _numbers(rows[f"causal_{s}"]) for s in scenarios if f"causal_{s}" in rows},
            "flags": sum(rows[b].astype(int).to_numpy() << bit for bit, b in enumerate(BEHAVIOURS)).tolist(),
            "primary": [BEHAVIOURS.index(b) if b else -1 for b in rows["primary_behaviour"]],
            "trust": {c: _numbers(rows[c], 0) for c in TRUST_SHARES},
        },
    }


def embed_json(data: dict) -> str:
    """JSON safe inside a <script> element; a number an export cannot give (NaN: no close dates, say) is null."""
    return json.dumps(_finite(data), separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
