"""Seed 000's behaviour rules, defined once: when a deal is flagged, the share of its expected value at stake, the
amount a deal without one is valued at, and its leaked euros. The API (one deal) and the leakage report (a table)
both call these functions, so the same deal gets the same flags and euros from both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cvre.core.config import StrictModel, load_config

Behaviour = Literal["stalled", "no_activity", "slow_response", "stage_jump", "overdue_close_date", "missing_amount"]
BEHAVIOURS: tuple[str, ...] = get_args(Behaviour)
Share = Annotated[float, Field(ge=0, le=1)]
DEFAULT_HAIRCUTS: dict[str, float] = {"stalled": 0.25, "no_activity": 0.20, "slow_response": 0.15, "stage_jump": 0.10,
                                      "overdue_close_date": 0.0, "missing_amount": 0.0}
RULES_VERSION = 3  # bump when a definition below changes meaning (2: one definition for the API and the report;
# 3: a deal valued at its product's list price where the snapshot knows no amount at all)
ANY_STAGE = "*"  # the key of the overall median amount among the stage medians
UNKNOWN_STAGE = "unknown"


class BehaviourRules(StrictModel):
    slow_response_hours: float = Field(48.0, gt=0, le=24 * 365)
    stall_days: float = Field(30.0, gt=0, le=3650)
    haircuts: dict[Behaviour, Share] = Field(
        default=DEFAULT_HAIRCUTS,
        description="share (0-1) of a flagged deal's expected value at risk, per behaviour; behaviours left out "
                    "keep their default")

    @field_validator("haircuts", mode="before")
    @classmethod
    def _defaults_for_behaviours_left_out(cls, value: object) -> object:
        return {**DEFAULT_HAIRCUTS, **value} if isinstance(value, dict) else value

    @property
    def version(self) -> str:
        """The definitions' version and a digest of these numbers: two runs with the same version flag alike."""
        digest = hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
        return f"v{RULES_VERSION}-{digest[:12]}"


class _RulesBlock(BaseModel):
    """The `rules:` block of the leakage config, the other blocks left to the leakage engine."""

    model_config = ConfigDict(extra="ignore")
    rules: BehaviourRules = BehaviourRules()


def load_rules(path: Path | None = None) -> BehaviourRules:
    """The one rules config: `rules:` of the leakage YAML (`path`, else the project's or packaged leakage.yaml).
    The leakage report and the scoring API both read it, so they flag and price deals alike."""
    return load_config(_RulesBlock, path, "leakage.yaml").rules


def _numbers(values, n: int) -> np.ndarray:
    """Floats with NaN for missing (None, pandas NA)."""
    if values is None:
        return np.full(n, np.nan)
    try:
        return np.asarray(values, dtype=float).reshape(n)
    except (TypeError, ValueError):  # pandas' nullable arrays: NA is not a float
        return np.array([np.nan if v is None or v != v or type(v).__name__ == "NAType" else float(v)
                         for v in values], dtype=float)


def _truths(values, n: int) -> np.ndarray:
    """Booleans with missing as False."""
    if values is None:
        return np.zeros(n, dtype=bool)
    array = np.asarray(values)
    if array.dtype == bool:
        return array.reshape(n)
    if array.dtype.kind in "fiu":
        return np.nan_to_num(array.astype(float)).reshape(n) != 0
    return np.array([v is True or (isinstance(v, bool | np.bool_ | int | float) and v == v and bool(v))
                     for v in array.reshape(n)], dtype=bool)


def behaviour_flags(columns: Mapping, n: int, rules: BehaviourRules) -> dict[str, np.ndarray]:
    """One boolean array per behaviour from a deal table's columns (a DataFrame, or a dict of arrays for the API).

    A deal without a lead is never flagged for slow response; an unknown activity count (no activities table) is
    not "none"; a behaviour whose field is absent is never flagged."""
    get = columns.get
    days_in_stage = np.nan_to_num(_numbers(get("days_in_stage"), n))
    response = np.nan_to_num(_numbers(get("lead_response_hours"), n))
    return {
        "stalled": days_in_stage > rules.stall_days,
        "no_activity": _numbers(get("activities_total"), n) == 0,
        "slow_response": _truths(get("has_lead"), n) & (response > rules.slow_response_hours),
        "stage_jump": np.nan_to_num(_numbers(get("moves_without_activity"), n)) > 0,
        "overdue_close_date": _truths(get("close_date_overdue"), n),
        "missing_amount": _truths(get("amount_missing"), n),
    }


