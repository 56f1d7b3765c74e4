"""Benchmark the scoring API: our BentoML service vs `mlflow models serve` of the same model, in one run.

One run, one freshly trained model pair in a temp MLflow store (simulate --deals, build features, a quick
train), the same deals for every target:

- in process: one deal from its JSON payload to probability, amount, reasons and warnings (`score_deals`), median;
- ours: `bentoml serve cvre.serving.service:CvreScoring` (deals in the canonical CRM form: features from the
  payload and the model's reference, calibrated probability, amount, EV, leaked euros, reasons and warnings);
- mlflow: `mlflow models serve --env-manager local` of the same registered cvre-win version (its pyfunc takes
  the deals' ready feature rows, `dataframe_split`, and returns probabilities only);
- floor: in-process `booster.predict` of the win model on the same feature rows.

The load generator is wrk (Debian's; this script runs `apt-get install -y wrk` when it is missing) with
benchmarks/wrk_post.lua: single deals paced at `--rate` per second over `--requests` requests, then
closed-loop throughput at `--concurrency` connections for both servers, then batches of `--batch-sizes`
deals one after another. The machine is shared: the 1-minute load average is recorded around each run.

    .venv/bin/python benchmarks/serving.py --quick          # ~3 min: 5k deals, 1000 paced requests
    .venv/bin/python benchmarks/serving.py                  # full: 10k deals, 10k requests at 100/s
    .venv/bin/python benchmarks/serving.py --help

Results: benchmarks/results/serving.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import REPO, RESULTS_DIR, code_fingerprint, ensure_repo_on_path, machine_info, write_result  # noqa: E402

ensure_repo_on_path()  # benchmarks/features.py must not shadow the `features` package

import httpx  # noqa: E402
import numpy as np  # noqa: E402

AS_OF = "2025-01-15T00:00:00"
BIN = Path(sys.executable).parent
TARGETS = {"in_process_p50_ms": 2.0, "single_p99_ms_at_100rps": 15.0, "throughput_vs_mlflow": 5.0,
           "batch_1000_rows_per_s_vs_mlflow": 1.0}
UNLIMITED = 10**9  # requests: the run ends by its time
LUA = Path(__file__).resolve().parent / "wrk_post.lua"


def log(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def prepare_registry(work: Path, deals: int, seed: int, reuse: bool) -> str:
    """Simulate, build features and train win + amount (quick search) into work/mlflow.db; its tracking URI."""
    uri = f"sqlite:///{work / 'mlflow.db'}"
    if reuse and (work / "ready").exists():
        return uri
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    from cvre.features.config import FeatureConfig
    from cvre.features.pipeline import build_features
    from cvre.simulation.config import SimulationConfig
    from cvre.simulation.world import simulate_world
    from cvre.training.config import TrainingConfig
    from cvre.training.tracking import setup_tracking
    from cvre.training.train import train_task

    simulate_world(SimulationConfig(deals=deals, seed=seed), work / "world", progress=False)
    features = build_features(work / "world", FeatureConfig(), out=work / "features").out
    cfg = TrainingConfig(seed=seed)
    cfg.tuning.trials, cfg.tuning.num_boost_round, cfg.tuning.early_stopping_rounds = 3, 300, 20
    cfg.tuning.storage = f"sqlite:///{work / 'optuna.db'}"
    cfg.tracking.tracking_uri, cfg.tracking.artifact_root = uri, str(work / "artifacts")
    for task in (cfg.win, cfg.amount):
        task.baseline_margin, task.auc_tolerance = -1.0, 1.0  # promote whatever the quick search gives
    setup_tracking(cfg.tracking)
    for task in ("win", "amount"):
        train_task(features, task, cfg)
    (work / "ready").touch()
    return uri


def make_deals(world: Path, n: int, seed: int) -> list[dict]:
    """`n` open deals in the API's form, with owners, accounts and products of the simulated world."""
    import pandas as pd

    opps = pd.read_parquet(world / "export" / "opportunities.parquet") if (world / "export").exists() else \
        pd.read_parquet(next(world.rglob("opportunities.parquet")))
    rng = np.random.default_rng(seed)
    owners, accounts = opps["owner_id"].dropna().unique(), opps["account_id"].dropna().unique()
    products = opps["product"].dropna().unique()
    stages = ["prospecting", "qualification", "proposal", "negotiation"]
    base = pd.Timestamp("2024-10-01")
    out = []
    for i in range(n):
        created = base + pd.Timedelta(days=int(rng.integers(0, 90)))
        reached = int(rng.integers(0, 4))
        history = [{"stage": stages[k], "entered_at": str(created + pd.Timedelta(days=7 * k))}
                   for k in range(reached + 1)]
        acts = [{"activity_type": str(rng.choice(["call", "email", "meeting"])), "logged": bool(rng.random() < 0.8),
                 "occurred_at": str(created + pd.Timedelta(hours=int(rng.integers(1, 24 * 60))))}
                for _ in range(int(rng.integers(0, 12)))]
        out.append({"opportunity_id": f"BENCH-{i}", "account_id": str(rng.choice(accounts)),
                    "owner_id": str(rng.choice(owners)), "product": str(rng.choice(products)), "business_type": "new",
                    "created_at": str(created), "stage": stages[reached],
                    "amount": None if rng.random() < 0.1 else float(rng.integers(1, 100) * 500),
                    "expected_close_date": str(created + pd.Timedelta(days=int(rng.integers(30, 150)))),
                    "stage_history": history, "activities": acts,
                    "lead": {"lead_id": f"BL-{i}", "source": "web", "created_at": str(created - pd.Timedelta(days=3)),
                             "first_response_at": str(created - pd.Timedelta(days=2))} if rng.random() < 0.7 else None})
    return out


