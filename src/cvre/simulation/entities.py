"""Accounts, contacts, reps and products: the static cast of the CRM world."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cvre.simulation.clock import to_timestamps
from cvre.simulation.config import SimulationConfig
from cvre.simulation.shift import with_new_product

INDUSTRIES = ("software", "retail", "finance", "healthcare", "manufacturing", "logistics", "energy", "media")
REGIONS = {
    "europe": (("France", "+33"), ("Germany", "+49"), ("Spain", "+34"), ("Netherlands", "+31")),
    "north_america": (("United States", "+1"), ("Canada", "+1")),
    "apac": (("Singapore", "+65"), ("Australia", "+61")),
}
SENIORITY = ("junior", "manager", "director", "vp", "c_level")
DEPARTMENTS = ("hr", "sales", "it", "finance", "operations")
CONTACT_ATTRIBUTES = ("Lead", "Customer", "VIP", "Churned")
PRODUCTS = pd.DataFrame(
    {
        "product": ["Starter", "Growth", "Scale", "Enterprise", "Executive Search", "Volume Hiring"],
        "series": ["subscription", "subscription", "subscription", "subscription", "recruitment", "recruitment"],
        "list_price": [4_000.0, 12_000.0, 30_000.0, 80_000.0, 45_000.0, 20_000.0],
        "win_effect": [0.30, 0.10, 0.0, -0.35, -0.15, 0.05],
        "share": [0.22, 0.26, 0.18, 0.08, 0.12, 0.14],
    }
)


@dataclass(frozen=True)
class Cast:
    accounts: pd.DataFrame  # includes hidden trait columns prefixed with "_"
    contacts: pd.DataFrame
    reps: pd.DataFrame
    products: pd.DataFrame


def make_accounts(rng: np.random.Generator, n: int, cfg: SimulationConfig) -> pd.DataFrame:
    region_names = list(REGIONS)
    region = rng.choice(region_names, size=n, p=[0.55, 0.3, 0.15])
    country, code = np.empty(n, dtype=object), np.empty(n, dtype=object)
    for name in region_names:
        idx = np.flatnonzero(region == name)
        pick = rng.integers(0, len(REGIONS[name]), size=len(idx))
        country[idx] = [REGIONS[name][k][0] for k in pick]
        code[idx] = [REGIONS[name][k][1] for k in pick]
    employees = np.round(np.exp(rng.normal(5.0, 1.4, size=n)))
    rank = pd.Series(employees).rank(pct=True, method="first").to_numpy()
    tier = np.where(rank > 0.9, "A", np.where(rank > 0.6, "B", "C"))
    created = -rng.exponential(900.0, size=n) + rng.uniform(0, 200, size=n)
    return pd.DataFrame(
        {
            "account_id": [f"ACC{i:07d}" for i in range(n)],
            "account_name": [f"Company {i}" for i in range(n)],
            "industry": rng.choice(INDUSTRIES, size=n),
            "employees": employees,
            "region": region,
            "country": country,
            "tier": tier,
            "_created_day": created,
            "_phone_code": code,
            "_deal_weight": np.where(tier == "A", 3.0, np.where(tier == "B", 1.6, 1.0)) * rng.gamma(2.0, 0.5, n),
        }
    )


def make_contacts(rng: np.random.Generator, accounts: pd.DataFrame, cfg: SimulationConfig) -> pd.DataFrame:
    per_account = rng.poisson(cfg.world.contacts_per_account - 1, size=len(accounts)) + 1
    acc_idx = np.repeat(np.arange(len(accounts)), per_account)
    n = len(acc_idx)
    first = rng.choice(["Alex", "Sam", "Maria", "Jean", "Li", "Priya", "Omar", "Anna", "Tom", "Eva"], n)
    last = rng.choice(["Martin", "Schmidt", "Garcia", "Smith", "Chen", "Khan", "Dubois", "Rossi"], n)
    ids = np.arange(n)
    full_name = pd.Series(first) + " " + pd.Series(last)
    email = (pd.Series(first).str.lower() + "." + pd.Series(last).str.lower() + pd.Series(ids).astype(str)
             + "@example.com")
    email_valid = rng.random(n) > 0.08
    code = accounts["_phone_code"].to_numpy()[acc_idx]
    phone = pd.Series(code) + " " + pd.Series(rng.integers(100_000_000, 999_999_999, n)).astype(str)
    created = accounts["_created_day"].to_numpy()[acc_idx] + rng.exponential(120.0, n)
    return pd.DataFrame(
        {
            "contact_id": [f"CON{i:08d}" for i in ids],
            "account_id": accounts["account_id"].to_numpy()[acc_idx],
            "full_name": full_name,
            "email": email.where(email_valid, email.str.replace("@", "@@", regex=False)),
            "email_valid": email_valid,
            "phone": phone,
            "phone_country_code": code,
            "seniority": rng.choice(SENIORITY, n, p=[0.3, 0.3, 0.2, 0.12, 0.08]),
            "department": rng.choice(DEPARTMENTS, n),
            "attribute": rng.choice(CONTACT_ATTRIBUTES, n, p=[0.45, 0.35, 0.1, 0.1]),
            "_created_day": created,
            "_account_idx": acc_idx,
            "_engagement": rng.beta(2.0, 5.0, n),
        }
    )


def make_reps(rng: np.random.Generator, n: int, cfg: SimulationConfig) -> pd.DataFrame:
    teams = max(1, int(np.ceil(n / cfg.world.reps_per_team)))
    team = np.arange(n) % teams
    role = np.where(rng.random(n) < cfg.world.coach_share, "coach", "sales")
    role[0] = "sales"
    return pd.DataFrame(
        {
            "rep_id": [f"REP{i:04d}" for i in range(n)],
            "rep_name": [f"Rep {i}" for i in range(n)],
            "team": [f"Team {t + 1}" for t in team],
            "role": role,
            "manager": [f"Manager {t + 1}" for t in team],
            "_skill": rng.normal(0.0, cfg.win.owner_skill_sd, n),
            "_responsiveness": np.exp(rng.normal(0.0, 0.5, n)),
            "_diligence": np.exp(rng.normal(0.0, 0.35, n)),
            "_logging": rng.beta(cfg.behaviour.logging_discipline * 8, (1 - cfg.behaviour.logging_discipline) * 8, n),
        }
    )


def make_cast(rng: np.random.Generator, cfg: SimulationConfig) -> Cast:
    n_accounts = max(20, int(round(cfg.deals / cfg.world.deals_per_account)))
    n_reps = int(np.clip(round(cfg.deals / cfg.world.deals_per_rep), 8, cfg.world.max_reps))
    accounts = make_accounts(rng, n_accounts, cfg)
    return Cast(accounts, make_contacts(rng, accounts, cfg), make_reps(rng, n_reps, cfg),
                with_new_product(PRODUCTS.copy(), cfg.shift))


def public_accounts(accounts: pd.DataFrame, start) -> pd.DataFrame:
    out = accounts[[c for c in accounts.columns if not c.startswith("_")]].copy()
    out["created_at"] = to_timestamps(start, accounts["_created_day"].to_numpy()).to_numpy()
    return out


def public_contacts(contacts: pd.DataFrame, start) -> pd.DataFrame:
    out = contacts[[c for c in contacts.columns if not c.startswith("_")]].copy()
    out["created_at"] = to_timestamps(start, contacts["_created_day"].to_numpy()).to_numpy()
    return out
