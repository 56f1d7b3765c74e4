"""Label normalisation shared by value mappings and allowed-value checks."""

from __future__ import annotations

import re

import pandas as pd

_SPACES = re.compile(r"\s+")


def normalise_label(text: str) -> str:
    """'  Closed   Won ' -> 'closed_won': strip, lower case, collapse spaces, spaces to '_'."""
    return _SPACES.sub("_", text.strip().lower())


def normalise_labels(values: pd.Series) -> pd.Series:
    """Vectorised `normalise_label`; missing stays missing."""
    return values.str.strip().str.lower().str.replace(_SPACES, "_", regex=True)
