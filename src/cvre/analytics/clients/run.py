"""`cvre clients`: KPI board, RFM segments, trends, categories, CLV and target lists written under DATA/clients/."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cvre.analytics.clients.config import ClientsConfig
from cvre.analytics.clients.kpis import kpi_board, kpi_trend
from cvre.analytics.clients.lifetime import clv_against_truth, customer_lifetime_values
from cvre.analytics.clients.rfm import orders, rfm_table, score_ranges, segment_summary
from cvre.analytics.clients.targeting import customer_targets, target_list, target_summary
from cvre.analytics.clients.trends import category_by_segment, category_sales, daily_sales, sales_trend, with_context
from cvre.core.io import TRUTH_DIR, read_table, write_json
from cvre.features.config import FeatureConfig
from cvre.features.pipeline import resolve_as_of, resolve_tables_dir

CLIENTS_DIR = "clients"
TRENDS = ("day", "month", "quarter", "year")


@dataclass
class ClientsRun:
    out: Path
    as_of: pd.Timestamp
    headline: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    clv_fit: dict | None = None
    clv_truth: dict | None = None
    warnings: list[str] = field(default_factory=list)


def read_transactions(data: Path) -> pd.DataFrame:
    """The canonical transactions of a world or import folder, or an error saying what to run."""
    folder = resolve_tables_dir(Path(data))
    try:
        tx = read_table(folder, "transactions")
    except FileNotFoundError:
        raise FileNotFoundError(f"{folder}: no transactions table; `cvre clients` needs purchases "
                                "(`cvre simulate`, or `cvre import` with a transactions mapping)") from None
    tx = tx[tx["account_id"].notna() & tx["occurred_at"].notna() & tx["amount"].notna()]
    return tx.assign(account_id=tx["account_id"].astype(str))


def _truth(data: Path, clv: pd.DataFrame, as_of: pd.Timestamp, horizon_days: int) -> dict | None:
    path, manifest = Path(data) / TRUTH_DIR / "clients_truth.parquet", Path(data) / "manifest.json"
    if not (path.exists() and manifest.exists()):
        return None
    start = pd.Timestamp(json.loads(manifest.read_text())["start"])
    as_of_day = (as_of - start).total_seconds() / 86400.0
    return clv_against_truth(clv, pd.read_parquet(path), as_of_day, horizon_days)


def analyse_clients(tx: pd.DataFrame, as_of: pd.Timestamp, cfg: ClientsConfig) -> ClientsRun:
    """Every client table from transactions (pure: no files)."""
    tx = tx[tx["occurred_at"] <= as_of]
    if tx.empty:
        raise ValueError(f"no transactions at or before {as_of.date()}")
    order_rows = orders(tx)
    rfm = rfm_table(order_rows, as_of, cfg.rfm)
    trend = kpi_trend(order_rows, as_of, cfg.kpi_period, cfg.active_days)
    run = ClientsRun(Path("."), as_of, {})
    clv = None
    if cfg.clv.enabled:
        try:
            clv, run.clv_fit = customer_lifetime_values(tx, as_of, cfg.clv)
            run.warnings += run.clv_fit["warnings"]
        except ValueError as exc:
            run.warnings.append(f"lifetime value skipped: {exc}")
    customers = customer_targets(rfm, clv, as_of, cfg)
    lists = {t.name: target_list(customers, t) for t in cfg.targets}
    context = with_context(tx, rfm)
    run.tables = {"kpi_board": kpi_board(trend), "kpi_trend": trend, "rfm": rfm,
                  "segments": segment_summary(rfm, cfg.rfm), "score_ranges": score_ranges(rfm),
                  "customers": customers, "categories": category_sales(context),
                  "category_by_segment": category_by_segment(context), "daily": daily_sales(context),
                  "targets": target_summary(lists),
                  **{f"trend_{p}": sales_trend(context, p) for p in TRENDS},
                  **{f"target_{name}": t for name, t in lists.items()}}
    if clv is not None:
        run.tables["clv"] = clv
    board = run.tables["kpi_board"].set_index("kpi")["value"].to_dict()
    run.headline = {"as_of": str(as_of.date()), "customers_total": len(rfm), "revenue_total": float(tx["amount"].sum()),
                    "active_days": cfg.active_days, "clv_horizon_days": cfg.clv.horizon_days,
                    "kpi_period": run.tables["kpi_board"]["period"].iloc[0], **board,
                    "total_clv": run.clv_fit["total_clv"] if run.clv_fit else None}
    return run


def run_clients(data: Path, cfg: ClientsConfig, as_of: str | None = None, out: Path | None = None) -> ClientsRun:
    """Read a dataset, analyse its clients, write Parquet and CSV tables plus headline.json under `out`."""
    data = Path(data)
    tx = read_transactions(data)
    when = resolve_as_of(data, FeatureConfig(), as_of or cfg.as_of)
    run = analyse_clients(tx, when, cfg)
    if "clv" in run.tables:
        run.clv_truth = _truth(data, run.tables["clv"], when, cfg.clv.horizon_days)
    run.out = Path(out) if out is not None else data / CLIENTS_DIR
    run.out.mkdir(parents=True, exist_ok=True)
    for name, table in run.tables.items():
        table.to_parquet(run.out / f"{name}.parquet", index=False)
        table.to_csv(run.out / f"{name}.csv", index=False)
    write_json({"headline": run.headline, "clv_fit": run.clv_fit, "clv_vs_truth": run.clv_truth,
                "warnings": run.warnings, "config": cfg.model_dump(mode="json")}, run.out / "headline.json")
    return run
