"""The vendor example mappings import a small export written in that vendor's layout."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
from ingest_helpers import MAPPINGS, write_export

from cvre.core.io import read_table
from cvre.ingest.run import run_import

SALESFORCE_ROWS = [
    (
        "Opportunity ID",
        "Opportunity Name",
        "Account Name",
        "Type",
        "Stage",
        "Amount",
        "Close Date",
        "Created Date",
        "Opportunity Owner",
        "Lead Source",
    ),
    (
        "0065g00000AbCdE",
        "Acme - 200 seats",
        "Acme Corp",
        "New Business",
        "Closed Won",
        "12,500.00",
        "03/28/2024",
        "01/15/2024",
        "Jane Doe",
        "Web",
    ),
    (
        "0065g00000AbCdF",
        "Globex renewal",
        "Globex",
        "Existing Business - Renewal",
        "Closed Lost",
        "8000",
        "04/02/2024",
        "02/01/2024",
        "John Roe",
        "Partner Referral",
    ),
    (
        "0065g00000AbCdG",
        "Initech pilot",
        "Initech",
        "New Business",
        "Proposal/Price Quote",
        "4,200.50",
        "06/30/2024",
        "03/10/2024",
        "Jane Doe",
        "-",
    ),
    (
        "0065g00000AbCdH",
        "Umbrella",
        "Umbrella",
        "New Business",
        "Closed Won",
        "-500",
        "05/01/2024",
        "04/01/2024",
        "Jane Doe",
        "Web",
    ),
]
HUBSPOT_ROWS = [
    (
        "Record ID",
        "Deal Name",
        "Deal Stage",
        "Amount",
        "Close Date",
        "Create Date",
        "Deal owner",
        "Pipeline",
    ),
    (
        "9876543210",
        "Acme expansion",
        "closedwon",
        "15000",
        "2024-03-28 10:15",
        "2024-01-15 09:00",
        "Jane Doe",
        "Sales Pipeline",
    ),
    (
        "9876543211",
        "Globex",
        "closedlost",
        "",
        "2024-04-02 17:40",
        "2024-02-01 11:30",
        "John Roe",
        "Sales Pipeline",
    ),
    (
        "9876543212",
        "Initech",
        "appointmentscheduled",
        "3000",
        "2024-07-31 00:00",
        "2024-03-10 14:05",
        "Jane Doe",
        "Sales Pipeline",
    ),
    (
        "9876543213",
        "Hooli",
        "contractsent",
        "22000",
        "2024-06-15 00:00",
        "2024-04-20 08:45",
        "Ann Poe",
        "Sales Pipeline",
    ),
    (
        "9876543214",
        "Stark",
        "negotiation_typo",
        "1000",
        "2024-06-15 00:00",
        "2024-04-20 08:45",
        "Ann Poe",
        "Sales Pipeline",
    ),
]


def csv_text(rows, quoting=csv.QUOTE_MINIMAL) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=quoting, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def test_salesforce_opportunity_report(tmp_path):
    source = write_export(tmp_path, {"opportunities.csv": csv_text(SALESFORCE_ROWS, csv.QUOTE_ALL)})
    mapping = MAPPINGS / "examples" / "salesforce_opportunities.yaml"
    report = run_import(source / "opportunities.csv", mapping, tmp_path / "out")
    table = report.tables["opportunities"]
    assert (table.rows_read, table.accepted, table.rejected) == (4, 3, 1)
    assert table.reasons == {"amount: negative value": 1}
    deals = read_table(tmp_path / "out", "opportunities").set_index("opportunity_id")
    assert deals["stage"].tolist() == ["closed_won", "closed_lost", "proposal"]
    assert deals["outcome"].tolist() == ["won", "lost", "open"]
    assert deals["business_type"].tolist() == ["new", "repeat", "new"]
    assert deals.loc["0065g00000AbCdE", "amount"] == 12500.0
    assert deals.loc["0065g00000AbCdE", "closed_at"] == pd.Timestamp("2024-03-28")
    # Close Date of an open deal is its expected close date, not a close.
    assert pd.isna(deals.loc["0065g00000AbCdG", "closed_at"])
    assert deals.loc["0065g00000AbCdG", "expected_close_date"] == pd.Timestamp("2024-06-30")
    extras = read_table(tmp_path / "out", "opportunities_extra").set_index("opportunity_id")
    assert pd.isna(extras.loc["0065g00000AbCdG", "x_lead_source"])  # "-" is a placeholder


def test_hubspot_deals_export(tmp_path):
    source = write_export(tmp_path, {"deals.csv": csv_text(HUBSPOT_ROWS)})
    mapping = MAPPINGS / "examples" / "hubspot_deals.yaml"
    report = run_import(source, mapping, tmp_path / "out")
    table = report.tables["opportunities"]
    assert (table.rows_read, table.accepted, table.rejected) == (5, 4, 1)
    assert list(table.reasons) == ["stage: unknown value"]
    deals = read_table(tmp_path / "out", "opportunities").set_index("opportunity_id")
    assert deals["stage"].tolist() == ["closed_won", "closed_lost", "prospecting", "negotiation"]
    assert deals.loc["9876543210", "closed_at"] == pd.Timestamp("2024-03-28 10:15")
    assert deals.loc["9876543213", "expected_close_date"] == pd.Timestamp("2024-06-15")
    assert pd.isna(deals.loc["9876543211", "amount"])  # amount is optional for deals
    assert "account_id" not in deals.columns
    assert any(w.startswith("opportunities.account_id absent: account features") for w in report.skipped_features)


def test_docs_show_the_example_mappings_as_shipped():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "mappings.md").read_text(encoding="utf-8")
    for name in ("salesforce_opportunities", "hubspot_deals"):
        assert (MAPPINGS / "examples" / f"{name}.yaml").read_text(encoding="utf-8") in docs
