"""Declared schemas of the feature tables (names, dtypes, ranges), checked before anything is written."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cvre.core.schema import ACTIVITY_TYPES


@dataclass(frozen=True)
class Field:
    kind: str  # "number", "flag", "category", "time", "id"
    low: float | None = None
    high: float | None = None


class ContractError(ValueError):
    """A feature table that breaks its declared schema; the message names table, column and rows."""


def _n(low=0.0, high=None) -> Field:
    return Field("number", low, high)


DEAL_CATEGORIES = ("current_stage", "lead_source", "industry", "tier", "region", "country", "product",
                   "business_type")

DEAL_CONTRACT: dict[str, Field] = {
    "opportunity_id": Field("id"), "cutoff": Field("time"), "won": Field("number", 0, 1),
    "is_open": Field("flag"), "owner_id": Field("id"), "account_id": Field("id"), "lead_id": Field("id"),
    "created_at": Field("time"),
    "age_days": _n(), "created_month": _n(1, 12), "snapshot_month": _n(1, 12),
    "amount": _n(), "amount_missing": Field("flag"),
    "days_in_stage": _n(), "stage_moves": _n(), "stage_velocity": _n(), "backward_moves": _n(),
    "stage_skips": _n(), "moves_without_activity": _n(), "max_days_in_stage": _n(),
    "has_stage_history": Field("flag"), "stalled": Field("flag"),
    "activities_total": _n(), "activities_per_30d": _n(), "logged_share": _n(0, 1), "days_since_last_activity": _n(),
    "longest_gap_days": _n(), "no_activity": Field("flag"),
    "has_lead": Field("flag"), "lead_response_hours": _n(), "lead_unanswered": Field("flag"),
    "slow_lead_response": Field("flag"),
    "close_date_pushes": _n(), "expected_close_missing": Field("flag"), "days_to_expected_close": _n(None),
    "close_date_overdue": Field("flag"),
    "owner_prior_deals": _n(), "owner_win_rate": _n(0, 1), "account_prior_deals": _n(), "account_win_rate": _n(0, 1),
    "employees": _n(), "account_known": Field("flag"), "account_contacts": _n(), "list_price": _n(),
    **{c: Field("category") for c in DEAL_CATEGORIES},
}
for _w in (7, 30, 90):
    DEAL_CONTRACT[f"activities_{_w}d"] = _n()
    for _t in ACTIVITY_TYPES:
        DEAL_CONTRACT[f"{_t}s_{_w}d"] = _n()

CLIENT_CATEGORIES = ("rfm_segment", "industry", "tier", "region")
CLIENT_CONTRACT: dict[str, Field] = {
    "account_id": Field("id"), "snapshot": Field("time"), "churned": Field("number", 0, 1),
    "turnover": _n(None), "purchases_total": _n(), "recency_days": _n(), "tenure_days": _n(), "frequency": _n(),
    "monetary": _n(None), "average_basket": _n(None), "r_score": _n(1, 10), "f_score": _n(1, 10),
    "m_score": _n(1, 10), "rfm_score": Field("id"), "deals_closed": _n(), "deals_won": _n(),
    "deal_win_rate": _n(0, 1), "repeat_business": Field("flag"), "jobs": _n(), "placements": _n(),
    "net_profit": _n(None), "chats_180d": _n(), "chat_response_minutes": _n(), "chat_unresolved_share": _n(0, 1),
    "messages_received": _n(), "message_read_rate": _n(0, 1), "message_reply_rate": _n(0, 1),
    **{c: Field("category") for c in CLIENT_CATEGORIES},
}


def _kind_ok(series: pd.Series, kind: str) -> bool:
    if kind == "number":
        return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if kind == "flag":
        return pd.api.types.is_bool_dtype(series)
    if kind == "time":
        return pd.api.types.is_datetime64_any_dtype(series)
    return series.dtype == object or pd.api.types.is_string_dtype(series) or isinstance(series.dtype,
                                                                                          pd.CategoricalDtype)


def check_contract(df: pd.DataFrame, contract: dict[str, Field], table: str) -> None:
    """Raise ContractError for an undeclared or mistyped column or an out-of-range value."""
    problems = []
    undeclared = [c for c in df.columns if c not in contract]
    if undeclared:
        problems.append(f"undeclared columns {undeclared}")
    for name in df.columns.intersection(list(contract)):
        rule, col = contract[name], df[name]
        if col.isna().all():
            continue
        if not _kind_ok(col, rule.kind):
            problems.append(f"{name}: expected {rule.kind}, got dtype {col.dtype}")
            continue
        if rule.kind != "number":
            continue
        values = col.to_numpy(dtype=float, na_value=np.nan)
        bad = np.zeros(len(values), bool)
        if rule.low is not None:
            bad |= values < rule.low
        if rule.high is not None:
            bad |= values > rule.high
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            problems.append(f"{name}: {int(bad.sum())} values outside [{rule.low}, {rule.high}], "
                            f"first at row {first}: {values[first]!r}")
    if problems:
        raise ContractError(f"feature table {table!r} breaks its contract:\n  - " + "\n  - ".join(problems))


def model_features(contract: dict[str, Field], label: str) -> tuple[list[str], list[str]]:
    """Feature columns of a contract: (all features, categorical ones); ids, times and label excluded."""
    features = [c for c, f in contract.items() if f.kind in ("number", "flag", "category") and c != label]
    return features, [c for c in features if contract[c].kind == "category"]
