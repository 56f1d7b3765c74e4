"""Optuna search over LightGBM parameters: seeded TPE, pruning on LightGBM's per-iteration metric."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import socket
import sys
import time
import warnings
from pathlib import Path

import lightgbm as lgb
import mlflow
import optuna
from optuna.trial import TrialState

from cvre.training.config import Task, TaskConfig, TrainingConfig
from cvre.training.data import TaskData
from cvre.training.runs import PARENT_TAG, owner_tags
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


def open_storage(cfg: TrainingConfig) -> optuna.storages.RDBStorage:
    """The study's database with heartbeats: a trial whose worker died (killed, out of memory) is marked FAILED
    after the grace period by the next worker to start a trial, so a shared study never waits on it."""
    url = optuna_storage(cfg.tuning.storage)  # a relative SQLite path lives in the project folder, beside MLflow's
    engine = {"pool_pre_ping": True}
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = {"connect_args": {"timeout": 60}}  # local workers share one file: wait for its lock
    with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna 5: the interface may change
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(url, engine_kwargs=engine, grace_period=cfg.tuning.grace_period_s,
                                          heartbeat_interval=cfg.tuning.heartbeat_interval_s)


def open_study(name: str, cfg: TrainingConfig, task_cfg: TaskConfig, create: bool, seed_offset: int = 0
               ) -> optuna.Study:
    """Create or resume the study (`create`), or load one another worker created. Worker k samples with seed
    `seed + k`: the same seed everywhere would draw the same startup trials in every worker."""
    sampler = optuna.samplers.TPESampler(seed=cfg.seed + seed_offset, constant_liar=True)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=cfg.tuning.pruner_warmup_steps)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.logging.disable_default_handler()  # its records go through the app's logging (logs/cvre.log)
    optuna.logging.enable_propagation()
    storage = open_storage(cfg)
    if not create:
        return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    study = optuna.create_study(study_name=name, storage=storage, direction="minimize", sampler=sampler,
                                pruner=pruner, load_if_exists=True)
    if not study.trials and cfg.tuning.first_trial is not None:
        first = cfg.tuning.first_trial.model_dump()
        if first["linear_tree"] not in linear_choices(cfg, task_cfg):
            first.pop("linear_tree")  # not searched for this task (monotone constraints): the trial samples it
        study.enqueue_trial(first)
    return study


class OverBudget(Exception):
    """Another worker took the study's last trial first: this one is recorded FAILED and not run."""


TAKEN = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)


def taken(study: optuna.Study, before: int | None = None) -> int:
    """Trials that count toward the budget: finished (complete or pruned) or running, numbered below `before`."""
    return sum(1 for t in study.get_trials(deepcopy=False, states=TAKEN) if before is None or t.number < before)


def counted(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def make_objective(data: TaskData, cfg: TrainingConfig, task_cfg: TaskConfig, fixed: dict | None,
                   parent_run: str | None):
    """One trial: a nested MLflow run (under `parent_run` when the training run lives in another process) with its
    params and metric. `fixed` params (the task's constraints) go into every trial."""
    metric = METRIC[data.task]

    def objective(trial: optuna.Trial) -> float:
        if taken(trial.study, before=trial.number) >= cfg.tuning.trials:
            trial.study.stop()
            raise OverBudget(f"trial {trial.number}: the study's {cfg.tuning.trials} trials are taken")
        trial.set_user_attr("worker", worker_id())
        params = sample_params(trial, data.task, cfg, task_cfg) | (fixed or {})
        nested = {"nested": True} if mlflow.active_run() else {"tags": {PARENT_TAG: parent_run} if parent_run else {}}
        pruned = None
        with mlflow.start_run(run_name=f"trial-{trial.number}", **nested):
            mlflow.set_tags(owner_tags())  # a killed worker's trial run is marked FAILED by the next training run
            mlflow.log_params({k: v for k, v in trial.params.items()})
            try:
                booster = fit_booster(params, data, cfg, [pruning_callback(trial, metric)])
            except optuna.TrialPruned as stop:  # a pruned trial is a finished run, not a failed one
                mlflow.set_tag("pruned", "true")
                pruned = stop
            else:
                value = booster.best_score["valid_0"][metric]
                trial.set_user_attr("best_iteration", booster.best_iteration)
                mlflow.log_metrics({f"valid_{metric}": value, "best_iteration": booster.best_iteration})
                mlflow.set_tag("pruned", "false")
        if pruned is not None:
            raise pruned
        return value

    return objective


def work(study: optuna.Study, objective, cfg: TrainingConfig, deadline: float | None, progress: bool) -> None:
    """Run trials until the study's budget (`tuning.trials`, a count) is taken, whichever workers take it."""
    budget = cfg.tuning.trials

    def stop_at_budget(study: optuna.Study, _trial) -> None:
        if taken(study) >= budget:
            study.stop()

    remaining = budget - taken(study)
    if remaining > 0:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        study.optimize(objective, n_trials=remaining, timeout=timeout, callbacks=[stop_at_budget],
                       catch=(OverBudget,), show_progress_bar=progress)


def finish(study: optuna.Study, objective, cfg: TrainingConfig, deadline: float | None) -> None:
    """The coordinator's end: wait for other workers' running trials, failing those whose heartbeat stopped, and
    run the trials a failed one left undone, until the budget is counted (or the safety cap bites)."""
    while counted(study) < cfg.tuning.trials and (deadline is None or time.monotonic() < deadline):
        work(study, objective, cfg, deadline, progress=False)
        while study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if deadline is not None and time.monotonic() >= deadline:
                return
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)
            time.sleep(min(1.0, cfg.tuning.heartbeat_interval_s))


