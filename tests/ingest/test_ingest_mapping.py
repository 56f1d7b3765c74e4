"""Mapping files: typos and schema mismatches fail naming file and key; shipped ones load."""

from __future__ import annotations

import pytest
from ingest_helpers import MAPPINGS, OPPORTUNITIES_MAPPING, write_mapping

from cvre.core.config import ConfigError
from cvre.ingest.mapping_check import load_mapping


def load_error(tmp_path, mapping: dict) -> str:
    path = write_mapping(tmp_path, mapping)
    with pytest.raises(ConfigError) as err:
        load_mapping(path)
    message = str(err.value)
    assert message.startswith(str(path))
    return message


def with_opportunities(**changes) -> dict:
    return {"tables": {"opportunities": {**OPPORTUNITIES_MAPPING, **changes}}}


def test_unknown_key_names_file_and_key(tmp_path):
    mapping = with_opportunities(colums={"amount": "Amount"})
    message = load_error(tmp_path, mapping)
    assert "tables.opportunities.colums: Extra inputs are not permitted" in message


def test_unknown_top_level_key(tmp_path):
    message = load_error(tmp_path, {**with_opportunities(), "tabels": {}})
    assert "tabels: Extra inputs are not permitted" in message


def test_unknown_table(tmp_path):
    message = load_error(tmp_path, {"tables": {"deals": OPPORTUNITIES_MAPPING}})
    assert "tables.deals: not a canonical table" in message


def test_unknown_canonical_column(tmp_path):
    columns = {**OPPORTUNITIES_MAPPING["columns"], "value": "Amount"}
    message = load_error(tmp_path, with_opportunities(columns=columns))
    assert "tables.opportunities.columns.value: 'opportunities' has no column 'value'" in message


def test_every_canonical_column_must_be_accounted_for(tmp_path):
    message = load_error(tmp_path, with_opportunities(absent=["lead_id"]))
    assert (
        "tables.opportunities.columns: canonical columns neither mapped nor declared absent: "
        "owner_id, product, business_type, expected_close_date"
    ) in message


def test_column_given_twice(tmp_path):
    absent = [*OPPORTUNITIES_MAPPING["absent"], "amount"]
    message = load_error(tmp_path, with_opportunities(absent=absent))
    assert "tables.opportunities.amount: given in columns and absent; use exactly one" in message


def test_key_cannot_be_absent_or_missing(tmp_path):
    columns = {k: v for k, v in OPPORTUNITIES_MAPPING["columns"].items() if k != "opportunity_id"}
    absent = [*OPPORTUNITIES_MAPPING["absent"], "opportunity_id"]
    message = load_error(tmp_path, with_opportunities(columns=columns, absent=absent))
    assert "tables.opportunities.absent.opportunity_id: the key cannot be absent" in message


def test_allow_missing_only_for_required_fields(tmp_path):
    message = load_error(tmp_path, with_opportunities(allow_missing=["amount"]))
    assert "allow_missing.amount: 'amount' is not required" in message


def test_derive_rule_parameters(tmp_path):
    message = load_error(tmp_path, with_opportunities(derive={"outcome": "outcome_from_stag"}))
    assert "tables.opportunities.derive.outcome.rule: Input should be" in message
    derive = {"outcome": "outcome_from_stage", "closed_at": "date_when_closed"}
    columns = {k: v for k, v in OPPORTUNITIES_MAPPING["columns"].items() if k != "closed_at"}
    message = load_error(tmp_path, with_opportunities(derive=derive, columns=columns))
    assert "rule 'date_when_closed' needs `source: <date column>`" in message


def test_constant_outside_allowed_values(tmp_path):
    constants = {"currency": "EUR", "business_type": "upsell"}
    absent = [c for c in OPPORTUNITIES_MAPPING["absent"] if c != "business_type"]
    message = load_error(tmp_path, with_opportunities(constants=constants, absent=absent))
    assert "constants.business_type: 'upsell' is not one of ('new', 'repeat')" in message


def test_extra_columns_need_the_prefix(tmp_path):
    message = load_error(tmp_path, with_opportunities(extra_columns={"city": "City"}))
    assert "extra_columns.city: extra column names start with 'x_'" in message


def test_absent_table_that_is_also_mapped(tmp_path):
    message = load_error(tmp_path, {**with_opportunities(), "absent_tables": ["opportunities"]})
    assert "absent_tables: 'opportunities' is also mapped under tables" in message


@pytest.mark.parametrize("path", sorted(MAPPINGS.rglob("*.yaml")), ids=lambda p: str(p.relative_to(MAPPINGS)))
def test_shipped_mappings_load(path):
    mapping = load_mapping(path)
    assert mapping.tables


def test_shorthands(tmp_path):
    mapping = load_mapping(
        write_mapping(
            tmp_path,
            with_opportunities(
                extra_columns={"x_city": "City"},
                values={"stage": {1: "closed_won", 2.5: "closed_lost"}},
            ),
        )
    )
    table = mapping.tables["opportunities"]
    assert table.derive["outcome"].rule == "outcome_from_stage"
    assert table.extra_columns["x_city"].kind == "str"
    assert set(table.values["stage"]) == {"1", "2.5"}


def test_unquoted_yes_no_keys_are_refused(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text("tables:\n  opportunities:\n    missing_values: [no]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="put it in quotes"):
        load_mapping(path)
