"""Typed configuration of model training, tracking and promotion (configs/training.yaml)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from cvre.core.config import StrictModel

Task = Literal["win", "amount", "churn", "lead"]
TASKS: tuple[Task, ...] = ("win", "amount", "churn")  # `all`; `lead` trains on lead exports on request
REGISTERED_NAMES: dict[str, str] = {"win": "cvre-win", "amount": "cvre-amount", "churn": "cvre-churn",
                                    "lead": "cvre-lead"}


# What a sales manager knows, all else equal: answering later, logging less, stalling longer never raises the odds
WIN_MONOTONE = {"lead_response_hours": -1, "slow_lead_response": -1, "lead_unanswered": -1, "activities_per_30d": 1,
                "no_activity": -1, "max_days_in_stage": -1, "stalled": -1, "moves_without_activity": -1}

Leaves = Annotated[int, Field(ge=2, le=4096)]
Rate = Annotated[float, Field(gt=0, le=1)]
MinChild = Annotated[int, Field(ge=1, le=100_000)]
Fraction = Annotated[float, Field(gt=0, le=1)]
L2 = Annotated[float, Field(gt=0, le=1000)]  # searched on a log scale: above zero


class SearchSpace(StrictModel):
    """[low, high] ranges Optuna searches (log scale except the fractions); both ends included. The defaults reach
    stumps (2 leaves) and strong regularisation; `linear_tree` is a list of choices."""

    num_leaves: tuple[Leaves, Leaves] = (2, 96)
    learning_rate: tuple[Rate, Rate] = (0.02, 0.2)
    min_child_samples: tuple[MinChild, MinChild] = (5, 400)
    feature_fraction: tuple[Fraction, Fraction] = (0.5, 1.0)
    bagging_fraction: tuple[Fraction, Fraction] = (0.6, 1.0)
    lambda_l2: tuple[L2, L2] = (1e-3, 100.0)
    linear_tree: list[bool] = Field([False], min_length=1, max_length=2, description="choices: [false, true] also "
                                    "searches linear leaves; off by default because LightGBM has no SHAP values for "
                                    "them (serving reasons, cvre explain) and they break monotone constraints (a "
                                    "task with any tries false only)")

    @model_validator(mode="after")
    def _ordered(self) -> SearchSpace:
        bad = [f"{name} {list(bounds)}" for name, bounds in self
               if isinstance(bounds, tuple) and bounds[0] >= bounds[1]]
        if bad:
            raise ValueError(f"each range is [low, high] with low < high; not so for {', '.join(bad)}")
        if len(set(self.linear_tree)) != len(self.linear_tree):
            raise ValueError(f"linear_tree lists each choice once (got {self.linear_tree})")
        return self


class FirstTrial(StrictModel):
    """One sound configuration a new study tries first, so a small trial budget starts from a good model."""

    num_leaves: Leaves = 8
    learning_rate: Rate = 0.05
    min_child_samples: MinChild = 50
    feature_fraction: Fraction = 0.8
    bagging_fraction: Fraction = 0.8
    lambda_l2: L2 = 1.0
    linear_tree: bool = False


NUMERIC_PARAMS = tuple(n for n, f in FirstTrial.model_fields.items() if f.annotation is not bool)


class TuningConfig(StrictModel):
    trials: int = Field(25, ge=1, le=10_000, description="the tuning budget: Optuna trials per study, so the "
                        "result does not depend on the machine's speed or load")
    safety_timeout_s: float | None = Field(3600.0, gt=0, le=86_400, description="safety cap only: a study still "
                                           "running after this many seconds stops early, and the run says so "
                                           "(its result then depends on machine speed); null = no cap")
    num_boost_round: int = Field(1000, ge=10, le=100_000)
    early_stopping_rounds: int = Field(50, ge=5, le=10_000)
    pruner_warmup_steps: int = Field(30, ge=0, le=10_000)
    storage: str = Field("sqlite:///mlruns/optuna.db", description="Optuna storage URL (resumable); a team shares "
                         "one PostgreSQL database: postgresql+psycopg://user@host/optuna (docs/team.md)")
    workers: int = Field(1, ge=1, le=64, description="tuning processes on this machine sharing the study (cvre train "
                         "--workers); more join from other machines with cvre train --join")
    heartbeat_interval_s: int = Field(10, ge=1, le=3600, description="a running trial writes a heartbeat this often")
    grace_period_s: int = Field(60, ge=2, le=86_400, description="a running trial without a heartbeat for this long "
                                "(its worker was killed) is marked FAILED, and the study goes on without it")
    space: SearchSpace = SearchSpace()
    first_trial: FirstTrial | None = Field(FirstTrial(), description="parameters a new study tries first (inside "
                                           "the space); null = none")

    @model_validator(mode="after")
    def _first_trial_inside_space(self) -> TuningConfig:
        if self.first_trial is None:
            return self
        outside = [f"first_trial.{name} {value} is outside space.{name} {list(getattr(self.space, name))}"
                   for name, value in self.first_trial if not _inside(value, getattr(self.space, name))]
        if outside:
            raise ValueError("; ".join(outside))
        return self


def _inside(value: object, allowed: tuple | list) -> bool:
    """A first-trial value inside its range (tuple) or among its choices (list)."""
    return value in allowed if isinstance(allowed, list) else allowed[0] <= value <= allowed[1]


class TaskConfig(StrictModel):
    min_positive: int = Field(200, ge=1, le=10_000_000, description="minimum labelled wins/churners (Salesforce "
                              "asks 200)")
    min_negative: int = Field(200, ge=1, le=10_000_000)
    min_rows: int = Field(400, ge=10, le=10_000_000, description="amount model: minimum deals with an amount")
    baseline_margin: float = Field(0.005, ge=-1, le=1, description="relative gain over the best baseline's log "
                                   "loss (RMSE for amount) the model must show")
    auc_tolerance: float = Field(0.005, ge=0, le=1, description="AUC the model may trail the best baseline by")
    calibration: Literal["isotonic", "sigmoid"] = "sigmoid"
    objectives: list[Literal["l2", "huber", "gamma", "tweedie"]] = Field(["l2", "huber", "gamma"], min_length=1)
    quantiles: tuple[Annotated[float, Field(gt=0, lt=1)], Annotated[float, Field(gt=0, lt=1)]] = Field(
        (0.1, 0.9), description="low and high quantile of the amount interval (low < high)")
    monotone: dict[str, Literal[-1, 1]] = Field({}, description="domain knowledge: feature -> 1 (the score never "
                                                 "falls as it rises, all else equal) or -1 (never rises); names are "
                                                 "checked against the task's feature list at training")
    interactions: list[Annotated[list[str], Field(min_length=1)]] = Field(
        [], description="optional groups of features that may interact in a tree; features in no group form one "
        "more group together")

    @model_validator(mode="after")
    def _quantiles_ordered(self) -> TaskConfig:
        if self.quantiles[0] >= self.quantiles[1]:
            raise ValueError(f"quantiles: low {self.quantiles[0]} must be below high {self.quantiles[1]}")
        return self


class TrackingConfig(StrictModel):
    tracking_uri: str | None = Field(None, description="default: $MLFLOW_TRACKING_URI or sqlite:///mlruns/mlflow.db")
    artifact_root: str = "mlruns/artifacts"
    experiment: str = "cvre"


class RegistryConfig(StrictModel):
    names: dict[Task, Annotated[str, Field(min_length=1)]] = Field(
        REGISTERED_NAMES, description="registered model name per task; tasks left out keep their default")
    tolerance: float = Field(0.002, ge=0, le=1, description="champion metric the challenger may lose and still win")

    @field_validator("names", mode="before")
    @classmethod
    def _defaults_for_tasks_left_out(cls, value: object) -> object:
        return {**REGISTERED_NAMES, **value} if isinstance(value, dict) else value


class ReferenceConfig(StrictModel):
    """The drift reference logged with each win/churn model for `cvre monitor`."""

    rows: int = Field(20_000, ge=100, le=10_000_000, description="scored rows kept with each model as its drift "
                      "reference")
    labelled_rows: int = Field(20_000, ge=100, le=10_000_000, description="labelled test rows kept for performance "
                               "and target")


class LowDataConfig(StrictModel):
    """Below a task's minimum labelled rows: a strongly regularised model tagged `low_data`, never promoted over a
    full model, instead of no model at all."""

    enabled: bool = True
    min_positive: int = Field(15, ge=2, le=10_000_000, description="below this (or min_negative) not even a "
                              "low_data model")
    min_negative: int = Field(15, ge=2, le=10_000_000)
    params: dict[Literal[NUMERIC_PARAMS], float] = Field(
        {"num_leaves": 4, "learning_rate": 0.05, "min_child_samples": 20, "feature_fraction": 0.8,
         "bagging_fraction": 0.8, "lambda_l2": 10.0},
        description="fixed LightGBM parameters (no tuning: too few rows to tune on)")


class TrainingConfig(StrictModel):
    seed: int = Field(42, ge=0, le=2**32 - 1)
    n_jobs: int = Field(1, ge=1, le=256, description="LightGBM threads; 1 is safest on 2 shared cores")
    tracking: TrackingConfig = TrackingConfig()
    registry: RegistryConfig = RegistryConfig()
    tuning: TuningConfig = TuningConfig()
    low_data: LowDataConfig = LowDataConfig()
    reference: ReferenceConfig = ReferenceConfig()
    win: TaskConfig = TaskConfig(monotone=WIN_MONOTONE)
    amount: TaskConfig = TaskConfig(monotone={"list_price": 1})
    churn: TaskConfig = TaskConfig(min_positive=100, min_negative=100)
    lead: TaskConfig = TaskConfig()

    @model_validator(mode="after")
    def _linear_tree_possible(self) -> TrainingConfig:
        if self.tuning.space.linear_tree == [True]:
            bad = [task for task in ("win", "amount", "churn", "lead") if getattr(self, task).monotone]
            if bad:
                raise ValueError(f"tuning.space.linear_tree [true] leaves nothing to try for {', '.join(bad)}: "
                                 "linear leaves break their monotone constraints; add false")
        return self
