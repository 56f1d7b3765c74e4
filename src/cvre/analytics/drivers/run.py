"""`cvre explain`: leakage drivers of a dataset's deals from the champion win model, written as tables,
plots and one HTML report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cvre.analytics.config import LeakageConfig
from cvre.analytics.drivers import groups as grouping
from cvre.analytics.drivers import plots
from cvre.analytics.drivers.attribution import (
    Attribution,
    additivity_error,
    attribute,
    deal_euros,
    probability_link,
    secant_slopes,
)
from cvre.analytics.drivers.config import ExplainConfig
from cvre.analytics.drivers.html import render
from cvre.analytics.drivers.sampling import attribution_plan
from cvre.analytics.drivers.summary import deal_table, feature_summary, group_summary, headline, segment_drivers
from cvre.analytics.probability import CHAMPION_URI, ProbabilityUnavailable, check_champion_source, missing_inputs
from cvre.analytics.rules import deal_leakage, impute_amounts
from cvre.analytics.run import leakage_snapshot, scoped_deals
from cvre.core.io import write_json

EXPLAIN_DIR = "explain"


class NoWinModel(RuntimeError):
    """No usable win model to explain: SHAP drivers need one (there is no 'truth' fallback)."""


@dataclass
class ExplainRun:
    out: Path
    headline: dict
    groups: pd.DataFrame
    features: pd.DataFrame
    paths: dict[str, Path] = field(default_factory=dict)


def load_win_model(uri: str):
    """The CvreModel behind `uri` (booster, calibrator, feature spec), or a NoWinModel saying what to do."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        model = mlflow.pyfunc.load_model(uri).unwrap_python_model()
    except (MlflowException, OSError) as exc:
        raise NoWinModel(f"{uri}: no model to explain (MLflow at {mlflow.get_tracking_uri()}, "
                         f"{type(exc).__name__}); train one with `cvre train win` first or pass --model") from None
    if getattr(model, "spec", {}).get("task") not in ("win", "lead", "churn"):
        raise NoWinModel(f"{uri}: not a probability model (task {getattr(model, 'spec', {}).get('task')!r})")
    return model


def _sample_error(attr: Attribution, max_display: int) -> float:
    """Largest relative gap between the sample's and all deals' mean |EUR| over the features the plots show."""
    full = attr.feature_abs / max(attr.weight.sum(), 1.0)
    shown = np.argsort(full)[::-1][:max_display]
    w = attr.weight[attr.sample_index]
    sample = (w @ np.abs(attr.sample_eur) / w.sum())[shown] if len(w) else full[shown]
    return float(np.max(np.abs(sample / np.where(full[shown] > 0, full[shown], np.nan) - 1), initial=0.0))


def _top_deals(model, X: pd.DataFrame, table: pd.DataFrame, attr: Attribution, cfg: ExplainConfig,
               folder: Path) -> tuple[pd.DataFrame, list[Path]]:
    """Waterfalls (EUR of expected value) for the deals with the largest shortfall."""
    idx = np.argsort(-table["shortfall_eur"].to_numpy(), kind="stable")[:cfg.top_deals]
    rows = X.iloc[idx]
    amount = table["amount_used"].to_numpy()[idx]
    contrib = model.booster.predict(rows, pred_contrib=True, num_threads=cfg.n_jobs)
    _, slope, _ = secant_slopes(contrib.sum(axis=1), attr.base_margin, probability_link(model.calibrator))
    expl = plots.explanation(deal_euros(contrib[:, :-1], amount, slope), rows, amount * attr.base_probability)
    paths = []
    for k, i in enumerate(idx):
        deal = table.iloc[i]
        title = (f"{deal['opportunity_id']}: EV {deal['ev']:,.0f} EUR, {deal['shortfall_eur']:,.0f} EUR short "
                 f"of the base ({deal['win_probability']:.0%} vs {attr.base_probability:.0%})")
        paths.append(plots.waterfall(expl[k], title, folder, f"waterfall_{k + 1}_{deal['opportunity_id']}",
                                     cfg.max_display))
    shown = ["opportunity_id", "amount_used", "win_probability", "ev", "shortfall_eur", "rule_leaked_ev",
             "driver_1", "driver_1_eur", "driver_2", "driver_2_eur"]
    return table.iloc[idx][[c for c in shown if c in table]], paths


def _write(frames: dict[str, pd.DataFrame], out: Path) -> dict[str, Path]:
    paths = {}
    for name, frame in frames.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
        frame.to_csv(out / f"{name}.csv", index=False)
        paths[name] = out / f"{name}.parquet"
    return paths


@dataclass
class Drivers:
    """The computed attribution and its tables, before anything is written."""

    X: pd.DataFrame
    attr: Attribution
    headline: dict
    tables: dict[str, pd.DataFrame]


