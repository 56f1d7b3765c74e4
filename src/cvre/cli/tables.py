"""Small rich tables the commands print."""

from __future__ import annotations

from rich.table import Table


def rows_table(title: str, rows: dict[str, int]) -> Table:
    """A two-column table: name and row count."""
    table = Table(title=title)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in rows.items():
        table.add_row(name, f"{count:,}")
    return table
