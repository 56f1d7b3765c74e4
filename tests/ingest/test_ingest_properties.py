"""Property run of the import reader (hypothesis): any text export either fails with one ExportFormatError
naming the file, or imports with read = accepted + rejected, short rows never accepted, and a quarantine that
keeps every rejected row with its line and no cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_helpers import OPPORTUNITIES_MAPPING, quarantine, write_export, write_mapping

from cvre.core.io import read_table
from cvre.ingest.errors import ExportFormatError
from cvre.ingest.run import run_import

HEADER = ["Deal", "Account", "Created", "Stage", "Amount", "Closed"]
HOSTILE = ["", " ", "=cmd|' /C calc'!A0", "+1", "-2+3", "@x", "1,054", "1e308", "-5", "9999-12-31", "0001-01-01",
           "2024-02-30", "Won", "Lost", "negotiation", "D1", "a\nb", '"', "é", "\t", "NaN", "inf", "null"]
cells = st.one_of(st.sampled_from(HOSTILE), st.text(alphabet='ab,;"\n =+-@0123456789.:T', max_size=12),
                  st.dates().map(str), st.floats(allow_nan=True).map(str))
good_rows = st.tuples(st.sampled_from(["D1", "D2", "D3", "D4", "X"]), st.sampled_from(["Acme", "", "Beta"]),
                      st.dates().map(str), st.sampled_from(["Won", "Lost", "proposal", "?"]),
                      st.integers(-10, 10**6).map(str), st.dates().map(str)).map(list)
rows = st.lists(st.one_of(good_rows, st.lists(cells, min_size=1, max_size=6)), min_size=0, max_size=12)


def as_csv(records: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([HEADER, *records])
    return buffer.getvalue()


@pytest.mark.slow
@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(records=rows, truncate=st.integers(0, 30))
def test_any_csv_imports_reconciled_or_fails_with_one_clear_error(records, truncate):
    text = as_csv(records)
    if truncate and len(text) > truncate:
        text = text[:-truncate]  # a file cut off mid-row, as by a failed download
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = write_export(folder, {"deals.csv": text})
        mapping = write_mapping(folder, {"tables": {"opportunities": OPPORTUNITIES_MAPPING}})
        try:
            report = run_import(source, mapping, folder / "out")
        except ExportFormatError as exc:
            assert str(exc).startswith(str(source / "deals.csv") + ":")
            assert not (folder / "out").exists()
            return
        table = report.tables["opportunities"]
        assert table.rows_read == table.accepted + table.rejected
        assert len(read_table(folder / "out", "opportunities")) == table.accepted
        kept = quarantine(folder / "out", "opportunities")
        assert len(kept) == table.rejected and kept["_reason"].ne("").all()
        assert kept["_row"].astype(int).ge(2).all()
        for value in kept.drop(columns=["_row"]).to_numpy().ravel():
            assert not str(value).startswith(("=", "+", "-", "@", "\t", "\r")) or _plain_number(value), value
        parsed = list(csv.reader(io.StringIO(text)))[1:]
        short = [r for r in parsed if 0 < len(r) < len(HEADER) and any(c.strip() for c in r)]
        assert table.rejected >= len(short)


def _plain_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return not pd.isna(float(value))


VOCABULARY = ["Opportunity ID", "Deal Stage", "Amount", "Create Date", "Close Date", "Account Name", "Owner", "Type",
              "Probability", "Customer ID", "Churn", "InvoiceNo", "Quantity", "UnitPrice", "Lead Source", "Converted",
              "number", "opened_at", "segment", "visit", "Notes", "x", "Col 7", "created_at", "stage", "id"]
DRAFT_CELLS = st.one_of(st.sampled_from(HOSTILE), st.sampled_from(
    ["Closed Won", "Prospecting", "12 500,50 €", "$1,200.00", "45%", "31/12/2024", "12/31/2024", "2024-12-31",
     "28-Mar-2024", "Yes", "No", "True", "?", "N/A", "Existing Customer", "Attrited Customer"]), st.dates().map(str))


@pytest.mark.slow
@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(headers=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=8, unique=True),
       body=st.lists(st.lists(DRAFT_CELLS, min_size=8, max_size=8), min_size=1, max_size=15),
       delimiter=st.sampled_from([",", ";", "\t"]))
def test_a_drafted_mapping_always_loads_and_imports_or_the_draft_stops_with_one_clear_error(headers, body,
                                                                                            delimiter):
    from cvre.ingest.draft import draft_mapping
    from cvre.ingest.mapping_check import load_mapping

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows([headers, *(r[:len(headers)]
                                                                                       for r in body)])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = write_export(folder, {"export.csv": buffer.getvalue()})
        try:
            draft = draft_mapping(source)
        except ExportFormatError as exc:
            assert str(exc).startswith(str(source)) and "\n" not in str(exc)
            return
        (folder / "draft.yaml").write_text(draft.text, encoding="utf-8")
        load_mapping(folder / "draft.yaml")  # a draft always fits the canonical schema
        try:
            report = run_import(source, folder / "draft.yaml", folder / "out")
        except ExportFormatError as exc:
            assert str(exc).startswith(str(source))
            return
        assert all(t.rows_read == t.accepted + t.rejected for t in report.tables.values())
