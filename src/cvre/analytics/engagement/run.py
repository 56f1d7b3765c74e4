"""`cvre engagement`: every seed-003 insight the data allows, as tables under DATA/engagement/ and a headline."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cvre.analytics.engagement import audience, campaigns, coffee, sendhour, support, tickets, topics
from cvre.analytics.engagement.abtest import arm_comparison, sample_size_table
from cvre.analytics.engagement.config import EngagementConfig
from cvre.core.io import TRUTH_DIR, available_tables, read_tables, write_json
from cvre.features.campaigns import campaign_funnel, contact_engagement
from cvre.features.config import CampaignFeatureConfig
from cvre.features.pipeline import CAMPAIGN_FIELDS, lacking_fields, resolve_tables_dir
from cvre.features.snapshot import tables_as_of

ENGAGEMENT_DIR = "engagement"
TABLES = ("contacts", "leads", "campaigns", "messages", "chats", "support_messages", "ticket_events", "ab_units")
CHAT_FIELDS = {"chats": ("agent_id", "first_response_at")}  # what the support section reads of chats
TIME_COLUMNS = {"contacts": "created_at", "leads": "created_at", "campaigns": "sent_at", "messages": "sent_at",
                "chats": "created_at", "support_messages": "created_at", "ticket_events": "opened_at"}


@dataclass
class EngagementRun:
    out: Path
    as_of: pd.Timestamp
    headline: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def engagement_as_of(data: Path, tables: dict[str, pd.DataFrame], override: str | None) -> pd.Timestamp:
    """The snapshot: the option, else the world's manifest, else the latest timestamp in the tables."""
    if override:
        return pd.Timestamp(override)
    manifest = Path(data) / "manifest.json"
    if manifest.exists():
        return pd.Timestamp(json.loads(manifest.read_text())["as_of"])
    latest = [t[c].max() for name, t in tables.items() if (c := TIME_COLUMNS.get(name)) in t and t[c].notna().any()]
    return max(latest) if latest else pd.Timestamp.now().normalize()


def load_tables(data: Path, as_of: str | None) -> tuple[dict[str, pd.DataFrame], pd.Timestamp]:
    root = resolve_tables_dir(Path(data))
    names = [t for t in TABLES if t in available_tables(root)]
    if not names:
        raise FileNotFoundError(f"{root}: none of the engagement tables ({', '.join(TABLES)}); "
                                "simulate a world or import an export first")
    raw = read_tables(root, names)
    snapshot = engagement_as_of(data, raw, as_of)
    cut = tables_as_of({k: v for k, v in raw.items() if k != "ab_units"}, snapshot)
    for name in ("support_messages", "ticket_events"):
        if name in cut:
            cut[name] = cut[name][~(cut[name][TIME_COLUMNS[name]] > snapshot)]
    if "ab_units" in raw:
        cut["ab_units"] = raw["ab_units"]
    return cut, snapshot


def campaign_section(t: dict, as_of: pd.Timestamp, cfg: EngagementConfig, out: dict, head: dict) -> None:
    c = cfg.campaigns
    funnel = campaign_funnel(t["messages"], t["campaigns"])
    engagement = contact_engagement(t["messages"], as_of,
                                    CampaignFeatureConfig(high_intent_replies=c.high_intent_replies))
    out["campaign_funnel"], out["funnel_dropoff"] = funnel, campaigns.funnel_dropoff(funnel)
    pair = c.compare or funnel.sort_values("sent_at")["campaign_id"].tail(2).tolist()
    if len(pair) == 2:
        out["campaign_comparison"] = campaigns.compare_campaigns(funnel, pair[0], pair[1], c.alpha)
    tests = {m: campaigns.template_test(funnel, m, c.alpha, c.minimum_detectable_lift) for m in ("read", "replied")}
    tests = {m: r for m, r in tests.items() if r}
    if tests:
        out["ab_test"] = pd.DataFrame(list(tests.values()))
        head["ab_test"] = tests.get(c.ab_metric)
    out["sample_size"] = sample_size_table(c.sample_size_baselines, c.sample_size_lifts, c.alpha, c.power)
    hours = sendhour.best_send_hour(sendhour.campaign_hour_counts(funnel), c.send_hour_draws, c.seed)
    out["send_hour"], head["best_send_hour"] = hours, sendhour.best_hour_summary(hours)
    out["high_intent"] = campaigns.high_intent_contacts(engagement, t.get("contacts", pd.DataFrame(
        {"contact_id": []})), t["messages"], c.high_intent_replies)
    head["high_intent_contacts"] = int(len(out["high_intent"]))
    head["active_campaigns"] = campaigns.active_campaigns(funnel, as_of, c.active_campaign_days)
    out["_engagement"] = engagement


def audience_section(t: dict, as_of: pd.Timestamp, cfg: EngagementConfig, out: dict, head: dict) -> None:
    contacts = t["contacts"]
    head["reach"] = audience.total_reach(contacts, t.get("messages"), t.get("chats"))
    if "created_at" in contacts:
        out["new_contacts"] = pd.concat([audience.new_contacts(contacts, p, as_of).assign(period=p)
                                         for p in audience.PERIODS], ignore_index=True)
    out["geography"] = audience.geography(contacts, cfg.audience.default_region)
    out["segments"] = audience.segments(contacts, out.get("_engagement"))


