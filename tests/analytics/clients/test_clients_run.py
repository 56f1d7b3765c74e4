"""`cvre clients` on a simulated world: tables, CLV against the simulator's truth, the CLI and the page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from cvre.analytics.clients.config import ClientsConfig
from cvre.analytics.clients.run import run_clients
from cvre.analytics.dashboards.clients_page import write_clients_page
from tests.analytics.test_report import assert_no_script_errors, browser, open_page  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def clients_run(small_world, tmp_path_factory):
    return run_clients(small_world, ClientsConfig(), out=tmp_path_factory.mktemp("clients"))


def test_tables_reconcile_with_the_transactions(clients_run, small_world):
    tx = pd.read_parquet(small_world / "export" / "transactions.parquet")
    tx = tx[tx["occurred_at"] <= clients_run.as_of]
    rfm, t = clients_run.tables["rfm"], clients_run.tables
    assert len(rfm) == tx["account_id"].nunique()
    assert rfm["revenue_total"].sum() == pytest.approx(tx["amount"].sum())
    assert t["segments"]["customers"].sum() == len(rfm) and rfm["segment"].notna().all()
    for period in ("day", "month", "quarter", "year"):
        assert t[f"trend_{period}"]["revenue"].sum() == pytest.approx(tx["amount"].sum())
    assert t["categories"]["revenue"].sum() == pytest.approx(tx["amount"].sum())
    monthly = tx.groupby(tx["occurred_at"].dt.to_period("M").astype(str))["amount"].sum()
    trend = t["kpi_trend"].set_index("period")["revenue"]
    pd.testing.assert_series_equal(trend, monthly.loc[trend.index], check_names=False)
    for name in t["targets"]["campaign"]:
        assert (clients_run.out / f"target_{name}.csv").exists()
    head = json.loads((clients_run.out / "headline.json").read_text())
    assert head["clv_fit"]["customers"] == len(rfm)


def test_clv_against_the_simulators_truth(clients_run):
    truth = clients_run.clv_truth
    assert truth is not None and truth["customers"] == len(clients_run.tables["rfm"])
    assert abs(truth["total_error"]) < 0.15 and truth["spearman"] > 0.7
    assert truth["interval_coverage"] > 0.75  # customer-level 90% intervals hold the true expected spend


@pytest.mark.slow
def test_cli_clients(small_world, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cvre.cli.main import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["clients", "--data", str(small_world), "--out", str(tmp_path / "c"),
                                 "--pages", str(tmp_path / "p")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "KPI board" in result.output and "champions" in result.output and (tmp_path / "p" / "clients.html").exists()
    assert (tmp_path / "mlruns").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = runner.invoke(app, ["clients", "--data", str(empty)], env={"COLUMNS": "200"})
    assert missing.exit_code == 2 and "no transactions table" in missing.output


# --- in a real browser --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page(clients_run, tmp_path_factory) -> Path:
    return write_clients_page(clients_run, tmp_path_factory.mktemp("pages"))


@pytest.mark.browser
def test_clients_page_in_headless_chromium(browser, page, clients_run, tmp_path):  # noqa: F811
    from selenium.webdriver.support.ui import Select, WebDriverWait

    rfm = clients_run.tables["rfm"]
    text = open_page(browser, page, 6)
    kpis = browser.find_element("id", "kpis").text
    assert f"{len(rfm):,}" in kpis and "Lifetime value" in text and "champions" in text.replace("_", " ")
    board = browser.find_element("id", "kpi-board").text
    churn = clients_run.tables["kpi_board"].set_index("kpi").loc["churn_rate", "value"]
    assert "churn rate" in board and f"{churn * 100:.1f}%" in board  # every KPI with its period change
    # slicer: one segment re-filters the KPI cards and the customer list
    segment = rfm["segment"].value_counts().index[0]
    Select(browser.find_element("id", "filter-segment")).select_by_visible_text(segment.replace("_", " "))
    WebDriverWait(browser, 10).until(lambda d: "Filtered:" in d.find_element("id", "selection").text)
    n = int((rfm["segment"] == segment).sum())
    assert f"Filtered: {n:,} of {len(rfm):,} customers" in browser.find_element("id", "selection").text
    # drill-down: the customer list is the segment's, and the CSV export holds exactly those rows
    lines = browser.execute_script("return window.CVRE.csv('customers')").strip().split("\n")
    assert len(lines) == n + 1 and all(f",{segment}," in line for line in lines[1:])
    assert f"{n:,} customers" in browser.find_element("id", "customer-count").text
    browser.find_element("id", "export-customers").click()
    # search narrows the list to one customer
    one = rfm.loc[rfm["segment"] == segment, "account_id"].iloc[0]
    browser.find_element("id", "customer-search").send_keys(one)
    WebDriverWait(browser, 10).until(lambda d: re.search(r"^1 customers", d.find_element("id", "customer-count").text))
    assert one in browser.find_element("id", "customer-table").text
    Select(browser.find_element("id", "grain")).select_by_visible_text("year")
    assert_no_script_errors(browser)
    browser.save_screenshot(str(tmp_path / "clients.png"))


def test_report_index_links_the_client_pages(tmp_path):
    from cvre.analytics.dashboards.build import page_links

    assert "Clients" not in page_links(tmp_path, tmp_path)
    (tmp_path / "clients.html").write_text("<html></html>")
    (tmp_path / "recruitment_seasonality.html").write_text("<html></html>")
    links = page_links(tmp_path, tmp_path)
    assert links["Clients"] == "clients.html" and links["Recruitment (seed 001)"] == "recruitment_seasonality.html"
