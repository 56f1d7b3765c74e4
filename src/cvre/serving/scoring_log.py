"""A rolling Parquet log of what the API scored, for monitoring: model inputs, outputs, versions, ids.

Layout (a contract: monitoring reads it): `<folder>/deals/` and `<folder>/clients/`, one file per scored
batch named `scored-<YYYYMMDDTHHMMSS>-<pid>-<seq>.parquet` (UTC time), the oldest deleted beyond
`max_files` per kind. Rows hold the model's feature columns exactly as fed to it (categories as plain
strings, unseen ones missing), the predictions, the model version, `scored_at` (UTC) and the deal or
client id: never names, emails or phone numbers.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from cvre.serving.schemas import ClientScore

log = logging.getLogger(__name__)
Kind = Literal["deals", "clients"]
KINDS: tuple[Kind, ...] = ("deals", "clients")
PREFIX = "scored-"


def _inputs(X: pd.DataFrame) -> pd.DataFrame:
    """The model input with categorical columns as strings, so files from any model version concatenate."""
    out = X.reset_index(drop=True).copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype("string")
    return out


def _frame(names: tuple[str, ...], data, categories: dict[str, list]) -> pd.DataFrame:
    """The model input as logged: numbers as given, categories as their labels (codes are the model's)."""
    columns = {}
    for j, name in enumerate(names):
        if name in categories:
            labels = np.array([*categories[name], None], dtype=object)
            codes = data[:, j]
            columns[name] = pd.array(labels[np.where(np.isnan(codes), -1, codes).astype(int)], dtype="string")
        else:
            columns[name] = data[:, j]
    return pd.DataFrame(columns)


def deal_rows(X: pd.DataFrame, scores: list[dict], model_version: str | None,
              scored_at: pd.Timestamp) -> pd.DataFrame:
    """`scores`: `DealScore`s as dicts (`scoring.score_columns`)."""
    return _inputs(X).assign(
        win_probability=[s["win_probability"] for s in scores], expected_amount=[s["expected_amount"] for s in scores],
        expected_value=[s["expected_value"] for s in scores], model_version_win=model_version, scored_at=scored_at,
        opportunity_id=[s["opportunity_id"] for s in scores])


def client_rows(X: pd.DataFrame, scores: list[ClientScore], model_version: str | None,
                scored_at: pd.Timestamp) -> pd.DataFrame:
    return _inputs(X).assign(churn_probability=[s.churn_probability for s in scores],
                             model_version_churn=model_version, scored_at=scored_at,
                             account_id=[s.account_id for s in scores])


class ScoringLog:
    """Appends scored batches to the log; a failure is logged and never reaches the scoring request."""

    def __init__(self, folder: Path | None, max_files: int):
        self.folder = Path(folder) if folder is not None else None
        self.max_files = max_files
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def deals(self, X: pd.DataFrame, scores: list[dict], model_version: str | None) -> Path | None:
        return self._write("deals", lambda now: deal_rows(X, scores, model_version, now))

    def deal_matrix(self, names: tuple[str, ...], data, categories: dict[str, list], scores: list[dict],
                    model_version: str | None) -> Path | None:
        """`deals` from the win model's input matrix (category codes back to their labels)."""
        return self._write("deals", lambda now: deal_rows(_frame(names, data, categories), scores, model_version, now))

    def clients(self, X: pd.DataFrame, scores: list[ClientScore], model_version: str | None) -> Path | None:
        return self._write("clients", lambda now: client_rows(X, scores, model_version, now))

    def _write(self, kind: Kind, rows: Callable[[pd.Timestamp], pd.DataFrame]) -> Path | None:
        if self.folder is None:
            return None
        try:
            now = pd.Timestamp.now(tz="UTC")
            frame = rows(now)
            if frame.empty:
                return None
            folder = self.folder / kind
            folder.mkdir(parents=True, exist_ok=True)
            with self._lock:
                seq = next(self._seq)
            path = folder / f"{PREFIX}{now:%Y%m%dT%H%M%S}-{os.getpid()}-{seq:06d}.parquet"
            partial = path.with_name(f".{path.name}.partial")  # readers never see a half-written file
            frame.to_parquet(partial, index=False)
            partial.replace(path)
            self._prune(folder)
            return path
        except Exception as exc:  # the log is for monitoring: it must never fail a scoring request
            log.error("scoring log: could not write %s to %s: %s: %s", kind, self.folder, type(exc).__name__, exc)
            return None

    def _prune(self, folder: Path) -> None:
        for old in log_files(folder)[:-self.max_files]:
            old.unlink(missing_ok=True)  # another worker may have deleted it first


def log_files(folder: Path) -> list[Path]:
    """The log's files of one kind, oldest first (the name starts with the UTC time)."""
    return sorted(Path(folder).glob(f"{PREFIX}*.parquet"), key=lambda p: p.name)


def read_scoring_log(folder: Path, kind: Kind) -> pd.DataFrame:
    """Every row logged for `kind` ("deals" or "clients") under `folder`, oldest first; empty if none."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    files = log_files(Path(folder) / kind)
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
