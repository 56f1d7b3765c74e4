"""Doubly robust scores of a modified treatment policy, owner-clustered intervals, overlap and sensitivity.

For a deal with behaviour A, context X, outcome Y and amount w, the rule's effect on its expected revenue
has the efficient influence function (Diaz & van der Laan 2012; Haneuse & Rotnitzky 2013)

    phi = w * [ m(d(A), X) - m(A, X) + (r(A, X) - 1) * (Y - m(A, X)) ],

with d the rule, m the win model and r the density ratio of moved to observed behaviour. The sum of phi
over a set of deals estimates the euros the rule would have added to them; it stays consistent when
either m or r is right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from cvre.analytics.recovery.nuisance import CrossFit


def dr_scores(cf: CrossFit, scenario: str, y: np.ndarray, amount: np.ndarray) -> np.ndarray:
    m = cf.m_observed
    return amount * (cf.m_shifted[scenario] - m + (cf.ratio[scenario] - 1.0) * (y - m))


def plugin_scores(cf: CrossFit, scenario: str, amount: np.ndarray) -> np.ndarray:
    return amount * (cf.m_shifted[scenario] - cf.m_observed)


def pooled_correction(plugin: np.ndarray, correction: np.ndarray, amount: np.ndarray,
                      rows: np.ndarray) -> np.ndarray:
    """Per deal of `rows`: its plug-in euros plus its amount's share of the doubly robust correction of every
    closed deal (the win model's error per euro taken as the same inside and outside the period)."""
    per_euro = float(correction.sum() / amount.sum()) if amount.sum() else 0.0
    return plugin[rows] + per_euro * amount[rows]


def pooled_variance(plugin: np.ndarray, correction: np.ndarray, amount: np.ndarray, rows: np.ndarray,
                    clusters: np.ndarray) -> float:
    """Variance of the pooled total, owner-clustered: the period's plug-in scores and every deal's correction."""
    share = float(amount[rows].sum() / amount.sum()) if amount.sum() else 0.0
    influence = share * (correction - correction.mean())
    influence[rows] += plugin[rows] - plugin[rows].mean()
    return clustered_variance(influence, clusters)


def clustered_variance(scores: np.ndarray, clusters: np.ndarray) -> float:
    """Variance of a sum of per-deal influence scores, deals of one owner allowed to move together."""
    if len(scores) < 2:
        return 0.0
    centred = pd.Series(scores - scores.mean()).groupby(pd.Series(clusters).astype(str).to_numpy()).sum()
    g = len(centred)
    return float(g / max(g - 1, 1) * (centred**2).sum())


def interval(total: float, variance: float, level: float) -> tuple[float, float]:
    half = norm.ppf(0.5 + level / 2.0) * np.sqrt(max(variance, 0.0))
    return total - half, total + half


def overlap_report(cf: CrossFit, scenario: str, moved: np.ndarray, amount: np.ndarray, max_ratio: float) -> dict:
    """Affected deals with comparable observed deals near where the rule moves them, and what was truncated."""
    at_shift = cf.ratio_at_shift[scenario][moved]
    cut = cf.truncated[scenario]
    return {"affected_deals": int(moved.sum()),
            "overlap_share": float(np.mean(at_shift <= max_ratio)) if moved.any() else 1.0,
            "truncated_deals": int(cut.sum()),
            "truncated_amount_share": float(amount[cut].sum() / amount.sum()) if amount.sum() else 0.0}


def e_value(risk_ratio: float) -> float:
    """VanderWeele & Ding's E-value: the risk ratio an unmeasured confounder would need with both the
    behaviour and winning to explain the effect away."""
    rr = risk_ratio if risk_ratio >= 1 else 1.0 / max(risk_ratio, 1e-12)
    return float(rr + np.sqrt(rr * (rr - 1.0)))


def sensitivity(estimate: float, bound: float, base_ev: float, affected_amount: float) -> dict:
    """How strong an unmeasured confounder would have to be to erase the estimate (and its interval bound)."""
    if base_ev <= 0:
        return {"e_value": 1.0, "e_value_ci": 1.0, "erasing_bias_points": 0.0}
    toward_null = bound if np.sign(bound) == np.sign(estimate) else 0.0
    return {"e_value": e_value((base_ev + estimate) / base_ev),
            "e_value_ci": e_value((base_ev + toward_null) / base_ev) if toward_null else 1.0,
            "erasing_bias_points": float(100.0 * estimate / affected_amount) if affected_amount else 0.0}
