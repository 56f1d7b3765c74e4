"""Client life: purchases (seed 002), support chats and campaign messages (seed 003), and churn."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.core.schema import CHANNELS
from cvre.core.truth import true_no_purchase_probability
from cvre.simulation.clock import to_timestamps
from cvre.simulation.config import SimulationConfig
from cvre.simulation.engagement import campaign_send_hours, customer_hour_weights, hour_read_lift, template_lift
from cvre.simulation.entities import Cast
from cvre.simulation.truth import churn_monthly_hazard

CATEGORIES = ("software", "services", "hardware", "training", "support", "consulting")
CHURN_TRUTH_HORIZON_DAYS = 90.0


def _events_between(rng, start: np.ndarray, end: np.ndarray, rate_per_day: np.ndarray):
    """Poisson event times per owner in [start, end): (owner index, day) arrays."""
    span = np.clip(end - start, 0.0, None)
    counts = rng.poisson(rate_per_day * span)
    owner = np.repeat(np.arange(len(start)), counts)
    return owner, start[owner] + rng.random(len(owner)) * span[owner]


def simulate_clients(rng: np.random.Generator, cast: Cast, cfg: SimulationConfig, end_day: float):
    """Transactions, chats, campaigns, messages and the churn truth of every account."""
    acc, contacts, start = cast.accounts, cast.contacts, cfg.world.start
    n = len(acc)
    tier = acc["tier"].to_numpy()
    tier_spend = np.where(tier == "A", 3.0, np.where(tier == "B", 1.5, 1.0))
    per_month = cfg.churn.purchases_per_month_median * np.exp(0.6 * rng.standard_normal(n))
    spend = 250.0 * tier_spend * np.exp(0.5 * rng.standard_normal(n))
    bad_support = rng.beta(2.0, 5.0, n)
    engagement = (pd.Series(contacts["_engagement"].to_numpy())
                  .groupby(contacts["_account_idx"].to_numpy()).mean()
                  .reindex(range(n), fill_value=0.3).to_numpy())
    hazard = churn_monthly_hazard(per_month, spend, bad_support, engagement, cfg.churn)
    active_from = np.maximum(acc["_created_day"].to_numpy(), 0.0)
    churn_day = active_from + rng.exponential(30.0 / hazard)
    alive_until = np.minimum(churn_day, end_day)

    owner, day = _events_between(rng, active_from, alive_until, per_month / 30.0)
    favourite = rng.integers(0, len(CATEGORIES), n)
    category = np.where(rng.random(len(owner)) < 0.7, favourite[owner], rng.integers(0, len(CATEGORIES), len(owner)))
    quantity = rng.integers(1, 6, len(owner)).astype(float)
    transactions = pd.DataFrame(
        {
            "transaction_id": [f"TRX{i:09d}" for i in range(len(owner))],
            "account_id": acc["account_id"].to_numpy()[owner],
            "occurred_at": to_timestamps(start, day).to_numpy(),
            "amount": np.round(spend[owner] * np.exp(0.4 * rng.standard_normal(len(owner))), 2),
            "quantity": quantity,
            "business_category": np.asarray(CATEGORIES)[category],
        }
    ).sort_values("occurred_at", kind="stable", ignore_index=True)

    chats = _chats(rng, cast, cfg, active_from, np.minimum(churn_day + 30.0, end_day), bad_support)
    campaigns, messages = _campaigns(rng, cast, cfg, end_day)
    truth = pd.DataFrame(
        {
            "account_id": acc["account_id"],
            "purchases_per_month": per_month,
            "spend_per_purchase": spend,
            "bad_support": bad_support,
            "engagement": engagement,
            "monthly_hazard": hazard,
            "churn_day": churn_day,
            "churned_by_as_of": churn_day <= end_day,
            "true_no_purchase_prob_90d_after_as_of": true_no_purchase_probability(
                per_month, hazard, churn_day, end_day, CHURN_TRUTH_HORIZON_DAYS),
        }
    )
    return {"transactions": transactions, "chats": chats, "campaigns": campaigns, "messages": messages}, truth


def _chats(rng, cast: Cast, cfg: SimulationConfig, begin, end, bad_support) -> pd.DataFrame:
    acc, contacts = cast.accounts, cast.contacts
    owner, day = _events_between(rng, begin, end, np.full(len(acc), cfg.world.chats_per_account_month / 30.0))
    n = len(owner)
    counts = np.bincount(contacts["_account_idx"].to_numpy(), minlength=len(acc))
    offsets = np.cumsum(counts) - counts
    contact = contacts["contact_id"].to_numpy()[offsets[owner] + (rng.random(n) * counts[owner]).astype(int)]
    # Customers write most in the evening: the planted peak window the support team has to staff for.
    hour = rng.choice(24, n, p=customer_hour_weights(cfg.engagement))
    day = np.floor(day) + (hour + rng.random(n)) / 24.0
    first_response_min = np.exp(np.log(4.0) + 2.5 * bad_support[owner] + 0.6 * rng.standard_normal(n))
    accepted = rng.random(n) > 0.04
    resolved = accepted & (rng.random(n) > 0.5 * bad_support[owner])
    fr = np.where(accepted, day + first_response_min / 1440.0, np.nan)
    start = cfg.world.start
    return pd.DataFrame(
        {
            "chat_id": [f"CHT{i:08d}" for i in range(n)],
            "contact_id": contact,
            "account_id": acc["account_id"].to_numpy()[owner],
            "agent_id": [f"AGT{k:03d}" for k in rng.integers(0, 12, n)],
            "created_at": to_timestamps(start, day).to_numpy(),
            "accepted_at": to_timestamps(start, np.where(accepted, day + 0.2 * first_response_min / 1440.0,
                                                         np.nan)).to_numpy(),
            "first_response_at": to_timestamps(start, fr).to_numpy(),
            "resolved_at": to_timestamps(start, np.where(resolved, fr + rng.exponential(0.3, n), np.nan)).to_numpy(),
        }
    )


def _campaigns(rng, cast: Cast, cfg: SimulationConfig, end_day: float):
    contacts, start = cast.contacts, cfg.world.start
    n_campaigns = max(2, int(round(cfg.world.campaigns_per_month * end_day / 30.0)))
    sent_day = np.sort(rng.uniform(0.0, end_day - 2.0, n_campaigns))
    rng.integers(7, 22, n_campaigns)  # the old random hours: still drawn so that later draws stay the same
    hour = campaign_send_hours(n_campaigns, cfg.engagement)
    sent_day = np.floor(sent_day) + hour / 24.0
    variant = np.where(np.arange(n_campaigns) % 2 == 0, "A", "B")
    campaigns = pd.DataFrame(
        {
            "campaign_id": [f"CMP{i:04d}" for i in range(n_campaigns)],
            "campaign_name": [f"Campaign {i + 1} ({v})" for i, v in enumerate(variant)],
            "channel": rng.choice(CHANNELS, n_campaigns, p=[0.6, 0.3, 0.1]),
            "template_variant": variant,
            "sent_at": to_timestamps(start, sent_day).to_numpy(),
        }
    )
    reach = rng.random((n_campaigns, len(contacts))) < cfg.world.campaign_reach if len(contacts) * n_campaigns < 5e7 \
        else None
    if reach is None:  # very large worlds: draw the audience per campaign without the full matrix
        pairs = [(c, rng.choice(len(contacts), int(cfg.world.campaign_reach * len(contacts)), replace=False))
                 for c in range(n_campaigns)]
        camp = np.concatenate([np.full(len(idx), c) for c, idx in pairs])
        who = np.concatenate([idx for _, idx in pairs])
    else:
        camp, who = np.nonzero(reach)
    created_ok = contacts["_created_day"].to_numpy()[who] <= sent_day[camp]
    camp, who = camp[created_ok], who[created_ok]
    m = len(camp)
    engagement = contacts["_engagement"].to_numpy()[who]
    delivered = rng.random(m) < np.where(contacts["email_valid"].to_numpy()[who], 0.96, 0.55)
    plan = cfg.engagement
    read_lift = template_lift(variant[camp], plan, "read") + hour_read_lift(hour[camp], plan)
    read = delivered & (rng.random(m) < np.clip(0.2 + 0.9 * engagement + read_lift, 0, 0.98))
    replied = read & (rng.random(m) < np.clip(0.05 + 0.6 * engagement + template_lift(variant[camp], plan, "reply"),
                                              0, 0.9))
    t_sent = sent_day[camp]
    t_del = np.where(delivered, t_sent + rng.exponential(5.0, m) / 1440.0, np.nan)
    t_read = np.where(read, t_del + rng.exponential(3.0, m) / 24.0, np.nan)
    t_rep = np.where(replied, t_read + rng.exponential(2.0, m) / 24.0, np.nan)
    t_read = np.where(t_read <= end_day, t_read, np.nan)
    t_rep = np.where(t_rep <= end_day, t_rep, np.nan)
    messages = pd.DataFrame(
        {
            "message_id": [f"MSG{i:09d}" for i in range(m)],
            "campaign_id": campaigns["campaign_id"].to_numpy()[camp],
            "contact_id": contacts["contact_id"].to_numpy()[who],
            "sent_at": to_timestamps(start, t_sent).to_numpy(),
            "delivered_at": to_timestamps(start, t_del).to_numpy(),
            "read_at": to_timestamps(start, t_read).to_numpy(),
            "replied_at": to_timestamps(start, t_rep).to_numpy(),
            "failure_reason": np.where(delivered, None, np.where(contacts["email_valid"].to_numpy()[who],
                                                                  "not_reachable", "invalid_address")),
        }
    )
    return campaigns, messages
