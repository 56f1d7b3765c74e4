"""When the CRM history outgrows one machine: the batch deal features per account partition on a Dask cluster
(LightGBM across its workers: `cluster_training`).

Every worker gets the snapshot's shared context once (`snapshot_context`: win histories, account context,
list prices, behaviour sources) and builds the rows of its accounts' deals; the rows of all partitions equal one
pass over all deals (tests/deploy/test_cluster.py, to 1e-9). A team names its scheduler in configs/features.yaml
(`cluster: {scheduler_address: tcp://scheduler:8786}`) and `cvre features` builds the deal rows there
(`deal_rows_builder`); the tests use a `distributed.LocalCluster`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cvre.features.config import ClusterConfig, DealFeatureConfig
from cvre.features.deal_table import build_deal_features
from cvre.features.partition import account_partitions, build_deal_features_partition, snapshot_context


def deal_features_on_cluster(tables: dict, as_of: pd.Timestamp, cfg: DealFeatureConfig, client, parts: int,
                             absent: set[str] = frozenset()) -> tuple[pd.DataFrame, list[str]]:
    """Deal rows of the snapshot `tables` (cut at `as_of`) built in `parts` account partitions on the cluster of
    `client` (a `distributed.Client`); rows in the opportunities' order (as one pass), warnings of all partitions
    (deduplicated). `absent`: fields no feature is built from (as for `build_deal_features`)."""
    reference, sources = snapshot_context(tables)
    shared_tables, shared_reference, shared_sources = client.scatter([tables, reference, sources], broadcast=True)
    futures = [client.submit(build_deal_features_partition, shared_tables, accounts, cfg, as_of, shared_reference,
                             shared_sources, absent, pure=False)
               for accounts in account_partitions(tables["opportunities"], parts)]
    pieces = client.gather(futures)
    rows = pd.concat([frame for frame, _ in pieces], ignore_index=True)
    warnings = list(dict.fromkeys(w for _, found in pieces for w in found))
    return _in_table_order(rows, tables["opportunities"]), warnings


def _in_table_order(rows: pd.DataFrame, opps: pd.DataFrame) -> pd.DataFrame:
    ids = opps["opportunity_id"].astype(str)
    position = pd.Series(np.arange(len(ids)), index=ids.to_numpy())
    if not position.index.is_unique:  # no one order to follow
        return rows.sort_values("opportunity_id", ignore_index=True)
    order = position.reindex(rows["opportunity_id"].astype(str).to_numpy()).to_numpy()
    return rows.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)


def deal_rows_builder(cfg: ClusterConfig) -> Callable:
    """What builds the deal rows: `build_deal_features` in this process, or, when `cfg` names a Dask scheduler,
    the same per account partition on that cluster."""
    if cfg.scheduler_address is None:
        return build_deal_features

    def on_cluster(tables: dict, as_of: pd.Timestamp, deal_cfg: DealFeatureConfig, absent: set[str] = frozenset()
                   ) -> tuple[pd.DataFrame, list[str]]:
        try:
            from distributed import Client
        except ImportError:
            raise ValueError("cluster.scheduler_address is set but dask's distributed is not installed: "
                             "pip install 'cvre[cluster]'") from None
        try:
            client = Client(cfg.scheduler_address, timeout=cfg.connect_timeout_s)
        except OSError as exc:
            raise ValueError(f"cluster.scheduler_address {cfg.scheduler_address}: no Dask scheduler answers "
                             f"({exc}); start one (dask scheduler) or set it to null") from None
        with client:
            return deal_features_on_cluster(tables, as_of, deal_cfg, client, cfg.partitions, absent)

    return on_cluster
