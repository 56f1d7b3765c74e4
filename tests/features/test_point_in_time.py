"""A feature never sees the future of its label: future events change nothing at a snapshot."""

import numpy as np
import pandas as pd

from cvre.core.io import read_tables
from cvre.features.clients import churn_labels, client_features
from cvre.features.config import FeatureConfig
from cvre.features.deal_table import build_deal_features
from cvre.features.snapshot import tables_as_of

CFG = FeatureConfig()


def _deal_table(raw, snapshot):
    table, _ = build_deal_features(tables_as_of(raw, snapshot), snapshot, CFG.deals)
    return table.sort_values("opportunity_id").reset_index(drop=True)


def test_future_events_do_not_change_deal_features(small_world):
    full = read_tables(small_world / "export")
    snapshot = pd.Timestamp("2024-06-30")
    past_only = {name: df for name, df in tables_as_of(full, snapshot).items()}
    before = _deal_table(past_only, snapshot)
    # append more future: extra activities and stage moves after the snapshot for every open deal
    extra = before.loc[before["is_open"], ["opportunity_id"]].assign(
        activity_id=lambda f: "FUT" + f["opportunity_id"], owner_id="REP0000", activity_type="call",
        occurred_at=snapshot + pd.Timedelta(days=3), logged=True)
    grown = dict(full)
    grown["activities"] = pd.concat([full["activities"], extra], ignore_index=True)
    after = _deal_table(grown, snapshot)
    pd.testing.assert_frame_equal(before, after)


def test_labels_come_strictly_after_the_cutoff(small_world):
    full = read_tables(small_world / "export")
    snapshot = pd.Timestamp("2024-06-30")
    table = _deal_table(full, snapshot)
    closed = full["opportunities"].set_index("opportunity_id")["closed_at"]
    labelled = table[table["won"].notna()]
    assert (labelled["cutoff"].to_numpy() < closed.loc[labelled["opportunity_id"]].to_numpy()).all()
    assert (labelled["cutoff"] < snapshot).all()
    open_rows = table[table["is_open"]]
    assert (open_rows["cutoff"] == snapshot).all() and open_rows["won"].isna().all()
    # deals that closed after the snapshot are open at it
    later = closed[(closed > snapshot)].index
    assert set(later) & set(table["opportunity_id"]) <= set(open_rows["opportunity_id"])


def test_client_features_ignore_the_future_and_label_looks_ahead(small_world):
    full = read_tables(small_world / "export")
    snapshot = pd.Timestamp("2024-06-30")
    a = client_features(tables_as_of(full, snapshot), snapshot, CFG.clients)
    future = full["transactions"].iloc[:50].assign(
        transaction_id=lambda f: "F" + f["transaction_id"], occurred_at=snapshot + pd.Timedelta(days=10))
    grown = {**full, "transactions": pd.concat([full["transactions"], future], ignore_index=True)}
    b = client_features(tables_as_of(grown, snapshot), snapshot, CFG.clients)
    pd.testing.assert_frame_equal(a, b)
    before = churn_labels(tables_as_of(full, pd.Timestamp("2024-12-31")), a, snapshot, 90)
    after = churn_labels(tables_as_of(grown, pd.Timestamp("2024-12-31")), a, snapshot, 90)
    buyers = set(future["account_id"])
    changed = a.loc[(before != after).to_numpy(), "account_id"]
    assert set(changed) <= buyers and (after <= before).all()
    assert np.isin(before.unique(), [0.0, 1.0]).all()
