"""Train one task end to end: gate, tune, refit, calibrate, evaluate, log, register, promote."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from cvre.core.provenance import source_tags
from cvre.core.rules import load_rules
from cvre.features.spec import build_spec, save_spec
from cvre.training import plots
from cvre.training.baselines import baseline_metrics, bayes_metrics
from cvre.training.config import Task, TaskConfig, TrainingConfig
from cvre.training.data import NotEnoughData, TaskData
from cvre.training.drift_reference import REFERENCE_TASKS, log_reference_snapshot
from cvre.training.inputs import tuning_inputs
from cvre.training.low_data import LOW_DATA_TAG, rows_needed
from cvre.training.metrics import binary_metrics, grade_metrics, regression_metrics
from cvre.training.model import CvreModel, calibrated, save_artifacts
from cvre.training.reference import client_reference_tables, reference_tables, save_feature_config, save_reference
from cvre.training.registry import CHALLENGER, CHAMPION, Decision, alias_version, gate, is_low_data, set_champion
from cvre.training.runs import HeldAliases, mark_interrupted_runs, owner_tags
from cvre.training.tracking import git_commit
from cvre.training.tuning import base_params, fit_booster, tune

log = logging.getLogger(__name__)
INT_PARAMS = ("num_leaves", "min_child_samples")
PYFUNC_PACKAGES = ("cvre", "scikit-learn", "pyarrow", "cloudpickle", "joblib")  # beside LightGBM's own
PRIMARY = {"win": ("auc", True), "churn": ("auc", True), "lead": ("auc", True), "amount": ("rmse", False)}


@dataclass
class TrainResult:
    task: Task
    run_id: str
    metrics: dict[str, float]
    version: str | None
    decision: Decision
    best_params: dict = field(default_factory=dict)
    low_data: str = ""  # why this is a low_data model ("" for a full model)


class PlattCalibrator:
    """Logistic calibration of raw scores (the 'sigmoid' option); same predict() as isotonic."""

    def __init__(self, seed: int):
        self.seed = seed

    def fit(self, raw, y):
        self.model_ = LogisticRegression(random_state=self.seed).fit(_logit(raw)[:, None], y)
        return self

    def predict(self, raw):
        return self.model_.predict_proba(_logit(np.asarray(raw))[:, None])[:, 1]


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def native_requirements() -> list[str]:
    """Pinned explicitly: MLflow's inference would re-run predict on a JSON copy of the example."""
    return [f"lightgbm=={lgb.__version__}", f"pandas=={pd.__version__}", f"numpy=={np.__version__}",
            f"mlflow=={mlflow.__version__}"]


def pyfunc_requirements() -> list[str]:
    """The served model's packages, pinned: inferring them re-imports the model in a subprocess (10-50 s a run)."""
    return native_requirements() + [f"{p}=={metadata.version(p)}" for p in PYFUNC_PACKAGES]


def check_minimum(data: TaskData, task_cfg: TaskConfig, train_share: float = 0.6) -> None:
    """Refuse a full model below the minimum labelled rows (like Salesforce's 200 won / 200 lost)."""
    verdict = rows_needed(data, task_cfg, train_share)
    if verdict.low_data:
        raise NotEnoughData(verdict.message)


def _evaluate(data: TaskData, booster: lgb.Booster, task_cfg: TaskConfig, cfg: TrainingConfig, params: dict):
    """Test metrics, plus the calibrator (binary) or quantile boosters (amount)."""
    X_test, y_test = data.X["test"], data.y["test"]
    if data.task == "amount":
        quantiles = []
        for alpha in task_cfg.quantiles:
            q_params = {k: v for k, v in params.items() if not k.startswith("monotone")}  # LightGBM refuses both
            q_params |= {"objective": "quantile", "alpha": alpha, "metric": "quantile"}
            quantiles.append(fit_booster(q_params, data, cfg))
        pred = booster.predict(X_test)
        low = np.minimum(quantiles[0].predict(X_test), pred)
        high = np.maximum(quantiles[1].predict(X_test), pred)
        metrics = regression_metrics(y_test, pred) | {"interval_coverage": float(((y_test >= low) &
                                                                                   (y_test <= high)).mean())}
        return metrics, pred, None, quantiles
    raw_valid = booster.predict(data.X["valid"])
    calibrator = (IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1) if task_cfg.calibration == "isotonic"
                  else PlattCalibrator(cfg.seed)).fit(raw_valid, data.y["valid"])
    prob = calibrated(calibrator, booster.predict(X_test))
    return binary_metrics(y_test, prob) | grade_metrics(y_test, prob), prob, calibrator, []


