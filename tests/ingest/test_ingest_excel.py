"""Workbooks as exported by HubSpot or Pipedrive (.xlsx), read sheet by sheet with `format: excel`."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from ingest_helpers import write_mapping
from openpyxl import Workbook

from cvre.core.io import read_tables
from cvre.ingest.draft import draft_mapping
from cvre.ingest.errors import ExportFormatError
from cvre.ingest.run import run_import

DEALS = [("Deal ID", "Company", "Create Date", "Deal Stage", "Amount"),
         (12346, "Acme", dt.datetime(2024, 3, 31, 14, 5), "Closed Won", 12500.5),
         ("D-2", "Beta", dt.date(2024, 4, 1), "Closed Lost", None),
         ("D-3", "Acme", dt.datetime(2024, 5, 2, 9, 0), "Proposal", 800)]
COMPANIES = [("Company", "Industry"), ("Acme", "retail"), ("Beta", "banking")]
MAPPING = {"tables": {
    "accounts": {"format": "excel", "sheet": "Companies", "columns": {"account_id": "Company", "industry": "Industry"},
                 "absent": ["account_name", "employees", "region", "country", "tier", "created_at"]},
    "opportunities": {"format": "excel", "sheet": "Deals", "columns": {
        "opportunity_id": "Deal ID", "account_id": "Company", "created_at": "Create Date", "stage": "Deal Stage",
        "amount": "Amount"}, "constants": {"currency": "EUR"}, "derive": {"outcome": "outcome_from_stage"},
        "absent": ["lead_id", "owner_id", "product", "business_type", "expected_close_date", "closed_at"]}}}


def workbook(path: Path, title: tuple[tuple, ...] = ()) -> Path:
    book = Workbook()
    book.active.title = "Deals"
    for row in (*title, *DEALS):
        book.active.append(row)
    companies = book.create_sheet("Companies")
    for row in COMPANIES:
        companies.append(row)
    book.save(path)
    return path


def test_a_workbook_imports_sheet_by_sheet_with_its_typed_cells(tmp_path):
    source = workbook(tmp_path / "deals.xlsx")
    report = run_import(source, write_mapping(tmp_path, MAPPING), tmp_path / "out")
    assert {n: (t.accepted, t.rejected) for n, t in report.tables.items()} == {"accounts": (2, 0),
                                                                                "opportunities": (3, 0)}
    deals = read_tables(tmp_path / "out")["opportunities"].set_index("opportunity_id")
    assert deals.index.tolist() == ["12346", "D-2", "D-3"]  # a number cell as an id: no "12346.0"
    assert deals["created_at"].dt.strftime("%Y-%m-%d %H:%M").tolist() == ["2024-03-31 14:05", "2024-04-01 00:00",
                                                                          "2024-05-02 09:00"]
    assert deals["amount"].tolist()[::2] == [12500.5, 800.0] and deals["amount"].isna().tolist()[1]
    assert deals["stage"].tolist() == ["closed_won", "closed_lost", "proposal"]


def test_sheet_errors_name_the_sheets_there_are(tmp_path):
    source = workbook(tmp_path / "deals.xlsx")
    wrong = {"tables": {"opportunities": {**MAPPING["tables"]["opportunities"], "sheet": "Pipeline"}}}
    with pytest.raises(ExportFormatError, match=re.escape("no sheet 'Pipeline'; the workbook has 'Deals', "
                                                          "'Companies'")):
        run_import(source, write_mapping(tmp_path, wrong), tmp_path / "out")
    as_csv = {"tables": {"opportunities": {k: v for k, v in MAPPING["tables"]["opportunities"].items()
                                           if k not in ("format", "sheet")}}}
    with pytest.raises(ExportFormatError, match="Excel .xlsx workbook .*set `format: excel`"):
        run_import(source, write_mapping(tmp_path, as_csv), tmp_path / "out")
    (tmp_path / "fake.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(ExportFormatError, match="not a readable Excel or OpenDocument workbook"):
        run_import(tmp_path / "fake.xlsx", write_mapping(tmp_path, MAPPING), tmp_path / "out")


def test_a_draft_of_a_workbook_maps_each_sheet(tmp_path):
    source = workbook(tmp_path / "deals.xlsx")
    draft = draft_mapping(source)
    assert {n: t.sample.name for n, t in draft.tables.items()} == {"accounts": "deals.xlsx [Companies]",
                                                                   "opportunities": "deals.xlsx [Deals]"}
    assert 'sheet: "Deals"' in draft.text and "format: excel" in draft.text and not draft.todos
    mapping = tmp_path / "draft.yaml"
    mapping.write_text(draft.text, encoding="utf-8")
    report = run_import(source, mapping, tmp_path / "out")
    assert {n: t.accepted for n, t in report.tables.items()} == {"accounts": 2, "opportunities": 3}


def test_a_report_title_above_the_header(tmp_path):
    title = (("Deals closing this quarter",), ("Filtered by: owner = me",), ())
    source = workbook(tmp_path / "report.xlsx", title)
    with pytest.raises(ExportFormatError, match=re.escape("set `skip_rows:` to the number of lines above it")):
        run_import(source, write_mapping(tmp_path, MAPPING), tmp_path / "out")
    skipping = {"tables": {**MAPPING["tables"], "opportunities": {**MAPPING["tables"]["opportunities"],
                                                                  "skip_rows": 3}}}
    report = run_import(source, write_mapping(tmp_path, skipping), tmp_path / "out")
    assert report.tables["opportunities"].accepted == 3
    draft = draft_mapping(source)
    assert draft.tables["opportunities"].sample.skip_rows == 3 and draft.tables["accounts"].sample.skip_rows == 0
    (tmp_path / "draft.yaml").write_text(draft.text, encoding="utf-8")
    assert run_import(source, tmp_path / "draft.yaml", tmp_path / "out2").tables["opportunities"].accepted == 3
