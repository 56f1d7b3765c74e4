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


def print_mapping_draft(source: Path, target: Path, console: Console) -> None:
    """`cvre import SOURCE --draft FILE`: write the draft (never over a file) and say what to review."""
    from cvre.ingest.draft import draft_mapping
    from cvre.ingest.errors import ExportFormatError

    if target.exists():
        raise ExportFormatError(f"{target}: already exists; give --draft a new file name (a draft never overwrites)")
    draft = draft_mapping(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(draft.text, encoding="utf-8")
    console.print(f"draft mapping written to {target}")
    for name, table in draft.tables.items():
        console.print(f"  {name} <- {table.sample.name}: {len(table.columns)} columns matched "
                      f"({len(table.sample.cells):,} rows read)")
    for name in draft.unmapped_files:
        console.print(f"  not mapped: {name}")
    for line in draft.todos:
        console.print(f"[yellow]TODO[/] {line}")
    for line in draft.checks:
        console.print(f"[yellow]check[/] {line}")
    console.print(f"next: review {target}, then cvre import {source} --mapping {target} --check")
