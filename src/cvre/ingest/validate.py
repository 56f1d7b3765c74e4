"""Row rules from the canonical schema, vectorised: required, minimum, date order, keys, references.

Each rule returns Findings; a cell already flagged while parsing is not reported again (an
unparseable amount is "not a number", not also "required value missing").
"""

from __future__ import annotations

import pandas as pd

from cvre.core.schema import TableSpec
from cvre.ingest.findings import Finding, finding, quoted, quoted_where
from cvre.ingest.mapping import TableMapping

CONTROL_CHARACTERS = r"[\x00-\x1f\x7f]"


def validate_table(
    frame: pd.DataFrame,
    rows: pd.Series,
    spec: TableSpec,
    table: TableMapping,
    flagged: dict[str, pd.Series],
    known_keys: dict[str, pd.Series],
) -> list[Finding]:
    """All rule findings for one table; `known_keys`: accepted keys of tables imported before."""
    clear = {c: ~flagged[c] if c in flagged else True for c in frame.columns}
    return (
        required_findings(frame, spec, table, clear)
        + minimum_findings(frame, spec)
        + date_order_findings(frame, spec)
        + duplicate_key_findings(frame, rows, spec)
        + reference_findings(frame, spec, known_keys, clear)
        + bounds_findings(frame, spec, table)
        + id_findings(frame, spec)
    )


def required_findings(frame: pd.DataFrame, spec: TableSpec, table: TableMapping, clear: dict) -> list[Finding]:
    findings: list[Finding] = []
    for column in spec.required_columns:
        if column in table.absent or column in table.allow_missing or column not in frame:
            continue
        source = table.columns.get(column)
        detail = f"(source column {source!r})" if source else ""
        missing = frame[column].isna() & clear[column]
        findings += finding(column, "required value missing", missing, detail)
    return findings


def minimum_findings(frame: pd.DataFrame, spec: TableSpec) -> list[Finding]:
    findings: list[Finding] = []
    for col in spec.columns:
        if col.minimum is None or col.name not in frame:
            continue
        values = frame[col.name]
        problem = "negative value" if col.minimum == 0 else f"below minimum {col.minimum:g}"
        findings += finding(col.name, problem, values < col.minimum, quoted_where(values, quote=False))
    for col in spec.columns:
        if col.maximum is not None and col.name in frame:
            values = frame[col.name]
            findings += finding(col.name, f"above maximum {col.maximum:g}", values > col.maximum,
                                quoted_where(values, quote=False))
    return findings


def bounds_findings(frame: pd.DataFrame, spec: TableSpec, table: TableMapping) -> list[Finding]:
    """Dates and numbers outside the mapping's `bounds` (a typo, a placeholder like 9999-12-31, an overflow)."""
    bounds = table.bounds
    low, high = pd.Timestamp(bounds.earliest_date), pd.Timestamp(bounds.latest_date)
    findings: list[Finding] = []
    for col in spec.columns:
        if col.name not in frame:
            continue
        values = frame[col.name]
        if col.kind == "datetime":
            outside = (values < low) | (values > high)
            detail = quoted_where(values, f" (dates from {low:%Y-%m-%d} to {high:%Y-%m-%d} are accepted: `bounds` "
                                  "in the mapping; a placeholder for 'no date' belongs in missing_values)")
            findings += finding(col.name, "date out of range", outside, detail)
        elif col.kind in ("float", "int"):
            outside = values.abs() > bounds.max_abs_number
            suffix = f" (beyond +/-{bounds.max_abs_number:g}: `bounds` in the mapping)"
            findings += finding(col.name, "number out of range", outside, quoted_where(values, suffix, quote=False))
    return findings


def id_findings(frame: pd.DataFrame, spec: TableSpec) -> list[Finding]:
    """Ids with a line break or another control character: they break every file and log they are written to."""
    findings: list[Finding] = []
    for col in spec.columns:
        if col.kind == "id" and col.name in frame:
            values = frame[col.name].astype("string")
            bad = values.str.contains(CONTROL_CHARACTERS, regex=True)
            findings += finding(col.name, "control character in an id", bad, quoted_where(
                values, " (a line break or tab inside the id; fix it in the CRM)",
                shown=lambda picked: picked.str.replace(CONTROL_CHARACTERS, "?", regex=True)))
    return findings


def date_order_findings(frame: pd.DataFrame, spec: TableSpec) -> list[Finding]:
    findings: list[Finding] = []
    for earlier, later in spec.date_order:
        if earlier not in frame or later not in frame:
            continue
        wrong = frame[later] < frame[earlier]
        findings += finding(later, f"before {earlier}", wrong, lambda m, a=frame[earlier], b=frame[later]: (
            "(" + b[m].astype("string") + " < " + a[m].astype("string") + ")"))
    return findings


def duplicate_key_findings(frame: pd.DataFrame, rows: pd.Series, spec: TableSpec) -> list[Finding]:
    keys = frame[spec.key]
    repeated = keys.notna() & keys.duplicated(keep="first")
    if not repeated.any():
        return []
    first_row = rows.groupby(keys).transform("first")
    detail = quoted(keys) + " (first on row " + first_row.astype("string") + ")"
    return finding(spec.key, "duplicate key", repeated, detail)


def reference_findings(
    frame: pd.DataFrame, spec: TableSpec, known_keys: dict[str, pd.Series], clear: dict
) -> list[Finding]:
    findings: list[Finding] = []
    for col in spec.columns:
        if not col.references or col.name not in frame:
            continue
        target = col.references.split(".")[0]
        if target not in known_keys:
            continue  # the referenced table is not part of this import: nothing to check against
        values = frame[col.name]
        unknown = values.notna() & ~values.isin(known_keys[target]) & clear[col.name]
        findings += finding(col.name, "unknown reference", unknown, quoted_where(values, f" to {target}"))
    return findings


def table_notes(frame: pd.DataFrame, spec: TableSpec, table: TableMapping) -> dict[str, int]:
    """Counts worth knowing that are not rejections: kept negatives, allowed missing values."""
    notes: dict[str, int] = {}
    for col in spec.columns:
        if col.kind in ("float", "int") and col.minimum is None and col.name in frame:
            negative = int((frame[col.name] < 0).sum())
            if negative:
                notes[f"{col.name}: negative values kept (e.g. returns, cancellations)"] = negative
    for column in table.allow_missing:
        if column in frame:
            missing = int(frame[column].isna().sum())
            if missing:
                notes[f"{column}: missing, allowed by the mapping (allow_missing)"] = missing
    return notes
