"""Row problems as data: each check returns Findings; `combine_findings` joins them per row.

A Finding is one problem over many rows at once (a boolean mask), so checks stay vectorised.
The message reads "<column>: <problem> <detail>", e.g. "amount: negative value -12.0"; the
report counts rows per "<column>: <problem>" so counts do not split by the offending value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

SEPARATOR = "; "


@dataclass(frozen=True)
class Finding:
    column: str
    problem: str
    mask: pd.Series
    detail: pd.Series | str = ""

    @property
    def key(self) -> str:
        return f"{self.column}: {self.problem}"


Detail = pd.Series | str | Callable[[pd.Series], pd.Series | str]


def finding(column: str, problem: str, mask: pd.Series, detail: Detail = "") -> list[Finding]:
    """A one-item list when any row is affected, else an empty list (checks concatenate these).

    `detail` may be a function of the affected rows' mask: it then runs only when some row is affected, on
    those rows (messages for a million clean cells are never built).
    """
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return []
    return [Finding(column, problem, mask, detail(mask) if callable(detail) else detail)]


def quoted_where(values: pd.Series, suffix: str | Callable[[pd.Series], pd.Series] = "", quote: bool = True,
                 shown: Callable[[pd.Series], pd.Series] | None = None) -> Detail:
    """`'value' suffix` for the affected rows only: a lazy `quoted(values) + suffix` (`shown` rewrites the values
    first, e.g. control characters as '?'; `quote=False` leaves out the quotes)."""
    def build(mask: pd.Series) -> pd.Series:
        picked = values[mask]
        text = shown(picked) if shown else picked
        text = quoted(text) if quote else text.astype("string")
        return text + (suffix(picked) if callable(suffix) else suffix)
    return build


def quoted(values: pd.Series) -> pd.Series:
    """Values as `'text'` for messages."""
    return "'" + values.astype("string").fillna("") + "'"


def combine_findings(findings: list[Finding], index: pd.Index) -> tuple[pd.Series, dict[str, int]]:
    """Per-row reason text ("" = no problem) and rows counted per problem key."""
    reasons = pd.Series("", index=index, dtype=object)
    counts: dict[str, int] = {}
    for item in findings:
        detail = item.detail
        if isinstance(detail, pd.Series):
            detail = (" " + detail.astype("string").fillna("")).astype(object)
        elif detail:
            detail = " " + detail
        message = item.key + detail
        joined = reasons.where(reasons.eq(""), reasons + SEPARATOR) + message
        reasons = reasons.where(~item.mask, joined)
        counts[item.key] = counts.get(item.key, 0) + int(item.mask.sum())
    return reasons, counts


def flagged_columns(findings: list[Finding], index: pd.Index) -> dict[str, pd.Series]:
    """Rows already flagged per column, so a later check does not report the same cell twice."""
    flagged: dict[str, pd.Series] = {}
    for item in findings:
        previous = flagged.get(item.column, pd.Series(False, index=index))
        flagged[item.column] = previous | item.mask
    return flagged
