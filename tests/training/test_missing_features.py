"""A feature the model expects but the data lacks is an error naming it, never a silent column of NaN."""

import json

import pandas as pd
import pytest

from cvre.training.data import MissingFeatures, load_task, prepare_frame


def deals(n: int, start: str, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = pd.DataFrame({"opportunity_id": [f"D{start}{i}" for i in range(n)],
                          "cutoff": pd.date_range(start, periods=n, freq="D"), "won": [i % 2 for i in range(n)],
                          "amount": [100.0 + i for i in range(n)], "activities_total": [float(i) for i in range(n)],
                          "industry": ["software", "retail"] * (n // 2)})
    return frame.drop(columns=list(drop))


def test_prepare_frame_names_the_missing_feature():
    rows = deals(4, "2024-01-01", drop=("activities_total",))
    with pytest.raises(MissingFeatures, match="activities_total"):
        prepare_frame(rows, ["amount", "activities_total", "industry"], {"industry": ["retail", "software"]})
    typed = prepare_frame(deals(4, "2024-01-01"), ["amount", "activities_total"], {})
    assert typed["activities_total"].notna().all()


def test_load_task_refuses_a_split_that_lacks_a_training_column(tmp_path):
    manifest = {"deal_features": ["amount", "activities_total", "industry"], "deal_categories": ["industry"]}
    (tmp_path / "feature_manifest.json").write_text(json.dumps(manifest))
    deals(20, "2024-01-01").to_parquet(tmp_path / "deals_train.parquet")
    deals(6, "2024-02-01").to_parquet(tmp_path / "deals_valid.parquet")
    deals(6, "2024-03-01", drop=("activities_total",)).to_parquet(tmp_path / "deals_test.parquet")
    with pytest.raises(MissingFeatures, match=r"deals_test\.parquet: lacks activities_total"):
        load_task(tmp_path, "win")
    deals(6, "2024-03-01").to_parquet(tmp_path / "deals_test.parquet")
    data = load_task(tmp_path, "win")
    assert data.features == ["amount", "activities_total", "industry"]
    assert data.X["test"]["activities_total"].notna().all()
