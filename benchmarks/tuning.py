"""Benchmark our Optuna-tuned LightGBM against FLAML at the same budget, and the Bayes gap.

For every dataset the features are prepared once under --work-dir (import + features for the real
exports, simulate + features for the simulated world, --world-seed), then, for every model seed in --seeds,
on the SAME time split (train / valid / test of `training.data.load_task`) and the SAME budget for both
sides: --trials trials (ours: Optuna trials; FLAML: max_iter) and --budget-s seconds (ours: the safety cap;
FLAML: time_budget), whichever ends first:

- ours: `train_task` with the shipped training config (constraints, search space, first trial), `tuning.trials
  = trials`, `tuning.safety_timeout_s = budget`, a fresh MLflow store and Optuna storage per run, n_jobs=1;
- flaml_lgbm: `flaml.AutoML().fit(X_train, y_train, X_val=X_valid, y_val=y_valid, metric=roc_auc|rmse,
  time_budget=budget, max_iter=trials, n_jobs=1, seed=seed, estimator_list=["lgbm"])`, scored on the test split;
- flaml_default: the same with FLAML's default estimator list (--no-flaml-default skips it).

A set passes when the ratio is >= 1.00 on every seed; ours must also beat its linear baseline (log loss and AUC
without tolerance; RMSE for amount) on every seed.

Then the `bayes_gap` block: our win model on simulated worlds (default 20k and 200k deals) against
the simulator's true probabilities (auc_gap <= 0.005, brier within 2% of Bayes).

    .venv/bin/python benchmarks/tuning.py                               # 3 seeds, 25 trials, 60 s cap
    .venv/bin/python benchmarks/tuning.py --seeds 42 --trials 10 --datasets sim20k_win --skip-bayes
    .venv/bin/python benchmarks/tuning.py --budget-s 10 --bayes-budget-s 10 --bayes-deals 20000  # quick
    .venv/bin/python benchmarks/tuning.py --datasets maven_win sim20k_amount --skip-bayes
    .venv/bin/python benchmarks/tuning.py --help

Results: benchmarks/results/tuning.json (rewritten after every step, so a partial run keeps what it did).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (  # noqa: E402
    REPO,
    RESULTS_DIR,
    code_fingerprint,
    ensure_repo_on_path,
    machine_info,
    write_result,
)

ensure_repo_on_path()  # benchmarks/features.py must not shadow the `features` package

import numpy as np  # noqa: E402

DATASETS_DIR = Path("/work/shared/datasets")
CODE = ("core", "ingest", "simulation", "features", "training")  # the code measured, fingerprinted at start
SOURCES = {  # source name -> how to get its features
    "maven_crm": {"kind": "import", "source": DATASETS_DIR / "maven_crm",
                  "mapping": REPO / "src/cvre/configs/mappings/maven_crm.yaml"},
    "x_education_leads": {"kind": "import", "source": DATASETS_DIR / "x_education_leads",
                          "mapping": REPO / "src/cvre/configs/mappings/x_education_leads.yaml"},
    "uci_bank_marketing": {"kind": "import", "source": DATASETS_DIR / "uci_bank_marketing",
                           "mapping": REPO / "src/cvre/configs/mappings/uci_bank_marketing.yaml"},
    "orange_telecom_churn": {"kind": "import", "source": DATASETS_DIR / "orange_telecom_churn",
                             "mapping": REPO / "src/cvre/configs/mappings/orange_telecom_churn.yaml"},
    "sim20k": {"kind": "simulate", "deals": 20_000},
}
DATASETS = {  # dataset name -> (source, task)
    "maven_win": ("maven_crm", "win"),
    "x_education_lead": ("x_education_leads", "lead"),
    "uci_bank_lead": ("uci_bank_marketing", "lead"),
    "orange_churn": ("orange_telecom_churn", "churn"),
    "sim20k_win": ("sim20k", "win"),
    "sim20k_amount": ("sim20k", "amount"),
}
AUC_GAP_TARGET, BRIER_GAP_PCT_TARGET = 0.005, 2.0


def log(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def loadavg() -> float | None:
    with contextlib.suppress(OSError):
        return round(os.getloadavg()[0], 2)
    return None


# ---------------------------------------------------------------------------------------------- data
def prepare_source(name: str, spec: dict, work: Path, seed: int, reuse: bool) -> dict:
    """Features of one source under work/features/<name>; reused when its manifest exists."""
    from cvre.features.config import FeatureConfig
    from cvre.features.pipeline import build_features

    features_dir = work / "features" / name
    info: dict = {"features_dir": str(features_dir)}
    if reuse and (features_dir / "feature_manifest.json").exists():
        log(f"{name}: reusing features in {features_dir}")
        info["reused"] = True
        return info
    shutil.rmtree(features_dir, ignore_errors=True)
    began = time.perf_counter()
    if spec["kind"] == "import":
        from cvre.ingest.run import run_import

        data_dir = work / "import" / name
        shutil.rmtree(data_dir, ignore_errors=True)
        log(f"{name}: importing {spec['source']} with {spec['mapping'].name}")
        run_import(spec["source"], spec["mapping"], data_dir)
        info["import_s"] = round(time.perf_counter() - began, 1)
    else:
        from cvre.simulation.config import SimulationConfig
        from cvre.simulation.world import simulate_world

        data_dir = work / "worlds" / name
        shutil.rmtree(data_dir, ignore_errors=True)
        log(f"{name}: simulating {spec['deals']:,} deals (seed {seed})")
        simulate_world(SimulationConfig(deals=spec["deals"], seed=seed), data_dir, progress=False)
        info["simulate_s"] = round(time.perf_counter() - began, 1)
    t0 = time.perf_counter()
    log(f"{name}: building features")
    run = build_features(data_dir, FeatureConfig(), out=features_dir)
    info["features_s"] = round(time.perf_counter() - t0, 1)
    info["feature_rows"] = dict(run.rows)
    for warning in run.warnings:
        log(f"{name}: features warning: {warning}")
    info["data_dir"] = str(data_dir)
    log(f"{name}: features ready in {info['features_s']} s -> {features_dir}")
    return info


# ---------------------------------------------------------------------------------------------- ours
def run_ours(features_dir: Path, task: str, budget: float, run_dir: Path, seed: int, trials: int) -> dict:
    """train_task in a fresh MLflow store and Optuna storage; tuning wall time measured around tune()."""
    import mlflow

    import cvre.training.train as train_mod
    from cvre.training.config import TrainingConfig
    from cvre.training.tracking import setup_tracking

    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    cfg = TrainingConfig()
    cfg.seed, cfg.n_jobs = seed, 1
    cfg.tuning.safety_timeout_s, cfg.tuning.trials = float(budget), trials  # the same two budgets as FLAML's
    cfg.tuning.storage = f"sqlite:///{run_dir / 'optuna.db'}"
    cfg.tracking.tracking_uri = f"sqlite:///{run_dir / 'mlflow.db'}"
    cfg.tracking.artifact_root = str(run_dir / "artifacts")
    setup_tracking(cfg.tracking)

    timing: dict = {}
    original_tune = train_mod.tune

    def timed_tune(*args, **kwargs):
        t0 = time.perf_counter()
        study = original_tune(*args, **kwargs)
        timing["tune_s"] = time.perf_counter() - t0
        states = [t.state.name for t in study.trials]
        timing["trials"] = len(states)
        timing["trials_complete"] = states.count("COMPLETE")
        timing["trials_pruned"] = states.count("PRUNED")
        return study

    train_mod.tune = timed_tune
    load_before = loadavg()
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = train_mod.train_task(features_dir, task, cfg)
    finally:
        train_mod.tune = original_tune
    wall = time.perf_counter() - t0
    m = result.metrics
    out = {"wall_s": round(wall, 1), "tune_s": round(timing.get("tune_s", float("nan")), 1),
           "trials": timing.get("trials"), "trials_complete": timing.get("trials_complete"),
           "trials_pruned": timing.get("trials_pruned"), "best_params": result.best_params,
           "promoted": result.decision.promoted, "loadavg_before": load_before, "loadavg_after": loadavg(),
           "metrics": {k: round(v, 6) for k, v in m.items()}}
    # AUC of the raw booster too: isotonic calibration is monotone but not strictly, its ties can move AUC
    if task != "amount":
        from sklearn.metrics import roc_auc_score

        from cvre.training.data import load_task

        data = load_task(features_dir, task)
        booster = mlflow.lightgbm.load_model(f"runs:/{result.run_id}/lightgbm")
        out["raw_auc"] = round(float(roc_auc_score(data.y["test"], booster.predict(data.X["test"]))), 6)
    return out


# --------------------------------------------------------------------------------------------- flaml
def run_flaml(features_dir: Path, task: str, budget: float, seed: int, estimators: list[str] | None,
              log_file: Path, trials: int) -> dict:
    from flaml import AutoML
    from sklearn.metrics import roc_auc_score

    from cvre.training.data import load_task

    data = load_task(features_dir, task)
    X, y = data.X, data.y
    regression = task == "amount"
    settings = {"task": "regression" if regression else "classification", "metric": "rmse" if regression
                else "roc_auc", "time_budget": budget, "max_iter": trials, "n_jobs": 1, "seed": seed, "verbose": 0,
                "log_file_name": str(log_file), "mlflow_logging": False}
    if estimators is not None:
        settings["estimator_list"] = estimators
    automl = AutoML()
    load_before = loadavg()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(X["train"], y["train"] if regression else y["train"].astype(int), X_val=X["valid"],
                   y_val=y["valid"] if regression else y["valid"].astype(int), **settings)
    fit_s = time.perf_counter() - t0
    if regression:
        pred = automl.predict(X["test"])
        value = float(np.sqrt(((np.asarray(pred, dtype=float) - y["test"]) ** 2).mean()))
    else:
        value = float(roc_auc_score(y["test"], automl.predict_proba(X["test"])[:, 1]))
    wall = time.perf_counter() - t0
    return {"value": round(value, 6), "wall_s": round(wall, 1), "fit_s": round(fit_s, 1),
            "best_estimator": automl.best_estimator, "best_config": automl.best_config,
            "best_valid_loss": automl.best_loss, "trials": int(sum(automl._iter_per_learner.values())),
            "trials_per_learner": dict(automl._iter_per_learner), "improvements": len(automl.config_history),
            "estimator_list": estimators or "default", "loadavg_before": load_before, "loadavg_after": loadavg()}


# ----------------------------------------------------------------------------------------------- seeds
def run_seed(name: str, features_dir: Path, task: str, metric: str, seed: int, args, work: Path) -> dict:
    """Ours and FLAML on one dataset with one model seed, compared."""
    row: dict = {"metric": metric, "wall_s": {}}
    log(f"{name} seed {seed}: ours (train_task, {args.trials} trials, cap {args.budget_s:g} s)")
    try:
        ours = run_ours(features_dir, task, args.budget_s, work / "runs" / f"{name}-{seed}", seed, args.trials)
        row["ours"], row["ours_raw_auc"] = ours["metrics"][metric], ours.get("raw_auc")
        row["ours_detail"] = ours
        row["wall_s"] |= {"ours": ours["wall_s"], "ours_tune": ours["tune_s"]}
        row |= linear_row(ours["metrics"], task)
        log(f"{name} seed {seed}: ours {metric} {row['ours']:.4f} (raw {ours.get('raw_auc')}), tune {ours['tune_s']} "
            f"s, total {ours['wall_s']} s, {ours['trials']} trials ({ours['trials_pruned']} pruned), beats linear "
            f"{row['beats_linear']}")
    except Exception as exc:  # noqa: BLE001 - record and go on with the other methods
        log(f"{name} seed {seed}: ours FAILED: {exc!r}")
        row["ours_error"] = repr(exc)
    runs = [("flaml_lgbm", ["lgbm"])] + ([] if args.no_flaml_default else [("flaml_default", None)])
    for key, estimators in runs:
        log(f"{name} seed {seed}: {key} (max_iter {args.trials}, time_budget {args.budget_s:g} s)")
        try:
            fl = run_flaml(features_dir, task, args.budget_s, seed, estimators,
                           work / "runs" / f"{name}-{seed}-{key}.log", args.trials)
            row[key], row[f"{key}_detail"] = fl["value"], fl
            row["wall_s"][key] = fl["wall_s"]
            log(f"{name} seed {seed}: {key} {metric} {fl['value']:.4f} (best {fl['best_estimator']}, "
                f"{fl['trials']} trials, {fl['wall_s']} s)")
        except Exception as exc:  # noqa: BLE001
            log(f"{name} seed {seed}: {key} FAILED: {exc!r}")
            row[f"{key}_error"] = repr(exc)
    compare(row)
    return row


def linear_row(metrics: dict, task: str) -> dict:
    """Ours against the linear baseline with no tolerance: log loss and AUC (probabilities), RMSE (amount)."""
    if task == "amount":
        return {"baseline_linear_rmse": metrics["baseline_linear_rmse"],
                "beats_linear": bool(metrics["rmse"] < metrics["baseline_linear_rmse"])}
    return {"baseline_linear_auc": metrics["baseline_linear_auc"],
            "baseline_linear_log_loss": metrics["baseline_linear_log_loss"], "log_loss": metrics["log_loss"],
            "beats_linear": bool(metrics["auc"] > metrics["baseline_linear_auc"]
                                 and metrics["log_loss"] < metrics["baseline_linear_log_loss"])}


def summarise(entry: dict) -> None:
    """Means over seeds for the table; a set passes when every seed passes."""
    rows = list(entry["seeds"].values())
    for key in ("ours", "ours_raw_auc", "flaml_lgbm", "flaml_default"):
        values = [r[key] for r in rows if r.get(key) is not None]
        entry[key] = round(float(np.mean(values)), 6) if values else None
    ratios = [r["ratio"] for r in rows if "ratio" in r]
    if ratios:
        entry["ratio_per_seed"], entry["ratio"] = ratios, round(min(ratios), 4)
        entry["pass"] = len(ratios) == len(rows) and all(r >= 1.0 for r in ratios)
    linear = [r["beats_linear"] for r in rows if "beats_linear" in r]
    entry["beats_linear_every_seed"] = bool(linear) and len(linear) == len(rows) and all(linear)


# -------------------------------------------------------------------------------------------- report
def compare(entry: dict) -> None:
    """ratio >= 1.00 means ours is at least as good: auc ours/flaml, rmse flaml/ours."""
    metric = entry["metric"]
    ours = entry.get("ours")
    for key in ("flaml_lgbm", "flaml_default"):
        other = entry.get(key)
        if ours is None or other is None:
            continue
        ratio = ours / other if metric == "auc" else other / ours
        entry[f"ratio_vs_{key}"] = round(ratio, 4)
        entry[f"pass_vs_{key}"] = bool(ratio >= 1.0)
        if metric == "auc" and entry.get("ours_raw_auc") is not None:
            entry[f"ratio_raw_vs_{key}"] = round(entry["ours_raw_auc"] / other, 4)
    if "ratio_vs_flaml_lgbm" in entry:
        entry["ratio"], entry["pass"] = entry["ratio_vs_flaml_lgbm"], entry["pass_vs_flaml_lgbm"]


def bayes_row(metrics: dict) -> dict:
    row = {k: round(metrics[k], 6) for k in ("auc", "bayes_auc", "auc_gap", "brier", "bayes_brier",
                                              "brier_gap_pct") if k in metrics}
    if "auc_gap" in row:
        row["pass_auc_gap"] = bool(row["auc_gap"] <= AUC_GAP_TARGET)
        row["pass_brier"] = bool(row["brier_gap_pct"] <= BRIER_GAP_PCT_TARGET)
    return row


def print_table(results: dict) -> None:
    rows = [("dataset", "metric", "ours", "ours_raw", "flaml_lgbm", "flaml_dflt", "min ratio", "pass")]
    for name, e in results["datasets"].items():
        auc = e["metric"] == "auc"
        fmt = lambda v, auc=auc: "-" if v is None else f"{v:.4f}" if auc else f"{v:,.1f}"  # noqa: E731
        rows.append((name, e["metric"], fmt(e.get("ours")), fmt(e.get("ours_raw_auc")), fmt(e.get("flaml_lgbm")),
                     fmt(e.get("flaml_default")), "-" if "ratio" not in e else f"{e['ratio']:.4f}",
                     "-" if "pass" not in e else str(e["pass"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)), flush=True)
    for size, row in results.get("bayes_gap", {}).get("worlds", {}).items():
        print(f"bayes {size}: {row}", flush=True)


# ---------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Datasets: " + ", ".join(f"{k} ({v[0]}, task {v[1]})"
                                                                     for k, v in DATASETS.items()))
    parser.add_argument("--trials", type=int, default=25, help="trial budget per dataset per method and seed (ours: "
                        "Optuna trials, FLAML: max_iter)")
    parser.add_argument("--budget-s", type=float, default=60.0, help="seconds cap per dataset per method and seed "
                        "(ours: tuning safety cap, FLAML: time_budget)")
    parser.add_argument("--bayes-budget-s", type=float, default=120.0, help="seconds cap of the bayes_gap runs")
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--bayes-deals", nargs="+", type=int, default=[20_000, 200_000],
                        help="world sizes of the bayes_gap block")
    parser.add_argument("--skip-bayes", action="store_true", help="no bayes_gap block")
    parser.add_argument("--no-flaml-default", action="store_true", help="skip FLAML with its default estimators")
    parser.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44], help="model seeds (ours and FLAML)")
    parser.add_argument("--world-seed", type=int, default=42, help="seed of the simulated worlds (same splits)")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/cvre-tuning-bench"))
    parser.add_argument("--fresh", action="store_true", help="rebuild features even when the work dir has them")
    parser.add_argument("--cleanup", action="store_true", help="delete the work dir at the end")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "tuning.json")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("mlflow", "alembic", "flaml", "optuna", "urllib3", "git"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

    work = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    import flaml
    import lightgbm
    import optuna

    import cvre.features.pipeline  # noqa: F401 - import the measured code now, then fingerprint it
    import cvre.ingest.run  # noqa: F401
    import cvre.simulation.world  # noqa: F401
    import cvre.training.train  # noqa: F401

    code_at_start = code_fingerprint(CODE)

    results: dict = {
        "benchmark": "tuning",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "benchmarks/tuning.py",
                             *(argv if argv is not None else sys.argv[1:])]),
        "settings": {"budget_s": args.budget_s, "bayes_budget_s": args.bayes_budget_s, "seeds": args.seeds,
                     "world_seed": args.world_seed, "trials": args.trials, "n_jobs": 1, "work_dir": str(work),
                     "flaml": {"version": flaml.__version__, "metric": {"auc": "roc_auc", "rmse": "rmse"},
                               "estimator_list": ["lgbm"], "default_run": not args.no_flaml_default},
                     "lightgbm": lightgbm.__version__, "optuna": optuna.__version__},
        "notes": ["ratio >= 1.00 means ours is at least as good: auc ours/flaml_lgbm, rmse flaml_lgbm/ours",
                  "ours (auc) is the shipped, isotonic-calibrated probability; ours_raw_auc is the raw booster",
                  "FLAML gets X_val, so it evaluates on the same valid split and does not retrain on train+valid",
                  "ours wall_s includes refit, calibration, baselines, plots, SHAP and MLflow logging; "
                  "tune_s is the Optuna study alone"],
        "code": code_at_start,
        "machine": machine_info(),
        "prepare": {},
        "datasets": {},
    }

    def save() -> None:
        results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        now = code_fingerprint(CODE)
        results["code_changed_during_run"] = now["sha256"] != code_at_start["sha256"]
        if results["code_changed_during_run"]:  # the run keeps the code it imported at start
            results["code_on_disk_at_end"] = now
        write_result(results, args.out)

    sources = sorted({DATASETS[d][0] for d in args.datasets}, key=list(SOURCES).index)
    for name in sources:
        results["prepare"][name] = prepare_source(name, SOURCES[name], work, args.world_seed, not args.fresh)
        save()
    prepared = set(sources)  # built (or reused) by this run: never rebuilt later in it

    from cvre.training.data import load_task

    for name in args.datasets:
        source, task = DATASETS[name]
        features_dir = work / "features" / source
        data = load_task(features_dir, task)
        metric = "rmse" if task == "amount" else "auc"
        entry: dict = {"source": source, "task": task, "metric": metric, "budget_s": args.budget_s,
                       "trials": args.trials, "rows": {s: int(len(v)) for s, v in data.y.items()},
                       "n_features": len(data.features), "seeds": {}}
        if metric == "auc":
            entry["positive_rate"] = {s: round(float(v.mean()), 4) for s, v in data.y.items()}
        del data
        results["datasets"][name] = entry
        for seed in args.seeds:
            entry["seeds"][str(seed)] = run_seed(name, features_dir, task, metric, seed, args, work)
            summarise(entry)
            save()
        if "ratio" in entry:
            log(f"{name}: ratio min over seeds {entry['ratio']:.4f} -> {'PASS' if entry['pass'] else 'FAIL'}")

    if not args.skip_bayes:
        block: dict = {"budget_s": args.bayes_budget_s, "targets": {"auc_gap_max": AUC_GAP_TARGET,
                                                                   "brier_gap_pct_max": BRIER_GAP_PCT_TARGET},
                       "worlds": {}}
        results["bayes_gap"] = block
        for deals in args.bayes_deals:
            source = "sim20k" if deals == 20_000 else f"sim{deals // 1000}k" if deals % 1000 == 0 else f"sim{deals}"
            SOURCES.setdefault(source, {"kind": "simulate", "deals": deals})
            if source not in prepared:
                results["prepare"][source] = prepare_source(source, SOURCES[source], work, args.world_seed,
                                                            not args.fresh)
                prepared.add(source)
                save()
            features_dir = work / "features" / source
            for seed in args.seeds:
                key = f"{deals}_deals_seed{seed}"
                log(f"bayes {key}: ours win ({args.trials} trials, cap {args.bayes_budget_s:g} s)")
                try:
                    ours = run_ours(features_dir, "win", args.bayes_budget_s, work / "runs" / f"bayes-{source}-{seed}",
                                    seed, args.trials)
                    data = load_task(features_dir, "win")
                    row = {"deals": deals, "seed": seed, "rows": {s: int(len(v)) for s, v in data.y.items()},
                           **bayes_row(ours["metrics"]), **linear_row(ours["metrics"], "win"),
                           "raw_auc": ours.get("raw_auc"), "wall_s": ours["wall_s"], "tune_s": ours["tune_s"],
                           "trials": ours["trials"], "trials_pruned": ours["trials_pruned"],
                           "best_params": ours["best_params"]}
                    del data
                    log(f"bayes {key}: {row}")
                except Exception as exc:  # noqa: BLE001
                    log(f"bayes {key}: FAILED: {exc!r}")
                    row = {"deals": deals, "seed": seed, "error": repr(exc)}
                block["worlds"][key] = row
                save()
            if deals > 20_000:  # the big world's export is only needed to build its features
                shutil.rmtree(work / "worlds" / source, ignore_errors=True)
        worlds = [r for r in block["worlds"].values() if "auc_gap" in r]
        block["pass"] = bool(worlds) and all(r["pass_auc_gap"] and r["pass_brier"] for r in worlds)
        block["beats_linear_every_seed"] = bool(worlds) and all(r["beats_linear"] for r in worlds)

    save()
    print_table(results)
    log(f"wrote {args.out}")
    if args.cleanup:
        shutil.rmtree(work, ignore_errors=True)
        log(f"removed {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
