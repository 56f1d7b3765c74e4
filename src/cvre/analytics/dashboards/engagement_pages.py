"""The Engagement section (seed 003's four dashboards): Morning Coffee, Campaign ROI, Customer success, Audience."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from cvre.analytics.dashboards.data import embed_json
from cvre.analytics.dashboards.pages import Page, Panel, render_page
from cvre.analytics.engagement.campaigns import compare_campaigns

ENGAGEMENT_PAGES = (
    Page("coffee", "engagement_coffee.html", "Morning Coffee",
         "A daily snapshot: how big is the market, did acquisition work yesterday, how are campaigns and the team "
         "doing?",
         (Panel("coffee-campaigns", "Active campaigns: funnel rates"),
          Panel("coffee-growth", "New contacts per day, last 60 days"),
          Panel("coffee-rag", "Team efficiency: each measure against its thresholds", chart=False),
          Panel("coffee-findings", "Findings", chart=False))),
    Page("campaigns", "engagement_campaigns.html", "Campaign ROI",
         "Which campaigns work and why? Which template wins? When should we send?",
         (Panel("funnel", "Delivery funnel: sent, delivered, read, replied (pick a campaign)", note=True),
          Panel("compare", "Comparison view: two campaigns side by side (step rates)", note=True),
          Panel("besthour", "Best time to send: modelled read rate by hour, 95% interval, P(best)", note=True),
          Panel("abtest", "A/B template test", chart=False),
          Panel("samplesize", "Sample-size calculator: units per arm", chart=False),
          Panel("experiment", "Randomised test: each arm against control", chart=False))),
    Page("support", "engagement_support.html", "Customer success",
         "How fast does the team answer, who carries the load, when do customers write, and about what?",
         (Panel("heatmap", "Peak hours: customer messages by weekday and hour", note=True, wide=True),
          Panel("leaderboard", "Leaderboard: top 20 agents by volume and speed", chart=False),
          Panel("done", "Chats marked as done, per agent"),
          Panel("topics", "Topic cloud: keywords in customer messages (TF-IDF)"),
          Panel("queue", "Queue health: unassigned and unanswered chats now", chart=False),
          Panel("tickets", "Service desk: tickets per resolver, time to resolve, SLA", chart=False, wide=True))),
    Page("audience", "engagement_audience.html", "Growth and audience",
         "How fast is the audience growing, where is it, and which segments engage?",
         (Panel("growth", "New contacts (pick day, week or month)", note=True, wide=True),
          Panel("geography", "Contacts by country (phone country code)"),
          Panel("segments", "Segments by custom attribute: contacts and reply rate"))),
)
PAIR_CAMPAIGNS = 30  # comparisons are precomputed for every pair among the most recent campaigns


def records(frame: pd.DataFrame | None, limit: int | None = None) -> list[dict]:
    """Rows as JSON-safe dicts (NaN -> null, numpy and timestamps -> plain values)."""
    if frame is None:
        return []
    part = frame.head(limit) if limit else frame
    clean = part.astype(object).where(part.notna(), None)
    return [{k: _plain(v) for k, v in row.items()} for row in clean.to_dict("records")]


def _plain(value):
    if isinstance(value, pd.Timestamp):
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and not np.isfinite(value) else value


def pair_comparisons(funnel: pd.DataFrame, alpha: float) -> dict[str, list[dict]]:
    """'first|second' -> the step comparison, for every pair among the latest PAIR_CAMPAIGNS campaigns."""
    latest = funnel.sort_values("sent_at")["campaign_id"].tail(PAIR_CAMPAIGNS).tolist()
    return {f"{a}|{b}": records(compare_campaigns(funnel, a, b, alpha)) for a, b in combinations(latest, 2)}


def engagement_payload(tables: dict[str, pd.DataFrame], headline: dict, alpha: float = 0.05) -> dict:
    funnel = tables.get("campaign_funnel")
    heat = tables.get("heatmap")
    payload = {"headline": _json_safe(headline),
               "funnel": records(funnel.sort_values("sent_at")) if funnel is not None else [],
               "pairs": pair_comparisons(funnel, alpha) if funnel is not None and len(funnel) > 1 else {}}
    for name in ("send_hour", "ab_test", "sample_size", "geography", "segments", "done_per_agent", "topics",
                 "experiment", "new_contacts"):
        payload[name] = records(tables.get(name))
    payload["leaderboard"] = records(tables.get("leaderboard"), 50)
    payload["resolvers"] = records(tables.get("resolvers"), 25)
    payload["heatmap"] = ({"rows": heat["weekday"].tolist(), "z": heat.drop(columns="weekday").to_numpy().tolist()}
                          if heat is not None else None)
    return payload


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return _plain(value)


def engagement_links() -> dict[str, str]:
    return {p.title: p.file for p in ENGAGEMENT_PAGES}


def write_engagement_pages(tables: dict[str, pd.DataFrame], headline: dict, out: Path,
                           alpha: float = 0.05) -> dict[str, Path]:
    """Write the four pages into `out`; returns page key -> path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = embed_json(engagement_payload(tables, headline, alpha))
    scope = f"Engagement as of {str(headline['as_of'])[:10]}: {', '.join(headline['sections'])}"
    written = {}
    for page in ENGAGEMENT_PAGES:
        written[page.key] = out / page.file
        written[page.key].write_text(render_page(page, data, engagement_links(), scope, script="engagement.js"),
                                     encoding="utf-8")
    return written
