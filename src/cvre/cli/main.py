"""`cvre`: one entry point whose subcommands mirror the folders (simulate, import, features, demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.traceback import Traceback

from cvre.cli.clients import analyse_app, clients
from cvre.cli.engagement import engagement
from cvre.cli.models import models_app
from cvre.cli.output import LOG_FILE, MLFLOW_COMMANDS, make_console, quiet_mlflow_prints, setup_logging
from cvre.cli.replicas import replicas_app
from cvre.cli.tables import rows_table
from cvre.core.config import ConfigError, load_config

app = typer.Typer(help="CRM Value Realisation Engine: revenue leakage from CRM behaviour, in euros.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
console = make_console()
_verbose = {"on": False}

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file (default: configs/...)",
                                                    exists=True, dir_okay=False)]


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=2)


def _unexpected(exc: BaseException, code: int = 2) -> typer.Exit:
    """An error we did not foresee: one line (the traceback with -v, and always in the log file)."""
    import logging

    logging.getLogger("cvre.cli").debug("unexpected error", exc_info=exc, extra={"file_only": True})
    if _verbose["on"]:
        console.print(Traceback.from_exception(type(exc), exc, exc.__traceback__))
    hint = "" if _verbose["on"] else f" (cvre -v ... shows the traceback; also in {LOG_FILE})"
    console.print(f"[bold red]error:[/] {type(exc).__name__}: {exc}{hint}")
    return typer.Exit(code=code)


@app.callback()
def main(ctx: typer.Context, verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help=f"Show library warnings, debug logging and the traceback of an unexpected error "
        f"(always written to {LOG_FILE}).")] = False) -> None:
    _verbose["on"] = verbose
    setup_logging(verbose)
    if not verbose and ctx.invoked_subcommand in MLFLOW_COMMANDS:
        quiet_mlflow_prints()


def run() -> None:
    """The `cvre` script: the app, with an unexpected error as one line (its traceback with -v)."""
    try:
        app()
    except Exception as exc:
        raise SystemExit(_unexpected(exc, code=1).exit_code) from None


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for export/, truth/, manifest.json.")] = Path(
        "data/world"),
    deals: Annotated[int | None, typer.Option("--deals", "-n", help="Deals to simulate (default: config).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", "-s", help="Random seed (default: config).")] = None,
    policy: Annotated[list[str] | None, typer.Option(
        "--policy", "-p", help="Governance policy whose true recovery to report: response_sla, activity_evidence, "
        "stall_review, combined. Repeat for several; default all.")] = None,
    shift: Annotated[Path | None, typer.Option(
        "--shift", exists=True, dir_okay=False, help="Shift YAML (e.g. configs/shift.yaml): lead source mix, "
        "slower responses, prices, a new product, for deals created from its `start` on.")] = None,
    months_later: Annotated[int, typer.Option(
        "--months-later", min=0, help="Move the whole world this many months later (same company, new deals); "
        "with --shift, the shift starts at the old snapshot. For drift checks against a model trained on the "
        "base world.")] = 0,
    governance: Annotated[Path | None, typer.Option(
        "--governance", exists=True, dir_okay=False, help="Governance rules the counterfactual policies enforce "
        "(default: configs/governance.yaml).")] = None,
    config: ConfigOption = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Simulate a CRM world with known truth: a realistic export plus the truth that generated it."""
    from cvre.core.governance import Governance
    from cvre.simulation.config import SimulationConfig
    from cvre.simulation.shift import Shift, later_period, load_shift
    from cvre.simulation.truth import POLICIES
    from cvre.simulation.world import simulate_world

    try:
        cfg = load_config(SimulationConfig, config, "simulate.yaml")
        cfg.policies = load_config(Governance, governance, "governance.yaml")
        if deals is not None:
            cfg.deals = deals
        if seed is not None:
            cfg.seed = seed
        moved = load_shift(shift) if shift else cfg.shift
        if months_later:
            cfg = later_period(cfg, moved or Shift(draw=1), months_later)
        elif moved is not None:
            cfg.shift = moved
    except (ConfigError, ValueError) as exc:
        raise _fail(str(exc)) from None
    chosen = tuple(policy) if policy else POLICIES
    unknown = [p for p in chosen if p not in POLICIES]
    if unknown:
        raise _fail(f"--policy: unknown {unknown}; expected one of {', '.join(POLICIES)}")
    summary = simulate_world(cfg, out, chosen, progress=progress)
    console.print(rows_table(f"Simulated world ({cfg.deals:,} deals, seed {cfg.seed}) in {summary.seconds:.1f}s",
                              summary.rows))
    console.print(f"defects injected: {summary.defects}")
    _print_policy_truth(summary.policy_recovery)
    console.print(f"export: {out / 'export'}\ntruth:  {out / 'truth'}")


