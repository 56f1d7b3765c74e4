"""Hostile and unlucky exports (issue 17, point 8): each reproduces a fault that once got through."""

from __future__ import annotations

import re

import pytest
from ingest_helpers import DEALS_HEADER, OPPORTUNITIES_MAPPING, import_deals, quarantine, write_export, write_mapping

from cvre.core.io import read_table
from cvre.ingest.errors import ExportFormatError
from cvre.ingest.run import run_import

GOOD = "D1,Acme,2024-01-01,Won,10,2024-02-01\n"


def reasons_by_row(out) -> dict[int, str]:
    frame = quarantine(out, "opportunities")
    return dict(zip(frame["_row"].astype(int), frame["_reason"], strict=True))


def test_a_row_truncated_after_its_close_date_is_rejected_with_its_line(tmp_path):
    # the last line lost its amount and close date: pandas pads it with empty cells, the reader counts fields
    report, out = import_deals(tmp_path, GOOD + "D2,Acme,2024-01-01,Won")
    table = report.tables["opportunities"]
    assert (table.accepted, table.rejected) == (1, 1)
    assert "row: fewer fields than the header (4 of 6 fields" in reasons_by_row(out)[3]


def test_a_short_row_inside_quoted_multiline_cells_is_found_on_its_line(tmp_path):
    report, out = import_deals(tmp_path, 'D1,"Acme\nInc",2024-01-01,Won,10,2024-02-01\nD2,Acme\n' + GOOD.replace(
        "D1", "D3"))
    # (line 2-3 is rejected too, for the line break inside its account id)
    assert report.tables["opportunities"].reasons["row: fewer fields than the header"] == 1
    assert "fewer fields than the header (2 of 6" in reasons_by_row(out)[4]


def test_an_empty_trailing_cell_is_not_a_short_row(tmp_path):
    report, _ = import_deals(tmp_path, "D1,Acme,2024-01-01,Negotiation,10,\n")
    assert report.tables["opportunities"].rejected == 0


@pytest.mark.parametrize("cell", ["9999-12-31", "0001-01-01"])
def test_extreme_iso_dates_are_dates_out_of_range_not_garbage(tmp_path, cell):
    _, out = import_deals(tmp_path, f"D1,Acme,2024-01-01,Won,10,{cell}\n")
    reason = reasons_by_row(out)[2]
    assert f"closed_at: date out of range '{cell}'" in reason and "missing_values" in reason
    assert "not a date" not in reason


def test_date_bounds_come_from_the_mapping(tmp_path):
    rows = "D1,Acme,1950-06-01,Won,10,2024-02-01\nD2,Acme,2024-01-01,Won,10,2150-01-01\n"
    _, out = import_deals(tmp_path, rows)
    assert set(reasons_by_row(out)) == set()  # within the default bounds 1900-2200
    report, out = import_deals(tmp_path, rows, bounds={"earliest_date": "2000-01-01", "latest_date": "2100-01-01"})
    reasons = reasons_by_row(out)
    assert report.tables["opportunities"].reasons == {"created_at: date out of range": 1,
                                                      "closed_at: date out of range": 1}
    assert "'1950-06-01' (dates from 2000-01-01 to 2100-01-01" in reasons[2]


def test_amount_bounds(tmp_path):
    report, out = import_deals(tmp_path, "D1,Acme,2024-01-01,Won,1e308,2024-02-01\n" + GOOD.replace("D1", "D2"))
    assert report.tables["opportunities"].reasons == {"amount: number out of range": 1}
    assert "beyond +/-1e+12" in reasons_by_row(out)[2]
    report, _ = import_deals(tmp_path, "D1,Acme,2024-01-01,Won,5000,2024-02-01\n", bounds={"max_abs_number": 1000})
    assert report.tables["opportunities"].rejected == 1


def test_grouped_digits_get_a_thousands_hint(tmp_path):
    _, out = import_deals(tmp_path, 'D1,Acme,2024-01-01,Won,"1,054",2024-02-01\n')
    assert "amount: not a number '1,054' (digits grouped by ',': set `thousands: \",\"`" in reasons_by_row(out)[2]
    report, _ = import_deals(tmp_path, 'D1,Acme,2024-01-01,Won,"1,054",2024-02-01\n', thousands=",")
    assert report.tables["opportunities"].accepted == 1


def test_header_only_file_is_an_error(tmp_path):
    source = write_export(tmp_path, {"deals.csv": DEALS_HEADER + "\n , \n"})
    mapping = write_mapping(tmp_path, {"tables": {"opportunities": OPPORTUNITIES_MAPPING}})
    with pytest.raises(ExportFormatError, match=re.escape("deals.csv: a header but no data rows (table "
                                                          "'opportunities')")):
        run_import(source, mapping, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_ids_with_line_breaks_are_rejected(tmp_path):
    report, out = import_deals(tmp_path, '"D1\nD9",Acme,2024-01-01,Won,10,2024-02-01\n' + GOOD.replace("D1", "D2"))
    assert report.tables["opportunities"].reasons == {"opportunity_id: control character in an id": 1}
    assert read_table(out, "opportunities")["opportunity_id"].tolist() == ["D2"]


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\tx"])
def test_quarantine_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path, cell):
    quoted = '"' + cell.replace('"', '""') + '"'
    _, out = import_deals(tmp_path, f"D1,{quoted},2024-01-01,Won,abc,2024-02-01\n")
    written = quarantine(out, "opportunities")
    assert written["Account"].tolist() == ["'" + cell]
    assert not any(str(v).startswith(("=", "+", "-", "@", "\t")) for v in written.to_numpy().ravel())


def test_negative_numbers_in_quarantine_stay_numbers(tmp_path):
    _, out = import_deals(tmp_path, "D1,Acme,2024-01-01,Won,-12.5,2024-02-01\n")
    assert quarantine(out, "opportunities")["Amount"].tolist() == ["-12.5"]


def test_features_on_empty_tables_is_an_error_not_empty_output(tmp_path):
    from typer.testing import CliRunner

    from cvre.cli.main import app

    report, out = import_deals(tmp_path, "D1,Acme,2024-01-01,Won,abc,2024-02-01\n")  # every row rejected
    assert report.tables["opportunities"].accepted == 0
    result = CliRunner().invoke(app, ["features", "--data", str(out), "--as-of", "2024-12-31"])
    assert result.exit_code != 0
    assert "opportunities: 0 rows, nothing to build features from" in " ".join(result.output.split())
    assert not (out / "features" / "deals_train.parquet").exists()
