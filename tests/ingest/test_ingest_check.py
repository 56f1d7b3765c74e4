"""`cvre import --check`: a dry run that says what each command can do with a mapping and writes nothing."""

from __future__ import annotations

from cvre.core.config import PACKAGE_CONFIG_DIR
from cvre.ingest.check import capabilities, check_import
from cvre.ingest.mapping_check import load_mapping
from tests.workflows.observed_export import MAPPING, write_observed_export


def test_check_reads_files_and_reports_sources(tmp_path):
    source = write_observed_export(tmp_path / "export", deals=60)
    tables, can = check_import(source, MAPPING)
    assert tables["opportunities"]["rows"] == 60
    assert list(tmp_path.iterdir()) == [tmp_path / "export"]  # nothing written
    leakage = "\n".join(can["leakage"])
    assert "stalled from opportunities.days_in_stage (observed field)" in leakage
    assert "stage_jump from opportunities.stage_jump (observed field)" in leakage
    assert "slow_response from leads.first_response_hours (observed field)" in leakage
    assert "overdue_close_date: absent (needs opportunities.expected_close_date)" in leakage
    assert "the CRM's own" in leakage
    assert "splits by created_at" in can["features"][0]
    assert "churn: not possible (map accounts.churned or transactions)" in can["train"]


def test_check_names_the_churn_label_and_missing_deals():
    can = capabilities(load_mapping(PACKAGE_CONFIG_DIR / "mappings" / "orange_telecom_churn.yaml"))
    assert "churn: label column (accounts.churned)" in can["train"]
    assert can["leakage"] == ["not possible: leakage needs tables.opportunities"]
