"""Point-in-time view of canonical tables: the CRM as it was known at a snapshot."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cvre.core.schema import TABLES

EVENT_TIME = {
    "accounts": "created_at", "contacts": "created_at", "leads": "created_at",
    "opportunities": "created_at", "stage_history": "entered_at", "close_date_changes": "changed_at",
    "activities": "occurred_at", "jobs": "opened_at", "campaigns": "sent_at", "messages": "sent_at",
    "chats": "created_at", "transactions": "occurred_at",
}
WHITESPACE = re.compile(r"\s+")
LATER_TIMES = {
    "leads": ("first_response_at",), "opportunities": ("closed_at",), "jobs": ("closed_at",),
    "chats": ("accepted_at", "first_response_at", "resolved_at"),
    "messages": ("delivered_at", "read_at", "replied_at"),
}


def normalise_categories(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Trim, lower-case and collapse spaces in free category columns ('  SOFTWARE' -> 'software')."""
    spec = TABLES.get(table)
    if spec is None:
        return df
    free = [c.name for c in spec.columns if c.kind == "category" and c.allowed is None and c.name in df.columns]
    if not free:
        return df
    out = df.copy(deep=False)  # the cleaned columns are new arrays; the others are shared, never written
    for col in free:
        out[col] = clean_labels(out[col])
    return out


def clean_labels(values: pd.Series) -> pd.Series:
    """Trim, lower-case and collapse spaces, computed once per distinct value (millions of rows, few labels)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if all(isinstance(u, str) for u in uniques):  # what the pandas string methods below do, without their overhead
        labels = np.array([WHITESPACE.sub(" ", u.strip().lower()) for u in uniques] + [None], dtype=object)
    else:
        cleaned = pd.Series(uniques, dtype="string").str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
        labels = np.append(cleaned.to_numpy(dtype=object), None)
    return pd.Series(labels[codes], index=values.index, dtype="string")


def table_as_of(df: pd.DataFrame, table: str, as_of: pd.Timestamp) -> pd.DataFrame:
    """Rows that existed at `as_of`, with later timestamps (responses, closes) blanked."""
    out = df
    time_col = EVENT_TIME.get(table)
    if time_col in out.columns:
        out = out[~(out[time_col] > as_of)]
    # closed after the snapshot: open then (a deal without any close date stays as exported)
    reopened = out["closed_at"] > as_of if table == "opportunities" and "closed_at" in out.columns else None
    later = [c for c in LATER_TIMES.get(table, ()) if c in out.columns]
    if later:
        out = out.copy(deep=False)  # the blanked columns are new arrays; the others are shared, never written
        for col in later:
            out[col] = out[col].where(~(out[col] > as_of))
    if reopened is not None:
        reopened = reopened.fillna(False).to_numpy(dtype=bool)
        if reopened.any():
            out = out.copy()
            out.loc[reopened, "outcome"] = "open"
            out.loc[reopened, "stage"] = pd.NA
    return out


def tables_as_of(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp,
                 normalise: bool = True) -> dict[str, pd.DataFrame]:
    """Every table cut to `as_of`, its categories normalised unless they already are."""
    cut = {name: table_as_of(df, name, as_of) for name, df in tables.items()}
    return {name: normalise_categories(df, name) for name, df in cut.items()} if normalise else cut
