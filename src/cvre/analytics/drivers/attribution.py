"""Per-deal TreeSHAP contributions (LightGBM's native pred_contrib, in batches) turned into euros of shortfall.

A deal's shortfall is `amount x (p_base - p)`: the expected value it falls short of a deal of the same amount
scored at the model's base value (the average training deal). TreeSHAP splits the raw margin exactly,
`margin = base + sum(phi)`; each phi is carried to probability by the secant slope of the link (sigmoid then
calibration) between base and margin, so the euros of one deal add up to its shortfall exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from cvre.training.model import calibrated

TOP_PER_DEAL = 3
FLAT = 1e-6  # |margin - base| below which the local slope replaces the secant


def probability_link(calibrator) -> Callable[[np.ndarray], np.ndarray]:
    """Raw margin -> the probability the served model returns (sigmoid, then its calibration)."""

    def link(margin: np.ndarray) -> np.ndarray:
        raw = 1.0 / (1.0 + np.exp(-np.asarray(margin, dtype=float)))
        return calibrated(calibrator, raw) if calibrator is not None else raw

    return link


def secant_slopes(margin: np.ndarray, base: float, link) -> tuple[np.ndarray, np.ndarray, float]:
    """(p, slope, p_base): slope = (p - p_base) / (margin - base), the local slope where the two meet."""
    p, p_base = link(margin), float(link(np.array([base]))[0])
    h = 1e-3
    local = float((link(np.array([base + h])) - link(np.array([base - h])))[0] / (2 * h))
    gap = margin - base
    flat = np.abs(gap) < FLAT
    return p, np.where(flat, local, (p - p_base) / np.where(flat, 1.0, gap)), p_base


def deal_euros(contrib: np.ndarray, amount: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """Euros each feature costs each deal (positive = lowers its expected value below the base)."""
    return -(contrib * (amount * slope)[:, None])


@dataclass
class Attribution:
    """Everything the reports need, with per-deal arrays of length n and per-feature arrays of length F."""

    features: list[str]
    base_margin: float
    base_probability: float
    probability: np.ndarray
    shortfall: np.ndarray  # euros, amount x (p_base - p)
    group_eur: np.ndarray  # (n, groups) float32, positive = costs the deal
    top_feature: np.ndarray  # (n, TOP_PER_DEAL) feature index of the deal's largest costs
    top_eur: np.ndarray
    weight: np.ndarray  # Horvitz-Thompson weight of each attributed deal (1 when every deal is attributed)
    feature_cost: np.ndarray  # weighted sum over deals of the positive part
    feature_credit: np.ndarray  # sum over deals of the negative part, as a positive number
    feature_abs: np.ndarray
    feature_deals: np.ndarray  # deals the feature costs anything
    sample_index: np.ndarray
    sample_contrib: np.ndarray  # (s, F) log-odds, for the plots
    sample_eur: np.ndarray  # (s, F)


def attribute(booster: lgb.Booster, X: pd.DataFrame, amount: np.ndarray, calibrator, membership: np.ndarray,
              batch_rows: int, sample: int, seed: int, n_jobs: int = 1, progress: bool = True,
              weight: np.ndarray | None = None) -> Attribution:
    """pred_contrib over batches of `batch_rows` deals; only per-deal group sums and a seeded sample are kept."""
    n, F = len(X), X.shape[1]
    amount = np.asarray(amount, dtype=float)
    weight = np.ones(n) if weight is None else np.asarray(weight, dtype=float)
    link = probability_link(calibrator)
    sample_index = np.sort(np.random.default_rng(seed).choice(n, min(sample, n), replace=False))
    out = {"probability": np.empty(n), "shortfall": np.empty(n),
           "group_eur": np.empty((n, membership.shape[1]), np.float32),
           "top_feature": np.empty((n, min(TOP_PER_DEAL, F)), np.int16),
           "top_eur": np.empty((n, min(TOP_PER_DEAL, F)), np.float32)}
    sums = {k: np.zeros(F) for k in ("feature_cost", "feature_credit", "feature_abs", "feature_deals")}
    sample_contrib, sample_eur = np.empty((len(sample_index), F), np.float32), np.empty((len(sample_index), F))
    base = p_base = float("nan")
    with tqdm(total=n, unit="deal", desc="pred_contrib", disable=None if progress else True) as bar:
        for start in range(0, n, batch_rows):
            stop = min(start + batch_rows, n)
            contrib = booster.predict(X.iloc[start:stop], pred_contrib=True, num_threads=n_jobs)
            base = float(contrib[0, -1])
            margin = contrib.sum(axis=1)
            p, slope, p_base = secant_slopes(margin, base, link)
            eur = deal_euros(contrib[:, :-1], amount[start:stop], slope)
            rows = slice(start, stop)
            out["probability"][rows] = p
            out["shortfall"][rows] = amount[start:stop] * (p_base - p)
            out["group_eur"][rows] = eur @ membership
            top = np.argsort(-eur, axis=1)[:, :out["top_feature"].shape[1]]
            out["top_feature"][rows], out["top_eur"][rows] = top, np.take_along_axis(eur, top, axis=1)
            w = weight[start:stop]
            sums["feature_cost"] += w @ np.clip(eur, 0, None)
            sums["feature_credit"] -= w @ np.clip(eur, None, 0)
            sums["feature_abs"] += w @ np.abs(eur)
            sums["feature_deals"] += w @ (eur > 0)
            picked = np.searchsorted(sample_index, [start, stop])
            local = sample_index[picked[0]:picked[1]] - start
            sample_contrib[picked[0]:picked[1]] = contrib[local, :-1]
            sample_eur[picked[0]:picked[1]] = eur[local]
            bar.update(stop - start)
    return Attribution(list(X.columns), base, p_base, **out, weight=weight, **sums, sample_index=sample_index,
                       sample_contrib=sample_contrib, sample_eur=sample_eur)


def additivity_error(booster: lgb.Booster, X: pd.DataFrame, n_jobs: int = 1) -> float:
    """Largest |base + sum(contributions) - raw margin| over the rows of X (TreeSHAP is exact: ~1e-12)."""
    contrib = booster.predict(X, pred_contrib=True, num_threads=n_jobs)
    return float(np.abs(contrib.sum(axis=1) - booster.predict(X, raw_score=True, num_threads=n_jobs)).max())
