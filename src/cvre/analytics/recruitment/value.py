"""Seed 001's value questions: seasonality, value per client, repeat business, tiers and their drivers,
time wasters and the typical best client."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.analytics.recruitment.answer import Answer, Chart, money
from cvre.analytics.recruitment.config import RecruitmentConfig
from cvre.analytics.recruitment.data import RecruitmentData

TIER_NAMES = ("top", "large", "medium", "small")
DRIVER_COLUMNS = ("industry", "region", "tier", "employees", "jobs", "repeat", "share_senior_jobs", "fill_rate")


def seasonality(d: RecruitmentData) -> Answer:
    j = d.jobs.assign(month=d.jobs["opened_at"].dt.to_period("M").astype(str),
                      month_of_year=d.jobs["opened_at"].dt.month, year=d.jobs["opened_at"].dt.year.astype(str))
    by_month = j.groupby(["month", "year", "month_of_year"]).agg(jobs=("job_id", "size"), fees=("fee", "sum"),
                                                                 net_profit=("net_profit", "sum")).reset_index()
    season = by_month.groupby("month_of_year")["jobs"].mean()
    index = season / season.mean()
    peak, low = int(index.idxmax()), int(index.idxmin())
    return Answer("seasonality", "Seasonality", "When in the year do jobs and fees come in?",
                  {"Peak month": f"{pd.Timestamp(2000, peak, 1).month_name()} ({index.max():.2f}x average)",
                   "Low month": f"{pd.Timestamp(2000, low, 1).month_name()} ({index.min():.2f}x)",
                   "Jobs per month": f"{by_month['jobs'].mean():.1f}"},
                  by_month, Chart("bar", "month", ["jobs"]), slicer="year",
                  detail=j[["month", "job_id", "account_id", "job_type", "fee", "net_profit"]],
                  notes=[f"seasonal index by month of year: {', '.join(f'{m}: {v:.2f}' for m, v in index.items())}"])


def client_value(d: RecruitmentData) -> Answer:
    c = d.clients.sort_values("net_profit", ascending=False)
    cols = [x for x in ("account_id", "account_name", "industry", "tier", "jobs", "turnover", "net_profit",
                        "average_basket", "repeat") if x in c]
    return Answer("client_value", "Turnover, net profit and average basket per client",
                  "How much does each client bring, and what is the average basket?",
                  {"Clients": f"{len(c):,}", "Turnover": money(c["turnover"].sum()),
                   "Net profit": money(c["net_profit"].sum()),
                   "Average basket (fees per job)": money(c["turnover"].sum() / max(c["jobs"].sum(), 1)),
                   "Median turnover per client": money(c["turnover"].median())},
                  c[cols], Chart("bar", "account_id", ["net_profit", "turnover"], text="account_name"),
                  slicer="industry" if "industry" in c else None)


def repeat_business(d: RecruitmentData) -> Answer:
    c = d.clients
    j = d.jobs.sort_values("opened_at")
    gaps = j.groupby("account_id")["opened_at"].diff().dt.days.dropna()
    table = c.groupby("repeat").agg(clients=("account_id", "size"), turnover=("turnover", "sum"),
                                    net_profit=("net_profit", "sum"), jobs=("jobs", "sum")).reset_index()
    table["repeat"] = np.where(table["repeat"], "repeat (2+ jobs)", "one job")
    table["profit_share"] = table["net_profit"] / table["net_profit"].sum()
    rep = c[c["repeat"]]
    return Answer("repeat_business", "Repeat business", "How many clients come back, and what are they worth?",
                  {"Repeat clients": f"{c['repeat'].mean():.1%}",
                   "Profit from repeat clients": f"{rep['net_profit'].sum() / c['net_profit'].sum():.1%}"
                   if c["net_profit"].sum() else "n/a",
                   "Median days between jobs": f"{gaps.median():.0f}" if len(gaps) else "n/a"},
                  table, Chart("bar", "repeat", ["net_profit", "turnover"]),
                  detail=c.assign(repeat=np.where(c["repeat"], "repeat (2+ jobs)", "one job"))[
                      [x for x in ("repeat", "account_id", "account_name", "jobs", "net_profit") if x in c]])


def client_tiers(clients: pd.DataFrame, shares: tuple[float, float, float]) -> pd.Series:
    """top / large / medium / small by rank of net profit: the top shares[0], next shares[1], next shares[2]."""
    rank = clients["net_profit"].rank(ascending=False, method="first") / len(clients)
    edges = np.cumsum(shares)
    return pd.Series(np.select([rank <= edges[0], rank <= edges[1], rank <= edges[2]], TIER_NAMES[:3], "small"),
                     index=clients.index)


def _driver_frame(d: RecruitmentData) -> pd.DataFrame:
    j = d.jobs.assign(senior=d.jobs["job_type"].isin(["sales_manager", "head_of_sales"]).astype(float))
    per = j.groupby("account_id").agg(share_senior_jobs=("senior", "mean"), fill_rate=("filled", "mean"))
    return d.clients.join(per, on="account_id")


def tiers(d: RecruitmentData, cfg: RecruitmentConfig) -> Answer:
    import lightgbm as lgb

    c = _driver_frame(d)
    c["client_tier"] = client_tiers(c, cfg.tiers)
    summary = c.groupby("client_tier").agg(clients=("account_id", "size"), net_profit=("net_profit", "sum"),
                                           turnover=("turnover", "sum"), jobs=("jobs", "sum")).reindex(
        list(TIER_NAMES)).fillna(0).reset_index()
    summary["profit_share"] = summary["net_profit"] / summary["net_profit"].sum()
    cols = [x for x in DRIVER_COLUMNS if x in c]
    X = c[cols].copy()
    for col in X.columns:
        if X[col].dtype == object or str(X[col].dtype) in ("string", "boolean", "bool"):
            X[col] = X[col].astype(str).astype("category")
    top20 = c["client_tier"] != "small"
    model = lgb.LGBMRegressor(n_estimators=200, learning_rate=0.05, num_leaves=15, min_child_samples=10,
                              random_state=cfg.seed, n_jobs=cfg.n_jobs, verbose=-1)
    model.fit(X, c["net_profit"])
    contrib = model.predict(X, pred_contrib=True)[:, :-1]
    drivers = pd.DataFrame({"feature": cols, "mean_abs_shap": np.abs(contrib).mean(axis=0),
                            "mean_shap_top20": contrib[top20.to_numpy()].mean(axis=0),
                            "mean_shap_rest": contrib[~top20.to_numpy()].mean(axis=0)}).sort_values(
        "mean_abs_shap", ascending=False)
    top = drivers.iloc[0]
    detail_cols = [x for x in ("client_tier", "account_id", "account_name", "industry", "tier", "jobs", "net_profit")
                   if x in c]
    return Answer("tiers", "Client tiers: top 1% / large 4% / medium 15%", "Which clients make the profit, and why?",
                  {"Top 20% share of net profit": f"{summary['profit_share'].iloc[:3].sum():.1%}",
                   "Top 1% share": f"{summary['profit_share'].iloc[0]:.1%}",
                   "Strongest driver (SHAP)": f"{top['feature']} ({money(top['mean_abs_shap'])} per client)"},
                  summary, Chart("bar", "client_tier", ["net_profit"]),
                  detail=c.sort_values("net_profit", ascending=False)[detail_cols],
                  notes=["drivers: LightGBM on client attributes -> net profit; mean |SHAP| in profit units: "
                         + "; ".join(f"{r.feature} {money(r.mean_abs_shap)} (top 20% {money(r.mean_shap_top20)}, "
                                     f"rest {money(r.mean_shap_rest)})" for r in drivers.itertuples())])


def time_wasters(d: RecruitmentData, cfg: RecruitmentConfig) -> Answer:
    c = d.clients.copy()
    high_effort = c["effort"] > c["effort"].quantile(cfg.time_waster_effort_quantile)
    high_value = c["net_profit"] > c["net_profit"].median()
    c["quadrant"] = np.select([high_effort & ~high_value, high_effort & high_value, ~high_effort & high_value],
                              ["time waster", "worth the effort", "efficient"], "low touch")
    c["profit_per_effort"] = c["net_profit"] / c["effort"].where(c["effort"] > 0)
    wasters = c[c["quadrant"] == "time waster"].sort_values("effort", ascending=False)
    cols = [x for x in ("quadrant", "account_id", "account_name", "effort", "activities", "pitches", "jobs",
                        "net_profit", "profit_per_effort") if x in c]
    return Answer("time_wasters", "Time wasters", "Which clients take most of our time without being vital?",
                  {"Time wasters": f"{len(wasters):,} clients",
                   "Their share of effort": f"{wasters['effort'].sum() / c['effort'].sum():.1%}",
                   "Their share of net profit": f"{wasters['net_profit'].sum() / c['net_profit'].sum():.1%}"
                   if c["net_profit"].sum() else "n/a",
                   "Worst": str(wasters.iloc[0].get("account_name", wasters.iloc[0]["account_id"]))
                   if len(wasters) else "none"},
                  c[cols].sort_values(["quadrant", "effort"], ascending=[True, False]),
                  Chart("scatter", "effort", ["net_profit"], group="quadrant", text="account_name"
                        if "account_name" in c else "account_id"), slicer="quadrant",
                  notes=["effort = CRM activities on the client's deals + candidates pitched + jobs opened; "
                         f"high effort: above the {cfg.time_waster_effort_quantile:.0%} quantile; "
                         "high value: net profit above the median"])


def typical_client(d: RecruitmentData, cfg: RecruitmentConfig) -> Answer:
    c = d.clients.copy()
    c["top_20"] = client_tiers(c, cfg.tiers) != "small"
    if "employees" in c:
        c["size"] = pd.cut(c["employees"], [0, 50, 250, 1000, np.inf], labels=["<50", "50-249", "250-999", "1000+"])
    c["repeat_client"] = np.where(c["repeat"], "repeat", "one job")  # always known, even without account data
    rows = []
    for attribute in [x for x in ("industry", "region", "tier", "size", "repeat_client") if x in c]:
        g = c.groupby(attribute, observed=True)
        block = pd.DataFrame({"clients": g.size(), "net_profit_per_client": g["net_profit"].mean(),
                              "top20_share": g["top_20"].mean()})
        block["lift"] = block["top20_share"] / c["top_20"].mean()
        rows.append(block.reset_index().rename(columns={attribute: "value"}).assign(attribute=attribute))
    table = pd.concat(rows, ignore_index=True)[["attribute", "value", "clients", "net_profit_per_client",
                                                "top20_share", "lift"]]
    table["value"] = table["value"].astype(str)
    best = table.loc[table.groupby("attribute")["net_profit_per_client"].idxmax()]
    profile = ", ".join(f"{r.attribute} {r.value}" for r in best.itertuples())
    return Answer("typical_client", "The typical client we do best with",
                  "What kind of client brings the most profit per client?",
                  {"Best profile": profile, "Top-20% clients": f"{int(c['top_20'].sum()):,}"},
                  table, Chart("bar", "value", ["net_profit_per_client"]), slicer="attribute",
                  notes=["lift = share of top-20% clients in the group / overall share"])
