"""Pure steps on in-memory frames: parsing, value mapping, derivations, findings, absent fields."""

from __future__ import annotations

import pandas as pd
import pytest
from ingest_helpers import OPPORTUNITIES_MAPPING

from cvre.core.schema import OPPORTUNITIES, TRANSACTIONS
from cvre.ingest.absent import absent_field_warnings
from cvre.ingest.coerce import NumberFormat, parse_column
from cvre.ingest.findings import combine_findings, finding
from cvre.ingest.mapping import ImportMapping, TableMapping
from cvre.ingest.run import import_order
from cvre.ingest.transform import build_table, clean_cells, map_values, outcome_from_stage
from cvre.ingest.validate import table_notes


def text(*values) -> pd.Series:
    return pd.Series(values, dtype="string")


def test_clean_cells_strips_and_blanks_placeholders():
    cells = pd.DataFrame({"a": [" x ", "Select", "", "  "]})
    assert clean_cells(cells, ["Select"])["a"].tolist() == ["x", pd.NA, pd.NA, pd.NA]


def test_map_values_ignores_case_and_spacing():
    mapped = map_values(text("WON", " won ", "Lost", None), {"Won": "closed_won"})
    assert mapped.tolist() == ["closed_won", "closed_won", "Lost", pd.NA]


def test_parse_column_kinds():
    ids, _ = parse_column(text("12346.0", "A-1"), "account_id", "id")
    assert ids.tolist() == ["12346", "A-1"]
    flags, found = parse_column(text("Yes", "no", "1", "maybe"), "converted", "bool")
    assert flags.tolist()[:3] == [True, False, True]
    assert found[0].key == "converted: not a yes/no value" and found[0].mask.tolist()[3]
    counts, found = parse_column(text("3", "2.5", "x"), "pitches", "int")
    assert counts.dtype == "Int64"
    assert sorted(f.key for f in found) == ["pitches: not a number", "pitches: not a whole number"]
    dates, found = parse_column(text("20240131", "2024-01-31"), "occurred_at", "datetime", date_format="%Y%m%d")
    assert dates.tolist()[0] == pd.Timestamp("2024-01-31")
    assert found[0].mask.tolist() == [False, True]
    amounts, _ = parse_column(text("1,250.50"), "amount", "float", numbers=NumberFormat(","))
    assert amounts.tolist() == [1250.5]


def test_decimal_comma_and_spaces_between_digit_groups():
    french = NumberFormat(" ", ",")
    cells = text("12 500,50", "12\u00a0500,50", "12\u202f500,5", "-3,25", "1.234", None)
    amounts, found = parse_column(cells, "amount", "float", numbers=french)
    assert amounts.tolist()[:4] == [12500.5, 12500.5, 12500.5, -3.25]
    assert amounts.isna().tolist()[4:] == [True, True]  # a dot is never read as a decimal point here
    assert [f.key for f in found] == ["amount: not a number"] and found[0].mask.tolist() == [0, 0, 0, 0, 1, 0]
    german, _ = parse_column(text("12.500,00", "7,5"), "amount", "float", numbers=NumberFormat(".", ","))
    assert german.tolist() == [12500.0, 7.5]


def test_number_hints_name_the_setting_that_reads_the_cell():
    _, found = parse_column(text("1234,56", "1,054", "12,5", "abc", "€12,500", "45%", "12.5k"), "amount", "float")
    details = found[0].detail.tolist()
    assert "set `decimal: \",\"`" in details[0] and "set `decimal: \",\"`" in details[2]
    assert "set `thousands: \",\"`" in details[1] and "set `" not in details[3]
    assert "'€' around the number: list it under `strip_from_numbers`" in details[4]
    assert "'%' around the number" in details[5] and "around the number" not in details[6]


