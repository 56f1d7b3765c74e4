"""Campaigns: funnels with drop-off, two campaigns side by side, the A/B template test, high-intent contacts."""

from __future__ import annotations

import pandas as pd

from cvre.analytics.engagement.abtest import two_proportion_test
from cvre.features.campaigns import FUNNEL

STEP_RATES = {"delivered": "sent", "read": "delivered", "replied": "read"}


def funnel_dropoff(funnel: pd.DataFrame) -> pd.DataFrame:
    """Long form per campaign and step: count, share of sent, step rate (of the previous step), drop-off."""
    rows = []
    for step in FUNNEL:
        prev = STEP_RATES.get(step, "sent")
        part = funnel[["campaign_id", "campaign_name", step, prev]].copy()
        part.columns = ["campaign_id", "campaign_name", "count", "previous"]
        part["step"] = step
        part["share_of_sent"] = part["count"] / funnel["sent"].where(funnel["sent"] > 0)
        part["step_rate"] = part["count"] / part["previous"].where(part["previous"] > 0)
        part["dropped"] = part["previous"] - part["count"]
        rows.append(part.drop(columns="previous"))
    return pd.concat(rows, ignore_index=True)


def compare_campaigns(funnel: pd.DataFrame, first: str, second: str, alpha: float = 0.05) -> pd.DataFrame:
    """Two campaigns side by side: each step's rate, the difference (second - first) and its test."""
    rows = funnel.set_index("campaign_id")
    missing = [c for c in (first, second) if c not in rows.index]
    if missing:
        raise ValueError(f"campaign(s) {', '.join(missing)} not found")
    a, b = rows.loc[first], rows.loc[second]
    out = []
    for step, prev in STEP_RATES.items():
        if a[prev] > 0 and b[prev] > 0:
            test = two_proportion_test(int(a[step]), int(a[prev]), int(b[step]), int(b[prev]), alpha)
            out.append({"step": f"{step} / {prev}", "first": test["rate_a"], "second": test["rate_b"],
                        "difference": test["difference"], "ci_low": test["ci_low"], "ci_high": test["ci_high"],
                        "p_value": test["p_value"]})
    return pd.DataFrame(out).assign(first_campaign=first, second_campaign=second)


def template_test(funnel: pd.DataFrame, metric: str, alpha: float, mde: float) -> dict:
    """The A/B template test on `metric` per delivered message, pooled over the campaigns of each template."""
    pooled = funnel.groupby("template_variant", observed=True)[["delivered", metric]].sum()
    if not {"A", "B"} <= set(pooled.index):
        return {}
    a, b = pooled.loc["A"], pooled.loc["B"]
    return two_proportion_test(int(a[metric]), int(a["delivered"]), int(b[metric]), int(b["delivered"]), alpha,
                               mde) | {"metric": f"{metric} per delivered"}


def high_intent_contacts(engagement: pd.DataFrame, contacts: pd.DataFrame, messages: pd.DataFrame,
                         threshold: int) -> pd.DataFrame:
    """Contacts who replied more than `threshold` times, with what sales needs to call them, most replies first."""
    hot = engagement[engagement["replied"] > threshold][["contact_id", "replied", "read", "delivered"]]
    last = messages.groupby("contact_id")["replied_at"].max().rename("last_reply_at")
    keep = [c for c in ("contact_id", "full_name", "email", "phone", "account_id", "attribute") if c in contacts]
    out = hot.merge(contacts[keep], on="contact_id", how="left").merge(last, on="contact_id", how="left")
    return out.sort_values(["replied", "last_reply_at"], ascending=False).reset_index(drop=True)


def active_campaigns(funnel: pd.DataFrame, as_of: pd.Timestamp, days: int) -> dict:
    """Campaigns sent in the last `days`: how many, and their pooled funnel rates."""
    recent = funnel[funnel["sent_at"] > as_of - pd.Timedelta(days=days)]
    sums = recent[list(FUNNEL)].sum()
    rate = {step: float(sums[step] / sums[prev]) if sums[prev] else None for step, prev in STEP_RATES.items()}
    return {"days": days, "campaigns": int(len(recent)), "sent": int(sums["sent"]),
            "delivered_rate": rate["delivered"], "read_rate": rate["read"], "reply_rate": rate["replied"]}
