import numpy as np
import pandas as pd

from cvre.analytics.recovery.additive import AdditiveWinModel
from cvre.analytics.recovery.config import RecoveryConfig
from cvre.analytics.recovery.nuisance import category_levels, expected_amounts
from cvre.analytics.recovery.treatments import RESPONSE, STALL, treatments


def _deals(n: int, rng: np.random.Generator) -> pd.DataFrame:
    has_lead = rng.random(n) < 0.8
    return pd.DataFrame({
        "has_lead": has_lead, "lead_response_hours": np.where(has_lead, np.exp(rng.normal(3.0, 1.2, n)), np.nan),
        "activities_total": rng.poisson(3, n).astype(float), "activities_per_30d": rng.gamma(2.0, 2.0, n),
        "max_days_in_stage": 10 + rng.exponential(15, n), "moves_without_activity": rng.integers(0, 3, n),
        "tier": rng.choice(["A", "B", "C"], n), "list_price": rng.choice([5_000.0, 20_000.0, 60_000.0], n),
    })


def test_additive_win_model_recovers_a_known_effect():
    rng = np.random.default_rng(3)
    d = _deals(10_000, rng)
    t = treatments(d)
    hours = t[RESPONSE].fillna(0.0)
    logit = 0.5 - 0.4 * np.log1p(hours / 24) - 0.3 * (hours > 48) - 0.02 * t[STALL] + (d["tier"] == "A") * 0.5
    y = (rng.random(len(d)) < 1 / (1 + np.exp(-logit))).astype(float)
    x = pd.DataFrame({"tier": pd.Categorical(d["tier"]), "list_price": d["list_price"]})
    model = AdditiveWinModel(sla_hours=48.0).fit(t, x, y)
    capped = t.assign(**{RESPONSE: np.minimum(t[RESPONSE], 48.0)})
    true_gain = (1 / (1 + np.exp(-(logit + 0.4 * (np.log1p(hours / 24) - np.log1p(np.minimum(hours, 48) / 24))
                                   + 0.3 * (hours > 48)))) - 1 / (1 + np.exp(-logit))).sum()
    gain = (model.predict(capped, x) - model.predict(t, x)).sum()
    assert abs(gain / true_gain - 1) < 0.15, (gain, true_gain)


def test_missing_amounts_are_valued_without_the_outcome():
    rng = np.random.default_rng(4)
    d = _deals(4_000, rng)
    d["amount"] = d["list_price"] * np.exp(rng.normal(0, 0.3, len(d)))
    d["won"] = rng.random(len(d)) < 0.5
    missing = rng.random(len(d)) < 0.15
    d.loc[missing, "amount"] = np.nan
    by_outcome = np.where(d["won"], 1e6, 1.0)  # what a rule that looks at the outcome would give
    out = expected_amounts(d, np.where(missing, by_outcome, d["amount"]), category_levels(d), RecoveryConfig())
    assert np.allclose(out[~missing], d.loc[~missing, "amount"])
    assert out[missing].max() < 2e5  # not the outcome's value
    truth = d["list_price"] * np.exp(0.3**2 / 2)
    assert abs(out[missing].sum() / truth[missing].sum() - 1) < 0.1  # the mean, not the median
