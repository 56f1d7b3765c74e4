"""Seed 003's engagement world: planted campaign effects, customer message hours, support texts and queue.

The effects planted here (a better template by a known margin, a known best send hour, a known peak
window of customer messages, known topic shares) are written to `truth/engagement_truth.json`, so the
engagement analytics can be checked against them.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cvre.core.config import StrictModel
from cvre.simulation.clock import to_timestamps

TOPIC_TEXTS: dict[str, tuple[str, ...]] = {
    "refund": ("I want a refund for my last order", "Still waiting for my refund, it has been two weeks",
               "How do I get a refund for a double charge", "Refund please, the item never worked"),
    "pricing": ("What is the price of the premium plan", "Your pricing page shows a different price",
                "Can I get a discount on the annual pricing", "Why did the price go up this month"),
    "error": ("The app shows an error when I log my order", "Error 500 again when I open the invoice",
              "I get an error message at checkout", "Payment error, the page crashes"),
    "delivery": ("Where is my delivery, tracking has not moved", "The delivery arrived damaged",
                 "Delivery is late by three days", "Can I change the delivery address"),
    "login": ("I cannot login to my account", "Password reset link does not work for login",
              "Locked out of my account after login attempts", "Two factor code never arrives at login"),
    "cancel": ("Please cancel my subscription", "How do I cancel before renewal",
               "I want to cancel the order I placed today", "Cancel my account and delete my data"),
}
AGENT_REPLY = "Thanks for reaching out, I am looking into this for you now."


class EngagementPlan(StrictModel):
    """Effects planted in campaigns and support chats, recorded in the truth folder."""

    template_winner: Literal["A", "B"] = "B"
    template_read_lift: float = Field(0.06, ge=0, le=0.5, description="read probability, winner minus other")
    template_reply_lift: float = Field(0.03, ge=0, le=0.5, description="reply probability once read")
    send_hours: tuple[int, int] = Field((7, 21), description="first and last hour campaigns are sent at")
    best_send_hour: int = Field(19, ge=0, le=23)
    best_hour_read_lift: float = Field(0.12, ge=0, le=0.5, description="read probability at the best hour")
    hour_lift_width: int = Field(2, ge=1, le=24, description="the lift falls linearly to 0 this many hours away")
    peak_window: tuple[int, int] = Field((18, 21), description="[start, end) hours of the customers' peak")
    peak_share: float = Field(0.6, gt=0, lt=1, description="share of customer messages in the peak window")
    agent_speed: dict[str, float] = Field(
        default_factory=lambda: {"AGT003": 0.5, "AGT008": 2.0},
        description="response-time multiplier per agent (0.5 = answers twice as fast); others 1")
    topics: dict[Literal[tuple(TOPIC_TEXTS)], float] = Field(
        default_factory=lambda: {"refund": 0.28, "pricing": 0.22, "error": 0.18, "delivery": 0.14,
                                 "login": 0.10, "cancel": 0.08})

    @model_validator(mode="after")
    def _consistent(self) -> EngagementPlan:
        first, last = self.send_hours
        if not 0 <= first <= last <= 23 or not first <= self.best_send_hour <= last:
            raise ValueError("send_hours must be 0-23, first <= last, with best_send_hour inside")
        if not 0 <= self.peak_window[0] < self.peak_window[1] <= 24:
            raise ValueError("peak_window must be [start, end) within 0-24")
        if any(v <= 0 for v in self.agent_speed.values()):
            raise ValueError("agent_speed multipliers must be > 0")
        if not self.topics:
            raise ValueError(f"topics must name some of {sorted(TOPIC_TEXTS)}")
        return self


def campaign_send_hours(n_campaigns: int, plan: EngagementPlan) -> np.ndarray:
    """Pairs of campaigns (A then B) share an hour, so template and hour are balanced; pairs step
    through the hours by a stride coprime with their number, visiting every hour before repeating."""
    first, last = plan.send_hours
    span = last - first + 1
    stride = next(s for s in (7, 5, 3, 2, 1) if np.gcd(s, span) == 1 and s <= span)
    pair = np.arange(n_campaigns) // 2
    return first + (pair * stride) % span


def hour_read_lift(hour: np.ndarray, plan: EngagementPlan) -> np.ndarray:
    distance = np.abs(np.asarray(hour) - plan.best_send_hour)
    return plan.best_hour_read_lift * np.clip(1.0 - distance / plan.hour_lift_width, 0.0, None)


def template_lift(variant: np.ndarray, plan: EngagementPlan, step: Literal["read", "reply"]) -> np.ndarray:
    lift = plan.template_read_lift if step == "read" else plan.template_reply_lift
    return lift * (np.asarray(variant) == plan.template_winner)


def customer_hour_weights(plan: EngagementPlan) -> np.ndarray:
    """Probability of each hour for a customer's message: `peak_share` spread over the peak window,
    the rest over a working-day shape (quiet nights)."""
    base = np.ones(24)
    base[8:18], base[0:7] = 2.0, 0.3
    start, end = plan.peak_window
    inside = np.zeros(24, dtype=bool)
    inside[start:end] = True
    weight = np.where(inside, plan.peak_share / inside.sum(), base / base[~inside].sum() * (1 - plan.peak_share))
    return weight / weight.sum()


def agent_initials(agent_id: str) -> str:
    """Two letters an agent signs replies with (as `^JK` in public support threads)."""
    k = int(agent_id[-3:])
    return chr(65 + k % 26) + chr(65 + (7 * k + 3) % 26)


def finish_chats(rng: np.random.Generator, chats: pd.DataFrame, plan: EngagementPlan, start, end_day: float):
    """Chats as seen at the export: times after it censored, never-accepted chats unassigned, done status;
    plus each chat's messages (the customer's text by topic, the agent's reply signed with their initials)."""
    as_of = to_timestamps(start, np.array([end_day]))[0]
    out = chats.copy()
    speed = out["agent_id"].map(plan.agent_speed).fillna(1.0).to_numpy()  # planted fast and slow agents
    answered_in = out["first_response_at"] - out["created_at"]
    out["accepted_at"] = out["created_at"] + (out["accepted_at"] - out["created_at"]) * speed
    out["first_response_at"] = out["created_at"] + answered_in * speed
    out["resolved_at"] = out["resolved_at"] + (out["first_response_at"] - out["created_at"] - answered_in)
    for col in ("accepted_at", "first_response_at", "resolved_at"):
        out[col] = out[col].where(out[col] <= as_of)
    out["agent_id"] = out["agent_id"].where(out["accepted_at"].notna())
    out["status"] = np.where(out["resolved_at"].notna(), "done", "open")

    names = list(plan.topics)
    shares = np.array([plan.topics[k] for k in names])
    topic = np.asarray(names)[rng.choice(len(names), len(out), p=shares / shares.sum())]
    variant = rng.integers(0, 4, len(out))
    text = np.array([TOPIC_TEXTS[t][v] for t, v in zip(topic, variant, strict=True)], dtype=object)
    customer = pd.DataFrame({
        "message_id": "SMC" + out["chat_id"].str[3:], "chat_id": out["chat_id"], "author_id": out["contact_id"],
        "inbound": True, "created_at": out["created_at"],
        "text": text, "in_reply_to": None})
    answered = out[out["first_response_at"].notna()]
    signoff = "^" + answered["agent_id"].map(agent_initials)
    agent = pd.DataFrame({
        "message_id": "SMA" + answered["chat_id"].str[3:], "chat_id": answered["chat_id"],
        "author_id": answered["agent_id"], "inbound": False, "created_at": answered["first_response_at"],
        "text": AGENT_REPLY + " " + signoff, "in_reply_to": "SMC" + answered["chat_id"].str[3:]})
    messages = pd.concat([customer, agent], ignore_index=True).sort_values(["created_at", "message_id"],
                                                                           ignore_index=True)
    return out, messages, pd.Series(topic, index=out.index, name="topic")


def engagement_truth(plan: EngagementPlan, chats: pd.DataFrame, topic: pd.Series) -> dict:
    """The planted effects and what they came to in this world."""
    start, end = plan.peak_window
    hours = chats["created_at"].dt.hour
    return {
        "template_winner": plan.template_winner,
        "template_read_lift": plan.template_read_lift,
        "template_reply_lift": plan.template_reply_lift,
        "best_send_hour": plan.best_send_hour,
        "best_hour_read_lift": plan.best_hour_read_lift,
        "peak_window": [start, end],
        "peak_share_planted": plan.peak_share,
        "peak_share_realised": float(((hours >= start) & (hours < end)).mean()) if len(chats) else None,
        "topic_shares_planted": plan.topics,
        "topic_shares_realised": topic.value_counts(normalize=True).round(4).to_dict(),
        "chats_unassigned_at_export": int(chats["agent_id"].isna().sum()),
        "agent_speed": plan.agent_speed,
    }
