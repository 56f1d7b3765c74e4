"""Assemble the deal feature table from canonical tables at a snapshot; absent inputs are skipped."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl

from cvre.core.field_sources import ABSENT, EVENTS, OBSERVED, behaviour_sources
from cvre.features.activities import activity_features, deal_activities
from cvre.features.config import DealFeatureConfig
from cvre.features.deals import (
    WinHistory,
    close_date_features,
    deal_cutoffs,
    lead_features,
    observed_stage_features,
    stage_features,
)
from cvre.features.timeline import composite, days_between, search_sorted, seconds

log = logging.getLogger(__name__)

ACCOUNT_CONTEXT = ["industry", "tier", "employees", "region", "country"]


def _empty(cut: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(index=range(len(cut)), columns=columns, dtype=float)


@dataclass(frozen=True)
class DealReference:
    """What a deal's row borrows from the whole snapshot rather than its own history: owner and account win
    histories, account context, contact coverage and list prices. Indexed once per set of tables, so serving
    builds it once per model snapshot and each request only featurises its own deals."""

    win_history: dict[str, WinHistory]  # owner_id / account_id -> closed deals by key
    keyed: frozenset[str]  # keys with at least one known value in the snapshot
    accounts: pd.DataFrame | None
    account_index: pd.Index | None
    contact_keys: pd.Index | None  # account ids of contacts; contact_times: their sorted composite keys
    contact_times: np.ndarray | None
    prices: pd.Series | None  # list price by normalised product name

    @classmethod
    def of(cls, tables: dict[str, pd.DataFrame]) -> DealReference:
        opps, accounts = tables["opportunities"], tables.get("accounts")
        keys = ("owner_id", "account_id")
        contacts, contact_keys, contact_times = tables.get("contacts"), None, None
        if contacts is not None and "account_id" in contacts.columns:
            codes, uniques = pd.factorize(contacts["account_id"].astype("string"))
            created = seconds(contacts["created_at"]) if "created_at" in contacts else np.zeros(len(contacts), np.int64)
            contact_keys, contact_times = pd.Index(uniques), np.sort(composite(codes[codes >= 0], created[codes >= 0]))
        products, prices = tables.get("products"), None
        if products is not None and "list_price" in products.columns:
            prices = products.assign(key=products["product"].astype("string").str.strip().str.lower()
                                     .str.replace(r"\s+", " ", regex=True)).drop_duplicates("key").set_index("key")
            prices = prices["list_price"]
        return cls(win_history={k: WinHistory.of(opps, k) for k in keys},
                   keyed=frozenset(k for k in keys if k in opps.columns and opps[k].notna().any()), accounts=accounts,
                   account_index=None if accounts is None else pd.Index(accounts["account_id"].astype("string")),
                   contact_keys=contact_keys, contact_times=contact_times, prices=prices)

    def context(self, opps: pd.DataFrame, cut: pd.DataFrame) -> pd.DataFrame:
        """Account context, contact coverage, product and list price of each row."""
        out = {}  # one frame at the end: column inserts are slow
        if self.accounts is not None:
            pos = self.account_index.get_indexer(cut["account_id"].fillna("\x00").astype("string"))
            for col in ACCOUNT_CONTEXT:
                if col in self.accounts.columns:
                    column = self.accounts[col].to_numpy(dtype=object if col != "employees" else float)
                    missing = None if col != "employees" else np.nan  # appended: unknown accounts (-1) point to it
                    out[col] = np.append(column, missing)[np.where(pos >= 0, pos, len(column))]
            out["account_known"] = pos >= 0
        if self.contact_keys is not None:
            query = self.contact_keys.get_indexer(cut["account_id"].astype("string"))
            end = seconds(cut["cutoff"]) + 1
            account = np.maximum(query, 0)
            first, last = composite(account, np.full(len(cut), -10**9)), composite(account, end)
            by_last = np.argsort(last)  # also orders `first` (same account, earliest time)
            lo, hi = search_sorted(self.contact_times, first, by_last), search_sorted(self.contact_times, last, by_last)
            out["account_contacts"] = np.where(query >= 0, hi - lo, 0).astype(float)
        for col in ("product", "business_type"):
            if col in opps.columns:
                out[col] = opps[col].to_numpy(dtype=object)
        if self.prices is not None and "product" in opps.columns:
            out["list_price"] = opps["product"].astype("string").map(self.prices).to_numpy(dtype=float)
        return pd.DataFrame(out, index=range(len(cut)))


def _fill_from_observed(events: pd.DataFrame, observed: pd.DataFrame, sources: dict[str, str]) -> pd.DataFrame:
    """Event-based stage features, with the observed field where a deal has no history or the events lack it."""
    out = events.copy()
    no_history = ~events["has_stage_history"].to_numpy(dtype=bool)
    for column in ("current_stage", "days_in_stage", "stage_moves", "backward_moves", "moves_without_activity"):
        take = no_history | (sources["stage_jump"] != EVENTS if column == "moves_without_activity" else False)
        values = observed[column].to_numpy(dtype=object if column == "current_stage" else float)
        known = pd.notna(values)
        out[column] = np.where(take & known, values, out[column].to_numpy(dtype=values.dtype))
    return out


def _leads_with_response(leads: pd.DataFrame | None) -> pd.DataFrame | None:
    """Leads whose response time is reported in hours get their response timestamp (created + hours)."""
    if leads is None or "first_response_at" in leads.columns or "first_response_hours" not in leads.columns:
        return leads
    hours = pd.to_timedelta(leads["first_response_hours"].astype("float64"), unit="h")
    return leads.assign(first_response_at=(leads["created_at"] + hours).astype("datetime64[ns]"))


def build_deal_features(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, cfg: DealFeatureConfig,
                        absent: set[str] = frozenset(), only: Collection[str] | None = None,
                        reference: DealReference | None = None,
                        sources: dict[str, str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """One row per deal (closed before `as_of`: training rows; open: scoring rows) and the warnings.

    `only`: rows for these deals alone (scoring); every table still serves as their history, so each row
    equals that of a full build. `reference`: the snapshot's closed deals, accounts, contacts and products,
    indexed (`DealReference.of`); `tables` then hold the scored deals alone, as if appended to it. `sources`:
    where each behaviour comes from (`behaviour_sources` of the whole snapshot; default: of `tables`).
    """
    warnings: list[str] = []
    opps_all = tables["opportunities"]
    reference = DealReference.of(tables) if reference is None else reference
    cut = deal_cutoffs(opps_all, as_of)
    if only is not None:
        cut = cut[cut["opportunity_id"].isin(list(only))]
    opps = opps_all.iloc[cut.index.to_numpy()]  # the export's row of each deal (a take, not a lookup by id)
    opps.index = pd.RangeIndex(len(opps))
    cut = cut.reset_index(drop=True)
    for col in ("owner_id", "account_id", "lead_id", "created_at"):
        cut[col] = opps[col].to_numpy() if col in opps.columns else None
    parts = [cut]
    parts.append(pd.DataFrame({"age_days": days_between(cut["cutoff"], cut["created_at"]),
                               "created_month": pd.to_datetime(cut["created_at"]).dt.month.to_numpy(dtype=float),
                               "snapshot_month": pd.to_datetime(cut["cutoff"]).dt.month.to_numpy(dtype=float)}))
    amount = opps["amount"] if "amount" in opps and "opportunities.amount" not in absent else None
    if amount is None:
        warnings.append("amount absent or revealing the outcome: amount features skipped")
    else:
        parts.append(pd.DataFrame({"amount": amount.to_numpy(dtype=float), "amount_missing": amount.isna().to_numpy()}))
    acts = deal_activities(tables.get("activities"), cut)
    sources = behaviour_sources(tables) if sources is None else sources
    stage_sources = {sources[k] for k in ("stalled", "stage_moves", "backward_moves", "stage_jump")}
    if "stage_history" in tables:
        stages = stage_features(tables["stage_history"], cut, acts.select("d", "t", "logged").filter(pl.col("logged")))
        if OBSERVED in stage_sources or sources["stage_jump"] == ABSENT:
            stages = _fill_from_observed(stages, observed_stage_features(opps, cut), sources)
        parts.append(stages)
    elif stage_sources != {ABSENT}:
        parts.append(observed_stage_features(opps, cut))
        warnings.append("stage_history absent: stage features from the CRM's observed fields ("
                        + ", ".join(k for k in ("stalled", "stage_moves", "backward_moves", "stage_jump")
                                    if sources[k] == OBSERVED) + ")")
    else:  # an open deal's current stage is in the export itself
        parts.append(observed_stage_features(opps, cut)[["current_stage", "has_stage_history"]])
        warnings.append("stage_history absent: stage velocity, moves and stall features skipped "
                        "(map opportunities.days_in_stage, stage_moves, backward_moves, stage_jump to use the CRM's)")
    if "activities" in tables:
        parts.append(activity_features(acts, cut, cfg))
    else:
        warnings.append("activities absent: activity cadence and evidence features skipped")
    leads = _leads_with_response(tables.get("leads"))
    if leads is not None and "first_response_at" in leads.columns:
        parts.append(lead_features(leads, cut, cfg))
        if sources["slow_response"] == OBSERVED:
            warnings.append("leads.first_response_at absent: lead response from leads.first_response_hours")
    else:
        warnings.append("leads.first_response_at absent: lead response features skipped "
                        "(map leads.first_response_at or leads.first_response_hours)")
    if "expected_close_date" in opps.columns and "opportunities.expected_close_date" not in absent:
        parts.append(close_date_features(opps, tables.get("close_date_changes", pd.DataFrame()), cut))
    else:
        warnings.append("expected_close_date absent: close-date features skipped")
    for key, prefix in (("owner_id", "owner"), ("account_id", "account")):
        if key in reference.keyed or (key in opps_all.columns and opps_all[key].notna().any()):
            parts.append(reference.win_history[key].rates(cut, key, prefix, cfg.win_rate_prior_deals))
    parts.append(reference.context(opps, cut))
    table = pd.concat([p if p.index.equals(pd.RangeIndex(len(p))) else p.reset_index(drop=True) for p in parts],
                      axis=1)  # a reset index would copy every column (seconds on a million deals)
    if "days_in_stage" in table:
        table["stalled"] = table["days_in_stage"] > cfg.stall_days
    for w in warnings:
        log.info(w)
    return table, warnings