def _print_policy_truth(recovery: dict) -> None:
    block = recovery["open_pipeline"]
    table = Table(title="True recovery per policy (open pipeline, EUR)")
    for col in ("policy", "recovered EV", "share of EV"):
        table.add_column(col, justify="right" if col != "policy" else "left")
    for name, value in block.items():
        if isinstance(value, dict):
            table.add_row(name, f"{value['recovered_ev']:,.0f}", f"{value['recovered_share_of_ev']:.1%}")
    console.print(table)
    console.print(f"open pipeline EV {block['ev']:,.0f} EUR; value at risk {block['value_at_risk']:,.0f} EUR "
                  f"({block['value_at_risk_share']:.1%})")


@app.command("import")
def import_(
    source: Annotated[Path, typer.Argument(help="CSV, text, Parquet or Excel file, or a folder of them: the user's "
                                           "export.", exists=True)],
    mapping: Annotated[Path | None, typer.Option("--mapping", "--config", "-m", "-c", exists=True, dir_okay=False,
                                                 help="Mapping YAML, this command's config (see configs/mappings/).")
                       ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for canonical tables and quarantine/.")] = Path(
        "data/import"),
    check: Annotated[bool, typer.Option("--check", help="Dry run: read the files, write nothing, and say what each "
                                        "command will be able to do with this mapping.")] = False,
    draft: Annotated[Path | None, typer.Option("--draft", dir_okay=False, help="Write a first mapping for SOURCE to "
                                               "this file, guessed from its headers and cells, to review.")] = None,
) -> None:
    """Import a user's CRM export onto the canonical schema; rejected rows go to quarantine/.

    No mapping yet: `cvre import EXPORT --draft mapping.yaml` writes one to review.
    """
    from cvre.cli.import_check import print_import_check, print_mapping_draft
    from cvre.ingest.errors import ExportFormatError
    from cvre.ingest.run import run_import

    if (mapping is None) == (draft is None):
        raise _fail("give --mapping FILE to import, or --draft FILE to write a first mapping for this export")
    try:
        if draft is not None:
            return print_mapping_draft(source, draft, console)
        if check:
            return print_import_check(source, mapping, console)
        with console.status("importing", spinner="dots") as status:  # shown on a terminal only
            report = run_import(source, mapping, out, on_step=lambda step: status.update(step))
    except (ExportFormatError, ConfigError) as exc:
        raise _fail(str(exc)) from None
    for line in report.summary_lines():
        console.print(line)


