"""Every config model, walked: each field is read by some code, mappings have typed keys, numbers have ranges.

The walk finds every `StrictModel` in the package, so a new config block is checked without being listed here.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import typing
from pathlib import Path

import annotated_types as at
import pytest

import cvre
from cvre.core.config import ConfigError, StrictModel, load_config
from tests.conftest import REPO

pytestmark = pytest.mark.slow  # imports every module of the package (MLflow, BentoML, Evidently, SHAP)

for _module in pkgutil.walk_packages(cvre.__path__, "cvre."):
    importlib.import_module(_module.name)

PACKAGE = Path(cvre.__file__).parent
SOURCES = [p.read_text(encoding="utf-8") for p in [*PACKAGE.rglob("*.py"), *(REPO / "benchmarks").glob("*.py")]]

# Fields no code reads, on purpose, with the reason. Add here only with a reason a reviewer would accept.
UNREAD_BY_DESIGN = {
    ("ImportMapping", "description"): "a mapping file's title for the people who maintain it",
}
# Free-text keys by design (the names are the user's own), or checked against the canonical schema elsewhere.
FREE_KEYS = {
    ("ExplainConfig", "groups"): "driver group names are the user's labels",
    ("ImportMapping", "tables"): "checked against core/schema.py by ingest/mapping_check.py",
    ("TableMapping", "columns"): "checked against core/schema.py by ingest/mapping_check.py",
    ("TableMapping", "values"): "checked against core/schema.py by ingest/mapping_check.py",
    ("TableMapping", "constants"): "checked against core/schema.py by ingest/mapping_check.py",
    ("TableMapping", "date_formats"): "checked against core/schema.py by ingest/mapping_check.py",
    ("TableMapping", "derive"): "checked against core/schema.py by ingest/mapping_check.py",
    ("TableMapping", "extra_columns"): "the user's own extra column names",
    ("EngagementPlan", "agent_speed"): "keys are the simulated agents' ids (data, not names of ours)",
    ("Shift", "lead_source_mix"): "checked against simulation/shift.py::LEAD_SOURCES by its validator",
    ("ExperimentConfig", "published"): "arms are the imported test's own labels; checked against ab_units' arms "
                                       "by analytics/engagement/run.py::experiment_table (metrics are typed)",
    ("TaskConfig", "monotone"): "feature names, checked against the task's feature list by training/constraints.py",
}
# Known gaps, owned by work in progress elsewhere (the lead tracks them); each must still be a gap.
PENDING: dict[tuple[str, str], str] = {}


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


MODELS = sorted((m for m in _subclasses(StrictModel) if m.__module__.startswith("cvre.")),
                key=lambda m: (m.__module__, m.__name__))
FIELDS = [(model, name, info) for model in MODELS for name, info in model.model_fields.items()]


def _is_read(name: str) -> bool:
    pattern = re.compile(rf"\.{name}\b|[\"']{name}[\"']")  # attribute access, or the name as a key or in getattr
    return any(pattern.search(text) for text in SOURCES)


def _dicts(annotation) -> list:
    found = [annotation] if typing.get_origin(annotation) is dict else []
    for arg in typing.get_args(annotation):
        found += _dicts(arg)
    return found


def test_the_walk_finds_the_config_models():
    names = {m.__name__ for m in MODELS}
    assert {"TrainingConfig", "TuningConfig", "SearchSpace", "FirstTrial", "LeakageConfig", "BehaviourRules",
            "SimulationConfig", "FeatureConfig", "MonitorConfig", "ServingConfig"} <= names


def test_every_config_field_is_read_by_some_code():
    unread = [f"{model.__module__}.{model.__name__}.{name}" for model, name, _ in FIELDS
              if not _is_read(name) and (model.__name__, name) not in UNREAD_BY_DESIGN | PENDING]
    assert not unread, f"config fields no code reads (remove them, or read them): {unread}"


def test_mappings_have_typed_keys():
    free = [f"{model.__module__}.{model.__name__}.{name}: {info.annotation}" for model, name, info in FIELDS
            for mapping in _dicts(info.annotation)
            if typing.get_origin(typing.get_args(mapping)[0]) is not typing.Literal
            and (model.__name__, name) not in FREE_KEYS | PENDING]
    assert not free, f"dict fields with free keys (use dict[Literal[...], ...] or a model per block): {free}"


def _bounds(info) -> tuple[bool, bool]:
    low = any(isinstance(item, at.Ge | at.Gt) for item in info.metadata)
    high = any(isinstance(item, at.Le | at.Lt) for item in info.metadata)
    return low, high


def _is_number(annotation) -> bool:
    """int or float, optional (`int | None`) included."""
    return annotation in (int, float) or (type(None) in typing.get_args(annotation)
                                          and {int, float} & set(typing.get_args(annotation)) != set())


@pytest.mark.parametrize("module", sorted({m.__module__ for m in MODELS}))
def test_numbers_have_ranges(module):
    """Every config module: each int/float field (optional ones included) has a lower and an upper bound."""
    loose = [f"{model.__name__}.{name}" for model, name, info in FIELDS if model.__module__ == module
             and _is_number(info.annotation) and _bounds(info) != (True, True)]
    assert not loose, f"numbers without a [low, high] range: {loose}"


@pytest.mark.parametrize("yaml_text,expected", [
    ("rules:\n  haircuts: {staled: 0.3}\n", ["rules.haircuts.staled", "'stalled'", "got 'staled'"]),
    ("rules:\n  haircuts: {stalled: 3.0}\n", ["rules.haircuts.stalled", "less than or equal to 1", "got 3.0"]),
    ("scenarios:\n  stall_review:\n    recovery: {stall: 0.4}\n",
     ["scenarios.stall_review.recovery.stall", "'stalled'"]),
    ("segments: [tier, teir]\n", ["segments.1", "got 'teir'"]),
])
def test_leakage_typos_inside_mappings_are_refused(tmp_path, yaml_text, expected):
    from cvre.analytics.config import LeakageConfig

    path = tmp_path / "leakage.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as caught:
        load_config(LeakageConfig, path, "leakage.yaml")
    message = str(caught.value)
    assert str(path) in message
    for part in expected:
        assert part in message, message


def test_a_partial_haircut_block_keeps_the_other_defaults(tmp_path):
    from cvre.analytics.config import LeakageConfig

    path = tmp_path / "leakage.yaml"
    path.write_text("rules:\n  haircuts: {stalled: 0.3}\n")
    haircuts = load_config(LeakageConfig, path, "leakage.yaml").rules.haircuts
    assert haircuts["stalled"] == 0.3 and haircuts["no_activity"] == 0.2


def test_a_partial_tier_block_keeps_the_other_tiers(tmp_path):
    from cvre.simulation.config import SimulationConfig

    path = tmp_path / "simulate.yaml"
    path.write_text("win:\n  tier_effect: {A: 1.0}\namounts:\n  tier_multiplier: {C: 0.5}\n")
    cfg = load_config(SimulationConfig, path, "simulate.yaml")
    assert cfg.win.tier_effect == {"A": 1.0, "B": 0.0, "C": -0.20}
    assert cfg.amounts.tier_multiplier == {"A": 1.6, "B": 1.0, "C": 0.5}
    path.write_text("win:\n  tier_effect: {D: 1.0}\n")
    with pytest.raises(ConfigError, match="win.tier_effect.D"):
        load_config(SimulationConfig, path, "simulate.yaml")


def test_every_packaged_config_loads():
    from cvre.analytics.config import LeakageConfig
    from cvre.training.config import TrainingConfig

    for model, name in ((TrainingConfig, "training.yaml"), (LeakageConfig, "leakage.yaml")):
        assert load_config(model, PACKAGE / "configs" / name, name) is not None
