"""Row rules through run_import on tiny exports: each rejects the right row and says why."""

from __future__ import annotations

import json

import pandas as pd
from ingest_helpers import import_deals, quarantine

from cvre.core.io import read_table


def reasons_by_row(out, table: str = "opportunities") -> dict[int, str]:
    frame = quarantine(out, table)
    return dict(zip(frame["_row"].astype(int), frame["_reason"], strict=True))


def test_clean_rows_are_accepted_and_typed(tmp_path):
    report, out = import_deals(
        tmp_path,
        "D1,Acme,2024-01-01,Won,1200.5,2024-02-01\n"
        "D2,,2024-01-05,  Closed   Lost ,0,2024-03-01\n"
        "D3,Beta,2024-01-09,NEGOTIATION,,\n",
    )
    deals = read_table(out, "opportunities").set_index("opportunity_id")
    assert report.tables["opportunities"].rejected == 0
    assert deals["stage"].tolist() == ["closed_won", "closed_lost", "negotiation"]
    assert deals["outcome"].tolist() == ["won", "lost", "open"]
    assert pd.isna(deals.loc["D2", "account_id"])  # an empty optional reference is fine
    assert deals["created_at"].dtype == "datetime64[ns]"
    assert deals.loc["D1", "amount"] == 1200.5
    assert set(deals["currency"]) == {"EUR"}


def test_unparseable_number_and_date_name_column_and_value(tmp_path):
    _, out = import_deals(
        tmp_path,
        "D1,Acme,2024-01-01,Won,abc,2024-02-01\nD2,Acme,2024-13-45,Won,10,2024-02-01\n",
    )
    reasons = reasons_by_row(out)
    assert reasons[2] == "amount: not a number 'abc'"
    assert reasons[3].startswith("created_at: not a date '2024-13-45'")


def test_required_fields_missing(tmp_path):
    _, out = import_deals(
        tmp_path,
        ",Acme,2024-01-01,Won,10,2024-02-01\nD2,Acme,,Won,10,2024-02-01\nD3,Acme,2024-01-01,,10,\n",
    )
    reasons = reasons_by_row(out)
    assert reasons[2] == "opportunity_id: required value missing (source column 'Deal')"
    assert reasons[3] == "created_at: required value missing (source column 'Created')"
    assert reasons[4] == "stage: required value missing (source column 'Stage')"


def test_unknown_category_value_lists_allowed(tmp_path):
    _, out = import_deals(tmp_path, "D1,Acme,2024-01-01,Maybe,10,\n")
    assert reasons_by_row(out)[2].startswith("stage: unknown value 'Maybe' (allowed: prospecting")


def test_date_order(tmp_path):
    _, out = import_deals(tmp_path, "D1,Acme,2024-03-01,Won,10,2024-02-01\n")
    assert reasons_by_row(out)[2] == "closed_at: before created_at (2024-02-01 < 2024-03-01)"


def test_negative_amount_where_minimum_is_zero(tmp_path):
    _, out = import_deals(tmp_path, "D1,Acme,2024-01-01,Won,-12,2024-02-01\n")
    assert reasons_by_row(out)[2] == "amount: negative value -12.0"


def test_duplicate_key_rejects_second_and_later(tmp_path):
    report, out = import_deals(
        tmp_path,
        "D1,Acme,2024-01-01,Won,10,2024-02-01\n"
        "D1,Beta,2024-01-02,Won,20,2024-02-01\n"
        "D1,Beta,2024-01-03,Won,30,2024-02-01\n",
    )
    reasons = reasons_by_row(out)
    assert set(reasons) == {3, 4}
    assert reasons[3] == "opportunity_id: duplicate key 'D1' (first on row 2)"
    assert read_table(out, "opportunities")["account_id"].tolist() == ["Acme"]
    assert report.tables["opportunities"].reasons == {"opportunity_id: duplicate key": 2}