@app.command()
def features(
    data: Annotated[Path, typer.Option("--data", "-d", help="World folder (with export/) or import folder.")] = (
        Path("data/world")),
    as_of: Annotated[str | None, typer.Option("--as-of", help="Snapshot YYYY-MM-DD (default: the data's).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: DATA/features).")] = None,
    config: ConfigOption = None,
) -> None:
    """Build point-in-time deal, client and campaign features, split by time, checked against contracts."""
    from cvre.deploy.cluster import deal_rows_builder
    from cvre.features.config import FeatureConfig
    from cvre.features.contracts import ContractError
    from cvre.features.pipeline import build_features

    try:
        cfg = load_config(FeatureConfig, config, "features.yaml")
        run = build_features(data, cfg, as_of, out, deal_rows_builder(cfg.cluster))
    except (ConfigError, ContractError, FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None
    console.print(rows_table(f"Feature tables as of {run.as_of.date()}", run.rows))
    for warning in run.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(f"written to {run.out}")


@app.command()
def train(
    task: Annotated[str, typer.Argument(help="win, amount, churn, all (the three), or lead (lead exports).")] = "all",
    features_dir: Annotated[Path, typer.Option("--features", "-f", help="Feature folder from `cvre features`.")] = (
        Path("data/world/features")),
    trials: Annotated[int | None, typer.Option("--trials", help="Optuna trials (default: config).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, max=64, help="Tuning processes on this "
                                                "machine sharing the study (default: config tuning.workers).")] = None,
    join: Annotated[bool, typer.Option("--join", help="Only add trials to the study a `cvre train TASK` with the same "
                                       "features and config is tuning (shared tuning.storage, e.g. from another "
                                       "machine); registers nothing.")] = False,
    config: ConfigOption = None,
) -> None:
    """Tune, train, evaluate and register LightGBM models; promote through MLflow aliases."""
    from cvre.training.config import TASKS, TrainingConfig
    from cvre.training.data import NotEnoughData
    from cvre.training.tracking import setup_tracking, stores_line
    from cvre.training.train import train_task

    tasks = TASKS if task == "all" else (task,)
    if any(t not in (*TASKS, "lead") for t in tasks):
        raise _fail(f"unknown task {task!r}; expected win, amount, churn, all or lead")
    try:
        cfg = load_config(TrainingConfig, config, "training.yaml")
        if trials is not None:
            cfg.tuning.trials = trials
        if workers is not None:
            cfg.tuning.workers = workers
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    uri = setup_tracking(cfg.tracking)
    console.print(stores_line(cfg))
    if join:
        return _join(features_dir, tasks, cfg)
    for name in tasks:
        try:
            result = train_task(features_dir, name, cfg)
        except (NotEnoughData, FileNotFoundError) as exc:
            console.print(f"[bold red]{name}: not trained:[/] {exc}")
            continue
        _print_result(result)
    ui = uri if uri.startswith("http") else f"mlflow ui --backend-store-uri {uri}  (then open http://127.0.0.1:5000)"
    console.print(f"MLflow UI: {ui}")


def _join(features_dir: Path, tasks: tuple, cfg) -> None:
    from cvre.training.data import NotEnoughData
    from cvre.training.join import NoStudy, join_study

    for name in tasks:
        try:
            done = join_study(features_dir, name, cfg)
        except (NotEnoughData, FileNotFoundError, NoStudy) as exc:
            raise _fail(f"{name}: {exc}") from None
        console.print(f"{name}: {done.mine} trial(s) by this worker; study {done.study} has {done.counted} of "
                      f"{done.budget} (the training run registers the model)")


def _print_result(result) -> None:
    shown = ("auc", "log_loss", "brier", "ece", "mae", "rmse", "mape", "interval_coverage", "bayes_auc", "auc_gap",
             "bayes_brier", "brier_gap_pct", "bayes_rmse", "baseline_linear_auc", "baseline_linear_rmse")
    metrics = ", ".join(f"{k} {result.metrics[k]:.4f}" for k in shown if k in result.metrics)
    style = "green" if result.decision.promoted else "yellow"
    console.print(f"[bold]{result.task}[/] v{result.version}: {metrics}")
    status = "champion" if result.decision.promoted else "not promoted"
    console.print(f"  [{style}]{status}[/]: {result.decision.reason}")
    if getattr(result, "low_data", ""):
        console.print(f"  [yellow]low_data model[/] (fixed regularised parameters, answers marked): {result.low_data}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind; keep 127.0.0.1 unless behind a proxy.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the HTTP API.")] = 3000,
    config: ConfigOption = None,
) -> None:
    """Start the BentoML scoring API on the champion models of the MLflow registry."""
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    if config is not None:
        env["CVRE_SERVING_CONFIG"] = str(config.resolve())
    bentoml = Path(sys.executable).parent / "bentoml"
    from cvre.serving.config import ServingConfig, bentoml_overrides
    from cvre.training.config import TrackingConfig
    from cvre.training.tracking import tracking_uri

    try:
        serving = load_config(ServingConfig, config, "serving.yaml")
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    env["BENTOML_CONFIG_OVERRIDES"] = bentoml_overrides(serving)  # workers and threads from serving.yaml
    console.print(f"stores: MLflow {tracking_uri(TrackingConfig(tracking_uri=serving.tracking_uri))} (champions "
                  "served from its registry)")
    console.print(f"scoring API on http://{host}:{port} (docs at /docs; Ctrl-C to stop)")
    raise typer.Exit(subprocess.call([str(bentoml), "serve", "cvre.serving.service:CvreScoring", "--host", host,
                                      "--port", str(port)], env=env))


