"""The Engagement dashboard pages, written from a real `cvre engagement` run and opened in headless Chromium."""

from __future__ import annotations

import re

import pytest

from cvre.analytics.dashboards.engagement_pages import ENGAGEMENT_PAGES, write_engagement_pages
from cvre.analytics.engagement.config import EngagementConfig
from cvre.analytics.engagement.run import run_engagement
from cvre.core.io import read_table
from tests.analytics.test_report import assert_no_script_errors, browser, embedded  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def pages(small_world, tmp_path_factory):
    run = run_engagement(small_world, EngagementConfig(), out=tmp_path_factory.mktemp("engagement"))
    return run, write_engagement_pages(run.tables, run.headline, tmp_path_factory.mktemp("reports"))


def test_pages_are_offline_and_carry_the_run(pages, small_world):
    run, written = pages
    assert set(written) == {p.key for p in ENGAGEMENT_PAGES}
    data = embedded(written["campaigns"])
    assert data["headline"]["best_send_hour"]["best_hour"] == run.headline["best_send_hour"]["best_hour"]
    assert len(data["funnel"]) == len(run.tables["campaign_funnel"])
    names = read_table(small_world / "export", "contacts", ["full_name"])["full_name"].dropna().unique()
    for path in written.values():
        text = path.read_text(encoding="utf-8")
        assert re.findall(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=", text) == []
        assert [n for n in names[:50] if n in text] == []  # no personal data: the sales export is the CSV


def _open(driver, path, charts):
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.querySelectorAll('.js-plotly-plot .main-svg').length") >= charts)
    return driver.find_element("id", "kpis").text


@pytest.mark.browser
def test_pages_in_headless_chromium(browser, pages, tmp_path):  # noqa: F811
    from selenium.webdriver.support.ui import Select, WebDriverWait

    run, written = pages
    head = run.headline
    coffee = head["morning_coffee"]
    kpis = _open(browser, written["coffee"], 2)
    assert f"{coffee['total_active_contacts']:,}" in kpis and coffee["team_efficiency"]["overall"].upper() in kpis
    assert f"{head['busiest_window']['share']:.1%}" in browser.find_element("id", "coffee-findings").text
    assert_no_script_errors(browser)
    browser.save_screenshot(str(tmp_path / "coffee.png"))

    kpis = _open(browser, written["campaigns"], 3)
    assert f"{head['best_send_hour']['best_hour']}:00" in kpis and head["ab_test"]["winner"] in kpis
    first = run.tables["campaign_funnel"].sort_values("sent_at").iloc[0]
    Select(browser.find_element("id", "pick-funnel")).select_by_value(first["campaign_id"])
    WebDriverWait(browser, 10).until(lambda d: first["campaign_name"] in d.find_element("id", "funnel-note").text)
    Select(browser.find_element("id", "pick-first")).select_by_value(first["campaign_id"])
    WebDriverWait(browser, 10).until(lambda d: "second minus first" in d.find_element("id", "compare-note").text)
    assert "Newcombe" in browser.find_element("id", "abtest").text
    assert_no_script_errors(browser)
    browser.save_screenshot(str(tmp_path / "campaigns.png"))

    kpis = _open(browser, written["support"], 3)
    assert f"{head['response_time']['median_minutes']:.1f} min" in kpis
    board = browser.find_element("id", "leaderboard").text
    assert run.tables["leaderboard"].iloc[0]["agent"] in board
    assert_no_script_errors(browser)

    kpis = _open(browser, written["audience"], 3)
    assert f"{head['reach']['unique_people']:,}" in kpis
    Select(browser.find_element("id", "pick-period")).select_by_value("week")
    WebDriverWait(browser, 10).until(lambda d: "weeks" in d.find_element("id", "growth-note").text)
    assert_no_script_errors(browser)
    print(f"screenshots: {tmp_path}")


def test_report_index_links_the_engagement_pages_when_written(pages, tmp_path):
    from cvre.analytics.dashboards.build import page_links

    assert "Morning Coffee" not in page_links(tmp_path, tmp_path)
    _, written = pages
    links = page_links(tmp_path, written["coffee"].parent)
    assert links["Morning Coffee"] == "engagement_coffee.html" and links["Campaign ROI"] == "engagement_campaigns.html"
