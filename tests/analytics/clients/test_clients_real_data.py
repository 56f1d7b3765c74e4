"""Real transaction exports imported with the shipped mappings, straight into `cvre clients`."""

from __future__ import annotations

import pandas as pd
import pytest

from cvre.analytics.clients.config import ClientsConfig
from cvre.analytics.clients.run import run_clients
from cvre.core.config import PACKAGE_CONFIG_DIR
from cvre.core.io import read_table
from cvre.ingest.run import run_import
from tests.conftest import DATASETS

pytestmark = [pytest.mark.real_data, pytest.mark.slow]


def imported(folder: str, mapping: str, out):
    if not (DATASETS / folder).exists():
        pytest.skip(f"{DATASETS / folder} not present")
    run_import(DATASETS / folder, PACKAGE_CONFIG_DIR / "mappings" / f"{mapping}.yaml", out)
    return out


def test_online_retail_into_clients(tmp_path):
    data = imported("uci_online_retail_sample30k", "online_retail", tmp_path / "retail")
    run = run_clients(data, ClientsConfig())
    tx = read_table(data, "transactions")
    rfm = run.tables["rfm"]
    assert len(rfm) == tx["account_id"].nunique() and rfm["segment"].notna().all()
    assert rfm["revenue_total"].sum() == pytest.approx(tx.loc[tx["occurred_at"] <= run.as_of, "amount"].sum())
    # invoice lines at one timestamp are one order: orders are invoices, not lines
    assert rfm["orders_total"].sum() < len(tx)
    assert run.tables["categories"]["business_category"].tolist() == ["not in export"]
    assert (run.out / "customers.csv").exists() and run.clv_fit is not None
    assert run.warnings and "at their bound" in run.warnings[0]  # one year of history: no dropout to see


def test_cdnow_master_into_clients(tmp_path):
    data = imported("cdnow", "cdnow", tmp_path / "cdnow")
    run = run_clients(data, ClientsConfig(as_of="1997-09-30"))
    assert run.headline["customers_total"] == 23570  # every CDNOW customer bought in Q1 1997
    bg = run.clv_fit["bgnbd"]
    # the full master file's BG/NBD in weeks is close to the 1/10 sample's published fit
    assert 0.15 < bg["r"] < 0.4 and 0.5 < bg["a"] < 1.2
    trend = run.tables["trend_month"].set_index("period")["revenue"]
    assert trend.index[0] == "1997-01" and trend.idxmax() == "1997-03"
    assert pd.Timestamp(run.headline["as_of"]) == pd.Timestamp("1997-09-30")
