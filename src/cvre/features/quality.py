"""Data-quality findings in canonical tables: what a user's export gets wrong, counted per kind."""

from __future__ import annotations

import pandas as pd


def _messy(df: pd.DataFrame, column: str) -> int:
    """Values spelled differently from the usual spelling of the same category ('  SOFTWARE')."""
    if column not in df.columns:
        return 0
    raw = df[column].dropna().astype(str)
    key = raw.str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    usual = raw.groupby(key).agg(lambda s: s.value_counts().index[0])
    return int((raw != key.map(usual)).sum())


def find_defects(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> dict[str, int]:
    """Counts of data defects found without any truth: missing values, duplicates, orphans, future dates."""
    found: dict[str, int] = {}
    opps = tables.get("opportunities")
    if opps is not None:
        found["missing_amount"] = int(opps["amount"].isna().sum()) if "amount" in opps else 0
        if "expected_close_date" in opps:
            found["missing_expected_close_date"] = int(opps["expected_close_date"].isna().sum())
        found["messy_category"] = _messy(opps, "product")
        accounts = tables.get("accounts")
        if accounts is not None and "account_id" in opps:
            known = set(accounts["account_id"].astype(str))
            refs = opps["account_id"].dropna().astype(str)
            found["orphan_account_reference"] = int((~refs.isin(known)).sum())
    for table, column in (("leads", "source"), ("accounts", "industry")):
        if table in tables:
            found["messy_category"] = found.get("messy_category", 0) + _messy(tables[table], column)
    contacts = tables.get("contacts")
    if contacts is not None and "email" in contacts:
        found["duplicate_contact"] = int(contacts["email"].str.strip().str.lower().duplicated().sum())
    history = tables.get("stage_history")
    if history is not None:
        order = {"prospecting": 0, "qualification": 1, "proposal": 2, "negotiation": 3}
        h = history[history["stage"].isin(order)].sort_values(["opportunity_id", "entered_at"])
        step = h["stage"].map(order).groupby(h["opportunity_id"]).diff()
        found["stage_skip"] = int((step > 1).sum())
    acts = tables.get("activities")
    if acts is not None:
        found["future_date"] = int((acts["occurred_at"] > as_of).sum())
    return dict(sorted(found.items()))
