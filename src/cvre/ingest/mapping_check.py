"""Check a parsed mapping against the canonical schema, so mistakes fail before any row is read.

Every canonical column of a mapped table must be accounted for exactly once: read from a source
column, set as a constant, derived, or declared absent. That keeps `absent_fields` complete.
"""

from __future__ import annotations

from pathlib import Path

from cvre.core.config import ConfigError, load_config
from cvre.core.schema import OUTCOMES, TABLES, TableSpec
from cvre.ingest.labels import normalise_label
from cvre.ingest.mapping import DeriveRule, ImportMapping, TableMapping

CURRENCY_COLUMN = "currency"
STAGE_COLUMN = "stage"
EURO = "EUR"


def load_mapping(path: Path) -> ImportMapping:
    """Read and check a mapping file; any problem is a ConfigError naming the file and key."""
    mapping = load_config(ImportMapping, Path(path), default_name="mappings")
    check_mapping(mapping, Path(path))
    return mapping


def check_mapping(mapping: ImportMapping, path: Path) -> None:
    """Raise one ConfigError listing every problem as `key.path: what is wrong`."""
    problems: list[str] = []
    for name, table in mapping.tables.items():
        if name not in TABLES:
            problems.append(f"tables.{name}: not a canonical table (known: {', '.join(TABLES)})")
            continue
        problems += [f"tables.{name}.{p}" for p in table_problems(table, TABLES[name])]
    for name in mapping.absent_tables:
        if name not in TABLES:
            problems.append(f"absent_tables: {name!r} is not a canonical table")
        elif name in mapping.tables:
            problems.append(f"absent_tables: {name!r} is also mapped under tables")
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"{path}: mapping does not fit the canonical schema\n{lines}")


def table_problems(table: TableMapping, spec: TableSpec) -> list[str]:
    known = set(spec.column_names)
    problems = _unknown_columns(table, spec, known)
    problems += _accounting_problems(table, spec)
    problems += _derive_problems(table, spec)
    problems += _constant_problems(table, spec)
    problems += _extra_problems(table, known)
    if table.format in ("parquet", "excel") and table.names:
        problems.append("names: only for csv/whitespace files without a header row")
    return problems


def _unknown_columns(table: TableMapping, spec: TableSpec, known: set[str]) -> list[str]:
    sections = {
        "columns": table.columns,
        "values": table.values,
        "constants": table.constants,
        "derive": table.derive,
        "absent": table.absent,
        "allow_missing": table.allow_missing,
    }
    problems = [
        f"{section}.{col}: {spec.name!r} has no column {col!r} (columns: {', '.join(known)})"
        for section, cols in sections.items()
        for col in cols
        if col not in known
    ]
    date_targets = {c.name for c in spec.columns if c.kind == "datetime"}
    date_targets |= {n for n, x in table.extra_columns.items() if x.kind == "datetime"}
    problems += [
        f"date_formats.{col}: not a date column of {spec.name!r} or a datetime extra column"
        for col in table.date_formats
        if col not in date_targets
    ]
    problems += [
        f"values.{col}: values apply to columns read from the source; map {col!r} under columns"
        for col in table.values
        if col in known and col not in table.columns
    ]
    if table.currency_to_eur:
        problems += [
            f"currency_to_eur.columns: {col!r} is not a number column of {spec.name!r}"
            for col in table.currency_to_eur.columns
            if col not in known or spec.column(col).kind not in ("float", "int")
        ]
    return problems


