"""A first mapping for an export nobody has mapped yet: `cvre import SOURCE --draft FILE`.

Each file of SOURCE is sampled and given the canonical table whose columns its headers name best, under their
canonical names or a common CRM spelling (SYNONYMS: Salesforce, HubSpot, Pipedrive, spreadsheets). Settings
the cells show (delimiter, encoding, date layouts, number format, stage labels, a close date that is the
expected one while a deal is open) are read off a sample; what the sample cannot tell is marked `# check`,
what it does not show at all `# TODO`. The user reviews the file, then runs `cvre import SOURCE -m FILE --check`.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cvre.core.schema import TABLES, TableSpec
from cvre.ingest import draft_guess as guess
from cvre.ingest.errors import ExportFormatError
from cvre.ingest.read import DELIMITER_CANDIDATES, SNIFF_BYTES, read_sheet, sheet_names

HEADER_SEARCH_ROWS = 30
SAMPLE_ROWS = 200_000  # a CRM export's tables are read whole up to here: an empty cell in row 8,000 counts
ENCODINGS = ("utf-8-sig", "cp1252")
SOURCE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx", ".xlsm", ".xls", ".ods")
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx/.xlsm/.ods (ZIP), .xls (OLE)
ROW_NUMBER_KEYS = ("opportunities", "leads", "activities", "stage_history", "close_date_changes", "transactions",
                   "messages", "support_messages", "ticket_events", "ab_units")  # keys nothing else refers to by value

# Common spellings of canonical columns, compared after `_norm` (lower case, letters and digits only).
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "opportunities": {
        "opportunity_id": ("opportunityid", "oppid", "dealid", "recordid", "id", "opportunity", "deal"),
        "account_id": ("accountid", "account", "accountname", "company", "companyname", "organization",
                       "organisation", "organizationname", "customer", "client"),
        "lead_id": ("leadid", "lead"),
        "owner_id": ("ownerid", "owner", "opportunityowner", "dealowner", "salesagent", "salesrep", "rep",
                     "assignedto", "user"),
        "product": ("productname", "item"),
        "business_type": ("type", "dealtype", "opportunitytype"),
        "created_at": ("createddate", "createdon", "createdate", "created", "dealcreated", "engagedate", "opendate",
                       "addtime"),
        "stage": ("stagename", "dealstage", "pipelinestage", "status"),
        "outcome": ("result", "wonlost"),
        "amount": ("dealvalue", "value", "dealamount", "amounteur", "opportunityamount", "expectedrevenue"),
        "currency": ("currencycode", "currencyisocode", "dealcurrency"),
        "expected_close_date": ("expectedclose", "expectedclosedate", "forecastclosedate", "expectedclosingdate"),
        "closed_at": ("closedate", "closeddate", "dateclosed", "closedon", "wontime", "closetime"),
        "days_in_stage": ("ageinstage", "stageage", "daysincurrentstage", "stageduration"),
        "crm_win_probability": ("probability", "winprobability", "probabilitypercent", "dealprobability"),
        "forecast_category": ("forecast", "forecastcategoryname"),
    },
    "accounts": {
        "account_id": ("accountid", "account", "companyid", "company", "customerid", "customer", "organization"),
        "account_name": ("name", "companyname", "organizationname", "customername"),
        "industry": ("sector", "vertical"),
        "employees": ("numberofemployees", "headcount", "employeecount", "companysize"),
        "country": ("billingcountry", "officelocation", "location"),
        "region": ("billingstate", "territory", "state"),
        "created_at": ("createddate", "createdon", "createdate"),
    },
    "reps": {
        "rep_id": ("repid", "salesagent", "agent", "salesrep", "owner", "user", "username", "userid", "employee"),
        "rep_name": ("name", "fullname"),
        "team": ("regionaloffice", "office", "salesteam", "group"),
        "manager": ("managername", "supervisor"),
    },
    "products": {
        "product": ("productid", "productname", "name", "item", "sku"),
        "series": ("productline", "family", "productfamily", "category"),
        "list_price": ("listprice", "salesprice", "price", "unitprice"),
    },
    "contacts": {
        "contact_id": ("contactid", "personid", "id"),
        "account_id": ("accountid", "account", "accountname", "company", "companyname", "organization"),
        "full_name": ("name", "contactname", "fullname"),
        "email": ("emailaddress", "mail", "email1"),
        "phone": ("phonenumber", "mobile", "mobilephone", "telephone"),
        "seniority": ("level", "managementlevel"),
        "department": ("dept",),
        "created_at": ("createddate", "createdon", "createdate"),
    },
    "leads": {
        "lead_id": ("leadid", "leadnumber", "prospectid", "id"),
        "owner_id": ("ownerid", "owner", "leadowner", "assignedto"),
        "source": ("leadsource", "origin", "channel"),
        "created_at": ("createddate", "createdon", "createdate", "created"),
        "first_response_at": ("firstresponse", "firstresponsedate", "firstcontactdate", "firstactivitydate"),
        "first_response_hours": ("responsehours", "hourstofirstresponse", "firstresponsetimehours"),
        "converted": ("isconverted", "convertedflag"),
    },
    "activities": {
        "activity_id": ("activityid", "taskid", "eventid", "id"),
        "opportunity_id": ("opportunityid", "dealid", "opportunity", "deal", "relatedto", "whatid"),
        "owner_id": ("ownerid", "owner", "assignedto", "user"),
        "activity_type": ("type", "activitytype", "tasksubtype", "subtype"),
        "occurred_at": ("date", "activitydate", "duedate", "createddate", "occurredon", "timestamp"),
    },
    "stage_history": {
        "opportunity_id": ("opportunityid", "dealid", "opportunity", "deal"),
        "stage": ("stagename", "tostage", "newstage", "newvalue", "dealstage"),
        "entered_at": ("changedat", "createddate", "date", "changedate", "timestamp"),
    },
    "transactions": {
        "transaction_id": ("transactionid", "invoiceno", "invoice", "invoiceid", "orderid", "order"),
        "account_id": ("customerid", "customer", "clientid", "accountid", "account"),
        "occurred_at": ("invoicedate", "orderdate", "transactiondate", "date", "purchasedate"),
        "amount": ("total", "revenue", "sales", "value", "linetotal"),
        "quantity": ("qty", "units"),
        "business_category": ("category", "productcategory"),
    },
}
PRICE_SPELLINGS = ("unitprice", "price", "priceeach")  # transactions: amount = quantity x price when no total
PROBABILITY_COLUMN = "crm_win_probability"


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


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


@dataclass
class TableDraft:
    """One canonical table's guessed mapping and what the user must look at."""

    table: str
    sample: Sample
    columns: dict[str, str]
    lines: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    todos: list[str] = field(default_factory=list)


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
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    delimiter = max(DELIMITER_CANDIDATES, key=lambda d: max((line.count(d) for line in lines), default=0))
    skip = header_row(list(csv.reader(lines, delimiter=delimiter)))
    try:
        cells = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False, nrows=SAMPLE_ROWS,
                            encoding=encoding, index_col=False, skiprows=skip)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ExportFormatError(f"{path}: cannot be read as a table ({str(exc).strip()})") from None
    cells.columns = [str(c).strip() for c in cells.columns]
    return [Sample(path, cells, delimiter, encoding, skip_rows=skip)]


