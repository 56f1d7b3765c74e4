"""The drift engine on synthetic columns: scores, verdicts, noise floors and data-quality figures."""

import numpy as np
import pandas as pd
import pytest

from cvre.monitoring.config import DriftConfig
from cvre.monitoring.drift import column_drift, detect_drift, js_distance, profile_reference, psi

CFG = DriftConfig()


def _frame(n: int, seed: int, mean: float = 0.0, mix=(0.5, 0.3, 0.2)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(mean, 1.0, n), "c": rng.choice(["a", "b", "c"], n, p=mix),
                         "f": rng.random(n) < 0.3})


def test_same_distribution_is_not_flagged_and_shifts_are():
    profiles = profile_reference(_frame(5000, 0), ["x", "c", "f"], CFG)
    same = detect_drift(profiles, _frame(2000, 1), CFG).set_index("column")
    assert not same["drifted"].any()
    moved = detect_drift(profiles, _frame(2000, 2, mean=0.5, mix=(0.2, 0.3, 0.5)), CFG).set_index("column")
    assert moved.loc["x", "drifted"] and moved.loc["c", "drifted"] and not moved.loc["f", "drifted"]
    assert moved.loc["x", "method"] == "wasserstein" and moved.loc["c", "method"] == "jensenshannon"


def test_small_batches_need_more_than_noise():
    profiles = profile_reference(_frame(5000, 0), ["x"], CFG)
    small = column_drift(profiles["x"], _frame(30, 3)["x"], CFG)
    large = column_drift(profiles["x"], _frame(30_000, 3)["x"], CFG)
    assert small["noise"] > large["noise"] > 0
    assert not small["drifted"]


def test_quality_new_categories_out_of_range_missing_and_absent_columns():
    profiles = profile_reference(_frame(5000, 0), ["x", "c", "f"], CFG)
    cur = _frame(1000, 4)
    cur.loc[:99, "c"] = "brand new"
    cur.loc[:49, "x"] = 99.0
    cur.loc[100:299, "x"] = np.nan
    table = detect_drift(profiles, cur.drop(columns="f"), CFG).set_index("column")
    assert table.loc["c", "new_categories"] == ["brand new"]
    assert table.loc["c", "new_category_share"] == pytest.approx(0.1)
    assert table.loc["x", "out_of_range_share"] == pytest.approx(50 / 800)
    assert table.loc["x", "missing_current"] == pytest.approx(0.2)
    assert table.loc["f", "method"] == "absent" and table.loc["f", "drifted"]


def test_flags_from_bools_numbers_and_strings_agree():
    profiles = profile_reference(_frame(5000, 0), ["f"], CFG)
    f = _frame(1000, 5)["f"]
    scores = {column_drift(profiles["f"], v, CFG)["score"] for v in (f, f.astype(float), f.astype(str))}
    assert len(scores) == 1


def test_divergences():
    a, b = np.array([50, 50, 0]), np.array([90, 10, 0])
    assert psi(a, a) == pytest.approx(0) and js_distance(a, a) == pytest.approx(0)
    assert psi(a, b) > 0.2 and 0 < js_distance(a, b) <= 1


def test_psi_method_and_ignored_columns():
    cfg = DriftConfig(numeric_method="psi", numeric_threshold=0.2, ignore=["c"])
    profiles = profile_reference(_frame(5000, 0), ["x", "c"], cfg)
    table = detect_drift(profiles, _frame(2000, 6, mean=1.0), cfg)
    assert list(table["column"]) == ["x"] and table["method"].iloc[0] == "psi" and table["drifted"].iloc[0]
