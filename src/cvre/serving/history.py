"""The model's reference tables (its training snapshot) cut to a scoring time and indexed, once per time, not per
request."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pandas as pd

from cvre.features.deal_table import DealReference
from cvre.features.request import RequestReference
from cvre.features.snapshot import tables_as_of


def latest_time(tables: dict[str, pd.DataFrame]) -> pd.Timestamp | None:
    """The last timestamp in any table: cutting at it, or any later time, changes nothing."""
    stamps = [frame[col].max() for frame in tables.values() for col in frame.columns
              if pd.api.types.is_datetime64_any_dtype(frame[col])]
    stamps = [s for s in stamps if pd.notna(s)]
    return max(stamps) if stamps else None


@dataclass(frozen=True)
class Snapshot:
    """The reference cut to a time, its deal ids, its index for the batch feature code (`DealReference`) and for
    the request path (`RequestReference`)."""

    tables: dict[str, pd.DataFrame]
    deal_ids: frozenset[str]
    index: DealReference | None
    request: RequestReference | None

    @classmethod
    def of(cls, tables: dict[str, pd.DataFrame]) -> Snapshot:
        opps = tables.get("opportunities")
        if opps is None:
            raise ValueError("the model's reference has no opportunities table: retrain it on a feature run with deals")
        index = DealReference.of(tables)
        return cls(tables, frozenset(opps["opportunity_id"].astype(str)), index, RequestReference.of(index))


class ReferenceHistory:
    """`tables_as_of(reference, as_of)`, indexed and cached: every time after the snapshot shares one entry (the
    usual case: scoring now), earlier times keep up to `max_cached` entries."""

    def __init__(self, reference: dict[str, pd.DataFrame], max_cached: int = 16):
        self.reference = reference
        self.latest = latest_time(reference)
        self.max_cached = max_cached
        self._cache: dict[pd.Timestamp | None, Snapshot] = {}
        self._lock = threading.Lock()

    def snapshot(self, as_of: pd.Timestamp) -> Snapshot:
        key = None if self.latest is None or as_of >= self.latest else as_of
        with self._lock:
            if key not in self._cache:
                if len(self._cache) >= self.max_cached:
                    self._cache.clear()
                self._cache[key] = Snapshot.of(tables_as_of(self.reference, self.latest if key is None else as_of))
            return self._cache[key]
