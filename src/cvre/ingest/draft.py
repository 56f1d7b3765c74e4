"""A first mapping for an export nobody has mapped yet: `cvre import SOURCE --draft FILE`.

Each file of SOURCE is sampled and given the canonical table whose columns its headers name best, under their
canonical names or a common CRM spelling (SYNONYMS: Salesforce, HubSpot, Pipedrive, spreadsheets). Settings
the cells show (delimiter, encoding, date layouts, number format, stage labels, a close date that is the
expected one while a deal is open) are read off a sample; what the sample cannot tell is marked `# check`,
what it does not show at all `# TODO`. The user reviews the file, then runs `cvre import SOURCE -m FILE --check`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cvre.core.schema import TABLES, TableSpec
from cvre.ingest import draft_guess as guess
from cvre.ingest.coerce import NumberFormat
from cvre.ingest.draft_names import PRICE_SPELLINGS, assign_tables, norm, snake
from cvre.ingest.draft_sample import Sample, sample_file, source_files
from cvre.ingest.errors import ExportFormatError

ROW_NUMBER_KEYS = ("opportunities", "leads", "activities", "stage_history", "close_date_changes", "transactions",
                   "messages", "support_messages", "ticket_events", "ab_units")  # keys nothing else refers to by value
PROBABILITY_COLUMN = "crm_win_probability"
CHURN_LABEL = "churned"


@dataclass
class TableDraft:
    """One canonical table's guessed mapping, built up step by step, and what the user must look at."""

    table: str
    sample: Sample
    columns: dict[str, str]
    cells: pd.DataFrame = field(default_factory=pd.DataFrame)  # the sample's cells, placeholders emptied
    missing_values: list[str] = field(default_factory=list)
    numbers: NumberFormat = field(default_factory=NumberFormat)
    values: dict[str, dict[str, str | bool]] = field(default_factory=dict)  # labels: canonical, or yes/no
    constants: dict[str, str] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)
    derive: dict[str, str | dict] = field(default_factory=dict)
    allow_missing: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    required_missing: list[str] = field(default_factory=list)
    extras: dict[str, str | dict] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    todos: list[str] = field(default_factory=list)

    @property
    def spec(self) -> TableSpec:
        return TABLES[self.table]

    def source(self, column: str) -> pd.Series:
        """The sampled cells of the source column mapped to a canonical one."""
        return self.cells[self.columns[column]]

    def kind(self, column: str) -> str:
        return self.spec.column(column).kind

    @property
    def read_columns(self) -> set[str]:
        derived = (src for rule in self.derive.values() if isinstance(rule, dict)
                   for src in [rule.get("source"), *rule.get("sources", [])] if src)
        extras = (x if isinstance(x, str) else x["source"] for x in self.extras.values())
        return {*self.columns.values(), *extras, *derived}


@dataclass(frozen=True)
class Draft:
    text: str
    tables: dict[str, TableDraft]
    unmapped_files: list[str]

    @property
    def todos(self) -> list[str]:
        return [f"{t.table}: {todo}" for t in self.tables.values() for todo in t.todos]

    @property
    def checks(self) -> list[str]:
        return [f"{t.table}: {check}" for t in self.tables.values() for check in t.checks]


def draft_table(name: str, sample: Sample, matched: dict[str, str]) -> TableDraft:
    """One table's mapping, guessed step by step from its matched columns and their cells."""
    missing = guess.placeholders(sample.cells)
    cells = sample.cells.mask(sample.cells.isin(missing), "") if missing else sample.cells
    draft = TableDraft(name, sample, dict(matched), cells, missing)
    for step in (_number_format, _labels, _opportunity_rules, _keys, _derived_numbers, _dates, _missing_required,
                 _currency, _churn_label, _model_inputs, _absent):
        step(draft)
    return draft


def _number_format(draft: TableDraft) -> None:
    if draft.sample.format in ("excel", "parquet"):  # typed cells: numbers as the machine writes them
        return
    numeric = [draft.source(c) for c in draft.columns if draft.kind(c) in ("float", "int")]
    found = guess.number_format(pd.concat(numeric) if numeric else pd.Series(dtype="string"))
    draft.numbers = found.value
    if found.note:
        draft.checks.append(found.note)


