"""Benchmark the scoring API: our BentoML service vs `mlflow models serve` of the same model, and the floor.

One run, one freshly trained model pair in a temp MLflow store (simulate --deals, build features, a quick
train), the same deals for every target:

- ours: `bentoml serve cvre.serving.service:CvreScoring` (deals in the canonical CRM form: features, calibrated
  probability, amount, reasons and warnings per deal, adaptive batching as in configs/serving.yaml);
- mlflow: `mlflow models serve --env-manager local` of the same registered cvre-win version (its pyfunc takes
  the deals' feature rows, `dataframe_split`, and returns probabilities only);
- floor: in-process `booster.predict` of the win model on the same feature rows.

Single-deal requests go open-loop at fixed rates (`--rates`, requests sent on schedule whatever the answers;
latency counts from the scheduled time), then closed-loop at `--concurrency` for throughput; batches of
`--batch-sizes` deals go one after another. Latency p50/p95/p99, throughput and error counts per target.

    .venv/bin/python benchmarks/serving.py --quick          # ~3 min: 5k deals, 1000 requests at 100/s
    .venv/bin/python benchmarks/serving.py                  # full: 10k deals, 10k requests at 100/s
    .venv/bin/python benchmarks/serving.py --help

Results: benchmarks/results/serving.json.
"""

from __future__ import annotations

import argparse
import asyncio
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
TARGETS = {"single_p99_ms_at_100rps": 15.0, "throughput_vs_mlflow": 5.0, "per_row_overhead_ms": 2.0}


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
    """The deals' model input (what the mlflow server takes) and the floor's timings of booster.predict."""
    import mlflow
    import pandas as pd

    from cvre.serving.config import ServingConfig
    from cvre.serving.models import load_deal_models
    from cvre.serving.schemas import DealIn
    from cvre.serving.scoring import deal_feature_rows

    mlflow.set_tracking_uri(uri)
    cfg = ServingConfig()
    models = load_deal_models(cfg)
    rows = deal_feature_rows([DealIn.model_validate(d) for d in deals], models.history, pd.Timestamp(AS_OF),
                             cfg.deals)
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
    return raw, floor, models.versions


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


def summary(latencies: list[float], errors: int, wall: float, rows_per_request: int) -> dict:
    lat = np.array(latencies) * 1000 if latencies else np.array([np.nan])
    done = len(latencies)
    return {"requests": done + errors, "errors": errors, "wall_s": round(wall, 2),
            "p50_ms": round(float(np.percentile(lat, 50)), 2), "p95_ms": round(float(np.percentile(lat, 95)), 2),
            "p99_ms": round(float(np.percentile(lat, 99)), 2), "max_ms": round(float(np.max(lat)), 2),
            "requests_per_s": round(done / wall, 1), "rows_per_s": round(done * rows_per_request / wall, 1)}


async def _send(client: httpx.AsyncClient, path: str, body: dict) -> bool:
    try:
        response = await client.post(path, json=body)
        return response.status_code == 200
    except httpx.HTTPError:
        return False


async def open_loop(url: str, path: str, bodies: list[dict], rate: float, rows: int) -> dict:
    """Request i is sent at start + i / rate; its latency counts from then (no coordinated omission)."""
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        latencies, errors = [], 0
        start = time.perf_counter() + 0.05

        async def one(i: int):
            nonlocal errors
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            ok = await _send(client, path, bodies[i % len(bodies)])
            if ok:
                latencies.append(time.perf_counter() - (start + i / rate))
            else:
                errors += 1

        n = len(bodies)
        await asyncio.gather(*(one(i) for i in range(n)))
        return summary(latencies, errors, time.perf_counter() - start, rows) | {"rate": rate}