def test_currency_signs_and_codes_dropped_when_the_mapping_lists_them():
    numbers = NumberFormat(",", ".", ("€", "EUR", "%"))
    amounts, found = parse_column(text("€12,500.50", "12,500.50 €", "EUR 7", "45%", "$3"), "amount", "float",
                                  numbers=numbers)
    assert amounts.tolist()[:4] == [12500.5, 12500.5, 7.0, 45.0] and pd.isna(amounts.tolist()[4])
    assert found[0].mask.tolist() == [False, False, False, False, True]  # a sign not listed is still refused
    with pytest.raises(ValueError, match="would change the numbers themselves"):
        TableMapping(strip_from_numbers=["€", "0"])


def test_thousands_and_decimal_must_differ():
    with pytest.raises(ValueError, match="`thousands` and `decimal` are both ','"):
        TableMapping(thousands=",", decimal=",")


def test_outcome_from_stage():
    stages = text("closed_won", "closed_lost", "proposal", None)
    assert outcome_from_stage(stages).tolist() == ["won", "lost", "open", pd.NA]


def test_build_table_derives_row_ids_and_amount_product():
    table = TableMapping.model_validate(
        {
            "columns": {"account_id": "Customer", "occurred_at": "When"},
            "derive": {
                "transaction_id": "row_number",
                "amount": {"rule": "product", "sources": ["Qty", "Price"]},
            },
            "absent": ["quantity", "business_category"],
        }
    )
    cells = pd.DataFrame(
        {
            "Customer": ["c1", "c2"],
            "When": ["2024-01-01", "2024-01-02"],
            "Qty": ["-2", "x"],
            "Price": ["1.5", "2"],
        }
    )
    built = build_table(cells, pd.Series([2, 3]), table, TRANSACTIONS)
    assert built.frame["transaction_id"].tolist() == ["2", "3"]
    assert built.frame["amount"].tolist()[0] == -3.0
    assert [f.key for f in built.findings] == ["Qty: not a number"]
    notes = table_notes(built.frame, TRANSACTIONS, table)
    assert notes == {"amount: negative values kept (e.g. returns, cancellations)": 1}


def test_build_table_converts_currency():
    mapping = {k: v for k, v in OPPORTUNITIES_MAPPING.items() if k != "constants"}
    table = TableMapping.model_validate({**mapping, "currency_to_eur": {"rate_to_eur": 0.5}})
    cells = pd.DataFrame(
        {
            "Deal": ["D1"],
            "Account": ["A"],
            "Created": ["2024-01-01"],
            "Stage": ["Won"],
            "Amount": ["100"],
            "Closed": [""],
        }
    )
    built = build_table(cells, pd.Series([2]), table, OPPORTUNITIES)
    assert built.frame.loc[0, "amount"] == 50.0
    assert built.frame.loc[0, "currency"] == "EUR"


def test_combine_findings_joins_and_counts():
    index = pd.RangeIndex(3)
    findings = finding("amount", "negative value", pd.Series([True, False, True]), pd.Series(["-1.0", "", "-2.0"]))
    findings += finding("stage", "unknown value", pd.Series([True, False, False]), "'x'")
    findings += finding("never", "happens", pd.Series([False, False, False]))
    reasons, counts = combine_findings(findings, index)
    assert reasons.tolist() == [
        "amount: negative value -1.0; stage: unknown value 'x'",
        "",
        "amount: negative value -2.0",
    ]
    assert counts == {"amount: negative value": 2, "stage: unknown value": 1}


def test_absent_field_warnings():
    warnings = absent_field_warnings(
        [
            "activities",
            "stage_history",
            "leads.first_response_at",
            "transactions.amount",
            "accounts.tier",
        ]
    )
    assert warnings[0].startswith("activities absent: activity features")
    assert warnings[1].startswith("stage_history absent: stage velocity features")
    assert warnings[2].startswith("leads.first_response_at absent: lead response features")
    assert warnings[3].startswith("transactions.amount absent: amount features")
    assert warnings[4] == "accounts.tier absent: features that need accounts.tier skipped"


def test_referenced_tables_are_imported_first():
    mapping = ImportMapping.model_construct(tables={"opportunities": None, "reps": None, "accounts": None})
    order = import_order(mapping)
    assert order.index("accounts") < order.index("opportunities")
    assert order.index("reps") < order.index("opportunities")
