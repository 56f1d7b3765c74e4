"""A small simulated recruitment world (back office on), shared by the recruitment tests."""

from __future__ import annotations

import pytest

from cvre.simulation.config import SimulationConfig
from cvre.simulation.recruitment import RecruitmentPlan
from cvre.simulation.world import simulate_world


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("recruitment_world")
    simulate_world(SimulationConfig(deals=4000, seed=11, recruitment=RecruitmentPlan(enabled=True)), out,
                   progress=False)
    return out
