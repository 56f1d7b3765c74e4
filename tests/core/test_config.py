from pathlib import Path

import pytest

from cvre.core.config import ConfigError, load_config
from cvre.features.config import FeatureConfig
from cvre.simulation.config import SimulationConfig


def test_default_configs_load():
    assert load_config(SimulationConfig, None, "simulate.yaml").deals == 20_000
    assert load_config(FeatureConfig, None, "features.yaml").clients.churn_horizon_days == 90


def test_unknown_key_names_file_and_key(tmp_path: Path):
    path = tmp_path / "sim.yaml"
    path.write_text("deals: 100\nworld:\n  colour: blue\n")
    with pytest.raises(ConfigError) as err:
        load_config(SimulationConfig, path, "simulate.yaml")
    message = str(err.value)
    assert str(path) in message and "world.colour" in message and "Extra inputs are not permitted" in message


def test_bad_value_names_key_and_expectation(tmp_path: Path):
    path = tmp_path / "sim.yaml"
    path.write_text("deals: ten\ndefects:\n  missing_amount: 1.5\n")
    with pytest.raises(ConfigError) as err:
        load_config(SimulationConfig, path, "simulate.yaml")
    message = str(err.value)
    assert "deals" in message and "'ten'" in message
    assert "defects.missing_amount" in message and "less than or equal to 1" in message


def test_not_a_mapping_and_bad_yaml(tmp_path: Path):
    path = tmp_path / "x.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(FeatureConfig, path, "features.yaml")
    path.write_text("a: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(FeatureConfig, path, "features.yaml")


def test_split_must_leave_test_share(tmp_path: Path):
    path = tmp_path / "f.yaml"
    path.write_text("split:\n  train: 0.7\n  valid: 0.3\n")
    with pytest.raises(ConfigError, match="must leave a share for test"):
        load_config(FeatureConfig, path, "features.yaml")
