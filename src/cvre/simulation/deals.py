"""One chunk of deals: leads, opportunities, stage history, activities, close-date pushes, truth.

Times are float days since the world's start. The full life of every deal is simulated; the export
is the world as seen on `as_of`, so events after it are cut by `simulation.export`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cvre.core.governance import RULES, Governance, scenario_rules
from cvre.core.schema import ACTIVITY_TYPES
from cvre.simulation.clock import month_of, seasonal_days
from cvre.simulation.config import SimulationConfig
from cvre.simulation.entities import Cast
from cvre.simulation.shift import BASE_LEAD_MIX, LEAD_SOURCES, factor, shift_lead_sources, shift_products, shifted_rows
from cvre.simulation.truth import POLICIES, DealTraits, apply_policy, win_probability

UNANSWERED_HOURS = 336.0
MAX_RESPONSE_HOURS = 720.0
ACTIVITY_MIX = (0.30, 0.35, 0.15, 0.08, 0.12)


@dataclass
class DealChunk:
    deals: pd.DataFrame  # one row per deal: public fields plus hidden `_` traits and truth
    stage_entries: np.ndarray  # (n, 4) entry day of each open stage, NaN if skipped
    activities: pd.DataFrame  # deal index, day, type, logged
    pushes: pd.DataFrame  # deal index, day, new expected close day
    extra_leads: pd.DataFrame  # leads that never became a deal


def _stage_timeline(rng: np.random.Generator, n: int, cfg: SimulationConfig):
    means = np.asarray(cfg.behaviour.stage_days_mean)
    durations = rng.gamma(3.0, means / 3.0, size=(n, 4))
    stalled = rng.random(n) < cfg.behaviour.stall_share
    stall_stage = rng.integers(0, 4, n)
    stall_days = 21.0 + rng.exponential(cfg.behaviour.stall_extra_days_mean - 10.0, n)
    rows = np.flatnonzero(stalled)
    durations[rows, stall_stage[rows]] = np.maximum(durations[rows, stall_stage[rows]], stall_days[rows])
    return durations


def _activities(rng, deal_created, life, cadence_rate, logging_share):
    counts = rng.poisson(cadence_rate * life / 30.0)
    deal = np.repeat(np.arange(len(life)), counts)
    day = deal_created[deal] + rng.random(len(deal)) * life[deal]
    frame = pd.DataFrame(
        {
            "deal": deal,
            "day": day,
            "activity_type": rng.choice(ACTIVITY_TYPES, size=len(deal), p=ACTIVITY_MIX),
            "logged": rng.random(len(deal)) < logging_share[deal],
        }
    )
    return frame, counts


def _unevidenced_moves(activities: pd.DataFrame, stage_entries: np.ndarray) -> np.ndarray:
    """Moves into qualification, proposal and negotiation with no logged activity in the stage left."""
    n = len(stage_entries)
    logged = activities[activities["logged"].to_numpy()]
    deal = logged["deal"].to_numpy()
    later_entries = stage_entries[deal, 1:]
    interval = (logged["day"].to_numpy()[:, None] >= later_entries).sum(axis=1)
    evidence = np.zeros((n, 4), dtype=bool)
    evidence[deal, interval] = True
    return (~evidence[:, :3]).sum(axis=1)


def _close_date_pushes(rng, created, close, cfg):
    """Planned close dates and their 30-day pushes while the deal is still open past them."""
    planned = created + sum(cfg.behaviour.stage_days_mean) * np.exp(rng.normal(0.0, 0.25, len(created)))
    needed = np.clip(np.ceil((close - planned) / 30.0), 0, 6).astype(int)
    # Reps forget to push some close dates, which is why overdue close dates exist in real CRMs.
    k = np.minimum(needed, rng.binomial(needed, 0.6) + (rng.random(len(created)) < 0.5))
    deal = np.repeat(np.arange(len(created)), k)
    step = np.arange(len(deal)) - np.repeat(np.cumsum(k) - k, k)
    pushes = pd.DataFrame({"deal": deal, "day": planned[deal] + 30.0 * step,
                           "old_expected_close_day": planned[deal] + 30.0 * step,
                           "new_expected_close_day": planned[deal] + 30.0 * (step + 1)})
    return planned, pushes


def _leads(rng, n, created, repeat, owner_resp, cfg):
    """`owner_resp` multiplies response hours: the owner's responsiveness (and a shift's delay)."""
    b = cfg.behaviour
    has_lead = rng.random(n) < b.lead_share * np.where(repeat, 0.75, 1.08)
    hours = np.exp(np.log(b.response_median_hours) + b.response_sigma * rng.standard_normal(n)) * owner_resp
    hours = np.minimum(hours, MAX_RESPONSE_HOURS)
    unanswered = rng.random(n) < b.unanswered_lead_share
    true_hours = np.where(has_lead, np.where(unanswered, UNANSWERED_HOURS, hours), np.nan)
    lead_created = created - np.where(unanswered, 14.0, hours / 24.0) - rng.exponential(4.0, n)
    return has_lead, unanswered, true_hours, lead_created


def _confounded(cfg: SimulationConfig, reps: pd.DataFrame, owner: np.ndarray, tier: np.ndarray):
    """Multipliers of response speed and activity, and the logging share, under the confounding knobs."""
    c = cfg.confounding
    logging = reps["_logging"].to_numpy()[owner]
    if not (c.skill_behaviour or c.large_account_response):
        return 1.0, 1.0, logging
    skill = reps["_skill"].to_numpy()[owner] / max(cfg.win.owner_skill_sd, 1e-9)
    faster = np.exp(-c.skill_behaviour * skill - c.large_account_response * (tier == "A"))
    log_odds = np.log(logging / (1.0 - logging)) + c.skill_behaviour * skill
    return faster, np.exp(0.5 * c.skill_behaviour * skill), 1.0 / (1.0 + np.exp(-log_odds))


def _governed_masks(gov: Governance, complies: np.ndarray, tier: np.ndarray, repeat: np.ndarray) -> dict:
    """Per rule, the deals it governs that comply: its scope (tiers, business types) and the compliance draw."""
    business = np.where(repeat, "repeat", "new")
    return {rule: complies & np.isin(tier, getattr(gov.scope, rule).tiers)
            & np.isin(business, getattr(gov.scope, rule).business_types) for rule in RULES}


def simulate_deal_chunk(rng: np.random.Generator, cast: Cast, cfg: SimulationConfig, first: int, n: int,
                        end_day: float) -> DealChunk:
    acc, reps, products = cast.accounts, cast.reps, cast.products
    weight = acc["_deal_weight"].to_numpy()
    acc_idx = rng.choice(len(acc), size=n, p=weight / weight.sum())
    sales = np.flatnonzero(reps["role"].to_numpy() == "sales")
    owner = sales[rng.integers(0, len(sales), n)]
    created = seasonal_days(rng, n, cfg.world.start, end_day - 7.0, cfg.world.seasonality, cfg.world.growth_per_year)
    prod = rng.choice(len(products), size=n, p=products["share"].to_numpy())
    shifted = shifted_rows(cfg.shift, cfg.world.start, created)
    prod = shift_products(rng, prod, shifted, cfg.shift, len(products))
    tier = acc["tier"].to_numpy()[acc_idx]
    repeat = rng.random(n) < np.where(tier == "A", 0.45, 0.28)

    mean_amount = (products["list_price"].to_numpy()[prod] * pd.Series(tier).map(cfg.amounts.tier_multiplier)
                   .to_numpy() * np.where(repeat, cfg.amounts.repeat_multiplier, 1.0))
    if cfg.shift is not None:
        mean_amount = mean_amount * factor(shifted, cfg.shift.price_factor)
    sigma = cfg.amounts.sigma
    amount = np.round(mean_amount * np.exp(sigma * rng.standard_normal(n) - sigma**2 / 2), 2)

    faster, keener, logging = _confounded(cfg, reps, owner, tier)
    has_lead, unanswered, response_hours, lead_created = _leads(
        rng, n, created, repeat, reps["_responsiveness"].to_numpy()[owner] * faster
        * (factor(shifted, cfg.shift.response_delay_factor) if cfg.shift is not None else 1.0), cfg)

    durations = _stage_timeline(rng, n, cfg)
    stage_entries = created[:, None] + np.cumsum(np.hstack([np.zeros((n, 1)), durations[:, :3]]), axis=1)
    life = durations.sum(axis=1)
    close = created + life

    active = rng.random(n) >= cfg.behaviour.no_activity_share
    cadence_rate = np.where(active, cfg.behaviour.activity_cadence_median * np.exp(0.5 * rng.standard_normal(n))
                            * reps["_diligence"].to_numpy()[owner] * keener, 0.0)
    activities, counts = _activities(rng, created, life, cadence_rate, logging)
    unevidenced = _unevidenced_moves(activities, stage_entries)

    traits = DealTraits(
        response_hours=response_hours,
        cadence=counts * 30.0 / np.maximum(life, 1.0),
        no_activity=counts == 0,
        max_stage_days=durations.max(axis=1),
        unevidenced_moves=unevidenced,
        owner_skill=reps["_skill"].to_numpy()[owner],
        tier_effect=pd.Series(tier).map(cfg.win.tier_effect).to_numpy(),
        repeat=repeat,
        product_effect=products["win_effect"].to_numpy()[prod],
        amount_log_ratio=np.log(amount / mean_amount),
        created_month=month_of(cfg.world.start, created),
    )
    win = cfg.win.effective()
    p = win_probability(traits, win)
    uniform = rng.random(n)
    complies = rng.random(n) < cfg.policies.compliance
    planned_close, pushes = _close_date_pushes(rng, created, close, cfg)

    deals = pd.DataFrame(
        {
            "opportunity_id": [f"OPP{i:08d}" for i in range(first, first + n)],
            "account_idx": acc_idx,
            "owner_idx": owner,
            "product": products["product"].to_numpy()[prod],
            "business_type": np.where(repeat, "repeat", "new"),
            "created_day": created,
            "close_day": close,
            "planned_close_day": planned_close,
            "amount": amount,
            "has_lead": has_lead,
            "lead_id": np.where(has_lead, [f"LEAD{i:08d}" for i in range(first, first + n)], None),
            "lead_created_day": lead_created,
            "lead_source": rng.choice(LEAD_SOURCES, size=n, p=BASE_LEAD_MIX),
            "response_answered": ~unanswered,
            "true_win_prob": p,
            "true_expected_amount": mean_amount,
            "won": uniform < p,
            "true_response_hours": response_hours,
            "true_cadence": traits.cadence,
            "true_no_activity": traits.no_activity,
            "true_max_stage_days": traits.max_stage_days,
            "true_unevidenced_moves": unevidenced,
            "true_owner_skill": traits.owner_skill,
        }
    )
    deals["lead_source"] = shift_lead_sources(rng, deals["lead_source"].to_numpy(), shifted, cfg.shift)
    governed = _governed_masks(cfg.policies, complies, tier, repeat)
    for policy in POLICIES:
        changed = traits
        for rule in scenario_rules(policy):
            changed = apply_policy(changed, rule, cfg.policies, governed[rule])
        p_policy = win_probability(changed, win)
        deals[f"p_{policy}"] = p_policy
        deals[f"won_{policy}"] = uniform < p_policy
    return DealChunk(deals, stage_entries, activities, pushes, _extra_leads(rng, cast, cfg, first, n, end_day))


def _extra_leads(rng, cast: Cast, cfg: SimulationConfig, first: int, n_deals: int, end_day: float) -> pd.DataFrame:
    """Leads that never converted into an opportunity (about 40% as many as deals)."""
    n = int(round(0.4 * n_deals))
    b = cfg.behaviour
    created = seasonal_days(rng, n, cfg.world.start, end_day, cfg.world.seasonality, cfg.world.growth_per_year)
    hours = np.minimum(np.exp(np.log(b.response_median_hours * 1.4) + b.response_sigma * rng.standard_normal(n)),
                       MAX_RESPONSE_HOURS)
    answered = rng.random(n) >= b.unanswered_lead_share * 2
    sales = np.flatnonzero(cast.reps["role"].to_numpy() == "sales")
    return pd.DataFrame(
        {
            "lead_id": [f"LEADU{i:08d}" for i in range(first, first + n)],
            "account_idx": rng.integers(0, len(cast.accounts), n),
            "owner_idx": sales[rng.integers(0, len(sales), n)],
            "source": rng.choice(LEAD_SOURCES, size=n, p=[0.45, 0.1, 0.15, 0.2, 0.1]),
            "created_day": created,
            "response_day": np.where(answered, created + hours / 24.0, np.nan),
        }
    )