@app.command()
def leakage(
    data: Annotated[Path, typer.Option("--data", "-d", help="World folder (with export/) or import folder.")] = (
        Path("data/world")),
    as_of: Annotated[str | None, typer.Option("--as-of", help="Snapshot YYYY-MM-DD (default: the data's).")] = None,
    scope: Annotated[str | None, typer.Option(help="open (pipeline) or all deals (default: config).")] = None,
    all_deals: Annotated[bool, typer.Option("--all", help="Same as --scope all: every opportunity, open and closed "
                                            "(seed 000's headline).")] = False,
    probability: Annotated[str | None, typer.Option(
        help="auto (default: the champion if trained on this data's source, else the CRM's, else stage rates), "
        "model (champion cvre-win), crm (the export's own), stage_rates (win rate per stage from closed deals), "
        "truth (simulated worlds).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Use the champion even if it was trained on another "
                                        "source.")] = False,
    governance: Annotated[Path | None, typer.Option(
        "--governance", exists=True, dir_okay=False, help="Governance rules the causal estimate prices: SLA, review "
        "day, evidence cadence, compliance, scope (default: configs/governance.yaml).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: DATA/leakage).")] = None,
    config: ConfigOption = None,
) -> None:
    """Expected value, leaked and recoverable euros per behaviour, scenario and segment (seed 000's rules)."""
    from cvre.analytics.config import LeakageConfig
    from cvre.analytics.report import log_leakage_run, print_headline
    from cvre.core.governance import Governance

    try:
        cfg = load_config(LeakageConfig, config, "leakage.yaml")
        gov = load_config(Governance, governance, "governance.yaml")
        if scope or all_deals:
            cfg.scope = "all" if all_deals else scope
        if probability:
            cfg.probability = probability
    except (ConfigError, ValueError) as exc:
        raise _fail(str(exc)) from None
    from cvre.analytics.probability import ProbabilityUnavailable
    from cvre.analytics.run import run_leakage
    from cvre.training.config import TrainingConfig
    from cvre.training.tracking import setup_tracking, stores_line

    training = load_config(TrainingConfig, None, "training.yaml")
    setup_tracking(training.tracking)
    console.print(stores_line(training))
    try:
        result = run_leakage(data, cfg, as_of, out, force, gov)
    except (ProbabilityUnavailable, FileNotFoundError) as exc:  # what to do instead, in one line
        raise _fail(str(exc)) from None
    except Exception as exc:  # a missing champion or table is a user-facing error, not a traceback
        raise _unexpected(exc) from None
    print_headline(result, console)
    log_leakage_run(result)


@app.command()
def report(
    data: Annotated[Path, typer.Option("--data", "-d", help="World or import folder that `cvre leakage` read.")] = (
        Path("data/world")),
    leakage_dir: Annotated[Path | None, typer.Option("--leakage", "-l", help="Leakage outputs (default: "
                                                     "DATA/leakage).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the HTML pages (default: "
                                             "DATA/reports).")] = None,
    config: ConfigOption = None,
    leakage_config: Annotated[Path | None, typer.Option(
        "--leakage-config", exists=True, dir_okay=False, help="Leakage YAML the run used (default: "
        "configs/leakage.yaml).")] = None,
) -> None:
    """Dashboards as self-contained HTML: value health and leakage; recovery scenarios and decisions."""
    from cvre.analytics.config import LeakageConfig
    from cvre.analytics.dashboards import ReportConfig, build_reports
    from cvre.analytics.dashboards.data import LeakageOutputsMissing

    try:
        cfg = load_config(ReportConfig, config, "report.yaml")
        leak = load_config(LeakageConfig, leakage_config, "leakage.yaml")
        pages = build_reports(leakage_dir or data / "leakage", out or data / "reports", cfg, data, leak)
    except (ConfigError, LeakageOutputsMissing, ValueError) as exc:
        raise _fail(str(exc)) from None
    for name, path in pages.items():
        console.print(f"{name}: {path}")


