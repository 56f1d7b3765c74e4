"""Customer lifetime value: BG/NBD (purchases and dropout) and Gamma-Gamma (spend per purchase), fitted by
maximum likelihood with scipy, with intervals from the parameters' sampling distribution.

The likelihoods are the published ones (Fader, Hardie and Lee 2005, "Counting your customers the easy way";
"RFM and CLV: using iso-value curves"). pymc-marketing implements the same models, but on this project's
2-core machines it added 22 packages, an 13-24 s import and a 23-94 s MAP fit (PyTensor compilation), and its
MAP under default priors lands away from the published MLE; see README, Client analytics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

BGNBD_PARAMS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMS = ("p", "q", "gamma")


def purchase_summary(tx: pd.DataFrame, end: pd.Timestamp, unit_days: float = 7.0,
                     customer: str = "account_id", when: str = "occurred_at", amount: str = "amount") -> pd.DataFrame:
    """Per customer: frequency (repeat purchase days), recency and T (in `unit_days`), mean repeat spend.

    Purchases on the same day count once (their amounts add up), as in the published CDNOW analyses;
    purchases after `end` are ignored.
    """
    tx = tx[tx[when] <= end]
    daily = (tx.assign(day=tx[when].dt.normalize()).groupby([customer, "day"], observed=True)[amount].sum()
             .reset_index())
    g = daily.groupby(customer, observed=True)
    first, last, n = g["day"].min(), g["day"].max(), g.size()
    total, first_amount = g[amount].sum(), g[amount].first()
    out = pd.DataFrame({"frequency": (n - 1).astype(float),
                        "recency": (last - first).dt.days / unit_days,
                        "T": (end.normalize() - first).dt.days / unit_days})
    repeat = (total - first_amount)
    out["monetary"] = (repeat / out["frequency"]).where(out["frequency"] > 0, 0.0)
    out.index.name = customer
    return out


def bgnbd_loglik(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood."""
    r, alpha, a, b = params
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b) - special.gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + tx), -np.inf)
    return a1 + a2 + np.logaddexp(a3, a4)


def gamma_gamma_loglik(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean repeat spend `m` over `x` > 0 purchases."""
    p, q, g = params
    return (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q) + q * np.log(g)
            + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(x * m + g))


@dataclass
class Fit:
    names: tuple[str, ...]
    params: np.ndarray
    cov_log: np.ndarray  # covariance of the log-parameters (inverse Hessian of the negative log-likelihood)
    loglik: float

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.names, self.params.round(6).tolist(), strict=True))

    def draws(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Parameter draws from the asymptotic normal of the log-parameters (row 0: the estimate)."""
        logs = rng.multivariate_normal(np.log(self.params), self.cov_log, size=n - 1, method="svd")
        return np.vstack([self.params, np.exp(logs)])


def _hessian(f, z: np.ndarray, step: float = 1e-4) -> np.ndarray:
    k = len(z)
    h = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            e_i, e_j = np.eye(k)[i] * step, np.eye(k)[j] * step
            h[i, j] = h[j, i] = (f(z + e_i + e_j) - f(z + e_i - e_j) - f(z - e_i + e_j) + f(z - e_i - e_j)) / (
                4 * step * step)
    return h


def _fit(names: tuple[str, ...], negll, start: np.ndarray) -> Fit:
    """Minimise on the log scale (bounded, so a degenerate data set cannot run away), then the Hessian there."""
    bounds = [(-12.0, 12.0)] * len(start)
    res = optimize.minimize(negll, np.log(start), method="L-BFGS-B", bounds=bounds,
                            options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 2000})
    res = optimize.minimize(negll, res.x, method="Nelder-Mead", bounds=bounds,
                            options={"xatol": 1e-7, "fatol": 1e-9, "maxfev": 2000})
    if not np.isfinite(res.fun):
        raise ValueError(f"{'/'.join(names)} fit did not converge: {res.message}")
    hess = _hessian(negll, res.x)
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        cov = np.diag(np.full(len(names), 1e-6))
    cov = (cov + cov.T) / 2
    if not np.all(np.linalg.eigvalsh(cov) > 0):  # a flat direction (a parameter at its bound): no sampling along it
        cov = np.diag(np.clip(np.diag(cov), 1e-8, 1.0))
    return Fit(names, np.exp(res.x), cov, float(-res.fun))


def fit_bgnbd(summary: pd.DataFrame) -> Fit:
    """Maximum-likelihood BG/NBD on frequency / recency / T (parameters fitted on the log scale)."""
    x, tx, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    if len(x) < 20 or (x > 0).sum() < 5:
        raise ValueError(f"BG/NBD needs at least 20 customers and 5 with a repeat purchase "
                         f"(got {len(x)} and {(x > 0).sum()})")
    scale = max(float(T.max()), 1.0)

    def negll(z):
        return -bgnbd_loglik(np.exp(z), x, tx / scale, T / scale).sum()

    fit = _fit(BGNBD_PARAMS, negll, np.array([1.0, 1.0, 1.0, 1.0]))
    fit.params[1] *= scale  # alpha is in units of time: back to the summary's unit
    return fit