def train_task(features_dir: Path, task: Task, cfg: TrainingConfig, client: MlflowClient | None = None) -> TrainResult:
    inputs = tuning_inputs(features_dir, task, cfg)
    data, task_cfg, manifest, verdict = inputs.data, inputs.task_cfg, inputs.manifest, inputs.verdict
    client = client or MlflowClient()
    mark_interrupted_runs(client)
    held = HeldAliases(client)  # aliases move only once the run has finished
    name = cfg.registry.names[task]
    study_id, constraints = inputs.study_id, inputs.constraints
    with mlflow.start_run(run_name=f"train-{task}", tags=owner_tags()) as parent, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        mlflow.set_tags({"task": task, "git_commit": git_commit(), "data_sha256": data.fingerprint["sha256"],
                         "optuna_study": study_id})
        mlflow.log_dict(cfg.model_dump(mode="json"), "config.json")
        mlflow.log_dict(data.fingerprint, "dataset_fingerprint.json")
        mlflow.log_dict({"features": data.features, "categories": data.categories}, "features.json")
        mlflow.log_params({"rows_train": len(data.y["train"]), "rows_valid": len(data.y["valid"]),
                           "rows_test": len(data.y["test"]), "n_features": len(data.features)})

        mlflow.set_tags(source_tags(manifest.get("data_source", {}), data.fingerprint["sha256"]))
        if verdict.low_data:  # too few rows to tune on: fixed, strongly regularised parameters
            study, params = None, {k: int(v) if k in INT_PARAMS else v for k, v in cfg.low_data.params.items()}
            mlflow.set_tags({LOW_DATA_TAG: "true", "low_data_reason": verdict.message})
        else:
            study = tune(data, cfg, task_cfg, study_id, constraints)
            params = study.best_trial.params
        final_params = base_params(task, cfg) | params | constraints
        booster = fit_booster(final_params, data, cfg)
        mlflow.log_params({f"best_{k}": v for k, v in params.items()} | {"best_iteration": booster.best_iteration})

        metrics, pred, calibrator, quantiles = _evaluate(data, booster, task_cfg, cfg, final_params)
        if task in REFERENCE_TASKS:  # the drift reference of `cvre monitor`
            log_reference_snapshot(features_dir, data, lambda X: calibrated(calibrator, booster.predict(X)),
                                   cfg.reference, cfg.seed)
        metrics |= baseline_metrics(data, cfg.seed)
        metrics |= bayes_metrics(data, metrics)
        mlflow.log_metrics({k if k.startswith(("baseline", "bayes")) or "_gap" in k else f"test_{k}": v
                            for k, v in metrics.items()})

        y_test = data.y["test"]
        figures = (plots.residual_plot(y_test, pred, folder) if task == "amount"
                   else plots.classification_plots(y_test, pred, folder))
        figures += plots.importance_plot(booster, folder) + (plots.optuna_plots(study, folder) if study else [])
        figures += plots.shap_plot(booster, data.X["test"], folder, sample=500, seed=cfg.seed)
        for path in figures:
            mlflow.log_artifact(str(path), "plots")

        example = data.X["train"].head(5)
        # MLflow's serving-input check sends the example through JSON, turning categories into strings that
        # the raw booster rejects; the example itself is the training frame. The pyfunc `model` is what serves.
        signature = infer_signature(example, booster.predict(example))
        mlflow.lightgbm.log_model(booster, name="lightgbm", signature=signature, input_example=example,
                                  validate_serving_input=False, pip_requirements=native_requirements())
        artifacts = save_artifacts(folder / "model", task, data.features, data.categories, booster, calibrator,
                                   quantiles)
        if task in ("win", "amount"):
            artifacts |= save_reference(reference_tables(features_dir), folder / "model")
            artifacts |= save_spec(build_spec(features_dir, data.features, load_rules()), folder / "model")
        elif task == "churn":
            artifacts |= save_reference(client_reference_tables(features_dir), folder / "model")
            artifacts |= save_feature_config(features_dir, folder / "model")
        info = mlflow.pyfunc.log_model(name="model", python_model=CvreModel(), artifacts=artifacts,
                                       input_example=data.raw_example, registered_model_name=name,
                                       pip_requirements=pyfunc_requirements())
        version = str(info.registered_model_version)
        version_tags = source_tags(manifest.get("data_source", {}), data.fingerprint["sha256"])
        for key, value in (version_tags | ({LOW_DATA_TAG: "true"} if verdict.low_data else {})).items():
            client.set_model_version_tag(name, version, key, value)
        decision = _promote(held, name, version, data, metrics, task, task_cfg, cfg, verdict.low_data)
        mlflow.set_tags({"promotion": "champion" if decision.promoted else "challenger",
                         "promotion_reason": decision.reason})
        result = TrainResult(task, parent.info.run_id, metrics, version, decision, params, verdict.message)
    held.apply()
    return result


