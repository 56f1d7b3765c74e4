"""Seed 001's cross-analysis: hand-computed pieces, the simulated recruitment world's truth, CLI and pages."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cvre.analytics.dashboards.recruitment_pages import write_recruitment_pages
from cvre.analytics.recruitment.answer import wilson
from cvre.analytics.recruitment.config import RecruitmentConfig
from cvre.analytics.recruitment.data import RecruitmentData, job_frame
from cvre.analytics.recruitment.funnel import jobs_needed, pitch_to_mer
from cvre.analytics.recruitment.run import run_recruitment
from cvre.analytics.recruitment.value import client_tiers
from tests.analytics.test_report import assert_no_script_errors, browser, open_page  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def run(world, tmp_path_factory):
    return run_recruitment(world, RecruitmentConfig(), out=tmp_path_factory.mktemp("recruitment"))


def answer(run, key):
    return next(a for a in run.answers if a.key == key)


def test_wilson_interval_by_hand():
    low, high = wilson([5], [10], 0.95)
    assert low[0] == pytest.approx(0.2366, abs=1e-3) and high[0] == pytest.approx(0.7634, abs=1e-3)


def test_client_tiers_by_rank():
    clients = pd.DataFrame({"net_profit": np.arange(100, 0, -1.0)})
    tiers = client_tiers(clients, (0.01, 0.04, 0.15)).value_counts()
    assert tiers.to_dict() == {"small": 80, "medium": 15, "large": 4, "top": 1}


def hand_jobs() -> RecruitmentData:
    jobs = pd.DataFrame({
        "job_id": ["J1", "J2", "J3", "J4"], "account_id": ["A", "A", "B", "C"], "opportunity_id": [None] * 4,
        "owner_id": ["S1", "S1", "S2", "C1"], "opened_at": pd.to_datetime(["2024-10-01", "2024-11-01", "2024-11-15",
                                                                           "2024-12-01"]),
        "closed_at": pd.to_datetime(["2024-10-20", "2024-12-01", None, "2024-12-20"]),
        "pitches": [10, 10, 20, 5], "mer_meetings": [5, 2, 4, 5], "offers": [1, 0, 0, 1], "placements": [1, 0, 0, 1],
        "fee": [30_000.0, 0.0, 0.0, 10_000.0], "cost": [1000.0] * 4, "job_type": ["x"] * 4})
    reps = pd.DataFrame({"rep_id": ["S1", "S2", "C1"], "team": ["T1", "T1", "T2"], "role": ["sales", "sales", "coach"]})
    return RecruitmentData(job_frame(jobs, pd.DataFrame(), reps), pd.DataFrame(), pd.DataFrame(), reps,
                           pd.Timestamp("2024-12-31"))


def test_pitch_to_mer_counts_salespeople_not_coaches():
    table = pitch_to_mer(hand_jobs(), RecruitmentConfig(min_pitches=1)).table.set_index("owner_id")
    assert "C1" not in table.index  # a coach's job does not count
    assert table.loc["S1", "conversion"] == pytest.approx(7 / 20) and table.loc["S2", "conversion"] == 0.2
    assert table.loc["T1", "conversion"] == pytest.approx(11 / 40)  # the team row


def test_jobs_needed_by_hand():
    # decided jobs J1, J2, J4 (J3 still open): fees per job opened = 40k / 3; objective 40k -> 3 jobs a month
    a = jobs_needed(hand_jobs(), RecruitmentConfig(monthly_revenue_objective=40_000, bootstrap=50))
    assert a.table["jobs_needed"].iloc[0] == pytest.approx(3.0)


def test_simulated_world_shows_seed_001s_facts(world):
    jobs = pd.read_parquet(world / "export" / "jobs.parquet")
    assert {"job_type", "coach_id", "candidates"} <= set(jobs.columns)
    year = jobs["opened_at"].dt.year
    first, last = jobs[year == year.min()], jobs[year == year.max()]
    ratio = [p["placements"].sum() / p["mer_meetings"].sum() for p in (first, last)]
    assert 0.06 < ratio[0] < 0.10 and 0.035 < ratio[1] < 0.07 and ratio[1] < ratio[0]
    reps = pd.read_parquet(world / "export" / "reps.parquet").set_index("rep_id")["role"]
    assert (jobs["coach_id"].map(reps) == "coach").all() and (jobs["owner_id"].map(reps) == "sales").all()
    truth = json.loads((world / "truth" / "recruitment_truth.json").read_text())
    assert truth["mer_to_placement_start"] == 0.09 and len(truth["pitch_to_mer_by_sales"]) > 5


def test_default_world_keeps_its_simple_jobs(small_world):
    jobs = pd.read_parquet(small_world / "export" / "jobs.parquet")
    assert "coach_id" not in jobs.columns and not (small_world / "truth" / "recruitment_truth.json").exists()


def test_answers_against_the_simulators_truth(run):
    mer = answer(run, "mer_ratio").truth
    assert mer["covered"] and mer["fitted_slope_per_year"] < 0
    people = answer(run, "pitch_to_mer").truth
    assert people["interval_coverage"] >= 0.7 and people["mae"] < 0.05
    close = answer(run, "close_counts").truth
    assert close["offers_max_abs_error"] < 0.12
    tiers = answer(run, "tiers").table.set_index("client_tier")
    assert tiers.loc[["top", "large", "medium"], "profit_share"].sum() > 0.6  # a skewed client base
    for a in run.answers:
        assert (run.out / f"{a.key}.csv").exists() and len(a.table) > 0 and a.headline


@pytest.mark.slow
def test_cli_analyse_recruitment(world, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cvre.cli.main import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["analyse", "recruitment", "--data", str(world), "--out", str(tmp_path / "r"),
                                 "--pages", str(tmp_path / "p")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "MER / placement ratio" in result.output and len(list((tmp_path / "p").glob("recruitment_*.html"))) == 13
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = runner.invoke(app, ["analyse", "recruitment", "--data", str(empty)], env={"COLUMNS": "200"})
    assert missing.exit_code == 2 and "no back-office jobs table" in missing.output


@pytest.mark.browser
@pytest.mark.slow
def test_every_page_in_headless_chromium(browser, run, tmp_path):  # noqa: F811
    from selenium.webdriver.support.ui import Select, WebDriverWait

    pages = write_recruitment_pages(run.answers, tmp_path, "test world")
    for a in run.answers:
        text = open_page(browser, pages[a.key], 1)
        first = " ".join(next(iter(a.headline.values())).split())
        assert a.title in text and first in text, (a.key, first)
        assert_no_script_errors(browser)
    # slicer and drill-down on the time-wasters page: the quadrant filters the table; a click lists rows
    wasters = answer(run, "time_wasters")
    open_page(browser, pages["time_wasters"], 1)
    n = int((wasters.table["quadrant"] == "time waster").sum())
    Select(browser.find_element("id", "filter-quadrant")).select_by_visible_text("time waster")
    WebDriverWait(browser, 10).until(lambda d: "Filtered:" in d.find_element("id", "selection").text)
    lines = browser.execute_script("return window.CVRE.csv('table')").strip().split("\n")
    assert len(lines) == n + 1 and all(line.startswith("time waster,") for line in lines[1:])
    mer = answer(run, "mer_ratio")
    open_page(browser, pages["mer_ratio"], 1)
    month = mer.table["month"].iloc[0]
    browser.execute_script(f"window.CVRE.drill('{month}')")
    detail = browser.execute_script("return window.CVRE.csv('detail')").strip().split("\n")
    assert len(detail) - 1 == int((mer.detail["month"] == month).sum()) > 0
    assert_no_script_errors(browser)
