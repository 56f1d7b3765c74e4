"""`cvre import`: read an export through a mapping, write canonical tables, quarantine and a report.

Every source file is read and checked before anything is written, so a malformed file leaves the
output folder untouched. Tables are imported referenced-first so foreign keys can be checked.
"""

from __future__ import annotations

from collections.abc import Callable
from graphlib import TopologicalSorter
from pathlib import Path

import pandas as pd

from cvre.core.io import write_json, write_table
from cvre.core.schema import TABLES
from cvre.ingest.absent import absent_field_warnings, absent_fields
from cvre.ingest.errors import ExportFormatError
from cvre.ingest.findings import combine_findings, flagged_columns
from cvre.ingest.mapping import ExtraColumn, ImportMapping, TableMapping
from cvre.ingest.mapping_check import load_mapping
from cvre.ingest.read import SourceFrame, read_source, resolve_source_files
from cvre.ingest.report import ImportReport, TableReport
from cvre.ingest.transform import build_table
from cvre.ingest.validate import table_notes, validate_table

QUARANTINE_DIR = "quarantine"
REPORT_FILE = "import_report.json"
ROW_COLUMN = "_row"
REASON_COLUMN = "_reason"
EXTRA_SUFFIX = "_extra"
SPLIT_COLUMN = "x_split"


def run_import(source: Path, mapping_path: Path, out: Path,
               on_step: Callable[[str], None] = lambda step: None) -> ImportReport:
    """Import SOURCE (a file or folder) with the mapping at `mapping_path` into `out`; `on_step` hears what is
    being done (the CLI shows it while a large export is read)."""
    source, mapping_path, out = Path(source), Path(mapping_path), Path(out)
    mapping = load_mapping(mapping_path)
    order = import_order(mapping)
    single = {name: t for name, t in mapping.tables.items() if not t.split_files}
    files = resolve_source_files(source, single)
    sources = {}
    for name in order:
        on_step(f"reading {name} ({files[name].name if name in files else 'split files'})")
        table = mapping.tables[name]
        sources[name] = read_split_files(source, name, table) if table.split_files else read_source(
            files[name], name, table)
    known_keys: dict[str, pd.Series] = {}
    reports: dict[str, TableReport] = {}
    for name in order:
        on_step(f"checking and writing {name} ({len(sources[name].cells):,} rows)")
        lookups = exists_in_keys(source, name, mapping.tables[name])
        reports[name], known_keys[name] = import_table(name, sources[name], mapping.tables[name], known_keys, out,
                                                       lookups)
    absent = absent_fields(mapping)
    report = ImportReport(
        source=str(source),
        mapping=str(mapping_path),
        out=str(out),
        tables=reports,
        absent_fields=absent,
        skipped_features=absent_field_warnings(absent),
        notes=mapping.notes,
        outcome_leaks=mapping.outcome_leaks,
    )
    write_json(report.to_dict(), out / REPORT_FILE)
    return report


def import_order(mapping: ImportMapping) -> list[str]:
    """Mapped tables ordered so that a referenced table comes before the tables pointing at it."""
    graph = {
        name: {
            col.references.split(".")[0]
            for col in TABLES[name].columns
            if col.references and col.references.split(".")[0] in mapping.tables
        }
        - {name}
        for name in mapping.tables
    }
    return list(TopologicalSorter(graph).static_order())


