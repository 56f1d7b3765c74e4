"""Observed fields and the derive rules real exports need: timestamp + duration, exists in another file,
percent, a per-customer churn label and a published train/test split."""

from __future__ import annotations

import pandas as pd
import pytest

from cvre.core.config import ConfigError
from cvre.ingest.mapping_check import load_mapping
from cvre.ingest.run import run_import
from tests.ingest.ingest_helpers import write_export, write_mapping

LEADS = {
    "file": "leads.csv",
    "columns": {"lead_id": "Lead", "created_at": "Created", "first_response_hours": "Hours"},
    "derive": {"first_response_at": {"rule": "timestamp_plus_duration", "start": "created_at", "source": "Hours",
                                     "unit": "hours"},
               "converted": {"rule": "exists_in", "source": "Lead", "file": "deals.csv", "column": "Lead Ref"}},
    "absent": ["account_id", "contact_id", "owner_id", "source"],
}
LEADS_CSV = "Lead,Created,Hours\nL1,2024-01-01 08:00,2.5\nL2,2024-01-02 09:00,\nL3,2024-01-03 10:00,50\n"
DEALS_CSV = "Deal,Lead Ref\nD1,L1\nD2,L3\nD3,\n"


def test_timestamp_plus_duration_and_exists_in(tmp_path):
    source = write_export(tmp_path, {"leads.csv": LEADS_CSV, "deals.csv": DEALS_CSV})
    mapping = write_mapping(tmp_path, {"tables": {"leads": LEADS}})
    report = run_import(source, mapping, tmp_path / "out")
    assert report.tables["leads"].accepted == 3
    leads = pd.read_parquet(tmp_path / "out" / "leads.parquet").set_index("lead_id")
    assert leads.loc["L1", "first_response_at"] == pd.Timestamp("2024-01-01 10:30")
    assert pd.isna(leads.loc["L2", "first_response_at"])  # no duration: no response time, not an invented one
    assert leads.loc["L3", "first_response_hours"] == 50.0
    assert leads["converted"].tolist() == [True, False, True]  # L1 and L3 are named by a deal


def test_exists_in_needs_a_folder_and_its_file_and_column(tmp_path):
    source = write_export(tmp_path, {"leads.csv": LEADS_CSV, "deals.csv": "Deal,Other\nD1,L1\n"})
    mapping = write_mapping(tmp_path, {"tables": {"leads": LEADS}})
    with pytest.raises(Exception, match="Lead Ref"):
        run_import(source, mapping, tmp_path / "out")
    bad = {**LEADS, "derive": {"converted": {"rule": "exists_in", "source": "Lead"}}}
    with pytest.raises(ConfigError, match="exists_in' needs `file:` and `column:`"):
        load_mapping(write_mapping(tmp_path, {"tables": {"leads": bad}}, "bad.yaml"))


OPPS = {
    "file": "opps.csv",
    "columns": {"opportunity_id": "Id", "created_at": "Created", "stage": "Stage", "days_in_stage": "Days",
                "stage_jump": "Jump"},
    "values": {"stage": {"Won": "closed_won", "Lost": "closed_lost"}},
    "derive": {"outcome": "outcome_from_stage",
               "crm_win_probability": {"rule": "percent", "source": "Probability"}},
    "absent": ["account_id", "lead_id", "owner_id", "product", "business_type", "amount", "currency",
               "expected_close_date", "closed_at"],
}


def test_observed_fields_are_optional_and_checked(tmp_path):
    csv = ("Id,Created,Stage,Days,Jump,Probability\nO1,2024-01-01,Proposal,12,Yes,40\n"
           "O2,2024-01-02,Won,3,No,100\nO3,2024-01-03,Proposal,-1,No,140\n")
    source = write_export(tmp_path, {"opps.csv": csv})
    # stage_moves, backward_moves, forecast_category are observed fields: left out, they are simply absent
    report = run_import(source, write_mapping(tmp_path, {"tables": {"opportunities": OPPS}}), tmp_path / "out")
    table = report.tables["opportunities"]
    assert (table.accepted, table.rejected) == (2, 1)
    assert any("days_in_stage: negative value" in r for r in table.reasons)
    assert any("crm_win_probability: above maximum 1" in r for r in table.reasons)
    opps = pd.read_parquet(tmp_path / "out" / "opportunities.parquet").set_index("opportunity_id")
    assert opps.loc["O1", "crm_win_probability"] == pytest.approx(0.4)
    assert bool(opps.loc["O1", "stage_jump"]) and opps.loc["O2", "outcome"] == "won"
    assert "stage_moves" not in opps.columns


def test_split_files_and_churn_label(tmp_path):
    header = "Plan,Calls,Churn\n"
    source = write_export(tmp_path, {"a.csv": header + "x,1,True\ny,4,False\n", "b.csv": header + "x,7,False\n"})
    mapping = {"tables": {"accounts": {
        "split_files": {"train": "a.csv", "test": "b.csv"},
        "columns": {"churned": "Churn", "region": "Plan"}, "derive": {"account_id": "row_number"},
        "absent": ["account_name", "industry", "employees", "country", "tier", "created_at"],
        "extra_columns": {"x_calls": {"source": "Calls", "kind": "int"}}}}}
    report = run_import(source, write_mapping(tmp_path, mapping), tmp_path / "out")
    assert report.tables["accounts"].accepted == 3
    accounts = pd.read_parquet(tmp_path / "out" / "accounts.parquet")
    extra = pd.read_parquet(tmp_path / "out" / "accounts_extra.parquet")
    assert accounts["account_id"].tolist() == ["train-2", "train-3", "test-2"]
    assert accounts["churned"].tolist() == [True, False, False]
    assert extra["x_split"].tolist() == ["train", "train", "test"]
    both = {**mapping["tables"]["accounts"], "file": "a.csv"}
    with pytest.raises(ConfigError, match="either `file` or `split_files`"):
        load_mapping(write_mapping(tmp_path, {"tables": {"accounts": both}}, "both.yaml"))
