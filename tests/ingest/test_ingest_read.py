"""Malformed exports fail with one ExportFormatError naming the file and the problem."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from ingest_helpers import (
    ACCOUNTS_CSV,
    ACCOUNTS_MAPPING,
    DEALS_HEADER,
    OPPORTUNITIES_MAPPING,
    write_export,
    write_mapping,
)

from cvre.core.io import read_table
from cvre.ingest.errors import ExportFormatError
from cvre.ingest.run import run_import

GOOD_ROW = "D1,Acme,2024-01-01,Won,10,2024-02-01\n"


def import_files(tmp_path, files, tables=None, source_name=None):
    tables = tables or {"opportunities": OPPORTUNITIES_MAPPING}
    source = write_export(tmp_path, files)
    if source_name:
        source = source / source_name
    return run_import(source, write_mapping(tmp_path, {"tables": tables}), tmp_path / "out")


def raises(message: str):
    return pytest.raises(ExportFormatError, match=re.escape(message))


def test_wrong_delimiter_is_named(tmp_path):
    text = DEALS_HEADER.replace(",", ";") + GOOD_ROW.replace(",", ";")
    with raises("deals.csv: read as a single column") as err:
        import_files(tmp_path, {"deals.csv": text})
    assert "it looks like the delimiter is not ','" in str(err.value)
    assert "try `delimiter: ';'`" in str(err.value)
    assert not (tmp_path / "out").exists()  # nothing written when a file cannot be read


def test_missing_source_column_lists_missing_and_found(tmp_path):
    text = "Deal,Account,Created,Stage,Closed\nD1,Acme,2024-01-01,Won,2024-02-01\n"
    with raises(
        "deals.csv: missing source columns for table 'opportunities': 'Amount'; "
        "found: 'Deal', 'Account', 'Created', 'Stage', 'Closed'"
    ):
        import_files(tmp_path, {"deals.csv": text})


def test_binary_file(tmp_path):
    with raises("deals.csv: not a CSV file: it contains binary data"):
        import_files(tmp_path, {"deals.csv": b"\x01\x00\x02\x00garbage\x00" * 20})


def test_excel_workbook(tmp_path):
    with raises("deals.csv: not a CSV file: it looks like an Excel .xlsx workbook (or another ZIP archive); set "
                "`format: excel`"):
        import_files(tmp_path, {"deals.csv": b"PK\x03\x04" + bytes(range(1, 200))})


def test_text_in_another_encoding(tmp_path):
    with raises("deals.csv: not a CSV file, or not utf-8-sig text"):
        import_files(tmp_path, {"deals.csv": bytes(range(128, 256)) * 4})


def test_empty_file(tmp_path):
    with raises("deals.csv: the file is empty (0 bytes)"):
        import_files(tmp_path, {"deals.csv": ""})


def test_blank_only_file(tmp_path):
    with raises("deals.csv: the file is empty (only blank lines)"):
        import_files(tmp_path, {"deals.csv": "\n\n  \n"})


def test_missing_file_lists_what_is_there(tmp_path):
    with raises("deals.csv: file not found (table 'opportunities' reads it); files there: other.csv"):
        import_files(tmp_path, {"other.csv": "a\n1\n"})


def test_missing_source(tmp_path):
    mapping = write_mapping(tmp_path, {"tables": {"opportunities": OPPORTUNITIES_MAPPING}})
    with raises("nowhere: source not found"):
        run_import(tmp_path / "nowhere", mapping, tmp_path / "out")


def test_ragged_rows(tmp_path):
    with raises("deals.csv: cannot be read as CSV with delimiter ','"):
        import_files(tmp_path, {"deals.csv": DEALS_HEADER + GOOD_ROW + "D2,a,b,c,d,e,f,g,h\n"})


def test_single_file_source_for_a_multi_file_mapping(tmp_path):
    tables = {"accounts": ACCOUNTS_MAPPING, "opportunities": OPPORTUNITIES_MAPPING}
    with raises("this mapping reads several files (accounts.csv, deals.csv); pass the folder"):
        import_files(tmp_path, {"deals.csv": DEALS_HEADER + GOOD_ROW}, tables, "deals.csv")


def test_folder_source_needs_file_names(tmp_path):
    tables = {"opportunities": {**OPPORTUNITIES_MAPPING, "file": None}}
    with raises("the mapping must name the file each table reads (missing: tables.opportunities.file)"):
        import_files(tmp_path, {"deals.csv": DEALS_HEADER + GOOD_ROW}, tables)


def test_single_file_source_is_used_whatever_its_name(tmp_path):
    report = import_files(tmp_path, {"export-2024.csv": DEALS_HEADER + GOOD_ROW}, source_name="export-2024.csv")
    assert report.tables["opportunities"].accepted == 1


def test_parquet_source(tmp_path):
    accounts = pd.DataFrame({"Account": ["Acme", "Beta"], "Staff": [120, -1]})
    source = write_export(tmp_path, {})
    accounts.to_parquet(source / "accounts.parquet")
    tables = {"accounts": {**ACCOUNTS_MAPPING, "file": "accounts.parquet", "format": "parquet"}}
    report = run_import(source, write_mapping(tmp_path, {"tables": tables}), tmp_path / "out")
    assert report.tables["accounts"].reasons == {"employees: negative value": 1}
    assert read_table(tmp_path / "out", "accounts")["employees"].tolist() == [120.0]


def test_not_a_parquet_file(tmp_path):
    tables = {"accounts": {**ACCOUNTS_MAPPING, "format": "parquet"}}
    with raises("accounts.csv: not a readable Parquet file"):
        import_files(tmp_path, {"accounts.csv": ACCOUNTS_CSV}, tables)


def test_whitespace_file_without_header(tmp_path):
    tables = {"accounts": {**ACCOUNTS_MAPPING, "format": "whitespace", "names": ["Account", "Staff"]}}
    report = import_files(tmp_path, {"accounts.csv": "  Acme   120\nBeta\t40\n"}, tables)
    assert report.tables["accounts"].accepted == 2


def test_header_only_file_is_an_error(tmp_path):
    with raises("deals.csv: a header but no data rows (table 'opportunities'); re-export it with its rows, or"):
        import_files(tmp_path, {"deals.csv": DEALS_HEADER})
    assert not (tmp_path / "out").exists()


def test_tab_separated_file_read_with_comma(tmp_path):
    tables = {
        "accounts": {
            **ACCOUNTS_MAPPING,
            "columns": {"account_id": "Account"},
            "absent": [*ACCOUNTS_MAPPING["absent"], "account_name", "employees"],
        }
    }
    with raises("it looks like the delimiter is not ','") as err:
        import_files(tmp_path, {"accounts.csv": "Account\tStaff\nAcme\t3\n"}, tables)
    assert "try `delimiter: '\\t'`" in str(err.value)


REPORT_TITLE = "Pipeline report,,,,,\nFilters: all open and closed deals,,,,,\n,,,,,\n"


def test_title_lines_above_the_header_are_skipped_and_rows_keep_their_line(tmp_path):
    bad = GOOD_ROW.replace("D1", "D2").replace(",10,", ",ten,")
    with raises("deals.csv: missing source columns for table 'opportunities'") as err:
        import_files(tmp_path, {"deals.csv": REPORT_TITLE + DEALS_HEADER + GOOD_ROW})
    assert "set `skip_rows:` to the number of lines above it (now 0)" in str(err.value)
    with raises("or lines above the header (a report's title, its filters)? set `skip_rows:`"):
        import_files(tmp_path, {"deals.csv": "Pipeline report\n" + DEALS_HEADER + GOOD_ROW})
    report = import_files(tmp_path, {"deals.csv": REPORT_TITLE + DEALS_HEADER + GOOD_ROW + bad},
                          {"opportunities": {**OPPORTUNITIES_MAPPING, "skip_rows": 3}})
    assert (report.tables["opportunities"].accepted, report.tables["opportunities"].rejected) == (1, 1)
    quarantined = pd.read_csv(tmp_path / "out" / "quarantine" / "opportunities.csv", dtype=str)
    assert quarantined["_row"].tolist() == ["6"]  # line 6 of the file: 3 title lines, the header, D1, D2


@pytest.mark.parametrize(("final_newline", "ending"), [("\n", "\n"), ("", "\n"), ("\r", "\r")])
def test_a_line_break_inside_a_cell_moves_later_rows_line_numbers(tmp_path, final_newline, ending):
    quoted_break = 'D1,"Acme\nEurope",2024-01-01,Won,10,2024-02-01' + ending
    bad = GOOD_ROW.replace("D1", "D2").replace(",10,", ",ten,").rstrip("\n") + final_newline
    header = DEALS_HEADER.replace("\n", ending)
    import_files(tmp_path, {"deals.csv": header + quoted_break + bad},
                 {"opportunities": {**OPPORTUNITIES_MAPPING}})
    quarantined = pd.read_csv(tmp_path / "out" / "quarantine" / "opportunities.csv", dtype=str)
    assert quarantined["_row"].tolist() == ["2", "4"]  # header 1, D1 on lines 2-3 (a break in an id), D2 on 4
    plain = GOOD_ROW.rstrip("\n") + "\n" + bad
    (tmp_path / "plain").mkdir()
    import_files(tmp_path / "plain", {"deals.csv": DEALS_HEADER + plain}, {"opportunities": OPPORTUNITIES_MAPPING})
    assert pd.read_csv(tmp_path / "plain" / "out" / "quarantine" / "opportunities.csv", dtype=str)["_row"].tolist() \
        == ["3"]
