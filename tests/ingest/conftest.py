"""Fixtures for ingest tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import DATASETS


@pytest.fixture
def datasets() -> Path:
    if not DATASETS.is_dir():
        pytest.skip(f"real datasets not found at {DATASETS}")
    return DATASETS