def import_table(
    name: str,
    source: SourceFrame,
    table: TableMapping,
    known_keys: dict[str, pd.Series],
    out: Path,
    lookups: dict[str, pd.Series] | None = None,
) -> tuple[TableReport, pd.Series]:
    """Build, validate and write one table; returns its report and its accepted keys."""
    spec = TABLES[name]
    built = build_table(source.cells, source.rows, table, spec, lookups)
    frame = built.frame
    if SPLIT_COLUMN in source.cells.columns:  # a published split: keep each row's part; row-number ids per part
        frame[SPLIT_COLUMN] = source.cells[SPLIT_COLUMN].astype("string")
        for column, rule in table.derive.items():
            if rule.rule == "row_number":
                frame[column] = frame[SPLIT_COLUMN] + "-" + frame[column]
    checks = validate_table(frame, source.rows, spec, table, flagged_columns(built.findings, frame.index), known_keys)
    reasons, counts = combine_findings(source.findings + built.findings + checks, frame.index)
    rejected = reasons.ne("")
    accepted = frame[~rejected]
    n_read, n_rejected = len(frame), int(rejected.sum())
    if n_read != len(accepted) + n_rejected:
        raise AssertionError(f"{name}: {n_read} read != {len(accepted)} + {n_rejected}")

    canonical = [c for c in spec.column_names if c in accepted.columns]
    output = write_table(accepted[canonical], out, name)
    extra_output = None
    extra_names = [*table.extra_columns, *([SPLIT_COLUMN] if SPLIT_COLUMN in accepted.columns else [])]
    if extra_names:
        extras = accepted[[spec.key, *extra_names]]
        extra_output = str(write_table(extras, out, name + EXTRA_SUFFIX))
    quarantine = write_quarantine(source, rejected, reasons, out / QUARANTINE_DIR / f"{name}.csv")

    report = TableReport(
        table=name,
        source_file=str(source.path),
        rows_read=n_read,
        accepted=len(accepted),
        rejected=n_rejected,
        blank_rows_skipped=source.blank_rows,
        output=str(output),
        extra_output=extra_output,
        quarantine=str(quarantine),
        reasons=dict(sorted(counts.items(), key=lambda kv: -kv[1])),
        notes={**built.notes, **table_notes(accepted, spec, table)},
    )
    return report, accepted[spec.key]


def read_split_files(source: Path, name: str, table: TableMapping) -> SourceFrame:
    """The files of a published split read in turn as one source; `x_split` says which part each row is from."""
    if not Path(source).is_dir():
        raise ExportFormatError(f"{source}: tables.{name}.split_files reads several files; pass the folder that "
                                "holds them as SOURCE")
    parts = [read_source(Path(source) / file, name, table) for file in table.split_files.values()]
    if any(part.findings for part in parts):
        raise ExportFormatError(f"{source}: tables.{name}: a split file has malformed records; fix them first")
    cells = pd.concat([p.cells.assign(**{SPLIT_COLUMN: part}) for part, p in zip(table.split_files, parts,
                                                                                 strict=True)], ignore_index=True)
    rows = pd.concat([p.rows for p in parts], ignore_index=True)
    return SourceFrame(Path(source), cells, rows, sum(p.blank_rows for p in parts))


def exists_in_keys(source: Path, name: str, table: TableMapping) -> dict[str, pd.Series]:
    """For each `exists_in` rule of a table, the keys of the other file it looks in (e.g. deals naming a lead)."""
    keys = {}
    for column, rule in table.derive.items():
        if rule.rule != "exists_in":
            continue
        if not Path(source).is_dir():
            raise ExportFormatError(f"{source}: tables.{name}.derive.{column} looks keys up in {rule.file!r}; pass "
                                    "the folder that holds both files as SOURCE")
        other = TableMapping(file=rule.file, delimiter=table.delimiter, encoding=table.encoding,
                             extra_columns={"x_key": ExtraColumn(source=rule.column)})
        keys[column] = read_source(Path(source) / rule.file, f"{name}.derive.{column}", other).cells[rule.column]
    return keys


def write_quarantine(source: SourceFrame, rejected: pd.Series, reasons: pd.Series, path: Path) -> Path:
    """Rejected rows as they came, plus `_row` (source line) and `_reason`; header-only if none.

    A cell a spreadsheet would run as a formula is written with a leading apostrophe (see `neutralise`).
    """
    rows = source.cells[rejected].copy()
    rows[ROW_COLUMN] = source.rows[rejected]
    rows[REASON_COLUMN] = reasons[rejected]
    rows.columns = neutralise(pd.Series(rows.columns, dtype=object)).tolist()
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.apply(neutralise).to_csv(path, index=False)
    return path


FORMULA_START = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def neutralise(cells: pd.Series) -> pd.Series:
    """Text starting with = + - @ (or a tab or carriage return) gets a leading `'`, so a spreadsheet shows it
    instead of running it as a formula (CSV injection); a plain signed number such as -12.5 stays as it is."""
    if cells.dtype != object:
        return cells
    text = cells.astype("string")
    risky = text.str.contains(FORMULA_START, regex=True) & ~text.str.fullmatch(PLAIN_NUMBER)
    return cells.where(~risky.fillna(False).astype(bool), "'" + text)
