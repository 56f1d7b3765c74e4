"""Readable names of model features, shared by the API's reasons and the analysts' driver reports."""

from __future__ import annotations

READABLE = {
    "days_in_stage": "days in current stage", "max_days_in_stage": "longest stay in a stage",
    "days_since_last_activity": "days since the last activity", "activities_per_30d": "activities per 30 days",
    "activities_total": "activities logged", "no_activity": "no activity at all",
    "moves_without_activity": "stage moves without logged activity", "lead_response_hours": "lead response time (h)",
    "slow_lead_response": "lead answered after 48 h", "owner_win_rate": "owner's win rate",
    "account_win_rate": "account's win rate", "amount": "amount (EUR)", "logged_share": "share of activities logged",
    "longest_gap_days": "longest gap between activities (days)", "close_date_pushes": "close-date pushes",
    "days_to_expected_close": "days to the expected close date", "age_days": "deal age (days)",
    # clients (churn)
    "recency_days": "days since the last purchase", "frequency": "purchases in the last year",
    "monetary": "spend in the last year (EUR)", "turnover": "lifetime spend (EUR)",
    "purchases_total": "purchases in total", "tenure_days": "days since the first purchase",
    "average_basket": "average basket (EUR)", "r_score": "recency score", "f_score": "frequency score",
    "m_score": "spend score", "rfm_segment": "RFM segment", "deals_closed": "deals closed", "deals_won": "deals won",
    "deal_win_rate": "deal win rate", "repeat_business": "repeat business", "net_profit": "net profit (EUR)",
    "chats_180d": "support chats in 180 days", "chat_response_minutes": "support response time (min)",
    "chat_unresolved_share": "share of unresolved support chats", "messages_received": "campaign messages received",
    "message_read_rate": "campaign read rate", "message_reply_rate": "campaign reply rate",
}


def readable(feature: str) -> str:
    """The analyst's name of a feature, else the name with spaces."""
    return READABLE.get(feature, feature.replace("_", " "))
