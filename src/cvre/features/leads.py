"""Lead-conversion table: one row per lead with its source, response and the export's own extra columns.

Real lead exports (X Education, UCI bank marketing) carry their model inputs as `x_` columns from the
mapping; they join on lead_id. Identifier-like text columns are left out: they cannot generalise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.features.contracts import Field
from cvre.features.timeline import days_between

ID_LIKE_SHARE = 0.5  # a text column with more distinct values than half the rows is an identifier


def lead_table(leads: pd.DataFrame, extra: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame:
    """Labelled leads (converted known) with features; `order` keeps the export's row order for splits."""
    out = pd.DataFrame({"lead_id": leads["lead_id"].to_numpy(), "order": np.arange(len(leads), dtype=float)})
    out["converted"] = leads["converted"].astype("Float64").astype(float).to_numpy()
    if "source" in leads.columns:
        out["lead_source"] = leads["source"].to_numpy(dtype=object)
    if "created_at" in leads.columns and leads["created_at"].notna().any():
        out["created_at"] = leads["created_at"].to_numpy()
        out["created_month"] = pd.to_datetime(leads["created_at"]).dt.month.to_numpy(dtype=float)
        if "first_response_at" in leads.columns:
            out["lead_response_hours"] = days_between(leads["first_response_at"], leads["created_at"]) * 24.0
    if "lead_response_hours" not in out and "first_response_hours" in leads.columns:  # the CRM's own figure
        out["lead_response_hours"] = leads["first_response_hours"].astype("Float64").to_numpy(dtype=float,
                                                                                             na_value=np.nan)
    return with_extra_columns(out, extra, "lead_id")


def _id_like(values: pd.Series) -> bool:
    text = not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values))
    return text and values.nunique(dropna=True) > ID_LIKE_SHARE * max(len(values), 1)


def lead_contract(table: pd.DataFrame) -> dict[str, Field]:
    """Fixed lead columns plus the export's own extra columns, typed from the data."""
    contract = {"lead_id": Field("id"), "order": Field("number", 0), "converted": Field("number", 0, 1),
                "lead_source": Field("category"), "created_at": Field("time"), "created_month": Field("number", 1, 12),
                "lead_response_hours": Field("number", 0)}
    return contract | extra_contract(table)


def with_extra_columns(out: pd.DataFrame, extra: pd.DataFrame | None, key: str,
                       skip: tuple[str, ...] = ()) -> pd.DataFrame:
    """`out` with the export's own `x_` columns joined on `key` (numbers as floats, text as objects);
    identifier-like text and the `skip` columns are left out."""
    if extra is None:
        return out
    usable = [c for c in extra.columns if c.startswith("x_") and c not in skip and not _id_like(extra[c])]
    joined = out[[key]].merge(extra[[key, *usable]].drop_duplicates(key), on=key, how="left")
    for col in usable:
        values = joined[col]
        out[col] = values.astype(float).to_numpy() if pd.api.types.is_bool_dtype(values) or \
            pd.api.types.is_numeric_dtype(values) else values.astype(object).to_numpy()
    return out


def extra_contract(table: pd.DataFrame) -> dict[str, Field]:
    """The `x_` columns of a table, typed from the data."""
    return {col: Field("number") if pd.api.types.is_numeric_dtype(table[col]) else Field("category")
            for col in table.columns if col.startswith("x_")}
