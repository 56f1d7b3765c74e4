"""Which driver group (lead response, activity, stall, ...) each model feature belongs to."""

from __future__ import annotations

from fnmatch import fnmatchcase

import numpy as np

OTHER = "other"


def feature_groups(features: list[str], patterns: dict[str, list[str]]) -> list[str]:
    """The group of each feature: the first group with a matching name or glob, else 'other'."""
    return [next((g for g, globs in patterns.items() if any(fnmatchcase(f, p) for p in globs)), OTHER)
            for f in features]


def group_names(features: list[str], patterns: dict[str, list[str]]) -> list[str]:
    """Groups in config order, 'other' last, only those with at least one feature."""
    used = set(feature_groups(features, patterns))
    return [g for g in [*patterns, OTHER] if g in used]


def membership(features: list[str], patterns: dict[str, list[str]]) -> np.ndarray:
    """(features x groups) 0/1 matrix: per-deal feature euros @ membership = per-deal group euros."""
    groups, names = feature_groups(features, patterns), group_names(features, patterns)
    out = np.zeros((len(features), len(names)))
    out[np.arange(len(features)), [names.index(g) for g in groups]] = 1.0
    return out
