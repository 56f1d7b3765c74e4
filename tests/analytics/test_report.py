"""Dashboards (`cvre report`) from the real leakage engine on a small simulated world."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cvre.analytics.config import LeakageConfig
from cvre.analytics.dashboards import ReportConfig, build_reports
from cvre.analytics.dashboards.build import page_links
from cvre.analytics.dashboards.data import LeakageOutputsMissing, primary_behaviour, read_leakage
from cvre.analytics.dashboards.pages import euros
from cvre.analytics.run import run_leakage
from cvre.core.config import ConfigError, load_config
from cvre.core.io import read_table

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def leakage_dir(small_world, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "leakage"
    run_leakage(small_world, LeakageConfig(probability="truth"), out=out)
    return out


@pytest.fixture(scope="module")
def pages(leakage_dir, small_world) -> dict[str, Path]:
    cfg = load_config(ReportConfig, None, "report.yaml")
    return build_reports(leakage_dir, leakage_dir.parent / "reports", cfg, data=small_world)


def embedded(page: Path) -> dict:
    text = page.read_text(encoding="utf-8")
    return json.loads(re.search(r'<script type="application/json" id="cvre-data">(.*?)</script>', text, re.S)[1])


def test_primary_behaviour_is_the_largest_flagged_haircut():
    flags = pd.DataFrame({"stalled": [True, False, False], "no_activity": [True, True, False],
                          "slow_response": [False, False, False], "stage_jump": [False, True, False],
                          "overdue_close_date": [False, False, True], "missing_amount": [False, False, False]})
    haircuts = {"stalled": 0.25, "no_activity": 0.2, "stage_jump": 0.1, "overdue_close_date": 0.0}
    assert primary_behaviour(flags, haircuts).tolist() == ["stalled", "no_activity", None]


def test_embedded_rows_add_up_to_the_leakage_run(pages, leakage_dir):
    data = embedded(pages["health"])
    head, deals = read_leakage(leakage_dir).headline, data["deals"]
    assert sum(deals["ev"]) == pytest.approx(head["ev"], abs=len(deals["ev"]) * 0.005)
    assert sum(deals["leaked"]) == pytest.approx(head["leaked_ev"], abs=len(deals["ev"]) * 0.005)
    assert sum(deals["recovered"]["combined"]) == pytest.approx(head["recoverable_ev"], abs=len(deals["ev"]) * 0.005)
    # the waterfall's steps: each deal's leak sits under exactly one behaviour
    leaking = np.array(deals["leaked"]) > 0
    assert ((np.array(deals["primary"]) >= 0) == leaking).all()
    # the slicer codes decode to the engine's own segment table
    segments = pd.read_parquet(leakage_dir / "segments.parquet").query("slicer == 'industry'").set_index("segment")
    industry = next(f for f in data["filters"] if f["key"] == "industry")
    by_code = pd.Series(deals["ev"]).groupby([industry["values"][c] for c in deals["seg"]["industry"]]).sum()
    pd.testing.assert_series_equal(by_code.sort_index(), segments["ev"].sort_index(), check_names=False, atol=1.0)


def test_trust_evidence_reproduces_the_trust_score(pages, leakage_dir):
    shares = [np.nanmean(np.array(col, dtype=float)) for col in embedded(pages["health"])["deals"]["trust"].values()]
    assert np.nanmean(shares) == pytest.approx(read_leakage(leakage_dir).headline["trust_score"])


def test_pages_are_self_contained_and_carry_no_names(pages, small_world):
    reps = read_table(small_world / "export", "reps", ["rep_name"])["rep_name"].dropna()
    for name in ("health", "recovery"):
        text = pages[name].read_text(encoding="utf-8")  # 4-5 MB: assert on findings, never on the text
        assert re.findall(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=", text) == []  # nothing to fetch
        assert ("Plotly.react" in text, len(text) < 8_000_000) == (True, True)
        assert [r for r in reps if r in text] == []
    index = pages["index"].read_text(encoding="utf-8")
    assert 'href="value_health.html"' in index and 'href="recovery_scenarios.html"' in index


def test_driver_report_is_linked_when_present(tmp_path):
    assert "Driver report (SHAP)" not in page_links(tmp_path, tmp_path / "reports")
    (tmp_path / "explain").mkdir()
    (tmp_path / "explain" / "report.html").write_text("<html></html>")
    assert page_links(tmp_path, tmp_path / "reports")["Driver report (SHAP)"] == "../explain/report.html"


def test_missing_outputs_say_what_to_run(tmp_path):
    with pytest.raises(LeakageOutputsMissing, match="run `cvre leakage --data"):
        read_leakage(tmp_path / "leakage")


def test_config_rejects_unknown_behaviours_and_scenarios(tmp_path, leakage_dir, small_world):
    bad = tmp_path / "report.yaml"
    bad.write_text("rulebook:\n- rule: answer fast\n  behaviours: [rudeness]\n")
    with pytest.raises(ConfigError, match="rulebook.0.behaviours"):
        load_config(ReportConfig, bad, "report.yaml")
    cfg = ReportConfig(rulebook=[{"rule": "x", "scenario": "pray", "behaviours": ["stalled"]}])
    with pytest.raises(ValueError, match="pray"):
        build_reports(leakage_dir, tmp_path / "out", cfg, data=small_world)


def test_cli_report(small_world, leakage_dir, tmp_path):
    from typer.testing import CliRunner

    from cvre.cli.main import app

    runner = CliRunner()
    args = ["report", "--data", str(small_world), "--leakage", str(leakage_dir), "--out", str(tmp_path)]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "value_health.html") in result.output and (tmp_path / "index.html").exists()
    missing = runner.invoke(app, ["report", "--data", str(tmp_path)], env={"COLUMNS": "200"})
    assert missing.exit_code == 2 and "run `cvre leakage" in missing.output


# --- in a real browser --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists() and shutil.which(str(CHROMEDRIVER))):
        pytest.fail(f"{CHROMIUM} or {CHROMEDRIVER} missing: run `make browser` (Debian chromium, chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1900"):
        options.add_argument(arg)
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def open_page(driver, page: Path, charts: int) -> str:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.querySelectorAll('.js-plotly-plot .main-svg').length") >= charts)
    return driver.find_element("tag name", "body").text


def choose(driver, filter_key: str, value: str) -> str:
    from selenium.webdriver.support.ui import Select, WebDriverWait

    Select(driver.find_element("id", f"filter-{filter_key}")).select_by_visible_text(value)
    WebDriverWait(driver, 10).until(lambda d: "Filtered:" in d.find_element("id", "selection").text)
    return driver.find_element("id", "kpis").text


def assert_no_script_errors(driver) -> None:
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe


@pytest.mark.browser
@pytest.mark.parametrize("name, charts", [("health", 4), ("recovery", 3)])
def test_page_in_headless_chromium(browser, pages, leakage_dir, tmp_path, name, charts):
    outputs = read_leakage(leakage_dir)
    head = outputs.headline
    text = open_page(browser, pages[name], charts)
    expected = [euros(head["recoverable_ev"]), f"{head['recoverable_share_of_leakage']:.1%}"]
    expected += ([euros(head["ev"]), euros(head["leaked_ev"]), f"{head['trust_score']:.1%}"] if name == "health"
                 else [f"{head['governance_roi']:.1f}x", "Tier A leads contacted within 24 h", "P1",
                       euros(head["causal_recoverable_ev"]),
                       f"95% interval {euros(head['causal_ci_low'])} to {euros(head['causal_ci_high'])}"])
    assert all(e in text for e in expected), [e for e in expected if e not in text]
    tier_a = outputs.segments.query("slicer == 'tier' and segment == 'A'").iloc[0]
    kpis = choose(browser, "tier", "A")
    column = "ev" if name == "health" else "recoverable_ev"
    assert euros(tier_a[column]) in kpis and euros(head[column]) not in kpis
    assert f"Filtered: {tier_a['deals']:,} of {head['deals']:,} deals" in browser.find_element("id", "selection").text
    assert_no_script_errors(browser)
    shot = tmp_path / f"{name}.png"
    browser.save_screenshot(str(shot))
    print(f"screenshot: {shot}")
