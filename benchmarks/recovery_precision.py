"""How precise can a causal recovery estimate be on the default 20k world? Read off its own 95% intervals.

For each (estimand, scenario) of the causal estimator on the default world in benchmarks/results/recovery.json,
the standard error implied by the interval (width / 2 x 1.96) relative to the truth, the probability that an
*unbiased* estimator with that standard error lands within `--tolerance` of the truth, the probability that all
pairs do at once, and the world size at which each pair would reach `--target` probability (standard errors
shrinking as 1/sqrt(deals)). Written to benchmarks/results/recovery_precision.json.

    .venv/bin/python benchmarks/recovery.py --deals 4000      # first: the harness
    .venv/bin/python benchmarks/recovery_precision.py
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS_DIR, write_result  # noqa: E402

Z95 = norm.ppf(0.975)


def precision(rows: list[dict], tolerance: float, target: float) -> dict:
    """Per pair: se/truth, P(|error| <= tolerance x truth) for an unbiased estimate, deals needed for `target`."""
    default = [r for r in rows if r.get("kind") == "default" and r["estimator"] == "causal"]
    if not default:
        raise SystemExit("no default-world causal rows in recovery.json: run benchmarks/recovery.py first")
    deals = default[0]["deals"]
    z_needed = norm.ppf(0.5 + target / 2)
    pairs, p_all = [], 1.0
    for r in default:
        se = (r["ci_high"] - r["ci_low"]) / (2 * Z95)
        relative_se = se / abs(r["truth"])
        p_within = 2 * norm.cdf(tolerance / relative_se) - 1
        p_all *= p_within
        pairs.append({"estimand": r["estimand"], "scenario": r["scenario"], "truth": r["truth"],
                      "estimate": r["estimate"], "relative_error": r["relative_error"],
                      "se_over_truth": round(relative_se, 4), "p_within_tolerance_if_unbiased": round(p_within, 3),
                      "deals_for_target": int(math.ceil(deals * (relative_se * z_needed / tolerance) ** 2))})
    return {"world_deals": deals, "tolerance": tolerance, "target_probability_per_pair": target,
            "p_all_pairs_within_tolerance_if_unbiased": round(p_all, 4), "pairs": pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=RESULTS_DIR / "recovery.json")
    parser.add_argument("--tolerance", type=float, default=0.10, help="relative error allowed (default 0.10)")
    parser.add_argument("--target", type=float, default=0.95, help="probability per pair (default 0.95)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "recovery_precision.json")
    args = parser.parse_args()
    source = json.loads(args.source.read_text())
    result = {"benchmark": "recovery_precision", "source": str(args.source), "source_command": source["command"],
              **precision(source["rows"], args.tolerance, args.target)}
    write_result(result, args.output)
    for p in result["pairs"]:
        print(f"{p['estimand']:13s} {p['scenario']:18s} se/truth {p['se_over_truth']:.3f}  "
              f"P(within {args.tolerance:.0%}) {p['p_within_tolerance_if_unbiased']:.2f}  "
              f"deals for {args.target:.0%}: {p['deals_for_target']:,}")
    print(f"P(all pairs within {args.tolerance:.0%}) = {result['p_all_pairs_within_tolerance_if_unbiased']}")


if __name__ == "__main__":
    main()