def _labels(draft: TableDraft) -> None:
    for column in [c for c in draft.columns if draft.spec.column(c).allowed]:
        allowed = draft.spec.column(column).allowed
        known, unknown = guess.canonical_labels(draft.source(column), column, allowed)
        draft.values[column] = known
        if unknown:
            draft.todos.append(f"{column}: labels not recognised: {', '.join(map(repr, unknown[:10]))}; map each "
                               f"to one of {', '.join(allowed)} under values.{column}")


def _opportunity_rules(draft: TableDraft) -> None:
    """Outcome from the stage; a close date filled for open deals is the expected date while open."""
    columns, derive = draft.columns, draft.derive
    if draft.table != "opportunities" or "stage" not in columns:
        return
    if "outcome" not in columns:
        derive["outcome"] = "outcome_from_stage"
    close = columns.get("closed_at")
    if close and "expected_close_date" not in columns and guess.close_date_is_expected_while_open(
            draft.cells[close], draft.source("stage"), draft.values.get("stage", {})):
        del columns["closed_at"]
        derive["closed_at"] = {"rule": "date_when_closed", "source": close}
        derive["expected_close_date"] = {"rule": "date_when_open", "source": close}
        draft.checks.append(f"{close!r} is filled for most open deals: read as the expected close date while a "
                            "deal is open and the close date once it is closed")


def _per_customer(draft: TableDraft) -> bool:
    """A per-customer export: accounts with their own churn label (telecom, bank), the churn model's rows."""
    return draft.table == "accounts" and CHURN_LABEL in draft.columns


def _keys(draft: TableDraft) -> None:
    """Rows numbered where the table has no id column, or one that repeats (kept beside as an x_ column)."""
    key = draft.spec.key
    if draft.table not in ROW_NUMBER_KEYS and not _per_customer(draft):
        if key not in draft.columns:  # numbered so that the draft loads, but other tables cannot refer to them
            draft.derive[key] = "row_number"
            draft.todos.append(f"{key}: no id column found, so rows are numbered; other tables refer to "
                               f"{draft.table} by id: map the column that holds it")
        return
    if key in draft.columns and guess.filled(draft.source(key)).duplicated().any():
        source = draft.columns.pop(key)
        draft.extras[f"x_{snake(source)}"] = source
        draft.checks.append(f"{source!r} repeats across rows (e.g. an invoice's lines): {key} numbers the rows "
                            f"and {source!r} is kept as x_{snake(source)}")
    elif key not in draft.columns:
        draft.checks.append(f"no id column found: {key} numbers the rows")
    if key not in draft.columns:
        draft.derive[key] = "row_number"


def _derived_numbers(draft: TableDraft) -> None:
    """quantity x price for a transaction without a total; a probability written 0-100."""
    columns = draft.columns
    if draft.table == "transactions" and "amount" not in columns and "quantity" in columns:
        price = next((h for h in draft.cells.columns if norm(h) in PRICE_SPELLINGS), None)
        if price:
            draft.derive["amount"] = {"rule": "product", "sources": [columns["quantity"], price]}
    if PROBABILITY_COLUMN in columns and guess.is_percent(draft.source(PROBABILITY_COLUMN), draft.numbers):
        draft.derive[PROBABILITY_COLUMN] = {"rule": "percent", "source": columns.pop(PROBABILITY_COLUMN)}


def _dates(draft: TableDraft) -> None:
    sources = {c: src for c, src in draft.columns.items() if draft.kind(c) == "datetime"}
    sources |= {c: rule["source"] for c, rule in draft.derive.items()
                if isinstance(rule, dict) and rule["rule"].startswith("date_when")}
    for column, source in sources.items():
        found = guess.date_format(draft.cells[source])
        if found.value:
            draft.date_formats[column] = found.value
        if found.note and column in draft.columns:
            draft.checks.append(f"{column}: {found.note}")


