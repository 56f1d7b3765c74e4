"""Deal features one partition of accounts at a time: the unit a cluster (e.g. Dask) runs unchanged.

A deal's row reads its own history (stage moves, activities, close-date changes, its lead) and what the
whole snapshot knows (owner/account win histories, account context, contacts, list prices: `DealReference`,
plus where each behaviour comes from). Build those two once from the whole snapshot, ship them to every
worker, and the rows of all partitions together equal one pass over all deals:

    reference, sources = snapshot_context(tables)
    parts = [build_deal_features_partition(tables, accounts, cfg, as_of, reference, sources)[0]
             for accounts in account_partitions(tables["opportunities"], 8)]
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd
import polars as pl

from cvre.core.field_sources import behaviour_sources
from cvre.features.config import DealFeatureConfig
from cvre.features.deal_table import DealReference, build_deal_features

DEAL_CHILD_TABLES = ("activities", "stage_history", "close_date_changes")  # rows keyed by opportunity_id


def snapshot_context(tables: dict[str, pd.DataFrame | pl.DataFrame]) -> tuple[DealReference, dict[str, str]]:
    """What every partition borrows from the whole snapshot: the indexed reference and the behaviour sources."""
    return DealReference.of(tables), behaviour_sources(tables)


def account_partitions(opps: pd.DataFrame, parts: int) -> list[list[str | None]]:
    """The snapshot's account ids in `parts` groups of about equal deal counts; None (deals without an
    account) goes with the first group."""
    accounts = opps["account_id"] if "account_id" in opps.columns else pd.Series(None, index=opps.index)
    ids = accounts.dropna().astype(str).value_counts().sort_index()
    groups: list[list[str | None]] = [[] for _ in range(max(parts, 1))]
    bounds = np.searchsorted(np.cumsum(ids.to_numpy()), np.linspace(0, ids.sum(), len(groups) + 1)[1:-1])
    for k, chunk in enumerate(np.split(ids.index.to_numpy(dtype=object), bounds)):
        groups[k] += list(chunk)
    groups[0].append(None)
    return groups


def build_deal_features_partition(tables: dict[str, pd.DataFrame | pl.DataFrame], accounts: Collection[str | None],
                                  cfg: DealFeatureConfig, as_of: pd.Timestamp,
                                  reference: DealReference | None = None, sources: dict[str, str] | None = None,
                                  absent: set[str] = frozenset()) -> tuple[pd.DataFrame, list[str]]:
    """Deal rows (and warnings) of the deals of `accounts` (None in it: the deals without an account), as of `as_of`.

    `tables`: the snapshot's tables (already cut at `as_of`), whole or holding at least these accounts' deals and
    their history. `reference` and `sources`: from `snapshot_context` of the whole snapshot; built from `tables`
    when not given, which is right only when `tables` are the whole snapshot.
    """
    if reference is None or sources is None:
        whole_reference, whole_sources = snapshot_context(tables)
        reference, sources = reference or whole_reference, sources or whole_sources
    opps = tables["opportunities"]
    wanted = {str(a) for a in accounts if a is not None}
    account = opps["account_id"] if "account_id" in opps.columns else pd.Series(None, index=opps.index, dtype=object)
    mine = account.astype("string").isin(wanted).fillna(False).to_numpy(dtype=bool)
    if None in accounts:
        mine |= account.isna().to_numpy()
    part = dict(tables, opportunities=opps[mine])
    deal_ids = opps.loc[mine, "opportunity_id"].astype(str).unique().tolist()
    for name in DEAL_CHILD_TABLES:
        if name in part:
            part[name] = _rows_of(part[name], deal_ids)
    return build_deal_features(part, as_of, cfg, absent, reference=reference, sources=sources)


def _rows_of(frame: pd.DataFrame | pl.DataFrame, deal_ids: list[str]) -> pd.DataFrame | pl.DataFrame:
    if isinstance(frame, pl.DataFrame):
        return frame.filter(pl.col("opportunity_id").cast(pl.String).is_in(deal_ids))
    return frame[frame["opportunity_id"].astype("string").isin(deal_ids).fillna(False).to_numpy(dtype=bool)]
