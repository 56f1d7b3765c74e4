"""The request path (one deal from its payload, plain Python) against the batch table, column by column."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from cvre.core.io import read_table
from cvre.features.config import DealFeatureConfig
from cvre.features.deal_table import DealReference, build_deal_features
from cvre.features.request import RequestReference, deal_feature_columns, deal_feature_rows, deal_features
from cvre.features.snapshot import tables_as_of
from cvre.training.reference import REFERENCE_TABLES

HISTORIES = ("stage_history", "activities", "leads", "close_date_changes")
CFG = DealFeatureConfig()
DEALS = 1000
CHANGE_TIMES = ("changed_at", "old_expected_close_date", "new_expected_close_date")


def _none(value):
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _time(value):
    value = _none(value)
    return None if value is None else pd.Timestamp(value).to_pydatetime(warn=False)


def payloads(world: dict[str, pd.DataFrame], ids: list[str]) -> list[SimpleNamespace]:
    """The deals as the API receives them: their row and their own histories, as exported (before any cut)."""
    by = {n: world[n].groupby("opportunity_id") for n in ("stage_history", "activities", "close_date_changes")}
    leads = world["leads"].set_index("lead_id")
    opps = world["opportunities"].set_index("opportunity_id")
    out = []
    for oid in ids:
        o = opps.loc[oid]
        rows = {n: g.get_group(oid) if oid in g.groups else world[n].iloc[:0] for n, g in by.items()}
        lead = None
        if _none(o["lead_id"]) is not None and o["lead_id"] in leads.index:
            row = leads.loc[o["lead_id"]]
            times = {k: _time(row[k]) for k in ("created_at", "first_response_at")}
            lead = SimpleNamespace(lead_id=o["lead_id"], source=_none(row["source"]), **times)
        out.append(SimpleNamespace(
            opportunity_id=oid, account_id=_none(o["account_id"]), owner_id=_none(o["owner_id"]),
            product=_none(o["product"]), business_type=_none(o["business_type"]), created_at=_time(o["created_at"]),
            stage=o["stage"], amount=_none(o["amount"]), expected_close_date=_time(o["expected_close_date"]), lead=lead,
            stage_history=[SimpleNamespace(stage=s, entered_at=_time(t)) for s, t in
                           zip(rows["stage_history"]["stage"], rows["stage_history"]["entered_at"], strict=True)],
            activities=[SimpleNamespace(activity_type=k, occurred_at=_time(t), logged=bool(g)) for k, t, g in
                        zip(rows["activities"]["activity_type"], rows["activities"]["occurred_at"],
                            rows["activities"]["logged"], strict=True)],
            close_date_changes=[SimpleNamespace(changed_at=_time(a), old_expected_close_date=_time(b),
                                                new_expected_close_date=_time(c))
                                for a, b, c in zip(*(rows["close_date_changes"][k] for k in CHANGE_TIMES),
                                                   strict=True)]))
    return out


def assert_same(row: dict, batch: pd.Series, where: str) -> None:
    for column, expected in batch.items():
        got = row[column]
        if isinstance(expected, str) or isinstance(got, str):
            assert _none(got) == _none(expected), f"{where}: {column}: {got!r} != {expected!r}"
        elif _none(expected) is None:
            assert _none(got) is None, f"{where}: {column}: {got!r}, expected missing"
        elif isinstance(expected, pd.Timestamp):
            assert pd.Timestamp(got) == expected, f"{where}: {column}"
        else:
            assert float(got) == pytest.approx(float(expected), abs=1e-9, rel=0), f"{where}: {column}: {got}"


@pytest.fixture(scope="module")
def world(small_world) -> dict[str, pd.DataFrame]:
    export = small_world / "export"
    return {n: read_table(export, n) for n in (*REFERENCE_TABLES, *HISTORIES) if (export / f"{n}.parquet").exists()}


def test_request_features_equal_the_batch_table(world):
    """1,000 open deals over several snapshots: every column of the batch row, to 1e-9."""
    opps = world["opportunities"]
    times = pd.date_range(opps["created_at"].quantile(0.3), opps["created_at"].max(), periods=10)
    rng = np.random.default_rng(12)
    per_time = DEALS // len(times) + 1
    checked = 0
    for as_of in times:
        now = tables_as_of(world, as_of)
        batch, _ = build_deal_features(now, as_of, CFG)
        batch = batch[batch["is_open"]].set_index("opportunity_id", drop=False)
        reference = {n: t for n, t in now.items() if n in REFERENCE_TABLES}
        reference["opportunities"] = reference["opportunities"].query("outcome in ['won', 'lost']")
        ref = RequestReference.of(DealReference.of(reference))
        ids = rng.choice(batch.index.to_numpy(), size=min(per_time, len(batch)), replace=False).tolist()
        for deal in payloads(world, ids):
            row = deal_features(deal, as_of.to_pydatetime(), ref, CFG)
            assert_same(row, batch.loc[deal.opportunity_id], f"{deal.opportunity_id} at {as_of}")
            checked += 1
    assert checked >= DEALS


def _same_value(column, i: int, value) -> bool:
    got = column[i]
    if isinstance(column, np.ndarray):
        return bool(np.isnan(got) and np.isnan(value)) if column.dtype.kind == "f" and got != got else got == value
    return got == value or (got is None and value is not None and value != value)  # a row's unknown stage: NaN


def test_batching_does_not_change_a_value(world):
    """`deal_feature_columns` over a batch equals, deal for deal, `deal_features` of each deal alone; with deals
    without any history, a lead created after the scoring time, unknown accounts and no owner in the batch."""
    opps = world["opportunities"]
    as_of = opps["created_at"].quantile(0.7)
    now = tables_as_of(world, as_of)
    reference = {n: t for n, t in now.items() if n in REFERENCE_TABLES}
    reference["opportunities"] = reference["opportunities"].query("outcome in ['won', 'lost']")
    ref = RequestReference.of(DealReference.of(reference))
    moment = as_of.to_pydatetime()
    open_ids = opps.loc[opps["created_at"] <= as_of, "opportunity_id"]
    deals = payloads(world, np.random.default_rng(3).choice(open_ids.to_numpy(), 300, replace=False).tolist())
    bare = deals[0].__dict__ | {"opportunity_id": "BARE", "stage_history": [], "activities": [], "lead": None,
                                "close_date_changes": [], "expected_close_date": None, "amount": None}
    late = next(d for d in deals if d.lead is not None)
    late = late.__dict__ | {"opportunity_id": "LATE-LEAD", "lead": SimpleNamespace(
        **late.lead.__dict__ | {"lead_id": "LATE", "created_at": moment + pd.Timedelta(days=2).to_pytimedelta()})}
    deals += [SimpleNamespace(**bare), SimpleNamespace(**late),
              SimpleNamespace(**deals[1].__dict__ | {"opportunity_id": "NEW-ACCOUNT", "account_id": "NO-SUCH-ACCOUNT",
                                                     "owner_id": None})]
    columns = deal_feature_columns(deals, moment, ref, CFG)
    kinds = {name: c.dtype.kind if isinstance(c, np.ndarray) else "list" for name, c in columns.items()}
    assert set(kinds.values()) == {"f", "b", "list"}, kinds
    assert (kinds["amount"], kinds["stalled"], kinds["current_stage"], kinds["cutoff"]) == ("f", "b", "list", "list")
    alone = [deal_features(d, moment, ref, CFG) for d in deals]
    assert list(columns) == list(alone[0]) and all(len(c) == len(deals) for c in columns.values())
    for i, row in enumerate(alone):
        assert list(row) == list(columns), deals[i].opportunity_id
        wrong = [name for name, value in row.items() if not _same_value(columns[name], i, value)]
        assert not wrong, f"{deals[i].opportunity_id}: {[(w, columns[w][i], row[w]) for w in wrong]}"
    rows = deal_feature_rows(deals, moment, ref, CFG)
    assert all(list(r) == list(a) and all(r[k] == v or (v != v and r[k] != r[k]) for k, v in a.items())
               for r, a in zip(rows, alone, strict=True))
    by_id = {row["opportunity_id"]: row for row in alone}
    assert by_id["BARE"]["no_activity"] and not by_id["BARE"]["has_stage_history"]
    assert not by_id["LATE-LEAD"]["has_lead"] and by_id["LATE-LEAD"]["lead_id"] == "LATE"
    assert not by_id["NEW-ACCOUNT"]["account_known"] and by_id["NEW-ACCOUNT"]["account_prior_deals"] == 0
    assert columns["moves_without_activity"].max() > 0 and columns["stage_moves"].max() > 1
