"""Support operations: response times, chats done per agent, when customers write, queue health, leaderboard.

Response pairs come from chats (created -> first response, answered by the chat's agent) or, for
exports without chats, from support messages (a customer message -> the first agent reply to it).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# A reply signed by its agent at the end, as in public support threads: "^JK", "- Becky", "~Sam".
SIGNOFF = re.compile(r"(?:\^|[-\u2013\u2014~]\s?)([A-Z][A-Za-z]{1,14})\s*(?:https?://\S+\s*)*$")


def chat_responses(chats: pd.DataFrame) -> pd.DataFrame:
    """One row per answered chat: agent, when the customer wrote, minutes to the first response."""
    answered = chats[chats["first_response_at"].notna()]
    minutes = (answered["first_response_at"] - answered["created_at"]).dt.total_seconds() / 60.0
    return pd.DataFrame({"agent": answered["agent_id"].astype("string").fillna("unassigned"),
                         "asked_at": answered["created_at"], "minutes": minutes}).reset_index(drop=True)


def agent_signoff(texts: pd.Series) -> pd.Series:
    """The agent's sign-off at the end of a reply ('^JK' -> 'JK'), missing where unsigned."""
    return texts.fillna("").str.extract(SIGNOFF.pattern, expand=False).astype("string")


def message_responses(messages: pd.DataFrame) -> pd.DataFrame:
    """One row per customer message answered by an agent: the first reply's author (and sign-off) and delay."""
    inbound = messages[messages["inbound"].fillna(False).astype(bool)]
    replies = messages[~messages["inbound"].fillna(False).astype(bool) & messages["in_reply_to"].notna()]
    pairs = replies.merge(inbound[["message_id", "created_at"]], left_on="in_reply_to", right_on="message_id",
                          suffixes=("", "_asked"))
    pairs = pairs.sort_values("created_at").drop_duplicates("in_reply_to")
    minutes = (pairs["created_at"] - pairs["created_at_asked"]).dt.total_seconds() / 60.0
    signoff = agent_signoff(pairs["text"]) if "text" in pairs else pd.Series(pd.NA, index=pairs.index)
    agent = pairs["author_id"].astype("string").fillna("unknown")
    agent = agent.where(signoff.isna(), agent + " ^" + signoff)
    out = pd.DataFrame({"agent": agent, "team": pairs["author_id"].astype("string"),
                        "asked_at": pairs["created_at_asked"], "minutes": minutes})
    return out[out["minutes"] >= 0].reset_index(drop=True)


def response_summary(responses: pd.DataFrame, by: str | None = "agent") -> pd.DataFrame:
    """Median, p90 and mean minutes to respond, with the number of responses (overall when `by` is None)."""
    keys = responses[by] if by else pd.Series("all", index=responses.index, name="scope")
    g = responses.groupby(keys)["minutes"]
    return pd.DataFrame({"responses": g.size(), "median_minutes": g.median(), "p90_minutes": g.quantile(0.9),
                         "mean_minutes": g.mean()}).sort_values("responses", ascending=False).reset_index()


def done_per_agent(chats: pd.DataFrame) -> pd.DataFrame:
    """Chats marked as done, per agent (resolved chats where no status column exists)."""
    done = chats["status"].eq("done") if "status" in chats else chats["resolved_at"].notna()
    agents = chats["agent_id"].astype("string").fillna("unassigned")
    out = pd.DataFrame({"agent": agents, "done": done.astype(bool), "chat": 1})
    g = out.groupby("agent")
    return pd.DataFrame({"chats": g["chat"].sum(), "done": g["done"].sum()}).assign(
        done_share=lambda f: f["done"] / f["chats"]).sort_values("done", ascending=False).reset_index()


def leaderboard(responses: pd.DataFrame, done: pd.DataFrame | None = None) -> pd.DataFrame:
    """Agents ranked by volume (responses) and by speed (median minutes); overall = mean of both ranks."""
    board = response_summary(responses)
    board = board[board["agent"] != "unassigned"]
    if done is not None:
        board = board.merge(done[["agent", "done"]], on="agent", how="left")
    board["volume_rank"] = board["responses"].rank(ascending=False, method="min")
    board["speed_rank"] = board["median_minutes"].rank(ascending=True, method="min")
    board["overall_rank"] = ((board["volume_rank"] + board["speed_rank"]) / 2).rank(method="min")
    return board.sort_values(["overall_rank", "volume_rank"]).reset_index(drop=True)


def customer_times(chats: pd.DataFrame | None, messages: pd.DataFrame | None) -> pd.Series:
    """When customers wrote: every inbound support message, else every chat's opening."""
    if messages is not None and len(messages):
        return messages.loc[messages["inbound"].fillna(False).astype(bool), "created_at"].dropna()
    return chats["created_at"].dropna() if chats is not None else pd.Series(dtype="datetime64[ns]")


def weekday_hour_heatmap(times: pd.Series) -> pd.DataFrame:
    """Customer messages per weekday (rows, Mon first) and hour of day (columns 0-23)."""
    grid = pd.crosstab(times.dt.dayofweek, times.dt.hour).reindex(index=range(7), columns=range(24), fill_value=0)
    grid.index = list(WEEKDAYS)
    grid.columns = [int(c) for c in grid.columns]
    return grid


def busiest_window(times: pd.Series, hours: int) -> dict:
    """The `hours`-long window of the day (wrapping midnight) holding the largest share of messages."""
    counts = np.bincount(times.dt.hour.to_numpy(), minlength=24).astype(float)
    total = counts.sum()
    if not total:
        return {"start_hour": None, "end_hour": None, "share": None, "messages": 0}
    windows = np.array([counts[(start + np.arange(hours)) % 24].sum() for start in range(24)])
    start = int(windows.argmax())
    return {"start_hour": start, "end_hour": (start + hours) % 24, "hours": hours,
            "share": float(windows[start] / total), "uniform_share": hours / 24, "messages": int(total)}


def queue_health(chats: pd.DataFrame, as_of: pd.Timestamp, stale_days: float) -> dict:
    """Open chats now: unassigned and unanswered, with their age; older than `stale_days` counted apart."""
    open_ = chats[chats["status"].ne("done")] if "status" in chats else chats[chats["resolved_at"].isna()]
    age_h = (as_of - open_["created_at"]).dt.total_seconds() / 3600.0
    fresh = age_h <= stale_days * 24
    out: dict = {"as_of": str(as_of), "open_chats": int(len(open_)), "stale_days": stale_days}
    for name, mask in (("unassigned", open_["agent_id"].isna()), ("unanswered", open_["first_response_at"].isna())):
        waiting = age_h[mask & fresh]
        out[name] = int(len(waiting))
        out[f"{name}_median_age_hours"] = float(waiting.median()) if len(waiting) else None
        out[f"{name}_oldest_age_hours"] = float(waiting.max()) if len(waiting) else None
        out[f"{name}_stale"] = int((mask & ~fresh).sum())
    return out
