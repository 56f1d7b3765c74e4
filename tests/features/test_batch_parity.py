"""The Polars batch engine gives the tables the pandas implementation gave (kept as an oracle), to 1e-9,
and deal features built one partition of accounts at a time equal one pass."""

import pandas as pd
import polars as pl
import pytest

from cvre.core.io import read_tables
from cvre.features.campaigns import contact_engagement
from cvre.features.clients import RFM_VALUES, churn_labels, client_features, with_account
from cvre.features.config import FeatureConfig
from cvre.features.deal_table import build_deal_features
from cvre.features.frames import as_polars
from cvre.features.partition import account_partitions, build_deal_features_partition, snapshot_context
from cvre.features.snapshot import normalise_categories, tables_as_of
from tests.features.oracle import pandas_campaigns, pandas_clients, pandas_deals

CFG = FeatureConfig()
SNAPSHOTS = [pd.Timestamp("2024-03-31"), pd.Timestamp("2024-06-30"), pd.Timestamp("2024-09-15")]


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_exact=False,
                                  rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module")
def raw(small_world) -> dict[str, pd.DataFrame]:
    tables = read_tables(small_world / "export")
    return {name: normalise_categories(frame, name) for name, frame in tables.items()}


@pytest.mark.parametrize("snapshot", SNAPSHOTS)
def test_client_features_equal_the_pandas_oracle(raw, snapshot):
    cut = tables_as_of(raw, snapshot, normalise=False)
    want = pandas_clients.client_features(cut, snapshot, CFG.clients)
    assert len(want) > 50
    assert_same(client_features(cut, snapshot, CFG.clients), want)
    # the batch path: raw Polars tables, cut inside, messages joined to their accounts once
    polars_raw = {name: as_polars(frame) for name, frame in raw.items()}
    polars_raw["messages"] = with_account(polars_raw["messages"], polars_raw["contacts"])
    oracle_raw = dict(raw, messages=pandas_clients.with_account(raw["messages"], raw["contacts"]))
    want_batch = pandas_clients.client_features(tables_as_of(oracle_raw, snapshot, normalise=False), snapshot,
                                                CFG.clients)
    assert_same(client_features(polars_raw, snapshot, CFG.clients), want_batch)
    labels = churn_labels(polars_raw, want, snapshot, 90)
    pd.testing.assert_series_equal(labels, pandas_clients.churn_labels(raw, want, snapshot, 90))
    assert 0 < labels.mean() < 1


def test_client_features_ranked_in_a_population_equal_the_oracle(raw):
    snapshot = SNAPSHOTS[1]
    cut = tables_as_of(raw, snapshot, normalise=False)
    population = pandas_clients.client_features(cut, snapshot, CFG.clients).set_index("account_id")[RFM_VALUES]
    population = population.iloc[::3]  # some clients in the population, others new to it
    few = dict(cut, transactions=cut["transactions"].iloc[: len(cut["transactions"]) // 4])
    assert_same(client_features(few, snapshot, CFG.clients, population=population),
                pandas_clients.client_features(few, snapshot, CFG.clients, population=population))


@pytest.mark.parametrize("snapshot", SNAPSHOTS)
def test_deal_activity_and_stage_features_equal_the_pandas_oracle(raw, snapshot):
    cut = tables_as_of(raw, snapshot, normalise=False)
    got, _ = build_deal_features(cut, snapshot, CFG.deals)
    want = pandas_deals.deal_activity_and_stage_columns(cut, got, CFG.deals)
    assert want["activities_total"].sum() > 1000 and want["stage_moves"].sum() > 100
    assert_same(got[want.columns], want)
    batch = dict(cut, activities=as_polars(cut["activities"]), stage_history=as_polars(cut["stage_history"]))
    assert_same(build_deal_features(batch, snapshot, CFG.deals)[0], got)  # the pipeline reads them into Polars


@pytest.mark.parametrize("parts", [1, 3, 7])
def test_partitions_of_accounts_equal_one_pass(raw, parts):
    snapshot = SNAPSHOTS[1]
    cut = tables_as_of(raw, snapshot, normalise=False)
    cut["activities"] = as_polars(cut["activities"])
    whole, _ = build_deal_features(cut, snapshot, CFG.deals)
    reference, sources = snapshot_context(cut)
    groups = account_partitions(cut["opportunities"], parts)
    assert len(groups) == parts and sum(map(len, groups)) == cut["opportunities"]["account_id"].nunique() + 1
    pieces = [build_deal_features_partition(cut, accounts, CFG.deals, snapshot, reference, sources)[0]
              for accounts in groups]
    assert all(len(p) for p in pieces)
    joined = pd.concat(pieces, ignore_index=True).sort_values("opportunity_id", ignore_index=True)
    assert_same(joined, whole.sort_values("opportunity_id", ignore_index=True))


def test_a_partition_without_its_reference_sees_only_its_own_deals_history(raw):
    """Win histories come from the whole snapshot: a worker handed only its own deals must be given them."""
    snapshot = SNAPSHOTS[1]
    cut = tables_as_of(raw, snapshot, normalise=False)
    group = account_partitions(cut["opportunities"], 4)[1]
    with_context, _ = build_deal_features_partition(cut, group, CFG.deals, snapshot)
    mine = cut["opportunities"]["account_id"].isin(group)
    alone = dict(cut, opportunities=cut["opportunities"][mine])
    without, _ = build_deal_features_partition(alone, group, CFG.deals, snapshot)
    assert not with_context["owner_prior_deals"].equals(without["owner_prior_deals"])


def test_activities_read_by_polars_keep_nothing_after_the_cutoff(raw):
    snapshot = SNAPSHOTS[0]
    cut = tables_as_of(raw, snapshot, normalise=False)
    late = as_polars(raw["activities"])  # not cut: the engine cuts each deal's activities at its own cutoff
    got, _ = build_deal_features(dict(cut, activities=late.filter(pl.col("occurred_at").is_not_null())), snapshot,
                                 CFG.deals)
    assert_same(got, build_deal_features(cut, snapshot, CFG.deals)[0])


@pytest.mark.parametrize("snapshot", SNAPSHOTS)
def test_contact_engagement_equals_the_pandas_oracle(raw, snapshot):
    messages = tables_as_of(raw, snapshot, normalise=False)["messages"]
    want = pandas_campaigns.contact_engagement(messages, snapshot, CFG.campaigns)
    assert len(want) > 50 and want["replied"].sum() > 0 and want["preferred_hour"].notna().any()
    assert_same(contact_engagement(messages, snapshot, CFG.campaigns), want)
    assert_same(contact_engagement(as_polars(messages), snapshot, CFG.campaigns), want)
