"""The demo's drift check: the same world a year later with the configured shifts, checked by `run_monitor`."""

from __future__ import annotations

from pathlib import Path

from cvre.core.config import load_config
from cvre.features.config import FeatureConfig
from cvre.features.pipeline import build_features
from cvre.monitoring.config import MonitorConfig
from cvre.monitoring.run import MonitorRun, run_monitor
from cvre.simulation.config import SimulationConfig
from cvre.simulation.shift import Shift, later_period, load_shift
from cvre.simulation.world import simulate_world
from cvre.training.config import TrainingConfig


def check_later_period(world: SimulationConfig, out: Path, training: TrainingConfig,
                       cfg: MonitorConfig | None = None, shift: Shift | None = None, months: int = 12,
                       task: str = "win", progress: bool = True) -> MonitorRun:
    """Simulate `world` `months` later with `shift` (configs/shift.yaml), build its features, check the champion.

    The champion of `task` must have been trained (with its reference) on `world`; reports go under
    `out/monitor` unless the monitor config says otherwise.
    """
    cfg = cfg or load_config(MonitorConfig, None, "monitor.yaml")
    later = later_period(world, shift or load_shift(None), months)
    simulate_world(later, Path(out) / "world", progress=progress)
    features = build_features(Path(out) / "world", FeatureConfig()).out
    return run_monitor(task, cfg, training, features_dir=features, out=Path(out) / "reports", progress=progress)
