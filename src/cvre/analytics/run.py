"""`cvre leakage`: the rule engine over a dataset, written as tables and logged to MLflow."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cvre.analytics.config import LeakageConfig
from cvre.analytics.counterfactual import model_recovery
from cvre.analytics.probability import champion_for, win_probability
from cvre.analytics.recovery.leakage import add_causal_to_run, causal_run
from cvre.analytics.rules import (
    behaviour_summary,
    deal_leakage,
    headline,
    impute_amounts,
    scenario_summary,
    segment_summary,
    trust_score,
)
from cvre.core.config import load_config
from cvre.core.field_sources import behaviour_sources
from cvre.core.governance import Governance, blind_scenarios
from cvre.core.io import TRUTH_DIR, read_tables, write_json
from cvre.features.config import DealFeatureConfig, FeatureConfig
from cvre.features.deal_table import build_deal_features
from cvre.features.pipeline import FEATURES_DIR, READ_COLUMNS, resolve_as_of, resolve_tables_dir
from cvre.features.snapshot import tables_as_of
from cvre.features.spec import MANIFEST, deal_medians, feature_run_config, read_deal_rows

log = logging.getLogger(__name__)
LEAKAGE_DIR = "leakage"
SCOPE_WORDS = {"open": "the open pipeline only (deals not yet won or lost)",
               "all": "all opportunities, open and closed (seed 000's headline table)"}


@dataclass
class LeakageRun:
    out: Path
    headline: dict
    scenarios: pd.DataFrame
    behaviours: pd.DataFrame
    truth: dict = field(default_factory=dict)


def snapshot_tables(data: Path, as_of: pd.Timestamp) -> dict[str, pd.DataFrame]:
    tables = tables_as_of(read_tables(resolve_tables_dir(data), columns=READ_COLUMNS), as_of)
    if "opportunities" not in tables:
        raise FileNotFoundError(f"{resolve_tables_dir(data)}: no opportunities table; leakage needs deals (map "
                                "tables.opportunities in the import mapping)")
    return tables


def leakage_snapshot(data: Path, as_of: str | None) -> pd.Timestamp:
    """`--as-of`, else the snapshot of the data's feature run (`cvre features`), else the project's features.yaml
    or the data's own date."""
    if as_of is None and (Path(data) / FEATURES_DIR / MANIFEST).exists():
        return feature_run_config(Path(data) / FEATURES_DIR)[0]
    return resolve_as_of(data, load_config(FeatureConfig, None, "features.yaml"), as_of)


def deal_rows(data: Path, as_of: pd.Timestamp, tables: dict[str, pd.DataFrame] | None = None,
              spec: DealFeatureConfig | None = None) -> pd.DataFrame:
    """Every deal's feature row at the snapshot (closed ones described before closing).

    The data's feature run when it was built at this snapshot (and, where a model is used, with its spec's
    config); else built here with the model's spec (`spec`), the feature run's config, or features.yaml's:
    never with defaults of its own."""
    run = Path(data) / FEATURES_DIR
    run_cfg = None
    if (run / MANIFEST).exists():
        run_as_of, run_cfg = feature_run_config(run)
        if run_as_of == as_of and (spec is None or spec == run_cfg):
            return read_deal_rows(run)
    cfg = spec or run_cfg or load_config(FeatureConfig, None, "features.yaml").deals
    deals, _ = build_deal_features(snapshot_tables(data, as_of) if tables is None else tables, as_of, cfg)
    return deals


def scoped(deals: pd.DataFrame, tables: dict[str, pd.DataFrame], scope: str) -> pd.DataFrame:
    """The deals in scope (open, or all), with their account segments and creation year."""
    segments = [c for c in ("tier", "industry") if "accounts" in tables and c in tables["accounts"].columns]
    if segments:
        deals = deals.drop(columns=segments, errors="ignore").merge(
            tables["accounts"][["account_id", *segments]], on="account_id", how="left")
    deals["created_year"] = pd.to_datetime(deals["created_at"]).dt.year.astype("Int64").astype(str)
    return deals[deals["is_open"].astype(bool)].reset_index(drop=True) if scope == "open" else deals


def scoped_deals(data: Path, as_of: pd.Timestamp, scope: str, tables: dict[str, pd.DataFrame] | None = None,
                 spec: DealFeatureConfig | None = None) -> pd.DataFrame:
    """Deal features at the snapshot (`deal_rows`): open deals, or every deal."""
    tables = snapshot_tables(data, as_of) if tables is None else tables
    return scoped(deal_rows(data, as_of, tables, spec), tables, scope)


