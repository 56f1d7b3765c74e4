"""Parse text cells into canonical kinds; a cell that does not parse becomes a Finding, not a NaN.

Input cells are stripped text with missing values already set to NA, so "present but unparseable"
is simply `text.notna() & parsed.isna()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from cvre.core.schema import pandas_dtype
from cvre.ingest.findings import Finding, finding, quoted_where
from cvre.ingest.labels import normalise_label, normalise_labels

TRUE_WORDS = ("true", "yes", "y", "t", "1", "1.0")
FALSE_WORDS = ("false", "no", "n", "f", "0", "0.0")
_FLOAT_ID = r"^(\d+)\.0+$"  # 12923.0 -> 12923: ids that went through a spreadsheet as numbers
_GROUPED = r"^[+-]?\d{1,3}(?P<sep>[,.' ])\d{3}(?:(?P=sep)\d{3})*(?:[.,]\d+)?$"  # 1,054 or 12.500,00
_DECIMAL_COMMA = r"^[+-]?\d+,\d{1,2}$|^[+-]?\d+,\d{4,}$"  # 12,5 or 1234,56: a comma used as the decimal mark
CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY"}
STORABLE_DATES = (pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D"))  # what datetime64[ns] holds
AFFIXED = r"^([€$£¥]|[A-Z]{3})\s*[+-]?\d|\d\s*([€$£¥%]|[A-Z]{3})$"  # €12,500 or 12 500 EUR or 45%
SPACES = (" ", "\u00a0", "\u202f")  # a space, a no-break space, a narrow no-break space (French grouping)


@dataclass(frozen=True)
class NumberFormat:
    """How an export writes numbers: the digit-group separator and the decimal mark."""

    thousands: str | None = None
    decimal: str = "."
    affixes: tuple[str, ...] = ()  # signs and codes around numbers to drop: "€", "EUR", "%"

    def clean(self, text: pd.Series) -> pd.Series:
        """Text in Python's number syntax: affixes and groups removed (any kind of space for a space), the decimal
        mark a dot."""
        for affix in sorted(self.affixes, key=len, reverse=True):  # "EUR" before "E"
            text = text.str.replace(affix, "", regex=False)
        if self.affixes:
            text = text.str.strip()
        groups = SPACES if self.thousands in SPACES else (self.thousands,) if self.thousands else ()
        for sep in groups:
            text = text.str.replace(sep, "", regex=False)
        return text.str.replace(self.decimal, ".", regex=False) if self.decimal != "." else text


def parse_column(
    text: pd.Series,
    name: str,
    kind: str,
    allowed: tuple[str, ...] | None = None,
    date_format: str | None = None,
    numbers: NumberFormat = NumberFormat(),
) -> tuple[pd.Series, list[Finding]]:
    """Parse one column of text into the pandas dtype of `kind`, with findings for bad cells."""
    text = text.astype("string")
    if kind == "id":
        floated = text.str.endswith("0").fillna(False)  # 12923.0: only those cells go through the regex
        return text.mask(floated, text[floated].str.replace(_FLOAT_ID, r"\1", regex=True)), []
    if kind in ("str", "category") and not allowed:
        return text, []
    if kind == "category":
        return parse_allowed(text, name, allowed)
    if kind in ("float", "int"):
        return parse_number(text, name, kind, numbers)
    if kind == "bool":
        return parse_bool(text, name)
    if kind == "datetime":
        return parse_date(text, name, date_format)
    raise ValueError(f"{name}: unsupported kind {kind!r}")


def parse_allowed(text: pd.Series, name: str, allowed: tuple[str, ...]) -> tuple[pd.Series, list[Finding]]:
    lookup = {normalise_label(value): value for value in allowed}
    parsed = normalise_labels(text).map(lookup).astype("string")
    bad = text.notna() & parsed.isna()
    return parsed, finding(name, "unknown value", bad, quoted_where(text, f" (allowed: {', '.join(allowed)})"))


def parse_number(
    text: pd.Series, name: str, kind: str, numbers: NumberFormat = NumberFormat()
) -> tuple[pd.Series, list[Finding]]:
    """Numbers written as `numbers` says. With a decimal comma a dot is refused, not read as a decimal point:
    "1.234" there is a thousand written with groups, and `thousands: "."` says so."""
    cleaned = numbers.clean(text)
    number = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    if numbers.decimal != "." and numbers.thousands != ".":
        number = number.where(~text.str.contains(".", regex=False).fillna(False))
    number = number.where(~np.isinf(number))
    findings = finding(name, "not a number", text.notna() & number.isna(),
                       quoted_where(text, lambda cells: _format_hint(cells, numbers)))
    if kind == "int":
        fractional = number.notna() & (number % 1 != 0)
        findings += finding(name, "not a whole number", fractional, quoted_where(text))
        number = number.where(~fractional)
    return number.astype(pandas_dtype(kind)), findings


def _format_hint(text: pd.Series, numbers: NumberFormat) -> pd.Series:
    """For a cell like 1,054 or 12,50: say which `thousands:` or `decimal:` setting reads it."""
    sep = text.str.extract(_GROUPED)["sep"]
    affix = text.str.extract(AFFIXED)
    affix = affix[0].fillna(affix[1]).str.strip()
    decimal_too = sep.map({".": " and `decimal: \",\"`"}).fillna("")  # a dot groups digits only beside a comma
    grouped = " (digits grouped by '" + sep + "': set `thousands: \"" + sep + "\"`" + decimal_too + " in the mapping)"
    grouped = grouped.fillna(" ('" + affix + "' around the number: list it under `strip_from_numbers` in the "
                             "mapping)")
    if numbers.decimal == ".":
        comma = text.str.contains(_DECIMAL_COMMA, regex=True).fillna(False)
        grouped = grouped.mask(comma & sep.isna(), " (a decimal comma: set `decimal: \",\"` in the mapping)")
    return grouped.fillna("")


def parse_bool(text: pd.Series, name: str) -> tuple[pd.Series, list[Finding]]:
    words = text.str.strip().str.lower()
    parsed = pd.Series(pd.NA, index=text.index, dtype="boolean")
    parsed[words.isin(TRUE_WORDS).fillna(False)] = True
    parsed[words.isin(FALSE_WORDS).fillna(False)] = False
    bad = text.notna() & parsed.isna()
    return parsed, finding(name, "not a yes/no value", bad, quoted_where(text))


def parse_date(text: pd.Series, name: str, date_format: str | None = None) -> tuple[pd.Series, list[Finding]]:
    stamps = pd.to_datetime(text, format=date_format or "ISO8601", errors="coerce", utc=True)
    stamps = stamps.dt.tz_convert(None).astype("datetime64[ns]")
    expected = date_format or "ISO 8601 such as 2024-03-31; set date_formats for other layouts"
    bad = text.notna() & stamps.isna()
    extreme = bad & text.where(bad).map(lambda cell: _is_date(cell, date_format), na_action="ignore").eq(True)
    low, high = (f"{t:%Y-%m-%d}" for t in STORABLE_DATES)
    return stamps, (finding(name, "not a date", bad & ~extreme, quoted_where(text, f" (expected {expected})"))
                    + finding(name, "date out of range", extreme, quoted_where(text, f" (dates from {low} to {high} "
                              "can be stored; a placeholder for 'no date' belongs in missing_values)")))


def _is_date(cell: str, date_format: str | None) -> bool:
    """A date Python reads (any year 1-9999) that pandas' nanosecond times could not hold."""
    try:
        if date_format:
            datetime.strptime(cell.strip(), date_format)
        else:
            datetime.fromisoformat(cell.strip())
    except ValueError:
        return False
    return True