def fit_gamma_gamma(summary: pd.DataFrame) -> Fit:
    """Maximum-likelihood Gamma-Gamma on the customers with repeat purchases and a positive mean spend."""
    rep = summary[(summary["frequency"] > 0) & (summary["monetary"] > 0)]
    if len(rep) < 5:
        raise ValueError(f"Gamma-Gamma needs at least 5 customers with repeat purchases (got {len(rep)})")
    x, m = rep["frequency"].to_numpy(float), rep["monetary"].to_numpy(float)
    scale = float(np.median(m))

    def negll(z):
        return -gamma_gamma_loglik(np.exp(z), x, m / scale).sum()

    fit = _fit(GAMMA_GAMMA_PARAMS, negll, np.array([2.0, 2.0, 1.0]))
    fit.params[2] *= scale
    return fit


def probability_alive(params: np.ndarray, x, tx, T) -> np.ndarray:
    r, alpha, a, b = params
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) * ((alpha + T) / (alpha + tx)) ** (r + x), 0.0)
    return 1.0 / (1.0 + odds)


def expected_purchases(params: np.ndarray, t: float, x, tx, T) -> np.ndarray:
    """Expected purchases in (T, T + t] given a customer's history (BG/NBD conditional expectation)."""
    r, alpha, a, b = params
    z = t / (alpha + T + t)
    with np.errstate(over="ignore", invalid="ignore"):
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        first = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    return np.nan_to_num(first * probability_alive(params, x, tx, T), nan=0.0, posinf=0.0)


def expected_spend_per_purchase(params: np.ndarray, x, m) -> np.ndarray:
    """Gamma-Gamma conditional mean spend; a customer without repeats gets the population mean."""
    p, q, g = params
    with np.errstate(divide="ignore", invalid="ignore"):
        conditional = p * (g + x * m) / (p * x + q - 1)
    return np.where((x > 0) & (m > 0), conditional, p * g / (q - 1))


def customer_value(bg: np.ndarray, gg: np.ndarray, summary: pd.DataFrame, horizon: float, steps: int,
                   discount_per_step: float) -> dict[str, np.ndarray]:
    """Expected purchases, probability alive, spend per purchase and CLV over `horizon` (summary units)."""
    x, tx, T, m = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary"))
    steps = steps if discount_per_step else 1  # undiscounted: the horizon's total is enough
    cumulative = [np.zeros(len(x))] + [expected_purchases(bg, horizon * k / steps, x, tx, T) for k in
                                        range(1, steps + 1)]
    per_step = np.diff(np.vstack(cumulative), axis=0)
    discount = (1.0 + discount_per_step) ** -np.arange(1, steps + 1)
    spend = expected_spend_per_purchase(gg, x, m)
    return {"expected_purchases": cumulative[-1], "p_alive": probability_alive(bg, x, tx, T),
            "expected_spend_per_purchase": spend, "clv": spend * (discount @ per_step)}


def latent_value(bg: np.ndarray, gg: np.ndarray, summary: pd.DataFrame, horizon: float,
                 rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One draw of each customer's own (latent) purchase rate, dropout, alive state and spend, given their history,
    and the purchases and value they imply over `horizon`: what the customer-level intervals are made of."""
    r, alpha, a, b = bg
    p, q, g = gg
    x, tx, T, m = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary"))
    alive = rng.random(len(x)) < probability_alive(bg, x, tx, T)
    rate = rng.gamma(r + x, 1.0 / (alpha + T))  # purchases per unit of time
    dropout = np.maximum(rng.beta(a, b + x), 1e-12)  # after each purchase
    purchases = np.where(alive, -np.expm1(-rate * dropout * horizon) / dropout, 0.0)
    spent = (x > 0) & (m > 0)  # returns can make a mean spend negative: such a customer gets the population's
    nu = rng.gamma(q + p * np.where(spent, x, 0.0), 1.0 / (g + np.where(spent, x * m, 0.0)))
    return {"expected_purchases": purchases, "clv": purchases * p / nu}


def lifetime_values(summary: pd.DataFrame, bg: Fit, gg: Fit, horizon: float, steps: int = 12,
                    discount_per_step: float = 0.0, draws: int = 200, level: float = 0.9,
                    seed: int = 0) -> pd.DataFrame:
    """Per customer the point estimates and `level` intervals from `draws` draws.

    Probability alive: the parameters' uncertainty. Expected purchases and CLV: each draw takes parameters from
    their sampling distribution and then the customer's own latent rate, dropout, alive state and spend given
    their history (so the interval holds the customer's true expected value, not just the population's).
    """
    rng = np.random.default_rng(seed)
    bg_draws, gg_draws = bg.draws(draws, rng), gg.draws(draws, rng)
    point = customer_value(bg.params, gg.params, summary, horizon, steps, discount_per_step)
    alive = np.vstack([probability_alive(b, *(summary[c].to_numpy(float) for c in ("frequency", "recency", "T")))
                       for b in bg_draws])
    latent = [latent_value(b, g, summary, horizon, rng) for b, g in zip(bg_draws, gg_draws, strict=True)]
    undiscounted = point["expected_spend_per_purchase"] * point["expected_purchases"]
    discount = np.divide(point["clv"], undiscounted, out=np.ones_like(undiscounted), where=undiscounted > 0)
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    out = pd.DataFrame(point, index=summary.index)
    out["p_alive_low"], out["p_alive_high"] = np.quantile(alive, [lo, hi], axis=0)
    for key, scale in (("expected_purchases", 1.0), ("clv", discount)):
        stack = np.vstack([d[key] for d in latent]) * scale
        out[f"{key}_low"], out[f"{key}_high"] = np.quantile(stack, [lo, hi], axis=0)
    return out[["expected_purchases", "expected_purchases_low", "expected_purchases_high", "p_alive", "p_alive_low",
                "p_alive_high", "expected_spend_per_purchase", "clv", "clv_low", "clv_high"]]
