"""Reference tables logged inside each model: the history and population its features need at scoring time.

Deal models carry closed deals and static entities (owner and account win rates, account context,
contact coverage); the churn model carries the clients' R, F and M values and the feature config, so
the scoring API ranks clients and builds features from exactly the training snapshot, never a newer one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from cvre.core.io import read_table
from cvre.features.clients import RFM_VALUES
from cvre.features.snapshot import tables_as_of

REFERENCE_TABLES = ("opportunities", "accounts", "contacts", "products", "reps")
REFERENCE_COLUMNS = {
    "opportunities": ["opportunity_id", "account_id", "owner_id", "product", "outcome", "stage", "created_at",
                      "closed_at"],
    "contacts": ["contact_id", "account_id", "created_at"],
}
CLIENT_POPULATION = "client_population"
FEATURE_CONFIG = "feature_config"


def reference_tables(features_dir: Path) -> dict[str, pd.DataFrame]:
    """Closed deals and static entities as of the training snapshot (empty when the source is gone)."""
    manifest = json.loads((Path(features_dir) / "feature_manifest.json").read_text())
    source, as_of = Path(manifest["source"]), pd.Timestamp(manifest["as_of"])
    tables = {}
    for name in REFERENCE_TABLES:
        if (source / f"{name}.parquet").exists():
            frame = read_table(source, name)
            wanted = [c for c in REFERENCE_COLUMNS.get(name, frame.columns) if c in frame.columns]
            tables[name] = frame[wanted]
    tables = tables_as_of(tables, as_of)
    if "opportunities" in tables:
        opps = tables["opportunities"]
        tables["opportunities"] = opps[opps["outcome"].isin(["won", "lost"])] if "outcome" in opps else opps.iloc[:0]
    return tables


def client_reference_tables(features_dir: Path) -> dict[str, pd.DataFrame]:
    """Every client's R, F and M values at the training snapshot: a scored client is ranked among them."""
    path = Path(features_dir) / "clients_score.parquet"
    if not set(RFM_VALUES) <= set(pq.read_schema(path).names):  # a customer table with its own label: no RFM
        return {}
    return {CLIENT_POPULATION: pd.read_parquet(path, columns=["account_id", *RFM_VALUES])}


def save_feature_config(features_dir: Path, folder: Path) -> dict[str, str]:
    """The feature config the training tables were built with, so serving builds features the same way."""
    manifest = json.loads((Path(features_dir) / "feature_manifest.json").read_text())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{FEATURE_CONFIG}.json"
    path.write_text(json.dumps(manifest["config"], indent=1))
    return {FEATURE_CONFIG: str(path)}


def save_reference(tables: dict[str, pd.DataFrame], folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in tables.items():
        path = folder / f"ref_{name}.parquet"
        frame.to_parquet(path, index=False)
        paths[f"ref_{name}"] = str(path)
    return paths