def _accounting_problems(table: TableMapping, spec: TableSpec) -> list[str]:
    sources: dict[str, list[str]] = {c: [] for c in spec.column_names}
    for section in ("columns", "constants", "derive", "absent"):
        for col in getattr(table, section):
            sources.get(col, []).append(section)
    converts_currency = table.currency_to_eur is not None and CURRENCY_COLUMN in sources
    if converts_currency:
        sources[CURRENCY_COLUMN].append("currency_to_eur")
    problems = [
        f"{col}: given in {' and '.join(found)}; use exactly one"
        + (f" (currency_to_eur sets it to {EURO})" if "currency_to_eur" in found else "")
        for col, found in sources.items()
        if len(found) > 1
    ]
    observed = set(spec.observed_columns)  # CRM-reported fields: optional, implicitly absent when unmapped
    unaccounted = [col for col, found in sources.items() if not found and col not in observed]
    if unaccounted:
        problems.append(
            "columns: canonical columns neither mapped nor declared absent: "
            f"{', '.join(unaccounted)} (map them under columns/constants/derive or list them "
            "under absent)"
        )
    for col in (spec.key, *table.allow_missing):
        if col in table.absent:
            why = "the key cannot be absent" if col == spec.key else "it cannot also be absent"
            problems.append(f"absent.{col}: {why}")
    if spec.key in table.allow_missing:
        problems.append(f"allow_missing.{spec.key}: the key cannot be missing")
    required = set(spec.required_columns)
    problems += [
        f"allow_missing.{col}: {col!r} is not required, so missing values are already allowed"
        for col in table.allow_missing
        if col in spec.column_names and col not in required
    ]
    return problems


def _derive_problems(table: TableMapping, spec: TableSpec) -> list[str]:
    has_stage = STAGE_COLUMN in table.columns or STAGE_COLUMN in table.constants
    problems = []
    for target, rule in table.derive.items():
        if target not in spec.column_names:
            continue
        problem = _derive_problem(rule, spec.column(target).kind, has_stage, spec, target)
        if problem:
            problems.append(f"derive.{target}: {problem}")
    return problems


def _derive_problem(rule: DeriveRule, kind: str, has_stage: bool, spec: TableSpec, target: str) -> str | None:
    if rule.rule == "row_number" and kind not in ("id", "str"):
        return "row_number makes ids; the target must be an id column"
    if rule.rule == "outcome_from_stage":
        if spec.column(target).allowed != OUTCOMES:
            return f"outcome_from_stage fills a column with values {OUTCOMES}"
        if not has_stage:
            return "outcome_from_stage needs `stage` mapped under columns"
    if rule.rule in ("date_when_closed", "date_when_open"):
        if kind != "datetime":
            return f"{rule.rule} fills a date column"
        if not has_stage:
            return f"{rule.rule} needs `stage` mapped under columns"
    if rule.rule == "product" and kind not in ("float", "int"):
        return "product fills a number column"
    if rule.rule == "percent" and kind != "float":
        return "percent fills a number column (0-100 in the source -> 0-1)"
    if rule.rule == "exists_in" and kind != "bool":
        return "exists_in fills a yes/no column"
    if rule.rule == "timestamp_plus_duration":
        if kind != "datetime":
            return "timestamp_plus_duration fills a date column"
        if rule.start not in spec.column_names or spec.column(rule.start).kind != "datetime":
            return f"start: {rule.start!r} is not a date column of {spec.name!r}"
    return None


def _constant_problems(table: TableMapping, spec: TableSpec) -> list[str]:
    problems = []
    for col, value in table.constants.items():
        if col not in spec.column_names:
            continue
        column = spec.column(col)
        allowed = {normalise_label(a) for a in column.allowed or ()}
        if allowed and normalise_label(str(value)) not in allowed:
            problems.append(f"constants.{col}: {value!r} is not one of {column.allowed}")
        if column.kind in ("float", "int") and isinstance(value, str | bool):
            problems.append(f"constants.{col}: expected a number, got {value!r}")
        if column.kind == "bool" and not isinstance(value, bool):
            problems.append(f"constants.{col}: expected true or false, got {value!r}")
    return problems


def _extra_problems(table: TableMapping, known: set[str]) -> list[str]:
    return [
        f"extra_columns.{name}: extra column names start with 'x_' (e.g. 'x_{name}')"
        for name in table.extra_columns
        if not name.startswith("x_") or name in known
    ]
