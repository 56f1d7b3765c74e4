"""The mapping YAML as typed config: which source file and column feeds which canonical field.

See docs/mappings.md for how to write one. Unknown keys fail with the file and key (StrictModel);
a mapping that does not fit the canonical schema fails in `ingest.mapping_check` (`load_mapping`).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, PositiveFloat, field_validator, model_validator

from cvre.core.config import StrictModel
from cvre.ingest.coerce import NumberFormat

DeriveRuleName = Literal["row_number", "outcome_from_stage", "date_when_closed", "date_when_open", "product",
                         "timestamp_plus_duration", "exists_in", "percent"]
DurationUnit = Literal["seconds", "minutes", "hours", "days"]
NEEDS_SOURCE = {"date_when_closed": "date column", "date_when_open": "date column",
                "timestamp_plus_duration": "duration column", "exists_in": "key column", "percent": "percentage column"}
ExtraKind = Literal["str", "float", "int", "bool", "datetime"]
Scalar = str | int | float | bool


class DeriveRule(StrictModel):
    """How a canonical field is computed when no single source column holds it."""

    rule: DeriveRuleName
    source: str | None = Field(None, description="source column: a date (date_when_closed/open), a duration "
                               "(timestamp_plus_duration), a key to look up (exists_in), a percentage (percent)")
    sources: list[str] = Field(default_factory=list, description="source columns to multiply")
    start: str | None = Field(None, description="timestamp_plus_duration: the canonical date column to add to")
    unit: DurationUnit = Field("hours", description="timestamp_plus_duration: unit of the duration column")
    file: str | None = Field(None, description="exists_in: the other file (inside SOURCE) to look the key up in")
    column: str | None = Field(None, description="exists_in: the column of that file holding the keys")

    @model_validator(mode="after")
    def _parameters_fit_rule(self) -> DeriveRule:
        needs_source = self.rule in NEEDS_SOURCE
        if needs_source and not self.source:
            raise ValueError(f"rule {self.rule!r} needs `source: <{NEEDS_SOURCE[self.rule]}>`")
        if not needs_source and self.source:
            raise ValueError(f"rule {self.rule!r} takes no `source`")
        if (self.rule == "timestamp_plus_duration") != (self.start is not None):
            raise ValueError("`start: <canonical date column>` goes with rule 'timestamp_plus_duration' only")
        if (self.rule == "exists_in") != (self.file is not None and self.column is not None):
            raise ValueError("rule 'exists_in' needs `file:` and `column:` (the other file and its key column), "
                             "and only it takes them")
        if self.rule == "product" and len(self.sources) < 2:
            raise ValueError("rule 'product' needs `sources:` with at least two number columns")
        if self.rule != "product" and self.sources:
            raise ValueError(f"rule {self.rule!r} takes no `sources`")
        return self

    @property
    def source_columns(self) -> list[str]:
        return [self.source] if self.source else list(self.sources)


class ExtraColumn(StrictModel):
    """A source column kept beside the canonical table: a model input the schema has no room for."""

    source: str
    kind: ExtraKind = "str"


class CurrencyConversion(StrictModel):
    rate_to_eur: PositiveFloat = Field(gt=0, le=1e9, description="EUR per one unit of the export's currency")
    columns: list[str] = Field(default_factory=lambda: ["amount"])


class ValueBounds(StrictModel):
    """Sane ranges: a value outside them is rejected as out of range (a typo, a placeholder, an overflow)."""

    earliest_date: date = Field(date(1900, 1, 1), ge=date(1678, 1, 1), description="dates before this are rejected")
    latest_date: date = Field(date(2200, 1, 1), le=date(2262, 4, 1), description="dates after this are rejected")
    max_abs_number: PositiveFloat = Field(1e12, gt=0, le=1e30, description="amounts and other numbers beyond +/- this "
                                          "are rejected")


class TableMapping(StrictModel):
    """How one canonical table is read from one source file."""

    file: str | None = Field(None, description="file inside SOURCE when SOURCE is a folder")
    split_files: dict[Literal["train", "test"], str] = Field(
        default_factory=dict, description="a dataset published with its own split, one file per part (same "
        "columns): read in turn, each row keeps its part in the extra column x_split")
    format: Literal["csv", "whitespace", "parquet", "excel"] = Field("csv", description="excel: .xlsx, .xlsm, .xls "
                                                                     "or .ods, one sheet a table")
    sheet: str | int = Field(0, description="excel: the sheet's name, or its position (0 = the first)")
    delimiter: str = Field(",", min_length=1)
    encoding: str = "utf-8-sig"
    names: list[str] | None = Field(None, description="column names for a file without header")
    skip_rows: int = Field(0, ge=0, le=1000, description="lines (or sheet rows) above the header row: a report's "
                           "title, filters and run date")
    thousands: str | None = Field(None, min_length=1, max_length=1, description="digit-group separator in numbers: "
                                  "\",\" for 12,500.00, \".\" or \" \" (any kind of space) for 12.500,00 / 12 500,00")
    decimal: Literal[".", ","] = Field(".", description="decimal mark in numbers: \",\" for 12500,50")
    strip_from_numbers: list[str] = Field(default_factory=list, description="signs and codes written around "
                                          "numbers, dropped before reading them: [\"€\", \"EUR\", \"%\"]")
    missing_values: list[str] = Field(default_factory=list)
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, Scalar]] = Field(default_factory=dict)
    constants: dict[str, Scalar] = Field(default_factory=dict)
    date_formats: dict[str, str] = Field(default_factory=dict)
    derive: dict[str, DeriveRule] = Field(default_factory=dict)
    currency_to_eur: CurrencyConversion | None = None
    absent: list[str] = Field(default_factory=list)
    allow_missing: list[str] = Field(default_factory=list)
    extra_columns: dict[str, ExtraColumn] = Field(default_factory=dict)
    bounds: ValueBounds = Field(default_factory=ValueBounds, description="sane date and number ranges")

    @model_validator(mode="after")
    def _one_way_to_name_files(self) -> TableMapping:
        if self.split_files and self.file:
            raise ValueError("give either `file` or `split_files`, not both")
        return self

    @model_validator(mode="after")
    def _sheet_only_for_workbooks(self) -> TableMapping:
        if self.sheet != 0 and self.format != "excel":
            raise ValueError("`sheet` goes with `format: excel` only")
        if isinstance(self.sheet, int) and not 0 <= self.sheet <= 1000:
            raise ValueError(f"sheet: position {self.sheet} out of range 0-1000 (0 = the first sheet)")
        return self

    @model_validator(mode="after")
    def _marks_differ(self) -> TableMapping:
        if self.thousands == self.decimal:
            raise ValueError(f"`thousands` and `decimal` are both {self.decimal!r}: a number could not be read"
                             + (" (1.234.567 or 1.234,56: add `decimal: \",\"`)" if self.decimal == "." else ""))
        digits = [a for a in self.strip_from_numbers if not a.strip() or any(c.isdigit() or c in ".,+-" for c in a)]
        if digits:
            raise ValueError(f"strip_from_numbers: {digits!r} would change the numbers themselves: list signs and "
                             "codes only, such as \"€\", \"EUR\", \"%\"")
        return self

    @property
    def number_format(self) -> NumberFormat:
        return NumberFormat(self.thousands, self.decimal, tuple(self.strip_from_numbers))

    @field_validator("derive", mode="before")
    @classmethod
    def _shorthand_rules(cls, value: object) -> object:
        # `opportunity_id: row_number` is short for `opportunity_id: {rule: row_number}`.
        if isinstance(value, dict):
            return {k: {"rule": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("extra_columns", mode="before")
    @classmethod
    def _shorthand_extras(cls, value: object) -> object:
        # `x_city: City` is short for `x_city: {source: City, kind: str}`.
        if isinstance(value, dict):
            return {k: {"source": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("values", mode="before")
    @classmethod
    def _keys_as_text(cls, value: object) -> object:
        # YAML reads `0: lost` or `yes: won` as int/bool keys; source cells are text.
        if not isinstance(value, dict):
            return value
        return {
            col: {_as_text(k): v for k, v in labels.items()} if isinstance(labels, dict) else labels
            for col, labels in value.items()
        }

    @field_validator("missing_values", mode="before")
    @classmethod
    def _missing_as_text(cls, value: object) -> object:
        return [_as_text(v) for v in value] if isinstance(value, list) else value

    @property
    def source_columns(self) -> list[str]:
        """Every source column this table reads, in mapping order, without repeats."""
        used = list(self.columns.values())
        used += [src for rule in self.derive.values() for src in rule.source_columns]
        used += [extra.source for extra in self.extra_columns.values()]
        return list(dict.fromkeys(used))


class ImportMapping(StrictModel):
    """One export (a file or a folder of files) mapped onto canonical tables."""

    description: str = ""
    tables: dict[str, TableMapping] = Field(min_length=1)
    absent_tables: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="caveats copied into the report")
    outcome_leaks: list[str] = Field(
        default_factory=list,
        description="table.column fields known only at or after the close: never model features (e.g. Maven "
                    "close_value)")


def _as_text(value: object) -> object:
    if isinstance(value, bool):
        # YAML turns unquoted yes/no/on/off/true/false into booleans; which word was meant is lost.
        raise ValueError(f"a yes/no-like word read as {value}: put it in quotes, e.g. 'Yes'")
    if isinstance(value, int | float):
        return str(value)
    return value
