"""Printing and MLflow logging of the recruitment cross-analysis (the side effects at the edge)."""

from __future__ import annotations

import mlflow
from rich.console import Console

from cvre.analytics.recruitment.run import RecruitmentRun


def print_recruitment(run: RecruitmentRun, console: Console) -> None:
    for a in run.answers:
        console.print(f"[bold]{a.title}[/]: " + " | ".join(f"{k} {v}" for k, v in a.headline.items()))
    console.print(f"tables (Parquet and CSV): {run.out}")


def log_recruitment_run(run: RecruitmentRun, experiment: str = "cvre-recruitment") -> str:
    """One MLflow run: the truth checks as metrics, every table and the headline as artifacts."""
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=f"recruitment-{run.as_of.date()}") as active:
        mlflow.log_params({"as_of": str(run.as_of.date()), "questions": len(run.answers)})
        metrics = {f"{a.key}_{k}": float(v) for a in run.answers if a.truth for k, v in a.truth.items()}
        if metrics:
            mlflow.log_metrics(metrics)
        mlflow.log_artifacts(str(run.out), "recruitment")
        return active.info.run_id
