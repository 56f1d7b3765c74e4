"""Read one source file as text cells, or fail with one ExportFormatError that says what is wrong.

Cells stay text here (parsing types is `ingest.transform`'s job) so a rejected row can be written
back to quarantine exactly as it came.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cvre.ingest.errors import ExportFormatError
from cvre.ingest.findings import Finding, finding
from cvre.ingest.mapping import TableMapping

SNIFF_BYTES = 64 * 1024
DELIMITER_CANDIDATES = (",", ";", "\t", "|")
_MAGIC = {
    b"PK\x03\x04": "an Excel .xlsx workbook (or another ZIP archive); set `format: excel` in the mapping",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook; set `format: excel` in the mapping",
    b"PAR1": "a Parquet file; set `format: parquet` in the mapping",
}
EXCEL_ENGINE = "calamine"  # python-calamine: .xlsx, .xlsm, .xls and .ods, cells as the sheet shows them


@dataclass(frozen=True)
class SourceFrame:
    """A source file's records: text cells with original column names, their line numbers, and the
    findings the reader itself makes (a record with fewer fields than the header)."""

    path: Path
    cells: pd.DataFrame
    rows: pd.Series
    blank_rows: int
    findings: list[Finding] = field(default_factory=list)


def resolve_source_files(source: Path, tables: dict[str, TableMapping]) -> dict[str, Path]:
    """The file each table reads: SOURCE itself when it is a file, else SOURCE / `file`.

    A single-file SOURCE is used whatever its name, unless the mapping reads several files.
    """
    source = Path(source)
    if not source.exists():
        raise ExportFormatError(f"{source}: source not found (expected a file or a folder)")
    if source.is_file():
        files = sorted({t.file for t in tables.values() if t.file})
        if len(files) > 1:
            raise ExportFormatError(
                f"{source}: this mapping reads several files ({', '.join(files)}); pass the "
                "folder that holds them as SOURCE, not a single file"
            )
        return {name: source for name in tables}
    unnamed = [name for name, t in tables.items() if not t.file]
    if unnamed:
        raise ExportFormatError(
            f"{source}: SOURCE is a folder, so the mapping must name the file each table reads "
            f"(missing: {', '.join(f'tables.{n}.file' for n in unnamed)})"
        )
    return {name: source / t.file for name, t in tables.items()}


def read_source(path: Path, table_name: str, table: TableMapping) -> SourceFrame:
    """Read a csv, whitespace-separated or parquet file and check the mapped columns are there."""
    path = Path(path)
    if not path.is_file():
        raise ExportFormatError(_not_found(path, table_name))
    if path.stat().st_size == 0:
        raise ExportFormatError(f"{path}: the file is empty (0 bytes); re-export it")
    if table.format == "parquet":
        cells = _read_parquet(path)
        rows = pd.Series(cells.index + 1, index=cells.index, name="_row")  # record number
        counts = None
    elif table.format == "excel":
        cells = read_sheet(path, table.sheet, table.skip_rows)
        rows = pd.Series(cells.index + 2 + table.skip_rows, index=cells.index, name="_row")  # the sheet's row
        counts = None
    else:
        cells = _read_text_table(path, table)
        first_line = (1 if table.names else 2) + table.skip_rows
        rows = line_numbers(cells, first_line, multiline=_line_separators(path) > first_line + len(cells) - 2)
        counts = field_counts(path, table)
    cells.columns = stripped_headers(cells.columns, path)
    _check_columns(cells, path, table_name, table)
    blank = blank_rows(cells)
    if blank.all():
        header = "a header but " if table.format != "parquet" and not table.names else ""
        raise ExportFormatError(
            f"{path}: {header}no data rows (table {table_name!r}); re-export it with its rows, or, if the "
            f"table is empty in your CRM, remove it from `tables:` and list it under `absent_tables:`"
        )
    kept = ~blank
    found = short_row_findings(counts, cells[kept], len(cells)) if counts is not None else []
    return SourceFrame(path, cells[kept], rows[kept], int(blank.sum()), found)


def stripped_headers(headers, path: Path) -> list[str]:
    """Header names without surrounding spaces; two that differ only by spaces are an error naming both."""
    names = [str(h).strip() for h in headers]
    twins = sorted({n for n in names if names.count(n) > 1})
    if twins:
        raise ExportFormatError(f"{path}: columns whose names differ only by spaces or repeat: "
                                f"{', '.join(map(repr, twins))}; rename them in the export")
    return names


def line_numbers(cells: pd.DataFrame, first_line: int, multiline: bool = True) -> pd.Series:
    """The line each record starts on, counting line breaks inside quoted cells of earlier rows (only looked
    for where the file has more line breaks than records: `multiline`)."""
    lines = pd.Series(cells.index + first_line, index=cells.index)
    if multiline:
        breaks = cells.apply(lambda col: col.str.count("\n")).sum(axis=1)
        lines = lines + breaks.cumsum().shift(fill_value=0)
    return lines.rename("_row")


def blank_rows(cells: pd.DataFrame) -> pd.Series:
    """Records whose every cell is empty or blank (looked at in full only where the first cell is)."""
    def empty(col: pd.Series) -> np.ndarray:
        return col.astype("string").str.strip().eq("").fillna(False).to_numpy(dtype=bool)

    if cells.columns.empty:
        return pd.Series(True, index=cells.index)
    blank = empty(cells.iloc[:, 0])
    for position in range(1, len(cells.columns)):
        if not blank.any():
            break
        blank[blank] = empty(cells.iloc[blank, position])
    return pd.Series(blank, index=cells.index)


def _line_separators(path: Path) -> int:
    """Line breaks between lines (a final one not counted): the header and the lines above it, and the records,
    need one fewer than they are; a line break inside a quoted cell adds one. A lone carriage return (old Mac
    files) counts as a break too."""
    count, last = 0, b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            count += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            last = chunk[-1:]
    return count - (last in (b"\n", b"\r"))


def field_counts(path: Path, table: TableMapping) -> list[int] | None:
    """Fields per record after the header as the file has them (pandas pads a short record with empty cells).

    Counted with the csv module, which quotes like pandas; a whitespace file splits each line on runs of
    blanks. None where the csv module cannot read the file (pandas could: nothing is called short then).
    """
    try:
        with path.open(encoding=table.encoding, newline="") as handle:
            if table.format == "whitespace":
                counts = [len(line.split()) for line in handle.read().splitlines()]
            else:
                counts = [len(record) for record in csv.reader(handle, delimiter=table.delimiter)]
    except (csv.Error, UnicodeError):
        return None
    counts = counts[table.skip_rows:]
    return counts if table.names else counts[1:]


def short_row_findings(counts: list[int], cells: pd.DataFrame, records: int) -> list[Finding]:
    """A finding for each record with fewer fields than the header: its missing cells are not empty values.

    `cells`: the non-blank records, indexed by record number; `records`: how many pandas read. Where the two
    readers disagree on the number of records, no record is called short.
    """
    if len(counts) != records:
        return []
    given = pd.Series(counts, dtype="int64").reindex(cells.index)
    detail = "(" + given.astype("string") + f" of {len(cells.columns)} fields; the line may be truncated)"
    return finding("row", "fewer fields than the header", given.lt(len(cells.columns)), detail)


def _not_found(path: Path, table_name: str) -> str:
    found = sorted(p.name for p in path.parent.iterdir()) if path.parent.is_dir() else []
    listing = f"; files there: {', '.join(found)}" if found else ""
    return f"{path}: file not found (table {table_name!r} reads it){listing}"


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise ExportFormatError(f"{path}: not a readable Parquet file ({exc})") from None
    return frame.astype("string").fillna("").astype(object)


def sheet_names(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook

    try:
        return list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception as exc:  # calamine raises its own types for a file that is no workbook
        raise ExportFormatError(f"{path}: not a readable Excel or OpenDocument workbook ({exc})") from None


def read_sheet(path: Path, sheet: str | int, skip_rows: int = 0, header: bool = True) -> pd.DataFrame:
    """One sheet as text cells: numbers as the sheet holds them (12346, 1250.5), dates in ISO 8601."""
    try:
        cells = pd.read_excel(path, sheet_name=sheet, engine=EXCEL_ENGINE, dtype=str, keep_default_na=False,
                              na_filter=False, skiprows=skip_rows, header=0 if header else None)
    except (ValueError, IndexError) as exc:  # the workbook is opened again only to say which sheets it has
        names = sheet_names(path)
        if (isinstance(sheet, int) and sheet >= len(names)) or (isinstance(sheet, str) and sheet not in names):
            raise ExportFormatError(f"{path}: no sheet {sheet!r}; the workbook has {', '.join(map(repr, names))} "
                                    "(set `sheet:` to a name or a position, 0 = the first)") from None
        raise ExportFormatError(f"{path}: sheet {sheet!r} cannot be read as a table ({exc})") from None
    except Exception as exc:  # calamine raises its own types for a file that is no workbook
        raise ExportFormatError(f"{path}: not a readable Excel or OpenDocument workbook ({exc})") from None
    if cells.columns.empty:
        raise ExportFormatError(f"{path}: sheet {sheet!r} is empty")
    return cells.astype(object)


def _read_text_table(path: Path, table: TableMapping) -> pd.DataFrame:
    text = _sniff_text(path, table.encoding)
    sep = r"\s+" if table.format == "whitespace" else table.delimiter
    try:
        return pd.read_csv(
            path,
            sep=sep,
            header=None if table.names else 0,
            names=table.names,
            skiprows=table.skip_rows,
            index_col=False,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            encoding=table.encoding,
        )
    except pd.errors.EmptyDataError:
        raise ExportFormatError(f"{path}: no header row or data found") from None
    except pd.errors.ParserError as exc:
        hint = _delimiter_hint(text, table)
        if re.search(r"Expected [12] fields? in line", str(exc)):
            hint += ("; lines above the header (a report's title, its filters)? set `skip_rows:` to their number "
                     f"(now {table.skip_rows})")
        raise ExportFormatError(
            f"{path}: cannot be read as {_describe_format(table)}: {str(exc).strip()}{hint}"
        ) from None
    except UnicodeDecodeError as exc:
        raise ExportFormatError(
            f"{path}: not {table.encoding} text at byte {exc.start}; if it is a CSV in another "
            "encoding set `encoding:` in the mapping (e.g. latin-1)"
        ) from None


def _sniff_text(path: Path, encoding: str) -> str:
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise ExportFormatError(f"{path}: not a CSV file: it looks like {what}")
    if b"\x00" in head:
        raise ExportFormatError(f"{path}: not a CSV file: it contains binary data")
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except LookupError:
        raise ExportFormatError(f"{path}: unknown encoding {encoding!r} in the mapping") from None
    except UnicodeDecodeError as exc:
        raise ExportFormatError(
            f"{path}: not a CSV file, or not {encoding} text (bad byte at {exc.start}); if it is a "
            "CSV in another encoding set `encoding:` in the mapping (e.g. latin-1)"
        ) from None
    if not text.strip():
        raise ExportFormatError(f"{path}: the file is empty (only blank lines); re-export it")
    if looks_like_html(text):
        raise ExportFormatError(f"{path}: not a CSV file: it is an HTML page")
    return text


def looks_like_html(text: str) -> bool:
    """An HTML page saved with a table file's name (Salesforce's "Excel" export is one)."""
    return text.lstrip()[:15].lower().startswith(("<!doctype html", "<html", "<table"))


def _check_columns(cells: pd.DataFrame, path: Path, table_name: str, table: TableMapping) -> None:
    expected = table.source_columns
    found = list(cells.columns)
    missing = [c for c in expected if c not in found]
    if not missing:
        return
    hint = _delimiter_hint(found[0], table) if len(found) == 1 else ""
    if table.format == "csv" and len(found) == 1 and (len(expected) > 1 or hint):
        raise ExportFormatError(
            f"{path}: read as a single column {found[0][:80]!r} while the mapping for "
            f"{table_name!r} reads {', '.join(map(repr, expected))}; "
            + (f"it looks like the delimiter is not {table.delimiter!r}{hint}" if hint else
               f"the delimiter is not {table.delimiter!r}, or lines above the header (a report's title, its "
               f"filters)? set `skip_rows:` to their number (now {table.skip_rows})")
        )
    unnamed = sum(str(c).startswith("Unnamed:") or str(c).isdigit() for c in found)
    title = (f" Most columns have no name: the header is not the first row; set `skip_rows:` to the number of "
             f"lines above it (now {table.skip_rows}).") if 2 * unnamed > len(found) else ""
    raise ExportFormatError(
        f"{path}: missing source columns for table {table_name!r}: "
        f"{', '.join(map(repr, missing))}; found: {', '.join(map(repr, found))}. "
        f"Fix the column names in the mapping or re-export with these columns.{title}"
    )


def _delimiter_hint(text: str, table: TableMapping) -> str:
    first_line = text.splitlines()[0] if text else ""
    counts = {d: first_line.count(d) for d in DELIMITER_CANDIDATES if d != table.delimiter}
    best = max(counts, key=counts.get, default=None)
    if best is None or counts[best] == 0 or table.format != "csv":
        return ""
    return f" (the header has {counts[best]} {best!r}; try `delimiter: {best!r}`)"


def _describe_format(table: TableMapping) -> str:
    if table.format == "whitespace":
        return "whitespace-separated text"
    return f"CSV with delimiter {table.delimiter!r}"
