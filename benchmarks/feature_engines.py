"""Polars or DuckDB for the batch features: the same two workloads on one simulated world, in one run.

1. activities: read the activity table (Parquet), join each activity to its deal's cutoff, keep what happened
   by then, and aggregate per deal: counts by type in 7/30/90-day windows, total, logged count, days since the
   last activity, longest gap between activities (the heaviest step of the deal features).
2. clients: at 6 monthly snapshots, per account: purchases (first, last, sum, count, recent count and sum), deals
   closed and won, jobs and placements, chats in 180 days with their median response, messages and read rate.

Each engine runs each workload in a fresh process (its own peak RSS), on the same number of threads, reading the
same Parquet files; the results of the two engines are compared (they must agree). The deal cutoffs are computed
once beforehand (not timed). Results go to benchmarks/results/feature_engines.json.

    .venv/bin/python benchmarks/feature_engines.py --world /tmp/h12-bench/world-1000000-seed42
    (needs the bench extra: duckdb; polars is a dependency)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS_DIR, ensure_repo_on_path, machine_info, run_measured, write_result  # noqa: E402

ENGINES = ("polars", "duckdb")
WORKLOADS = ("activities", "clients")
TYPES = ("call", "email", "meeting", "demo", "follow_up")  # core.schema.ACTIVITY_TYPES (checked)
WINDOWS = (7, 30, 90)
SNAPSHOT_STEP_DAYS, SNAPSHOTS, HORIZON_DAYS, LOOKBACK_DAYS = 30, 6, 90, 365


def prepare(world: Path, work: Path) -> dict:
    """Deal cutoffs (opportunity_id, cutoff_s, created_s) as Parquet, and the snapshot dates."""
    ensure_repo_on_path()
    import pandas as pd

    from cvre.core.schema import ACTIVITY_TYPES
    from cvre.features.config import FeatureConfig
    from cvre.features.deals import deal_cutoffs
    from cvre.features.pipeline import resolve_as_of
    from cvre.features.timeline import seconds

    assert tuple(ACTIVITY_TYPES) == TYPES, ACTIVITY_TYPES
    as_of = resolve_as_of(world, FeatureConfig(), None)
    opps = pd.read_parquet(world / "export" / "opportunities.parquet")
    cut = deal_cutoffs(opps[~(opps["created_at"] > as_of)], as_of)
    created = opps.set_index("opportunity_id").loc[cut["opportunity_id"], "created_at"]
    pd.DataFrame({"opportunity_id": cut["opportunity_id"].astype(str), "cutoff_s": seconds(cut["cutoff"]),
                  "created_s": seconds(created)}).to_parquet(work / "cutoffs.parquet", index=False)
    snapshots = [str(as_of - pd.Timedelta(days=HORIZON_DAYS + k * SNAPSHOT_STEP_DAYS)) for k in range(SNAPSHOTS)]
    return {"as_of": str(as_of), "snapshots": snapshots, "deals": len(cut)}


# ---------------------------------------------------------------- Polars

def polars_activities(export: Path, work: Path):
    """As features/activities.py computes it: one sort by deal and time, per-row flags, plain per-deal sums."""
    import polars as pl

    deals = pl.read_parquet(work / "cutoffs.parquet")
    age = pl.col("age")
    flags = []
    for w in WINDOWS:
        flags += [((age < w) & (pl.col("activity_type") == k)).alias(f"{k}s_{w}d") for k in TYPES]
        flags.append((age < w).alias(f"activities_{w}d"))
    counts = [f.meta.output_name() for f in flags]
    same = pl.col("opportunity_id") == pl.col("opportunity_id").shift(1)
    return (pl.scan_parquet(export / "activities.parquet")
            .select("opportunity_id", "activity_type", "logged",
                    t=pl.col("occurred_at").dt.epoch("ns").floordiv(10**9))
            .join(deals.lazy(), on="opportunity_id", how="inner")
            .filter(pl.col("t") <= pl.col("cutoff_s"))
            .sort("opportunity_id", "t")
            .with_columns(age=(pl.col("cutoff_s") - pl.col("t")).cast(pl.Float64) / 86_400.0,
                          step=pl.when(same).then(pl.col("t") - pl.col("t").shift(1)))
            .with_columns(*flags)
            .group_by("opportunity_id")
            .agg(pl.col(counts).sum(), pl.len().alias("total"), pl.col("logged").sum(), age.min().alias("since_last"),
                 pl.max_horizontal(pl.col("t").min() - pl.col("created_s").first(),
                                   pl.col("step").max()).alias("longest_gap_s"))
            .sort("opportunity_id").collect())


def polars_clients(export: Path, snapshots: list[str]):
    import polars as pl

    tx = pl.read_parquet(export / "transactions.parquet", columns=["account_id", "occurred_at", "amount"])
    opps = pl.read_parquet(export / "opportunities.parquet", columns=["account_id", "created_at", "closed_at",
                                                                      "outcome"])
    jobs = pl.read_parquet(export / "jobs.parquet", columns=["account_id", "opened_at", "placements"])
    chats = pl.read_parquet(export / "chats.parquet", columns=["account_id", "created_at", "first_response_at"])
    contacts = pl.read_parquet(export / "contacts.parquet", columns=["contact_id", "account_id"])
    messages = pl.read_parquet(export / "messages.parquet", columns=["contact_id", "sent_at", "read_at"]).join(
        contacts, on="contact_id", how="inner")
    parts = []
    for s in snapshots:
        at = pl.lit(s).str.to_datetime(time_unit="ns")
        recent = pl.col("occurred_at") > at - pl.duration(days=LOOKBACK_DAYS)
        out = (tx.filter(pl.col("occurred_at") <= at).group_by("account_id")
               .agg(first=pl.col("occurred_at").min(), last=pl.col("occurred_at").max(),
                    turnover=pl.col("amount").sum(), purchases=pl.len(), frequency=recent.sum(),
                    monetary=pl.col("amount").filter(recent).sum()))
        deals = (opps.filter(~(pl.col("created_at") > at).fill_null(False) & (pl.col("closed_at") <= at))
                 .group_by("account_id").agg(deals_closed=pl.len(), deals_won=(pl.col("outcome") == "won").sum()))
        done = (jobs.filter(pl.col("opened_at") <= at).group_by("account_id")
                .agg(jobs=pl.len(), placements=pl.col("placements").sum()))
        response = pl.when(pl.col("first_response_at") <= at).then(pl.col("first_response_at"))
        support = (chats.filter((pl.col("created_at") <= at) & (pl.col("created_at") > at - pl.duration(days=180)))
                   .group_by("account_id").agg(chats_180d=pl.len(), chat_response_minutes=(
                       (response - pl.col("created_at")).dt.total_nanoseconds() / 6e10).median()))
        engaged = (messages.filter(~(pl.col("sent_at") > at).fill_null(False)).group_by("account_id")
                   .agg(messages_received=pl.len(),
                        message_read_rate=(pl.col("read_at") <= at).fill_null(False).cast(pl.Float64).mean()))
        for part in (deals, done, support, engaged):
            out = out.join(part, on="account_id", how="left")
        parts.append(out.with_columns(snapshot=pl.lit(s)))
    return pl.concat(parts).sort("snapshot", "account_id")


# ---------------------------------------------------------------- DuckDB

def duckdb_activities(con, export: Path, work: Path):
    windows = ",\n".join(
        f"count(*) FILTER (WHERE age < {w} AND activity_type = '{k}') AS {k}s_{w}d" for w in WINDOWS for k in TYPES
    ) + ",\n" + ",\n".join(f"count(*) FILTER (WHERE age < {w}) AS activities_{w}d" for w in WINDOWS)
    return con.sql(f"""
        WITH a AS (
            SELECT a.opportunity_id, a.activity_type, a.logged, d.created_s,
                   epoch_ns(a.occurred_at) // 1000000000 AS t,
                   (d.cutoff_s - epoch_ns(a.occurred_at) // 1000000000) / 86400.0 AS age
            FROM read_parquet('{export / "activities.parquet"}') a
            JOIN read_parquet('{work / "cutoffs.parquet"}') d USING (opportunity_id)
            WHERE epoch_ns(a.occurred_at) // 1000000000 <= d.cutoff_s),
        g AS (SELECT *, t - lag(t) OVER (PARTITION BY opportunity_id ORDER BY t) AS step FROM a)
        SELECT opportunity_id, {windows},
               count(*) AS total, count(*) FILTER (WHERE logged) AS logged, min(age) AS since_last,
               greatest(min(t) - any_value(created_s), coalesce(max(step), min(t) - any_value(created_s)))
                   AS longest_gap_s
        FROM g GROUP BY opportunity_id ORDER BY opportunity_id""").pl()


def duckdb_clients(con, export: Path, snapshots: list[str]):
    tables = {name: f"read_parquet('{export / f'{name}.parquet'}')" for name in
              ("transactions", "opportunities", "jobs", "chats", "contacts", "messages")}
    con.sql(f"CREATE TEMP TABLE tx AS SELECT account_id, occurred_at, amount FROM {tables['transactions']}")
    con.sql("CREATE TEMP TABLE opps AS SELECT account_id, created_at, closed_at, outcome "
            f"FROM {tables['opportunities']}")
    con.sql(f"CREATE TEMP TABLE jobs AS SELECT account_id, opened_at, placements FROM {tables['jobs']}")
    con.sql(f"CREATE TEMP TABLE chats AS SELECT account_id, created_at, first_response_at FROM {tables['chats']}")
    con.sql(f"""CREATE TEMP TABLE msgs AS SELECT m.sent_at, m.read_at, c.account_id
                FROM {tables['messages']} m JOIN {tables['contacts']} c USING (contact_id)""")
    parts = []
    for s in snapshots:
        at = f"TIMESTAMP_NS '{s}'"
        parts.append(con.sql(f"""
            WITH p AS (SELECT account_id, min(occurred_at) AS first, max(occurred_at) AS last, sum(amount) AS turnover,
                              count(*) AS purchases,
                              count(*) FILTER (WHERE occurred_at > {at} - INTERVAL {LOOKBACK_DAYS} DAY) AS frequency,
                              coalesce(sum(amount) FILTER (WHERE occurred_at > {at} - INTERVAL {LOOKBACK_DAYS} DAY), 0)
                                  AS monetary
                       FROM tx WHERE occurred_at <= {at} GROUP BY account_id),
            d AS (SELECT account_id, count(*) AS deals_closed, count(*) FILTER (WHERE outcome = 'won') AS deals_won
                  FROM opps WHERE NOT coalesce(created_at > {at}, false) AND closed_at <= {at} GROUP BY account_id),
            j AS (SELECT account_id, count(*) AS jobs, sum(placements) AS placements
                  FROM jobs WHERE opened_at <= {at} GROUP BY account_id),
            c AS (SELECT account_id, count(*) AS chats_180d,
                         median(epoch_ns(CASE WHEN first_response_at <= {at} THEN first_response_at END)
                                - epoch_ns(created_at)) / 6e10 AS chat_response_minutes
                  FROM chats WHERE created_at <= {at} AND created_at > {at} - INTERVAL 180 DAY GROUP BY account_id),
            m AS (SELECT account_id, count(*) AS messages_received,
                         avg(CASE WHEN read_at <= {at} THEN 1.0 ELSE 0.0 END) AS message_read_rate
                  FROM msgs WHERE NOT coalesce(sent_at > {at}, false) GROUP BY account_id)
            SELECT p.*, d.deals_closed, d.deals_won, j.jobs, j.placements, c.chats_180d, c.chat_response_minutes,
                   m.messages_received, m.message_read_rate, '{s}' AS snapshot
            FROM p LEFT JOIN d USING (account_id) LEFT JOIN j USING (account_id) LEFT JOIN c USING (account_id)
                   LEFT JOIN m USING (account_id)""").pl())
    import polars as pl

    return pl.concat(parts).sort("snapshot", "account_id")


def worker(args: argparse.Namespace) -> None:
    """Child process: one engine, one workload; its result as Parquet, its timings as JSON."""
    export, work = Path(args.world) / "export", Path(args.work)
    meta = json.loads((work / "prepared.json").read_text())
    began = time.perf_counter()
    if args.engine == "polars":
        import polars as pl

        imported = time.perf_counter()
        threads = pl.thread_pool_size()
        result = (polars_activities(export, work) if args.workload == "activities"
                  else polars_clients(export, meta["snapshots"]))
    else:
        import duckdb

        imported = time.perf_counter()
        con = duckdb.connect()
        con.sql(f"SET threads = {args.threads}")
        threads = args.threads
        result = (duckdb_activities(con, export, work) if args.workload == "activities"
                  else duckdb_clients(con, export, meta["snapshots"]))
    done = time.perf_counter()
    result.write_parquet(work / f"{args.engine}-{args.workload}.parquet")
    Path(args.result).write_text(json.dumps({"seconds": done - imported, "import_s": imported - began,
                                             "rows": result.height, "threads": threads}))


def agree(work: Path, workload: str) -> dict:
    """Both engines' results, compared column by column (counts exactly, floats to 1e-9)."""
    import numpy as np
    import polars as pl

    a, b = (pl.read_parquet(work / f"{e}-{workload}.parquet") for e in ENGINES)
    b = b.select(a.columns)
    report = {"rows": [a.height, b.height], "columns": a.width, "differing_columns": []}
    if a.height != b.height:
        report["differing_columns"].append("row count")
        return report
    for col in a.columns:
        x, y = a[col], b[col]
        if x.dtype.is_numeric() and y.dtype.is_numeric():
            xv, yv = x.cast(pl.Float64).to_numpy(), y.cast(pl.Float64).to_numpy()
            ok = np.allclose(np.nan_to_num(xv, nan=-1), np.nan_to_num(yv, nan=-1), rtol=1e-9, atol=1e-9)
        else:
            ok = x.cast(pl.String).equals(y.cast(pl.String))
        if not ok:
            report["differing_columns"].append(col)
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--world", required=False, help="simulated world folder (with export/)")
    p.add_argument("--work", default="/tmp/cvre-bench/feature-engines", help="temp folder (default: %(default)s)")
    p.add_argument("--threads", type=int, default=2, help="threads for each engine (default: %(default)s)")
    p.add_argument("--repeat", type=int, default=1, help="runs of each engine and workload, best kept")
    p.add_argument("--output", default=str(RESULTS_DIR / "feature_engines.json"), help="result JSON")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--engine", help=argparse.SUPPRESS)
    p.add_argument("--workload", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    if args.prepare:
        (Path(args.work) / "prepared.json").write_text(json.dumps(prepare(Path(args.world), Path(args.work))))
        return 0
    world, work = Path(args.world), Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    # in a child: the parent stays small, so each engine's ru_maxrss (inherited at fork) is its own
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--prepare", "--world", str(world), "--work",
                    str(work)], check=True)
    prepared = json.loads((work / "prepared.json").read_text())
    env = {"POLARS_MAX_THREADS": str(args.threads)}
    runs = []
    for workload in WORKLOADS:
        for _ in range(args.repeat):
            for engine in ENGINES:
                result = work / f"{engine}-{workload}.json"
                cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--world", str(world),
                       "--work", str(work), "--engine", engine, "--workload", workload, "--threads",
                       str(args.threads), "--result", str(result)]
                load = os.getloadavg()
                m = run_measured(cmd, work / f"{engine}-{workload}.log", env=env)
                inner = json.loads(result.read_text()) if result.exists() else {}
                runs.append({"engine": engine, "workload": workload, "status": m.status,
                             "seconds": round(inner.get("seconds", float("nan")), 2), "threads": inner.get("threads"),
                             "rows": inner.get("rows"), "process_wall_s": round(m.wall_s, 2),
                             "peak_rss_mb": round(m.peak_rss_mb, 1),
                             "peak_tree_rss_mb_polled": round(m.peak_tree_rss_mb_polled, 1),
                             "cpu_s": round(m.user_cpu_s + m.system_cpu_s, 1),
                             "loadavg_before": [round(x, 2) for x in load],
                             "log_tail": m.log_tail[-400:] if m.status != "ok" else ""})
                print(f"[engines] {engine:6s} {workload:10s} {runs[-1]['seconds']:7.2f}s "
                      f"peak {runs[-1]['peak_rss_mb']:7.0f} MB (load {load[0]:.1f})", flush=True)
    import duckdb
    import polars

    best = {}
    for r in runs:
        key = f"{r['engine']}/{r['workload']}"
        if r["status"] == "ok" and (key not in best or r["seconds"] < best[key]["seconds"]):
            best[key] = r
    data = {"benchmark": "feature_engines", "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join([sys.executable, *sys.argv]), "machine": machine_info(),
            "versions": {"polars": polars.__version__, "duckdb": duckdb.__version__},
            "world": str(world), "prepared": prepared, "threads": args.threads,
            "method": "each engine and workload in a fresh process (peak RSS = polled tree RSS / ru_maxrss), same "
                      "Parquet inputs, same thread count; seconds exclude the interpreter start and the import",
            "runs": runs, "best": best, "agreement": {w: agree(work, w) for w in WORKLOADS}}
    path = write_result(data, args.output)
    print(f"[engines] wrote {path}: agreement {json.dumps(data['agreement'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
