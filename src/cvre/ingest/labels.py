"""Label normalisation shared by value mappings and allowed-value checks."""

from __future__ import annotations

import re

import pandas as pd

_SPACES = re.compile(r"\s+")


def normalise_label(text: str) -> str:
    """'  Closed   Won ' -> 'closed_won': strip, lower case, collapse spaces, spaces to '_'."""
    return _SPACES.sub("_", text.strip().lower())


def normalise_labels(values: pd.Series) -> pd.Series:
    """Vectorised `normalise_label`, worked out once per distinct label; missing stays missing."""
    codes, labels = pd.factorize(values)  # missing: code -1
    normalised = pd.Series(labels, dtype="string").str.strip().str.lower().str.replace(_SPACES, "_", regex=True)
    taken = normalised.array.take(codes, allow_fill=True)
    return pd.Series(taken, index=values.index, dtype="string")
