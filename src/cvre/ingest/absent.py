"""What an export lacks, and which feature groups therefore get skipped (never invented)."""

from __future__ import annotations

from cvre.ingest.mapping import ImportMapping

# Keys: "table", "table.column" or a bare column name (matches that column in any table).
FEATURE_GROUPS: dict[str, str] = {
    "activities": "activity features (touch counts, logging rate, days since last activity)",
    "stage_history": "stage velocity features (days in stage, stage regressions)",
    "close_date_changes": "close-date push features",
    "leads": "lead features (lead source, response time)",
    "leads.created_at": "lead age and lead response features",
    "leads.first_response_at": "lead response features (time to first response)",
    "leads.source": "lead source features",
    "leads.converted": "lead conversion labels",
    "opportunities.created_at": "deal age and sales-cycle features",
    "opportunities.expected_close_date": "close-date slip features",
    "opportunities.lead_id": "lead-to-deal features",
    "opportunities.business_type": "new vs repeat business features",
    "amount": "amount features (deal size, revenue at risk in euros)",
    "owner_id": "rep features (owner workload, rep history)",
    "account_id": "account features (account history, firmographics)",
    "reps": "rep and team features",
    "accounts": "account firmographic features",
    "contacts": "contact coverage features",
    "products": "product and list-price features",
    "transactions": "RFM, repeat-business and lifetime-value features",
    "campaigns": "campaign features",
    "messages": "campaign response features",
    "chats": "support chat features",
    "jobs": "back-office job features",
    "support_messages": "support reply times, agent sign-offs and message topics (cvre engagement)",
    "support_messages.chat_id": "messages grouped into chats (replies still pair through in_reply_to)",
    "ticket_events": "service-desk time to resolve, resolver volume and SLA share (cvre engagement)",
    "ab_units": "randomised-test arm comparisons (cvre engagement)",
}


def absent_fields(mapping: ImportMapping) -> list[str]:
    """Whole tables and `table.column` fields the mapping declares absent, in mapping order."""
    fields = list(mapping.absent_tables)
    for name, table in mapping.tables.items():
        fields += [f"{name}.{column}" for column in table.absent]
    return fields


def absent_field_warnings(absent: list[str]) -> list[str]:
    """One line per absent field naming the feature group skipped because of it."""
    warnings = []
    for field in absent:
        _, _, column = field.partition(".")
        group = FEATURE_GROUPS.get(field) or (column and FEATURE_GROUPS.get(column))
        if not group:
            group = f"features that need {field}"
        warnings.append(f"{field} absent: {group} skipped")
    return list(dict.fromkeys(warnings))
