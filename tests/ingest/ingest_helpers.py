"""Helpers for ingest tests: tiny exports and mappings written to tmp_path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from cvre.core.config import PACKAGE_CONFIG_DIR
from cvre.ingest.report import ImportReport
from cvre.ingest.run import run_import

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
MAPPINGS = PACKAGE_CONFIG_DIR / "mappings"

ACCOUNTS_MAPPING = {
    "file": "accounts.csv",
    "columns": {"account_id": "Account", "account_name": "Account", "employees": "Staff"},
    "absent": ["industry", "region", "country", "tier", "created_at"],
}
OPPORTUNITIES_MAPPING = {
    "file": "deals.csv",
    "columns": {
        "opportunity_id": "Deal",
        "account_id": "Account",
        "created_at": "Created",
        "stage": "Stage",
        "amount": "Amount",
        "closed_at": "Closed",
    },
    "values": {"stage": {"Won": "closed_won", "Lost": "closed_lost"}},
    "constants": {"currency": "EUR"},
    "derive": {"outcome": "outcome_from_stage"},
    "absent": ["lead_id", "owner_id", "product", "business_type", "expected_close_date"],
}
ACCOUNTS_CSV = "Account,Staff\nAcme,120\nBeta,40\n"
DEALS_HEADER = "Deal,Account,Created,Stage,Amount,Closed\n"


def write_mapping(folder: Path, mapping: dict, name: str = "mapping.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
    return path


def write_export(folder: Path, files: dict[str, str | bytes]) -> Path:
    source = folder / "export"
    source.mkdir(exist_ok=True)
    for name, content in files.items():
        target = source / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return source


def import_deals(tmp_path: Path, deal_rows: str, with_accounts: bool = True, **overrides) -> tuple[ImportReport, Path]:
    """Import a deals.csv (header added) and, optionally, accounts.csv with the test mapping."""
    tables = {"opportunities": {**OPPORTUNITIES_MAPPING, **overrides}}
    files = {"deals.csv": DEALS_HEADER + deal_rows}
    if with_accounts:
        tables = {"accounts": ACCOUNTS_MAPPING, **tables}
        files["accounts.csv"] = ACCOUNTS_CSV
    source = write_export(tmp_path, files)
    mapping = write_mapping(tmp_path, {"tables": tables})
    out = tmp_path / "out"
    return run_import(source, mapping, out), out


def quarantine(out: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(out / "quarantine" / f"{table}.csv", dtype=str, keep_default_na=False)
