"""Turn API deals and clients into canonical tables, so scoring reuses the training feature code unchanged."""

from __future__ import annotations

import pandas as pd

from cvre.core.schema import (
    ACCOUNTS,
    ACTIVITIES,
    CHATS,
    CLOSE_DATE_CHANGES,
    JOBS,
    LEADS,
    MESSAGES,
    OPPORTUNITIES,
    STAGE_HISTORY,
    TRANSACTIONS,
    TableSpec,
)
from cvre.serving.schemas import ClientIn, DealIn


def _frame(rows: list[dict], spec: TableSpec) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[c for c in spec.column_names if not rows or c in rows[0]])
    for col in spec.columns:
        if col.name in frame.columns and col.kind == "datetime":
            frame[col.name] = pd.to_datetime(frame[col.name]).astype("datetime64[ns]")
    return frame


def deal_tables(deals: list[DealIn]) -> dict[str, pd.DataFrame]:
    """Opportunities, stage history, activities, leads and close-date changes of the request's deals."""
    opps, history, acts, leads, changes = [], [], [], [], []
    for deal in deals:
        oid = deal.opportunity_id
        lead_id = deal.lead.lead_id if deal.lead else None
        opps.append({"opportunity_id": oid, "account_id": deal.account_id, "lead_id": lead_id,
                     "owner_id": deal.owner_id, "product": deal.product, "business_type": deal.business_type,
                     "created_at": deal.created_at, "stage": deal.stage, "outcome": "open", "amount": deal.amount,
                     "currency": "EUR", "expected_close_date": deal.expected_close_date, "closed_at": None})
        entries = deal.stage_history or []
        history += [{"stage_event_id": f"{oid}-{i}", "opportunity_id": oid, "stage": e.stage,
                     "entered_at": e.entered_at} for i, e in enumerate(entries)]
        acts += [{"activity_id": f"{oid}-{i}", "opportunity_id": oid, "owner_id": deal.owner_id,
                  "activity_type": a.activity_type, "occurred_at": a.occurred_at, "logged": a.logged}
                 for i, a in enumerate(deal.activities)]
        if deal.lead:
            leads.append({"lead_id": deal.lead.lead_id, "source": deal.lead.source,
                          "created_at": deal.lead.created_at, "first_response_at": deal.lead.first_response_at,
                          "converted": True})
        changes += [{"change_id": f"{oid}-{i}", "opportunity_id": oid, "changed_at": c.changed_at,
                     "old_expected_close_date": c.old_expected_close_date,
                     "new_expected_close_date": c.new_expected_close_date}
                    for i, c in enumerate(deal.close_date_changes)]
    return {
        "opportunities": _frame(opps, OPPORTUNITIES),
        "stage_history": _table(history, STAGE_HISTORY),
        "activities": _table(acts, ACTIVITIES),
        "leads": _table(leads, LEADS),
        "close_date_changes": _table(changes, CLOSE_DATE_CHANGES),
    }


def client_tables(clients: list[ClientIn]) -> dict[str, pd.DataFrame]:
    """Accounts, transactions, chats, messages (with their account), deals and jobs of the request's clients."""
    accounts, tx, chats, messages, opps, jobs = [], [], [], [], [], []
    for client in clients:
        aid = client.account_id
        accounts.append({"account_id": aid, "industry": client.industry, "tier": client.tier, "region": client.region})
        tx += [{**t.model_dump(), "transaction_id": t.transaction_id or f"{aid}-{i}", "account_id": aid}
               for i, t in enumerate(client.transactions)]
        chats += [{"chat_id": f"{aid}-{i}", "account_id": aid, **c.model_dump()} for i, c in enumerate(client.chats)]
        messages += [{"message_id": f"{aid}-{i}", **m.model_dump()} for i, m in enumerate(client.messages)]
        opps += [{"account_id": aid, **d.model_dump()} for d in client.deals]
        jobs += [{"job_id": f"{aid}-{i}", "account_id": aid, **j.model_dump()} for i, j in enumerate(client.jobs)]
    message_table = _table(messages, MESSAGES)
    message_table["account_id"] = [c.account_id for c in clients for _ in c.messages]
    return {"accounts": _frame(accounts, ACCOUNTS), "transactions": _table(tx, TRANSACTIONS),
            "chats": _table(chats, CHATS), "messages": message_table, "opportunities": _table(opps, OPPORTUNITIES),
            "jobs": _table(jobs, JOBS)}


def _table(rows: list[dict], spec: TableSpec) -> pd.DataFrame:
    return _frame(rows, spec) if rows else _empty(spec)


EMPTY_DTYPES = {"datetime": "datetime64[ns]", "float": "float64", "int": "Int64", "bool": bool}


def _empty(spec: TableSpec) -> pd.DataFrame:
    """No rows, typed as read from Parquet, so aggregates over it keep numeric dtypes."""
    return pd.DataFrame({c.name: pd.Series(dtype=EMPTY_DTYPES.get(c.kind, object)) for c in spec.columns})