def _missing_required(draft: TableDraft) -> None:
    """Required values empty in some rows: kept with allow_missing, except ids (rejected)."""
    for column in [c for c in draft.spec.required_columns if c in draft.columns]:
        empty = len(draft.cells) - guess.filled(draft.source(column)).size
        if not empty:
            continue
        if draft.kind(column) != "id":
            draft.allow_missing.append(column)
        kept = "allow_missing keeps those rows (remove it to reject them)" if column in draft.allow_missing else (
            "those rows are rejected: an id cannot be missing (quarantine/ keeps them)")
        draft.checks.append(f"{column}: empty in {empty:,} of {len(draft.cells):,} rows read; {kept}")


def _currency(draft: TableDraft) -> None:
    if "currency" not in draft.spec.column_names or "currency" in draft.columns:
        return
    if "amount" in {*draft.columns, *draft.derive}:
        named = guess.currency_of(draft.numbers)
        draft.constants["currency"] = named or "EUR"
        why = ", the currency their sign names" if named else ""
        draft.checks.append(f"currency: no currency column; amounts are taken as {named or 'EUR'}{why} (set "
                            "constants.currency, or currency_to_eur to convert)")


def _churn_label(draft: TableDraft) -> None:
    """A churn label written in words ("Attrited Customer" / "Existing Customer") read as yes/no."""
    if not _per_customer(draft):
        return
    known, unknown = guess.yes_no_labels(draft.source(CHURN_LABEL))
    if known:
        draft.values[CHURN_LABEL] = known
    if unknown:
        draft.todos.append(f"{CHURN_LABEL}: labels not read as yes or no: {', '.join(map(repr, unknown[:10]))}; "
                           f"map each to true or false under values.{CHURN_LABEL}")


def _model_inputs(draft: TableDraft) -> None:
    """A per-customer export's other columns are its churn model's inputs: each kept as a typed x_ column."""
    if not _per_customer(draft):
        return
    kept = []
    for header in [h for h in draft.cells.columns if h not in draft.read_columns]:
        kind = guess.column_kind(draft.cells[header], draft.numbers)
        if kind:
            name = f"x_{snake(header)}"
            name = next(f"{name}_{n}" for n in range(2, 10_000) if f"{name}_{n}" not in draft.extras) \
                if name in draft.extras else name  # "Calls #" and "Calls %": x_calls, x_calls_2
            draft.extras[name] = header if kind == "str" else {"source": header, "kind": kind}
            kept.append(header)
    if kept:
        draft.checks.append(f"{len(kept)} columns kept as churn model inputs (extra_columns): remove any known only "
                            "after the churn (a churn reason, a cancellation date, a final bill)")


def _absent(draft: TableDraft) -> None:
    """Every canonical column not accounted for is absent; a required one also gets a TODO."""
    spec, accounted = draft.spec, {*draft.columns, *draft.derive, *draft.constants}
    draft.required_missing = [c for c in spec.required_columns if c not in accounted]
    draft.todos += [f"{c}: required, and no column looks like it: listed as absent (`cvre import --check` says "
                    f"what that stops); map it under columns if the export has it" for c in draft.required_missing]
    draft.absent = [c for c in spec.column_names if c not in accounted and c not in spec.observed_columns]


_NOT_YAML = re.compile("[\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")  # characters YAML may not hold raw


def _q(value: object) -> str:
    """A JSON scalar or flow mapping, which YAML reads as the same value; accents kept, control characters
    escaped (a header mangled by a wrong encoding still round-trips)."""
    return _NOT_YAML.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))


