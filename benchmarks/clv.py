"""Lifetime value checked two ways: the CDNOW sample against the published BG/NBD and Gamma-Gamma fits (and its
holdout repeat purchases), and simulated worlds against the simulator's true expected spend.

    .venv/bin/python benchmarks/clv.py                      # CDNOW + the default 20k world, seeds 42 and 7
    .venv/bin/python benchmarks/clv.py --deals 5000 --seeds 1

Results go to benchmarks/results/clv.json (with the load average: timings taken on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS_DIR, ensure_repo_on_path, machine_info, write_result  # noqa: E402

PUBLISHED = {"bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
             "gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44}}
CALIBRATION_END, HOLDOUT_END = "1997-09-30", "1998-06-30"


def cdnow(sample: Path) -> dict:
    import numpy as np
    import pandas as pd

    from cvre.analytics.clients.clv import fit_bgnbd, fit_gamma_gamma, latent_value, lifetime_values, purchase_summary

    tx = pd.read_csv(sample, sep=r"\s+", header=None, dtype={0: str, 2: str},
                     names=["account_id", "sample_index", "occurred_at", "quantity", "amount"])
    tx["occurred_at"] = pd.to_datetime(tx["occurred_at"], format="%Y%m%d")
    began = time.perf_counter()
    summary = purchase_summary(tx, pd.Timestamp(CALIBRATION_END))
    bg, gg = fit_bgnbd(summary), fit_gamma_gamma(summary)
    fit_s = time.perf_counter() - began
    weeks = (pd.Timestamp(HOLDOUT_END) - pd.Timestamp(CALIBRATION_END)).days / 7
    values = lifetime_values(summary, bg, gg, weeks)
    rng = np.random.default_rng(0)  # the total's interval: sums of draws (a sum of quantiles is not a quantile)
    totals = [latent_value(b, g, summary, weeks, rng)["expected_purchases"].sum()
              for b, g in zip(bg.draws(200, rng), gg.draws(200, rng), strict=True)]
    holdout = tx[(tx["occurred_at"] > CALIBRATION_END) & (tx["occurred_at"] <= HOLDOUT_END)]
    actual = holdout.groupby(["account_id", "occurred_at"]).size().groupby("account_id").size()
    per_customer = values["expected_purchases"].to_frame().join(actual.rename("actual")).fillna(0.0)
    miss = per_customer["expected_purchases"] - per_customer["actual"]
    fitted = {"bgnbd": bg.as_dict(), "gamma_gamma": gg.as_dict()}
    return {"customers": len(summary), "fitted": fitted,
            "relative_error": {m: {k: fitted[m][k] / v - 1 for k, v in p.items()} for m, p in PUBLISHED.items()},
            "within_3pct": all(abs(fitted[m][k] / v - 1) <= 0.03 for m, p in PUBLISHED.items() for k, v in p.items()),
            "holdout_weeks": round(weeks, 1), "holdout_predicted": float(values["expected_purchases"].sum()),
            "holdout_predicted_interval": np.quantile(totals, [0.05, 0.95]).round(1).tolist(),
            "holdout_actual": int(actual.sum()),
            "holdout_per_customer_mae": float(miss.abs().mean()),
            "holdout_per_customer_correlation": float(per_customer.corr().iloc[0, 1]), "fit_seconds": round(fit_s, 2)}


def simulated(deals: int, seed: int) -> dict:
    from cvre.analytics.clients.config import ClientsConfig
    from cvre.analytics.clients.run import run_clients
    from cvre.simulation.config import SimulationConfig
    from cvre.simulation.world import simulate_world

    with tempfile.TemporaryDirectory() as tmp:
        simulate_world(SimulationConfig(deals=deals, seed=seed), Path(tmp), progress=False)
        began = time.perf_counter()
        run = run_clients(Path(tmp), ClientsConfig())
        return {"deals": deals, "seed": seed, "seconds": round(time.perf_counter() - began, 1),
                "horizon_days": run.clv_fit["horizon_days"], "fit": {"bgnbd": run.clv_fit["bgnbd"],
                                                                      "gamma_gamma": run.clv_fit["gamma_gamma"]},
                **run.clv_truth}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7])
    args = parser.parse_args()
    ensure_repo_on_path()
    repo = Path(__file__).resolve().parents[1]
    sample = repo.parent / "shared" / "datasets" / "cdnow" / "CDNOW_sample.txt"
    result = {"benchmark": "clv", "when": datetime.now(UTC).isoformat(timespec="seconds"),
              "load_average": os.getloadavg(), "machine": machine_info(),
              "cdnow_sample": cdnow(sample) if sample.exists() else "CDNOW sample not present",
              "simulated": [simulated(args.deals, s) for s in args.seeds]}
    path = write_result(result, RESULTS_DIR / "clv.json")
    print(path)
    c = result["cdnow_sample"]
    if isinstance(c, dict):
        print(f"CDNOW: {c['fitted']} within 3%: {c['within_3pct']}; holdout {c['holdout_predicted']:.0f} predicted "
              f"vs {c['holdout_actual']} actual")
    for s in result["simulated"]:
        print(f"world {s['deals']} seed {s['seed']}: total CLV {s['total_clv']:,.0f} vs true {s['total_true']:,.0f} "
              f"({s['total_error']:+.1%}), MAE {s['mae']:,.0f} (mean {s['mean_true']:,.0f}), "
              f"Spearman {s['spearman']:.2f}")


if __name__ == "__main__":
    main()