@app.command()
def explain(
    data: Annotated[Path, typer.Option("--data", "-d", help="World folder (with export/) or import folder.")] = (
        Path("data/world")),
    as_of: Annotated[str | None, typer.Option("--as-of", help="Snapshot YYYY-MM-DD (default: the data's).")] = None,
    scope: Annotated[str | None, typer.Option(help="open (pipeline) or all deals (default: leakage config).")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="MLflow model URI or folder to explain "
                                              "(default: config, the champion cvre-win).")] = None,
    top: Annotated[int | None, typer.Option(help="Waterfalls for the N deals with the largest shortfall.")] = None,
    exact: Annotated[bool, typer.Option("--exact", help="Attribute every deal, however many (default: a "
                                        "sample above the config's exact_max_deals).")] = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: DATA/explain).")] = None,
    config: ConfigOption = None,
    leakage_config: Annotated[Path | None, typer.Option(
        "--leakage-config", exists=True, dir_okay=False, help="Leakage YAML: scope, segments, amount rules "
        "(default: configs/leakage.yaml).")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    force: Annotated[bool, typer.Option("--force", help="Explain with the champion even if it was trained on "
                                        "another source.")] = False,
) -> None:
    """Leakage drivers: SHAP attribution of each deal's shortfall to behaviours, in euros (tables, plots, HTML)."""
    from cvre.analytics.drivers.config import load_explain_configs
    from cvre.analytics.drivers.report import log_explain_run, print_summary
    from cvre.analytics.drivers.run import NoWinModel, run_explain
    from cvre.analytics.probability import ProbabilityUnavailable
    from cvre.training.config import TrainingConfig
    from cvre.training.tracking import setup_tracking, stores_line

    try:
        cfg, leak = load_explain_configs(config, leakage_config, scope, model, top, exact)
    except (ConfigError, ValueError) as exc:
        raise _fail(str(exc)) from None
    training = load_config(TrainingConfig, None, "training.yaml")
    tracking = training.tracking
    setup_tracking(tracking)
    console.print(stores_line(training))
    try:
        result = run_explain(data, cfg, out, as_of, leak, progress=progress, force=force)
    except (ProbabilityUnavailable, NoWinModel, FileNotFoundError) as exc:  # what to do instead, in one line
        raise _fail(str(exc)) from None
    except Exception as exc:  # no champion, no deals or a missing table: a user-facing error, not a traceback
        raise _unexpected(exc) from None
    print_summary(result, console)
    log_explain_run(result, tracking, cfg.experiment)


@app.command()
def monitor(
    task: Annotated[str, typer.Argument(help="win (open deals) or churn (clients).")] = "win",
    features_dir: Annotated[Path | None, typer.Option(
        "--features", "-f", help="Feature folder of a later period (scored by the champion; its new labels judge "
        "performance).")] = None,
    scoring_log: Annotated[Path | None, typer.Option("--log", help="Serving scoring-log folder (default: config) "
                                                     "when --features is not given.")] = None,
    retrain: Annotated[bool, typer.Option(
        help="Train a challenger when the policy says so (needs --features).")] = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Report folder (default: config).")] = None,
    config: ConfigOption = None,
    force: Annotated[bool, typer.Option("--force", help="Score --features even if the champion was trained on "
                                        "another source.")] = False,
) -> None:
    """Drift of features and scores vs the champion's training snapshot; exit 0 ok, 1 error, 3 alert, 4 retrained."""
    from cvre.analytics.probability import features_source_problem
    from cvre.monitoring.config import MonitorConfig
    from cvre.monitoring.policy import ERROR
    from cvre.monitoring.run import print_run, run_monitor
    from cvre.training.config import TrainingConfig
    from cvre.training.tracking import setup_tracking, stores_line

    try:
        cfg = load_config(MonitorConfig, config, "monitor.yaml")
        training = load_config(TrainingConfig, None, "training.yaml")
        setup_tracking(training.tracking)
        console.print(stores_line(training))
        problem = None if force or features_dir is None else features_source_problem(
            features_dir, training.registry.names.get(task, task))
        if not problem:
            run = run_monitor(task, cfg, training, features_dir, scoring_log, retrain, out)
    except Exception as exc:  # no champion, no reference, no current batch: a message and exit code 1
        raise _unexpected(exc, code=ERROR) from None
    if problem:  # a champion trained on another source: one line, the monitor's error code
        _fail(problem)
        raise typer.Exit(code=ERROR)
    print_run(run, console)
    raise typer.Exit(code=run.exit_code)


app.add_typer(models_app, name="models")
app.add_typer(replicas_app, name="replicas")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo world.")] = Path("data/demo"),
    deals: Annotated[int, typer.Option("--deals", "-n", help="Deals in the demo world.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed.")] = 42,
    train: Annotated[bool, typer.Option(help="Also train and register the three models.")] = True,
    trials: Annotated[int, typer.Option("--trials", min=1, help="Optuna trials per model (the tuning budget; "
                                        "the result does not depend on machine load).")] = 6,
    config: ConfigOption = None,
) -> None:
    """The main job on embedded defaults: simulate, features, 3 models, leakage, dashboards, drivers, drift check."""
    from cvre.cli.demo import run_demo

    try:
        run_demo(out, deals, seed, console, config, train, trials)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


app.command()(engagement)

app.command()(clients)
app.add_typer(analyse_app, name="analyse")

if __name__ == "__main__":
    app()
