"""Row problems as data: each check returns Findings; `combine_findings` joins them per row.

A Finding is one problem over many rows at once (a boolean mask), so checks stay vectorised.
The message reads "<column>: <problem> <detail>", e.g. "amount: negative value -12.0"; the
report counts rows per "<column>: <problem>" so counts do not split by the offending value.
"""

from __future__ import annotations

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


def finding(column: str, problem: str, mask: pd.Series, detail: pd.Series | str = "") -> list[Finding]:
    """A one-item list when any row is affected, else an empty list (checks concatenate these)."""
    mask = mask.fillna(False).astype(bool)
    return [Finding(column, problem, mask, detail)] if mask.any() else []


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
