"""The complete mappings shown in docs/mappings.md are the shipped example files (so the docs cannot drift), and
each of those files imports the export its worked example describes."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from cvre.core.config import PACKAGE_CONFIG_DIR
from cvre.ingest.run import run_import
from tests.serving.customer_export import MAPPING as CUSTOMER_MAPPING
from tests.serving.customer_export import write_customer_export
from tests.workflows.observed_export import MAPPING as OBSERVED_MAPPING
from tests.workflows.observed_export import write_observed_export

DOCS = Path(__file__).resolve().parents[2] / "docs" / "mappings.md"
SHOWN = re.compile(r"`configs/mappings/examples/(?P<name>[\w.]+\.yaml)`:\n\n```yaml\n(?P<body>.*?)```", re.S)


def test_every_mapping_shown_in_full_is_the_shipped_file():
    shown = {m["name"]: m["body"] for m in SHOWN.finditer(DOCS.read_text(encoding="utf-8"))}
    assert {"crm_observed_fields.yaml", "customer_churn.yaml"} <= set(shown)
    for name, body in shown.items():
        shipped = yaml.safe_load((PACKAGE_CONFIG_DIR / "mappings" / "examples" / name).read_text(encoding="utf-8"))
        assert yaml.safe_load(body) == shipped, f"docs/mappings.md shows {name} differently from the shipped file"


def test_the_worked_examples_import_cleanly(tmp_path):
    for write, mapping in ((write_observed_export, OBSERVED_MAPPING), (write_customer_export, CUSTOMER_MAPPING)):
        report = run_import(write(tmp_path / mapping.stem / "export"), mapping, tmp_path / mapping.stem / "data")
        assert all(t.rejected == 0 and t.accepted > 0 for t in report.tables.values()), mapping.stem
