"""Printing and MLflow logging of an explain run (the side effects at the edge)."""

from __future__ import annotations

import mlflow
from rich.console import Console
from rich.table import Table

from cvre.analytics.drivers.run import ExplainRun
from cvre.training.config import TrackingConfig
from cvre.training.tracking import setup_tracking


def print_summary(run: ExplainRun, console: Console, rows: int = 8) -> None:
    h = run.headline
    estimate = (f" (sample of {h['attributed_deals']:,}, +/- {1.96 * h['behaviour_cost_se_eur']:,.0f})"
                if h["method"] == "sample" else "")
    console.print(f"[bold]{h['scope']} scope, {h['deals']:,} deals as of {h['as_of']}; model {h['model']}[/]")
    console.print(f"Expected value {h['ev']:,.0f} EUR | shortfall vs base ({h['base_probability']:.1%}) "
                  f"{h['shortfall_eur']:,.0f} EUR | behaviours cost {h['behaviour_cost_eur']:,.0f} EUR{estimate} | "
                  f"top: {h['top_behaviour']} {h['top_behaviour_cost_eur']:,.0f} EUR")
    table = Table(title="Drivers of the shortfall (EUR)")
    for col in ("group", "kind", "costs", "adds", "net", "deals costed"):
        table.add_column(col, justify="left" if col in ("group", "kind") else "right")
    for row in run.groups.head(rows).itertuples(index=False):
        table.add_row(row.group, row.kind, f"{row.cost_eur:,.0f}", f"{row.credit_eur:,.0f}", f"{row.net_eur:,.0f}",
                      f"{row.deals_costed:,}")
    console.print(table)
    console.print(f"report: {run.paths['report']}\ntables (Parquet and CSV) and plots: {run.out}")


def log_explain_run(run: ExplainRun, tracking: TrackingConfig, experiment: str) -> str:
    """One MLflow run: headline as params and metrics, every file under the output folder as artifacts."""
    setup_tracking(tracking.model_copy(update={"experiment": experiment}))
    with mlflow.start_run(run_name=f"explain-{run.headline['scope']}") as active:
        mlflow.log_params({k: run.headline[k] for k in ("scope", "as_of", "model", "method", "top_behaviour")})
        mlflow.log_metrics({k: float(v) for k, v in run.headline.items()
                            if isinstance(v, int | float) and not isinstance(v, bool)})
        mlflow.log_artifacts(str(run.out), "explain")
        return active.info.run_id
