"""Validation harness of the causal recovery estimate: simulated worlds whose truth is known.

A grid of worlds (seeds x behaviour effect scales x confounding; effect scale 0 is the null world where
the rules change nothing) plus the default 20k world. In each, every scenario is estimated for both
estimands (retrospective: deals closed in the last year; prospective: the open pipeline at the snapshot)
by the causal estimator (analytics/recovery), and beside it by seed 000's rules (EV x haircut x rate, on
the true probabilities) and by naive re-scoring (a LightGBM win model on closed deals, re-scored with the
governed features changed as analytics/counterfactual.py does). Bias, absolute error and the causal 95%
interval's coverage of the truth are written to benchmarks/results/recovery.json.

    .venv/bin/python benchmarks/recovery.py                        # 24 grid worlds of 6k deals + the 20k world
    .venv/bin/python benchmarks/recovery.py --seeds 1 --scales 1   # quick
    .venv/bin/python benchmarks/recovery.py --cost 100000          # point 7: the causal estimate for 100k open deals
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS_DIR, ensure_repo_on_path, machine_info, write_result  # noqa: E402

AS_OF = "2024-12-31"
DROP = ("opportunity_id", "cutoff", "won", "is_open", "owner_id", "account_id", "lead_id", "created_at",
        "created_year")


class NaiveWinModel:
    """A plain LightGBM win model on every deal feature, with the champion's predict(None, frame) interface."""

    def __init__(self, closed, seed: int):
        import lightgbm as lgb
        import pandas as pd

        self.columns = [c for c in closed.columns if c not in DROP]
        self.levels = {c: sorted(closed[c].dropna().astype(str).unique()) for c in self.columns
                       if not (pd.api.types.is_numeric_dtype(closed[c]) or pd.api.types.is_bool_dtype(closed[c]))}
        self.model = lgb.LGBMClassifier(n_estimators=300, learning_rate=0.05, num_leaves=15, min_child_samples=40,
                                        random_state=seed, n_jobs=1, verbose=-1)
        self.model.fit(self._x(closed), closed["won"].astype(float).to_numpy())

    def _x(self, frame):
        import pandas as pd

        cols = {}
        for c in self.columns:
            if c in self.levels:
                cols[c] = pd.Categorical(frame[c].astype("string").astype(object), categories=self.levels[c])
            else:
                cols[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
        return pd.DataFrame(cols, index=frame.index)

    def predict(self, _context, frame):
        import pandas as pd

        return pd.DataFrame({"probability": self.model.predict_proba(self._x(frame))[:, 1]}, index=frame.index)


def evaluate_world(name: str, sim_over: dict, deals: int, seed: int, workdir: Path, rec_over: dict) -> list[dict]:
    import numpy as np
    import pandas as pd

    from cvre.analytics.config import LeakageConfig
    from cvre.analytics.counterfactual import model_recovery
    from cvre.analytics.recovery.config import RecoveryConfig
    from cvre.analytics.recovery.estimate import estimate_recovery
    from cvre.analytics.recovery.leakage import true_recovery
    from cvre.analytics.rules import deal_leakage, impute_amounts
    from cvre.analytics.run import scoped_deals
    from cvre.core.governance import SCENARIOS, Governance
    from cvre.simulation.config import SimulationConfig
    from cvre.simulation.world import simulate_world

    folder = workdir / name
    began = time.perf_counter()
    simulate_world(SimulationConfig.model_validate({"deals": deals, "seed": seed, **sim_over}), folder, progress=False)
    as_of, cfg, gov = pd.Timestamp(AS_OF), RecoveryConfig.model_validate(rec_over), Governance()
    all_deals = scoped_deals(folder, as_of, "all")
    history = [scoped_deals(folder, as_of - pd.Timedelta(days=d), "open") for d in cfg.history_offsets_days]
    t0 = time.perf_counter()
    result = estimate_recovery(all_deals, history, as_of, gov, cfg, SCENARIOS, amount_of=impute_amounts)
    causal_s = time.perf_counter() - t0
    truth = pd.read_parquet(folder / "truth" / "deals_truth.parquet").set_index("opportunity_id")
    sets = {"retrospective": result.closed_deals["opportunity_id"], "prospective": result.open_deals["opportunity_id"]}
    closed = all_deals[~all_deals["is_open"].astype(bool)].reset_index(drop=True)
    naive = NaiveWinModel(closed, seed)
    leak_cfg = LeakageConfig(probability="truth")
    rows = []
    for estimand, ids in sets.items():
        frame = all_deals[all_deals["opportunity_id"].isin(ids)].reset_index(drop=True)
        p_true = truth.loc[frame["opportunity_id"], "true_win_prob"].to_numpy()
        rules = deal_leakage(frame, p_true, leak_cfg)
        rescored = model_recovery(frame, impute_amounts(frame), naive, leak_cfg, gov).set_index("scenario")
        ev = float((truth.loc[frame["opportunity_id"], "true_amount"] * p_true).sum())
        causal = result.table[result.table["estimand"] == estimand].set_index("scenario")
        for s in SCENARIOS:
            true = true_recovery(truth, ids, s)
            row = causal.loc[s]
            estimates = {"causal": float(row["causal_recovered_ev"]), "rules": float(rules[f"recovered_{s}"].sum()),
                         "naive_rescoring": float(rescored.loc[s, "model_recovered_ev"])}
            if estimand == "retrospective":
                estimates["plugin"] = float(row["plugin_recovered_ev"])
            for estimator, value in estimates.items():
                rows.append({"world": name, **{k: v for k, v in sim_over.items()}, "seed": seed, "deals": deals,
                             "estimand": estimand, "scenario": s, "estimator": estimator, "estimate": value,
                             "truth": true, "ev": ev, "error_share_of_ev": (value - true) / ev,
                             "relative_error": (value / true - 1.0) if abs(true) > 1e-6 * ev else np.nan,
                             **({"ci_low": float(row["causal_ci_low"]), "ci_high": float(row["causal_ci_high"]),
                                 "covers": bool(row["causal_ci_low"] <= true <= row["causal_ci_high"]),
                                 "overlap_share": float(row["overlap_share"]), "e_value": float(row["e_value"])}
                                if estimator == "causal" else {})})
    print(f"{name}: {time.perf_counter() - began:.0f} s (causal estimate {causal_s:.1f} s)", flush=True)
    for r in rows:
        r["causal_seconds"] = causal_s
    return rows


def summarise(rows: list[dict]) -> dict:
    import pandas as pd

    df = pd.DataFrame(rows)
    out = {}
    for (kind, estimator, estimand, scenario), part in df.groupby(["kind", "estimator", "estimand", "scenario"]):
        block = {"worlds": len(part), "mean_relative_error": part["relative_error"].mean(),
                 "mean_abs_relative_error": part["relative_error"].abs().mean(),
                 "mean_error_share_of_ev": part["error_share_of_ev"].mean()}
        if estimator == "causal":
            block["coverage"] = part["covers"].mean()
        out.setdefault(kind, {}).setdefault(estimator, {}).setdefault(estimand, {})[scenario] = block
    causal = df[df["estimator"] == "causal"]
    effect = causal[causal["kind"] == "effect"]
    null = causal[causal["kind"] == "null"]
    out["targets"] = {
        "coverage_over_effect_worlds": effect["covers"].mean(),
        "null_intervals_containing_0": ((null["ci_low"] <= 0) & (null["ci_high"] >= 0)).mean() if len(null) else None,
        "coverage_per_scenario_and_estimand": {f"{s}/{e}": float(v) for (s, e), v in
                                               effect.groupby(["scenario", "estimand"])["covers"].mean().items()},
    }
    return out


def cost(open_deals: int, world_deals: int, workdir: Path) -> dict:
    """The causal estimate for `open_deals` open deals: a simulated world's open deals replicated (new ids, same
    owners), nuisances fit on its closed deals."""
    import pandas as pd

    from cvre.analytics.recovery.config import RecoveryConfig
    from cvre.analytics.recovery.estimate import estimate_recovery
    from cvre.analytics.rules import impute_amounts
    from cvre.analytics.run import scoped_deals
    from cvre.core.governance import SCENARIOS, Governance
    from cvre.simulation.config import SimulationConfig
    from cvre.simulation.world import simulate_world

    folder = workdir / f"cost{world_deals}"
    simulate_world(SimulationConfig(deals=world_deals, seed=5), folder, progress=False)
    as_of, cfg = pd.Timestamp(AS_OF), RecoveryConfig()
    all_deals = scoped_deals(folder, as_of, "all")
    history = [scoped_deals(folder, as_of - pd.Timedelta(days=d), "open") for d in cfg.history_offsets_days]
    is_open = all_deals["is_open"].astype(bool)
    opens = all_deals[is_open]
    copies = -(-open_deals // len(opens))
    big = pd.concat([opens.assign(opportunity_id=opens["opportunity_id"] + f"-{k}") for k in range(copies)],
                    ignore_index=True).iloc[:open_deals]
    frame = pd.concat([all_deals[~is_open], big], ignore_index=True)
    began = time.perf_counter()
    result = estimate_recovery(frame, history, as_of, Governance(), cfg, SCENARIOS, ("tier", "owner_id"),
                               amount_of=impute_amounts)
    seconds = time.perf_counter() - began
    return {"open_deals": int(len(result.open_deals)), "closed_deals": int((~is_open).sum()),
            "history_rows": int(sum(len(h) for h in history)), "seconds": seconds, "target_seconds": 60.0,
            "met": seconds <= 60.0, "folds": cfg.folds, "history_snapshots": len(cfg.history_offsets_days),
            "load_before": os.getloadavg()}


def main() -> None:
    ensure_repo_on_path()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deals", type=int, default=6000, help="deals per grid world")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--scales", type=float, nargs="+", default=[0.0, 0.5, 1.0, 1.5],
                    help="behaviour effect scales (0: the null world)")
    ap.add_argument("--confounding", type=float, nargs="+", default=[0.0, 0.5],
                    help="skill_behaviour = large_account_response strengths")
    ap.add_argument("--default-world", type=int, default=20000, help="deals of the default world (0: skip)")
    ap.add_argument("--cost", type=int, default=0, help="only the cost benchmark, for this many open deals")
    ap.add_argument("--cost-world", type=int, default=20000)
    ap.add_argument("--recovery", type=json.loads, default={},
                    help='recovery config overrides as JSON (e.g. \'{"ratio_bins": 8}\'); tune on other --seeds')
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=RESULTS_DIR / "recovery.json")
    args = ap.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cvre-recovery-"))
    stamp = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine_info(),
             "load_before": os.getloadavg(), "command": " ".join(["benchmarks/recovery.py", *sys.argv[1:]])}
    if args.cost:
        result = {**stamp, "cost": cost(args.cost, args.cost_world, workdir), "load_after": os.getloadavg()}
        path = args.out if args.out != RESULTS_DIR / "recovery.json" else RESULTS_DIR / "recovery_cost.json"
        print(json.dumps(result["cost"], indent=1))
        write_result(result, path)
        return
    rows = []
    if args.default_world:
        for r in evaluate_world(f"default-{args.default_world}", {}, args.default_world, 42, workdir,
                                  args.recovery):
            rows.append({**r, "kind": "default", "effect_scale": 1.0, "confounding_strength": 0.0})
    for seed, scale, conf in itertools.product(args.seeds, args.scales, args.confounding):
        over = {"win": {"behaviour_effect_scale": scale},
                "confounding": {"skill_behaviour": conf, "large_account_response": conf}}
        name = f"s{seed}-effect{scale:g}-conf{conf:g}"
        kind = "null" if scale == 0 else "effect"
        rows += [{**r, "kind": kind, "effect_scale": scale, "confounding_strength": conf}
                 for r in evaluate_world(name, over, args.deals, seed, workdir, args.recovery)]
    for r in rows:
        r.pop("win", None), r.pop("confounding", None)
    result = {**stamp, "load_after": os.getloadavg(), "summary": summarise(rows), "rows": rows}
    write_result(json.loads(json.dumps(result, default=float)), args.out)
    print(json.dumps(result["summary"]["targets"], indent=1, default=float))


if __name__ == "__main__":
    main()