def header_row(records: list[list[str]]) -> int:
    """The first record with as many filled cells as the fullest of the first ones: title and filter lines
    above a report's header fill one or two cells, padded or not."""
    filled = [sum(bool(str(cell).strip()) and str(cell) != "nan" for cell in record) for record in records]
    best = filled.index(max(filled)) if filled else 0
    # lines above the header are sparse: a header with one blank name (a saved index) is not one of them
    return best if best and 2 * max(filled[:best]) <= filled[best] else 0


def match_columns(spec: TableSpec, headers: list[str]) -> dict[str, str]:
    """canonical column -> header, each header used once: the canonical name first, then each synonym in order."""
    by_norm = {}
    for header in headers:
        by_norm.setdefault(_norm(header), header)
    synonyms = SYNONYMS.get(spec.name, {})
    found: dict[str, str] = {}
    for rank in range(1 + max((len(s) for s in synonyms.values()), default=0)):
        for column in spec.column_names:
            if column in found:
                continue
            names = (_norm(column), *synonyms.get(column, ()))
            if rank < len(names) and names[rank] in by_norm and by_norm[names[rank]] not in found.values():
                found[column] = by_norm[names[rank]]
    return {column: found[column] for column in spec.column_names if column in found}


def _score(spec: TableSpec, matched: dict[str, str]) -> float:
    """How well a file's headers fit a table: matched columns, the key and required ones weighing more."""
    if not matched or not (set(matched) & {spec.key, *spec.required_columns}):
        return 0.0
    required = len(set(matched) & set(spec.required_columns))
    return len(matched) + 2.0 * (spec.key in matched) + required


