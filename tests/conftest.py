"""Shared fixtures: one small simulated world per test session (real simulator, real Parquet)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvre.simulation.config import SimulationConfig
from cvre.simulation.world import simulate_world

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"


def small_config(deals: int = 1500, seed: int = 7) -> SimulationConfig:
    return SimulationConfig(deals=deals, seed=seed)


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("world")
    simulate_world(small_config(), out, progress=False)
    return out
