import json
import time

import pandas as pd
import pytest

from cvre.core.io import read_table, read_tables
from cvre.simulation.truth import POLICIES
from cvre.simulation.world import simulate_world
from tests.conftest import small_config


def test_same_seed_same_world_different_seed_different(tmp_path):
    cfg = small_config(deals=600, seed=11)
    simulate_world(cfg, tmp_path / "a", progress=False)
    simulate_world(cfg, tmp_path / "b", progress=False)
    simulate_world(small_config(deals=600, seed=12), tmp_path / "c", progress=False)
    for table in ("opportunities", "activities", "leads", "messages", "transactions"):
        a = read_table(tmp_path / "a" / "export", table)
        pd.testing.assert_frame_equal(a, read_table(tmp_path / "b" / "export", table))
    assert not read_table(tmp_path / "a" / "export", "opportunities").equals(
        read_table(tmp_path / "c" / "export", "opportunities"))


def test_chunked_world_is_deterministic(tmp_path):
    cfg = small_config(deals=2500, seed=3)
    cfg.world.chunk_deals = 1000
    simulate_world(cfg, tmp_path / "a", progress=False)
    simulate_world(cfg, tmp_path / "b", progress=False)
    opps = read_table(tmp_path / "a" / "export", "opportunities")
    assert len(opps) == 2500 and opps["opportunity_id"].is_unique
    pd.testing.assert_frame_equal(opps, read_table(tmp_path / "b" / "export", "opportunities"))


def test_1k_deals_simulate_quickly(tmp_path):
    began = time.perf_counter()
    simulate_world(small_config(deals=1000), tmp_path, progress=False)
    # generous bound for a loaded CI machine; the 2 s figure is measured by benchmarks/simulate.py
    assert time.perf_counter() - began < 20


def test_truth_stays_out_of_the_export(small_world):
    export = read_tables(small_world / "export")
    for name, frame in export.items():
        leaked = [c for c in frame.columns if c.startswith(("true_", "p_", "won_")) or c.startswith("_")]
        assert not leaked, f"{name} exports truth columns {leaked}"
    truth = read_table(small_world / "truth", "deals_truth")
    assert {"true_win_prob", "true_expected_amount", *[f"p_{p}" for p in POLICIES]} <= set(truth.columns)
    assert truth["true_win_prob"].between(0, 1).all()


def test_world_resembles_seed_000(small_world):
    opps = read_table(small_world / "export", "opportunities")
    acts = read_table(small_world / "export", "activities")
    leads = read_table(small_world / "export", "leads")
    assert 0.08 < opps["amount"].isna().mean() < 0.16
    assert 0.25 < opps["expected_close_date"].isna().mean() < 0.35
    assert 0.15 < 1 - opps["opportunity_id"].isin(acts["opportunity_id"]).mean() < 0.29
    converted = leads[leads["converted"]]
    hours = (converted["first_response_at"] - converted["created_at"]).dt.total_seconds() / 3600
    assert 0.18 < ((hours > 48) | hours.isna()).mean() < 0.35
    assert 0.05 < (opps["outcome"] == "open").mean() < 0.25
    risk = json.loads((small_world / "truth" / "policy_recovery.json").read_text())["all_deals"]
    assert 0.12 < risk["value_at_risk_share"] < 0.30


def test_policy_replays_same_random_numbers(small_world):
    truth = read_table(small_world / "truth", "deals_truth")
    for policy in POLICIES:
        assert (truth[f"p_{policy}"] >= truth["true_win_prob"] - 1e-12).all()
        # same uniform draw: a deal won without the rule is still won with it
        assert (truth.loc[truth["won_eventually"], f"won_{policy}"]).all()
    recovery = json.loads((small_world / "truth" / "policy_recovery.json").read_text())
    block = recovery["open_pipeline"]
    assert block["combined"]["recovered_ev"] == pytest.approx(block["value_at_risk"])
    assert block["combined"]["recovered_ev"] >= max(block[p]["recovered_ev"] for p in POLICIES[:3])


def test_defects_are_recorded_in_truth(small_world):
    defects = read_table(small_world / "truth", "defects")
    assert {"missing_amount", "duplicate_contact", "messy_category", "stage_skip", "orphan_account_reference",
            "future_date", "missing_expected_close_date"} <= set(defects["defect"])
    opps = read_table(small_world / "export", "opportunities").set_index("opportunity_id")
    missing = defects.loc[defects["defect"] == "missing_amount", "row_id"]
    assert opps.loc[missing, "amount"].isna().all()
