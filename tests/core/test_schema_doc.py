"""docs/mappings.md lists every canonical table and column exactly as core/schema.py defines them."""

from __future__ import annotations

from pathlib import Path

from cvre.core.schema import TABLES
from cvre.core.schema_doc import current_section, replace_section, schema_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "mappings.md"


def test_mappings_doc_matches_the_schema():
    text = DOC.read_text(encoding="utf-8")
    assert current_section(text) == schema_markdown(), (
        "docs/mappings.md is out of date: run `python -m cvre.core.schema_doc docs/mappings.md`")


def test_generated_section_names_every_table_and_column():
    generated = schema_markdown()
    for spec in TABLES.values():
        assert f"### `{spec.name}` (key `{spec.key}`)" in generated
        for col in spec.columns:
            assert f"| `{col.name}` | {col.kind} |" in generated
    assert "| `crm_win_probability` | float |  | yes | >= 0; <= 1 |" in generated


def test_replace_section_keeps_the_rest():
    text = ("before\n<!-- generated from core/schema.py: start -->\nold\n"
            "<!-- generated from core/schema.py: end -->\nafter")
    out = replace_section(text, "new\n")
    assert out.startswith("before\n") and out.endswith("after") and "old" not in out and "new\n" in out
