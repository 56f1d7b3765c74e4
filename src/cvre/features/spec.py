"""A deal model's feature spec: how its rows were built, so every consumer builds them the same way.

Written by training next to the model, read by serving, leakage, explain and monitoring: the feature list, the
deal feature config, the snapshot date, the behaviour rules' version, and the stage median amounts (a deal
without an amount is valued at its stage's median, in the API as in the leakage report).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from cvre.core.rules import BehaviourRules, amount_stages, stage_medians
from cvre.features.config import DealFeatureConfig

SPEC_FILE = "feature_spec.json"
MANIFEST = "feature_manifest.json"
DEAL_TABLES = ("deals_train", "deals_valid", "deals_test", "deals_score")


class DealFeatureSpec(BaseModel):
    """Not a config: a record written by training and read back as written."""

    model_config = ConfigDict(extra="forbid")
    as_of: datetime = Field(description="the snapshot the feature run was built at")
    deals: DealFeatureConfig = Field(description="the deal feature config of that run")
    features: list[str] = Field(description="the model's input columns, in order")
    rules_version: str = Field(description="`BehaviourRules.version` of the rules in force at training")
    amount_medians: dict[str, float] = Field(description="median amount per stage ('*': overall) at the snapshot")


def feature_run_config(features_dir: Path) -> tuple[pd.Timestamp, DealFeatureConfig]:
    """The snapshot and deal feature config a feature run was built with (its manifest)."""
    manifest = json.loads((Path(features_dir) / MANIFEST).read_text())
    return pd.Timestamp(manifest["as_of"]), DealFeatureConfig.model_validate(manifest["config"]["deals"])


def read_deal_rows(features_dir: Path, scope: str = "all", columns: list[str] | None = None) -> pd.DataFrame:
    """A feature run's deal rows: the open ones (`deals_score`), or every deal (the splits and the open ones)."""
    names = ("deals_score",) if scope == "open" else DEAL_TABLES
    paths = [Path(features_dir) / f"{n}.parquet" for n in names]
    frames = [pd.read_parquet(p, columns=None if columns is None else
                              [c for c in columns if c in pq.read_schema(p).names]) for p in paths if p.exists()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def deal_medians(deals: pd.DataFrame) -> dict[str, float]:
    """Median amount per seed-000 stage (open: current stage, closed: won/lost) over a deal table."""
    if "amount" not in deals:
        return {}
    stages = amount_stages(deals.get("current_stage"), deals.get("won"), len(deals))
    return stage_medians(deals["amount"], stages)


def build_spec(features_dir: Path, features: list[str], rules: BehaviourRules) -> DealFeatureSpec:
    """The spec of a deal model trained on `features_dir` with these input columns and rules."""
    as_of, deals = feature_run_config(features_dir)
    rows = read_deal_rows(features_dir, columns=["amount", "current_stage", "won"])
    return DealFeatureSpec(as_of=as_of.to_pydatetime(), deals=deals, features=list(features),
                           rules_version=rules.version, amount_medians=deal_medians(rows))


def save_spec(spec: DealFeatureSpec, folder: Path) -> dict[str, str]:
    """The spec as a model artifact (`feature_spec`)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SPEC_FILE
    path.write_text(spec.model_dump_json(indent=1))
    return {"feature_spec": str(path)}


def load_spec(path: Path) -> DealFeatureSpec:
    return DealFeatureSpec.model_validate_json(Path(path).read_text())
