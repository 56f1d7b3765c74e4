"""Printing and MLflow logging of a leakage run (the side effects at the edge)."""

from __future__ import annotations

import mlflow
from rich.console import Console
from rich.table import Table

from cvre.analytics.run import LeakageRun
from cvre.core.field_sources import source_line


def print_headline(run: LeakageRun, console: Console) -> None:
    h = run.headline
    console.print(f"[bold]{h['scope']} scope, {h['deals']:,} deals as of {h['as_of']} "
                  f"(probability: {h['probability']})[/]")
    if "scope_covers" in h:
        console.print(f"scope: every figure below covers {h['scope_covers']}")
        console.print(f"probability: {h['probability_note']}")
        for name, source in h.get("feature_sources", {}).items():
            console.print(f"  {source_line(name, source)}")
    console.print(f"Expected value {h['ev']:,.0f} EUR | leaked {h['leaked_ev']:,.0f} EUR ({h['leaked_share']:.1%}) | "
                  f"recoverable {h['recoverable_ev']:,.0f} EUR ({h['recoverable_share_of_leakage']:.1%} of leakage) | "
                  f"ROI {h['governance_roi']:.1f}x | CRM trust {h['trust_score']:.0%}")
    if "causal_recoverable_ev" in h:
        console.print(f"[bold green]Recoverable by the rules, causal estimate ({h['causal_estimand']}): "
                      f"{h['causal_recoverable_ev']:,.0f} EUR, {h['causal_level']:.0%} interval "
                      f"{h['causal_ci_low']:,.0f} to {h['causal_ci_high']:,.0f} EUR[/] "
                      f"(seed 000's rules: {h['recoverable_ev']:,.0f} EUR)")
        if "governance_note" in h:
            console.print(f"[yellow]{h['governance_note']}[/]")
    for scenario, why in h.get("causal_not_estimated", {}).items():
        console.print(f"[yellow]causal estimate of {scenario}: not made, {why}[/]")
    table = Table(title="Governance scenarios (EUR)")
    columns = ["scenario", *(c for c in ("causal_recovered_ev", "causal_ci_low", "causal_ci_high")
                             if c in run.scenarios), "recovered_ev", "share_of_leakage", "share_of_ev", "roi"]
    if "model_recovered_ev" in run.scenarios:
        columns += ["model_recovered_ev"]
    if "truth_recovered_ev" in run.scenarios:
        columns += ["truth_recovered_ev", "rule_error_vs_truth"]
        if "causal_error_vs_truth" in run.scenarios:
            columns += ["causal_error_vs_truth"]
        if "model_error_vs_truth" in run.scenarios:
            columns += ["model_error_vs_truth"]
    headers = {"scenario": "scenario", "causal_recovered_ev": "causal", "causal_ci_low": "95% low",
               "causal_ci_high": "95% high", "causal_error_vs_truth": "causal vs truth",
               "recovered_ev": "rules", "share_of_leakage": "of leakage",
               "share_of_ev": "of EV", "roi": "ROI", "truth_recovered_ev": "truth",
               "rule_error_vs_truth": "rule vs truth", "model_recovered_ev": "model",
               "model_error_vs_truth": "model vs truth"}
    for col in columns:
        table.add_column(headers[col], justify="left" if col == "scenario" else "right")
    for _, row in run.scenarios.iterrows():
        cells = [row["scenario"]]
        for col in columns[1:]:
            value = row[col]
            cells.append(f"{value:.1%}" if "share" in col or "error" in col else
                         f"{value:.1f}x" if col == "roi" else f"{value:,.0f}")
        table.add_row(*cells)
    console.print(table)
    console.print(f"tables (Parquet and CSV): {run.out}")


def log_leakage_run(run: LeakageRun, experiment: str = "cvre-leakage") -> str:
    """One MLflow run with the headline as metrics and the tables as artifacts."""
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=f"leakage-{run.headline['scope']}") as active:
        mlflow.log_params({k: run.headline[k] for k in ("scope", "probability", "as_of")})
        mlflow.log_metrics({k: float(v) for k, v in run.headline.items()
                            if isinstance(v, int | float) and not isinstance(v, bool)})
        mlflow.log_artifacts(str(run.out), "leakage")
        return active.info.run_id