def assign_tables(samples: list[Sample]) -> dict[str, tuple[Sample, dict[str, str]]]:
    """Each file to at most one table and each table to at most one file, best fits first."""
    fits = [(_score(spec, m), name, sample, m) for sample in samples for name, spec in TABLES.items()
            for m in [match_columns(spec, list(sample.cells.columns))]]
    chosen: dict[str, tuple[Sample, dict[str, str]]] = {}
    used: set[str] = set()
    for score, name, sample, matched in sorted(fits, key=lambda f: (-f[0], f[2].name, f[1])):
        if score >= 3 and name not in chosen and sample.name not in used:
            chosen[name] = (sample, matched)
            used.add(sample.name)
    return chosen


def draft_table(name: str, sample: Sample, matched: dict[str, str], folder: bool) -> TableDraft:
    """The YAML lines of one table's mapping, with its checks and TODOs."""
    spec, cells = TABLES[name], sample.cells
    draft = TableDraft(name, sample, dict(matched))
    kinds = {c.name: c for c in spec.columns}
    derive: dict[str, str | dict] = {}
    numbers = guess.number_format(pd.concat([cells[matched[c]] for c in matched if kinds[c].kind in ("float", "int")]
                                            or [pd.Series(dtype="string")]))
    if numbers.note:
        draft.checks.append(numbers.note)
    columns = dict(matched)
    values: dict[str, dict[str, str]] = {}
    for column in [c for c in columns if kinds[c].allowed]:
        known, unknown = guess.canonical_labels(cells[columns[column]], column, kinds[column].allowed)
        values[column] = known
        if unknown:
            draft.todos.append(f"{column}: labels not recognised: {', '.join(map(repr, unknown[:10]))}; map each "
                               f"to one of {', '.join(kinds[column].allowed)} under values.{column}")
    if name == "opportunities":
        _opportunity_rules(draft, columns, derive, values)
    extras: dict[str, str] = {}
    if spec.key in columns and name in ROW_NUMBER_KEYS and guess.filled(cells[columns[spec.key]]).duplicated().any():
        source = columns.pop(spec.key)
        extras[f"x_{_norm(source)}"] = source
        draft.checks.append(f"{source!r} repeats across rows (e.g. an invoice's lines): {spec.key} numbers the rows "
                            f"and {source!r} is kept as x_{_norm(source)}")
    if spec.key not in columns and name in ROW_NUMBER_KEYS:
        derive[spec.key] = "row_number"
        if not extras:
            draft.checks.append(f"no id column found: {spec.key} numbers the rows")
    if name == "transactions" and "amount" not in columns and "quantity" in columns:
        price = next((h for h in cells.columns if _norm(h) in PRICE_SPELLINGS), None)
        if price:
            derive["amount"] = {"rule": "product", "sources": [columns["quantity"], price]}
    if PROBABILITY_COLUMN in columns and guess.is_percent(cells[columns[PROBABILITY_COLUMN]], numbers.value):
        derive[PROBABILITY_COLUMN] = {"rule": "percent", "source": columns.pop(PROBABILITY_COLUMN)}
    date_formats = {}
    for column in [c for c in columns if kinds[c].kind == "datetime"]:
        found = guess.date_format(cells[columns[column]])
        if found.value:
            date_formats[column] = found.value
        if found.note:
            draft.checks.append(f"{column}: {found.note}")
    for column, rule in derive.items():
        dated = isinstance(rule, dict) and rule["rule"].startswith("date_when")
        layout = guess.date_format(cells[rule["source"]]).value if dated else None
        if layout:
            date_formats[column] = layout
    empty = {c: len(cells) - guess.filled(cells[columns[c]]).size for c in spec.required_columns if c in columns}
    allow_missing = [c for c, n in empty.items() if n and kinds[c].kind != "id"]
    for column, n in empty.items():
        if n:
            kept = "allow_missing keeps those rows (remove it to reject them)" if column in allow_missing else (
                "those rows are rejected: an id cannot be missing (quarantine/ keeps them)")
            draft.checks.append(f"{column}: empty in {n:,} of {len(cells):,} rows read; {kept}")
    constants = {}
    if "currency" in kinds and "currency" not in columns and "amount" in {*columns, *derive}:
        named = guess.currency_of(numbers.value)
        constants["currency"] = named or "EUR"
        draft.checks.append(f"currency: no currency column; amounts are taken as {named or 'EUR'}"
                            + (" (the sign the amounts carry)" if named else "")
                            + " (set constants.currency, or currency_to_eur to convert)")
    accounted = {*columns, *derive, *constants}
    required_missing = [c for c in spec.required_columns if c not in accounted]
    draft.todos += [f"{c}: required, and no column looks like it: listed as absent (`cvre import --check` says "
                    f"what that stops); map it under columns if the export has it" for c in required_missing]
    absent = [c for c in spec.column_names if c not in accounted and c not in spec.observed_columns]
    draft.lines = _table_yaml(name, sample, folder, numbers.value, columns, values, constants, date_formats, derive,
                              allow_missing, absent, required_missing, extras)
    return draft


