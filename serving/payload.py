"""Turn API deals into canonical tables, so scoring reuses the training feature code unchanged."""

from __future__ import annotations

import pandas as pd

from core.schema import ACTIVITIES, CLOSE_DATE_CHANGES, LEADS, OPPORTUNITIES, STAGE_HISTORY, TableSpec
from serving.schemas import DealIn


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
        "stage_history": _frame(history, STAGE_HISTORY) if history else _empty(STAGE_HISTORY),
        "activities": _frame(acts, ACTIVITIES) if acts else _empty(ACTIVITIES),
        "leads": _frame(leads, LEADS) if leads else _empty(LEADS),
        "close_date_changes": _frame(changes, CLOSE_DATE_CHANGES) if changes else _empty(CLOSE_DATE_CHANGES),
    }


def _empty(spec: TableSpec) -> pd.DataFrame:
    frame = pd.DataFrame({c.name: pd.Series(dtype="datetime64[ns]" if c.kind == "datetime" else object)
                          for c in spec.columns})
    if "logged" in frame.columns:
        frame["logged"] = frame["logged"].astype(bool)
    return frame