def table_yaml(draft: TableDraft, folder: bool) -> list[str]:
    """The mapping lines of one table, in the order docs/mappings.md lists the keys."""
    sample, numbers = draft.sample, draft.numbers
    settings = {"file": _q(sample.path.name) if folder else None,
                "format": sample.format if sample.format != "csv" else None,
                "sheet": _q(sample.sheet) if sample.sheet else None,
                "skip_rows": f"{sample.skip_rows}   # the report's title lines above the header" if sample.skip_rows
                else None,
                "delimiter": _q(sample.delimiter) if sample.delimiter != "," else None,
                "encoding": _q(sample.encoding) if sample.encoding != "utf-8-sig" else None,
                "missing_values": f"[{', '.join(map(_q, draft.missing_values))}]" if draft.missing_values else None,
                "thousands": _q(guess.thousands_yaml(numbers)) if numbers.thousands else None,
                "decimal": _q(numbers.decimal) if numbers.decimal != "." else None,
                "strip_from_numbers": f"[{', '.join(map(_q, numbers.affixes))}]" if numbers.affixes else None}
    lines = [f"  {draft.table}:", *(f"    {key}: {value}" for key, value in settings.items() if value),
             "    columns:" if draft.columns else "    columns: {}"]
    lines += [f"      {col}: {_q(src)}" for col, src in draft.columns.items()]
    lines += [f"      # {col}: \"...\"   # TODO: required and not found (absent below): which column holds it?"
              for col in draft.required_missing]
    values = {c: m for c, m in draft.values.items() if m}
    for block, entries in {"values": values, "constants": draft.constants, "date_formats": draft.date_formats,
                           "derive": draft.derive, "extra_columns": draft.extras}.items():
        lines += [f"    {block}:"] if entries else []
        for key, value in entries.items():
            if block == "values":
                lines += [f"      {key}:", *(f"        {_q(label)}: {target if isinstance(target, str) else _q(target)}"
                                           for label, target in value.items())]
            else:
                lines.append(f"      {key}: {value if block == 'derive' and isinstance(value, str) else _q(value)}")
    if draft.allow_missing:
        lines.append(f"    allow_missing: [{', '.join(draft.allow_missing)}]   # check")
    if draft.absent:
        lines.append(f"    absent: [{', '.join(draft.absent)}]")
    unused = [h for h in sample.cells.columns if h not in draft.read_columns]
    if unused:
        lines.append(f"    # not used (add under extra_columns as x_name: Column to keep one): "
                     f"{', '.join(map(_q, unused))}")
    return lines


def draft_mapping(source: Path) -> Draft:
    """A mapping for SOURCE (a file or a folder of files), as commented YAML text."""
    source = Path(source)
    if not source.exists():
        raise ExportFormatError(f"{source}: source not found (expected a file or a folder)")
    samples, unreadable = [], {}
    for path in source_files(source):
        try:
            samples += sample_file(path)
        except ExportFormatError as exc:
            unreadable[path] = exc
    if not samples:
        if len(unreadable) == 1:
            raise next(iter(unreadable.values()))
        raise ExportFormatError(f"{source}: no file reads as a table with a header row ("
                                + "; ".join(str(e) for e in unreadable.values()) + "); write the mapping by hand from "
                                "an example in configs/mappings/examples (docs/mappings.md)")
    chosen = assign_tables(samples)
    if not chosen:
        headers = ", ".join(map(_q, samples[0].cells.columns[:12]))
        raise ExportFormatError(f"{source}: no file has columns that look like a CRM table (first file's headers: "
                                f"{headers}); write the mapping by hand from an example in configs/mappings/examples "
                                "(docs/mappings.md)")
    order = [name for name in TABLES if name in chosen]
    tables = {name: draft_table(name, *chosen[name]) for name in order}
    mapped = {t.sample.name for t in tables.values()}
    unmapped = [f"{p.name} ({str(e).removeprefix(f'{p}: ')})" for p, e in unreadable.items()] + [
        s.name for s in samples if s.name not in mapped]
    for table in tables.values():
        twins = [s.name for s in samples if s.name not in mapped
                 and list(s.cells.columns) == list(table.sample.cells.columns)]
        if twins:
            table.checks.append(f"{', '.join(twins)} has the columns of {table.sample.name}: a published split? "
                                f"read both with split_files: {{train: ..., test: ...}} instead of file")
    header = [f"# Draft mapping for {source.name}, written by `cvre import {source} --draft`.",
              "# Review every `# check` and `# TODO`, then: cvre import SOURCE --mapping THIS_FILE --check",
              f"description: {_q(f'{source.name} (drafted mapping)')}", "", "tables:"]
    body = [line for name in order for line in (*table_yaml(tables[name], source.is_dir()), "")]
    footer = [f"# files not mapped: {', '.join(unmapped)}"] if unmapped else []
    return Draft("\n".join(header + body + footer).rstrip() + "\n", tables, unmapped)
