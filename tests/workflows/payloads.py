"""API bodies built from canonical tables as an export gives them: a field the export lacks is left out, and a
list whose API-required field is missing is not sent (as a user with that export would have to)."""

from __future__ import annotations

import pandas as pd

from cvre.serving.schemas import (
    ActivityIn,
    ChatIn,
    ClientDealIn,
    CloseDateChange,
    JobIn,
    LeadIn,
    MessageIn,
    StageEntry,
    TransactionIn,
)


def _json(value):
    if value is None or (not isinstance(value, list | dict) and pd.isna(value)):
        return None
    return value.isoformat() if isinstance(value, pd.Timestamp) else value.item() if hasattr(value, "item") else value


def _rows(frame: pd.DataFrame | None, schema, renames: dict[str, str] | None = None) -> list[dict]:
    """The frame's rows with the API schema's fields it has; none if an API-required field is missing."""
    if frame is None or frame.empty:
        return []
    renames = renames or {}
    fields = {name: renames.get(name, name) for name in schema.model_fields}
    required = [name for name, info in schema.model_fields.items() if info.is_required()]
    if any(fields[name] not in frame.columns for name in required):
        return []
    present = {name: col for name, col in fields.items() if col in frame.columns}
    rows = [{name: _json(row[col]) for name, col in present.items()} for _, row in frame.iterrows()]
    return [r for r in rows if all(r[name] is not None for name in required)]


def _of(tables: dict, name: str, key: str, value) -> pd.DataFrame | None:
    frame = tables.get(name)
    return None if frame is None or key not in frame.columns else frame[frame[key] == value]


def deal_bodies(tables: dict[str, pd.DataFrame], n: int) -> list[dict]:
    """The first `n` open deals (outcome open where the export has one), with their histories."""
    opps = tables["opportunities"]
    opps = opps[opps["outcome"] == "open"] if "outcome" in opps.columns else opps
    opps = opps[~opps["stage"].isin(["closed_won", "closed_lost"])].head(n)
    bodies = []
    for _, opp in opps.iterrows():
        oid = opp["opportunity_id"]
        body = {k: _json(opp[k]) for k in ("opportunity_id", "account_id", "owner_id", "product", "business_type",
                                           "created_at", "stage", "amount", "expected_close_date") if k in opp}
        body["stage_history"] = _rows(_of(tables, "stage_history", "opportunity_id", oid), StageEntry)
        body["activities"] = _rows(_of(tables, "activities", "opportunity_id", oid), ActivityIn)
        body["close_date_changes"] = _rows(_of(tables, "close_date_changes", "opportunity_id", oid), CloseDateChange)
        lead = _rows(_of(tables, "leads", "lead_id", opp.get("lead_id")), LeadIn)
        if lead:
            body["lead"] = lead[0]
        bodies.append({k: v for k, v in body.items() if v is not None})
    return bodies


def client_bodies(tables: dict[str, pd.DataFrame], n: int) -> list[dict]:
    """The `n` accounts with the most purchases, with their chats, messages, deals and jobs."""
    tx = tables.get("transactions")
    if tx is None or tx.empty:
        return []
    messages = tables.get("messages")
    if messages is not None and "contacts" in tables and "account_id" in tables["contacts"].columns:
        messages = messages.merge(tables["contacts"][["contact_id", "account_id"]], on="contact_id")
    bodies = []
    for aid in tx["account_id"].value_counts().index[:n]:
        account = _of(tables, "accounts", "account_id", aid)
        body = {"account_id": aid}
        if account is not None and len(account):
            body |= {k: _json(account[k].iloc[0]) for k in ("industry", "tier", "region") if k in account}
        body |= {"transactions": _rows(_of(tables, "transactions", "account_id", aid), TransactionIn),
                 "chats": _rows(_of(tables, "chats", "account_id", aid), ChatIn),
                 "messages": _rows(_of({"messages": messages}, "messages", "account_id", aid), MessageIn),
                 "deals": _rows(_of(tables, "opportunities", "account_id", aid), ClientDealIn),
                 "jobs": _rows(_of(tables, "jobs", "account_id", aid), JobIn)}
        bodies.append({k: v for k, v in body.items() if v is not None})
    return bodies