def feature_rows(deals: list[dict], uri: str):
    """The deals' model input (what the mlflow server takes), the floor's timings of booster.predict, and the
    in-process time of one deal from payload to score."""
    import mlflow
    import pandas as pd

    from cvre.core.rules import load_rules
    from cvre.serving.config import ServingConfig
    from cvre.serving.models import load_deal_models
    from cvre.serving.schemas import DealIn
    from cvre.serving.scoring import deal_feature_columns, score_deals

    mlflow.set_tracking_uri(uri)
    models = load_deal_models(ServingConfig())
    as_of, rules = pd.Timestamp(AS_OF), load_rules()
    rows = pd.DataFrame(deal_feature_columns([DealIn.model_validate(d) for d in deals], models, as_of))
    raw = rows[models.win.spec["features"]]
    X = models.win.features(rows)
    floor = {}
    for size in (1, 100, 1000):
        reps = max(3, 2000 // size)
        times = []
        for r in range(reps):
            chunk = X.iloc[(r * size) % max(len(X) - size, 1):][:size]
            start = time.perf_counter()
            models.win.booster.predict(chunk, num_threads=1)
            times.append(time.perf_counter() - start)
        floor[str(size)] = {"p50_ms": round(1000 * float(np.median(times)), 3),
                            "per_row_ms": round(1000 * float(np.median(times)) / size, 4)}
    score_deals([DealIn.model_validate(deals[0])], models, as_of, rules)  # the reference is indexed once
    times = []
    for d in deals:
        start = time.perf_counter()
        (score,) = score_deals([DealIn.model_validate(d)], models, as_of, rules)
        times.append(time.perf_counter() - start)
        assert score["status"] == "scored", score
    in_process = {"deals": len(times), "p50_ms": round(1000 * float(np.median(times)), 3),
                  "p90_ms": round(1000 * float(np.percentile(times, 90)), 3),
                  "p99_ms": round(1000 * float(np.percentile(times, 99)), 3), "loadavg_1m": loadavg()}
    return raw, floor, in_process, models.versions


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(cmd: list[str], env: dict, ready_url: str, log_path: Path):
    with open(log_path, "w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            deadline = time.time() + 180
            while time.time() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(f"{cmd[0]} exited: {log_path.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(ready_url, timeout=2).status_code == 200:
                        break
                time.sleep(0.5)
            else:
                raise RuntimeError(f"not ready: {log_path.read_text()[-2000:]}")
            yield proc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 15)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=20)


def ensure_wrk() -> str:
    """wrk's path; installed with apt-get when missing (the benchmark's own setup: tests never need it)."""
    found = shutil.which("wrk")
    if found is None:
        log("wrk missing: apt-get install -y wrk")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    return found


def wrk(url: str, path: str, bodies: list[str], work: Path, connections: int, requests: int,
        delay_ms: float = 0.0, threads: int = 1, seconds: float = 30.0) -> dict:
    """One wrk run: up to `requests` POSTs of `bodies` round robin within `seconds`; `delay_ms` > 0: each wrk
    thread sends one every `delay_ms` (a fixed rate), else as fast as answers come."""
    body_file = work / f"bodies-{abs(hash((path, len(bodies), bodies[0][:64])))}.jsonl"
    body_file.write_text("\n".join(bodies) + "\n")
    threads = min(threads, connections)
    before = loadavg()
    cmd = [ensure_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{int(seconds)}s", "--timeout", "60s", "-s",
           str(LUA), url, "--", str(body_file), path, str(delay_ms), str(max(1, requests // threads))]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    stats = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    stats["errors"] = sum(v for k, v in stats.items() if k.startswith("errors_"))
    ran = stats["busy_s"] if stats["requests"] >= requests else stats["duration_s"]  # stopped by count, or by time
    stats["requests_per_s"] = round(stats["requests"] / max(ran, 1), 1)
    return stats | {"connections": connections, "delay_ms": delay_ms, "loadavg_1m_before": before,
                    "loadavg_1m_after": loadavg(), "command": " ".join(cmd)}


def run_target(name: str, url: str, path: str, single: list[str], batches: dict[int, str], work: Path,
               args: argparse.Namespace, paced: bool) -> dict:
    out: dict = {}
    wrk(url, path, single[:50], work, 1, 50, seconds=5)  # warm up
    if paced:
        delay = 1000.0 * 2 / args.rate  # two threads, each due every `delay` ms
        log(f"{name}: {args.requests} single-deal requests paced at ~{args.rate:g}/s ({args.connections} connections)")
        out["paced"] = wrk(url, path, single, work, args.connections, args.requests, delay, threads=2,
                           seconds=args.requests / args.rate * 1.3 + 5)
    log(f"{name}: throughput, single-deal requests at {args.concurrency} connections for {args.seconds:g} s")
    out["throughput_single"] = wrk(url, path, single, work, args.concurrency, UNLIMITED, threads=2,
                                   seconds=args.seconds)
    out["throughput_single"]["rows_per_s"] = out["throughput_single"]["requests_per_s"]
    out["batches"] = {}
    for size, body in batches.items():
        log(f"{name}: batches of {size} one after another for {args.seconds:g} s")
        stats = wrk(url, path, [body], work, 1, UNLIMITED, seconds=args.seconds)
        out["batches"][str(size)] = stats | {"rows_per_s": round(stats["requests_per_s"] * size, 1)}
    return out


def judge(results: dict, in_process: dict) -> dict:
    ours, mlf = results["ours"], results.get("mlflow")
    judged = {"in_process_p50_ms": {"value": in_process["p50_ms"],
                                    "pass": in_process["p50_ms"] <= TARGETS["in_process_p50_ms"]}}
    paced = ours.get("paced")
    if paced:
        judged["single_p99_ms_at_100rps"] = {
            "value": paced["p99_ms"], "errors": paced["errors"], "requests": paced["requests"],
            "requests_per_s": paced["requests_per_s"],
            "pass": paced["p99_ms"] <= TARGETS["single_p99_ms_at_100rps"] and paced["errors"] == 0
            and paced["requests"] >= 10_000}
    if mlf:
        ratio = ours["throughput_single"]["rows_per_s"] / max(mlf["throughput_single"]["rows_per_s"], 1e-9)
        judged["throughput_vs_mlflow"] = {"value": round(ratio, 2), "pass": ratio >= TARGETS["throughput_vs_mlflow"]}
        if "1000" in ours["batches"] and "1000" in mlf["batches"]:
            ratio = ours["batches"]["1000"]["rows_per_s"] / max(mlf["batches"]["1000"]["rows_per_s"], 1e-9)
            judged["batch_1000_rows_per_s_vs_mlflow"] = {"value": round(ratio, 2),
                                                         "pass": ratio >= TARGETS["batch_1000_rows_per_s_vs_mlflow"]}
    return judged


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--quick", action="store_true", help="short run: 5k deals, 1000 paced requests, fewer batches")
    p.add_argument("--deals", type=int, default=None, help="deals simulated for training (default 10000, quick 5000)")
    p.add_argument("--requests", type=int, default=None, help="paced single-deal requests (default 10000)")
    p.add_argument("--rate", type=float, default=100.0, help="paced request rate per second")
    p.add_argument("--connections", type=int, default=32, help="connections of the paced run (enough to keep "
                   "the rate while answers are slow)")
    p.add_argument("--concurrency", type=int, default=8, help="connections of the closed-loop throughput run")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[100, 1000], help="deals per batch request")
    p.add_argument("--seconds", type=float, default=30.0, help="length of each throughput and batch run")
    p.add_argument("--workers", type=int, default=1, help="BentoML workers of our server (serving.yaml workers)")
    p.add_argument("--skip-mlflow", action="store_true", help="do not measure `mlflow models serve`")
    p.add_argument("--seed", type=int, default=42, help="simulation, training and payload seed")
    p.add_argument("--work-dir", type=Path, default=Path("/tmp/cvre-serving-bench"), help="temp store and logs")
    p.add_argument("--reuse", action="store_true", help="reuse the trained models of an earlier run in --work-dir")
    p.add_argument("--out", type=Path, default=RESULTS_DIR / "serving.json", help="result JSON")
    args = p.parse_args(argv)
    q = args.quick
    deals = args.deals or (5_000 if q else 10_000)
    args.requests = args.requests or (1_000 if q else 10_000)
    args.seconds = 10.0 if q and args.seconds == 30.0 else args.seconds
    work = args.work_dir / f"deals{deals}-seed{args.seed}"
    started = datetime.now(UTC)

    log(f"preparing models ({deals} deals) in {work}")
    uri = prepare_registry(work, deals, args.seed, args.reuse)
    pool = make_deals(work / "world", max(args.batch_sizes + [2000]), args.seed)
    raw, floor, in_process, versions = feature_rows(pool, uri)
    log(f"floor (booster.predict): {floor}; in process, one deal: {in_process}")
    single = [json.dumps({"deals": [d], "as_of": AS_OF}) for d in pool]
    batches = {s: json.dumps({"deals": pool[:s], "as_of": AS_OF}) for s in args.batch_sizes}

    results: dict = {}
    env = {"MLFLOW_TRACKING_URI": uri, "BENTOML_HOME": str(work / "bentoml"), "BENTOML_DO_NOT_TRACK": "true",
           "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    config = work / "serving.yaml"
    serving_cfg = {"tracking_uri": uri, "max_batch_size": max(args.batch_sizes), "scoring_log_dir": None,
                   "workers": args.workers}
    config.write_text(json.dumps(serving_cfg))
    from cvre.serving.config import ServingConfig, bentoml_overrides

    overrides = bentoml_overrides(ServingConfig.model_validate(serving_cfg))  # as `cvre serve` starts it
    port = free_port()
    with server([str(BIN / "bentoml"), "serve", "cvre.serving.service:CvreScoring", "--host", "127.0.0.1", "--port",
                 str(port)], env | {"CVRE_SERVING_CONFIG": str(config), "CVRE_API_KEY": "",
                                    "BENTOML_CONFIG_OVERRIDES": overrides},
                f"http://127.0.0.1:{port}/readyz", work / "bentoml.log"):
        results["ours"] = run_target("ours", f"http://127.0.0.1:{port}", "/score_deals", single, batches, work, args,
                                     paced=True)

    if not args.skip_mlflow:
        port = free_port()
        records = raw.astype(object).where(raw.notna(), None)
        split = lambda frame: json.dumps({"dataframe_split": {"columns": list(frame.columns),  # noqa: E731
                                                              "data": frame.to_numpy().tolist()}})
        m_single = [split(records.iloc[[i]]) for i in range(len(records))]
        m_batches = {s: split(records.iloc[:s]) for s in args.batch_sizes}
        with server([str(BIN / "mlflow"), "models", "serve", "-m", f"models:/cvre-win/{versions['cvre-win']}",
                     "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)], env,
                    f"http://127.0.0.1:{port}/ping", work / "mlflow.log"):
            results["mlflow"] = run_target("mlflow", f"http://127.0.0.1:{port}", "/invocations", m_single,
                                           m_batches, work, args, paced=False)

    data = {"benchmark": "serving", "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "started": started.isoformat(timespec="seconds"), "machine": machine_info(),
            "code": code_fingerprint(("core", "features", "training", "serving")),
            "note": "a shared 2-core machine: other work ran alongside (loadavg_1m around each run)",
            "settings": {"deals_trained": deals, "paced_requests": args.requests, "rate": args.rate,
                         "connections": args.connections, "concurrency": args.concurrency, "workers": args.workers,
                         "seconds_per_run": args.seconds, "batch_sizes": args.batch_sizes, "quick": q, "as_of": AS_OF,
                         "models": versions,
                         "load_generator": subprocess.run([ensure_wrk(), "-v"], stdout=subprocess.PIPE,
                                                          stderr=subprocess.STDOUT, text=True).stdout.split("\n")[0]},
            "in_process": in_process, "floor_booster_predict": floor, "results": results,
            "targets": judge(results, in_process)}
    path = write_result(data, args.out)
    log(f"wrote {path}")
    print(json.dumps(data["targets"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
