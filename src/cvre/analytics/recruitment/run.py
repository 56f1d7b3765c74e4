"""`cvre analyse recruitment`: every seed-001 question answered as a table (DATA/recruitment/) and a page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cvre.analytics.recruitment.answer import Answer
from cvre.analytics.recruitment.churn import churn
from cvre.analytics.recruitment.config import RecruitmentConfig
from cvre.analytics.recruitment.data import RecruitmentData, load_recruitment
from cvre.analytics.recruitment.funnel import (
    close_by_counts,
    job_types,
    jobs_needed,
    mer_ratio,
    new_vs_repeat,
    pitch_to_mer,
)
from cvre.analytics.recruitment.value import (
    client_value,
    repeat_business,
    seasonality,
    tiers,
    time_wasters,
    typical_client,
)
from cvre.core.io import TRUTH_DIR, write_json
from cvre.features.config import FeatureConfig
from cvre.features.pipeline import resolve_as_of

RECRUITMENT_DIR = "recruitment"


@dataclass
class RecruitmentRun:
    out: Path
    as_of: pd.Timestamp
    answers: list[Answer]


def answer_all(d: RecruitmentData, cfg: RecruitmentConfig, truth: dict | None = None) -> list[Answer]:
    """Every question, in seed 001's order (pure: no files)."""
    return [seasonality(d), client_value(d), repeat_business(d), tiers(d, cfg), time_wasters(d, cfg),
            typical_client(d, cfg), churn(d, cfg), mer_ratio(d, cfg, truth), close_by_counts(d, cfg, truth),
            job_types(d, cfg), new_vs_repeat(d, cfg), pitch_to_mer(d, cfg, truth), jobs_needed(d, cfg)]


def read_truth(data: Path) -> dict | None:
    path = Path(data) / TRUTH_DIR / "recruitment_truth.json"
    return json.loads(path.read_text()) if path.exists() else None


def run_recruitment(data: Path, cfg: RecruitmentConfig, as_of: str | None = None,
                    out: Path | None = None) -> RecruitmentRun:
    data = Path(data)
    when = resolve_as_of(data, FeatureConfig(), as_of or cfg.as_of)
    answers = answer_all(load_recruitment(data, when), cfg, read_truth(data))
    out = Path(out) if out is not None else data / RECRUITMENT_DIR
    out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for a in answers:
        a.table.to_parquet(out / f"{a.key}.parquet", index=False)
        a.table.to_csv(out / f"{a.key}.csv", index=False)
        if a.detail is not None:
            a.detail.to_csv(out / f"{a.key}_detail.csv", index=False)
        summary[a.key] = {"title": a.title, "headline": a.headline, "notes": a.notes, "truth": a.truth}
    write_json({"as_of": str(when.date()), "answers": summary, "config": cfg.model_dump(mode="json")},
               out / "headline.json")
    return RecruitmentRun(out, when, answers)
