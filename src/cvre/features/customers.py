"""Per-customer churn: one row per customer whose export carries its own churn label (telecom, bank).

Beside the transaction-derived label (no purchase in the horizon, `features/clients.py`), a customer table
with a `churned` column is a churn dataset as it stands: its features are the account's firmographics and the
export's own `x_` columns. A mapping may mark a ready-made split in `x_split` (train / test): it is kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.features.config import SplitConfig
from cvre.features.contracts import Field
from cvre.features.leads import extra_contract, with_extra_columns
from cvre.features.splits import split_by_time

SPLIT_COLUMN = "x_split"
ACCOUNT_FEATURES = {"industry": "category", "tier": "category", "region": "category", "country": "category",
                    "employees": "number"}


def has_churn_label(accounts: pd.DataFrame | None) -> bool:
    return accounts is not None and "churned" in accounts.columns and bool(accounts["churned"].notna().any())


def customer_rows(accounts: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The customers' account features (firmographics, tenure) at `as_of`, unlabelled: what training and the
    scoring API share; `snapshot` is the export's date, `order` its row order."""
    accounts = accounts.reset_index(drop=True)
    out = pd.DataFrame({"account_id": accounts["account_id"].to_numpy(), "snapshot": as_of,
                        "order": np.arange(len(accounts), dtype=float)})
    for col, kind in ACCOUNT_FEATURES.items():
        if col in accounts.columns and accounts[col].notna().any():
            out[col] = accounts[col].to_numpy(dtype=float if kind == "number" else object)
    if "created_at" in accounts.columns and accounts["created_at"].notna().any():
        out["tenure_days"] = ((as_of - pd.to_datetime(accounts["created_at"])).dt.total_seconds() / 86_400.0
                              ).to_numpy()
    return out


def customer_churn_table(accounts: pd.DataFrame, extra: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame:
    """Labelled customers with their features and the export's own `x_` columns."""
    labelled = accounts[accounts["churned"].notna()].reset_index(drop=True)
    out = customer_rows(labelled, as_of)
    out.insert(3, "churned", labelled["churned"].astype("Float64").to_numpy(dtype=float, na_value=np.nan))
    out = with_extra_columns(out, extra, "account_id", skip=(SPLIT_COLUMN,))
    if extra is not None and SPLIT_COLUMN in extra.columns:
        split = out[["account_id"]].merge(extra[["account_id", SPLIT_COLUMN]].drop_duplicates("account_id"),
                                          on="account_id", how="left")[SPLIT_COLUMN]
        out[SPLIT_COLUMN] = split.astype("string").str.strip().str.lower().to_numpy(dtype=object)
    return out


def customer_contract(table: pd.DataFrame) -> dict[str, Field]:
    contract = {"account_id": Field("id"), "snapshot": Field("time"), "order": Field("number", 0),
                "churned": Field("number", 0, 1), "tenure_days": Field("number", None),
                SPLIT_COLUMN: Field("id"),
                **{c: Field(k) for c, k in ACCOUNT_FEATURES.items()}}
    return contract | {k: v for k, v in extra_contract(table).items() if k != SPLIT_COLUMN}


def customer_splits(table: pd.DataFrame, cfg: SplitConfig) -> np.ndarray:
    """The export's own split where it has one (its train rows: the last share of them validates), else by order."""
    if SPLIT_COLUMN in table.columns and table[SPLIT_COLUMN].isin(["train", "test"]).all():
        is_train = (table[SPLIT_COLUMN] == "train").to_numpy()
        rank = np.cumsum(is_train) / max(is_train.sum(), 1)
        valid_share = cfg.valid / (cfg.train + cfg.valid)
        return np.where(is_train, np.where(rank <= 1 - valid_share, "train", "valid"), "test")
    return split_by_time(pd.Series(pd.to_datetime(table["order"], unit="s")), cfg)
