"""Seed 001's funnel questions: the MER/placement ratio and what moves it, the pitches / MER / offers a job
needs, candidates and closing time by job type, new vs repeat jobs, pitch -> MER per salesperson and team,
and the jobs to open per month for a revenue objective."""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf

from cvre.analytics.recruitment.answer import Answer, Chart, bootstrap, money, wilson
from cvre.analytics.recruitment.config import RecruitmentConfig
from cvre.analytics.recruitment.data import RecruitmentData

COUNTS = ("pitches", "mer_meetings", "offers")


def _z(level: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(0.5 + level / 2))


def mer_ratio(d: RecruitmentData, cfg: RecruitmentConfig, truth: dict | None = None) -> Answer:
    """Placements per MER by month, and a binomial GLM of placements out of MERs on time, job type and coach."""
    j = d.jobs[d.jobs["mer_meetings"] > 0].copy()
    j["month"] = j["opened_at"].dt.to_period("M").astype(str)
    g = j.groupby("month").agg(mer=("mer_meetings", "sum"), placements=("placements", "sum")).reset_index()
    g["ratio"] = g["placements"] / g["mer"]
    g["low"], g["high"] = wilson(g["placements"], g["mer"], cfg.interval)
    start = j["opened_at"].min()
    j["years"] = (j["opened_at"] - start).dt.days / 365.25
    terms = ["years", "C(job_type)"] + (["C(coach_id)"] if "coach_id" in j and j["coach_id"].notna().all() else [])
    fit = smf.glm(f"placements + misses ~ {' + '.join(terms)}", data=j.assign(misses=j["mer_meetings"]
                                                                              - j["placements"]),
                  family=sm.families.Binomial()).fit()
    ci = fit.conf_int(1 - cfg.interval)
    drivers = pd.DataFrame({"term": fit.params.index, "log_odds": fit.params.values, "low": ci[0].values,
                            "high": ci[1].values, "p_value": fit.pvalues.values})
    drivers = drivers[~drivers["term"].str.startswith("C(coach_id)") & (drivers["term"] != "Intercept")]
    coach_terms = fit.params[fit.params.index.str.startswith("C(coach_id)")]
    first, last = g.iloc[: min(3, len(g))], g.iloc[-min(3, len(g)):]
    slope = fit.params["years"]
    head = {"Placements per MER, first 3 months": f"{first['placements'].sum() / first['mer'].sum():.1%}",
            "Last 3 months": f"{last['placements'].sum() / last['mer'].sum():.1%}",
            "Trend (log-odds per year)": f"{slope:+.2f} [{ci.loc['years', 0]:+.2f}, {ci.loc['years', 1]:+.2f}]"}
    notes = ["what moves it: binomial GLM of placements out of MERs on years since the first job, job type"
             + (" and coach" if "C(coach_id)" in terms else "") + "; "
             + "; ".join(f"{r.term}: {r.log_odds:+.2f} [{r.low:+.2f}, {r.high:+.2f}]" for r in drivers.itertuples())]
    if len(coach_terms):
        notes.append(f"coaches: spread of effects {coach_terms.std():.2f} log-odds (sd), best "
                     f"{coach_terms.idxmax().split('[T.')[-1].rstrip(']')}, weakest "
                     f"{coach_terms.idxmin().split('[T.')[-1].rstrip(']')}")
    check = None
    if truth:
        years = (d.as_of - start).days / 365.25
        true_slope = (np.log(truth["mer_to_placement_end"] / (1 - truth["mer_to_placement_end"]))
                      - np.log(truth["mer_to_placement_start"] / (1 - truth["mer_to_placement_start"]))) / years
        check = {"true_slope_per_year": float(true_slope), "fitted_slope_per_year": float(slope),
                 "covered": bool(ci.loc["years", 0] <= true_slope <= ci.loc["years", 1])}
        head["Truth (simulated) trend"] = f"{true_slope:+.2f} log-odds per year"
    return Answer("mer_ratio", "MER / placement ratio over time and what moves it",
                  "Why did placements per MER fall (seed 001: from 9% to 5%), and what would raise it?", head,
                  g, Chart("line", "month", ["ratio"], low="low", high="high", y_format=".1%"),
                  detail=j[["month", "job_id", "job_type", "coach_id", "mer_meetings", "placements"]]
                  if "coach_id" in j else None, notes=notes, truth=check)