def largest_haircut(flags: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """Per deal, the largest weight among its flagged behaviours (never the sum: overlapping failures count once)."""
    out = None
    for behaviour, weight in weights.items():
        if behaviour in flags:
            hit = np.where(np.asarray(flags[behaviour], dtype=bool), weight, 0.0)
            out = hit if out is None else np.maximum(out, hit)
    return np.zeros(len(next(iter(flags.values())))) if out is None else out


def primary_behaviours(flags: Mapping[str, np.ndarray], haircuts: Mapping[str, float]) -> list[str | None]:
    """Per deal, the flagged behaviour with the largest haircut (the one its leaked euros come from), else None."""
    ranked = [b for b in sorted(haircuts, key=lambda b: -haircuts[b]) if b in flags and haircuts[b] > 0]
    n = len(next(iter(flags.values())))
    out: list[str | None] = [None] * n
    for behaviour in reversed(ranked):  # the largest last: it wins
        for i in np.flatnonzero(np.asarray(flags[behaviour], dtype=bool)):
            out[i] = behaviour
    return out


def amount_stages(current_stage, won, n: int) -> list[str]:
    """Seed 000's stage for amounts: an open deal's current stage, a closed deal's outcome (won or lost)."""
    stages = [UNKNOWN_STAGE] * n if current_stage is None else [
        s if isinstance(s, str) else UNKNOWN_STAGE for s in np.asarray(current_stage, dtype=object).reshape(n)]
    if won is not None:
        outcome = _numbers(won, n)
        stages = [s if o != o else ("won" if o == 1 else "lost") for s, o in zip(stages, outcome, strict=True)]
    return stages


def stage_medians(amount, stages: list[str]) -> dict[str, float]:
    """The median known amount per stage, and the overall one under ANY_STAGE (stages without amounts left out)."""
    values = _numbers(amount, len(stages))
    known = ~np.isnan(values)
    keys = np.asarray(stages, dtype=object)
    out = {str(s): float(np.median(values[known & (keys == s)])) for s in dict.fromkeys(keys[known])}
    if known.any():
        out[ANY_STAGE] = float(np.median(values[known]))
    return out


AMOUNT_SOURCES = ("deal", "stage_median", "list_price", "none")


def valuation(amount, stages: list[str], medians: Mapping[str, float], list_price=None) -> tuple[np.ndarray, list[str]]:
    """The amount a deal is valued at and where it comes from (`AMOUNT_SOURCES`): its own; else its stage's median,
    else the overall median (seed 000's rule); else, where the snapshot knows no amount at all (an export whose
    amount is the outcome, as Maven's close_value), its product's list price, known before the close; else 0."""
    n = len(stages)
    own = _numbers(amount, n)
    fallback = medians.get(ANY_STAGE, np.nan)
    median = np.array([medians.get(s, fallback) for s in stages], dtype=float)
    price = _numbers(list_price, n)
    price[~(price > 0)] = np.nan
    source = np.select([~np.isnan(own), ~np.isnan(median), ~np.isnan(price)], [0, 1, 2], 3)
    value = np.select([source == 0, source == 1, source == 2], [own, median, price], 0.0)
    return value, [AMOUNT_SOURCES[k] for k in source.tolist()]


def leaked_ev(ev: np.ndarray, flags: Mapping[str, np.ndarray], rules: BehaviourRules) -> np.ndarray:
    """Expected value at risk: the EV times the largest haircut among the deal's flagged behaviours."""
    return np.asarray(ev, dtype=float) * largest_haircut(flags, rules.haircuts)
