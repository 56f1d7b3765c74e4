"""A CRM export shaped like the ones in issue 10: observed durations and flags, no stage history, no close date.

900 opportunities with leads, accounts, contacts and activities; opportunities carry days in current stage, a
stage-jump flag, backward stage changes and the CRM's win probability (in %); leads carry the initial response
time in hours. Behaviour drives the outcome, so models and rules have something to find.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cvre.core.config import PACKAGE_CONFIG_DIR

MAPPING = PACKAGE_CONFIG_DIR / "mappings" / "examples" / "crm_observed_fields.yaml"
OPEN = ["Prospecting", "Qualification", "Proposal", "Negotiation"]


def write_observed_export(folder: Path, deals: int = 900, seed: int = 3, closed_share: float = 0.32) -> Path:
    """Write the export's CSV files into `folder` (created) and return it."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n_acc = max(deals // 6, 5)
    acc_ids = [f"A{i:04d}" for i in range(n_acc)]
    pd.DataFrame({"Account ID": acc_ids, "Account Name": [f"Company {i}" for i in range(n_acc)],
                  "Industry": rng.choice(["Software", "Retail", "Finance"], n_acc),
                  "Employees": rng.integers(5, 5000, n_acc)}).to_csv(folder / "accounts.csv", index=False)
    pd.DataFrame({"Contact ID": [f"C{i:05d}" for i in range(2 * n_acc)],
                  "Account ID": np.repeat(acc_ids, 2), "Name": [f"Person {i}" for i in range(2 * n_acc)],
                  "Email": [f"p{i}@example.com" for i in range(2 * n_acc)]}).to_csv(folder / "contacts.csv",
                                                                                    index=False)
    start = pd.Timestamp("2024-01-01")
    created = start + pd.to_timedelta(np.sort(rng.uniform(0, 360, deals)), unit="D")
    account = rng.choice(acc_ids, deals)
    has_lead = rng.random(deals) < 0.7
    response_h = np.round(rng.lognormal(2.5, 1.3, deals), 1)
    days_in_stage = np.round(rng.gamma(2.0, 12.0, deals), 0)
    jump = rng.random(deals) < 0.2
    backward = rng.poisson(0.3, deals)
    logit = -0.3 - 0.012 * (days_in_stage - 24) - 0.6 * jump - 0.5 * (response_h > 48) * has_lead
    won = rng.random(deals) < 1 / (1 + np.exp(-logit))
    closed = rng.random(deals) < closed_share
    stage = np.where(closed, np.where(won, "Closed Won", "Closed Lost"), rng.choice(OPEN, deals))
    crm_prob = np.where(closed, np.where(won, 100, 0), np.clip(np.round(100 / (1 + np.exp(-logit)) + rng.normal(
        0, 10, deals)), 1, 99))
    amount = np.round(rng.lognormal(9.5, 0.6, deals), -1).astype(object)
    amount[rng.random(deals) < 0.1] = ""
    lead_ids = np.array([f"L{i:05d}" if h else "" for i, h in enumerate(has_lead)], dtype=object)
    leads = pd.DataFrame({"Lead ID": lead_ids[has_lead], "Account ID": account[has_lead],
                          "Lead Source": rng.choice(["Web", "Referral", "Event"], int(has_lead.sum())),
                          "Created Date": (created[has_lead] - pd.Timedelta(days=2)).strftime("%Y-%m-%d %H:%M"),
                          "Initial Response Time (hours)": response_h[has_lead]})
    leads.to_csv(folder / "leads.csv", index=False)
    pd.DataFrame({"Opportunity ID": [f"O{i:05d}" for i in range(deals)], "Account ID": account,
                  "Lead ID": lead_ids, "Owner": rng.choice([f"rep{i}" for i in range(8)], deals),
                  "Created Date": created.strftime("%Y-%m-%d %H:%M"), "Stage": stage, "Amount": amount,
                  "Days in Current Stage": days_in_stage, "Backward Stage Changes": backward,
                  "Stage Jump": np.where(jump, "Yes", "No"), "Win Probability (%)": crm_prob,
                  "Forecast Category": rng.choice(["Pipeline", "Best Case", "Commit"], deals)}
                 ).to_csv(folder / "opportunities.csv", index=False)
    touches = rng.poisson(np.where(rng.random(deals) < 0.2, 0, 4))
    deal_of = np.repeat(np.arange(deals), touches)
    when = created[deal_of] + pd.to_timedelta(rng.uniform(0, 40, len(deal_of)), unit="D")
    pd.DataFrame({"Activity ID": [f"T{i:06d}" for i in range(len(deal_of))],
                  "Opportunity ID": [f"O{i:05d}" for i in deal_of],
                  "Type": rng.choice(["Call", "Email", "Meeting", "Follow-up"], len(deal_of)),
                  "Date": when.strftime("%Y-%m-%d %H:%M")}).to_csv(folder / "activities.csv", index=False)
    return folder
