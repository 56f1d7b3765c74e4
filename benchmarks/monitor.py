"""Benchmark `cvre monitor`'s assessment and reports on a large current batch (default 1M rows x 50 columns).

A fresh worker process builds a seeded synthetic reference (20k rows, as logged with a model) and a
current batch (40 numeric, 10 categorical feature columns and a score; 3 numeric and 1 categorical
column shifted), then times the full-data drift engine (`monitoring.assess.assess`) and the Evidently
report on its seeded sample (HTML + JSON). Peak RSS is the worker's own. The target: at most 60 s and
4 GB on 2 cores. Results go to benchmarks/results/monitor.json.

    .venv/bin/python benchmarks/monitor.py                 # 1M rows, pinned to 2 cores
    .venv/bin/python benchmarks/monitor.py --rows 100k     # quick
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS_DIR, ensure_repo_on_path, machine_info, parse_deals, run_measured, write_result  # noqa: E402

TARGET_ROWS, TARGET_SECONDS, TARGET_RSS_GB, TARGET_CORES = 1_000_000, 60.0, 4.0, 2
NUMERIC, CATEGORICAL, SHIFTED_NUMERIC, SHIFTED_CATEGORICAL = 40, 10, 3, 1


def synthetic(rows: int, seed: int, shift: bool):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    data = {}
    for i in range(NUMERIC):
        moved = shift and i < SHIFTED_NUMERIC
        data[f"num_{i}"] = rng.lognormal(0.5 if moved else 0.0, 1.0, rows).astype("float32") if i % 2 else \
            rng.normal(0.6 if moved else 0.0, 1.0, rows).astype("float32")
    for i in range(CATEGORICAL):
        p = [0.1, 0.2, 0.3, 0.4] if shift and i < SHIFTED_CATEGORICAL else [0.4, 0.3, 0.2, 0.1]
        data[f"cat_{i}"] = pd.Categorical(rng.choice(["a", "b", "c", "d"], rows, p=p))
    data["prediction"] = rng.beta(2, 2, rows).astype("float32")
    return pd.DataFrame(data)


def worker(args) -> None:
    began = time.perf_counter()
    ensure_repo_on_path()
    import pandas as pd

    from cvre.monitoring.assess import assess
    from cvre.monitoring.config import MonitorConfig
    from cvre.monitoring.evidently_report import build_snapshot
    from cvre.monitoring.run import _evidently_columns
    from cvre.training.drift_reference import Reference

    imported = time.perf_counter()
    cfg = MonitorConfig()
    scored = synthetic(20_000, args.seed, shift=False)
    features = [c for c in scored.columns if c != "prediction"]
    ref = Reference("win", features, {c: list("abcd") for c in features if c.startswith("cat_")}, scored,
                    pd.DataFrame(columns=[*features, "prediction", "label"]), pd.Timestamp("2024-12-31"))
    out = {"import_s": round(imported - began, 2)}
    for name, shift in (("shifted", True), ("no_shift", False)):
        current = synthetic(args.rows, args.seed + 1, shift=shift)
        t = time.perf_counter()
        a = assess(ref, current, None, cfg)
        engine = time.perf_counter() - t
        run = {"rows": len(current), "columns": current.shape[1], "engine_s": round(engine, 2),
               "drift_share": a.drift_share, "drifted": a.drifted}
        if name == "shifted":
            t = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                snapshot, error = build_snapshot(ref.scored, current, _evidently_columns(a, cfg.report.columns),
                                                 a.kinds, cfg.drift, cfg.report, cfg.seed)
                snapshot.save_html(f"{tmp}/report.html")
                snapshot.save_json(f"{tmp}/evidently.json")
            run |= {"evidently_s": round(time.perf_counter() - t, 2), "evidently_sampling_error": error,
                    "evidently_columns": cfg.report.columns + 1}
        out[name] = run
        del current
    out["worker_total_s"] = round(time.perf_counter() - began, 2)
    Path(args.result).write_text(json.dumps(out))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default="1M", help="current batch rows (1000, 100k, 1M); default: %(default)s")
    p.add_argument("--seed", type=int, default=42, help="seed of the synthetic data (default: %(default)s)")
    p.add_argument("--cores", type=int, default=TARGET_CORES, help="pin the worker to N CPUs (default: %(default)s)")
    p.add_argument("--output", default=str(RESULTS_DIR / "monitor.json"), help="result JSON (default: %(default)s)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.rows = parse_deals([args.rows])[0]
    if args.worker:
        worker(args)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        result_path = Path(tmp) / "worker.json"
        cmd = [sys.executable, __file__, "--worker", "--rows", str(args.rows), "--seed", str(args.seed),
               "--result", str(result_path)]
        measured = run_measured(cmd, Path(tmp) / "worker.log", cores=list(range(args.cores)),
                                max_rss_mb=3 * TARGET_RSS_GB * 1024, timeout_s=600)
        inner = json.loads(result_path.read_text()) if result_path.exists() else {}
    wall = measured.wall_s
    data = {"benchmark": "monitor", "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join([sys.executable, *sys.argv]), "machine": machine_info(),
            "method": "fresh pinned worker; wall_s includes interpreter start and imports (evidently ~10-20 s); "
                      "engine_s = full-data drift of every column; evidently_s = Evidently on its seeded sample",
            "run": measured.as_dict() | {"worker": inner},
            "targets": {"1M_rows_60s_4GB": {
                "target": f"{TARGET_ROWS:,} rows x 50 columns in <= {TARGET_SECONDS:.0f} s and {TARGET_RSS_GB:.0f} GB "
                          f"on {TARGET_CORES} cores",
                "rows": args.rows, "cores": args.cores, "wall_s": round(wall, 2), "peak_rss_mb": measured.peak_rss_mb,
                "pass": (measured.status == "ok" and args.rows >= TARGET_ROWS and wall <= TARGET_SECONDS
                         and measured.peak_rss_mb <= TARGET_RSS_GB * 1024)}}}
    path = write_result(data, args.output)
    print(f"[monitor] wrote {path}: wall {wall:.1f}s, peak {measured.peak_rss_mb:.0f} MB, status {measured.status}, "
          f"load {measured.extra.get('loadavg_1m_before')} -> {measured.extra.get('loadavg_1m_after')}")
    print(f"[monitor] worker: {json.dumps(inner)}")
    return 0 if measured.status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