async def closed_loop(url: str, path: str, bodies: list[dict], concurrency: int, rows: int) -> dict:
    """`concurrency` clients, each sending its next request when the last is answered."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        latencies, errors, queue = [], 0, list(range(len(bodies)))
        start = time.perf_counter()

        async def worker():
            nonlocal errors
            while queue:
                body = bodies[queue.pop()]
                sent = time.perf_counter()
                if await _send(client, path, body):
                    latencies.append(time.perf_counter() - sent)
                else:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return summary(latencies, errors, time.perf_counter() - start, rows) | {"concurrency": concurrency}


def run_target(name: str, url: str, path: str, single: list[dict], batches: dict[int, list[dict]],
               args: argparse.Namespace) -> dict:
    out: dict = {"open_loop": [], "loadavg_1m_before": loadavg()}
    warm = single[: min(50, len(single))]
    asyncio.run(closed_loop(url, path, warm, 1, 1))
    for rate in args.rates:
        log(f"{name}: {len(single)} single-deal requests at {rate}/s")
        out["open_loop"].append(asyncio.run(open_loop(url, path, single, rate, 1)))
    log(f"{name}: closed loop, concurrency {args.concurrency}")
    out["throughput_single"] = asyncio.run(closed_loop(url, path, single[: args.throughput_requests],
                                                       args.concurrency, 1))
    out["batches"] = {}
    for size, bodies in batches.items():
        log(f"{name}: {len(bodies)} batches of {size}")
        out["batches"][str(size)] = asyncio.run(closed_loop(url, path, bodies, 1, size))
    out["loadavg_1m_after"] = loadavg()
    return out


def judge(results: dict, floor: dict) -> dict:
    ours, mlf = results["ours"], results.get("mlflow")
    at_100 = next((r for r in ours["open_loop"] if r["rate"] == 100), None)
    judged = {}
    if at_100:
        judged["single_p99_ms_at_100rps"] = {"value": at_100["p99_ms"], "errors": at_100["errors"],
                                             "requests": at_100["requests"],
                                             "pass": at_100["p99_ms"] <= TARGETS["single_p99_ms_at_100rps"]
                                             and at_100["errors"] == 0 and at_100["requests"] >= 10_000}
    if mlf:
        ratio = ours["throughput_single"]["rows_per_s"] / max(mlf["throughput_single"]["rows_per_s"], 1e-9)
        judged["throughput_vs_mlflow"] = {"value": round(ratio, 2), "pass": ratio >= TARGETS["throughput_vs_mlflow"]}
    overhead = {}
    for size, stats in ours["batches"].items():
        overhead[size] = round(stats["p50_ms"] / int(size) - floor.get(size, floor["1"])["per_row_ms"], 3)
    overhead["1"] = round(ours["throughput_single"]["p50_ms"] - floor["1"]["p50_ms"], 3)
    judged["per_row_overhead_ms"] = {"by_batch_size": overhead, "value": min(overhead.values()),
                                     "pass": min(overhead.values()) <= TARGETS["per_row_overhead_ms"]}
    return judged


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--quick", action="store_true", help="short run: 5k deals, 1000 requests per rate, fewer batches")
    p.add_argument("--deals", type=int, default=None, help="deals simulated for training (default 10000, quick 5000)")
    p.add_argument("--requests", type=int, default=None, help="single-deal requests per rate (default 10000)")
    p.add_argument("--rates", type=float, nargs="+", default=[100.0], help="open-loop request rates per second")
    p.add_argument("--concurrency", type=int, default=8, help="clients of the closed-loop throughput run")
    p.add_argument("--throughput-requests", type=int, default=None, help="requests of the throughput run")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[100, 1000], help="deals per batch request")
    p.add_argument("--batches", type=int, default=None, help="requests per batch size (default 30, quick 5)")
    p.add_argument("--skip-mlflow", action="store_true", help="do not measure `mlflow models serve`")
    p.add_argument("--seed", type=int, default=42, help="simulation, training and payload seed")
    p.add_argument("--work-dir", type=Path, default=Path("/tmp/cvre-serving-bench"), help="temp store and logs")
    p.add_argument("--reuse", action="store_true", help="reuse the trained models of an earlier run in --work-dir")
    p.add_argument("--out", type=Path, default=RESULTS_DIR / "serving.json", help="result JSON")
    args = p.parse_args(argv)
    q = args.quick
    deals = args.deals or (5_000 if q else 10_000)
    n_single = args.requests or (1_000 if q else 10_000)
    args.throughput_requests = args.throughput_requests or (300 if q else 2_000)
    n_batches = args.batches or (5 if q else 30)
    work = args.work_dir / f"deals{deals}-seed{args.seed}"
    started = datetime.now(UTC)

    log(f"preparing models ({deals} deals) in {work}")
    uri = prepare_registry(work, deals, args.seed, args.reuse)
    pool = make_deals(work / "world", max(args.batch_sizes + [1000]), args.seed)
    single = [{"deals": [d], "as_of": AS_OF} for d in pool]
    single = [single[i % len(single)] for i in range(n_single)]
    batches = {s: [{"deals": pool[:s], "as_of": AS_OF}] * n_batches for s in args.batch_sizes}
    raw, floor, versions = feature_rows(pool, uri)
    log(f"floor (booster.predict): {floor}")

    results: dict = {}
    env = {"MLFLOW_TRACKING_URI": uri, "BENTOML_HOME": str(work / "bentoml"), "BENTOML_DO_NOT_TRACK": "true",
           "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    config = work / "serving.yaml"
    config.write_text(json.dumps({"tracking_uri": uri, "max_batch_size": max(args.batch_sizes),
                                  "scoring_log_dir": None}))
    port = free_port()
    with server([str(BIN / "bentoml"), "serve", "cvre.serving.service:CvreScoring", "--host", "127.0.0.1", "--port",
                 str(port)], env | {"CVRE_SERVING_CONFIG": str(config), "CVRE_API_KEY": ""},
                f"http://127.0.0.1:{port}/readyz", work / "bentoml.log"):
        results["ours"] = run_target("ours", f"http://127.0.0.1:{port}", "/score_deals", single, batches, args)

    if not args.skip_mlflow:
        port = free_port()
        records = raw.astype(object).where(raw.notna(), None)
        split = lambda frame: {"dataframe_split": {"columns": list(frame.columns),  # noqa: E731
                                                   "data": frame.to_numpy().tolist()}}
        m_single = [split(records.iloc[[i % len(records)]]) for i in range(n_single)]
        m_batches = {s: [split(records.iloc[:s])] * n_batches for s in args.batch_sizes}
        with server([str(BIN / "mlflow"), "models", "serve", "-m", f"models:/cvre-win/{versions['cvre-win']}",
                     "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)], env,
                    f"http://127.0.0.1:{port}/ping", work / "mlflow.log"):
            results["mlflow"] = run_target("mlflow", f"http://127.0.0.1:{port}", "/invocations", m_single,
                                           m_batches, args)

    data = {"benchmark": "serving", "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "started": started.isoformat(timespec="seconds"), "machine": machine_info(),
            "code": code_fingerprint(("core", "features", "training", "serving")),
            "settings": {"deals_trained": deals, "single_requests": n_single, "rates": args.rates,
                         "concurrency": args.concurrency, "throughput_requests": args.throughput_requests,
                         "batch_sizes": args.batch_sizes, "batches": n_batches, "quick": q, "as_of": AS_OF,
                         "models": versions},
            "floor_booster_predict": floor, "results": results, "targets": judge(results, floor)}
    path = write_result(data, args.out)
    log(f"wrote {path}")
    print(json.dumps(data["targets"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