def _opportunity_rules(draft: TableDraft, columns: dict[str, str], derive: dict[str, str | dict],
                       values: dict[str, dict[str, str]]) -> None:
    """Outcome from the stage; a close date filled for open deals is the expected date while open."""
    if "stage" not in columns:
        return
    if "outcome" not in columns:
        derive["outcome"] = "outcome_from_stage"
    close = columns.get("closed_at")
    if close and "expected_close_date" not in columns and guess.close_date_is_expected_while_open(
            draft.sample.cells[close], draft.sample.cells[columns["stage"]], values.get("stage", {})):
        del columns["closed_at"]
        derive["closed_at"] = {"rule": "date_when_closed", "source": close}
        derive["expected_close_date"] = {"rule": "date_when_open", "source": close}
        draft.checks.append(f"{close!r} is filled for most open deals: read as the expected close date while a "
                            "deal is open and the close date once it is closed")


def _q(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _table_yaml(name, sample, folder, numbers, columns, values, constants, date_formats, derive, allow_missing,
                absent, required_missing, extras) -> list[str]:
    lines = [f"  {name}:"]
    if folder:
        lines.append(f"    file: {_q(sample.path.name)}")
    if sample.format != "csv":
        lines.append(f"    format: {sample.format}")
    if sample.sheet:
        lines.append(f"    sheet: {_q(sample.sheet)}")
    if sample.skip_rows:
        lines.append(f"    skip_rows: {sample.skip_rows}   # the report's title lines above the header")
    if sample.delimiter != ",":
        lines.append(f"    delimiter: {_q(sample.delimiter)}")
    if sample.encoding != "utf-8-sig":
        lines.append(f"    encoding: {_q(sample.encoding)}")
    if numbers.thousands:
        lines.append(f"    thousands: {_q(guess.thousands_yaml(numbers))}")
    if numbers.decimal != ".":
        lines.append(f"    decimal: {_q(numbers.decimal)}")
    if numbers.affixes:
        lines.append(f"    strip_from_numbers: [{', '.join(map(_q, numbers.affixes))}]")
    lines.append("    columns:")
    lines += [f"      {col}: {_q(src)}" for col, src in columns.items()]
    lines += [f"      # {col}: \"...\"   # TODO: required and not found (absent below): which column holds it?"
              for col in required_missing]
    blocks = {"values": {c: m for c, m in values.items() if m}, "constants": constants, "date_formats": date_formats}
    for block, entries in blocks.items():
        if not entries:
            continue
        lines.append(f"    {block}:")
        for key, value in entries.items():
            if isinstance(value, dict):
                lines.append(f"      {key}:")
                lines += [f"        {_q(label)}: {target}" for label, target in value.items()]
            else:
                lines.append(f"      {key}: {_q(value)}")
    if derive:
        lines.append("    derive:")
        lines += [f"      {col}: {rule if isinstance(rule, str) else _q(rule)}" for col, rule in derive.items()]
    if allow_missing:
        lines.append(f"    allow_missing: [{', '.join(allow_missing)}]   # check")
    if absent:
        lines.append(f"    absent: [{', '.join(absent)}]")
    if extras:
        lines.append("    extra_columns:")
        lines += [f"      {x}: {_q(src)}" for x, src in extras.items()]
    read = {*columns.values(), *extras.values(), *(src for rule in derive.values() if isinstance(rule, dict)
                                 for src in [rule.get("source"), *rule.get("sources", [])] if src)}
    unused = [h for h in sample.cells.columns if h not in read]
    if unused:
        lines.append(f"    # not used (add under extra_columns as x_name: Column to keep one): "
                     f"{', '.join(map(_q, unused))}")
    return lines


def draft_mapping(source: Path) -> Draft:
    """A mapping for SOURCE (a file or a folder of files), as commented YAML text."""
    source = Path(source)
    if not source.exists():
        raise ExportFormatError(f"{source}: source not found (expected a file or a folder)")
    samples, unreadable = [], []
    for path in source_files(source):
        try:
            samples += sample_file(path)
        except ExportFormatError:
            if source.is_file():
                raise
            unreadable.append(path)
    if not samples:
        raise ExportFormatError(f"{source}: no file reads as a table with a header row; write the mapping by hand "
                                "from an example in configs/mappings/examples (docs/mappings.md)")
    chosen = assign_tables(samples)
    if not chosen:
        headers = ", ".join(map(_q, samples[0].cells.columns[:12]))
        raise ExportFormatError(f"{source}: no file has columns that look like a CRM table (first file's headers: "
                                f"{headers}); write the mapping by hand from an example in configs/mappings/examples "
                                "(docs/mappings.md)")
    order = [name for name in TABLES if name in chosen]
    tables = {name: draft_table(name, *chosen[name], folder=source.is_dir()) for name in order}
    mapped = {t.sample.name for t in tables.values()}
    unmapped = [p.name for p in unreadable] + [s.name for s in samples if s.name not in mapped]
    header = [f"# Draft mapping for {source.name}, written by `cvre import {source} --draft`.",
              "# Review every `# check` and `# TODO`, then: cvre import SOURCE --mapping THIS_FILE --check",
              f"description: {_q(f'{source.name} (drafted mapping)')}", "", "tables:"]
    body = [line for name in order for line in (*tables[name].lines, "")]
    footer = [f"# files not mapped: {', '.join(unmapped)}"] if unmapped else []
    return Draft("\n".join(header + body + footer).rstrip() + "\n", tables, unmapped)