def _best(metrics: dict, metric: str, higher: bool) -> tuple[str, float]:
    found = {k: v for k, v in metrics.items() if k.startswith("baseline_") and k.endswith(f"_{metric}")}
    key = (max if higher else min)(found, key=found.get)
    return key, found[key]


def beats_baselines(metrics: dict, task: Task, task_cfg: TaskConfig) -> tuple[bool, str]:
    """A probability must beat the best baseline's log loss (a proper score: ranking and calibration) by the
    margin without trailing its AUC by more than the tolerance; an amount must beat the best RMSE."""
    margin = task_cfg.baseline_margin
    if task == "amount":
        key, best = _best(metrics, "rmse", higher=False)
        ok = metrics["rmse"] <= best * (1 - margin)
        return ok, f"rmse {metrics['rmse']:.4f} vs {key} {best:.4f} (margin {margin:.1%})"
    loss_key, best_loss = _best(metrics, "log_loss", higher=False)
    auc_key, best_auc = _best(metrics, "auc", higher=True)
    ok = metrics["log_loss"] <= best_loss * (1 - margin) and metrics["auc"] >= best_auc - task_cfg.auc_tolerance
    return ok, (f"log loss {metrics['log_loss']:.4f} vs {loss_key} {best_loss:.4f} (margin {margin:.1%}), "
                f"auc {metrics['auc']:.4f} vs {auc_key} {best_auc:.4f} (tolerance {task_cfg.auc_tolerance})")


def _promote(client, name, version, data: TaskData, metrics, task, task_cfg: TaskConfig, cfg,
             low_data: bool = False) -> Decision:
    """The gate. A low_data model never replaces a full champion (and needs not beat the baselines to stand in
    where there is none); a full model that beats its baselines always replaces a low_data champion."""
    key, higher = PRIMARY[task]
    value = metrics[key]
    champion = alias_version(client, name, CHAMPION)
    champion_is_low_data = champion is not None and is_low_data(client, name, champion)
    if low_data:
        if champion is not None and not champion_is_low_data:
            reason = f"a low_data model never replaces the full champion v{champion}; not promoted"
            log.warning("%s v%s %s", name, version, reason)
            return Decision(False, reason)
        client.set_registered_model_alias(name, CHALLENGER, version)
        set_champion(client, name, version)
        return Decision(True, "low_data model: stands in as champion until a full model is trained")
    beats, why = beats_baselines(metrics, task, task_cfg)
    if not beats:
        reason = f"does NOT beat its baselines: {why}; not promoted"
        log.warning("%s v%s %s", name, version, reason)
        return Decision(False, reason)
    client.set_registered_model_alias(name, CHALLENGER, version)
    if champion_is_low_data:
        set_champion(client, name, version)
        return Decision(True, f"a full model replaces the low_data champion v{champion}; {why}")
    champion_value = None
    if champion is not None:
        model = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}")
        scored = model.unwrap_python_model().predict(None, data.X["test"])  # X is typed: no signature casts
        column = "amount" if task == "amount" else "probability"
        y = data.y["test"]
        champion_value = (regression_metrics(y, scored[column].to_numpy()) if task == "amount"
                          else binary_metrics(y, scored[column].to_numpy()))[key]
    decision = gate(value, champion_value, higher, cfg.registry.tolerance)
    if decision.promoted:
        set_champion(client, name, version)
    else:
        log.warning("%s v%s stays challenger: %s", name, version, decision.reason)
    return decision

