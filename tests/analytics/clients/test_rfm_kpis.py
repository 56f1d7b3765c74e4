"""RFM scores, segments, KPI board and target lists on hand-computed small worlds."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from cvre.analytics.clients.config import ClientsConfig, RfmConfig, Segment
from cvre.analytics.clients.kpis import kpi_board, kpi_trend
from cvre.analytics.clients.rfm import orders, quantile_scores, rfm_table, segment_summary
from cvre.analytics.clients.targeting import contact_by, customer_targets, target_list
from cvre.analytics.clients.trends import category_sales, sales_trend, with_context

T = pd.Timestamp


def tx_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["account_id", "occurred_at", "amount", "business_category"]).assign(
        occurred_at=lambda d: pd.to_datetime(d["occurred_at"]))


@pytest.fixture()
def tx() -> pd.DataFrame:
    return tx_frame([
        ("a", "2024-01-05", 100.0, "x"), ("a", "2024-01-05", 50.0, "y"),  # one basket of 150
        ("a", "2024-02-10", 200.0, "x"), ("a", "2024-03-20", 100.0, "x"),
        ("b", "2024-01-15", 40.0, "y"),
        ("c", "2024-02-01", 500.0, "x"), ("c", "2024-03-01", 500.0, "y"),
        ("d", "2024-03-30", 10.0, "y"),
    ])


def test_quantile_scores_share_ties_and_order_values():
    scores = quantile_scores(pd.Series([1.0, 1.0, 1.0, 5.0, 9.0]), 5)
    assert scores.tolist() == [1, 1, 1, 4, 5]


def test_rfm_values_and_segments_by_hand(tx):
    rfm = rfm_table(orders(tx), T("2024-03-31"), RfmConfig()).set_index("account_id")
    assert rfm.loc["a", "frequency"] == 3 and rfm.loc["a", "monetary"] == 450.0  # same-time lines: one order
    assert rfm.loc["b", "recency_days"] == 76 and rfm.loc["d", "recency_days"] == 1
    # frequency 3 > 2 > 1 = 1: a scores highest, b and d tie at the lowest score
    assert rfm.loc["a", "f_score"] == 5 and rfm.loc["b", "f_score"] == rfm.loc["d", "f_score"] == 1
    assert rfm.loc["d", "r_score"] == 5 and rfm.loc["b", "r_score"] == 1
    assert rfm.loc["a", "segment"] == "loyal" and rfm.loc["b", "segment"] == "lost"  # R4 F5; R1 F1
    assert rfm.loc["d", "segment"] == "new_customers"  # R5 F1
    summary = segment_summary(rfm.reset_index(), RfmConfig()).set_index("segment")
    assert summary["customers"].sum() == 4 and summary.loc["champions", "customers"] == 0
    assert summary["revenue"].sum() == pytest.approx(tx["amount"].sum())


def test_segment_rule_must_cover_the_grid():
    with pytest.raises(ValidationError, match="R1F1"):
        RfmConfig(bins=2, segments=[Segment(name="top", r=(2, 2), f=(1, 2)), Segment(name="x", r=(1, 1), f=(2, 2))])
    with pytest.raises(ValidationError, match="unknown segments"):
        ClientsConfig(targets=[{"name": "t", "segments": ["vips"]}])


def test_kpi_trend_by_hand(tx):
    frame = kpi_trend(orders(tx), T("2024-03-31"), "month", active_days=30)
    trend = frame.set_index("period")
    assert trend["customers"].tolist() == [2, 2, 3]  # Jan a,b; Feb a,c; Mar a,c,d
    assert trend.loc["2024-03", "revenue"] == 610.0 and trend.loc["2024-03", "orders"] == 3
    assert trend.loc["2024-02", "repeat_rate"] == 0.5  # a bought before February, c did not
    # active at Jan 31 (30 days): a, b; at Feb 29: a, c; b left -> churn 1/2
    assert trend.loc["2024-02", "churn_rate"] == 0.5
    board = kpi_board(frame).set_index("kpi")
    assert board.loc["revenue", "period"] == "2024-03" and board.loc["revenue", "previous"] == 700.0
    assert board.loc["revenue", "change"] == pytest.approx(610 / 700 - 1)


def test_trends_and_categories(tx):
    rfm = rfm_table(orders(tx), T("2024-03-31"), RfmConfig())
    ctx = with_context(tx, rfm)
    q = sales_trend(ctx, "quarter")
    assert q["period"].tolist() == ["2024Q1"] and q["revenue"].iloc[0] == tx["amount"].sum()
    cats = category_sales(ctx).set_index("business_category")
    assert cats.loc["x", "revenue"] == 900.0 and cats["revenue_share"].sum() == pytest.approx(1.0)


def test_contact_date_and_target_lists(tx):
    as_of = T("2024-03-31")
    rfm = rfm_table(orders(tx), as_of, RfmConfig())
    due = contact_by(rfm, as_of).set_axis(rfm["account_id"])
    # a: 3 orders over 75 days -> every 37.5 days after 2024-03-20; c: 29 days after 2024-03-01 -> already due
    assert due["a"] == T("2024-04-26") and due["c"] == as_of
    customers = customer_targets(rfm, None, as_of, ClientsConfig())
    lost = target_list(customers, ClientsConfig().targets[0].model_copy(update={"segments": ["lost"],
                                                                                 "value_bands": ["low"]}))
    assert lost["account_id"].tolist() == ["b"]
