"""Build every feature table of a dataset at a snapshot and write them with their manifest."""

from __future__ import annotations

import json
import logging
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cvre.core.field_sources import feature_sources
from cvre.core.io import TRUTH_DIR, available_tables, read_table, read_tables, table_path, write_json
from cvre.core.provenance import data_source, tables_folder
from cvre.features.campaigns import campaign_funnel, compare_by, contact_engagement
from cvre.features.clients import account_keyed, churn_labels, client_features, with_account
from cvre.features.config import FeatureConfig
from cvre.features.contracts import CLIENT_CONTRACT, DEAL_CONTRACT, check_contract, model_features
from cvre.features.customers import customer_churn_table, customer_contract, customer_splits, has_churn_label
from cvre.features.deal_table import build_deal_features
from cvre.features.frames import as_polars, polars_as_of, read_polars
from cvre.features.leads import lead_contract, lead_table
from cvre.features.snapshot import normalise_categories, tables_as_of
from cvre.features.splits import SPLITS, split_by_time

log = logging.getLogger(__name__)
FEATURES_DIR = "features"
# The largest tables are read with only the columns features use, strings as categories.
READ_COLUMNS = {"activities": ["opportunity_id", "activity_type", "occurred_at", "logged"],
                "stage_history": ["opportunity_id", "stage", "entered_at"]}
CATEGORICAL_TABLES = ("activities",)  # for readers of READ_COLUMNS that read the activities with pandas
# What the feature pipeline reads: the columns some feature uses (contacts' names, e-mails and phones are not).
FEATURE_COLUMNS = {**READ_COLUMNS,
                   "contacts": ["contact_id", "account_id", "created_at"],
                   "transactions": ["account_id", "occurred_at", "amount"],
                   "chats": ["account_id", "created_at", "first_response_at", "resolved_at"],
                   "jobs": ["account_id", "opened_at", "placements", "fee", "cost"],
                   "messages": ["campaign_id", "contact_id", "account_id", "sent_at", "delivered_at", "read_at",
                                "replied_at"]}
# The tables some feature reads (support messages and reps are not read).
FEATURE_TABLES = ("opportunities", "stage_history", "activities", "close_date_changes", "leads", "accounts",
                  "contacts", "products", "transactions", "jobs", "chats", "messages", "campaigns")
# Read straight into Polars: tens of millions of rows that only Polars code reads never become pandas frames.
POLARS_TABLES = ("activities", "stage_history", "transactions", "chats", "jobs")
CLIENT_TABLES = ("transactions", "opportunities", "jobs", "chats", "messages", "contacts", "accounts")


@dataclass
class FeatureRun:
    out: Path
    as_of: pd.Timestamp
    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    lead_features: list[str] = field(default_factory=list)
    lead_categories: list[str] = field(default_factory=list)
    client_features: list[str] = field(default_factory=list)
    client_categories: list[str] = field(default_factory=list)
    churn_label: str = "absent"  # "label column" (the export's own) or "transactions" (no purchase in the horizon)
    writes: Executor | None = field(default=None, repr=False)  # where tables are written while the next is built
    pending: list[Future] = field(default_factory=list, repr=False)


resolve_tables_dir = tables_folder  # a simulated world keeps its tables under export/; an import at the top


def resolve_as_of(data: Path, cfg: FeatureConfig, override: str | None) -> pd.Timestamp:
    if override:
        return pd.Timestamp(override)
    if cfg.as_of:
        return pd.Timestamp(cfg.as_of)
    manifest = Path(data) / "manifest.json"
    if manifest.exists():
        return pd.Timestamp(json.loads(manifest.read_text())["as_of"])
    tables_dir = resolve_tables_dir(data)
    latest = []
    for table, columns in (("opportunities", ("created_at", "closed_at")), ("leads", ("created_at",)),
                           ("transactions", ("occurred_at",))):
        path = tables_dir / f"{table}.parquet"
        if path.exists():
            frame = pd.read_parquet(path)
            latest += [frame[c].max() for c in columns if c in frame.columns and frame[c].notna().any()]
    if not latest:  # an export without any dates (e.g. a lead snapshot): it is as of today
        return pd.Timestamp.today().normalize()
    return pd.Timestamp(max(latest)).normalize() + pd.Timedelta(days=1)


def _unusable_fields(tables_dir: Path) -> set[str]:
    """Fields an import declared absent, or known to reveal the outcome: no feature is built from them."""
    report = tables_dir / "import_report.json"
    if not report.exists():
        return set()
    data = json.loads(report.read_text())
    return set(data.get("absent_fields", [])) | set(data.get("outcome_leaks", []))