def _local_worker(data: TaskData, cfg: TrainingConfig, task_cfg: TaskConfig, name: str, fixed: dict | None,
                  parent_run: str | None, experiment_id: str, tracking: str, offset: int, ready) -> None:
    """A spawned worker: the coordinator's study and data, its own sampler seed; logs trials under its run."""
    mlflow.set_tracking_uri(tracking)
    mlflow.set_experiment(experiment_id=experiment_id)
    study = open_study(name, cfg, task_cfg, create=False, seed_offset=offset)
    ready.set()
    work(study, make_objective(data, cfg, task_cfg, fixed, parent_run), cfg, None, progress=False)


@contextlib.contextmanager
def local_workers(count: int, data: TaskData, cfg: TrainingConfig, task_cfg: TaskConfig, name: str,
                  fixed: dict | None, parent_run: str | None, ready_timeout_s: float = 600):
    """`count` more processes on the study (spawned: a fresh interpreter each, as on another machine), started
    together with the caller once each has loaded the study; waited for on exit (ended if the caller fails)."""
    if count < 1:
        yield []
        return
    ctx = multiprocessing.get_context("spawn")
    experiment = mlflow.active_run().info.experiment_id if mlflow.active_run() else "0"
    procs, events = [], []
    for offset in range(1, count + 1):
        ready = ctx.Event()
        proc = ctx.Process(target=_local_worker, name=f"cvre-tuning-{offset}", daemon=False,
                           args=(data, cfg, task_cfg, name, fixed, parent_run, experiment, mlflow.get_tracking_uri(),
                                 offset, ready))
        proc.start()
        procs.append(proc)
        events.append(ready)
    for proc, ready in zip(procs, events, strict=True):
        if not ready.wait(ready_timeout_s):
            log.warning("tuning worker %s did not start within %.0f s; going on without it", proc.name,
                        ready_timeout_s)
    try:
        yield procs
    except BaseException:
        for proc in procs:
            proc.terminate()
        raise
    finally:
        for proc in procs:
            proc.join()
            if proc.exitcode:
                log.warning("tuning worker %s ended with exit code %s", proc.name, proc.exitcode)


def tune(data: TaskData, cfg: TrainingConfig, task_cfg: TaskConfig, study_name: str,
         fixed: dict | None = None) -> optuna.Study:
    """Run (or resume) the study with `tuning.workers` local processes; workers started elsewhere with `cvre train
    --join` share it through the storage. Returns once the budget of trials is finished."""
    study = open_study(study_name, cfg, task_cfg, create=True)
    parent = mlflow.active_run()
    if parent is not None:
        study.set_user_attr("mlflow_parent_run", parent.info.run_id)  # where joining workers log their trials
    objective = make_objective(data, cfg, task_cfg, fixed, None)
    deadline = None if cfg.tuning.safety_timeout_s is None else time.monotonic() + cfg.tuning.safety_timeout_s
    with local_workers(cfg.tuning.workers - 1, data, cfg, task_cfg, study_name, fixed,
                       parent.info.run_id if parent else None):
        work(study, objective, cfg, deadline, progress=sys.stderr.isatty())  # no bar redrawn into a pipe or a log
        finish(study, objective, cfg, deadline)
    report_safety_cap(study, cfg.tuning.trials, cfg.tuning.safety_timeout_s)
    return study


def report_safety_cap(study: optuna.Study, trials: int, timeout_s: float | None) -> int:
    """Finished trials (complete or pruned); when the safety cap stopped the study short of `trials`, say so (log
    and MLflow tag)."""
    finished = counted(study)
    if finished < trials:
        log.warning("tuning stopped by the safety cap (tuning.safety_timeout_s = %s s) after %d of %d trials: this "
                    "result depends on the machine's speed; rerun to finish the study", timeout_s, finished, trials)
        mlflow.set_tags({"tuning_stopped_by_safety_cap": "true", "tuning_trials_finished": str(finished)})
    return finished


NOT_SHAPING = {"storage", "safety_timeout_s", "workers", "heartbeat_interval_s", "grace_period_s"}


def study_name(task: Task, data_sha256: str, cfg: TrainingConfig, task_cfg: TaskConfig) -> str:
    """`cvre-TASK-DATA-CONFIG`: a hash of the data and of everything that shapes the search, so a changed
    space, budget or seed starts a new study, and the same config on the same data resumes its own."""
    shaping = {"seed": cfg.seed, "n_jobs": cfg.n_jobs, "task": task_cfg.model_dump(mode="json"),
               "tuning": cfg.tuning.model_dump(mode="json", exclude=NOT_SHAPING)}
    digest = hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()
    return f"cvre-{task}-{data_sha256[:12]}-{digest[:12]}"
