"""When the CRM history outgrows one machine: the batch deal features per account partition on a Dask cluster,
and LightGBM trained across its workers (`lightgbm.dask`).

Every worker gets the snapshot's shared context once (`snapshot_context`: win histories, account context,
list prices, behaviour sources) and builds the rows of its accounts' deals; the rows of all partitions equal one
pass over all deals (tests/deploy/test_cluster.py, to 1e-9). A team points `client` at its scheduler
(`distributed.Client("tcp://scheduler:8786")`); the tests use a `distributed.LocalCluster`.
"""

from __future__ import annotations

import pandas as pd

from cvre.features.config import DealFeatureConfig
from cvre.features.partition import account_partitions, build_deal_features_partition, snapshot_context


def deal_features_on_cluster(tables: dict, as_of: pd.Timestamp, cfg: DealFeatureConfig, client, parts: int
                             ) -> tuple[pd.DataFrame, list[str]]:
    """Deal rows of the snapshot `tables` (cut at `as_of`) built in `parts` account partitions on the cluster of
    `client` (a `distributed.Client`); rows in opportunity_id order, warnings of all partitions (deduplicated)."""
    reference, sources = snapshot_context(tables)
    shared_tables, shared_reference, shared_sources = client.scatter([tables, reference, sources], broadcast=True)
    futures = [client.submit(build_deal_features_partition, shared_tables, accounts, cfg, as_of, shared_reference,
                             shared_sources, pure=False)
               for accounts in account_partitions(tables["opportunities"], parts)]
    pieces = client.gather(futures)
    rows = pd.concat([frame for frame, _ in pieces], ignore_index=True)
    warnings = list(dict.fromkeys(w for _, found in pieces for w in found))
    return rows.sort_values("opportunity_id", ignore_index=True), warnings
