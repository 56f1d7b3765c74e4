"""The features of the deals of one request, from their payloads and the model's reference, column by column.

The same definitions as the batch table (`deal_table.build_deal_features`) over a request's own deals: every deal's
activities, stage entries and close-date changes are flattened once into arrays (deal, second, ...) sorted by deal
then time, and each feature is a handful of numpy reductions over the whole batch (bincount, reduceat, searchsorted
on packed (deal, second) keys), so a 1,000-deal request costs a few Python passes over its events, not 1,000 small
loops. One deal is a batch of one (`deal_features`). The reference (closed deals, accounts, contacts, products at
the model's snapshot) is indexed once into dicts and sorted arrays (`RequestReference.of`).
`tests/features/test_request.py` checks every column against the batch tables.

A payload is any object with the API deal's attributes (`serving.schemas.DealIn`, naive UTC times): opportunity_id,
account_id, owner_id, product, business_type, created_at, stage, amount, expected_close_date, stage_history (stage,
entered_at), activities (activity_type, occurred_at, logged), lead (lead_id, source, created_at, first_response_at),
close_date_changes (changed_at, old_expected_close_date, new_expected_close_date).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain, repeat
from operator import attrgetter

import numpy as np
import pandas as pd

from cvre.core.schema import ACTIVITY_TYPES, STAGES_OPEN
from cvre.features.config import DealFeatureConfig
from cvre.features.deal_table import ACCOUNT_CONTEXT, DealReference
from cvre.features.deals import STAGE_ORDER, WinHistory

NAN = math.nan
EPOCH = datetime(1970, 1, 1)
MICROSECOND = timedelta(microseconds=1)
SECS_OFFSET = np.int64(2**33)  # seconds + 2**33 > 0 from 1697 on
NEVER = np.iinfo(np.int64).max
PANDAS_FROM = 100  # times converted at once: from here pandas' parser is the faster (`_us`)
WHITESPACE = re.compile(r"\s+")
TYPE_INDEX = {name: k for k, name in enumerate(ACTIVITY_TYPES)}
WIN_KEYS = (("owner_id", "owner"), ("account_id", "account"))


def clean_label(value: str | None) -> str | None:
    """What `snapshot.clean_labels` does to one free category: trimmed, lower case, single spaces."""
    return None if value is None else WHITESPACE.sub(" ", value.strip().lower())


@dataclass(frozen=True)
class RequestReference:
    """The model's reference at a scoring time, as dicts and sorted arrays for a request's lookups."""

    wins: dict[str, WinHistory]  # key column -> closed deals by key
    codes: dict[str, dict[str, int]]  # key column -> id ("\x00": missing) -> its code in `wins`
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
        codes = {key: {str(name): code for code, name in enumerate(history.keys)}
                 for key, history in index.win_history.items()}
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
        return cls(dict(index.win_history), codes, index.keyed, any_history.closes, any_history.wins, accounts,
                   columns, contacts, prices)

    def rates(self, key: str, values: list[str | None], cutoff_ns: int, prior: float) -> tuple[np.ndarray, ...]:
        """Closed deals of each value's owner/account strictly before the cutoff: count and smoothed win rate."""
        history, codes = self.wins[key], self.codes[key]
        code = np.array([codes.get("\x00" if v is None else v, -1) for v in values], dtype=np.int64)
        first = np.maximum(code, 0) * (len(history.times) + 1)
        start = history.by_key.searchsorted(first)  # methods, not np.*: a one-deal request is mostly overhead
        end = history.by_key.searchsorted(first + history.times.searchsorted(cutoff_ns))
        known = code >= 0  # an unknown id: no closed deal
        n = ((end - start) * known).astype(float)
        wins = (history.key_wins[end] - history.key_wins[start]) * known
        before = int(self.all_closes.searchsorted(cutoff_ns))
        base = self.all_wins[before] / before if before > 0 else 0.5
        return n, (wins + prior * base) / (n + prior)


