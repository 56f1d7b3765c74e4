"""Benchmark the leakage-driver attribution (`cvre explain`'s pred_contrib + euro aggregation) at 100k and 1M deals.

Simulating and featurising 1M deals is a benchmark of its own (benchmarks/features.py), so this one builds
synthetic feature frames instead: rows drawn with replacement from a small simulated world's deals (all
of them, open and closed) with seeded jitter on the continuous columns. The model is a registered one
(--model) or, by default, a fixed LightGBM booster (--trees x --leaves, isotonic calibration) trained on
that world. Each size runs in a fresh process whose wall time and peak RSS are recorded; the figure is
`attribution_s`: scoring every deal, pred_contrib over the attributed deals in batches, euros per deal and
feature, per-group sums, the per-deal table and the feature, group and segment summaries (`explain_deals`:
everything but the plots and the HTML).
Above `exact_max_deals` (explain.yaml) it attributes a seeded sample; --exact attributes every deal.
Results go to benchmarks/results/explain.json.

    .venv/bin/python benchmarks/explain.py                         # 100k and 1M deals
    .venv/bin/python benchmarks/explain.py --deals 100k            # quick
    .venv/bin/python benchmarks/explain.py --model models:/cvre-win@champion   # needs MLFLOW_TRACKING_URI
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (  # noqa: E402
    RESULTS_DIR,
    ensure_repo_on_path,
    machine_info,
    parse_deals,
    run_measured,
    write_result,
)

DEFAULT_DEALS = ["100000", "1000000"]
TARGET_DEALS, TARGET_SECONDS, TARGET_CORES = 1_000_000, 60.0, 2
JITTER = 0.1  # sd of the log-normal factor on continuous columns


def prepare(args: argparse.Namespace) -> Path:
    """Small world, its deals (all scopes) and a fixed booster with isotonic calibration, cached in workdir."""
    ensure_repo_on_path()
    import joblib
    import lightgbm as lgb
    import numpy as np
    from sklearn.isotonic import IsotonicRegression

    from cvre.analytics.run import scoped_deals
    from cvre.features.config import FeatureConfig
    from cvre.features.pipeline import build_features, resolve_as_of
    from cvre.simulation.config import SimulationConfig
    from cvre.simulation.world import simulate_world
    from cvre.training.data import load_task

    folder = Path(args.workdir) / f"explain-world{args.world_deals}-seed{args.seed}-t{args.trees}-l{args.leaves}"
    if (folder / "deals.parquet").exists():
        return folder
    world = folder / "world"
    simulate_world(SimulationConfig(deals=args.world_deals, seed=args.seed), world, progress=False)
    features = build_features(world, FeatureConfig()).out
    scoped_deals(world, resolve_as_of(world, FeatureConfig(), None), "all").to_parquet(folder / "deals.parquet")
    data = load_task(features, "win")
    params = {"objective": "binary", "num_leaves": args.leaves, "learning_rate": 0.05, "min_child_samples": 20,
              "verbosity": -1, "seed": args.seed, "deterministic": True, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(data.X["train"], data.y["train"]), num_boost_round=args.trees)
    calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(
        booster.predict(data.X["valid"]), data.y["valid"])
    booster.save_model(str(folder / "booster.txt"))
    joblib.dump(calibrator, folder / "calibrator.joblib")
    (folder / "spec.json").write_text(json.dumps({"task": "win", "features": data.features,
                                                  "categories": data.categories}))
    print(f"prepared {folder}: {booster.num_trees()} trees, AUC check "
          f"{np.corrcoef(booster.predict(data.X['test']), data.y['test'])[0, 1]:.3f} corr")
    return folder


def synthetic_deals(deals, rows: int, seed: int):
    """`rows` deals drawn with replacement, continuous columns jittered, fresh opportunity ids."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = deals.iloc[rng.integers(0, len(deals), rows)].reset_index(drop=True)
    for col in out.columns:
        values = out[col]
        if values.dtype.kind == "f" and values.nunique() > 2:
            out[col] = values * np.exp(rng.normal(0.0, JITTER, rows))
    out["opportunity_id"] = [f"SYN{i:08d}" for i in range(rows)]
    return out


