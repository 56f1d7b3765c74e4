"""Table IO: one Parquet file per canonical table in a dataset folder, chunked writes for scale."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cvre.core.schema import TABLES, conform

EXPORT_DIR = "export"
TRUTH_DIR = "truth"


def table_path(root: Path, table: str) -> Path:
    return Path(root) / f"{table}.parquet"


def write_table(df: pd.DataFrame, root: Path, table: str) -> Path:
    """Write one table as Parquet, conformed to the canonical spec when it is a canonical table."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    frame = conform(df, TABLES[table]) if table in TABLES else df
    path = table_path(root, table)
    frame.to_parquet(path, index=False)
    return path


def read_table(root: Path, table: str, columns: list[str] | None = None, categorical: bool = False) -> pd.DataFrame:
    """One table; `categorical` reads strings as pandas categories (compact for tens of millions of rows)."""
    path = table_path(root, table)
    if not path.exists():
        raise FileNotFoundError(f"{path}: table {table!r} not found in {root}")
    if categorical:
        return pq.read_table(path, columns=columns).to_pandas(strings_to_categorical=True)
    return pd.read_parquet(path, columns=columns)


def available_tables(root: Path) -> list[str]:
    return sorted(p.stem for p in Path(root).glob("*.parquet"))


def read_tables(root: Path, names: list[str] | None = None, columns: dict[str, list[str]] | None = None,
                categorical: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
    """Read the named tables (default: every Parquet table in the folder), optionally only some columns."""
    names = names if names is not None else available_tables(root)
    columns = columns or {}
    out = {}
    for name in names:
        wanted = columns.get(name)
        if wanted is not None:
            present = set(pq.read_schema(table_path(root, name)).names)
            wanted = [c for c in wanted if c in present]
        out[name] = read_table(root, name, wanted, categorical=name in categorical)
    return out


class ChunkedTableWriter:
    """Append DataFrame chunks of one table to a single Parquet file without holding them all."""

    def __init__(self, root: Path, table: str):
        self.path = table_path(Path(root), table)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.table = table
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, df: pd.DataFrame) -> None:
        frame = conform(df, TABLES[self.table]) if self.table in TABLES else df
        batch = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            self._schema = batch.schema
            self._writer = pq.ParquetWriter(self.path, self._schema)
        else:
            batch = batch.cast(self._schema)
        self._writer.write_table(batch)
        self.rows += len(frame)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    def __enter__(self) -> ChunkedTableWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_json(data: dict, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path
