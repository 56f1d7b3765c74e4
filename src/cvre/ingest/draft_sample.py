"""The head of each file of an export, as text cells, for `cvre import --draft` to guess a mapping from."""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cvre.ingest.errors import ExportFormatError
from cvre.ingest.read import DELIMITER_CANDIDATES, SNIFF_BYTES, read_sheet, sheet_names

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
            top = read_sheet(path, name, header=False).head(HEADER_SEARCH_ROWS)
            skip = header_row(top.astype(str).to_numpy().tolist())
            cells = read_sheet(path, name, skip).head(SAMPLE_ROWS)
            cells.columns = [str(c).strip() for c in cells.columns]
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
    if text.lstrip()[:15].lower().startswith(("<!doctype html", "<html", "<table")):
        raise ExportFormatError(f"{path}: an HTML page, not a table file (Salesforce's 'Excel' export is HTML): "
                                "export the report as CSV")
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    delimiter = max(DELIMITER_CANDIDATES, key=lambda d: max((line.count(d) for line in lines), default=0))
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
    cells.columns = [str(c).strip() for c in cells.columns]
    if spaced:
        return [Sample(path, cells, encoding=encoding, format="whitespace", skip_rows=skip)]
    return [Sample(path, cells, delimiter, encoding, skip_rows=skip)]


def header_row(records: list[list[str]]) -> int:
    """The first record with as many filled cells as the fullest of the first ones: title and filter lines
    above a report's header fill one or two cells, padded or not."""
    filled = [sum(bool(str(cell).strip()) and str(cell) != "nan" for cell in record) for record in records]
    best = filled.index(max(filled)) if filled else 0
    # lines above the header are sparse: a header with one blank name (a saved index) is not one of them
    return best if best and 2 * max(filled[:best]) <= filled[best] else 0
