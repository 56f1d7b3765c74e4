"""A back-office export (jobs and staff as CSV, the firm's own headers) imported with a mapping, then analysed:
the same answers as on the world it came from."""

from __future__ import annotations

import pandas as pd
import yaml

from cvre.analytics.recruitment.config import RecruitmentConfig
from cvre.analytics.recruitment.run import run_recruitment
from cvre.ingest.run import run_import

JOB_COLUMNS = {"job_id": "Job ID", "account_id": "Client", "owner_id": "Sales", "coach_id": "Coach",
               "job_type": "Type", "opened_at": "Opened", "candidates": "Candidates", "pitches": "Pitches",
               "mer_meetings": "MER", "offers": "Offers", "placements": "Placements", "fee": "Fee", "cost": "Cost",
               "closed_at": "Closed"}
REP_COLUMNS = {"rep_id": "Person", "team": "Team", "role": "Role"}


def back_office_export(world, folder):
    jobs = pd.read_parquet(world / "export" / "jobs.parquet")
    reps = pd.read_parquet(world / "export" / "reps.parquet")
    folder.mkdir()
    jobs[list(JOB_COLUMNS)].rename(columns=JOB_COLUMNS).to_csv(folder / "jobs.csv", index=False)
    reps[list(REP_COLUMNS)].rename(columns=REP_COLUMNS).assign(
        Role=lambda d: d["Role"].map({"sales": "Sales", "coach": "Coach"})).to_csv(folder / "staff.csv", index=False)
    mapping = {
        "description": "a recruitment back office: jobs and staff",
        "absent_tables": ["opportunities", "activities", "accounts"],
        "tables": {
            "reps": {"file": "staff.csv", "columns": {k: v for k, v in REP_COLUMNS.items()},
                     "values": {"role": {"Sales": "sales", "Coach": "coach"}}, "absent": ["rep_name", "manager"]},
            "jobs": {"file": "jobs.csv", "columns": JOB_COLUMNS, "absent": ["opportunity_id"]},
        },
    }
    path = folder / "mapping.yaml"
    path.write_text(yaml.safe_dump(mapping, sort_keys=False))
    return path


def test_import_with_back_office_jobs(tmp_path, world):
    mapping = back_office_export(world, tmp_path / "export")
    report = run_import(tmp_path / "export", mapping, tmp_path / "import")
    assert report.tables["jobs"].rejected == 0
    cfg = RecruitmentConfig(as_of="2024-12-31")
    imported = {a.key: a for a in run_recruitment(tmp_path / "import", cfg, out=tmp_path / "r1").answers}
    direct = {a.key: a for a in run_recruitment(world, cfg, out=tmp_path / "r2").answers}
    for key in ("seasonality", "mer_ratio", "pitch_to_mer", "close_counts", "job_types", "jobs_needed"):
        truthless = {k: v for k, v in direct[key].headline.items() if not k.startswith("Truth")}
        assert imported[key].headline == truthless, key  # the import has no simulator truth beside it
    assert imported["new_vs_repeat"].table["business_type"].tolist() == ["unknown"]  # no deals in this export
