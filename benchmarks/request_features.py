"""Time a request's deal features in process: `deal_feature_rows` (one dict per deal) and, where the checkout has
it, `deal_feature_columns` (column by column), for 1 deal and a 1,000-deal request (issue 12: <= 15 ms at 1,000
deals, one deal well under 0.5 ms).

Uses the models and world of benchmarks/serving.py's store (`--work-dir`, as benchmarks/profile_scoring.py) and its
`make_deals` payloads, validated as the API does (`DealIn.model_validate`). `--old-src` times an older checkout's
code too (a `git worktree` of the commit before the change: its src/ goes first on PYTHONPATH in a child process).

    git worktree add --detach /tmp/old HEAD~1
    .venv/bin/python benchmarks/request_features.py --old-src /tmp/old/src

Results: benchmarks/results/request_features.json (median of --repeats; the 1-minute load average around each run).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS_DIR, machine_info, write_result  # noqa: E402
from serving import AS_OF, make_deals  # noqa: E402

TARGETS_MS = {"columns_1000": 15.0, "columns_1": 0.5}


def _median_ms(fn, repeats: int, calls: int = 1) -> dict:
    """Median and best of `repeats` timings of `calls` calls (per call, ms): wall time, and this process's CPU time
    (on a shared machine the CPU time leaves out the waits for a core)."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            fn()
        wall.append((time.perf_counter() - start) / calls)
        cpu.append((time.process_time() - start_cpu) / calls)
    wall.sort()
    return {"median_ms": round(1000 * wall[len(wall) // 2], 4), "min_ms": round(1000 * wall[0], 4),
            "cpu_median_ms": round(1000 * float(np.median(cpu)), 4), "repeats": repeats, "calls_per_repeat": calls}


def measure(work_dir: Path, repeats: int, single_calls: int) -> dict:
    """Time this process's `cvre` (whichever is first on the path) on the benchmark's deals."""
    import mlflow
    import pandas as pd

    from cvre.features import request
    from cvre.serving.config import ServingConfig
    from cvre.serving.models import load_deal_models
    from cvre.serving.schemas import DealIn

    mlflow.set_tracking_uri(f"sqlite:///{work_dir / 'mlflow.db'}")
    models = load_deal_models(ServingConfig())
    as_of = pd.Timestamp(AS_OF)
    ref, cfg = models.history.snapshot(as_of).request, models.spec.deals
    deals = [DealIn.model_validate(d) for d in make_deals(work_dir / "world", 1000, 42)]
    moment = as_of.to_pydatetime()
    events = sum(len(d.activities) + len(d.stage_history) + len(d.close_date_changes) for d in deals)
    out = {"source": request.__file__, "deals": len(deals), "events": events, "loadavg_1m_before": os.getloadavg()[0]}
    kinds = {"rows": request.deal_feature_rows}
    if hasattr(request, "deal_feature_columns"):
        kinds["columns"] = request.deal_feature_columns
    for name, fn in kinds.items():
        out[f"{name}_1000"] = _median_ms(lambda fn=fn: fn(deals, moment, ref, cfg), repeats)
        out[f"{name}_1"] = _median_ms(lambda fn=fn: fn(deals[:1], moment, ref, cfg), repeats, single_calls)
    out["loadavg_1m_after"] = os.getloadavg()[0]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work-dir", type=Path, default=Path("/tmp/cvre-serving-bench/deals10000-seed42"),
                   help="benchmarks/serving.py's work folder (its mlflow.db and world/)")
    p.add_argument("--old-src", type=Path, default=None, help="an older checkout's src/ to time as well")
    p.add_argument("--repeats", type=int, default=9, help="timed repeats per case (median reported)")
    p.add_argument("--single-calls", type=int, default=200, help="one-deal calls per timed repeat")
    p.add_argument("--child", action="store_true", help="measure only and print the JSON (for --old-src)")
    p.add_argument("--out", type=Path, default=RESULTS_DIR / "request_features.json", help="result file")
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.work_dir, args.repeats, args.single_calls)))
        return 0
    result = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine_info(),
              "command": " ".join(sys.argv), "targets_ms": TARGETS_MS}
    if args.old_src is not None:
        cmd = [sys.executable, __file__, "--child", "--work-dir", str(args.work_dir), "--repeats", str(args.repeats),
               "--single-calls", str(args.single_calls)]
        env = {**os.environ, "PYTHONPATH": str(args.old_src.resolve())}
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        result["old"] = json.loads(done.stdout.strip().splitlines()[-1])
    result["new"] = new = measure(args.work_dir, args.repeats, args.single_calls)
    if "columns_1000" in new:
        result["targets_met"] = {k: new[k]["median_ms"] <= v for k, v in TARGETS_MS.items()}
    write_result(result, args.out)
    for label in ("old", "new"):
        if label in result:
            print(label, {k: (v["median_ms"], v["cpu_median_ms"]) for k, v in result[label].items()
                          if isinstance(v, dict)},
                  f"load {result[label]['loadavg_1m_before']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
