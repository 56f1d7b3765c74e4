"""Optuna search over LightGBM parameters: seeded TPE, pruning on LightGBM's per-iteration metric."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import lightgbm as lgb
import mlflow
import optuna

from cvre.training.config import Task, TaskConfig, TrainingConfig
from cvre.training.data import TaskData
from cvre.training.tracking import optuna_storage

log = logging.getLogger(__name__)
METRIC = {"win": "binary_logloss", "churn": "binary_logloss", "lead": "binary_logloss", "amount": "rmse"}


def base_params(task: Task, cfg: TrainingConfig) -> dict:
    params = {"objective": "binary" if task != "amount" else "regression", "metric": METRIC[task],
              "verbosity": -1, "seed": cfg.seed, "deterministic": True, "force_row_wise": True,
              "num_threads": cfg.n_jobs, "bagging_freq": 1}
    return params


def sample_params(trial: optuna.Trial, task: Task, cfg: TrainingConfig, task_cfg: TaskConfig) -> dict:
    s = cfg.tuning.space
    params = base_params(task, cfg) | {
        "num_leaves": trial.suggest_int("num_leaves", *s.num_leaves, log=True),
        "learning_rate": trial.suggest_float("learning_rate", *s.learning_rate, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", *s.min_child_samples, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", *s.feature_fraction),
        "bagging_fraction": trial.suggest_float("bagging_fraction", *s.bagging_fraction),
        "lambda_l2": trial.suggest_float("lambda_l2", *s.lambda_l2, log=True),
    }
    params["linear_tree"] = trial.suggest_categorical("linear_tree", linear_choices(cfg, task_cfg))
    if task == "amount":
        params["objective"] = trial.suggest_categorical("objective", list(task_cfg.objectives))
    return params


def linear_choices(cfg: TrainingConfig, task_cfg: TaskConfig) -> list[bool]:
    """`linear_tree` values searched: linear models in the leaves break monotone constraints, so not with them."""
    return [c for c in cfg.tuning.space.linear_tree if not (c and task_cfg.monotone)]


def pruning_callback(trial: optuna.Trial, metric: str):
    """Report LightGBM's validation metric every iteration; raise TrialPruned when Optuna says so."""

    def callback(env: lgb.callback.CallbackEnv) -> None:
        for _, name, value, _ in env.evaluation_result_list:
            if name == metric:
                trial.report(value, env.iteration)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned at iteration {env.iteration}")

    return callback


def fit_booster(params: dict, data: TaskData, cfg: TrainingConfig, callbacks=()) -> lgb.Booster:
    train = lgb.Dataset(data.X["train"], data.y["train"], categorical_feature=list(data.categories) or "auto",
                        free_raw_data=False)
    valid = lgb.Dataset(data.X["valid"], data.y["valid"], reference=train)
    return lgb.train(params, train, num_boost_round=cfg.tuning.num_boost_round, valid_sets=[valid],
                     callbacks=[lgb.early_stopping(cfg.tuning.early_stopping_rounds, verbose=False), *callbacks])


def _storage(url: str) -> str:
    url = optuna_storage(url)  # a relative SQLite path lives in the project folder, beside MLflow's store
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return url


def tune(data: TaskData, cfg: TrainingConfig, task_cfg: TaskConfig, study_name: str,
         fixed: dict | None = None) -> optuna.Study:
    """Run (or resume) the study; each trial is a nested MLflow run with its params and metric. `fixed` params
    (the task's constraints) go into every trial."""
    metric = METRIC[data.task]
    sampler = optuna.samplers.TPESampler(seed=cfg.seed)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=cfg.tuning.pruner_warmup_steps)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.logging.disable_default_handler()  # its records go through the app's logging (logs/cvre.log)
    optuna.logging.enable_propagation()
    study = optuna.create_study(study_name=study_name, storage=_storage(cfg.tuning.storage), direction="minimize",
                                sampler=sampler, pruner=pruner, load_if_exists=True)
    done = len([t for t in study.trials if t.state.is_finished()])
    if not study.trials and cfg.tuning.first_trial is not None:
        first = cfg.tuning.first_trial.model_dump()
        if first["linear_tree"] not in linear_choices(cfg, task_cfg):
            first.pop("linear_tree")  # not searched for this task (monotone constraints): the trial samples it
        study.enqueue_trial(first)

    def objective(trial: optuna.Trial) -> float:
        params = sample_params(trial, data.task, cfg, task_cfg) | (fixed or {})
        with mlflow.start_run(run_name=f"trial-{trial.number}", nested=True):
            mlflow.log_params({k: v for k, v in trial.params.items()})
            try:
                booster = fit_booster(params, data, cfg, [pruning_callback(trial, metric)])
            except optuna.TrialPruned:
                mlflow.set_tag("pruned", "true")
                raise
            value = booster.best_score["valid_0"][metric]
            trial.set_user_attr("best_iteration", booster.best_iteration)
            mlflow.log_metrics({f"valid_{metric}": value, "best_iteration": booster.best_iteration})
            mlflow.set_tag("pruned", "false")
            return value

    remaining = max(0, cfg.tuning.trials - done)
    if remaining:
        study.optimize(objective, n_trials=remaining, timeout=cfg.tuning.safety_timeout_s, show_progress_bar=True)
    report_safety_cap(study, cfg.tuning.trials, cfg.tuning.safety_timeout_s)
    return study


def report_safety_cap(study: optuna.Study, trials: int, timeout_s: float | None) -> int:
    """Finished trials; when the safety cap stopped the study short of `trials`, say so (log and MLflow tag)."""
    finished = len([t for t in study.trials if t.state.is_finished()])
    if finished < trials:
        log.warning("tuning stopped by the safety cap (tuning.safety_timeout_s = %s s) after %d of %d trials: this "
                    "result depends on the machine's speed; rerun to finish the study", timeout_s, finished, trials)
        mlflow.set_tags({"tuning_stopped_by_safety_cap": "true", "tuning_trials_finished": str(finished)})
    return finished


def study_name(task: Task, data_sha256: str, cfg: TrainingConfig, task_cfg: TaskConfig) -> str:
    """`cvre-TASK-DATA-CONFIG`: a hash of the data and of everything that shapes the search, so a changed
    space, budget or seed starts a new study, and the same config on the same data resumes its own."""
    shaping = {"seed": cfg.seed, "n_jobs": cfg.n_jobs, "task": task_cfg.model_dump(mode="json"),
               "tuning": cfg.tuning.model_dump(mode="json", exclude={"storage", "safety_timeout_s"})}
    digest = hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()
    return f"cvre-{task}-{data_sha256[:12]}-{digest[:12]}"