def worker(args: argparse.Namespace) -> None:
    """Child process: explain `--rows` synthetic deals (`explain_deals`, no plots) and report JSON on --result."""
    ensure_repo_on_path()
    import pandas as pd
    import psutil

    from cvre.analytics.config import LeakageConfig
    from cvre.analytics.drivers.config import ExplainConfig
    from cvre.analytics.drivers.run import explain_deals
    from cvre.core.config import load_config

    cfg = load_config(ExplainConfig, None, "explain.yaml").model_copy(
        update={"n_jobs": args.n_jobs, "batch_rows": args.batch_rows, "seed": args.seed})
    if args.exact:
        cfg.exact_max_deals = None
    model = load_model(args)
    deals = synthetic_deals(pd.read_parquet(Path(args.prep) / "deals.parquet"), args.rows, args.seed)
    rss_before = psutil.Process().memory_info().rss / 2**20
    t0 = time.perf_counter()
    drivers = explain_deals(deals, model, cfg, LeakageConfig(scope="all"), progress=False)
    seconds = time.perf_counter() - t0
    h = drivers.headline
    Path(args.result).write_text(json.dumps({
        "rows": args.rows, "trees": model.booster.num_trees(), "features": drivers.X.shape[1],
        "attribution_s": seconds, "deals_per_s": args.rows / seconds, "rss_before_attribution_mb": round(rss_before, 1),
        "method": h["method"], "attributed_deals": h["attributed_deals"],
        "behaviour_cost_eur": h["behaviour_cost_eur"], "behaviour_cost_se_eur": h["behaviour_cost_se_eur"],
        "behaviour_cost_rel_95_margin": 1.96 * h["behaviour_cost_se_eur"] / h["behaviour_cost_eur"],
        "additivity_error": h["additivity_error"]}))


def load_model(args: argparse.Namespace):
    """The registered model (--model) or the prepared booster, both with .booster/.calibrator/.features."""
    if args.model:
        import mlflow

        return mlflow.pyfunc.load_model(args.model).unwrap_python_model()
    import joblib
    import lightgbm as lgb

    from cvre.training.model import CvreModel

    model = CvreModel()
    prep = Path(args.prep)
    model.spec = json.loads((prep / "spec.json").read_text())
    model.booster = lgb.Booster(model_file=str(prep / "booster.txt"))
    model.calibrator = joblib.load(prep / "calibrator.joblib")
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", nargs="+", default=DEFAULT_DEALS, help="sizes: 100000 100k 1M ...")
    parser.add_argument("--world-deals", type=int, default=5000, help="deals of the world the rows are drawn from")
    parser.add_argument("--trees", type=int, default=300, help="trees of the benchmark booster")
    parser.add_argument("--leaves", type=int, default=31, help="leaves per tree of the benchmark booster")
    parser.add_argument("--model", help="explain this MLflow model URI instead of the benchmark booster")
    parser.add_argument("--exact", action="store_true", help="attribute every deal (default: explain.yaml's "
                        "exact_max_deals / sample_deals)")
    parser.add_argument("--n-jobs", type=int, default=2, help="LightGBM threads")
    parser.add_argument("--batch-rows", type=int, default=100_000, help="deals per pred_contrib batch")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", default="/tmp/cvre-bench", help="cache of the world and booster")
    parser.add_argument("--cores", type=int, help="pin each worker to the first N CPUs (e.g. 2 for the target)")
    parser.add_argument("--timeout", type=float, default=480.0, help="seconds before a worker is killed")
    parser.add_argument("--out", default=str(RESULTS_DIR / "explain.json"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--prep", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    prep = prepare(args)
    runs = []
    for rows in parse_deals(args.deals):
        result = Path(args.workdir) / f"explain-{rows}.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--rows", str(rows), "--prep", str(prep),
               "--result", str(result), "--n-jobs", str(args.n_jobs), "--batch-rows", str(args.batch_rows),
               "--seed", str(args.seed), *(["--model", args.model] if args.model else []),
               *(["--exact"] if args.exact else [])]
        measured = run_measured(cmd, Path(args.workdir) / f"explain-{rows}.log", timeout_s=args.timeout,
                                cores=list(range(args.cores)) if args.cores else None)
        run = measured.as_dict() | (json.loads(result.read_text()) if measured.status == "ok" else {"rows": rows})
        runs.append(run)
        print(f"{rows:>9,} deals: {run.get('attribution_s', float('nan')):.1f}s attribution, "
              f"peak RSS {run['peak_rss_mb']:,.0f} MB, load {run['extra']['loadavg_1m_before']} [{run['status']}]")
    big = next((r for r in runs if r["rows"] == TARGET_DEALS and r["status"] == "ok"), None)
    write_result({"command": " ".join(sys.argv), "when": datetime.now(UTC).isoformat(timespec="seconds"),
                  "machine": machine_info(), "settings": {k: v for k, v in vars(args).items() if k not in
                                                          ("worker", "rows", "prep", "result")},
                  "runs": runs, "targets": {"1M_deals_60s_2_cores": None if big is None else {
                      "attribution_s": round(big["attribution_s"], 1), "pass": big["attribution_s"] <= TARGET_SECONDS,
                      "method": big["method"], "attributed_deals": big["attributed_deals"],
                      "n_jobs": args.n_jobs}}}, Path(args.out))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
