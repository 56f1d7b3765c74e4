"""MLflow set-up at the entry point: embedded SQLite store under mlruns/ unless told otherwise (a team's tracking
server through MLFLOW_TRACKING_URI=http://..., docs/team.md)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import mlflow

from cvre.training.config import TrackingConfig

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def project_dir() -> Path:
    """The project folder: the working directory, where stores, logs and outputs go (never the package)."""
    return Path.cwd()


def tracking_uri(cfg: TrackingConfig) -> str:
    default = f"sqlite:///{project_dir() / 'mlruns' / 'mlflow.db'}"
    return cfg.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or default


def setup_tracking(cfg: TrackingConfig) -> str:
    """Point MLflow at the store and make sure the experiment exists with an explicit artifact root."""
    uri = tracking_uri(cfg)
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(cfg.experiment) is None and is_server(uri):
        mlflow.create_experiment(cfg.experiment)  # the server stores the artifacts (mlflow server --serve-artifacts)
    elif mlflow.get_experiment_by_name(cfg.experiment) is None:
        root = Path(cfg.artifact_root)
        root = root if root.is_absolute() else project_dir() / root
        mlflow.create_experiment(cfg.experiment, artifact_location=(root / cfg.experiment).resolve().as_uri())
    mlflow.set_experiment(cfg.experiment)
    return uri


def is_server(uri: str) -> bool:
    """A tracking server (a team's `mlflow server`), not a store this process opens itself."""
    return uri.startswith(("http://", "https://"))


def optuna_storage(url: str) -> str:
    """The Optuna store by the same rule as MLflow's: a relative SQLite path lives in the project folder."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return f"sqlite:///{project_dir() / url.removeprefix('sqlite:///')}"
    return url


def stores_line(cfg) -> str:
    """Which stores this command uses (`cfg`: a TrainingConfig), printed by every command that touches them."""
    return f"stores: MLflow {tracking_uri(cfg.tracking)} | Optuna {optuna_storage(cfg.tuning.storage)}"


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PACKAGE_DIR, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"
