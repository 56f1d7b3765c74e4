"""Lifetime value: parameters recovered from a known BG/NBD / Gamma-Gamma process, and the CDNOW benchmark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cvre.analytics.clients.clv import (
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    lifetime_values,
    probability_alive,
    purchase_summary,
)
from tests.conftest import DATASETS

CDNOW_SAMPLE = DATASETS / "cdnow" / "CDNOW_sample.txt"
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def bgnbd_customers(n: int, r: float, alpha: float, a: float, b: float, T: float, seed: int) -> pd.DataFrame:
    """Frequency / recency / T drawn from the BG/NBD story itself."""
    rng = np.random.default_rng(seed)
    lam, p = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    rows = []
    for i in range(n):
        t, last, x = 0.0, 0.0, 0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T:
                break
            x, last = x + 1, t
            if rng.random() < p[i]:
                break
        rows.append((float(x), last, T))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"]).assign(monetary=0.0)


def test_bgnbd_recovers_known_parameters():
    truth = {"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.5}
    fit = fit_bgnbd(bgnbd_customers(4000, *truth.values(), T=52.0, seed=3))
    for name, value in truth.items():
        assert fit.as_dict()[name] == pytest.approx(value, rel=0.25), name


def test_gamma_gamma_recovers_known_parameters():
    rng = np.random.default_rng(5)
    p, q, gamma = 6.0, 4.0, 15.0
    x = rng.integers(1, 8, 3000).astype(float)
    nu = rng.gamma(q, 1 / gamma, 3000)
    m = np.array([rng.gamma(p * k, 1 / (v * k)) for k, v in zip(x, nu, strict=True)])  # mean of k gamma(p, nu) draws
    fit = fit_gamma_gamma(pd.DataFrame({"frequency": x, "monetary": m}))
    assert fit.as_dict()["p"] == pytest.approx(p, rel=0.2) and fit.as_dict()["q"] == pytest.approx(q, rel=0.2)


def test_expectations_behave():
    params = np.array(list(PUBLISHED_BGNBD.values()))
    x, T = np.array([0.0, 5.0, 5.0]), np.array([30.0, 30.0, 30.0])
    tx = np.array([0.0, 29.0, 5.0])
    alive = probability_alive(params, x, tx, T)
    assert alive[0] == 1.0 and alive[1] > 0.8 > alive[2]  # a recent buyer is likelier alive than a lapsed one
    e = expected_purchases(params, 39.0, x, tx, T)
    assert e[1] > e[2] and e[1] > e[0] > 0


def test_purchase_summary_counts_days(tmp_path):
    tx = pd.DataFrame({"account_id": ["a", "a", "a", "b"], "amount": [10.0, 5.0, 30.0, 7.0],
                       "occurred_at": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"])})
    s = purchase_summary(tx, pd.Timestamp("2024-01-29"))
    assert s.loc["a"].tolist() == [1.0, 2.0, 4.0, 30.0]  # one repeat day, 2 weeks recency, T 4 weeks, repeat spend
    assert s.loc["b", "frequency"] == 0 and s.loc["b", "monetary"] == 0


def read_cdnow_sample() -> pd.DataFrame:
    tx = pd.read_csv(CDNOW_SAMPLE, sep=r"\s+", header=None, dtype={0: str, 2: str},
                     names=["account_id", "sample_index", "occurred_at", "quantity", "amount"])
    return tx.assign(occurred_at=pd.to_datetime(tx["occurred_at"], format="%Y%m%d"))


@pytest.mark.real_data
def test_cdnow_sample_matches_published_parameters():
    if not CDNOW_SAMPLE.exists():
        pytest.skip(f"{CDNOW_SAMPLE} not present")
    tx = read_cdnow_sample()
    summary = purchase_summary(tx, pd.Timestamp("1997-09-30"))
    assert len(summary) == 2357
    bg, gg = fit_bgnbd(summary), fit_gamma_gamma(summary)
    for fit, published in ((bg, PUBLISHED_BGNBD), (gg, PUBLISHED_GAMMA_GAMMA)):
        for name, value in published.items():
            assert fit.as_dict()[name] == pytest.approx(value, rel=0.03), name
    values = lifetime_values(summary, bg, gg, horizon=39.0, draws=50)
    holdout = tx[(tx["occurred_at"] > "1997-09-30") & (tx["occurred_at"] <= "1998-06-30")]
    actual = holdout.groupby(["account_id", "occurred_at"]).ngroups
    assert values["expected_purchases"].sum() == pytest.approx(actual, rel=0.15)
    assert (values["clv_low"] <= values["clv_high"]).all() and (values["p_alive_low"] <= values["p_alive_high"]).all()
    # customer-level intervals: the point (a mean over a mixture with "gone") sits inside for nearly everyone
    assert values["clv"].between(values["clv_low"], values["clv_high"]).mean() > 0.9
