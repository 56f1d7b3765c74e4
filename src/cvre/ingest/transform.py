"""Apply a table mapping to source cells: rename, map values, set constants, derive, parse types.

The result is a frame of canonical columns (plus `x_` extra columns) in canonical dtypes, and the
findings for cells that could not be parsed. Nothing here drops a row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cvre.core.schema import STAGES_CLOSED, TableSpec
from cvre.ingest.coerce import parse_column, parse_date, parse_number
from cvre.ingest.findings import Finding
from cvre.ingest.labels import normalise_label, normalise_labels
from cvre.ingest.mapping import DeriveRule, TableMapping
from cvre.ingest.mapping_check import CURRENCY_COLUMN, EURO, STAGE_COLUMN

WON, LOST = STAGES_CLOSED


@dataclass(frozen=True)
class BuiltTable:
    frame: pd.DataFrame
    findings: list[Finding]
    notes: dict[str, int]


def clean_cells(cells: pd.DataFrame, missing_values: list[str]) -> pd.DataFrame:
    """Stripped text; empty cells and the mapping's placeholders (e.g. 'Select') become NA."""
    placeholders = ["", *missing_values]
    stripped = cells.astype("string").apply(lambda col: col.str.strip())
    return stripped.mask(stripped.isin(placeholders))


def map_values(text: pd.Series, table: dict[str, object]) -> pd.Series:
    """Replace source labels by canonical ones, matching case- and spacing-insensitively."""
    lookup = {normalise_label(str(k)): str(v) for k, v in table.items()}
    mapped = normalise_labels(text).map(lookup)
    return mapped.astype("string").fillna(text)


def build_table(cells: pd.DataFrame, rows: pd.Series, table: TableMapping, spec: TableSpec,
                lookups: dict[str, pd.Series] | None = None) -> BuiltTable:
    """Canonical frame for one table from its source cells and 1-based source row numbers.

    `lookups`: for each `exists_in` column, the keys found in the other file (`ingest.run` reads them).
    """
    clean = clean_cells(cells[table.source_columns], table.missing_values)
    out = pd.DataFrame(index=cells.index)
    findings: list[Finding] = []
    notes: dict[str, int] = {}
    for column, source in table.columns.items():
        text = clean[source]
        if column in table.values:
            text = map_values(text, table.values[column])
        out[column], found = _parse_canonical(text, column, table, spec)
        findings += found
    for column, value in table.constants.items():
        constant = pd.Series(_constant_text(value), index=out.index, dtype="string")
        out[column], found = _parse_canonical(constant, column, table, spec)
        findings += found
    for column, rule in table.derive.items():
        out[column], found = derive_column(rule, column, clean, rows, out, table, (lookups or {}).get(column))
        findings += found
    if table.currency_to_eur:
        for column in table.currency_to_eur.columns:
            out[column] = out[column] * table.currency_to_eur.rate_to_eur
        if CURRENCY_COLUMN in spec.column_names:
            out[CURRENCY_COLUMN] = pd.Series(EURO, index=out.index, dtype="string")
        notes[f"converted to EUR at {table.currency_to_eur.rate_to_eur:g}"] = len(out)
    for name, extra in table.extra_columns.items():
        out[name], found = parse_column(
            clean[extra.source],
            name,
            extra.kind,
            None,
            table.date_formats.get(name),
            table.number_format,
        )
        findings += found
    return BuiltTable(out, findings, notes)


def derive_column(
    rule: DeriveRule,
    column: str,
    clean: pd.DataFrame,
    rows: pd.Series,
    out: pd.DataFrame,
    table: TableMapping,
    other_keys: pd.Series | None = None,
) -> tuple[pd.Series, list[Finding]]:
    """One derived canonical column; see docs/mappings.md for what each rule means."""
    if rule.rule == "row_number":
        return rows.astype("string"), []
    if rule.rule == "outcome_from_stage":
        return outcome_from_stage(out[STAGE_COLUMN]), []
    if rule.rule in ("date_when_closed", "date_when_open"):
        closed = out[STAGE_COLUMN].isin(STAGES_CLOSED).fillna(False)
        keep = closed if rule.rule == "date_when_closed" else out[STAGE_COLUMN].notna() & ~closed
        stamps, found = parse_date(clean[rule.source], column, table.date_formats.get(column))
        found = [Finding(f.column, f.problem, f.mask & keep, f.detail) for f in found]
        return stamps.where(keep), [f for f in found if f.mask.any()]
    if rule.rule == "product":
        result = pd.Series(1.0, index=clean.index)
        findings: list[Finding] = []
        for source in rule.sources:
            number, found = parse_number(clean[source], source, "float", table.number_format)
            result = result * number
            findings += found
        return result, findings
    if rule.rule == "percent":
        number, found = parse_number(clean[rule.source], column, "float", table.number_format)
        return number / 100.0, found
    if rule.rule == "timestamp_plus_duration":
        amount, found = parse_number(clean[rule.source], column, "float", table.number_format)
        return timestamp_plus_duration(out[rule.start], amount, rule.unit), found
    if rule.rule == "exists_in":
        keys = clean[rule.source]
        known = set() if other_keys is None else set(other_keys.dropna().astype(str).str.strip())
        return keys.isin(known).astype("boolean").where(keys.notna()), []
    raise ValueError(f"unknown derive rule {rule.rule!r}")


def timestamp_plus_duration(start: pd.Series, amount: pd.Series, unit: str) -> pd.Series:
    """`start` + `amount` `unit`s (e.g. a lead's creation + its response hours); missing where either is."""
    return (start + pd.to_timedelta(amount.astype("float64"), unit=unit)).astype("datetime64[ns]")


def outcome_from_stage(stage: pd.Series) -> pd.Series:
    """closed_won -> won, closed_lost -> lost, any other known stage -> open, unknown -> NA."""
    labels = np.select([stage.eq(WON).fillna(False), stage.eq(LOST).fillna(False)], ["won", "lost"], default="open")
    return pd.Series(labels, index=stage.index, dtype="string").where(stage.notna())


def _parse_canonical(
    text: pd.Series, column: str, table: TableMapping, spec: TableSpec
) -> tuple[pd.Series, list[Finding]]:
    col = spec.column(column)
    return parse_column(text, column, col.kind, col.allowed, table.date_formats.get(column), table.number_format)


def _constant_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
