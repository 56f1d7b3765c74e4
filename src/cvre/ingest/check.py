"""`cvre import --check`: a dry run that reads a mapping and its files and says what each command will be able
to do with them, without writing anything ("leakage: stalled from days_in_stage; churn: label column")."""

from __future__ import annotations

from pathlib import Path

from cvre.core.field_sources import ABSENT, behaviour_sources_for, source_line
from cvre.ingest.errors import ExportFormatError
from cvre.ingest.mapping import ImportMapping
from cvre.ingest.mapping_check import load_mapping
from cvre.ingest.read import read_source, resolve_source_files


def mapped_fields(mapping: ImportMapping) -> set[str]:
    """'table' and 'table.column' for every table the mapping reads and every column it fills."""
    fields: set[str] = set()
    for name, table in mapping.tables.items():
        fields.add(name)
        filled = set(table.columns) | set(table.constants) | set(table.derive)
        if table.currency_to_eur:
            filled.add("currency")
        fields |= {f"{name}.{column}" for column in filled - set(table.absent)}
    return fields


def capabilities(mapping: ImportMapping) -> dict[str, list[str]]:
    """Per command, what it will do with this mapping (or the one line saying what it lacks and which key fixes it)."""
    has = mapped_fields(mapping).__contains__
    out: dict[str, list[str]] = {}
    deals = has("opportunities")
    labelled = has("opportunities.outcome") or has("opportunities.stage")
    if deals:
        split = ("splits by close date" if has("opportunities.closed_at") else
                 "no close date: closed deals described as exported, splits by created_at")
        out["features"] = [f"deal features ({split})"]
    else:
        out["features"] = ["no deal features: map tables.opportunities"]
    if has("leads.converted"):
        out["features"].append("lead conversion table (leads.converted)")
    churn = ("label column (accounts.churned)" if has("accounts.churned") else
             "no purchase in the horizon (transactions)" if has("transactions") else None)
    out["features"].append(f"churn: {churn}" if churn else "no churn table: map accounts.churned or transactions")
    out["train"] = [
        "win: from closed deals (opportunities.outcome)" if deals and labelled else
        "win: not possible (map opportunities.stage or outcome)",
        "amount: opportunities.amount" if has("opportunities.amount") else "amount: not possible (map "
        "opportunities.amount)",
        f"churn: {churn}" if churn else "churn: not possible (map accounts.churned or transactions)",
    ]
    if has("leads.converted"):
        out["train"].append("lead: leads.converted")
    if deals:
        sources = behaviour_sources_for(has)
        out["leakage"] = [source_line(name, source) for name, source in sources.items()
                          if name != "crm_probability"]
        crm = sources["crm_probability"] != ABSENT
        out["leakage"].append("probability: the champion when trained on this export, else " +
                              ("the CRM's own (opportunities.crm_win_probability)" if crm else
                               "stage win rates from closed deals (map opportunities.crm_win_probability for the "
                               "CRM's own)"))
        out["explain"] = ["SHAP drivers of a win model trained on this export (`cvre train win` first)"]
        out["report"] = ["dashboards from the leakage tables (`cvre leakage` first)"]
    else:
        out["leakage"] = ["not possible: leakage needs tables.opportunities"]
    return out


def check_import(source: Path, mapping_path: Path) -> tuple[dict[str, dict[str, int]], dict[str, list[str]]]:
    """Read every mapped file (nothing written): rows and columns per table, and what each command can do."""
    mapping = load_mapping(mapping_path)
    single = {name: t for name, t in mapping.tables.items() if not t.split_files}
    files = resolve_source_files(Path(source), single)
    tables = {}
    for name, table in mapping.tables.items():
        paths = [Path(source) / f for f in table.split_files.values()] if table.split_files else [files[name]]
        frames = [read_source(path, name, table) for path in paths]
        tables[name] = {"rows": sum(len(f.cells) for f in frames), "source_columns": len(table.source_columns)}
    if not tables:
        raise ExportFormatError(f"{mapping_path}: maps no table")
    return tables, capabilities(mapping)
