"""Benchmark the CRM world simulator: wall time, peak memory, rows and disk size per world size.

Each size runs `simulate_world` in a fresh Python process (so its peak RSS is its own) writing into
a temporary folder under --workdir. Results go to benchmarks/results/simulate.json.

    .venv/bin/python benchmarks/simulate.py                       # 1k, 100k and 1M deals
    .venv/bin/python benchmarks/simulate.py --deals 1000 20000    # quick
"""

from __future__ import annotations

import argparse
import json
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
    machine_info,
    parse_deals,
    run_measured,
    write_result,
)

DEFAULT_DEALS = ["1000", "100000", "1000000"]
SMALL_TARGET_DEALS, SMALL_TARGET_SECONDS = 1_000, 2.0
LARGE_TARGET_DEALS = 1_000_000
ACTIVITIES_PER_DEAL_TARGET = 20.0  # "1M deals with ~20M activities"
# Functions timed in the worker (module, names, positional argument naming the table or None).
SECTIONS = [
    ("cvre.simulation.world", ["make_cast", "simulate_deal_chunk", "export_deal_chunk", "simulate_clients",
                          "public_accounts", "public_contacts", "write_table", "policy_recovery"], None),
    ("cvre.simulation.defects", ["duplicate_contacts", "mess_up_categories"], None),
]


def worker(args: argparse.Namespace) -> None:
    """Child process: import, simulate one world, report timings as JSON on --result."""
    began = time.perf_counter()
    ensure_repo_on_path()
    from cvre.simulation.config import SimulationConfig
    from cvre.simulation.world import simulate_world

    imported = time.perf_counter()
    sections = None
    if not args.no_sections:
        from _harness import install_sections

        sections = install_sections(args.result, SECTIONS)
        from cvre.core.io import ChunkedTableWriter

        ChunkedTableWriter.write = sections.wrap("ChunkedTableWriter.write", ChunkedTableWriter.write)
        ChunkedTableWriter.close = sections.wrap("ChunkedTableWriter.close", ChunkedTableWriter.close)
    world = {} if args.chunk_deals is None else {"world": {"chunk_deals": args.chunk_deals}}
    cfg = SimulationConfig(deals=args.deals[0], seed=args.seed, **world)
    summary = simulate_world(cfg, Path(args.out), progress=False)
    done = time.perf_counter()
    result = {"import_s": imported - began, "simulate_world_s": done - imported,
              "summary_seconds": summary.seconds, "chunk_deals": cfg.world.chunk_deals,
              "rows": summary.rows, "defects": summary.defects}
    if sections:
        result["sections"] = sections.stop()
    Path(args.result).write_text(json.dumps(result))


def run_one(deals: int, args: argparse.Namespace) -> dict:
    folder = Path(args.workdir) / f"simulate-{deals}-seed{args.seed}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    out, result_file = folder / "world", folder / "worker.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--deals", str(deals),
           "--seed", str(args.seed), "--out", str(out), "--result", str(result_file)]
    if args.chunk_deals:
        cmd += ["--chunk-deals", str(args.chunk_deals)]
    if args.no_sections:
        cmd.append("--no-sections")
    print(f"[simulate] {deals:,} deals -> {out}", flush=True)
    m = run_measured(cmd, folder / "worker.log", poll_s=args.poll, max_rss_mb=args.max_rss_gb * 1024,
                     timeout_s=args.timeout)
    row: dict = {"deals": deals, "seed": args.seed, "folder": str(out), **m.as_dict()}
    if m.status == "ok":
        inner = json.loads(result_file.read_text())
        manifest = json.loads((out / "manifest.json").read_text())
        rows = manifest["rows"]
        acts = rows.get("activities", 0)
        row.update(
            import_s=round(inner["import_s"], 3),
            simulate_world_s=round(inner["simulate_world_s"], 3),
            chunk_deals=inner["chunk_deals"],
            rows=rows,
            total_rows=sum(rows.values()),
            activities=acts,
            activities_per_deal=round(acts / deals, 2),
            deals_per_second=round(deals / inner["simulate_world_s"], 1),
            activities_per_second=round(acts / inner["simulate_world_s"], 1),
            disk=disk_usage(out),
        )
        if "sections" in inner:
            row["sections"] = inner["sections"]
    print(f"[simulate] {deals:,} deals: status={m.status} wall={m.wall_s:.1f}s "
          f"peak_rss={m.peak_rss_mb:.0f}MB activities={row.get('activities')}", flush=True)
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    return row


