"""The causal estimate on small simulated worlds, against the simulator's truth (a small version of
benchmarks/recovery.py)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cvre.analytics.recovery.config import RecoveryConfig
from cvre.analytics.recovery.estimate import NotEnoughHistory, estimate_recovery
from cvre.analytics.rules import impute_amounts
from cvre.analytics.run import scoped_deals
from cvre.core.governance import SCENARIOS, Governance
from cvre.simulation.config import SimulationConfig, WinModel
from cvre.simulation.world import simulate_world

AS_OF = pd.Timestamp("2024-12-31")
CFG = RecoveryConfig(min_closed_deals=200)


def _estimate(folder: Path, **over):
    simulate_world(SimulationConfig(deals=4000, seed=11, **over), folder, progress=False)
    all_deals = scoped_deals(folder, AS_OF, "all")
    history = [scoped_deals(folder, AS_OF - pd.Timedelta(days=d), "open") for d in CFG.history_offsets_days]
    result = estimate_recovery(all_deals, history, AS_OF, Governance(), CFG, SCENARIOS, ("tier",),
                               amount_of=impute_amounts)
    truth = pd.read_parquet(folder / "truth" / "deals_truth.parquet").set_index("opportunity_id")
    return result, truth


def _truth(truth: pd.DataFrame, ids, scenario: str) -> float:
    t = truth.loc[ids]
    return float((t["true_amount"] * (t[f"p_{scenario}"] - t["true_win_prob"])).sum())


@pytest.mark.slow
def test_intervals_cover_the_truth_and_the_null_world(tmp_path):
    result, truth = _estimate(tmp_path / "world")
    table = result.table.set_index(["scenario", "estimand"])
    retro = table.loc[("combined", "retrospective")]
    true = _truth(truth, result.closed_deals["opportunity_id"], "combined")
    assert retro["causal_ci_low"] <= true <= retro["causal_ci_high"], (retro.to_dict(), true)
    assert retro["causal_ci_low"] > 0  # a real effect is detected
    # One small world's open pipeline (~400 deals) is too noisy for a coverage check of its own; the prospective
    # estimand's coverage is measured over many worlds by benchmarks/recovery.py. Here: it sees the effect.
    prosp = table.loc[("combined", "prospective")]
    assert prosp["causal_recovered_ev"] > 0 and prosp["causal_ci_low"] < prosp["causal_ci_high"]
    assert np.isclose(result.open_deals["causal_combined"].sum(), table.loc[("combined", "prospective"),
                                                                              "causal_recovered_ev"])
    segs = result.segments[result.segments["scenario"] == "combined"]
    assert np.isclose(segs["causal_recovered_ev"].sum(), result.open_deals["causal_combined"].sum())
    assert (table["overlap_share"].between(0, 1)).all() and (table["e_value"] >= 1).all()

    null, _ = _estimate(tmp_path / "null", win=WinModel(behaviour_effect_scale=0.0))
    covers_zero = (null.table["causal_ci_low"] <= 0) & (null.table["causal_ci_high"] >= 0)
    assert covers_zero.mean() >= 0.75, null.table[["scenario", "estimand", "causal_ci_low", "causal_ci_high"]]


def test_too_little_history_is_refused(small_world):
    all_deals = scoped_deals(small_world, AS_OF, "all")
    with pytest.raises(NotEnoughHistory, match="min_closed_deals"):
        estimate_recovery(all_deals, [], AS_OF, Governance(), RecoveryConfig(min_closed_deals=10**6), SCENARIOS,
                          amount_of=impute_amounts)