def test_unknown_reference_only_when_the_table_was_imported(tmp_path):
    _, out = import_deals(tmp_path, "D1,Zeta,2024-01-01,Won,10,2024-02-01\n")
    assert reasons_by_row(out)[2] == "account_id: unknown reference 'Zeta' to accounts"

    alone = tmp_path / "alone"
    alone.mkdir()
    report, _ = import_deals(alone, "D1,Zeta,2024-01-01,Won,10,2024-02-01\n", with_accounts=False)
    assert report.tables["opportunities"].accepted == 1


def test_several_problems_are_all_listed(tmp_path):
    _, out = import_deals(tmp_path, "D1,Zeta,2024-01-01,Maybe,abc,\n")
    parts = reasons_by_row(out)[2].split("; ")
    assert [p.split(":")[0] for p in parts] == ["stage", "amount", "account_id"]


def test_counts_reconcile_and_quarantine_keeps_original_cells(tmp_path):
    report, out = import_deals(
        tmp_path,
        "D1,Acme,2024-01-01,Won,10,2024-02-01\n"
        "D2,Acme,2024-01-01,Won, abc ,2024-02-01\n"
        "\n"
        "D3,Zeta,2024-01-01,Won,10,2024-02-01\n"
        "D4,Beta,2024-01-01,Lost,0,2024-02-01\n",
    )
    table = report.tables["opportunities"]
    assert (table.rows_read, table.accepted, table.rejected) == (4, 2, 2)
    assert table.blank_rows_skipped == 1
    frame = quarantine(out, "opportunities")
    assert list(frame.columns) == [
        "Deal",
        "Account",
        "Created",
        "Stage",
        "Amount",
        "Closed",
        "_row",
        "_reason",
    ]
    assert frame["_row"].tolist() == ["3", "5"]  # the blank line 4 still counts as a line
    assert frame["Amount"].tolist()[0] == " abc "
    assert len(read_table(out, "opportunities")) == table.accepted
    saved = json.loads((out / "import_report.json").read_text())
    assert saved["tables"]["opportunities"]["rejected"] == 2
    assert "opportunities.lead_id" in saved["absent_fields"]
    for t in saved["tables"].values():
        assert t["rows_read"] == t["accepted"] + t["rejected"]


def test_placeholders_become_missing_and_values_map(tmp_path):
    report, out = import_deals(
        tmp_path,
        "D1,Select,2024-01-01,won,10,2024-02-01\n",
        missing_values=["Select"],
    )
    deals = read_table(out, "opportunities")
    assert report.tables["opportunities"].accepted == 1
    assert pd.isna(deals.loc[0, "account_id"])
    assert deals.loc[0, "stage"] == "closed_won"


def test_allow_missing_keeps_rows_and_counts_them(tmp_path):
    report, _ = import_deals(tmp_path, "D1,Acme,,Prospecting,,\n", allow_missing=["created_at"])
    table = report.tables["opportunities"]
    assert table.accepted == 1
    assert table.notes == {"created_at: missing, allowed by the mapping (allow_missing)": 1}


def test_bad_extra_column_value_is_rejected(tmp_path):
    report, out = import_deals(
        tmp_path,
        "D1,Acme,2024-01-01,Won,10,2024-02-01\n",
        extra_columns={"x_closed_flag": {"source": "Stage", "kind": "bool"}},
    )
    assert reasons_by_row(out)[2] == "x_closed_flag: not a yes/no value 'Won'"
    assert report.tables["opportunities"].extra_output is not None


def test_row_is_the_source_line_even_after_multiline_cells(tmp_path):
    _, out = import_deals(
        tmp_path,
        'D1,Acme,2024-01-01,Won,10,"2024-02-01"\n'
        'D2,"Ze\nta",2024-01-01,Won,10,2024-02-01\n'
        "D3,Zeta,2024-01-01,Won,10,2024-02-01\n",
    )
    assert set(reasons_by_row(out)) == {3, 5}
