"""Printing and MLflow logging of an engagement run (the side effects at the edge)."""

from __future__ import annotations

import mlflow
from rich.console import Console

from cvre.analytics.engagement.run import EngagementRun


def summary_lines(run: EngagementRun) -> list[str]:
    """The findings in one line each, as printed and as the dashboards' headline."""
    h = run.headline
    lines = [f"engagement as of {run.as_of.date()}: {', '.join(h['sections']) or 'nothing'}"]
    if reach := h.get("reach"):
        lines.append(f"reach: {reach['unique_people']:,} unique people ({reach['duplicates']:,} duplicate rows)")
    if ab := h.get("ab_test"):
        verdict = f"winner {ab['winner']}" if ab["winner"] else "no significant winner"
        lines.append(f"A/B templates ({ab['metric']}): A {ab['rate_a']:.1%} vs B {ab['rate_b']:.1%}, difference "
                     f"{ab['difference']:+.1%} [{ab['ci_low']:+.1%}, {ab['ci_high']:+.1%}], p={ab['p_value']:.3g}: "
                     f"{verdict}")
    if hour := h.get("best_send_hour"):
        lines.append(f"best send hour: {hour['best_hour']}:00 (read rate {hour['rate']:.1%} "
                     f"[{hour['ci_low']:.1%}, {hour['ci_high']:.1%}], P(best) {hour['p_best']:.0%})")
    if "high_intent_contacts" in h:
        lines.append(f"high intent contacts (export for sales): {h['high_intent_contacts']:,}")
    if (rt := h.get("response_time")) and rt:
        lines.append(f"response time: median {rt['median_minutes']:.1f} min, p90 {rt['p90_minutes']:.1f} min "
                     f"over {rt['responses']:,.0f} responses")
    if (w := h.get("busiest_window")) and w.get("share") is not None:
        lines.append(f"busiest window: {w['share']:.0%} of customer messages between {w['start_hour']}:00 and "
                     f"{w['end_hour']}:00 ({w['hours']} h of 24)")
    if coffee := h.get("morning_coffee"):
        leads = coffee["new_leads"]["yesterday"]
        lines.append(f"morning coffee: {coffee['total_active_contacts']:,} active contacts, "
                     f"{'no leads table' if leads is None else f'{leads} new leads yesterday'}, "
                     f"team efficiency {coffee['team_efficiency']['overall']}")
    for row in run.tables["experiment"].itertuples() if "experiment" in run.tables else ():
        fmt = (lambda v: f"{v:.3f}") if row.metric == "revenue" else (lambda v: f"{v:.2%}")
        lines.append(f"{row.arm} vs {row.control}, {row.metric}: {fmt(row.value)} vs {fmt(row.control_value)}, "
                     f"lift {fmt(row.lift)} [{fmt(row.ci_low)}, {fmt(row.ci_high)}], Holm p={row.p_holm:.2g}")
    if t := h.get("tickets"):
        lines.append(f"tickets: {t['tickets']:,}, median {t['median_hours_to_resolve']:.1f} h to resolve, "
                     f"SLA met {t.get('sla_share', float('nan')):.1%}, {t['resolvers']} resolvers")
    for name, check in (h.get("truth_check") or {}).items():
        found, truth = (f"{v:.1%}" if isinstance(v, float) else v for v in (check["found"], check["truth"]))
        lines.append(f"truth check, {name.replace('_', ' ')}: found {found} (truth {truth})")
    return lines


def print_summary(run: EngagementRun, console: Console) -> None:
    for line in summary_lines(run):
        console.print(line)
    for line in run.headline.get("skipped", []):
        console.print(f"[yellow]skipped {line}[/]")
    console.print(f"tables (Parquet and CSV): {run.out}")


def log_engagement_run(run: EngagementRun, experiment: str = "cvre-engagement") -> str:
    """One MLflow run: headline figures as metrics, the tables and headline.json as artifacts."""
    h = run.headline
    metrics = {"reach_unique_people": (h.get("reach") or {}).get("unique_people"),
               "ab_difference": (h.get("ab_test") or {}).get("difference"),
               "ab_p_value": (h.get("ab_test") or {}).get("p_value"),
               "best_send_hour": (h.get("best_send_hour") or {}).get("best_hour"),
               "best_send_hour_p_best": (h.get("best_send_hour") or {}).get("p_best"),
               "median_response_minutes": (h.get("response_time") or {}).get("median_minutes"),
               "busiest_window_share": (h.get("busiest_window") or {}).get("share"),
               "high_intent_contacts": h.get("high_intent_contacts"),
               "sla_share": (h.get("tickets") or {}).get("sla_share")}
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name="engagement") as active:
        mlflow.log_params({"as_of": str(run.as_of), "sections": ",".join(h["sections"])})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v is not None})
        mlflow.log_artifacts(str(run.out), "engagement")
        return active.info.run_id
