"""One results row per real dataset: import (rows read / accepted / rejected), features, the model trained on
its split, and the same split's plain LightGBM-defaults figure beside it.

For each dataset under ../shared/datasets that CVRE has a mapping for: `run_import` -> `build_features` ->
`train_task` (a fresh MLflow store and Optuna storage per dataset under --work-dir, --trials Optuna trials,
n_jobs 1), then `lightgbm.LGBMClassifier()` with its defaults (seed 42, n_jobs 1) fitted on the same train +
valid rows and scored on the same test rows (ROC-AUC, log loss).

    .venv/bin/python benchmarks/real_datasets.py                       # every dataset, 10 trials
    .venv/bin/python benchmarks/real_datasets.py --datasets orange_churn --trials 5

Results: benchmarks/results/real_datasets.json (rewritten after each dataset).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import REPO, RESULTS_DIR, machine_info, write_result  # noqa: E402

DATASETS_DIR = REPO.parent / "shared" / "datasets"
# name -> (dataset folder, mapping file under configs/mappings, task)
DATASETS = {
    "orange_churn": ("orange_telecom_churn", "orange_telecom_churn.yaml", "churn"),
    "maven_win": ("maven_crm", "maven_crm.yaml", "win"),
    "x_education_lead": ("x_education_leads", "x_education_leads.yaml", "lead"),
    "uci_bank_lead": ("uci_bank_marketing", "uci_bank_marketing.yaml", "lead"),
    "online_retail_churn": ("uci_online_retail_sample30k", "online_retail.yaml", "churn"),
    "cdnow_churn": ("cdnow", "cdnow.yaml", "churn"),
}


def lightgbm_defaults(data) -> dict:
    """LGBMClassifier() with its defaults on the same split: fit on train + valid, scored on test."""
    import lightgbm as lgb
    import numpy as np
    import pandas as pd
    from sklearn.metrics import log_loss, roc_auc_score

    X = pd.concat([data.X["train"], data.X["valid"]])
    y = np.r_[data.y["train"], data.y["valid"]]
    model = lgb.LGBMClassifier(random_state=42, n_jobs=1, verbose=-1).fit(X, y)
    prob = model.predict_proba(data.X["test"])[:, 1]
    return {"auc": float(roc_auc_score(data.y["test"], prob)), "log_loss": float(log_loss(data.y["test"], prob))}


def run_dataset(name: str, work: Path, trials: int) -> dict:
    from cvre.core.config import PACKAGE_CONFIG_DIR
    from cvre.features.config import FeatureConfig
    from cvre.features.pipeline import build_features
    from cvre.ingest.run import run_import
    from cvre.training.config import TrainingConfig
    from cvre.training.data import load_task
    from cvre.training.tracking import setup_tracking
    from cvre.training.train import train_task

    folder, mapping, task = DATASETS[name]
    out = work / name
    shutil.rmtree(out, ignore_errors=True)
    began = time.perf_counter()
    report = run_import(DATASETS_DIR / folder, PACKAGE_CONFIG_DIR / "mappings" / mapping, out / "data")
    rows = {t: {"read": r.rows_read, "accepted": r.accepted, "rejected": r.rejected} for t, r in report.tables.items()}
    features = build_features(out / "data", FeatureConfig()).out
    cfg = TrainingConfig()
    cfg.tuning.trials = trials
    cfg.tuning.storage = f"sqlite:///{out / 'optuna.db'}"
    cfg.tracking.tracking_uri = f"sqlite:///{out / 'mlflow.db'}"
    cfg.tracking.artifact_root = str(out / "artifacts")
    setup_tracking(cfg.tracking)
    result = train_task(features, task, cfg)
    data = load_task(features, task)
    keys = ("auc", "log_loss", "brier", "baseline_linear_auc", "baseline_prior_log_loss")
    return {"dataset": folder, "task": task, "mapping": mapping, "rows": rows,
            "split_rows": {s: len(data.y[s]) for s in ("train", "valid", "test")},
            "model": {k: result.metrics.get(k) for k in keys}, "promoted": result.decision.promoted,
            "low_data": bool(result.low_data), "lightgbm_defaults": lightgbm_defaults(data),
            "trials": trials, "seconds": round(time.perf_counter() - began, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/cvre-real-datasets"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    path = RESULTS_DIR / "real_datasets.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    result = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine_info(),
              "load_average": os.getloadavg(), "datasets": previous.get("datasets", {})}  # other datasets kept
    for name in args.datasets:
        if not (DATASETS_DIR / DATASETS[name][0]).is_dir():
            result["datasets"][name] = {"skipped": "dataset folder absent"}
            continue
        result["datasets"][name] = run_dataset(name, args.work_dir, args.trials)
        result["load_average_after"] = os.getloadavg()
        write_result(result, path)
        print(name, result["datasets"][name], flush=True)


if __name__ == "__main__":
    main()