def targets(runs: list[dict], budget_gb: float) -> dict:
    by = {r["deals"]: r for r in runs if r["status"] == "ok"}
    out: dict = {}
    small = by.get(SMALL_TARGET_DEALS)
    if small:
        out["1k_deals_under_2s"] = {
            "target": f"simulate {SMALL_TARGET_DEALS:,} deals in < {SMALL_TARGET_SECONDS} s",
            "measured_simulate_world_s": small["simulate_world_s"],
            "measured_process_wall_s": small["wall_s"],
            "note": "pass/fail on simulate_world time; process wall adds interpreter start and imports",
            "pass": small["simulate_world_s"] < SMALL_TARGET_SECONDS,
            "pass_including_startup": small["wall_s"] < SMALL_TARGET_SECONDS,
        }
    else:
        out["1k_deals_under_2s"] = {"pass": None, "note": "1,000-deal size not run (or failed)"}
    large = by.get(LARGE_TARGET_DEALS)
    if large:
        ref = max((d for d in by if d < LARGE_TARGET_DEALS), default=None)
        growth = None
        if ref:
            growth = {"reference_deals": ref, "deals_ratio": LARGE_TARGET_DEALS / ref,
                      "peak_rss_ratio": round(large["peak_rss_mb"] / by[ref]["peak_rss_mb"], 2)}
        under_budget = large["peak_rss_mb"] <= budget_gb * 1024
        flat = growth is None or growth["peak_rss_ratio"] <= 2.0
        acts = large["activities"]
        out["1M_deals_bounded_memory"] = {
            "target": f"{LARGE_TARGET_DEALS:,} deals (~20M activities) with bounded memory: peak RSS "
                      f"<= {budget_gb} GB and not growing with deals (<= 2x the largest smaller run)",
            "measured_peak_rss_mb": large["peak_rss_mb"],
            "measured_wall_s": large["wall_s"],
            "growth": growth,
            "activities": acts,
            "activities_near_20M": 0.75 * ACTIVITIES_PER_DEAL_TARGET * LARGE_TARGET_DEALS <= acts
            <= 1.25 * ACTIVITIES_PER_DEAL_TARGET * LARGE_TARGET_DEALS,
            "pass_under_budget": under_budget,
            "pass_flat_in_deals": flat,
            "pass": bool(under_budget and flat),
        }
    else:
        out["1M_deals_bounded_memory"] = {"pass": None, "note": "1,000,000-deal size not run (or failed)"}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deals", nargs="+", default=DEFAULT_DEALS,
                   help="world sizes in deals (accepts 1000, 100k, 1M); default: %(default)s")
    p.add_argument("--seed", type=int, default=42, help="simulation seed (default: %(default)s)")
    p.add_argument("--chunk-deals", type=int, default=None,
                   help="override cfg.world.chunk_deals (default: the config's, 100000)")
    p.add_argument("--workdir", default="/tmp/cvre-bench", help="temp folder for worlds (default: %(default)s)")
    p.add_argument("--output", default=str(RESULTS_DIR / "simulate.json"), help="result JSON (default: %(default)s)")
    p.add_argument("--keep", action="store_true", help="keep the simulated worlds (default: delete each after)")
    p.add_argument("--poll", type=float, default=0.1, help="RSS polling interval, seconds (default: %(default)s)")
    p.add_argument("--memory-budget-gb", type=float, default=6.0,
                   help="peak RSS that counts as bounded for the 1M target (default: %(default)s)")
    p.add_argument("--max-rss-gb", type=float, default=16.0,
                   help="kill a run whose process tree exceeds this RSS (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=3600.0, help="kill a run after this many seconds")
    p.add_argument("--no-sections", action="store_true",
                   help="do not time the simulator's steps (chunks, clients, writes) in the worker")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.deals = parse_deals(args.deals)
    if args.worker:
        worker(args)
        return 0

    runs = [run_one(d, args) for d in args.deals]
    data = {
        "benchmark": "simulate",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([sys.executable, *sys.argv]),
        "argv": sys.argv,
        "settings": {k: v for k, v in vars(args).items() if k not in ("worker", "out", "result")},
        "machine": machine_info(),
        "code_at_end": code_fingerprint(),
        "method": "each size in a fresh subprocess; peak RSS = max(psutil tree RSS polled every "
                  f"{args.poll}s, kernel ru_maxrss of the child); rows from manifest.json",
        "runs": runs,
        "targets": targets(runs, args.memory_budget_gb),
    }
    path = write_result(data, args.output)
    print(f"[simulate] wrote {path}")
    for name, t in data["targets"].items():
        print(f"[simulate] target {name}: pass={t.get('pass')}")
    return 0 if all(r["status"] == "ok" for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