def support_section(t: dict, as_of: pd.Timestamp, cfg: EngagementConfig, out: dict, head: dict) -> None:
    s = cfg.support
    chats, messages = t.get("chats"), t.get("support_messages")
    responses = support.chat_responses(chats) if chats is not None else support.message_responses(messages)
    head["response_time"] = support.response_summary(responses, None).iloc[0].to_dict() if len(responses) else {}
    out["response_by_agent"] = support.response_summary(responses)
    if "team" in responses:
        out["response_by_team"] = support.response_summary(responses, "team")
    done = support.done_per_agent(chats) if chats is not None else None
    if done is not None:
        out["done_per_agent"] = done
    out["leaderboard"] = support.leaderboard(responses, done)
    times = support.customer_times(chats, messages)
    out["heatmap"] = support.weekday_hour_heatmap(times).reset_index(names="weekday")
    head["busiest_window"] = support.busiest_window(times, s.peak_window_hours)
    queue = support.queue_health(chats, as_of, s.queue_stale_days) if chats is not None else None
    head["queue"] = queue
    if messages is not None and "text" in messages:
        texts = messages.loc[messages["inbound"].fillna(False).astype(bool), "text"]
        out["topics"] = topics.topic_keywords(texts, s.topic_keywords, s.topic_min_messages, s.topic_stop_words)
    head["morning_coffee"] = {
        "total_active_contacts": coffee.active_contacts(as_of, cfg.audience.active_days, t.get("messages"), chats,
                                                        messages),
        "new_leads": coffee.new_leads(t.get("leads"), as_of),
        "active_campaigns": head.get("active_campaigns"),
        "team_efficiency": coffee.team_efficiency(responses, queue, as_of, cfg.coffee)}


def truth_check(data: Path, head: dict, tables: dict[str, pd.DataFrame]) -> dict:
    """On a simulated world: the planted effects beside what the analysis found."""
    path = Path(data) / TRUTH_DIR / "engagement_truth.json"
    if not path.exists():
        return {}
    truth = json.loads(path.read_text())
    ab, hour, window = head.get("ab_test") or {}, head.get("best_send_hour") or {}, head.get("busiest_window") or {}
    return {"template_winner": {"truth": truth["template_winner"], "found": ab.get("winner")},
            "best_send_hour": {"truth": truth["best_send_hour"], "found": hour.get("best_hour")},
            "peak_share": {"truth": truth["peak_share_realised"], "planted": truth["peak_share_planted"],
                           "found": window.get("share"), "truth_window": truth["peak_window"],
                           "found_window": [window.get("start_hour"), window.get("end_hour")]},
            **fastest_agent_check(truth, tables.get("leaderboard"))}


def fastest_agent_check(truth: dict, board: pd.DataFrame | None) -> dict:
    speed = truth.get("agent_speed") or {}
    if not speed or board is None or board.empty:
        return {}
    return {"fastest_agent": {"truth": min(speed, key=speed.get),
                              "found": board.sort_values("speed_rank")["agent"].iloc[0]}}


def run_engagement(data: Path, cfg: EngagementConfig, as_of: str | None = None,
                   out: Path | None = None) -> EngagementRun:
    """Compute every section the tables allow and write them to `out` (default DATA/engagement)."""
    data = Path(data)
    t, snapshot = load_tables(data, as_of)
    tables: dict[str, pd.DataFrame] = {}
    head: dict = {"as_of": str(snapshot), "sections": [], "skipped": []}
    if missing := lacking_fields(t, CAMPAIGN_FIELDS):
        head["skipped"].append(f"campaigns: {', '.join(missing)} absent (map them for the funnels)")
    elif "messages" in t and "campaigns" in t:
        campaign_section(t, snapshot, cfg, tables, head)
        head["sections"].append("campaigns")
    if "contacts" in t:
        audience_section(t, snapshot, cfg, tables, head)
        head["sections"].append("audience")
    if missing := lacking_fields(t, CHAT_FIELDS):  # without them, chats give no response times
        fallback = "support_messages used" if "support_messages" in t else "map them for response times"
        head["skipped"].append(f"support from chats: {', '.join(missing)} absent; {fallback}")
    support = {k: v for k, v in t.items() if not (missing and k == "chats")}
    if "chats" in support or "support_messages" in support:
        support_section(support, snapshot, cfg, tables, head)
        head["sections"].append("support")
    if "ticket_events" in t:
        tickets_ = tickets.tickets_from_events(t["ticket_events"])
        tables["tickets"], tables["resolvers"] = tickets_, tickets.resolver_summary(tickets_)
        head["tickets"] = tickets.ticket_headline(tickets_)
        head["sections"].append("tickets")
    if "ab_units" in t:
        tables["experiment"] = experiment_table(t["ab_units"], cfg)
        head["sections"].append("experiment")
    head["truth_check"] = truth_check(data, head, tables)
    tables.pop("_engagement", None)
    out = Path(out) if out else data / ENGAGEMENT_DIR
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
        frame.to_csv(out / f"{name}.csv", index=False)
    write_json(head, out / "headline.json")
    return EngagementRun(out, snapshot, head, tables)


def experiment_table(units: pd.DataFrame, cfg: EngagementConfig) -> pd.DataFrame:
    """Each arm against the control, with the published figures beside ours where the config has them."""
    table = arm_comparison(units, cfg.experiment.control_arm, cfg.campaigns.alpha)
    published = cfg.experiment.published
    unknown = sorted(set(published) - set(units["arm"].dropna().astype(str)))
    if unknown:
        raise ValueError(f"engagement config: experiment.published names arms {unknown} not in ab_units "
                         f"(arms: {', '.join(sorted(units['arm'].dropna().astype(str).unique()))})")
    if published and len(table):
        table["published_value"] = [published.get(a, {}).get(m) for a, m in zip(table["arm"], table["metric"],
                                                                                  strict=True)]
        table["published_control_value"] = [published.get(c, {}).get(m) for c, m in zip(
            table["control"], table["metric"], strict=True)]
    return table
