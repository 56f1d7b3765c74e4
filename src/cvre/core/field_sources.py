"""Where each deal behaviour comes from: raw events where the export has them, else the CRM's own
observed field, else nowhere (the feature is absent). One definition, read by the deal features, the
feature manifest, `cvre import --check` and docs/mappings.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

EVENTS, OBSERVED, ABSENT = "events", "observed", "absent"


@dataclass(frozen=True)
class Behaviour:
    """A deal behaviour: the features it sets, the event fields that compute it, the observed field standing in."""

    features: tuple[str, ...]
    events: tuple[str, ...]  # "table" or "table.column", all needed
    observed: str | None  # "table.column"
    describe: str


BEHAVIOURS: dict[str, Behaviour] = {
    "stalled": Behaviour(("days_in_stage", "stalled", "current_stage", "max_days_in_stage"),
                         ("stage_history",), "opportunities.days_in_stage", "days in the current stage"),
    "stage_moves": Behaviour(("stage_moves", "stage_velocity"), ("stage_history",), "opportunities.stage_moves",
                             "stage moves"),
    "backward_moves": Behaviour(("backward_moves",), ("stage_history",), "opportunities.backward_moves",
                                "backward stage moves"),
    "stage_jump": Behaviour(("moves_without_activity", "stage_skips"), ("stage_history", "activities"),
                            "opportunities.stage_jump", "stage moves without logged evidence"),
    "slow_response": Behaviour(("lead_response_hours", "slow_lead_response", "lead_unanswered"),
                               ("leads.first_response_at",), "leads.first_response_hours", "lead response time"),
    "no_activity": Behaviour(("activities_total", "no_activity", "logged_share", "days_since_last_activity"),
                             ("activities",), None, "logged activity"),
    "overdue_close_date": Behaviour(("close_date_overdue", "days_to_expected_close", "close_date_pushes"),
                                    ("opportunities.expected_close_date",), None, "expected close date"),
    "crm_probability": Behaviour((), (), "opportunities.crm_win_probability",
                                 "the CRM's own win probability (a leakage probability source, never a model input: "
                                 "it is set to 100%/0% at the close)"),
}


def has_field(tables: dict[str, pd.DataFrame], field: str) -> bool:
    """A table, or a table's column with at least one known value."""
    table, _, column = field.partition(".")
    frame = tables.get(table)
    if frame is None:
        return False
    return not column or (column in frame.columns and bool(frame[column].notna().any()))


def behaviour_sources(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Per behaviour: 'events', 'observed' or 'absent' for these canonical tables."""
    return behaviour_sources_for(lambda field: has_field(tables, field))


def behaviour_sources_for(has: Callable[[str], bool]) -> dict[str, str]:
    """Per behaviour: 'events', 'observed' or 'absent', given which fields exist (data, or a mapping)."""
    out = {}
    for name, b in BEHAVIOURS.items():
        if b.events and all(has(f) for f in b.events):
            out[name] = EVENTS
        elif b.observed and has(b.observed):
            out[name] = OBSERVED
        else:
            out[name] = ABSENT
    return out


def feature_sources(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Per deal feature: the source it was built from (for the feature manifest)."""
    sources = behaviour_sources(tables)
    return {feature: sources[name] for name, b in BEHAVIOURS.items() for feature in b.features}


def source_line(name: str, source: str) -> str:
    """'stalled from days_in_stage (observed)' / 'stage_jump from stage_history + activities (events)'."""
    b = BEHAVIOURS[name]
    if source == EVENTS:
        return f"{name} from {' + '.join(b.events)} (events)"
    if source == OBSERVED:
        return f"{name} from {b.observed} (observed field)"
    fields = " or ".join(x for x in (" + ".join(b.events), b.observed) if x)
    return f"{name}: absent (needs {fields})"


# Deal features outside the behaviours above, by name pattern: the mapping fields they are built from.
FEATURE_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("has_lead", ("opportunities.lead_id", "tables.leads")), ("lead_source", ("leads.source",)),
    ("has_stage_history", ("tables.stage_history",)), ("activities_*", ("tables.activities",)),
    ("*_7d", ("tables.activities",)), ("*_30d", ("tables.activities",)), ("*_90d", ("tables.activities",)),
    ("longest_gap_days", ("tables.activities",)), ("expected_close_missing", ("opportunities.expected_close_date",)),
    ("account_contacts", ("tables.contacts",)), ("account_known", ("tables.accounts",)),
    ("account_*", ("opportunities.account_id", "opportunities.closed_at")),
    ("owner_*", ("opportunities.owner_id", "opportunities.closed_at")), ("list_price", ("products.list_price",)),
    ("amount*", ("opportunities.amount",)), ("product", ("opportunities.product",)),
    ("business_type", ("opportunities.business_type",)),
    *((c, (f"accounts.{c}",)) for c in ("employees", "industry", "tier", "region", "country")),
)


def supplying_fields(features: list[str]) -> list[str]:
    """The mapping fields (`table.column`, or `tables.<table>` for a whole table) that would supply `features`."""
    from fnmatch import fnmatch

    out: dict[str, None] = {}
    for feature in features:
        behaviour = next((b for b in BEHAVIOURS.values() if feature in b.features), None)
        if behaviour is not None:
            fields = tuple(f if "." in f else f"tables.{f}" for f in behaviour.events) + \
                ((behaviour.observed,) if behaviour.observed else ())
        else:
            fields = next((f for pattern, f in FEATURE_FIELDS if fnmatch(feature, pattern)), (feature,))
        out |= dict.fromkeys(fields)
    return list(out)
