"""The features of one deal at request time, from its payload and the model's reference tables, in plain Python.

The same definitions as the batch table (`deal_table.build_deal_features`), row by row: a deal's own history is
a few dozen events, so loops over it cost microseconds where a DataFrame costs milliseconds. The reference
(closed deals, accounts, contacts, products at the model's snapshot) is indexed once into dicts and sorted arrays
(`RequestReference.of`). `tests/features/test_request.py` checks every column against the batch tables.

A payload is any object with the API deal's attributes (`serving.schemas.DealIn`): opportunity_id, account_id,
owner_id, product, business_type, created_at, stage, amount, expected_close_date, stage_history (stage,
entered_at), activities (activity_type, occurred_at, logged), lead (lead_id, source, created_at,
first_response_at), close_date_changes (changed_at, old_expected_close_date, new_expected_close_date).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

import numpy as np
import pandas as pd

from cvre.core.schema import ACTIVITY_TYPES, STAGES_OPEN
from cvre.features.config import DealFeatureConfig
from cvre.features.deal_table import ACCOUNT_CONTEXT, DealReference
from cvre.features.deals import STAGE_ORDER

NAN = math.nan
EPOCH = datetime(1970, 1, 1)
WHITESPACE = re.compile(r"\s+")
TYPE_INDEX = {name: k for k, name in enumerate(ACTIVITY_TYPES)}


def clean_label(value: str | None) -> str | None:
    """What `snapshot.clean_labels` does to one free category: trimmed, lower case, single spaces."""
    return None if value is None else WHITESPACE.sub(" ", value.strip().lower())


def _ns(moment: datetime) -> int:
    """Nanoseconds since the epoch of a naive UTC time (the tables' datetime64[ns])."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def _s(ns: int) -> int:
    """Whole seconds, as `timeline.seconds` (datetime64[s]) rounds: down."""
    return ns // 10**9


@dataclass(frozen=True)
class _Wins:
    """One key's closed deals (owner or account): close times sorted, running wins."""

    closes: np.ndarray
    wins: np.ndarray  # wins[k]: wins among the first k closes


@dataclass(frozen=True)
class RequestReference:
    """The model's reference at a scoring time, as dicts and sorted arrays for one-deal lookups."""

    wins: dict[str, dict[str, _Wins]]  # key column -> id ("\x00": missing) -> closed deals
    keyed: frozenset[str]
    all_closes: np.ndarray  # every closed deal's close time (ns), sorted
    all_wins: np.ndarray
    accounts: dict[str, tuple] | None  # account id -> ACCOUNT_CONTEXT values present (`account_columns`)
    account_columns: tuple[str, ...]
    contacts: dict[str, np.ndarray] | None  # account id -> contact creation seconds, sorted
    prices: dict[str, float] | None  # normalised product -> list price

    @classmethod
    def of(cls, index: DealReference) -> RequestReference:
        """From the batch path's index of the same tables (`DealReference.of`), so both read one reference."""
        wins: dict[str, dict[str, _Wins]] = {}
        for key, history in index.win_history.items():
            per_key: dict[str, _Wins] = {}
            width = len(history.times) + 1
            codes = history.by_key // width
            bounds = np.searchsorted(codes, np.arange(len(history.keys) + 1))
            for code, name in enumerate(history.keys):
                lo, hi = bounds[code], bounds[code + 1]
                per_key[str(name)] = _Wins(history.times[history.by_key[lo:hi] % width],
                                           history.key_wins[lo:hi + 1] - history.key_wins[lo])
            wins[key] = per_key
        any_history = next(iter(index.win_history.values()))
        accounts, columns = None, ()
        if index.accounts is not None:
            columns = tuple(c for c in ACCOUNT_CONTEXT if c in index.accounts.columns)
            values = [index.accounts[c].to_numpy(dtype=object if c != "employees" else float) for c in columns]
            accounts = {}
            for i, aid in enumerate(index.account_index):
                if aid is not pd.NA and aid not in accounts:  # get_indexer finds the first
                    accounts[aid] = tuple(v[i] for v in values)
        contacts = None
        if index.contact_keys is not None:
            scale, offset = np.int64(10**10), np.int64(-10**9)
            group, secs = index.contact_times // scale, index.contact_times % scale + offset  # sorted by group
            bounds = np.searchsorted(group, np.arange(len(index.contact_keys) + 1))
            contacts = {str(k): secs[bounds[code]:bounds[code + 1]] for code, k in enumerate(index.contact_keys)}
        prices = None if index.prices is None else {str(k): float(v) for k, v in index.prices.items()}
        return cls(wins, index.keyed, any_history.closes, any_history.wins, accounts, columns, contacts, prices)

    def rates(self, key: str, value: str | None, cutoff_ns: int, prior: float) -> tuple[float, float]:
        """Closed deals of the same owner/account strictly before the cutoff: count and smoothed win rate."""
        found = self.wins[key].get("\x00" if value is None else value)
        n = wins = 0.0
        if found is not None:
            k = int(np.searchsorted(found.closes, cutoff_ns))
            n, wins = float(k), float(found.wins[k])
        before = int(np.searchsorted(self.all_closes, cutoff_ns))
        base = self.all_wins[before] / before if before > 0 else 0.5
        return n, (wins + prior * base) / (n + prior)


def _stage_features(deal, acts_logged: list[int], cutoff_s: int, as_of_ns: int, age_days: float) -> dict:
    """`acts_logged`: the seconds of the deal's logged activities known at the cutoff, sorted."""
    entries = sorted(((_s(t), STAGE_ORDER.get(e.stage, NAN)) for e in deal.stage_history
                      if (t := _ns(e.entered_at)) <= as_of_ns), key=lambda x: x[0])
    entries = [e for e in entries if e[0] <= cutoff_s]
    moves = backward = skips = unevidenced = 0.0
    longest = NAN
    for i, (t, order) in enumerate(entries):
        next_t = entries[i + 1][0] if i + 1 < len(entries) else cutoff_s
        stay = (next_t - t) / 86_400.0
        longest = stay if longest != longest or stay > longest else longest
        if i == 0:
            continue
        prev_t, prev_order = entries[i - 1]
        moves += 1
        backward += order < prev_order
        skips += order - prev_order > 1
        first = bisect_left(acts_logged, prev_t)  # the first logged activity at or after the previous move
        unevidenced += not (first < len(acts_logged) and acts_logged[first] < t)
    last_order = entries[-1][1] if entries else NAN
    known = last_order == last_order
    return {
        "current_stage": STAGES_OPEN[int(last_order)] if known and 0 <= last_order < len(STAGES_OPEN) else NAN,
        "days_in_stage": (cutoff_s - entries[-1][0]) / 86_400.0 if entries else NAN,
        "stage_moves": moves, "stage_velocity": moves / max(age_days, 1.0) * 30.0, "backward_moves": backward,
        "stage_skips": skips, "moves_without_activity": unevidenced, "max_days_in_stage": longest,
        "has_stage_history": bool(known),
    }


def _activity_features(acts: list[tuple[int, int, bool]], cutoff_s: int, created_s: int, age_days: float,
                       cfg: DealFeatureConfig) -> dict:
    """`acts`: (seconds, type index, logged) of the deal's activities known at the cutoff."""
    out: dict = {}
    ages = [(cutoff_s - t) / 86_400.0 for t, _, _ in acts]
    for window in cfg.activity_windows_days:
        counts = [0.0] * len(ACTIVITY_TYPES)
        inside = 0.0
        for age, (_, kind, _) in zip(ages, acts, strict=True):
            if age < window:
                inside += 1
                if kind >= 0:  # an unknown activity type counts in the totals only
                    counts[kind] += 1
        for k, name in enumerate(ACTIVITY_TYPES):
            out[f"{name}s_{window}d"] = counts[k]
        out[f"activities_{window}d"] = inside
    total = float(len(acts))
    out["activities_total"] = total
    out["activities_per_30d"] = total / max(age_days, 1.0) * 30.0
    out["logged_share"] = sum(1.0 for *_, logged in acts if logged) / max(total, 1) if total > 0 else NAN
    since_last = min(ages) if ages else NAN
    out["days_since_last_activity"] = since_last
    if acts:
        times = sorted(t for t, _, _ in acts)
        gaps = [(times[0] - created_s) / 86_400.0] + [(b - a) / 86_400.0 for a, b in pairwise(times)]
        out["longest_gap_days"] = max(max(gaps), since_last)
    else:
        out["longest_gap_days"] = age_days
    out["no_activity"] = total == 0
    return out


def _lead_features(deal, cutoff_s: int, as_of_ns: int, cfg: DealFeatureConfig) -> dict:
    lead = deal.lead
    if lead is None or _ns(lead.created_at) > as_of_ns:  # a lead created after the scoring time is not known yet
        return {"has_lead": False, "lead_response_hours": NAN, "lead_unanswered": False,
                "slow_lead_response": False, "lead_source": None}
    created = _s(_ns(lead.created_at))
    response = lead.first_response_at
    answered = response is not None and (r := _ns(response)) <= as_of_ns and _s(r) <= cutoff_s
    hours = ((_s(r) if answered else cutoff_s) - created) / 3600.0
    return {"has_lead": True, "lead_response_hours": hours, "lead_unanswered": not answered,
            "slow_lead_response": hours > cfg.slow_response_hours, "lead_source": clean_label(lead.source)}


def _close_date_features(deal, cutoff_s: int, as_of_ns: int) -> dict:
    value = NAN if deal.expected_close_date is None else float(_s(_ns(deal.expected_close_date)))
    changes = sorted(((_s(t), c) for c in deal.close_date_changes if (t := _ns(c.changed_at)) <= as_of_ns),
                     key=lambda x: x[0])
    before = [c for t, c in changes if t <= cutoff_s]
    if before:
        value = float(_s(_ns(before[-1].new_expected_close_date)))
    days = (value - cutoff_s) / 86_400.0
    return {"close_date_pushes": float(len(before)), "expected_close_missing": value != value,
            "days_to_expected_close": days, "close_date_overdue": days < 0}


def deal_feature_rows(deals: list, as_of: datetime, ref: RequestReference, cfg: DealFeatureConfig) -> list[dict]:
    """`deal_features` of many deals at one time; an owner's or account's win rate at that time is looked up
    once for the whole batch."""
    rates: dict = {}
    return [deal_features(d, as_of, ref, cfg, rates) for d in deals]


def deal_features(deal, as_of: datetime, ref: RequestReference, cfg: DealFeatureConfig,
                  rates: dict | None = None) -> dict:
    """One open deal's feature row at `as_of` (a dict of the batch table's columns), as the batch path builds it
    for the same deal appended to the reference tables (`rates`: win rates already looked up at `as_of`)."""
    rates = {} if rates is None else rates
    as_of_ns, created_ns = _ns(as_of), _ns(deal.created_at)
    cutoff_s, created_s = _s(as_of_ns), _s(created_ns)
    age_days = (as_of_ns - created_ns) / 10**9 / 86_400.0
    row: dict = {"opportunity_id": deal.opportunity_id, "cutoff": as_of, "won": NAN, "is_open": True,
                 "owner_id": deal.owner_id, "account_id": deal.account_id,
                 "lead_id": deal.lead.lead_id if deal.lead else None, "created_at": deal.created_at,
                 "age_days": age_days, "created_month": float(deal.created_at.month),
                 "snapshot_month": float(as_of.month),
                 "amount": NAN if deal.amount is None else float(deal.amount), "amount_missing": deal.amount is None}
    acts = [(s, TYPE_INDEX.get(a.activity_type, -1), bool(a.logged)) for a in deal.activities
            if (t := _ns(a.occurred_at)) <= as_of_ns and (s := _s(t)) <= cutoff_s]
    row |= _stage_features(deal, sorted(t for t, _, logged in acts if logged), cutoff_s, as_of_ns, age_days)
    row |= _activity_features(acts, cutoff_s, created_s, age_days, cfg)
    row |= _lead_features(deal, cutoff_s, as_of_ns, cfg)
    row |= _close_date_features(deal, cutoff_s, as_of_ns)
    for key, prefix in (("owner_id", "owner"), ("account_id", "account")):
        value = getattr(deal, key)
        if key in ref.keyed or value is not None:
            if (found := rates.get((key, value))) is None:
                found = rates[key, value] = ref.rates(key, value, as_of_ns, cfg.win_rate_prior_deals)
            row[f"{prefix}_prior_deals"], row[f"{prefix}_win_rate"] = found
    if ref.accounts is not None:
        found = ref.accounts.get(deal.account_id) if deal.account_id is not None else None
        for k, col in enumerate(ref.account_columns):
            row[col] = found[k] if found is not None else (NAN if col == "employees" else None)
        row["account_known"] = found is not None
    if ref.contacts is not None:
        times = ref.contacts.get(deal.account_id) if deal.account_id is not None else None
        row["account_contacts"] = 0.0 if times is None else float(bisect_right(times, cutoff_s))
    product = clean_label(deal.product)
    row["product"], row["business_type"] = product, deal.business_type
    if ref.prices is not None:
        row["list_price"] = ref.prices.get(product, NAN) if product is not None else NAN
    row["stalled"] = row["days_in_stage"] > cfg.stall_days
    return row

