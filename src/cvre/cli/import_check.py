"""`cvre import --check`: print what each command will be able to do with a mapping and its files."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console


def print_import_check(source: Path, mapping: Path, console: Console) -> None:
    from cvre.ingest.check import check_import

    tables, capabilities = check_import(source, mapping)
    console.print(f"dry run of {mapping} on {source}: nothing written")
    for name, info in tables.items():
        console.print(f"  {name}: {info['rows']:,} rows read, {info['source_columns']} source columns mapped")
    for command, lines in capabilities.items():
        console.print(f"[bold]{command}[/]:")
        for line in lines:
            console.print(f"  {line}")
