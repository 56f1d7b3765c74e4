"""The head of each file of an export, as text cells, for `cvre import --draft` to guess a mapping from."""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cvre.ingest.errors import ExportFormatError
from cvre.ingest.read import (
    DELIMITER_CANDIDATES,
    SNIFF_BYTES,
    looks_like_html,
    read_sheet,
    sheet_names,
    stripped_headers,
)

HEADER_SEARCH_ROWS = 30
SAMPLE_ROWS = 200_000  # a CRM export's tables are read whole up to here: an empty cell in row 8,000 counts
ENCODINGS = ("utf-8-sig", "cp1252")
SOURCE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx", ".xlsm", ".xls", ".ods")
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx/.xlsm/.ods (ZIP), .xls (OLE)


@dataclass(frozen=True)
class Sample:
    """The first SAMPLE_ROWS records of one source file (or one sheet of a workbook) as text, with how it was
    read."""

    path: Path
    cells: pd.DataFrame
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    format: str = "csv"
    sheet: str | None = None  # a workbook's sheet, named where the workbook has several
    skip_rows: int = 0

    @property
    def name(self) -> str:
        return f"{self.path.name} [{self.sheet}]" if self.sheet else self.path.name


def source_files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES)
    if not files:
        raise ExportFormatError(f"{source}: no {', '.join(SOURCE_SUFFIXES)} files to draft a mapping from")
    return files


def sample_file(path: Path) -> list[Sample]:
    """Read the head of a file: Parquet and workbooks (each non-empty sheet) by their magic bytes, else text in
    the first encoding that decodes it, split on the delimiter its first lines hold most of. The header is the
    first row as full as any (a report's title and filter lines above it are skipped)."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(b"PAR1"):
        return [Sample(path, pd.read_parquet(path).head(SAMPLE_ROWS).astype("string"), format="parquet")]
    if head.startswith(WORKBOOK_MAGIC):
        names = sheet_names(path)
        samples = []
        for name in names:
            try:
                top = read_sheet(path, name, header=False).head(HEADER_SEARCH_ROWS)
                skip = header_row(top.astype(str).to_numpy().tolist())
                cells = read_sheet(path, name, skip).head(SAMPLE_ROWS)
            except ExportFormatError:  # an empty sheet, a chart: no table there
                continue
            cells.columns = stripped_headers(cells.columns, path)
            if len(cells.columns) and len(cells):
                samples.append(Sample(path, cells, format="excel", sheet=name if len(names) > 1 else None,
                                      skip_rows=skip))
        return samples
    for encoding in ENCODINGS:
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ExportFormatError(f"{path}: neither UTF-8 nor Windows-1252 text; export it as UTF-8 CSV")
    if looks_like_html(text):
        raise ExportFormatError(f"{path}: an HTML page, not a table file (Salesforce's 'Excel' export is HTML): "
                                "export the report as CSV")
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    delimiter = max(DELIMITER_CANDIDATES, key=lambda d: _consistency(lines, d))
    spaced = not any(delimiter in line for line in lines) and min((len(line.split()) for line in lines if
                                                                   line.strip()), default=0) > 1
    records = [line.split() for line in lines] if spaced else list(csv.reader(lines, delimiter=delimiter))
    skip = header_row(records)
    read = {"sep": r"\s+" if spaced else delimiter, "dtype": str, "keep_default_na": False, "nrows": SAMPLE_ROWS,
            "index_col": False, "skiprows": skip}
    try:
        try:
            cells = pd.read_csv(path, encoding=encoding, **read)
        except UnicodeDecodeError:  # UTF-8 at the head, another encoding further down
            encoding = ENCODINGS[-1]
            cells = pd.read_csv(path, encoding=encoding, **read)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ExportFormatError(f"{path}: cannot be read as a table ({str(exc).strip()})") from None
    cells.columns = stripped_headers(cells.columns, path)
    if spaced:
        return [Sample(path, cells, encoding=encoding, format="whitespace", skip_rows=skip)]
    return [Sample(path, cells, delimiter, encoding, skip_rows=skip)]


def header_row(records: list[list[str]]) -> int:
    """The first record with as many filled cells as the fullest of the first ones, where every record above
    it reads as a title or filter line: fewer fields, or filled cells first and empty ones after (a saved
    index's header, with its first name blank, is no title)."""
    filled = [[bool(str(cell).strip()) and str(cell) != "nan" for cell in record] for record in records]
    counts = [sum(row) for row in filled]
    if not counts or not max(counts):
        return 0
    best = counts.index(max(counts))
    width = len(records[best])
    titles = all(len(records[i]) < width or filled[i] == sorted(filled[i], reverse=True) for i in range(best))
    return best if titles else 0


def _consistency(lines: list[str], delimiter: str) -> tuple[int, int]:
    """How well a delimiter splits the lines: how many split into the most common number of fields (above one),
    then that number."""
    widths = [len(record) for record in csv.reader(lines, delimiter=delimiter) if record]
    common = max(set(widths), key=widths.count, default=1)
    return (widths.count(common) if common > 1 else 0, common)
