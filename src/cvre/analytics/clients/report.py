"""Printing and MLflow logging of a client analytics run (the side effects at the edge)."""

from __future__ import annotations

import mlflow
from rich.console import Console
from rich.table import Table

from cvre.analytics.clients.run import ClientsRun

RATES = ("repeat_rate", "churn_rate")


def _value(kpi: str, value: float | None) -> str:
    if value is None or value != value:
        return "n/a"
    return f"{value:.1%}" if kpi in RATES else f"{value:,.2f}" if kpi == "average_basket" else f"{value:,.0f}"


def print_clients(run: ClientsRun, console: Console) -> None:
    board = run.tables["kpi_board"]
    table = Table(title=f"KPI board, {board['period'].iloc[0]} (as of {run.headline['as_of']}; "
                        f"{run.headline['customers_total']:,} customers)")
    for col, justify in (("KPI", "left"), ("value", "right"), ("previous", "right"), ("change", "right")):
        table.add_column(col, justify=justify)
    for _, row in board.iterrows():
        change = "n/a" if row["change"] is None or row["change"] != row["change"] else f"{row['change']:+.1%}"
        table.add_row(row["kpi"].replace("_", " "), _value(row["kpi"], row["value"]),
                      _value(row["kpi"], row["previous"]), change)
    console.print(table)
    segments = Table(title="RFM segments (rule in configs/clients.yaml)")
    for col in ("segment", "R", "F", "customers", "revenue share"):
        segments.add_column(col, justify="left" if col == "segment" else "right")
    for _, s in run.tables["segments"].iterrows():
        segments.add_row(s["segment"], s["r_range"], s["f_range"], f"{s['customers']:,}", f"{s['revenue_share']:.1%}")
    console.print(segments)
    if run.clv_fit:
        bg, gg = run.clv_fit["bgnbd"], run.clv_fit["gamma_gamma"]
        console.print("BG/NBD " + ", ".join(f"{k} {v:.3f}" for k, v in bg.items()) + " | Gamma-Gamma "
                      + ", ".join(f"{k} {v:.3f}" for k, v in gg.items()))
        console.print(f"CLV over {run.clv_fit['horizon_days']} days: {run.clv_fit['total_clv']:,.0f} "
                      f"({run.clv_fit['total_expected_purchases']:,.0f} expected purchases)")
    if run.clv_truth:
        t = run.clv_truth
        console.print(f"CLV vs the simulator's true expected spend: total {t['total_clv']:,.0f} vs "
                      f"{t['total_true']:,.0f} "
                      f"({t['total_error']:+.1%}), per-customer MAE {t['mae']:,.0f} (mean {t['mean_true']:,.0f}), "
                      f"Spearman {t['spearman']:.2f}")
    for _, t in run.tables["targets"].iterrows():
        path = run.out / f"target_{t['campaign']}.csv"
        console.print(f"target list {t['campaign']}: {t['customers']:,} customers -> {path}")
    for warning in run.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(f"tables (Parquet and CSV): {run.out}")


def log_clients_run(run: ClientsRun, experiment: str = "cvre-clients") -> str:
    """One MLflow run: KPIs and CLV parameters as metrics, the tables as artifacts."""
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=f"clients-{run.headline['as_of']}") as active:
        mlflow.log_params({"as_of": run.headline["as_of"], "kpi_period": run.headline["kpi_period"]})
        metrics = {k: float(v) for k, v in run.headline.items() if isinstance(v, int | float) and v == v}
        if run.clv_fit:
            metrics |= {f"bgnbd_{k}": v for k, v in run.clv_fit["bgnbd"].items()}
            metrics |= {f"gamma_gamma_{k}": v for k, v in run.clv_fit["gamma_gamma"].items()}
        if run.clv_truth:
            metrics |= {f"clv_truth_{k}": float(v) for k, v in run.clv_truth.items()}
        mlflow.log_metrics(metrics)
        mlflow.log_artifacts(str(run.out), "clients")
        return active.info.run_id