def close_by_counts(d: RecruitmentData, cfg: RecruitmentConfig, truth: dict | None = None) -> Answer:
    """P(job filled) against each of pitches, MER meetings and offers (a logistic GLM per count, with intervals),
    and the count past which one more adds under 2 points of close probability."""
    j = d.jobs.dropna(subset=list(COUNTS)).copy()
    j["filled_f"] = j["filled"].astype(float)
    rows, optimum = [], {}
    for count in COUNTS:
        fit = smf.glm(f"filled_f ~ np.log1p({count}) + {count}", data=j, family=sm.families.Binomial()).fit()
        top = int(max(np.quantile(j[count], 0.98), 1))
        grid = pd.DataFrame({count: np.arange(top + 1)})
        pred = fit.get_prediction(grid).summary_frame(alpha=1 - cfg.interval)
        observed = j.groupby(j[count].clip(upper=top))["filled_f"].agg(["mean", "size"]).reindex(range(top + 1))
        block = pd.DataFrame({"count": count, "value": np.arange(top + 1), "p_close": pred["mean"].to_numpy(),
                              "low": pred["mean_ci_lower"].to_numpy(), "high": pred["mean_ci_upper"].to_numpy(),
                              "observed": observed["mean"].to_numpy(), "jobs": observed["size"].fillna(0).to_numpy()})
        if truth and count == "offers":  # the simulator places each offer with a known acceptance
            block["truth"] = 1 - (1 - truth["offer_acceptance"]) ** block["value"]
        gain = np.diff(block["p_close"].to_numpy(), append=np.nan)  # what one more adds
        steepest = int(np.nanargmax(gain)) if np.isfinite(gain).any() else 0
        enough = np.flatnonzero((gain < 0.02) & (np.arange(top + 1) > steepest))  # past the steepest rise
        optimum[count] = int(enough[0]) if len(enough) else top
        rows.append(block)
    table = pd.concat(rows, ignore_index=True)
    at = table.set_index(["count", "value"])["p_close"]
    head = {c.replace("_", " "): f"{optimum[c]} (P(close) {at[(c, optimum[c])]:.0%})" for c in COUNTS}
    head["Jobs filled"] = f"{j['filled'].mean():.1%}"
    check = None
    if "truth" in table:
        offers = table[table["count"] == "offers"]
        check = {"offers_max_abs_error": float((offers["p_close"] - offers["truth"]).abs().max()),
                 "offers_truth_in_interval": float(offers["truth"].between(offers["low"], offers["high"]).mean())}
    return Answer("close_counts", "Pitches, MER meetings and offers a job needs",
                  "How many pitches, MERs and offers does a job need to give it its best chance to close?", head,
                  table, Chart("line", "value", ["p_close", "observed"], low="low", high="high", y_format=".0%"),
                  slicer="count", truth=check,
                  notes=["one logistic GLM per count: filled ~ log(1+count) + count; the headline count is where, "
                         "past the steepest rise, one more adds under 2 points of close probability"])


def job_types(d: RecruitmentData, cfg: RecruitmentConfig) -> Answer:
    j = d.jobs
    has_candidates = "candidates" in j and j["candidates"].notna().any()
    g = j.groupby("job_type").agg(jobs=("job_id", "size"), filled=("filled", "mean"),
                                  candidates=("candidates" if has_candidates else "pitches", "mean"),
                                  pitches=("pitches", "mean"),
                                  closing_days_median=("duration_days", lambda s: s[j.loc[s.index, "filled"]].median()),
                                  fee_per_filled_job=("fee", lambda s: s[j.loc[s.index, "filled"]].mean())
                                  ).reset_index()
    g["candidates_per_placement"] = g["candidates"] / g["filled"].where(g["filled"] > 0)
    slowest = g.loc[g["closing_days_median"].idxmax()]
    return Answer("job_types", "Candidates per opportunity and closing time by job type",
                  "How many candidates does each type of job take, and how long does it take to close?",
                  {"Candidates per job": f"{g['candidates'].mean():.1f}" + ("" if has_candidates else " (pitches)"),
                   "Median days to close (filled jobs)": f"{j.loc[j['filled'], 'duration_days'].median():.0f}",
                   "Slowest type": f"{slowest['job_type']} ({slowest['closing_days_median']:.0f} days)"},
                  g, Chart("bar", "job_type", ["candidates", "closing_days_median"]),
                  detail=j[["job_type", "job_id", "account_id", "pitches", "mer_meetings", "placements",
                             "duration_days"]])


def new_vs_repeat(d: RecruitmentData, cfg: RecruitmentConfig) -> Answer:
    j = d.jobs.assign(business_type=d.jobs["business_type"].astype(object).fillna("unknown"))
    g = j.groupby("business_type").agg(jobs=("job_id", "size"), filled=("filled", "sum"), fee=("fee", "mean"),
                                       net_profit=("net_profit", "mean"), days=("duration_days", "median"))
    g = g.reset_index()
    g["fill_rate"] = g["filled"] / g["jobs"]
    g["low"], g["high"] = wilson(g["filled"], g["jobs"], cfg.interval)
    rates = g.set_index("business_type")["fill_rate"]
    better = rates.idxmax()
    return Answer("new_vs_repeat", "New vs repeat jobs", "Are we better on new or on repeat jobs?",
                  {**{f"Fill rate, {k}": f"{v:.1%}" for k, v in rates.items()}, "Better on": str(better)},
                  g, Chart("bar", "business_type", ["fill_rate"], low="low", high="high", y_format=".0%"))


