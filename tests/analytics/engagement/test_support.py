"""Support operations on hand-made chats and on the simulated world's planted peak, topics and queue."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cvre.analytics.engagement import support
from cvre.analytics.engagement.topics import topic_keywords
from cvre.core.io import read_tables
from cvre.simulation.config import SimulationConfig
from cvre.simulation.world import simulate_world

T0 = pd.Timestamp("2024-03-04 09:00")  # a Monday


def _chats():
    return pd.DataFrame({
        "chat_id": ["c1", "c2", "c3", "c4"],
        "contact_id": ["p1", "p2", "p3", "p4"],
        "agent_id": ["a1", "a1", "a2", None],
        "created_at": [T0, T0 + pd.Timedelta(hours=1), T0 + pd.Timedelta(days=1), T0 + pd.Timedelta(days=2)],
        "first_response_at": [T0 + pd.Timedelta(minutes=10), T0 + pd.Timedelta(minutes=90),
                              T0 + pd.Timedelta(days=1, minutes=5), pd.NaT],
        "resolved_at": [T0 + pd.Timedelta(hours=1), pd.NaT, T0 + pd.Timedelta(days=1, hours=1), pd.NaT],
        "status": ["done", "open", "done", "open"],
    })


def test_response_times_done_and_leaderboard_by_hand():
    responses = support.chat_responses(_chats())
    by_agent = support.response_summary(responses).set_index("agent")
    assert by_agent.loc["a1", "median_minutes"] == pytest.approx(20.0)  # 10 and 30 minutes
    assert by_agent.loc["a2", "responses"] == 1
    done = support.done_per_agent(_chats()).set_index("agent")
    assert done.loc["a1", "done"] == 1 and done.loc["a1", "done_share"] == 0.5
    assert done.loc["unassigned", "chats"] == 1
    board = support.leaderboard(responses, support.done_per_agent(_chats()))
    assert board.iloc[0]["agent"] == "a1"  # most responses; a2 is faster: ranks tie, volume breaks it
    assert board.set_index("agent").loc["a2", "speed_rank"] == 1


def test_queue_counts_waiting_chats_and_their_age():
    queue = support.queue_health(_chats(), T0 + pd.Timedelta(days=2, hours=3), stale_days=7)
    assert queue["unassigned"] == 1 and queue["unanswered"] == 1
    assert queue["unanswered_oldest_age_hours"] == pytest.approx(3.0)
    assert queue["open_chats"] == 2  # c2 was answered and is still open
    assert support.queue_health(_chats(), T0 + pd.Timedelta(days=30), stale_days=7)["unanswered_stale"] == 1


def test_busiest_window_wraps_midnight_and_heatmap_counts_every_message():
    times = pd.Series(pd.to_datetime(["2024-03-04 23:30", "2024-03-05 00:10", "2024-03-05 00:50",
                                      "2024-03-05 12:00"]))
    window = support.busiest_window(times, 2)
    assert (window["start_hour"], window["end_hour"], window["share"]) == (23, 1, 0.75)
    grid = support.weekday_hour_heatmap(times)
    assert grid.to_numpy().sum() == 4 and grid.loc["Mon", 23] == 1 and grid.loc["Tue", 0] == 2


def test_signoffs_and_reply_pairs_from_messages():
    texts = pd.Series(["We can help, please DM us. ^JK", "Sorry about that - Becky https://t.co/x", "Thanks!"])
    assert support.agent_signoff(texts).tolist()[:2] == ["JK", "Becky"]
    assert pd.isna(support.agent_signoff(texts).iloc[2])
    messages = pd.DataFrame({
        "message_id": ["m1", "m2", "m3", "m4"], "author_id": ["cust", "Brand", "Brand", "cust"],
        "inbound": [True, False, False, True],
        "created_at": [T0, T0 + pd.Timedelta(minutes=12), T0 + pd.Timedelta(minutes=30), T0 + pd.Timedelta(hours=1)],
        "text": ["help", "on it ^JK", "more ^JK", "thanks"], "in_reply_to": [None, "m1", "m1", "m3"]})
    pairs = support.message_responses(messages)
    assert pairs["minutes"].tolist() == [12.0] and pairs["agent"].tolist() == ["Brand ^JK"]


@pytest.fixture(scope="module")
def chatty_world(tmp_path_factory):
    """A small world whose clients chat a lot (about 14,000 chats: the peak share's standard error is 0.4 points)."""
    cfg = SimulationConfig(deals=600, seed=21)
    cfg.world.chats_per_account_month = 10.0
    out = tmp_path_factory.mktemp("chatty")
    simulate_world(cfg, out, progress=False)
    return out


def test_peak_share_is_within_two_points_of_the_planted_one(chatty_world):
    truth = json.loads((chatty_world / "truth" / "engagement_truth.json").read_text())
    t = read_tables(chatty_world / "export", ["chats", "support_messages"])
    assert len(t["chats"]) > 10_000
    window = support.busiest_window(support.customer_times(t["chats"], t["support_messages"]), 3)
    assert [window["start_hour"], window["end_hour"]] == truth["peak_window"]
    assert abs(window["share"] - truth["peak_share_planted"]) <= 0.02
    assert window["share"] == pytest.approx(truth["peak_share_realised"])


def test_planted_topics_agents_and_queue_in_the_simulated_world(small_world):
    t = read_tables(small_world / "export", ["chats", "support_messages"])
    speed = json.loads((small_world / "truth" / "engagement_truth.json").read_text())["agent_speed"]
    board = support.leaderboard(support.chat_responses(t["chats"])).set_index("agent")
    fastest, slowest = min(speed, key=speed.get), max(speed, key=speed.get)
    assert board.loc[fastest, "speed_rank"] == 1 and board["speed_rank"].idxmax() == slowest
    inbound = t["support_messages"][t["support_messages"]["inbound"]]
    keywords = topic_keywords(inbound["text"], top=8)["keyword"].tolist()
    assert {"refund", "error"} <= set(keywords[:4])
    chats = t["chats"]
    assert chats.loc[chats["agent_id"].isna(), "first_response_at"].isna().all()
    assert set(chats["status"]) == {"open", "done"}
    replies = t["support_messages"][~t["support_messages"]["inbound"]]
    assert replies["in_reply_to"].isin(inbound["message_id"]).all()
