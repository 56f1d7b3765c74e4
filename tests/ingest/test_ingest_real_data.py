"""The shipped mappings on the real public datasets: counts that come from the data itself."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from ingest_helpers import MAPPINGS

from cvre.core.io import read_table
from cvre.ingest.run import run_import

pytestmark = pytest.mark.real_data


def import_real(datasets, folder: str, mapping: str, out):
    report = run_import(datasets / folder, MAPPINGS / f"{mapping}.yaml", out)
    for table in report.tables.values():
        assert table.rows_read == table.accepted + table.rejected
    saved = json.loads((out / "import_report.json").read_text())
    assert saved["absent_fields"] == report.absent_fields
    return report


def test_maven_crm(datasets, tmp_path):
    report = import_real(datasets, "maven_crm", "maven_crm", tmp_path)
    assert {t: r.rejected for t, r in report.tables.items()} == {
        "accounts": 0,
        "reps": 0,
        "products": 0,
        "opportunities": 0,
    }
    deals = read_table(tmp_path, "opportunities")
    assert len(deals) == 8800
    assert (deals["outcome"] == "won").sum() == 4238
    assert (deals["outcome"] == "lost").sum() == 2473
    assert set(deals["product"]) <= set(read_table(tmp_path, "products")["product"])
    assert deals["account_id"].isna().sum() == 1425  # open deals without an account are kept
    assert "activities" in report.absent_fields


def test_x_education_leads(datasets, tmp_path):
    report = import_real(datasets, "x_education_leads", "x_education_leads", tmp_path)
    leads = read_table(tmp_path, "leads")
    assert len(leads) == report.tables["leads"].accepted == 9240
    assert leads["converted"].sum() == 3561
    assert "created_at" not in leads.columns  # absent, never generated
    extras = read_table(tmp_path, "leads_extra")
    assert (extras["x_specialization"] == "Select").sum() == 0
    assert "leads.created_at" in report.absent_fields


def test_uci_bank_marketing(datasets, tmp_path):
    import_real(datasets, "uci_bank_marketing", "uci_bank_marketing", tmp_path)
    leads = read_table(tmp_path, "leads")
    assert len(leads) == 45211
    assert leads["converted"].sum() == 5289
    assert not any("duration" in c for c in read_table(tmp_path, "leads_extra").columns)


def test_online_retail(datasets, tmp_path):
    report = import_real(datasets, "uci_online_retail_sample30k", "online_retail", tmp_path)
    raw = pd.read_csv(datasets / "uci_online_retail_sample30k" / "OnlineRetail.csv", dtype=str)
    no_customer = int(raw["CustomerID"].isna().sum())
    table = report.tables["transactions"]
    assert table.rows_read == len(raw)
    assert table.rejected == no_customer
    assert table.reasons == {"account_id: required value missing": no_customer}
    kept = raw[raw["CustomerID"].notna()]
    cancellations = int(kept["InvoiceNo"].str.startswith("C").sum())
    transactions = read_table(tmp_path, "transactions")
    assert (transactions["amount"] < 0).sum() >= cancellations > 0  # returns are kept


def test_cdnow(datasets, tmp_path):
    report = import_real(datasets, "cdnow", "cdnow", tmp_path)
    assert report.tables["transactions"].accepted == 69659
    transactions = read_table(tmp_path, "transactions")
    assert transactions["account_id"].nunique() == 23570
    assert transactions["occurred_at"].min() == pd.Timestamp("1997-01-01")
