"""Data-quality defects injected into the export: each returns the changed frame and the ids hit."""

from __future__ import annotations

import numpy as np
import pandas as pd


def pick(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return rng.random(n) < rate


def blank_values(rng, df: pd.DataFrame, column: str, rate: float, key: str):
    hit = pick(rng, len(df), rate)
    out = df.copy()
    out.loc[hit, column] = np.nan
    return out, out.loc[hit, key].to_numpy()


def mess_up_categories(rng, df: pd.DataFrame, column: str, rate: float, key: str):
    """Inconsistent casing and spacing: 'software' -> ' SOFTWARE', 'Software  ' ..."""
    hit = pick(rng, len(df), rate)
    values = df.loc[hit, column].astype(str)
    style = rng.integers(0, 3, len(values))
    messy = np.where(style == 0, values.str.upper(), np.where(style == 1, values.str.title() + "  ", " " + values))
    out = df.copy()
    out.loc[hit, column] = messy
    return out, out.loc[hit, key].to_numpy()


def orphan_references(rng, df: pd.DataFrame, column: str, rate: float, key: str, prefix: str):
    hit = pick(rng, len(df), rate)
    out = df.copy()
    out.loc[hit, column] = [f"{prefix}{i:07d}" for i in range(hit.sum())]
    return out, out.loc[hit, key].to_numpy()


def future_dates(rng, df: pd.DataFrame, column: str, rate: float, key: str, as_of):
    """Mistyped dates that lie after the export date (e.g. a wrong year typed in)."""
    hit = pick(rng, len(df), rate)
    out = df.copy()
    ahead = pd.to_timedelta(rng.uniform(1.0, 365.0, int(hit.sum())), unit="D")
    out.loc[hit, column] = pd.Timestamp(as_of) + ahead
    return out, out.loc[hit, key].to_numpy()


def skip_stages(rng, history: pd.DataFrame, rate: float):
    """Drop a qualification or proposal entry for a share of deals: the deal jumps a stage."""
    deals = history["opportunity_id"].unique()
    hit = deals[pick(rng, len(deals), rate)]
    skipped = pd.Series(rng.choice(["qualification", "proposal"], len(hit)), index=hit)
    target = history["opportunity_id"].map(skipped)
    drop = (target == history["stage"]).to_numpy()
    return history.loc[~drop].reset_index(drop=True), history.loc[drop, "opportunity_id"].to_numpy()


def duplicate_contacts(rng, contacts: pd.DataFrame, rate: float):
    """Copies of some contacts under new ids, with the name's casing and spacing changed."""
    hit = pick(rng, len(contacts), rate)
    dup = contacts.loc[hit].copy()
    dup["contact_id"] = [f"CONDUP{i:07d}" for i in range(len(dup))]
    dup["full_name"] = dup["full_name"].str.upper().str.replace(" ", "  ", regex=False)
    dup["email"] = dup["email"].str.upper()
    return pd.concat([contacts, dup], ignore_index=True), dup["contact_id"].to_numpy()
