"""Which canonical table and column each header of an export names, for `cvre import --draft`."""

from __future__ import annotations

import re

from cvre.core.schema import TABLES, TableSpec
from cvre.ingest.draft_sample import Sample

# Common spellings of canonical columns, compared after `_norm` (lower case, letters and digits only).
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "opportunities": {
        "opportunity_id": ("opportunityid", "oppid", "dealid", "recordid", "id", "opportunity", "deal"),
        "account_id": ("accountid", "account", "accountname", "company", "companyname", "organization",
                       "organisation", "organizationname", "customer", "client"),
        "lead_id": ("leadid", "lead"),
        "owner_id": ("ownerid", "owner", "opportunityowner", "dealowner", "salesagent", "salesrep", "rep",
                     "assignedto", "user"),
        "product": ("productname", "item"),
        "business_type": ("type", "dealtype", "opportunitytype"),
        "created_at": ("createddate", "createdon", "createdate", "created", "dealcreated", "engagedate", "opendate",
                       "addtime"),
        "stage": ("stagename", "dealstage", "pipelinestage", "status"),
        "outcome": ("result", "wonlost"),
        "amount": ("dealvalue", "value", "dealamount", "amounteur", "opportunityamount", "expectedrevenue"),
        "currency": ("currencycode", "currencyisocode", "dealcurrency"),
        "expected_close_date": ("expectedclose", "expectedclosedate", "forecastclosedate", "expectedclosingdate"),
        "closed_at": ("closedate", "closeddate", "dateclosed", "closedon", "wontime", "closetime"),
        "days_in_stage": ("ageinstage", "stageage", "daysincurrentstage", "stageduration"),
        "crm_win_probability": ("probability", "winprobability", "probabilitypercent", "dealprobability"),
        "forecast_category": ("forecast", "forecastcategoryname"),
    },
    "accounts": {
        "account_id": ("accountid", "account", "companyid", "company", "customerid", "customer", "organization",
                       "clientid", "clientnum", "custid", "subscriberid", "accountnumber"),
        "account_name": ("name", "companyname", "organizationname", "customername"),
        "industry": ("sector", "vertical"),
        "employees": ("numberofemployees", "headcount", "employeecount", "companysize"),
        "country": ("billingcountry", "officelocation", "location"),
        "region": ("billingstate", "territory", "state"),
        "created_at": ("createddate", "createdon", "createdate", "signupdate", "customersince", "joindate"),
        "churned": ("churn", "churnflag", "churnlabel", "exited", "attrition", "attritionflag", "cancelled",
                    "canceled"),
    },
    "reps": {
        "rep_id": ("repid", "salesagent", "agent", "salesrep", "owner", "user", "username", "userid", "employee"),
        "rep_name": ("name", "fullname"),
        "team": ("regionaloffice", "office", "salesteam", "group"),
        "manager": ("managername", "supervisor"),
    },
    "products": {
        "product": ("productid", "productname", "name", "item", "sku"),
        "series": ("productline", "family", "productfamily", "category"),
        "list_price": ("listprice", "salesprice", "price", "unitprice"),
    },
    "contacts": {
        "contact_id": ("contactid", "personid", "id"),
        "account_id": ("accountid", "account", "accountname", "company", "companyname", "organization"),
        "full_name": ("name", "contactname", "fullname"),
        "email": ("emailaddress", "mail", "email1"),
        "phone": ("phonenumber", "mobile", "mobilephone", "telephone"),
        "seniority": ("level", "managementlevel"),
        "department": ("dept",),
        "created_at": ("createddate", "createdon", "createdate"),
    },
    "leads": {
        "lead_id": ("leadid", "leadnumber", "prospectid", "id"),
        "owner_id": ("ownerid", "owner", "leadowner", "assignedto"),
        "source": ("leadsource", "origin", "channel"),
        "created_at": ("createddate", "createdon", "createdate", "created"),
        "first_response_at": ("firstresponse", "firstresponsedate", "firstcontactdate", "firstactivitydate"),
        "first_response_hours": ("responsehours", "hourstofirstresponse", "firstresponsetimehours"),
        "converted": ("isconverted", "convertedflag"),
    },
    "activities": {
        "activity_id": ("activityid", "taskid", "eventid", "id"),
        "opportunity_id": ("opportunityid", "dealid", "opportunity", "deal", "relatedto", "whatid"),
        "owner_id": ("ownerid", "owner", "assignedto", "user"),
        "activity_type": ("type", "activitytype", "tasksubtype", "subtype"),
        "occurred_at": ("date", "activitydate", "duedate", "createddate", "occurredon", "timestamp"),
    },
    "stage_history": {
        "opportunity_id": ("opportunityid", "dealid", "opportunity", "deal"),
        "stage": ("stagename", "tostage", "newstage", "newvalue", "dealstage"),
        "entered_at": ("changedat", "createddate", "date", "changedate", "timestamp"),
    },
    "transactions": {
        "transaction_id": ("transactionid", "invoiceno", "invoice", "invoiceid", "orderid", "order"),
        "account_id": ("customerid", "customer", "clientid", "accountid", "account"),
        "occurred_at": ("invoicedate", "orderdate", "transactiondate", "date", "purchasedate"),
        "amount": ("total", "revenue", "sales", "value", "linetotal", "dollarvalue", "totalamount"),
        "quantity": ("qty", "units"),
        "business_category": ("category", "productcategory"),
    },
    "ticket_events": {
        "ticket_id": ("ticketid", "number", "ticketnumber", "incidentid", "incident", "incidentnumber", "caseid",
                      "casenumber", "ticket"),
        "state": ("incidentstate", "ticketstate", "status"),
        "updated_at": ("sysupdatedat", "updatedat", "lastupdated", "modifiedat", "updated"),
        "agent_id": ("assignedto", "assignee", "agent", "owner"),
        "team": ("assignmentgroup", "group", "queue"),
        "opened_at": ("openedat", "createdat", "created", "opened", "opendate"),
    },
    "support_messages": {
        "message_id": ("messageid", "tweetid", "postid", "id"),
        "chat_id": ("chatid", "conversationid", "threadid", "ticketid"),
        "in_reply_to": ("inreplyto", "inresponsetotweetid", "inresponseto", "replyto", "parentid"),
        "author_id": ("authorid", "author", "sender", "from", "user"),
        "inbound": ("isinbound", "fromcustomer", "incoming"),
        "created_at": ("createdat", "timestamp", "sentat", "date"),
        "text": ("body", "message", "content"),
    },
    "ab_units": {
        "unit_id": ("unitid", "customerid", "userid", "id"),
        "arm": ("segment", "variant", "group", "treatment", "bucket", "arm"),
        "visited": ("visit", "visits", "clicked", "opened"),
        "converted": ("conversion", "purchased", "ordered"),
        "revenue": ("spend", "sales", "amount"),
    },
}
LABELS = {"accounts": ("churned",)}  # a label column makes a file this table even without an id column
PRICE_SPELLINGS = ("unitprice", "price", "priceeach")  # transactions: amount = quantity x price when no total


