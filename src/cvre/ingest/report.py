"""What an import did, per table: rows read, accepted, rejected and why; written as JSON."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TableReport(BaseModel):
    table: str
    source_file: str
    rows_read: int
    accepted: int
    rejected: int
    blank_rows_skipped: int = 0
    output: str
    extra_output: str | None = None
    quarantine: str
    reasons: dict[str, int] = Field(default_factory=dict, description="rows per problem")
    notes: dict[str, int] = Field(default_factory=dict, description="counts that are not errors")


class ImportReport(BaseModel):
    source: str
    mapping: str
    out: str
    tables: dict[str, TableReport]
    absent_fields: list[str] = Field(default_factory=list)
    skipped_features: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="caveats from the mapping")
    outcome_leaks: list[str] = Field(default_factory=list, description="fields that reveal the outcome")

    @property
    def rows_rejected(self) -> int:
        return sum(t.rejected for t in self.tables.values())

    def to_dict(self) -> dict:
        return self.model_dump(mode="json")

    def summary_lines(self) -> list[str]:
        """Human-readable summary for the CLI: one block per table, then what is missing."""
        lines = [f"import {self.source} with {self.mapping} -> {self.out}"]
        for t in self.tables.values():
            lines.append(
                f"{t.table}: {t.rows_read:,} read, {t.accepted:,} accepted, "
                f"{t.rejected:,} rejected (from {t.source_file})"
            )
            lines += [f"  rejected {n:,}: {reason}" for reason, n in t.reasons.items()]
            lines += [f"  note {n:,}: {note}" for note, n in t.notes.items()]
            if t.blank_rows_skipped:
                lines.append(f"  skipped {t.blank_rows_skipped:,} blank lines")
            if t.rejected:
                lines.append(f"  quarantine: {t.quarantine}")
        if self.absent_fields:
            lines.append(f"absent in this export: {', '.join(self.absent_fields)}")
        lines += [f"warning: {w}" for w in self.skipped_features]
        lines += [f"note: {n}" for n in self.notes]
        return lines
