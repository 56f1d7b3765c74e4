"""`cvre monitor`: load the champion's reference and a current batch, assess, report, log, maybe retrain."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import numpy as np
from mlflow import MlflowClient
from tqdm.auto import tqdm

from cvre.monitoring.assess import Assessment, assess
from cvre.monitoring.config import MonitorConfig
from cvre.monitoring.current import Current, current_from_features, current_from_log
from cvre.monitoring.evidently_report import add_to_workspace, build_snapshot, evidently_flags, sampling_error
from cvre.monitoring.policy import ALERT, OK, RETRAINED
from cvre.training.config import TrainingConfig
from cvre.training.drift_reference import LABEL, PREDICTION, Reference, load_champion_reference
from cvre.training.registry import CHAMPION

log = logging.getLogger(__name__)


@dataclass
class MonitorRun:
    task: str
    model: str
    version: str
    folder: Path
    summary_path: Path
    report_paths: list[Path]
    summary: dict
    exit_code: int
    mlflow_run_id: str = ""
    retrain: dict = field(default_factory=dict)  # version, promoted, reason when a challenger was trained

    @property
    def report_path(self) -> Path:
        return self.report_paths[0]


def _evidently_columns(a: Assessment, top: int) -> list[str]:
    """The score and the `top` feature columns furthest past (or nearest to) their thresholds."""
    features = a.table[a.table["column"] != PREDICTION]
    ranked = features.assign(ratio=features["score"] / features["threshold"].where(features["threshold"] > 0, 1.0))
    return [PREDICTION, *ranked.sort_values("ratio", ascending=False)["column"].head(top)]


def _write_reports(ref: Reference, current: Current, a: Assessment, cfg: MonitorConfig, folder: Path,
                   name: str) -> tuple[list[Path], dict]:
    """Evidently HTML + JSON (or a plain HTML table when Evidently is off) and workspace snapshots."""
    if not cfg.report.evidently:
        path = folder / "report.html"
        a.table.to_html(path, index=False)
        return [path], {"enabled": False}
    columns = _evidently_columns(a, cfg.report.columns)
    snapshot, error = build_snapshot(ref.scored, current.scored, columns, a.kinds, cfg.drift, cfg.report, cfg.seed)
    snapshot.save_html(str(folder / "report.html"))
    snapshot.save_json(str(folder / "evidently.json"))
    paths = [folder / "report.html"]
    theirs = evidently_flags(snapshot)
    ours = a.table.set_index("column")
    agree = [bool(ours.loc[c, "drifted"]) == (theirs[c] > ours.loc[c, "threshold"]) for c in theirs if c in ours.index]
    info = {"enabled": True, "columns": columns, "sampling_error": error, "scores": theirs,
            "agreement_with_full_data": float(np.mean(agree)) if agree else None,
            "workspace": str(Path(cfg.report.workspace).resolve()),
            "snapshots": [add_to_workspace(snapshot, cfg.report, name)]}
    if current.labelled is not None and a.performance.get("status") == "judged":
        kinds = {LABEL: "flag", PREDICTION: "numeric"}
        target, target_error = build_snapshot(ref.labelled, current.labelled, [LABEL, PREDICTION], kinds, cfg.drift,
                                              cfg.report, cfg.seed)
        target.save_html(str(folder / "target.html"))
        paths.append(folder / "target.html")
        info["target_sampling_error"] = target_error
        info["snapshots"].append(add_to_workspace(target, cfg.report, f"{name} target"))
    return paths, info


def build_summary(ref: Reference, current: Current, a: Assessment, bins: int) -> dict:
    columns = a.table.replace({np.inf: None}).to_dict(orient="records")
    return {"task": ref.task, "model": ref.model, "version": ref.version, "reference_run_id": ref.run_id,
            "source": current.source, "rows": {"reference": len(ref.scored), "current": len(current.scored),
                                               "current_labelled": 0 if current.labelled is None
                                               else len(current.labelled)},
            "drift_share": a.drift_share, "drifted_columns": a.drifted,
            "prediction_drift": {k: a.prediction.get(k) for k in ("method", "score", "threshold", "drifted")},
            "quality_issues": a.quality, "performance": a.performance,
            "verdict": {"alert": a.verdict.alert, "retrain": a.verdict.retrain, "reasons": a.verdict.reasons},
            "columns": columns, "full_data_error": sampling_error(len(ref.scored), len(current.scored), bins)}


def _log_to_mlflow(run: MonitorRun, a: Assessment, client: MlflowClient) -> str:
    """A `monitor-<task>` run beside the model (tags name its version), and tags on the model version."""
    with mlflow.start_run(run_name=f"monitor-{run.task}") as active:
        mlflow.set_tags({"task": run.task, "monitored_model": run.model, "monitored_version": run.version,
                         "monitored_run_id": run.summary["reference_run_id"], "monitor_exit_code": run.exit_code,
                         "monitor_alert": run.summary["verdict"]["alert"]})
        metrics = {"drift_share": a.drift_share, "drifted_columns": len(a.drifted),
                   "prediction_drift_score": a.prediction.get("score") or 0.0}
        for key in ("auc_drop", "current_auc", "target_drift_score"):
            if a.performance.get(key) is not None:
                metrics[key] = a.performance[key]
        mlflow.log_metrics(metrics)
        mlflow.log_artifacts(str(run.folder), "monitoring")
    client.set_model_version_tag(run.model, run.version, "last_monitor_run", active.info.run_id)
    client.set_model_version_tag(run.model, run.version, "last_drift_share", f"{a.drift_share:.3f}")
    return active.info.run_id


def _retrain(features_dir: Path, task: str, training: TrainingConfig) -> dict:
    from cvre.training.train import train_task

    result = train_task(features_dir, task, training)
    return {"version": result.version, "promoted": result.decision.promoted, "reason": result.decision.reason,
            "run_id": result.run_id}


def run_monitor(task: str, cfg: MonitorConfig, training: TrainingConfig, features_dir: Path | None = None,
                scoring_log: Path | None = None, retrain: bool = False, out: Path | None = None,
                progress: bool = True) -> MonitorRun:
    """Check the champion of `task` against a later feature snapshot (`features_dir`) or the scoring log.

    Writes report.html (+ target.html once labels arrived) and summary.json under `out`, logs them to
    MLflow and to the Evidently workspace; with `retrain`, trains a challenger when the policy says so
    (from `features_dir`, the only source with labels) and lets the promotion gate decide.
    """
    client = MlflowClient()
    name = training.registry.names[task]
    steps = tqdm(total=5, desc=f"monitor {task}", unit="step", disable=None if progress else True)
    ref = load_champion_reference(name, CHAMPION, client)
    steps.update()
    if features_dir is not None:
        current = current_from_features(features_dir, ref, f"models:/{name}@{CHAMPION}")
    else:
        current = current_from_log(Path(scoring_log or cfg.scoring_log), ref)
    steps.update()
    a = assess(ref, current.scored, current.labelled, cfg)
    steps.update()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    folder = Path(out or cfg.report.out) / f"{task}-v{ref.version}-{stamp}"
    folder.mkdir(parents=True, exist_ok=True)
    summary = build_summary(ref, current, a, cfg.drift.bins)
    paths, summary["evidently"] = _write_reports(ref, current, a, cfg, folder, f"{name} v{ref.version} {stamp}")
    steps.update()
    run = MonitorRun(task, name, ref.version, folder, folder / "summary.json", paths, summary,
                     ALERT if a.verdict.alert else OK)
    if retrain and a.verdict.retrain:
        if features_dir is None:
            a.verdict.reasons.append("retraining needs labelled data: pass --features of the later period")
        else:
            run.retrain = _retrain(Path(features_dir), task, training)
            run.exit_code = RETRAINED
    summary |= {"exit_code": run.exit_code, "retrain": run.retrain, "reports": [str(p) for p in paths]}
    run.summary_path.write_text(json.dumps(summary, indent=1, default=str))
    run.mlflow_run_id = _log_to_mlflow(run, a, client)
    steps.update()
    steps.close()
    return run


def print_run(run: MonitorRun, console) -> None:
    """The few lines a person (or a scheduler's log) needs: verdict, reasons, where the reports are."""
    s = run.summary
    console.print(f"[bold]{run.model} v{run.version}[/]: {s['rows']['current']:,} current rows vs "
                  f"{s['rows']['reference']:,} reference; {s['drift_share']:.0%} of feature columns drifted "
                  f"{s['drifted_columns']}; score drift {s['prediction_drift']['score']:.3f} "
                  f"({'drifted' if s['prediction_drift']['drifted'] else 'stable'})")
    perf = s["performance"]
    if perf.get("status") == "judged":
        console.print(f"AUC {perf['reference_auc']:.3f} -> {perf['current_auc']:.3f} on "
                      f"{perf['current_rows']:,} newly labelled rows")
    else:
        console.print(f"performance: {perf['status']}")
    for issue in s["quality_issues"]:
        console.print(f"[yellow]quality:[/] {issue}")
    for reason in s["verdict"]["reasons"]:
        console.print(f"[yellow]alert:[/] {reason}")
    if run.retrain:
        status = "promoted to champion" if run.retrain["promoted"] else "kept as challenger"
        console.print(f"retrained: v{run.retrain['version']} {status} ({run.retrain['reason']})")
    console.print(f"report: {run.report_path}\nsummary: {run.summary_path}\nexit code {run.exit_code}")
