"""The Clients dashboard page (seed 002's RFM board): KPI board, segments, trends, categories, CLV, targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cvre.analytics.dashboards.data import embed_json
from cvre.analytics.dashboards.pages import Page, Panel, render_page

CLIENTS_PAGE = Page(
    "clients", "clients.html", "Clients: RFM segments, value and targets",
    "Who are our customers, which segment is each in, how do sales move, and whom should the next campaign reach?",
    (Panel("kpi-trend", "KPI trend (whole base; pick a KPI)", note=True),
     Panel("segments", "RFM segments: customers and revenue (click a bar to drill down)"),
     Panel("segment-rule", "Segmentation rule (R x F scores) and score ranges", chart=False),
     Panel("sales-trend", "Sales trend (day / month / quarter / year)"),
     Panel("categories", "Sales by business category"),
     Panel("clv", "Lifetime value by segment (with probability alive)", note=True),
     Panel("customers", "Customers: R, F, M scores, segment and value (search, export)", chart=False, wide=True),
     Panel("targets", "Campaign target lists (segment x churn risk x value)", chart=False, wide=True)),
)


def _codes(values: pd.Series, categories: list[str]) -> list[int]:
    return pd.Categorical(values.astype(str), categories=categories).codes.tolist()


def _nums(series: pd.Series, digits: int = 2) -> list:
    return [None if not np.isfinite(v) else v for v in series.astype(float).round(digits).tolist()]


def clients_payload(tables: dict[str, pd.DataFrame], headline: dict, active_days: int) -> dict:
    """Customer rows (ids, codes and numbers only), daily sales by segment and category, and the summaries."""
    customers, segments = tables["customers"], tables["segments"]
    seg_names = segments["segment"].tolist()
    daily = tables["daily"]
    cat_names = sorted(daily["business_category"].unique().tolist())
    favourite = (daily.groupby(["account_id", "business_category"])["revenue"].sum().reset_index()
                 .sort_values("revenue").drop_duplicates("account_id", keep="last").set_index("account_id")
                 ["business_category"])
    by_day = daily.groupby(["day", "segment", "business_category"], observed=True)["revenue"].sum().reset_index()
    days = sorted(by_day["day"].unique())
    index = {a: i for i, a in enumerate(customers["account_id"])}
    bands = ["high", "medium", "low"]
    return {
        "headline": headline, "active_days": active_days,
        "filters": [{"key": "segment", "label": "Segment", "values": seg_names},
                    {"key": "category", "label": "Main business category", "values": cat_names},
                    {"key": "band", "label": "Value band", "values": bands}],
        "segments": segments[["segment", "r_range", "f_range", "action"]].to_dict("records"),
        "score_ranges": tables["score_ranges"].assign(**{"from": lambda d: d["from"].round(2),
                                                         "to": lambda d: d["to"].round(2)}).to_dict("records"),
        "kpi_trend": {"period": tables["kpi_trend"]["period"].tolist(),
                      **{k: _nums(tables["kpi_trend"][k], 4) for k in ("customers", "active", "revenue",
                                                                         "average_basket", "repeat_rate",
                                                                         "churn_rate")}},
        "kpi_board": tables["kpi_board"].astype(object).where(tables["kpi_board"].notna(), None).to_dict("records"),
        "customers": {
            "id": customers["account_id"].astype(str).tolist(),
            "seg": {"segment": _codes(customers["segment"], seg_names),
                    "category": _codes(customers["account_id"].map(favourite).fillna(cat_names[0]), cat_names),
                    "band": _codes(customers["value_band"], bands)},
            "r": customers["r_score"].tolist(), "f": customers["f_score"].tolist(), "m": customers["m_score"].tolist(),
            "recency": _nums(customers["recency_days"], 1), "frequency": _nums(customers["frequency"], 0),
            "monetary": _nums(customers["monetary"]), "revenue": _nums(customers["revenue_total"]),
            "orders": tables["rfm"]["orders_total"].tolist(),
            "clv": _nums(customers["clv"]) if "clv" in customers else None,
            "clv_low": _nums(customers["clv_low"]) if "clv_low" in customers else None,
            "clv_high": _nums(customers["clv_high"]) if "clv_high" in customers else None,
            "p_alive": _nums(customers["p_alive"], 3) if "p_alive" in customers else None,
            "contact_by": pd.to_datetime(customers["contact_by"]).dt.strftime("%Y-%m-%d").tolist(),
        },
        "targets": {name.removeprefix("target_"): [index[a] for a in t["account_id"]]
                    for name, t in tables.items() if name.startswith("target_")},
        "daily": {"days": [str(pd.Timestamp(d).date()) for d in days],
                  "day": pd.Categorical(by_day["day"], categories=days).codes.tolist(),
                  "seg": _codes(by_day["segment"], seg_names), "cat": _codes(by_day["business_category"], cat_names),
                  "revenue": _nums(by_day["revenue"])},
    }


def write_clients_page(run, out: Path) -> Path:
    """Render the page of a ClientsRun (analytics.clients.run) into `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = embed_json(clients_payload(run.tables, run.headline, run.headline["active_days"]))
    scope = f"{run.headline['customers_total']:,} customers as of {run.headline['as_of']}"
    html = render_page(CLIENTS_PAGE, data, {"Clients": CLIENTS_PAGE.file}, scope, script="clients.js")
    path = out / CLIENTS_PAGE.file
    path.write_text(html, encoding="utf-8")
    return path