def _write(df: pd.DataFrame, out: Path, name: str, run: FeatureRun) -> None:
    """Write one table, in the background when the run has a writer (`df` is never changed afterwards)."""
    path = out / f"{name}.parquet"
    if run.writes is None:
        df.to_parquet(path, index=False)
    else:
        run.pending.append(run.writes.submit(df.to_parquet, path, index=False))
    run.rows[name] = len(df)


def _finish_writes(run: FeatureRun) -> None:
    """Wait for the background writes; the first failed one raises."""
    for done in run.pending:
        done.result()
    run.pending.clear()


def _write_splits(table: pd.DataFrame, contract, label: str, time_col: str, prefix: str, out: Path,
                  run: FeatureRun, cfg: FeatureConfig, split: pd.Series | None = None) -> None:
    check_contract(table, contract, prefix)
    known = table[label].notna().to_numpy(dtype=bool)
    labelled = np.flatnonzero(known)  # positions: each split is one take of the table, not a take of a take
    split = split_by_time(table[time_col][known], cfg.split) if split is None else np.asarray(split)[known]
    for name in SPLITS:
        _write(table.iloc[labelled[split == name]], out, f"{prefix}_{name}", run)


CAMPAIGN_FIELDS = {"messages": ("delivered_at", "read_at", "replied_at"),
                   "campaigns": ("campaign_name", "channel", "template_variant")}  # what the funnels read


def lacking_fields(tables: dict[str, pd.DataFrame], fields: dict[str, tuple[str, ...]]) -> list[str]:
    """`table.column` of each field in `fields` that its table, where present, lacks."""
    return [f"{name}.{c}" for name, cols in fields.items() if name in tables for c in cols
            if c not in tables[name].columns]


DRIVING_TABLES = ("opportunities", "leads", "transactions", "messages")  # the tables feature rows come from