def explain_deals(deals: pd.DataFrame, model, cfg: ExplainConfig, leakage: LeakageConfig,
                  progress: bool = True) -> Drivers:
    """Score every deal, attribute all (or a sample of) their shortfalls, aggregate per group, feature, segment."""
    if deals.empty:
        raise ValueError("no deals in scope to explain (scope 'open' needs open deals; try --scope all)")
    if (lack := missing_inputs(model, deals, "the model to explain")) is not None:
        raise ProbabilityUnavailable(f"{lack}; or train on this data (`cvre train win`) and explain that model")
    X, booster = model.features(deals), model.booster
    features = list(X.columns)
    groups = grouping.group_names(features, cfg.groups)
    amount = impute_amounts(deals).to_numpy()
    link = probability_link(model.calibrator)
    p = link(booster.predict(X, raw_score=True, num_threads=cfg.n_jobs))
    p_base = float(link(booster.predict(X.iloc[:1], pred_contrib=True)[0, -1:])[0])
    shortfall = amount * (p_base - p)
    leaked = deal_leakage(deals, p, leakage)["leaked_ev"].to_numpy()
    totals = {"deals": len(deals), "ev": float(amount @ p), "base_ev": float(amount.sum() * p_base),
              "shortfall_eur": float(shortfall.sum()), "deals_short": int((shortfall > 0).sum()),
              "rule_leaked_ev": float(leaked.sum())}
    rows, weight = attribution_plan(amount, shortfall, cfg.exact_max_deals, cfg.sample_deals, cfg.top_deals, cfg.seed)
    X = X.iloc[rows]
    attr = attribute(booster, X, amount[rows], model.calibrator, grouping.membership(features, cfg.groups),
                     cfg.batch_rows, cfg.plot_sample, cfg.seed, cfg.n_jobs, progress, weight)
    table = deal_table(deals.iloc[rows], attr, groups, amount[rows], leaked[rows], leakage.segments)
    by_group = group_summary(attr, groups, cfg.behaviours)
    tables = {"deals": table, "drivers_by_group": by_group,
              "drivers_by_feature": feature_summary(attr, grouping.feature_groups(features, cfg.groups)),
              "drivers_by_segment": pd.concat([segment_drivers(table, s, groups) for s in leakage.segments],
                                              ignore_index=True)}
    head = headline(by_group, attr, groups, totals, _sample_error(attr, cfg.max_display)) | {
        "scope": leakage.scope, "additivity_error": additivity_error(booster, X.iloc[attr.sample_index], cfg.n_jobs)}
    return Drivers(X, attr, head, tables)


def write_report(drivers: Drivers, model, cfg: ExplainConfig, out: Path) -> dict[str, Path]:
    """Tables (Parquet and CSV), PNG plots, headline.json and the self-contained report.html under `out`."""
    (out / "plots").mkdir(parents=True, exist_ok=True)
    attr, t = drivers.attr, drivers.tables
    base_ev = t["deals"]["amount_used"].to_numpy()[attr.sample_index] * attr.base_probability
    expl = plots.explanation(attr.sample_eur, drivers.X.iloc[attr.sample_index], base_ev)
    figures = plots.global_plots(expl, out / "plots", cfg.max_display)
    figures["groups"] = plots.group_plot(t["drivers_by_group"], out / "plots")
    top, waterfalls = _top_deals(model, drivers.X, t["deals"], attr, cfg, out / "plots")
    paths = _write(t, out) | figures | {f"waterfall_{k + 1}": p for k, p in enumerate(waterfalls)}
    paths["report"] = out / "report.html"
    paths["report"].write_text(render(drivers.headline, t["drivers_by_group"], t["drivers_by_feature"],
                                      t["drivers_by_segment"], top, figures, waterfalls, cfg.segment_rows,
                                      cfg.max_display), encoding="utf-8")
    paths["headline"] = write_json({"headline": drivers.headline, "config": cfg.model_dump(mode="json")},
                                   out / "headline.json")
    return paths


def run_explain(data: Path, cfg: ExplainConfig, out: Path | None = None, as_of: str | None = None,
                leakage: LeakageConfig | None = None, model=None, progress: bool = True,
                force: bool = False) -> ExplainRun:
    """Leakage drivers of `data` (a world or import folder) under `out` (default DATA/explain).

    The champion is refused when it was trained on another source than `data`, unless `force`."""
    data, leakage = Path(data), leakage or LeakageConfig()
    if model is None and cfg.model == CHAMPION_URI:
        check_champion_source(data, force)
    model = model if model is not None else load_win_model(cfg.model)
    snapshot = leakage_snapshot(data, as_of)  # the feature run's, as `cvre leakage`
    spec = getattr(model, "feature_spec", None)
    deals = scoped_deals(data, snapshot, leakage.scope, spec=spec.deals if spec is not None else None)
    drivers = explain_deals(deals, model, cfg, leakage, progress)
    drivers.headline |= {"as_of": str(snapshot.date()), "model": cfg.model}
    out = Path(out) if out else data / EXPLAIN_DIR
    paths = write_report(drivers, model, cfg, out)
    return ExplainRun(out, drivers.headline, drivers.tables["drivers_by_group"],
                      drivers.tables["drivers_by_feature"], paths)
