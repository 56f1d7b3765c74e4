"""`cvre leakage`: the rule engine over a dataset, written as tables and logged to MLflow."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cvre.analytics.config import LeakageConfig
from cvre.analytics.counterfactual import model_recovery
from cvre.analytics.rules import (
    behaviour_summary,
    deal_leakage,
    headline,
    scenario_summary,
    segment_summary,
    trust_score,
)
from cvre.core.io import TRUTH_DIR, read_table, read_tables, write_json
from cvre.features.config import DealFeatureConfig
from cvre.features.deal_table import build_deal_features
from cvre.features.pipeline import READ_COLUMNS, resolve_as_of, resolve_tables_dir
from cvre.features.snapshot import tables_as_of

LEAKAGE_DIR = "leakage"


@dataclass
class LeakageRun:
    out: Path
    headline: dict
    scenarios: pd.DataFrame
    behaviours: pd.DataFrame
    truth: dict = field(default_factory=dict)


def scoped_deals(data: Path, as_of: pd.Timestamp, scope: str) -> pd.DataFrame:
    """Deal features at the snapshot: open deals, or every deal (closed ones described before closing)."""
    tables = tables_as_of(read_tables(resolve_tables_dir(data), columns=READ_COLUMNS), as_of)
    deals, _ = build_deal_features(tables, as_of, DealFeatureConfig())
    if "accounts" in tables:
        deals = deals.drop(columns=["tier", "industry"], errors="ignore").merge(
            tables["accounts"][["account_id", "tier", "industry"]], on="account_id", how="left")
    deals["created_year"] = pd.to_datetime(deals["created_at"]).dt.year.astype("Int64").astype(str)
    return deals[deals["is_open"]].reset_index(drop=True) if scope == "open" else deals


def champion_win_model():
    import mlflow

    return mlflow.pyfunc.load_model("models:/cvre-win@champion").unwrap_python_model()


def probabilities(deals: pd.DataFrame, data: Path, source: str, model=None) -> np.ndarray:
    if source == "truth":
        truth = read_table(Path(data) / TRUTH_DIR, "deals_truth", ["opportunity_id", "true_win_prob"])
        return deals[["opportunity_id"]].merge(truth, how="left")["true_win_prob"].to_numpy()
    if source == "model":
        return model.predict(None, deals)["probability"].to_numpy()
    raise ValueError(f"probability: expected 'model' or 'truth', got {source!r}")


def truth_recovery(data: Path, scope: str) -> dict:
    path = Path(data) / TRUTH_DIR / "policy_recovery.json"
    if not path.exists():
        return {}
    block = json.loads(path.read_text())["open_pipeline" if scope == "open" else "all_deals"]
    return {k: v["recovered_ev"] for k, v in block.items() if isinstance(v, dict)}


def run_leakage(data: Path, cfg: LeakageConfig, as_of: str | None = None, out: Path | None = None) -> LeakageRun:
    from cvre.features.config import FeatureConfig

    data = Path(data)
    snapshot = resolve_as_of(data, FeatureConfig(), as_of)
    deals = scoped_deals(data, snapshot, cfg.scope)
    model = champion_win_model() if cfg.probability == "model" else None
    per_deal = deal_leakage(deals, probabilities(deals, data, cfg.probability, model), cfg)
    per_deal.insert(0, "opportunity_id", deals["opportunity_id"].to_numpy())
    behaviours, scenarios = behaviour_summary(per_deal, cfg), scenario_summary(per_deal, cfg)
    trust = trust_score(deals, cfg.rules)
    head = headline(per_deal, scenarios, trust, cfg) | {"as_of": str(snapshot.date()), "scope": cfg.scope,
                                                          "probability": cfg.probability}
    if model is not None:
        recovery = model_recovery(deals, per_deal["amount_used"], model, cfg)
        scenarios = scenarios.merge(recovery, on="scenario", how="left")
    truth = truth_recovery(data, cfg.scope)
    if truth:
        scenarios["truth_recovered_ev"] = scenarios["scenario"].map(truth)
        scenarios["rule_error_vs_truth"] = scenarios["recovered_ev"] / scenarios["truth_recovered_ev"] - 1.0
        if "model_recovered_ev" in scenarios:
            scenarios["model_error_vs_truth"] = scenarios["model_recovered_ev"] / scenarios["truth_recovered_ev"] - 1
    segments = pd.concat([segment_summary(per_deal, deals, s) for s in cfg.segments], ignore_index=True)
    out = Path(out) if out else data / LEAKAGE_DIR
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in {"deals": per_deal, "behaviours": behaviours, "scenarios": scenarios,
                        "segments": segments}.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
        frame.to_csv(out / f"{name}.csv", index=False)
    write_json({"headline": head, "trust": trust, "truth_recovered_ev": truth}, out / "headline.json")
    return LeakageRun(out, head, scenarios, behaviours, truth)
