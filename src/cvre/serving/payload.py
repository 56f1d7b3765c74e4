"""Turn API clients into canonical tables, so client scoring reuses the training feature code unchanged (deals go
through `features.request`, row by row)."""

from __future__ import annotations

import pandas as pd

from cvre.core.schema import (
    ACCOUNTS,
    CHATS,
    JOBS,
    MESSAGES,
    OPPORTUNITIES,
    TRANSACTIONS,
    TableSpec,
)
from cvre.serving.schemas import ClientIn


def _frame(rows: list[dict], spec: TableSpec) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[c for c in spec.column_names if not rows or c in rows[0]])
    for col in spec.columns:
        if col.name in frame.columns and col.kind == "datetime":
            frame[col.name] = pd.to_datetime(frame[col.name]).astype("datetime64[ns]")
        elif col.name in frame.columns and col.kind in ("float", "int"):  # a field no row gave: numbers, not None
            frame[col.name] = pd.to_numeric(frame[col.name], errors="coerce").astype(EMPTY_DTYPES[col.kind])
    return frame


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
