"""Shared fixtures: one small simulated world per test session (real simulator, real Parquet)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from cvre.simulation.config import SimulationConfig
from cvre.simulation.world import simulate_world

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"


def _set_tracking_env(value: str | None) -> None:
    if value is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = value


@pytest.fixture(autouse=True, scope="module")
def tracking_env_per_module():
    """A module-scoped fixture's `setup_tracking` (which writes MLFLOW_TRACKING_URI) ends with its module."""
    tracking = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    _set_tracking_env(tracking)


@pytest.fixture(autouse=True)
def one_process_many_commands():
    """Each test starts as a fresh command would: `mlflow.set_tracking_uri` writes MLFLOW_TRACKING_URI into
    os.environ (an earlier test's store must not become the next test's default), and BentoML's logging set-up
    (`disable_existing_loggers`) switches off loggers created before it (our warnings must still be seen)."""
    tracking = os.environ.get("MLFLOW_TRACKING_URI")
    for name, logger in logging.root.manager.loggerDict.items():
        if name.startswith("cvre") and isinstance(logger, logging.Logger):
            logger.disabled = False
    yield
    _set_tracking_env(tracking)


def small_config(deals: int = 1500, seed: int = 7) -> SimulationConfig:
    return SimulationConfig(deals=deals, seed=seed)


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("world")
    simulate_world(small_config(), out, progress=False)
    return out