def truth_recovery(data: Path, scope: str) -> dict:
    path = Path(data) / TRUTH_DIR / "policy_recovery.json"
    if not path.exists():
        return {}
    block = json.loads(path.read_text())["open_pipeline" if scope == "open" else "all_deals"]
    return {k: v["recovered_ev"] for k, v in block.items() if isinstance(v, dict)}


def run_leakage(data: Path, cfg: LeakageConfig, as_of: str | None = None, out: Path | None = None,
                force: bool = False, governance: Governance | None = None) -> LeakageRun:
    """`force`: use the champion even when it was trained on another source (refused otherwise).
    `governance`: the rules the causal estimate prices (default: configs/governance.yaml's defaults)."""
    data, gov = Path(data), governance or Governance()
    snapshot = leakage_snapshot(data, as_of)
    tables = snapshot_tables(data, snapshot)
    champion = champion_for(data, cfg.probability, force)
    spec = getattr(champion[0], "feature_spec", None) if isinstance(champion, tuple) else None
    deal_cfg = spec.deals if spec is not None else None  # the champion's: every table of this run is built with it
    every_deal = deal_rows(data, snapshot, tables, deal_cfg)
    deals = scoped(every_deal.copy(), tables, cfg.scope)
    chosen = win_probability(deals, tables, data, cfg.probability, force, champion)
    model = chosen.model
    medians = deal_medians(every_deal)  # over every deal at the snapshot, as the model's spec holds them
    per_deal = deal_leakage(deals, chosen.values, cfg, medians)
    per_deal.insert(0, "opportunity_id", deals["opportunity_id"].to_numpy())
    behaviours, scenarios = behaviour_summary(per_deal, cfg), scenario_summary(per_deal, cfg)
    trust = trust_score(deals, cfg.rules)
    head = headline(per_deal, scenarios, trust, cfg) | {
        "as_of": str(snapshot.date()), "scope": cfg.scope, "scope_covers": SCOPE_WORDS[cfg.scope],
        "probability": chosen.source, "probability_note": chosen.note, "low_data": chosen.low_data,
        "feature_sources": behaviour_sources(tables), "rules_version": cfg.rules.version,
        "deal_features": None if deal_cfg is None else deal_cfg.model_dump(mode="json")}
    if model is not None:
        recovery = model_recovery(deals, per_deal["amount_used"], model, cfg, gov)
        scenarios = scenarios.merge(recovery, on="scenario", how="left")
    truth = truth_recovery(data, cfg.scope)
    if truth:
        scenarios["truth_recovered_ev"] = scenarios["scenario"].map(truth)
        scenarios["rule_error_vs_truth"] = scenarios["recovered_ev"] / scenarios["truth_recovered_ev"] - 1.0
        if "model_recovered_ev" in scenarios:
            scenarios["model_error_vs_truth"] = scenarios["model_recovered_ev"] / scenarios["truth_recovered_ev"] - 1

    def deals_at(when: pd.Timestamp, scope: str) -> pd.DataFrame:  # the snapshot's rows are the ones built above
        return scoped(every_deal.copy(), tables, scope) if when == snapshot else scoped_deals(data, when, scope,
                                                                                             spec=deal_cfg)

    blind = blind_scenarios(cfg.scenarios, head["feature_sources"])
    if blind:
        head["causal_not_estimated"] = {s: "the export records none of " + ", ".join(b) for s, b in blind.items()}
        log.info("causal estimate: %s not estimated (the export records none of their behaviours)", ", ".join(blind))
    estimable = [s for s in cfg.scenarios if s not in blind]
    causal = causal_run(deals_at, data, snapshot, cfg.scope, cfg.recovery, estimable, cfg.segments, gov,
                        amount_of=impute_amounts) if estimable else None
    per_deal, scenarios, extra = add_causal_to_run(per_deal, scenarios, head, causal, data, gov, cfg.recovery.level)
    segments = pd.concat([segment_summary(per_deal, deals, s) for s in cfg.segments], ignore_index=True)
    out = Path(out) if out else data / LEAKAGE_DIR
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in {"deals": per_deal, "behaviours": behaviours, "scenarios": scenarios,
                        "segments": segments, **extra}.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
        frame.to_csv(out / f"{name}.csv", index=False)
    write_json({"headline": head, "trust": trust, "truth_recovered_ev": truth}, out / "headline.json")
    return LeakageRun(out, head, scenarios, behaviours, truth)
