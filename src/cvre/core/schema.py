"""The canonical CRM schema, written once: tables, columns, dtypes, allowed values, references.

Every stage (simulator, import, features) reads and checks its tables against these specs, so a
column name is spelled here and referenced through the specs elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

Kind = Literal["id", "str", "category", "datetime", "float", "int", "bool"]

STAGES_OPEN = ("prospecting", "qualification", "proposal", "negotiation")
STAGES_CLOSED = ("closed_won", "closed_lost")
STAGES = STAGES_OPEN + STAGES_CLOSED
OUTCOMES = ("won", "lost", "open")
ACTIVITY_TYPES = ("call", "email", "meeting", "demo", "follow_up")
TIERS = ("A", "B", "C")
BUSINESS_TYPES = ("new", "repeat")
REP_ROLES = ("sales", "coach")
CHANNELS = ("whatsapp", "email", "sms")
TEMPLATE_VARIANTS = ("A", "B")
CHAT_STATUSES = ("open", "done")


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    references: str | None = None  # "table.column" this column points to
    description: str = ""
    observed: bool = False  # a value the CRM itself reports (a duration, a count, a flag, its own score):
    # used where raw events are missing; a mapping may leave it out (implicitly absent)


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: str
    columns: tuple[Column, ...]
    description: str = ""
    date_order: tuple[tuple[str, str], ...] = field(default=())  # (earlier, later) pairs

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def observed_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.observed]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")


def _c(name: str, kind: Kind, **kw) -> Column:
    return Column(name, kind, **kw)


ACCOUNTS = TableSpec(
    "accounts",
    "account_id",
    (
        _c("account_id", "id", required=True),
        _c("account_name", "str"),
        _c("industry", "category"),
        _c("employees", "float", minimum=0),
        _c("region", "category"),
        _c("country", "category"),
        _c("tier", "category", allowed=TIERS),
        _c("created_at", "datetime"),
        _c("churned", "bool", observed=True,
           description="the customer's own churn label (per-customer exports: telecom, bank)"),
    ),
    "Client companies.",
)

CONTACTS = TableSpec(
    "contacts",
    "contact_id",
    (
        _c("contact_id", "id", required=True),
        _c("account_id", "id", references="accounts.account_id"),
        _c("full_name", "str"),
        _c("email", "str"),
        _c("email_valid", "bool"),
        _c("phone", "str"),
        _c("phone_country_code", "category"),
        _c("seniority", "category"),
        _c("department", "category"),
        _c("attribute", "category"),
        _c("created_at", "datetime"),
    ),
    "People at accounts (may contain duplicates).",
)

REPS = TableSpec(
    "reps",
    "rep_id",
    (
        _c("rep_id", "id", required=True),
        _c("rep_name", "str"),
        _c("team", "category"),
        _c("role", "category", allowed=REP_ROLES),
        _c("manager", "category"),
    ),
    "Sales reps and coaches with their team.",
)

PRODUCTS = TableSpec(
    "products",
    "product",
    (
        _c("product", "id", required=True),
        _c("series", "category"),
        _c("list_price", "float", minimum=0),
    ),
    "Product catalogue.",
)

LEADS = TableSpec(
    "leads",
    "lead_id",
    (
        _c("lead_id", "id", required=True),
        _c("account_id", "id", references="accounts.account_id"),
        _c("contact_id", "id", references="contacts.contact_id"),
        _c("owner_id", "id", references="reps.rep_id"),
        _c("source", "category"),
        _c("created_at", "datetime", required=True),
        _c("first_response_at", "datetime"),
        _c("first_response_hours", "float", minimum=0, observed=True,
           description="hours from creation to the first response, as the CRM reports it"),
        _c("converted", "bool"),
    ),
    "Inbound and outbound leads with the time of the first response.",
    date_order=(("created_at", "first_response_at"),),
)

OPPORTUNITIES = TableSpec(
    "opportunities",
    "opportunity_id",
    (
        _c("opportunity_id", "id", required=True),
        _c("account_id", "id", references="accounts.account_id"),
        _c("lead_id", "id", references="leads.lead_id"),
        _c("owner_id", "id", references="reps.rep_id"),
        _c("product", "category"),
        _c("business_type", "category", allowed=BUSINESS_TYPES),
        _c("created_at", "datetime", required=True),
        _c("stage", "category", required=True, allowed=STAGES),
        _c("outcome", "category", allowed=OUTCOMES),
        _c("amount", "float", minimum=0),
        _c("currency", "category"),
        _c("expected_close_date", "datetime"),
        _c("closed_at", "datetime"),
        _c("days_in_stage", "float", minimum=0, observed=True, description="days in the current stage (CRM field)"),
        _c("stage_moves", "int", minimum=0, observed=True, description="stage changes so far (CRM field)"),
        _c("backward_moves", "int", minimum=0, observed=True, description="backward stage changes (CRM field)"),
        _c("stage_jump", "bool", observed=True, description="the CRM's flag for a stage skipped or moved "
           "without evidence"),
        _c("crm_win_probability", "float", minimum=0, maximum=1, observed=True,
           description="the CRM's own win probability, 0-1 (use the `percent` rule for 0-100)"),
        _c("forecast_category", "category", observed=True, description="the CRM's forecast category"),
    ),
    "Deals: current state as exported; history lives in stage_history and close_date_changes, or, where an "
    "export has no history, in the CRM's own observed fields (days in stage, moves, stage-jump flag).",
    date_order=(("created_at", "closed_at"),),
)

STAGE_HISTORY = TableSpec(
    "stage_history",
    "stage_event_id",
    (
        _c("stage_event_id", "id", required=True),
        _c("opportunity_id", "id", required=True, references="opportunities.opportunity_id"),
        _c("stage", "category", required=True, allowed=STAGES),
        _c("entered_at", "datetime", required=True),
    ),
    "One row per stage entry of a deal.",
)

CLOSE_DATE_CHANGES = TableSpec(
    "close_date_changes",
    "change_id",
    (
        _c("change_id", "id", required=True),
        _c("opportunity_id", "id", required=True, references="opportunities.opportunity_id"),
        _c("changed_at", "datetime", required=True),
        _c("old_expected_close_date", "datetime"),
        _c("new_expected_close_date", "datetime", required=True),
    ),
    "Pushes of a deal's expected close date.",
)

ACTIVITIES = TableSpec(
    "activities",
    "activity_id",
    (
        _c("activity_id", "id", required=True),
        _c("opportunity_id", "id", required=True, references="opportunities.opportunity_id"),
        _c("owner_id", "id", references="reps.rep_id"),
        _c("activity_type", "category", allowed=ACTIVITY_TYPES),
        _c("occurred_at", "datetime", required=True),
        _c("logged", "bool"),
    ),
    "Sales activities; `logged` = entered by the rep with notes (counts as evidence).",
)

JOBS = TableSpec(
    "jobs",
    "job_id",
    (
        _c("job_id", "id", required=True),
        _c("opportunity_id", "id", references="opportunities.opportunity_id"),
        _c("account_id", "id", references="accounts.account_id"),
        _c("owner_id", "id", references="reps.rep_id"),
        _c("coach_id", "id", references="reps.rep_id", description="the coach (recruiter) who ran the job"),
        _c("job_type", "category"),
        _c("opened_at", "datetime", required=True),
        _c("candidates", "int", minimum=0, description="candidates sourced for the job"),
        _c("pitches", "int", minimum=0),
        _c("mer_meetings", "int", minimum=0),
        _c("offers", "int", minimum=0),
        _c("placements", "int", minimum=0),
        _c("fee", "float", minimum=0),
        _c("cost", "float", minimum=0),
        _c("closed_at", "datetime"),
    ),
    "Back-office recruitment jobs opened for won deals (seed 001).",
    date_order=(("opened_at", "closed_at"),),
)

CAMPAIGNS = TableSpec(
    "campaigns",
    "campaign_id",
    (
        _c("campaign_id", "id", required=True),
        _c("campaign_name", "str"),
        _c("channel", "category", allowed=CHANNELS),
        _c("template_variant", "category", allowed=TEMPLATE_VARIANTS),
        _c("sent_at", "datetime", required=True),
    ),
    "Marketing campaigns (seed 003).",
)

MESSAGES = TableSpec(
    "messages",
    "message_id",
    (
        _c("message_id", "id", required=True),
        _c("campaign_id", "id", required=True, references="campaigns.campaign_id"),
        _c("contact_id", "id", required=True, references="contacts.contact_id"),
        _c("sent_at", "datetime", required=True),
        _c("delivered_at", "datetime"),
        _c("read_at", "datetime"),
        _c("replied_at", "datetime"),
        _c("failure_reason", "category"),
    ),
    "One campaign message per contact: the funnel sent -> delivered -> read -> replied.",
    date_order=(("sent_at", "delivered_at"), ("delivered_at", "read_at"), ("read_at", "replied_at")),
)

CHATS = TableSpec(
    "chats",
    "chat_id",
    (
        _c("chat_id", "id", required=True),
        _c("contact_id", "id", references="contacts.contact_id"),
        _c("account_id", "id", references="accounts.account_id"),
        _c("agent_id", "id"),
        _c("created_at", "datetime", required=True),
        _c("accepted_at", "datetime"),
        _c("first_response_at", "datetime"),
        _c("resolved_at", "datetime"),
        _c("status", "category", allowed=CHAT_STATUSES, description="done = marked as done by the agent"),
    ),
    "Support chats (seed 003).",
    date_order=(("created_at", "first_response_at"), ("created_at", "resolved_at")),
)

SUPPORT_MESSAGES = TableSpec(
    "support_messages",
    "message_id",
    (
        _c("message_id", "id", required=True),
        _c("chat_id", "id", references="chats.chat_id"),
        _c("author_id", "id", description="the customer, or the agent/brand account that answered"),
        _c("inbound", "bool", required=True, description="true = written by the customer"),
        _c("created_at", "datetime", required=True),
        _c("text", "str"),
        _c("in_reply_to", "id", description="message_id this message answers"),
    ),
    "Messages inside support conversations (seed 003): texts for topics, reply pairs for response times.",
)

TICKET_EVENTS = TableSpec(
    "ticket_events",
    "event_id",
    (
        _c("event_id", "id", required=True),
        _c("ticket_id", "id", required=True),
        _c("state", "category"),
        _c("updated_at", "datetime"),
        _c("opened_at", "datetime", required=True),
        _c("resolved_at", "datetime"),
        _c("closed_at", "datetime"),
        _c("agent_id", "id", description="assigned agent at this event"),
        _c("team", "category"),
        _c("resolved_by", "id"),
        _c("made_sla", "bool"),
        _c("priority", "category"),
        _c("category", "category"),
    ),
    "Service-desk ticket event log, one row per state change; the last event of a ticket is its outcome.",
    date_order=(("opened_at", "resolved_at"),),
)

AB_UNITS = TableSpec(
    "ab_units",
    "unit_id",
    (
        _c("unit_id", "id", required=True),
        _c("experiment", "category"),
        _c("arm", "category", required=True, description="the variant a unit was randomised to (control too)"),
        _c("visited", "bool"),
        _c("converted", "bool"),
        _c("revenue", "float", minimum=0),
    ),
    "Units of a randomised test (one row per customer) with their outcomes.",
)

TRANSACTIONS = TableSpec(
    "transactions",
    "transaction_id",
    (
        _c("transaction_id", "id", required=True),
        _c("account_id", "id", required=True, references="accounts.account_id"),
        _c("occurred_at", "datetime", required=True),
        _c("amount", "float", required=True),
        _c("quantity", "float"),
        _c("business_category", "category"),
    ),
    "Customer purchases (seed 002); negative amounts are returns only where the mapping allows.",
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        ACCOUNTS, CONTACTS, REPS, PRODUCTS, LEADS, OPPORTUNITIES, STAGE_HISTORY,
        CLOSE_DATE_CHANGES, ACTIVITIES, JOBS, CAMPAIGNS, MESSAGES, CHATS, TRANSACTIONS,
        SUPPORT_MESSAGES, TICKET_EVENTS, AB_UNITS,
    )
}

_PANDAS_DTYPES: dict[Kind, str] = {
    "id": "string",
    "str": "string",
    "category": "string",
    "datetime": "datetime64[ns]",
    "float": "float64",
    "int": "Int64",
    "bool": "boolean",
}


def pandas_dtype(kind: Kind) -> str:
    return _PANDAS_DTYPES[kind]


def conform(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Order and cast a table's columns to the spec; spec columns the frame lacks stay absent."""
    present = [c for c in spec.columns if c.name in df.columns]
    out = df[[c.name for c in present]].copy()
    for col in present:
        target = pandas_dtype(col.kind)
        if col.kind == "datetime":
            out[col.name] = pd.to_datetime(out[col.name]).astype("datetime64[ns]")
        elif str(out[col.name].dtype) != target:
            out[col.name] = out[col.name].astype(target)
    return out