def snake(name: str) -> str:
    """'Total day minutes' -> 'total_day_minutes': a source column's name as an x_ column's."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_") or "column"


def norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def match_columns(spec: TableSpec, headers: list[str]) -> dict[str, str]:
    """canonical column -> header, each header used once: the canonical name first, then each synonym in order."""
    by_norm = {}
    for header in headers:
        by_norm.setdefault(norm(header), header)
    synonyms = SYNONYMS.get(spec.name, {})
    found: dict[str, str] = {}
    for rank in range(1 + max((len(s) for s in synonyms.values()), default=0)):
        for column in spec.column_names:
            if column in found:
                continue
            names = (norm(column), *synonyms.get(column, ()))
            if rank < len(names) and names[rank] in by_norm and by_norm[names[rank]] not in found.values():
                found[column] = by_norm[names[rank]]
    return {column: found[column] for column in spec.column_names if column in found}


def _score(spec: TableSpec, matched: dict[str, str]) -> float:
    """How well a file's headers fit a table: matched columns, the key, required columns and a label (a
    per-customer export's churn flag) weighing more."""
    anchors = {spec.key, *spec.required_columns, *LABELS.get(spec.name, ())}
    if not matched or not (set(matched) & anchors):
        return 0.0
    return len(matched) + 2.0 * len(set(matched) & {spec.key, *LABELS.get(spec.name, ())}) + len(
        set(matched) & set(spec.required_columns))


def assign_tables(samples: list[Sample]) -> dict[str, tuple[Sample, dict[str, str]]]:
    """Each file to at most one table and each table to at most one file, best fits first."""
    fits = [(_score(spec, m), name, sample, m) for sample in samples for name, spec in TABLES.items()
            for m in [match_columns(spec, list(sample.cells.columns))]]
    chosen: dict[str, tuple[Sample, dict[str, str]]] = {}
    used: set[str] = set()
    for score, name, sample, matched in sorted(fits, key=lambda f: (-f[0], -len(f[2].cells), f[2].name, f[1])):
        if score >= 3 and name not in chosen and sample.name not in used:
            chosen[name] = (sample, matched)
            used.add(sample.name)
    return chosen
