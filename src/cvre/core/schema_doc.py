"""docs/mappings.md's reference section, generated from the schema so it cannot drift.

    python -m cvre.core.schema_doc docs/mappings.md    # rewrite the section between the markers

tests/core/test_schema_doc.py fails when the committed section differs from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cvre.core.field_sources import BEHAVIOURS
from cvre.core.schema import TABLES, Column

START, END = "<!-- generated from core/schema.py: start -->", "<!-- generated from core/schema.py: end -->"


def _rule(col: Column) -> str:
    parts = []
    if col.allowed:
        parts.append(", ".join(col.allowed))
    if col.minimum is not None:
        parts.append(f">= {col.minimum:g}")
    if col.maximum is not None:
        parts.append(f"<= {col.maximum:g}")
    if col.references:
        parts.append(f"-> {col.references}")
    return "; ".join(parts)


def schema_markdown() -> str:
    """Every canonical table and column, then which behaviour comes from which fields."""
    lines = ["Kinds: `id` and `str` text, `category` a label, `datetime` a date and time (UTC), `float`/`int` "
             "numbers, `bool` yes/no. **required**: a row without it is rejected (unless `allow_missing`). "
             "**observed**: a value the CRM itself reports (a duration, a count, a flag, its own score); a mapping "
             "may leave it out, and it is used where raw events are missing.", ""]
    for spec in TABLES.values():
        lines += [f"### `{spec.name}` (key `{spec.key}`)", "", spec.description, "",
                  "| column | kind | required | observed | values / references | meaning |",
                  "|---|---|---|---|---|---|"]
        for col in spec.columns:
            lines.append(f"| `{col.name}` | {col.kind} | {'yes' if col.required else ''} | "
                         f"{'yes' if col.observed else ''} | {_rule(col)} | {col.description} |")
        lines.append("")
    lines += ["### Which fields each behaviour needs", "",
              "Each deal behaviour is computed from raw events where the export has them, else taken from the "
              "CRM's observed field, else it is absent (the feature manifest's `feature_sources` and `cvre import "
              "--check` say which).", "",
              "| behaviour | features and flags | from events | else from the observed field | used by |",
              "|---|---|---|---|---|"]
    for name, b in BEHAVIOURS.items():
        users = "leakage probability (`--probability crm`)" if not b.features else \
            "features, train win, leakage flags, explain, serve"
        lines.append(f"| {name} | {', '.join(f'`{f}`' for f in b.features) or '-'} | "
                     f"{' + '.join(f'`{e}`' for e in b.events) or '-'} | {f'`{b.observed}`' if b.observed else '-'} "
                     f"| {users} |")
    return "\n".join(lines) + "\n"


def replace_section(text: str, generated: str) -> str:
    """`text` with the part between the markers replaced by `generated`."""
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{generated}{END}{tail}"


def current_section(text: str) -> str:
    return text.partition(START)[2].partition(END)[0].removeprefix("\n")


if __name__ == "__main__":
    path = Path(sys.argv[1])
    path.write_text(replace_section(path.read_text(encoding="utf-8"), schema_markdown()), encoding="utf-8")
