"""Distributed tuning on one machine: the same study budget with 1 and with 2 worker processes (`cvre train win
--workers N`), fresh SQLite stores per run. The figure is the tuning phase's wall time (first trial started to
last trial finished, read from the Optuna study) and the whole command's wall time and peak RSS (process tree);
the ratios 1 -> 2 workers go to benchmarks/results/tuning_workers.json with the load average around each run.

    .venv/bin/python benchmarks/tuning_workers.py                          # 10k deals, 16 trials
    .venv/bin/python benchmarks/tuning_workers.py --deals 2000 --trials 6  # quick
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS_DIR, ensure_repo_on_path, machine_info, run_measured, write_result  # noqa: E402

CVRE = str(Path(sys.executable).parent / "cvre")


def world(workdir: Path, deals: int) -> Path:
    """Simulated world and its features (reused when present; not part of the figure)."""
    out = workdir / f"world-{deals}"
    if not (out / "features" / "feature_manifest.json").exists():
        subprocess.run([CVRE, "simulate", "-n", str(deals), "-s", "42", "-o", str(out), "--no-progress"], check=True,
                       capture_output=True)
        subprocess.run([CVRE, "features", "-d", str(out)], check=True, capture_output=True)
    return out / "features"


def one_run(features: Path, workdir: Path, workers: int, trials: int, rounds: int) -> dict:
    import optuna

    run_dir = workdir / f"workers-{workers}"
    subprocess.run(["rm", "-rf", str(run_dir)], check=True)
    run_dir.mkdir(parents=True)
    storage = f"sqlite:///{run_dir / 'optuna.db'}"
    config = run_dir / "training.yaml"
    config.write_text(yaml.safe_dump({
        "seed": 42, "n_jobs": 1,
        "tracking": {"tracking_uri": f"sqlite:///{run_dir / 'mlflow.db'}", "artifact_root": str(run_dir / "art")},
        "tuning": {"trials": trials, "num_boost_round": rounds, "storage": storage, "safety_timeout_s": None}}))
    measured = run_measured([CVRE, "train", "win", "-f", str(features), "-c", str(config), "--workers",
                             str(workers)], run_dir / "train.log")
    (summary,) = optuna.get_all_study_summaries(storage)
    trials_done = optuna.load_study(study_name=summary.study_name, storage=storage).trials
    finished = [t for t in trials_done if t.datetime_complete]
    tuning_s = (max(t.datetime_complete for t in finished) - min(t.datetime_start for t in finished)).total_seconds()
    return {"workers": workers, "status": measured.status, "wall_s": round(measured.wall_s, 1),
            "tuning_s": round(tuning_s, 1), "trials_finished": len(finished),
            "trials_per_min": round(60 * len(finished) / tuning_s, 2), "peak_rss_mb": round(measured.peak_rss_mb),
            "user_cpu_s": round(measured.user_cpu_s, 1),
            "workers_seen": len({t.user_attrs.get("worker") for t in finished}),
            "loadavg_1m_before": measured.extra["loadavg_1m_before"],
            "loadavg_1m_after": measured.extra["loadavg_1m_after"], "log_tail": measured.log_tail[-600:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1000, help="tuning.num_boost_round")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cvre-bench-tuning-workers"))
    args = parser.parse_args()
    ensure_repo_on_path()
    features = world(args.workdir, args.deals)
    runs = [one_run(features, args.workdir, workers, args.trials, args.rounds) for workers in (1, 2)]
    one, two = runs
    result = {"benchmark": "tuning_workers", "when": datetime.now(UTC).isoformat(timespec="seconds"),
              "deals": args.deals, "trials": args.trials, "num_boost_round": args.rounds, "machine": machine_info(),
              "runs": runs, "speedup_tuning_1_to_2": round(one["tuning_s"] / two["tuning_s"], 2),
              "speedup_command_1_to_2": round(one["wall_s"] / two["wall_s"], 2),
              "memory_ratio_2_to_1": round(two["peak_rss_mb"] / one["peak_rss_mb"], 2)}
    path = write_result(result, RESULTS_DIR / "tuning_workers.json")
    print(f"{path}: tuning x{result['speedup_tuning_1_to_2']} (command x{result['speedup_command_1_to_2']}), "
          f"memory x{result['memory_ratio_2_to_1']}; load {one['loadavg_1m_before']} -> {two['loadavg_1m_after']}")


if __name__ == "__main__":
    main()
