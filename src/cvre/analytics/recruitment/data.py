"""The recruitment tables: jobs with their deal, salesperson and coach; clients with value and effort."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cvre.core.io import read_table
from cvre.features.pipeline import resolve_tables_dir


@dataclass
class RecruitmentData:
    jobs: pd.DataFrame
    clients: pd.DataFrame
    deals: pd.DataFrame
    reps: pd.DataFrame | None
    as_of: pd.Timestamp


def _optional(folder: Path, table: str) -> pd.DataFrame | None:
    try:
        return read_table(folder, table)
    except FileNotFoundError:
        return None


def load_recruitment(data: Path, as_of: pd.Timestamp) -> RecruitmentData:
    """Read jobs (required), opportunities, reps, accounts and activities, cut at `as_of`."""
    folder = resolve_tables_dir(Path(data))
    jobs = _optional(folder, "jobs")
    if jobs is None or jobs.empty:
        raise FileNotFoundError(f"{folder}: no back-office jobs table; `cvre analyse recruitment` needs jobs "
                                "(`cvre simulate --config configs/simulate_recruitment.yaml`, or an import that "
                                "maps a jobs file)")
    opps = _optional(folder, "opportunities")
    reps, accounts = _optional(folder, "reps"), _optional(folder, "accounts")
    activities = _optional(folder, "activities")
    jobs = jobs[jobs["opened_at"] <= as_of].copy()
    jobs = jobs.assign(closed_at=jobs["closed_at"].where(jobs["closed_at"] <= as_of))
    deals = opps[opps["created_at"] <= as_of].copy() if opps is not None else pd.DataFrame()
    return RecruitmentData(job_frame(jobs, deals, reps), client_frame(jobs, deals, accounts, activities, as_of),
                           deals, reps, as_of)


def job_frame(jobs: pd.DataFrame, deals: pd.DataFrame, reps: pd.DataFrame | None) -> pd.DataFrame:
    """Jobs with net profit, closed flag, duration, their deal's business type and the owner's role and team."""
    out = jobs.copy()
    for col in ("pitches", "mer_meetings", "offers", "placements", "candidates"):
        if col in out:
            out[col] = out[col].astype(float)
    out["fee"], out["cost"] = out["fee"].fillna(0.0), out["cost"].fillna(0.0)
    out["net_profit"] = out["fee"] - out["cost"]
    out["filled"] = out["placements"].fillna(0) > 0
    out["duration_days"] = (out["closed_at"] - out["opened_at"]).dt.total_seconds() / 86400.0
    if "job_type" not in out:
        out["job_type"] = "unknown"
    out["job_type"] = out["job_type"].astype(object).fillna("unknown")
    if len(deals) and "opportunity_id" in out:
        cols = [c for c in ("opportunity_id", "business_type", "amount", "product") if c in deals]
        out = out.merge(deals[cols], on="opportunity_id", how="left", suffixes=("", "_deal"))
    if "business_type" not in out:
        out["business_type"] = np.nan
    if reps is not None and "owner_id" in out:
        info = reps.set_index("rep_id")[[c for c in ("team", "role") if c in reps]]
        out = out.join(info.add_prefix("owner_"), on="owner_id")
    return out


def client_frame(jobs: pd.DataFrame, deals: pd.DataFrame, accounts: pd.DataFrame | None,
                 activities: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per client: jobs, turnover (fees), net profit, average basket, repeat, effort and first/last job."""
    j = jobs.assign(net=jobs["fee"].fillna(0) - jobs["cost"].fillna(0))
    g = j.groupby("account_id", observed=True)
    out = pd.DataFrame({"jobs": g.size(), "turnover": g["fee"].sum(), "net_profit": g["net"].sum(),
                        "placements": g["placements"].sum(), "pitches": g["pitches"].sum(),
                        "first_job": g["opened_at"].min(), "last_job": g["opened_at"].max()})
    out["average_basket"] = out["turnover"] / out["jobs"]
    out["repeat"] = out["jobs"] > 1
    if len(deals):
        d = deals.groupby("account_id", observed=True)
        out = out.join(pd.DataFrame({"deals": d.size()}))
        if activities is not None and "opportunity_id" in activities:
            acts = activities[activities["occurred_at"] <= as_of].merge(deals[["opportunity_id", "account_id"]],
                                                                        on="opportunity_id")
            out = out.join(acts.groupby("account_id", observed=True).size().rename("activities"))
    for col in ("deals", "activities"):
        out[col] = out[col].fillna(0.0) if col in out else 0.0
    out["effort"] = out["activities"] + out["pitches"] + out["jobs"]
    if accounts is not None:
        cols = [c for c in ("account_name", "industry", "employees", "region", "tier") if c in accounts]
        attrs = accounts.drop_duplicates("account_id").set_index("account_id")[cols]
        for col in ("industry", "region", "tier"):  # CRM free text: "Healthcare  " and "healthcare" are one value
            if col in attrs:
                attrs[col] = attrs[col].astype("string").str.strip().str.replace(r"\s+", " ", regex=True)
                attrs[col] = attrs[col].str.lower() if col != "tier" else attrs[col].str.upper()
        out = out.join(attrs)
    out.index.name = "account_id"
    return out.reset_index()