def build_features(data: Path, cfg: FeatureConfig, as_of_override: str | None = None,
                   out: Path | None = None, deal_rows=build_deal_features) -> FeatureRun:
    """Deal, client and campaign tables at the snapshot, split by time, checked, written to `out`.

    Parquet files are written on a second thread while the next table is built (the build is mostly
    single-threaded numpy and pandas); the manifest is written once every table is. `deal_rows`: what builds
    the deal rows (`build_deal_features`'s signature; cvre.deploy.cluster builds them on a Dask cluster).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="feature-writes") as writes:
        return _build_features(data, cfg, as_of_override, out, writes, deal_rows)


def _build_features(data: Path, cfg: FeatureConfig, as_of_override: str | None, out: Path | None,
                    writes: Executor, deal_rows=build_deal_features) -> FeatureRun:
    data = Path(data)
    tables_dir = resolve_tables_dir(data)
    as_of = resolve_as_of(data, cfg, as_of_override)
    out = Path(out) if out else data / FEATURES_DIR
    out.mkdir(parents=True, exist_ok=True)
    run = FeatureRun(out, as_of, writes=writes)
    present = available_tables(tables_dir)
    if not present:
        raise FileNotFoundError(f"{tables_dir}: no Parquet tables found (run `cvre simulate` or `cvre import`)")
    used = [name for name in present if name in FEATURE_TABLES]
    raw = read_tables(tables_dir, [n for n in used if n not in POLARS_TABLES], FEATURE_COLUMNS)
    raw |= {name: read_polars(tables_dir, name, FEATURE_COLUMNS.get(name)) for name in used if name in POLARS_TABLES}
    empty = sorted(name for name in DRIVING_TABLES if name in raw and len(raw[name]) == 0)
    if empty and not any(len(raw[name]) for name in DRIVING_TABLES if name in raw):
        raise ValueError(f"{tables_dir}: {', '.join(empty)}: 0 rows, nothing to build features from; check the "
                         "import's quarantine/ for rejected rows, or re-export with the data")
    raw = {name: frame for name, frame in raw.items() if name not in empty}  # an empty table is an absent one
    run.warnings += [f"{name}: 0 rows, features from it skipped" for name in empty]
    pandas_raw = {name: normalise_categories(df, name) for name, df in raw.items()  # once: it does not depend on time
                  if name not in POLARS_TABLES}
    tables = tables_as_of(pandas_raw, as_of, normalise=False)
    tables |= {name: polars_as_of(df, name, as_of) for name, df in raw.items() if name in POLARS_TABLES}
    client_raw = {name: raw[name] if name in POLARS_TABLES else as_polars(_client_columns(pandas_raw[name], name))
                  for name in CLIENT_TABLES if name in raw}  # once for every snapshot
    del pandas_raw
    del raw  # the deal-side tables are only needed as of the snapshot
    truth_dir = data / TRUTH_DIR

    if "opportunities" in tables:
        deals, warnings = deal_rows(tables, as_of, cfg.deals, _unusable_fields(tables_dir))
        run.warnings += warnings
        deals["is_open"] = deals["is_open"].astype(bool)
        _write_splits(deals, DEAL_CONTRACT, "won", _deal_split_time(deals, as_of, run), "deals", out, run, cfg)
        _write(deals[deals["is_open"]], out, "deals_score", run)
        if (truth_dir / "deals_truth.parquet").exists():
            _write(_deal_truth(truth_dir, deals["opportunity_id"]), out, "deals_truth", run)
    else:
        run.warnings.append("opportunities absent: deal features skipped")

    leads = tables.get("leads")
    if leads is not None and "converted" in leads.columns and leads["converted"].notna().any():
        extra_path = tables_dir / "leads_extra.parquet"
        extra = pd.read_parquet(extra_path) if extra_path.exists() else None
        lead_rows = lead_table(leads, extra, as_of)
        contract = lead_contract(lead_rows)
        time_col = "created_at" if "created_at" in lead_rows.columns else "order"
        _write_splits(lead_rows, contract, "converted", time_col, "leads", out, run, cfg)
        lead_feature_names, lead_categories = model_features(contract, "converted")
        run.lead_features = [c for c in lead_feature_names if c in lead_rows.columns and c != "order"]
        run.lead_categories = [c for c in lead_categories if c in lead_rows.columns]
        if time_col == "order":
            run.warnings.append("leads have no dates: splits follow the export's row order")

    if has_churn_label(tables.get("accounts")):
        _customer_churn(tables, tables_dir, as_of, out, run, cfg)
        if "transactions" in tables:
            run.warnings.append("accounts.churned given: the churn model uses this label, not one derived from "
                                "transactions")
    elif "transactions" in tables:
        run.churn_label = "transactions"
        clients = _client_tables(client_raw, as_of, cfg)
        if (truth_dir / "clients_truth.parquet").exists():
            _write(_client_truth(clients, truth_dir, data, cfg.clients.churn_horizon_days), out, "clients_truth", run)
        _write_splits(clients, CLIENT_CONTRACT, "churned", "snapshot", "clients", out, run, cfg)
        score = client_features(client_raw, as_of, cfg.clients)  # messages get the accounts known at as_of
        check_contract(score, CLIENT_CONTRACT, "clients_score")
        _write(score, out, "clients_score", run)
    else:
        run.warnings.append("transactions and accounts.churned absent: client and churn features skipped (map "
                            "accounts.churned for a per-customer label)")

    lacking = lacking_fields(tables, CAMPAIGN_FIELDS)
    if "messages" in tables and "campaigns" in tables and lacking:
        run.warnings.append(f"campaign features skipped: {', '.join(lacking)} absent (map them for the funnels)")
    elif "messages" in tables and "campaigns" in tables:
        funnel = campaign_funnel(tables["messages"], tables["campaigns"])
        messages = polars_as_of(client_raw["messages"], "messages", as_of)  # already Polars: no second conversion
        _write(contact_engagement(messages, as_of, cfg.campaigns), out, "contact_engagement", run)
        _write(funnel, out, "campaign_funnel", run)
        _write(compare_by(funnel, "template_variant"), out, "campaign_ab", run)
        _write(compare_by(funnel, "send_hour"), out, "campaign_send_hour", run)
    else:
        run.warnings.append("campaigns/messages absent: campaign features skipped")

    deal_features, deal_categories = model_features(DEAL_CONTRACT, "won")
    client_features_, client_categories = model_features(CLIENT_CONTRACT, "churned")
    if run.churn_label == "label column":
        client_features_, client_categories = run.client_features, run.client_categories
    _finish_writes(run)
    write_json({"as_of": as_of, "source": str(tables_dir), "data_source": data_source(data),
                "feature_sources": feature_sources(tables), "churn_label": run.churn_label,
                "rows": run.rows, "warnings": run.warnings,
                "deal_features": deal_features, "deal_categories": deal_categories,
                "client_features": client_features_, "client_categories": client_categories,
                "lead_features": run.lead_features, "lead_categories": run.lead_categories,
                "config": cfg.model_dump(mode="json")}, out / "feature_manifest.json")
    return run


def _deal_truth(truth_dir: Path, deal_ids: pd.Series) -> pd.DataFrame:
    """The simulator's truth of the featurised deals (evaluation only); matched in Arrow, not by pandas' isin."""
    truth = pq.read_table(table_path(truth_dir, "deals_truth"),
                          columns=["opportunity_id", "true_win_prob", "true_expected_amount", "true_amount"])
    return truth.filter(pc.is_in(truth["opportunity_id"], value_set=pa.array(deal_ids, type=pa.string()))).to_pandas()


def _client_columns(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Only what client features read of the deal table (its other columns are not converted to Polars)."""
    if table != "opportunities":
        return frame
    return frame[[c for c in ("account_id", "created_at", "closed_at", "outcome") if c in frame.columns]]


