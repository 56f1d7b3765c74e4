"""`cvre demo`: the main job on embedded defaults, with a summary a person can read in a minute."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from cvre.cli.tables import rows_table
from cvre.core.config import load_config
from cvre.core.io import EXPORT_DIR, TRUTH_DIR, read_tables
from cvre.features.config import FeatureConfig
from cvre.features.pipeline import build_features
from cvre.features.quality import find_defects
from cvre.simulation.config import SimulationConfig
from cvre.simulation.world import simulate_world


def run_demo(out: Path, deals: int, seed: int, console: Console, config: Path | None = None,
             train: bool = True, trials: int = 6) -> None:
    cfg = load_config(SimulationConfig, config, "simulate.yaml")
    cfg.deals, cfg.seed = deals, seed
    console.rule(f"1/7 simulate a CRM world: {deals:,} deals, seed {seed}")
    world = simulate_world(cfg, out)
    console.print(rows_table(f"Entities ({world.seconds:.1f}s)", world.rows))

    as_of = pd.Timestamp(cfg.world.as_of)
    found = find_defects(read_tables(out / EXPORT_DIR), as_of)
    injected = json.loads((out / TRUTH_DIR / "defects_summary.json").read_text())["defects"]
    quality = Table(title="Data defects: found in the export vs injected by the simulator")
    for col in ("defect", "found", "injected"):
        quality.add_column(col, justify="left" if col == "defect" else "right")
    for name in sorted(set(found) | set(injected)):
        quality.add_row(name, f"{found.get(name, '-'):,}" if name in found else "-", f"{injected.get(name, 0):,}")
    console.print(quality)

    console.rule("2/7 build point-in-time features")
    run = build_features(out, load_config(FeatureConfig, None, "features.yaml"))
    console.print(rows_table(f"Feature tables as of {run.as_of.date()} in {run.out}", run.rows))
    open_block = world.policy_recovery["open_pipeline"]
    console.print(f"Open pipeline: {open_block['deals']:,} deals, true EV {open_block['ev']:,.0f} EUR, "
                  f"value at risk from behaviour {open_block['value_at_risk_share']:.1%} "
                  f"(all deals: {world.policy_recovery['all_deals']['value_at_risk_share']:.1%}).")
    console.print(f"Export: {out / EXPORT_DIR}  truth: {out / TRUTH_DIR}  features: {run.out}")
    if train:
        _train_models(run.out, console, trials)
    leakage = _leakage(out, console)
    _engagement(out, console)
    paths = {"dashboards": _dashboards(out, leakage, console)}
    if _has_win_champion():
        paths["driver report"] = _explain(out, console)
        paths["drift report"] = _drift_check(cfg, out, console)
    else:
        console.print("[yellow]no cvre-win champion: the driver report and the drift check need one[/]")
    console.rule("where to look")
    for name, path in paths.items():
        console.print(f"{name}: {path}")


def _has_win_champion() -> bool:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        MlflowClient().get_model_version_by_alias("cvre-win", "champion")
    except MlflowException:
        return False
    return True


def _leakage(world: Path, console: Console) -> Path:
    """Seed 000's headline on the open pipeline, with the champion win model when there is one."""

    from cvre.analytics.config import LeakageConfig
    from cvre.analytics.report import print_headline
    from cvre.analytics.run import run_leakage

    cfg = load_config(LeakageConfig, None, "leakage.yaml")
    if not _has_win_champion():
        console.print("[yellow]no cvre-win champion: the headline uses the simulator's true probabilities[/]")
        cfg.probability = "truth"
    console.rule("4/7 revenue leakage (cvre leakage)")
    run = run_leakage(world, cfg)
    print_headline(run, console)
    return run.out


def _engagement(world: Path, console: Console) -> None:
    """Seed 003's insights and its four pages (written before the report index, which links them)."""
    from cvre.analytics.dashboards.engagement_pages import write_engagement_pages
    from cvre.analytics.engagement.config import EngagementConfig
    from cvre.analytics.engagement.run import run_engagement
    from cvre.analytics.engagement.summary import print_summary

    console.rule("engagement: audience, campaigns, support team (cvre engagement)")
    cfg = load_config(EngagementConfig, None, "engagement.yaml")
    run = run_engagement(world, cfg)
    print_summary(run, console)
    write_engagement_pages(run.tables, run.headline, world / "reports", cfg.campaigns.alpha)


def _dashboards(world: Path, leakage: Path, console: Console) -> Path:
    from cvre.analytics.dashboards import ReportConfig, build_reports

    console.rule("5/7 dashboards (cvre report)")
    pages = build_reports(leakage, world / "reports", load_config(ReportConfig, None, "report.yaml"), world)
    for name, path in pages.items():
        console.print(f"{name}: {path}")
    return pages["index"]


def _explain(world: Path, console: Console) -> Path:
    """SHAP drivers of the open pipeline's shortfall, in euros, from the champion just trained."""
    from cvre.analytics.drivers.config import ExplainConfig
    from cvre.analytics.drivers.report import print_summary
    from cvre.analytics.drivers.run import run_explain

    console.rule("6/7 leakage drivers (cvre explain)")
    cfg = load_config(ExplainConfig, None, "explain.yaml")
    run = run_explain(world, cfg, progress=False)
    print_summary(run, console)
    return run.paths["report"]


def _drift_check(world_cfg: SimulationConfig, world: Path, console: Console) -> Path:
    """The same company a year later with configs/shift.yaml's shifts, checked against the champion."""
    from cvre.cli.later import check_later_period
    from cvre.monitoring.run import print_run
    from cvre.training.config import TrainingConfig

    console.rule("7/7 drift check of a shifted later period (cvre monitor)")
    run = check_later_period(world_cfg, world / "later", load_config(TrainingConfig, None, "training.yaml"),
                             progress=False)
    print_run(run, console)
    return run.report_path


def _train_models(features_dir: Path, console: Console, trials: int) -> None:
    """Three models with a small tuning budget (trials, not seconds), registered and gated like any training run."""
    from cvre.training.config import TASKS, TrainingConfig
    from cvre.training.tracking import setup_tracking
    from cvre.training.train import train_task

    console.rule("3/7 train win, amount and churn models (small Optuna budget)")
    cfg = load_config(TrainingConfig, None, "training.yaml")
    cfg.tuning.trials = trials
    uri = setup_tracking(cfg.tracking)
    table = Table(title="Test metrics (time-based hold-out) and the gap to the simulator's truth")
    for col in ("model", "version", "metric", "model value", "linear baseline", "Bayes (truth)", "promotion"):
        table.add_column(col)
    reasons = []
    for task in TASKS:
        r = train_task(features_dir, task, cfg)
        reasons.append(f"{cfg.registry.names[task]} v{r.version}: {r.decision.reason}")
        key = "rmse" if task == "amount" else "auc"
        m = r.metrics
        table.add_row(cfg.registry.names[task], r.version, key, f"{m[key]:.4f}", f"{m[f'baseline_linear_{key}']:.4f}",
                      f"{m.get(f'bayes_{key}', float('nan')):.4f}",
                      "champion" if r.decision.promoted else "not promoted")
    console.print(table)
    for line in reasons:
        console.print(f"  {line}")
    console.print(f"MLflow UI: .venv/bin/mlflow ui --backend-store-uri {uri}  -> http://127.0.0.1:5000")
