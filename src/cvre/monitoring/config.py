"""Typed configuration of monitoring (configs/monitor.yaml): tests, thresholds, policy, reports."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cvre.core.config import StrictModel

MonitorTask = Literal["win", "churn"]


class DriftConfig(StrictModel):
    numeric_method: Literal["wasserstein", "psi"] = Field("wasserstein", description="wasserstein: distance in "
                                                          "reference standard deviations; psi: over quantile bins")
    numeric_threshold: float = Field(0.1, gt=0, le=100, description="score above which a numeric column has drifted "
                                     "(0.1 for wasserstein, about 0.2 for psi)")
    bins: int = Field(10, ge=3, le=100, description="reference-quantile bins of a numeric column (psi)")
    quantiles: int = Field(200, ge=20, le=2000, description="quantiles compared by the Wasserstein distance")
    categorical_threshold: float = Field(0.1, gt=0, le=1, description="Jensen-Shannon distance above which a "
                                         "category or flag column has drifted")
    noise_multiple: float = Field(3.0, ge=0, le=100, description="a score must also exceed this many times its "
                                  "no-drift noise at these sample sizes (estimated from reference half-splits)")
    max_categories: int = Field(50, ge=2, le=10_000, description="rarer categories are pooled into one bucket")
    min_rows: int = Field(200, ge=10, le=10_000_000, description="a smaller current batch is refused: drift would "
                          "be noise")
    ignore: list[str] = Field(default_factory=list, description="columns never tested (e.g. calendar months)")


class QualityConfig(StrictModel):
    new_category_share: float = Field(0.01, ge=0, le=1, description="share of rows with unseen categories to report")
    out_of_range_share: float = Field(0.01, ge=0, le=1, description="share of values outside the reference range")
    missing_increase: float = Field(0.05, ge=0, le=1, description="rise of a column's missing share to report")


class PolicyConfig(StrictModel):
    drift_share: float = Field(0.1, gt=0, le=1, description="share of drifted feature columns that triggers action")
    prediction_drift: bool = Field(True, description="a drifted score distribution alone triggers an alert")
    auc_drop: float = Field(0.03, gt=0, le=1, description="loss of AUC on newly labelled data that triggers action")
    auc_z: float = Field(1.96, ge=0, le=10, description="the AUC loss must also exceed this many standard errors")
    min_labelled: int = Field(200, ge=10, le=10_000_000, description="newly labelled rows needed before performance "
                              "is judged")


class ReportConfig(StrictModel):
    out: str = Field("data/monitor", description="folder of HTML reports and JSON summaries")
    workspace: str = Field("data/evidently", description="local Evidently workspace (`evidently ui --workspace`)")
    project: str = Field("cvre-monitoring", description="Evidently project name")
    evidently: bool = Field(True, description="also build the Evidently HTML report and workspace snapshot")
    sample_rows: int = Field(5_000, ge=100, le=10_000_000, description="rows of each side Evidently computes on "
                             "(seeded sample)")
    columns: int = Field(25, ge=1, le=10_000, description="most-drifted feature columns detailed by Evidently (plus "
                         "the score)")


class MonitorConfig(StrictModel):
    seed: int = Field(42, ge=0, le=2**32 - 1)
    task: MonitorTask = "win"
    scoring_log: str = Field("data/scoring_log", description="folder of the serving API's Parquet scoring log")
    drift: DriftConfig = DriftConfig()
    quality: QualityConfig = QualityConfig()
    policy: PolicyConfig = PolicyConfig()
    report: ReportConfig = ReportConfig()