def _deal_split_time(deals: pd.DataFrame, as_of: pd.Timestamp, run: FeatureRun) -> str:
    """Closed deals split by their close; where most have no close date (described at the snapshot), by creation."""
    labelled = deals[deals["won"].notna()]
    if len(labelled) and (labelled["cutoff"] >= as_of).mean() > 0.5:
        run.warnings.append("closed deals have no close date: time splits follow created_at, and closed deals are "
                            "described as exported (map opportunities.closed_at for point-in-time rows)")
        return "created_at"
    return "cutoff"


def _customer_churn(tables: dict, tables_dir: Path, as_of: pd.Timestamp, out: Path, run: FeatureRun,
                    cfg: FeatureConfig) -> None:
    """The churn tables from the customers' own label (accounts.churned), split as the export says or by order."""
    extra_path = tables_dir / "accounts_extra.parquet"
    extra = pd.read_parquet(extra_path) if extra_path.exists() else None
    rows = customer_churn_table(tables["accounts"], extra, as_of)
    contract = customer_contract(rows)
    split = pd.Series(customer_splits(rows, cfg.split), index=rows.index)
    _write_splits(rows, contract, "churned", "snapshot", "clients", out, run, cfg, split)
    _write(rows.drop(columns=["churned"]), out, "clients_score", run)  # the customers as the API would score them
    names, categories = model_features(contract, "churned")
    run.client_features = [c for c in names if c in rows.columns and c != "order"]
    run.client_categories = [c for c in categories if c in rows.columns]
    run.churn_label = "label column"


def _client_tables(client_raw: dict, as_of: pd.Timestamp, cfg: FeatureConfig) -> pd.DataFrame:
    """Churn rows at monthly snapshots whose label window ends by `as_of` (labels strictly after).

    Messages carry the account of their contact in the whole export (joined once, not per snapshot)."""
    c = cfg.clients
    raw = dict(client_raw)
    if "messages" in raw and "contacts" in raw:
        raw["messages"] = with_account(raw["messages"], raw["contacts"])
    raw = account_keyed(raw)
    parts = []
    for k in range(c.training_snapshots):
        snapshot = as_of - pd.Timedelta(days=c.churn_horizon_days + k * c.snapshot_step_days)
        rows = client_features(raw, snapshot, c)  # cuts the raw tables at the snapshot itself
        rows["churned"] = churn_labels(raw, rows, snapshot, c.churn_horizon_days).to_numpy()
        parts.append(rows)
    return pd.concat(parts, ignore_index=True)


def _client_truth(clients: pd.DataFrame, truth_dir: Path, data: Path, horizon: int) -> pd.DataFrame:
    """The simulator's true churn probability for every (client, snapshot) row: evaluation only."""
    from cvre.core.truth import true_no_purchase_probability

    start = pd.Timestamp(json.loads((data / "manifest.json").read_text())["start"])
    t = read_table(truth_dir, "clients_truth").set_index("account_id").loc[clients["account_id"]]
    snapshot_day = ((clients["snapshot"] - start).dt.total_seconds() / 86_400.0).to_numpy()
    prob = true_no_purchase_probability(t["purchases_per_month"].to_numpy(), t["monthly_hazard"].to_numpy(),
                                        t["churn_day"].to_numpy(), snapshot_day, float(horizon))
    return pd.DataFrame({"account_id": clients["account_id"].to_numpy(),
                         "snapshot": clients["snapshot"].to_numpy(), "true_churn_prob": prob})
