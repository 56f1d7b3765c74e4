"""Typed configuration of model training, tracking and promotion (configs/training.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cvre.core.config import StrictModel

Task = Literal["win", "amount", "churn", "lead"]
TASKS: tuple[Task, ...] = ("win", "amount", "churn")  # `all`; `lead` trains on lead exports on request


class SearchSpace(StrictModel):
    num_leaves: tuple[int, int] = (8, 96)
    learning_rate: tuple[float, float] = (0.02, 0.2)
    min_child_samples: tuple[int, int] = (10, 200)
    feature_fraction: tuple[float, float] = (0.5, 1.0)
    bagging_fraction: tuple[float, float] = (0.6, 1.0)
    lambda_l2: tuple[float, float] = (1e-3, 10.0)


class TuningConfig(StrictModel):
    trials: int = Field(25, ge=1)
    timeout_s: float | None = Field(240.0, gt=0, description="wall-clock budget per study; null = none")
    num_boost_round: int = Field(1000, ge=10)
    early_stopping_rounds: int = Field(50, ge=5)
    pruner_warmup_steps: int = Field(30, ge=0)
    storage: str = Field("sqlite:///mlruns/optuna.db", description="Optuna storage URL (resumable)")
    space: SearchSpace = SearchSpace()
    first_trial: dict[str, float] = Field(
        {"num_leaves": 7, "learning_rate": 0.05, "min_child_samples": 50, "feature_fraction": 0.8,
         "bagging_fraction": 0.8, "lambda_l2": 1.0},
        description="parameters tried first (a new study only), so a short budget starts from a sound model")


class TaskConfig(StrictModel):
    min_positive: int = Field(200, ge=1, description="minimum labelled wins/churners (Salesforce asks 200)")
    min_negative: int = Field(200, ge=1)
    min_rows: int = Field(400, ge=10, description="amount model: minimum deals with an amount")
    baseline_margin: float = Field(0.005, ge=-1, description="relative gain over the best baseline's log loss "
                                   "(RMSE for amount) the model must show")
    auc_tolerance: float = Field(0.005, ge=0, description="AUC the model may trail the best baseline by")
    calibration: Literal["isotonic", "sigmoid"] = "isotonic"
    objectives: list[Literal["l2", "huber", "gamma", "tweedie"]] = ["l2", "huber", "gamma"]
    quantiles: tuple[float, float] = (0.1, 0.9)


class TrackingConfig(StrictModel):
    tracking_uri: str | None = Field(None, description="default: $MLFLOW_TRACKING_URI or sqlite:///mlruns/mlflow.db")
    artifact_root: str = "mlruns/artifacts"
    experiment: str = "cvre"


class RegistryConfig(StrictModel):
    names: dict[str, str] = {"win": "cvre-win", "amount": "cvre-amount", "churn": "cvre-churn", "lead": "cvre-lead"}
    tolerance: float = Field(0.002, ge=0, description="champion metric the challenger may lose and still win")


class ReferenceConfig(StrictModel):
    """The drift reference logged with each win/churn model for `cvre monitor`."""

    rows: int = Field(20_000, ge=100, description="scored rows kept with each model as its drift reference")
    labelled_rows: int = Field(20_000, ge=100, description="labelled test rows kept for performance and target")


class LowDataConfig(StrictModel):
    """Below a task's minimum labelled rows: a strongly regularised model tagged `low_data`, never promoted over a
    full model, instead of no model at all."""

    enabled: bool = True
    min_positive: int = Field(15, ge=2, description="below this (or min_negative) not even a low_data model")
    min_negative: int = Field(15, ge=2)
    params: dict[str, float] = Field(
        {"num_leaves": 4, "learning_rate": 0.05, "min_child_samples": 20, "feature_fraction": 0.8,
         "bagging_fraction": 0.8, "lambda_l2": 10.0},
        description="fixed LightGBM parameters (no tuning: too few rows to tune on)")


class TrainingConfig(StrictModel):
    seed: int = 42
    n_jobs: int = Field(1, ge=1, description="LightGBM threads; 1 is safest on 2 shared cores")
    tracking: TrackingConfig = TrackingConfig()
    registry: RegistryConfig = RegistryConfig()
    tuning: TuningConfig = TuningConfig()
    low_data: LowDataConfig = LowDataConfig()
    reference: ReferenceConfig = ReferenceConfig()
    win: TaskConfig = TaskConfig()
    amount: TaskConfig = TaskConfig()
    churn: TaskConfig = TaskConfig(min_positive=100, min_negative=100)
    lead: TaskConfig = TaskConfig()