def pitch_to_mer(d: RecruitmentData, cfg: RecruitmentConfig, truth: dict | None = None) -> Answer:
    """Pitch -> MER conversion per salesperson (sales role only, not coaches) and per team, Wilson intervals."""
    j = d.jobs
    if "owner_role" in j:
        j = j[j["owner_role"] == "sales"]
    team = "owner_team" if "owner_team" in j else None
    keys = ["owner_id"] + ([team] if team else [])
    g = j.groupby(keys).agg(jobs=("job_id", "size"), pitches=("pitches", "sum"), mer=("mer_meetings", "sum"))
    g = g.reset_index()
    g["conversion"] = g["mer"] / g["pitches"]
    g["low"], g["high"] = wilson(g["mer"], g["pitches"], cfg.interval)
    g["ranked"] = g["pitches"] >= cfg.min_pitches
    g["level"] = "salesperson"
    rows = [g]
    if team:
        t = j.groupby(team).agg(jobs=("job_id", "size"), pitches=("pitches", "sum"), mer=("mer_meetings", "sum"))
        t = t.reset_index()
        t["conversion"] = t["mer"] / t["pitches"]
        t["low"], t["high"] = wilson(t["mer"], t["pitches"], cfg.interval)
        rows.append(t.assign(owner_id=t[team], ranked=True, level="team"))
    table = pd.concat(rows, ignore_index=True).sort_values(["level", "conversion"], ascending=[True, False])
    people = table[(table["level"] == "salesperson") & table["ranked"]]
    head = {"Pitch -> MER overall": f"{j['mer_meetings'].sum() / j['pitches'].sum():.1%}",
            "Best salesperson": f"{people.iloc[0]['owner_id']} ({people.iloc[0]['conversion']:.1%})" if len(people)
            else "n/a", "Weakest": f"{people.iloc[-1]['owner_id']} ({people.iloc[-1]['conversion']:.1%})"
            if len(people) else "n/a"}
    check = None
    if truth and len(people):
        true = people["owner_id"].map(truth["pitch_to_mer_by_sales"])
        check = {"interval_coverage": float(((true >= people["low"]) & (true <= people["high"])).mean()),
                 "salespeople": len(people), "mae": float((people["conversion"] - true).abs().mean())}
        head["Truth inside interval"] = f"{check['interval_coverage']:.0%} of salespeople"
    return Answer("pitch_to_mer", "Pitch -> MER conversion per salesperson and team",
                  "Which salespeople (not coaches) and teams turn pitches into MER meetings?", head, table,
                  Chart("bar", "owner_id", ["conversion"], low="low", high="high", y_format=".0%"), slicer="level",
                  notes=[f"salespeople with fewer than {cfg.min_pitches} pitches are listed but not ranked"],
                  truth=check)


def jobs_needed(d: RecruitmentData, cfg: RecruitmentConfig) -> Answer:
    """Jobs to open per month = objective / (fill rate x fee per filled job), from the recent window's jobs."""
    since = d.as_of - pd.DateOffset(months=cfg.objective_window_months)
    recent = d.jobs[d.jobs["opened_at"] > since]
    decided = recent[recent["filled"] | recent["closed_at"].notna()]
    values = decided[["filled", "fee"]].to_numpy(dtype=float)

    def need(rows: np.ndarray) -> float:
        expected = rows[:, 1].sum() / len(rows)  # fees per job opened (fill rate x fee per filled job)
        return cfg.monthly_revenue_objective / expected if expected > 0 else np.inf

    point = need(values)
    low, high = bootstrap(values, need, cfg.bootstrap, cfg.interval, cfg.seed)
    opened = recent.groupby(recent["opened_at"].dt.to_period("M")).size()
    fill = decided["filled"].mean()
    fee = decided.loc[decided["filled"], "fee"].mean()
    table = pd.DataFrame({"month": opened.index.astype(str), "jobs_opened": opened.to_numpy(),
                          "jobs_needed": point, "low": low, "high": high})
    return Answer("jobs_needed", "Jobs to open per month for the revenue objective",
                  "How many jobs do we need to open per month to reach our objective?",
                  {"Objective per month": money(cfg.monthly_revenue_objective),
                   "Jobs needed per month": f"{point:.0f} [{low:.0f}, {high:.0f}]",
                   "Opened per month (recent)": f"{opened.mean():.0f}",
                   "Fill rate x fee per filled job": f"{fill:.1%} x {money(fee)}"},
                  table, Chart("bar", "month", ["jobs_opened", "jobs_needed"]),
                  notes=[f"from the {len(decided):,} decided jobs opened in the last {cfg.objective_window_months} "
                         f"months; interval: {cfg.bootstrap} bootstrap resamples; objective in "
                         "configs/recruitment.yaml"])
