"""A/B tests with a stated method: two-sided two-proportion z-test, Newcombe interval for the
difference, the power the test had for the minimum detectable lift, and a sample-size calculator."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize, proportions_ztest

METHOD = "two-sided two-proportion z-test (pooled), Newcombe 95% interval for the difference"


def two_proportion_test(success_a: int, n_a: int, success_b: int, n_b: int, alpha: float = 0.05,
                        mde: float = 0.02) -> dict:
    """B against A: rates, difference with its interval, p-value, winner at `alpha`, power for `mde`."""
    rate_a, rate_b = success_a / n_a, success_b / n_b
    if success_a + success_b in (0, n_a + n_b):  # no variation at all: nothing to test
        p_value, low, high = 1.0, 0.0, 0.0
    else:
        _, p_value = proportions_ztest([success_b, success_a], [n_b, n_a])
        low, high = confint_proportions_2indep(success_b, n_b, success_a, n_a, method="newcomb", alpha=alpha)
    significant = bool(p_value < alpha)
    winner = ("B" if rate_b > rate_a else "A") if significant else None
    return {"method": METHOD, "n_a": int(n_a), "n_b": int(n_b), "rate_a": rate_a, "rate_b": rate_b,
            "difference": rate_b - rate_a, "ci_low": float(low), "ci_high": float(high),
            "relative_lift": (rate_b / rate_a - 1.0) if rate_a else np.nan, "p_value": float(p_value),
            "alpha": alpha, "significant": significant, "winner": winner,
            "power_for_mde": power_for_lift(rate_a, mde, n_a, n_b, alpha), "mde": mde}


def power_for_lift(baseline: float, lift: float, n_a: int, n_b: int, alpha: float) -> float:
    """Power of the two-sided test to detect `baseline` -> `baseline + lift` with these arm sizes."""
    target = min(max(baseline + lift, 1e-9), 1 - 1e-9)
    effect = abs(proportion_effectsize(target, min(max(baseline, 1e-9), 1 - 1e-9)))
    return float(NormalIndPower().power(effect_size=effect, nobs1=n_a, alpha=alpha, ratio=n_b / n_a))


def sample_size_per_arm(baseline: float, lift: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Units per arm (equal arms) for a two-sided test to detect `baseline` -> `baseline + lift`."""
    effect = abs(proportion_effectsize(min(baseline + lift, 1 - 1e-9), baseline))
    return int(np.ceil(NormalIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0)))


def sample_size_table(baselines: list[float], lifts: list[float], alpha: float, power: float) -> pd.DataFrame:
    """The calculator as a grid: baseline rate x absolute lift -> units per arm."""
    rows = [{"baseline": b, "lift": d, "per_arm": sample_size_per_arm(b, d, alpha, power), "alpha": alpha,
             "power": power} for b in baselines for d in lifts if b + d < 1]
    return pd.DataFrame(rows)


def arm_comparison(units: pd.DataFrame, control: str | None, alpha: float = 0.05) -> pd.DataFrame:
    """Every arm against the control on each outcome present: proportions by the z-test above, revenue
    by Welch's t-test; p-values also Holm-adjusted over all comparisons."""
    arms = sorted(units["arm"].dropna().unique())
    control = control if control is not None else arms[0]
    if control not in arms:
        raise ValueError(f"ab_units: control arm {control!r} not found (arms: {', '.join(arms)})")
    base = units[units["arm"] == control]
    rows = []
    for arm in [a for a in arms if a != control]:
        test = units[units["arm"] == arm]
        for metric in ("visited", "converted"):
            if metric in units and units[metric].notna().any():
                a, b = base[metric].dropna().astype(bool), test[metric].dropna().astype(bool)
                r = two_proportion_test(int(a.sum()), len(a), int(b.sum()), len(b), alpha)
                rows.append({"arm": arm, "control": control, "metric": metric, "value": r["rate_b"],
                             "control_value": r["rate_a"], "lift": r["difference"], "ci_low": r["ci_low"],
                             "ci_high": r["ci_high"], "p_value": r["p_value"], "n": len(b), "n_control": len(a)})
        if "revenue" in units and units["revenue"].notna().any():
            a, b = base["revenue"].dropna().to_numpy(float), test["revenue"].dropna().to_numpy(float)
            res = stats.ttest_ind(b, a, equal_var=False)
            ci = res.confidence_interval(1 - alpha)
            rows.append({"arm": arm, "control": control, "metric": "revenue", "value": b.mean(),
                         "control_value": a.mean(), "lift": b.mean() - a.mean(), "ci_low": ci.low,
                         "ci_high": ci.high, "p_value": res.pvalue, "n": len(b), "n_control": len(a)})
    out = pd.DataFrame(rows)
    if len(out):
        out["p_holm"] = multipletests(out["p_value"], method="holm")[1]
        out["significant"] = out["p_holm"] < alpha
    return out