@dataclass(frozen=True)
class _Batch:
    """What every column of a batch reads: its size, the scoring time and each deal's creation."""

    n: int
    as_of_us: int
    cutoff_s: int  # whole seconds, rounded down as `timeline.seconds` (datetime64[s]) does
    created_s: np.ndarray
    age_days: np.ndarray


def _us(moments: list[datetime]) -> np.ndarray:
    """Microseconds since the epoch of naive UTC times (a datetime's own resolution, so exact), as int64.
    Measured on the benchmark's 5,500 activity times: pandas' parser ~0.2 us a time but ~25 us to start, Python's
    timedelta arithmetic ~0.3 us and nothing to start, `np.array(moments, dtype="datetime64[us]")` ~2 us."""
    if len(moments) > PANDAS_FROM:
        index = pd.DatetimeIndex(moments)
        return index.asi8 // 1000 if index.unit == "ns" else index.as_unit("us").asi8
    return np.array([(m - EPOCH) // MICROSECOND for m in moments], dtype=np.int64)


def _looked_up(items: list, name: str, lookup: dict, missing: float, dtype: type) -> np.ndarray:
    """Each item's `name` through `lookup` (`missing` where it has no entry)."""
    return np.fromiter(map(lookup.get, map(attrgetter(name), items), repeat(missing)), dtype, len(items))


def _previous(values: np.ndarray, fill) -> np.ndarray:
    """Each value's predecessor (`fill` for the first)."""
    out = np.empty_like(values)
    out[:1], out[1:] = fill, values[:-1]
    return out


def _pack(deal: np.ndarray, secs: np.ndarray) -> np.ndarray:
    """One sortable int64 per (deal, second): times from 1697 to 2241 fit the low 35 bits."""
    return (deal << 35) | (secs + SECS_OFFSET)


@dataclass(frozen=True)
class _History:
    """One history of every deal in the batch, the events known at the scoring time, by deal then time (ties in
    the order sent, as a stable sort of one deal's events)."""

    pos: np.ndarray  # each event's position in the flat list sent
    deal: np.ndarray
    secs: np.ndarray
    first: np.ndarray  # bool: the deal's first event
    last: np.ndarray  # bool: the deal's last event

    @classmethod
    def of(cls, items: list, sizes: list[int], field: str, as_of_us: int) -> _History:
        """`items`: every deal's events, deal after deal (`sizes` each), their time in `field`."""
        us = _us(list(map(attrgetter(field), items)))
        pos = (us <= as_of_us).nonzero()[0]
        deal = np.arange(len(sizes)).repeat(sizes)[pos]
        secs = us[pos] // 10**6
        order = _pack(deal, secs).argsort(kind="stable")
        pos, deal, secs = pos[order], deal[order], secs[order]
        first, last = np.empty(len(deal), dtype=bool), np.empty(len(deal), dtype=bool)
        first[:1], last[-1:] = True, True
        np.not_equal(deal[1:], deal[:-1], out=first[1:])
        last[:-1] = first[1:]
        return cls(pos, deal, secs, first, last)

    def count(self, n: int, mask: np.ndarray | None = None) -> np.ndarray:
        """Events per deal (those of `mask`), as float."""
        return np.bincount(self.deal if mask is None else self.deal[mask], minlength=n).astype(float)

    def per_deal(self, values: np.ndarray, n: int) -> np.ndarray:
        """One value per deal: the value at its last event (NaN for deals with none)."""
        out = np.full(n, NAN)
        out[self.deal[self.last]] = values[self.last]
        return out

    def group_max(self, values: np.ndarray, n: int) -> np.ndarray:
        """The largest of each deal's values (NaN for deals with no event)."""
        out = np.full(n, NAN)
        if len(values):
            starts = self.first.nonzero()[0]
            out[self.deal[starts]] = np.maximum.reduceat(values, starts)
        return out


def _flat(deals: list, field: str) -> tuple[list, list[int]]:
    """Every deal's `field` list concatenated, and each deal's length."""
    lists = list(map(attrgetter(field), deals))
    return list(chain.from_iterable(lists)), list(map(len, lists))


def _activity_columns(deals: list, ctx: _Batch, cfg: DealFeatureConfig) -> tuple[dict, np.ndarray]:
    """The activity columns, and the (deal, second) keys of the logged activities known at the scoring time."""
    acts, sizes = _flat(deals, "activities")
    n, known = ctx.n, _History.of(acts, sizes, "occurred_at", ctx.as_of_us)
    kinds = _looked_up(acts, "activity_type", TYPE_INDEX, -1, np.int64)[known.pos]
    ages = (ctx.cutoff_s - known.secs) / 86_400.0
    out: dict = {}
    # every window in one count: by deal, type (an unknown type in a slot of its own, counted in the totals only)
    # and bucket (how many windows are at most the event's age); summed over buckets, a window holds the buckets
    # up to its rank (windows are nested)
    windows = np.asarray(cfg.activity_windows_days, dtype=float)
    ranked = np.sort(windows)
    types, buckets = len(ACTIVITY_TYPES) + 1, len(windows) + 1
    slot = np.where(kinds >= 0, kinds, types - 1)
    counts = np.bincount((known.deal * types + slot) * buckets + ranked.searchsorted(ages, side="right"),
                         minlength=n * types * buckets).reshape(n, types, buckets).cumsum(axis=2)
    by_window = np.ascontiguousarray(counts.transpose(2, 1, 0), dtype=float)  # [window rank, type, deal]
    for window, rank in zip(cfg.activity_windows_days, ranked.searchsorted(windows).tolist(), strict=True):
        for k, name in enumerate(ACTIVITY_TYPES):
            out[f"{name}s_{window}d"] = by_window[rank, k]
        out[f"activities_{window}d"] = by_window[rank].sum(axis=0)
    total = known.count(n)
    logged = np.fromiter(map(attrgetter("logged"), acts), dtype=bool, count=len(acts))[known.pos]
    out["activities_total"] = total
    out["activities_per_30d"] = total / np.maximum(ctx.age_days, 1.0) * 30.0
    out["logged_share"] = np.where(total > 0, known.count(n, logged) / np.maximum(total, 1), NAN)
    since_last = known.per_deal(ages, n)  # the last event is the latest: the smallest age
    out["days_since_last_activity"] = since_last
    gaps = np.where(known.first, known.secs - ctx.created_s[known.deal], known.secs - _previous(known.secs, 0))
    longest = np.fmax(known.group_max(gaps / 86_400.0, n), since_last)
    out["longest_gap_days"] = np.where(total > 0, longest, ctx.age_days)
    out["no_activity"] = total == 0
    return out, _pack(known.deal[logged], known.secs[logged])  # sorted: the events are


def _stage_columns(deals: list, ctx: _Batch, logged: np.ndarray) -> dict:
    """`logged`: the sorted (deal, second) keys of the deals' logged activities known at the scoring time."""
    n = ctx.n
    entries, sizes = _flat(deals, "stage_history")
    known = _History.of(entries, sizes, "entered_at", ctx.as_of_us)
    order = _looked_up(entries, "stage", STAGE_ORDER, NAN, float)[known.pos]
    following = np.empty_like(known.secs)  # the next entry's time, or the cutoff
    following[:-1] = known.secs[1:]
    following[known.last] = ctx.cutoff_s
    moved = ~known.first  # an entry after the deal's first: a move
    prev_order, prev_secs = _previous(order, NAN), _previous(known.secs, 0)
    keys = np.append(logged, NEVER)
    # a move is evidenced by a logged activity in [previous entry, this entry)
    first = keys.searchsorted(_pack(known.deal, prev_secs), side="left")
    evidenced = keys[first] < _pack(known.deal, known.secs)
    backward, skips = moved & (order < prev_order), moved & (order - prev_order > 1)  # NaN: an unknown stage
    moves = known.count(n, moved)
    last_order = known.per_deal(order, n)
    since_entry = (ctx.cutoff_s - known.per_deal(known.secs.astype(float), n)) / 86_400.0
    stage = [STAGES_OPEN[int(k)] if k == k and 0 <= k < len(STAGES_OPEN) else None for k in last_order.tolist()]
    return {
        "current_stage": stage, "days_in_stage": since_entry,
        "stage_moves": moves, "stage_velocity": moves / np.maximum(ctx.age_days, 1.0) * 30.0,
        "backward_moves": known.count(n, backward), "stage_skips": known.count(n, skips),
        "moves_without_activity": known.count(n, moved & ~evidenced),
        "max_days_in_stage": known.group_max((following - known.secs) / 86_400.0, n),
        "has_stage_history": ~np.isnan(last_order),
    }


def _lead_columns(leads: list, ctx: _Batch, cfg: DealFeatureConfig) -> dict:
    n = ctx.n
    at = [i for i, lead in enumerate(leads) if lead is not None]
    given = [leads[i] for i in at]
    created = _us([lead.created_at for lead in given])
    response = np.array([NEVER if (r := lead.first_response_at) is None else (r - EPOCH) // MICROSECOND
                         for lead in given], dtype=np.int64)
    known = created <= ctx.as_of_us  # a lead created after the scoring time is not known yet
    answered = response[known] <= ctx.as_of_us
    hours = (np.where(answered, response[known] // 10**6, ctx.cutoff_s) - created[known] // 10**6) / 3600.0
    rows = np.array(at, dtype=np.int64)[known]
    out = {"has_lead": np.zeros(n, dtype=bool), "lead_response_hours": np.full(n, NAN),
           "lead_unanswered": np.zeros(n, dtype=bool), "slow_lead_response": np.zeros(n, dtype=bool)}
    out["has_lead"][rows] = True
    out["lead_response_hours"][rows] = hours
    out["lead_unanswered"][rows] = ~answered
    out["slow_lead_response"][rows] = hours > cfg.slow_response_hours
    source: list[str | None] = [None] * n
    labels: dict[str | None, str | None] = {}
    for i in rows.tolist():
        raw = leads[i].source
        source[i] = labels[raw] if raw in labels else labels.setdefault(raw, clean_label(raw))
    return out | {"lead_source": source}


def _close_date_columns(deals: list, ctx: _Batch) -> dict:
    n = ctx.n
    value = np.full(n, NAN)
    expected = [d.expected_close_date for d in deals]
    given = [i for i, moment in enumerate(expected) if moment is not None]
    value[given] = _us([expected[i] for i in given]) // 10**6
    changes, sizes = _flat(deals, "close_date_changes")
    known = _History.of(changes, sizes, "changed_at", ctx.as_of_us)
    latest = known.pos[known.last].tolist()  # each deal's last change known at the scoring time
    value[known.deal[known.last]] = _us([changes[i].new_expected_close_date for i in latest]) // 10**6
    days = (value - ctx.cutoff_s) / 86_400.0
    return {"close_date_pushes": known.count(n), "expected_close_missing": np.isnan(value),
            "days_to_expected_close": days, "close_date_overdue": days < 0}


def _reference_columns(keys: dict[str, list], products: list, ctx: _Batch, ref: RequestReference,
                       cfg: DealFeatureConfig) -> dict:
    """Win rates, account context, contacts, product and list price."""
    out: dict = {}
    for key, prefix in WIN_KEYS:
        values = keys[key]
        if key in ref.keyed or any(v is not None for v in values):
            out[f"{prefix}_prior_deals"], out[f"{prefix}_win_rate"] = ref.rates(
                key, values, ctx.as_of_us * 1000, cfg.win_rate_prior_deals)
    accounts = keys["account_id"]
    if ref.accounts is not None:
        context = [None if a is None else ref.accounts.get(a) for a in accounts]
        for k, col in enumerate(ref.account_columns):
            if col == "employees":
                out[col] = np.array([NAN if c is None else c[k] for c in context], dtype=float)
            else:
                out[col] = [None if c is None else c[k] for c in context]
        out["account_known"] = np.array([c is not None for c in context], dtype=bool)
    if ref.contacts is not None:
        counts = {a: 0.0 if a is None or (times := ref.contacts.get(a)) is None
                  else float(bisect_right(times, ctx.cutoff_s)) for a in set(accounts)}
        out["account_contacts"] = np.array([counts[a] for a in accounts], dtype=float)
    labels = {p: clean_label(p) for p in set(products)}
    out["product"] = [labels[p] for p in products]
    out["business_type"] = keys["business_type"]
    if ref.prices is not None:
        out["list_price"] = np.array([NAN if p is None else ref.prices.get(p, NAN) for p in out["product"]],
                                     dtype=float)
    return out


def deal_feature_columns(deals: list, as_of: datetime, ref: RequestReference,
                         cfg: DealFeatureConfig) -> dict[str, np.ndarray | list]:
    """The open deals' features at `as_of`, column by column (the batch table's columns, in its order), as the
    batch path builds them for the same deals appended to the reference tables. Numbers are float64 arrays (NaN:
    missing), flags bool arrays; ids, categories and labels lists of str or None; `cutoff`, `created_at` datetimes."""
    n = len(deals)
    as_of_us = (as_of - EPOCH) // MICROSECOND
    created = list(map(attrgetter("created_at"), deals))
    created_us = _us(created)
    ctx = _Batch(n, as_of_us, as_of_us // 10**6, created_us // 10**6, (as_of_us - created_us) / 10**6 / 86_400.0)
    keys = {k: list(map(attrgetter(k), deals)) for k in ("owner_id", "account_id", "business_type")}
    leads, amounts = list(map(attrgetter("lead"), deals)), list(map(attrgetter("amount"), deals))
    out: dict = {
        "opportunity_id": list(map(attrgetter("opportunity_id"), deals)), "cutoff": [as_of] * n, "won": np.full(n, NAN),
        "is_open": np.ones(n, dtype=bool), "owner_id": keys["owner_id"], "account_id": keys["account_id"],
        "lead_id": [None if lead is None else lead.lead_id for lead in leads], "created_at": created,
        "age_days": ctx.age_days, "created_month": np.array([c.month for c in created], dtype=float),
        "snapshot_month": np.full(n, float(as_of.month)),
        "amount": np.array([NAN if a is None else a for a in amounts], dtype=float),
        "amount_missing": np.array([a is None for a in amounts], dtype=bool)}
    activities, logged = _activity_columns(deals, ctx, cfg)
    out |= _stage_columns(deals, ctx, logged)
    out |= activities
    out |= _lead_columns(leads, ctx, cfg)
    out |= _close_date_columns(deals, ctx)
    out |= _reference_columns(keys, list(map(attrgetter("product"), deals)), ctx, ref, cfg)
    out["stalled"] = out["days_in_stage"] > cfg.stall_days
    return out


def deal_feature_rows(deals: list, as_of: datetime, ref: RequestReference, cfg: DealFeatureConfig) -> list[dict]:
    """`deal_feature_columns` as one dict per deal, values as Python floats, bools and strings. As one deal's row
    always read: an unknown current stage is NaN, and a deal without an owner (account) has no owner (account) win
    rate columns when no deal of the snapshot has one."""
    columns = deal_feature_columns(deals, as_of, ref, cfg)
    names = list(columns)
    values = [c.tolist() if isinstance(c, np.ndarray) else c for c in columns.values()]
    rows = [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
    unranked = [(key, f"{prefix}_prior_deals", f"{prefix}_win_rate") for key, prefix in WIN_KEYS
                if key not in ref.keyed and f"{prefix}_win_rate" in columns]
    for row in rows:
        if row["current_stage"] is None:
            row["current_stage"] = NAN
        for key, *rates in unranked:
            if row[key] is None:
                for name in rates:
                    del row[name]
    return rows


def deal_features(deal, as_of: datetime, ref: RequestReference, cfg: DealFeatureConfig) -> dict:
    """One open deal's feature row at `as_of` (a dict of the batch table's columns): a batch of one."""
    return deal_feature_rows([deal], as_of, ref, cfg)[0]
