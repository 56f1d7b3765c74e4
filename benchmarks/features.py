"""Benchmark the feature pipeline (`build_features`) on simulated worlds of growing size.

For each size the world is simulated first (in its own subprocess, not part of the figure; reused
with --reuse when its folder exists), then `build_features` runs in a fresh Python process whose
wall time and peak RSS (process tree) are the figure. The worker also times the main steps of the
pipeline by wrapping its functions (the features code is not modified), so a missed target says
where the time and memory went. Results go to benchmarks/results/features.json.

    .venv/bin/python benchmarks/features.py                        # 100k and 1M deals
    .venv/bin/python benchmarks/features.py --deals 1000 20000     # quick
    .venv/bin/python benchmarks/features.py --deals 1M --reuse --cprofile
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (  # noqa: E402
    RESULTS_DIR,
    code_fingerprint,
    disk_usage,
    ensure_repo_on_path,
    install_sections,
    machine_info,
    parse_deals,
    run_measured,
    write_result,
)

DEFAULT_DEALS = ["100000", "1000000"]
TARGET_DEALS, TARGET_SECONDS, TARGET_RSS_GB, TARGET_CORES = 1_000_000, 60.0, 6.0, 2
TARGET_ACTIVITIES = 20_000_000

# Functions wrapped in the worker: (module, names, positional argument naming the table or None).
# Parquet writes run on a second thread: `_write` times the hand-off; the write overlaps the steps after it.
# Nested calls are reported as parent/child paths, e.g. "_client_tables/tables_as_of/table_as_of[x]".
SECTIONS = [
    ("cvre.features.pipeline", ["read_tables", "read_polars", "as_polars", "tables_as_of", "polars_as_of",
                                "normalise_categories", "build_deal_features", "_write_splits", "_write",
                                "_client_tables", "_client_truth", "client_features", "check_contract",
                                "campaign_funnel", "contact_engagement", "compare_by", "churn_labels"], None),
    ("cvre.features.deal_table", ["deal_cutoffs", "deal_activities", "stage_features", "activity_features",
                                  "lead_features", "close_date_features", "observed_stage_features"], None),
    ("cvre.features.clients", ["_purchases", "rfm_scores", "_deal_history", "_back_office", "_support",
                               "_engagement"], None),
    ("cvre.features.snapshot", ["table_as_of"], 1),
    ("cvre.core.io", ["read_table"], 1),
    ("cvre.features.pipeline", ["read_table"], 1),
]


def worker(args: argparse.Namespace) -> None:
    """Child process: build the features of one world, report timings as JSON on --result."""
    began = time.perf_counter()
    ensure_repo_on_path()
    from cvre.features.config import FeatureConfig
    from cvre.features.pipeline import build_features

    imported = time.perf_counter()
    sections = None
    if not args.no_sections:
        sections = install_sections(args.result, SECTIONS)
    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    run = build_features(Path(args.data), FeatureConfig(), out=Path(args.out))
    built = time.perf_counter() - t0
    result = {"import_s": imported - began, "build_features_s": built, "rows": run.rows,
              "warnings": run.warnings, "as_of": str(run.as_of)}
    if profiler:
        profiler.disable()
        result["cprofile"] = _top_functions(profiler, args.cprofile_top)
    if sections:
        result["sections"] = sections.stop()
        result["worker_peak_rss_mb_sampled"] = round(sections.peak_rss / 1024**2, 1)
    Path(args.result).write_text(json.dumps(result, default=str))


def _top_functions(profiler, top: int) -> dict:
    import pstats

    stats = pstats.Stats(profiler)
    rows = []
    for (file, line, fn), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():
        rows.append({"function": f"{Path(file).name}:{line}({fn})", "file": file, "calls": calls,
                     "tottime_s": round(tottime, 3), "cumtime_s": round(cumtime, 3)})

    def short(r):
        return {k: r[k] for k in ("function", "calls", "tottime_s", "cumtime_s")}

    return {"by_tottime": [short(r) for r in sorted(rows, key=lambda r: -r["tottime_s"])[:top]],
            "by_cumtime_repo": [short(r) for r in sorted(rows, key=lambda r: -r["cumtime_s"])
                                if "/work/main/" in r["file"] and "/.venv/" not in r["file"]][:top]}


def ensure_world(deals: int, args: argparse.Namespace) -> tuple[Path, dict]:
    """Simulate (in a subprocess) or reuse the world of `deals`; return its folder and how it came."""
    folder = Path(args.workdir) / f"world-{deals}-seed{args.seed}"
    manifest = folder / "manifest.json"
    if args.reuse and manifest.exists():
        m = json.loads(manifest.read_text())
        if m.get("deals") == deals and m.get("seed") == args.seed:
            print(f"[features] reusing world {folder}", flush=True)
            return folder, {"reused": True}
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    log = Path(args.workdir) / f"world-{deals}-seed{args.seed}.simulate.log"
    cmd = [sys.executable, str(Path(__file__).resolve().parent / "simulate.py"), "--worker",
           "--deals", str(deals), "--seed", str(args.seed), "--out", str(folder),
           "--result", str(log.with_suffix(".json"))]
    print(f"[features] simulating {deals:,} deals -> {folder}", flush=True)
    m = run_measured(cmd, log, poll_s=args.poll)
    if m.status != "ok":
        raise RuntimeError(f"simulation of {deals} deals failed: {m.log_tail}")
    return folder, {"reused": False, "simulate_wall_s": round(m.wall_s, 1),
                    "simulate_peak_rss_mb": round(m.peak_rss_mb, 1)}


def run_one(deals: int, args: argparse.Namespace) -> dict:
    world, how = ensure_world(deals, args)
    manifest = json.loads((world / "manifest.json").read_text())
    in_rows = manifest["rows"]
    bench = Path(args.workdir) / f"features-{deals}-seed{args.seed}"
    shutil.rmtree(bench, ignore_errors=True)
    bench.mkdir(parents=True)
    out, result_file = bench / "features", bench / "worker.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--data", str(world),
           "--out", str(out), "--result", str(result_file)]
    if args.no_sections:
        cmd.append("--no-sections")
    if args.cprofile:
        cmd += ["--cprofile", "--cprofile-top", str(args.cprofile_top)]
    cores = list(range(args.cores)) if args.cores else None
    print(f"[features] build_features on {deals:,} deals ({in_rows.get('activities', 0):,} activities)",
          flush=True)
    load_before = [round(x, 2) for x in os.getloadavg()]  # the machine is shared: the load goes with the figure
    m = run_measured(cmd, bench / "worker.log", poll_s=args.poll, max_rss_mb=args.max_rss_gb * 1024,
                     timeout_s=args.timeout, cores=cores)
    row: dict = {"deals": deals, "seed": args.seed, "world": str(world), "world_source": how,
                 "loadavg_1_5_15_before": load_before, "loadavg_1_5_15_after": [round(x, 2) for x in os.getloadavg()],
                 "cpu_s": round(m.user_cpu_s + m.system_cpu_s, 1),
                 "input_rows": in_rows, "activities": in_rows.get("activities", 0),
                 "input_disk": disk_usage(world / "export"), **m.as_dict()}
    if result_file.exists():
        inner = json.loads(result_file.read_text())
        row.update(import_s=round(inner["import_s"], 3), build_features_s=round(inner["build_features_s"], 3),
                   rows=inner["rows"], feature_rows_total=sum(inner["rows"].values()),
                   warnings=inner["warnings"], as_of=inner["as_of"], output_disk=disk_usage(out))
        if "sections" in inner:
            row["sections"] = inner["sections"]
            row["top_sections"] = top_sections(inner["sections"])
        if "cprofile" in inner:
            row["cprofile"] = inner["cprofile"]
    trace = result_file.with_suffix(".trace.jsonl")
    if m.status != "ok" and trace.exists():  # killed: keep what the worker finished before it died
        row["trace_before_kill"] = [json.loads(x) for x in trace.read_text().splitlines() if x.strip()]
    print(f"[features] {deals:,} deals: status={m.status} wall={m.wall_s:.1f}s "
          f"build={row.get('build_features_s')}s cpu={row['cpu_s']}s peak_rss={m.peak_rss_mb:.0f}MB "
          f"load {load_before} -> {row['loadavg_1_5_15_after']}", flush=True)
    if not args.keep_features:
        shutil.rmtree(out, ignore_errors=True)
    return row


def top_sections(sections: dict, n: int = 12) -> dict:
    """Sections sorted by time and by peak RSS (leaf-level paths first are the hotspots)."""
    by_time = sorted(sections.items(), key=lambda kv: -kv[1]["seconds"])[:n]
    by_mem = sorted(sections.items(), key=lambda kv: -kv[1]["peak_rss_mb"])[:n]
    return {"by_seconds": [{"section": k, "seconds": v["seconds"], "calls": v["calls"]} for k, v in by_time],
            "by_peak_rss_mb": [{"section": k, "peak_rss_mb": v["peak_rss_mb"], "rss_delta_mb": v["rss_delta_mb"]}
                               for k, v in by_mem]}


def scaling(runs: list[dict]) -> list[dict]:
    ok = sorted((r for r in runs if r["status"] == "ok"), key=lambda r: r["deals"])
    pairs = list(zip(ok, ok[1:], strict=False))
    if len(ok) > 2:  # also smallest -> largest, e.g. 100k -> 1M
        pairs.append((ok[0], ok[-1]))
    out = []
    for small, big in pairs:
        t_ratio = big["build_features_s"] / small["build_features_s"]
        wall_ratio = big["wall_s"] / small["wall_s"]
        a_ratio = big["activities"] / max(small["activities"], 1)
        rows_ratio = big["feature_rows_total"] / max(small["feature_rows_total"], 1)
        exponent = math.log(t_ratio) / math.log(a_ratio) if a_ratio > 1 and t_ratio > 0 else None
        out.append({
            "from_deals": small["deals"], "to_deals": big["deals"],
            "deals_ratio": round(big["deals"] / small["deals"], 3),
            "activities_ratio": round(a_ratio, 3),
            "feature_rows_ratio": round(rows_ratio, 3),
            "build_time_ratio": round(t_ratio, 3),
            "process_wall_ratio": round(wall_ratio, 3),
            "peak_rss_ratio": round(big["peak_rss_mb"] / small["peak_rss_mb"], 3),
            "time_exponent_vs_activities": round(exponent, 3) if exponent is not None else None,
            "linear": exponent is not None and exponent <= 1.15,
            "note": "exponent = log(time ratio)/log(activities ratio); <= 1.15 counts as linear",
        })
    return out


def targets(runs: list[dict], cores_used: int) -> dict:
    big = next((r for r in runs if r["deals"] == TARGET_DEALS), None)
    if big is None:
        return {"1M_deals_60s": {"pass": None, "note": "1,000,000-deal size not run"},
                "1M_deals_6GB": {"pass": None, "note": "1,000,000-deal size not run"}}
    ok = big["status"] == "ok"
    killed = {}
    if not ok:
        trace = big.get("trace_before_kill") or []
        done = {t["section"]: t for t in trace}
        killed = {"killed": big["status"], **big["extra"],
                  "last_finished_section": trace[-1]["section"] if trace else None,
                  "read_tables_s": done.get("read_tables", {}).get("seconds"),
                  "read_activities_s": done.get("read_tables/read_table[activities]", {}).get("seconds"),
                  "rss_after_read_tables_mb": done.get("read_tables", {}).get("rss_end_mb")}
    common = {**killed, "activities": big["activities"], "status": big["status"], "cores": cores_used,
              "cores_target": TARGET_CORES,
              "activities_near_20M": 0.75 * TARGET_ACTIVITIES <= big["activities"] <= 1.25 * TARGET_ACTIVITIES}
    return {
        "1M_deals_60s": {"target": f"build_features on {TARGET_DEALS:,} deals (~20M activities) in <= "
                                   f"{TARGET_SECONDS:.0f} s on {TARGET_CORES} cores",
                         "measured_build_features_s": big.get("build_features_s"),
                         "measured_process_wall_s": big["wall_s"],
                         "pass": ok and big["build_features_s"] <= TARGET_SECONDS, **common},
        "1M_deals_6GB": {"target": f"peak RSS <= {TARGET_RSS_GB:.0f} GB",
                         "measured_peak_rss_mb": big["peak_rss_mb"],
                         "pass": ok and big["peak_rss_mb"] <= TARGET_RSS_GB * 1024, **common},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deals", nargs="+", default=DEFAULT_DEALS,
                   help="world sizes in deals (accepts 1000, 100k, 1M); default: %(default)s")
    p.add_argument("--seed", type=int, default=42, help="simulation seed (default: %(default)s)")
    p.add_argument("--workdir", default="/tmp/cvre-bench", help="temp folder for worlds (default: %(default)s)")
    p.add_argument("--reuse", action="store_true", help="reuse <workdir>/world-<deals>-seed<seed> if it exists")
    p.add_argument("--output", default=str(RESULTS_DIR / "features.json"), help="result JSON (default: %(default)s)")
    p.add_argument("--cores", type=int, default=None,
                   help="pin the feature worker to this many CPUs (default: no pinning)")
    p.add_argument("--max-rss-gb", type=float, default=12.0,
                   help="kill the feature worker past this RSS and report it (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=480.0,
                   help="kill the feature worker after this many seconds (default: %(default)s)")
    p.add_argument("--poll", type=float, default=0.1, help="RSS polling interval, seconds (default: %(default)s)")
    p.add_argument("--no-sections", action="store_true", help="do not time pipeline steps in the worker")
    p.add_argument("--cprofile", action="store_true", help="also run cProfile in the worker (slower)")
    p.add_argument("--cprofile-top", type=int, default=25, help=argparse.SUPPRESS)
    p.add_argument("--keep-features", action="store_true", help="keep the feature tables written")
    p.add_argument("--cleanup", action="store_true", help="delete the simulated worlds at the end")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.deals = parse_deals(args.deals)
    if args.worker:
        worker(args)
        return 0

    machine = machine_info()
    runs = [run_one(d, args) for d in args.deals]
    cores_used = args.cores or machine["cpu_usable"]
    data = {
        "benchmark": "features",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([sys.executable, *sys.argv]),
        "argv": sys.argv,
        "settings": {k: v for k, v in vars(args).items() if k not in ("worker", "data", "out", "result")},
        "machine": machine,
        "code_at_end": code_fingerprint(),
        "method": "world simulated beforehand (not timed); build_features in a fresh subprocess; peak RSS = "
                  f"max(psutil tree RSS polled every {args.poll}s, kernel ru_maxrss of the child); "
                  "build_features_s excludes interpreter start and imports, wall_s includes them; "
                  "sections = inclusive time / peak RSS of wrapped pipeline functions",
        "runs": runs,
        "scaling": scaling(runs),
        "targets": targets(runs, cores_used),
    }
    path = write_result(data, args.output)
    print(f"[features] wrote {path}")
    for s in data["scaling"]:
        print(f"[features] scaling {s['from_deals']:,} -> {s['to_deals']:,}: time x{s['build_time_ratio']} "
              f"for activities x{s['activities_ratio']} (exponent {s['time_exponent_vs_activities']})")
    for name, t in data["targets"].items():
        print(f"[features] target {name}: pass={t.get('pass')}")
    if args.cleanup:
        for d in args.deals:
            shutil.rmtree(Path(args.workdir) / f"world-{d}-seed{args.seed}", ignore_errors=True)
    return 0 if all(r["status"] == "ok" for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
