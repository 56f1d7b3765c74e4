"""Driver tables in euros: per deal, per feature, per group and per segment (pure functions).

Totals are weighted by each attributed deal's Horvitz-Thompson weight (1 when every deal is attributed),
so the same code gives exact sums or sample estimates.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cvre.analytics.drivers.attribution import Attribution
from cvre.analytics.drivers.sampling import total_and_se
from cvre.features.names import readable


def group_column(group: str) -> str:
    """'owner & account history' -> 'eur_owner_account_history' (the per-deal table's column)."""
    return "eur_" + re.sub(r"[^a-z0-9]+", "_", group.lower()).strip("_")


def deal_table(deals: pd.DataFrame, attr: Attribution, groups: list[str], amount: np.ndarray,
               leaked_ev: np.ndarray, segments: list[str]) -> pd.DataFrame:
    """One row per attributed deal: probability, shortfall, euros per driver group (positive = cost), top drivers."""
    out = deals[["opportunity_id", *[s for s in segments if s in deals]]].reset_index(drop=True).copy()
    out["amount_used"] = amount
    out["win_probability"] = attr.probability
    out["base_probability"] = attr.base_probability
    out["ev"] = amount * attr.probability
    out["shortfall_eur"] = attr.shortfall
    out["rule_leaked_ev"] = leaked_ev
    out["weight"] = attr.weight
    for j, group in enumerate(groups):
        out[group_column(group)] = attr.group_eur[:, j]
    labels = np.array([readable(f) for f in attr.features])
    for k in range(attr.top_feature.shape[1]):
        costs = attr.top_eur[:, k] > 0
        out[f"driver_{k + 1}"] = np.where(costs, labels[attr.top_feature[:, k]], "")
        out[f"driver_{k + 1}_eur"] = np.where(costs, attr.top_eur[:, k], 0.0)
    return out


def group_summary(attr: Attribution, groups: list[str], behaviours: list[str]) -> pd.DataFrame:
    """Per group: euros it costs deals (sum of positive parts, with its standard error), adds, net, deals costed."""
    eur = attr.group_eur.astype(float)
    cost, cost_se = total_and_se(np.clip(eur, 0, None), attr.weight)
    out = pd.DataFrame({"group": groups, "kind": ["behaviour" if g in behaviours else "context" for g in groups],
                        "cost_eur": cost, "cost_se_eur": cost_se,
                        "credit_eur": total_and_se(-np.clip(eur, None, 0), attr.weight)[0],
                        "net_eur": total_and_se(eur, attr.weight)[0],
                        "deals_costed": np.rint(attr.weight @ (eur > 0)).astype(int)})
    out["share_of_cost"] = cost / cost.sum() if cost.sum() > 0 else 0.0
    return out.sort_values("cost_eur", ascending=False, ignore_index=True)


def feature_summary(attr: Attribution, feature_groups: list[str]) -> pd.DataFrame:
    out = pd.DataFrame({"feature": attr.features, "label": [readable(f) for f in attr.features],
                        "group": feature_groups, "cost_eur": attr.feature_cost, "credit_eur": attr.feature_credit,
                        "net_eur": attr.feature_cost - attr.feature_credit,
                        "mean_abs_eur": attr.feature_abs / max(attr.weight.sum(), 1.0),
                        "deals_costed": np.rint(attr.feature_deals).astype(int)})
    return out.sort_values("cost_eur", ascending=False, ignore_index=True)


def segment_drivers(table: pd.DataFrame, segment: str, groups: list[str]) -> pd.DataFrame:
    """Per value of one slicer: deals, EV, shortfall and what each group costs there, largest shortfall first."""
    key = table[segment].astype("string").fillna("unknown") if segment in table else "unknown"
    cols = [group_column(g) for g in groups]
    w = table["weight"].to_numpy()[:, None]
    costs = pd.DataFrame(table[cols].clip(lower=0).to_numpy() * w, columns=groups, index=table.index)
    frame = pd.concat([costs, table[["ev", "shortfall_eur"]].mul(table["weight"], axis=0)], axis=1)
    frame = frame.assign(deals=table["weight"], segment=key)
    out = frame.groupby("segment")[["deals", "ev", "shortfall_eur", *groups]].sum().reset_index()
    out["deals"] = np.rint(out["deals"]).astype(int)
    out["top_driver"] = out[groups].idxmax(axis=1)
    out["top_driver_eur"] = out[groups].max(axis=1)
    out.insert(0, "slicer", segment)
    return out.sort_values("shortfall_eur", ascending=False, ignore_index=True)


def headline(by_group: pd.DataFrame, attr: Attribution, groups: list[str], totals: dict,
             sample_error: float) -> dict:
    """`totals`: exact sums over every deal in scope (deals, ev, base_ev, shortfall_eur, rule_leaked_ev, ...)."""
    behaviour = by_group[by_group["kind"] == "behaviour"]
    top = behaviour.iloc[0] if len(behaviour) else by_group.iloc[0]
    columns = [groups.index(g) for g in behaviour["group"]]
    cost, cost_se = total_and_se(np.clip(attr.group_eur[:, columns].astype(float), 0, None).sum(axis=1), attr.weight)
    return totals | {
        "attributed_deals": len(attr.probability), "method": "exact" if (attr.weight == 1).all() else "sample",
        "behaviour_cost_eur": float(cost), "behaviour_cost_se_eur": float(cost_se),
        "top_behaviour": str(top["group"]), "top_behaviour_cost_eur": float(top["cost_eur"]),
        "base_probability": attr.base_probability, "base_margin": attr.base_margin,
        "plot_sample": len(attr.sample_index), "plot_sample_max_rel_error": sample_error}
