"""A per-customer churn export: one row per subscriber with its own churn label (mapping: examples/customer_churn).

Churn rises with service calls and day minutes and with the international plan, so a model has signal to find.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cvre.core.config import PACKAGE_CONFIG_DIR

MAPPING = PACKAGE_CONFIG_DIR / "mappings" / "examples" / "customer_churn.yaml"


def write_customer_export(folder: Path, customers: int = 800, seed: int = 4) -> Path:
    """Write customers.csv into `folder` (created) and return the folder."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    calls = rng.poisson(1.5, customers)
    minutes = np.round(rng.normal(180, 50, customers).clip(0), 1)
    intl = rng.random(customers) < 0.1
    logit = -2.2 + 0.7 * (calls - 1.5) + 0.015 * (minutes - 180) + 1.2 * intl
    churned = rng.random(customers) < 1 / (1 + np.exp(-logit))
    signup = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.uniform(0, 1500, customers), unit="D")
    pd.DataFrame({"Customer ID": [f"S{i:05d}" for i in range(customers)],
                  "State": rng.choice(["KS", "OH", "NJ", "TX"], customers),
                  "Signup Date": signup.strftime("%Y-%m-%d"),
                  "Plan": rng.choice(["basic", "plus", "pro"], customers),
                  "International Plan": np.where(intl, "yes", "no"),
                  "Day Minutes": minutes, "Service Calls": calls,
                  "Churned": np.where(churned, "Yes", "No")}).to_csv(folder / "customers.csv", index=False)
    return folder
