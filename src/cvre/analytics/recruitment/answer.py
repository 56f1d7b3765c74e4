"""One answered question: headline numbers, a table, a chart spec, a slicer and a drill-down for its page."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats


@dataclass
class Chart:
    kind: str  # bar | line | scatter | step
    x: str
    y: list[str]
    group: str | None = None  # one trace per value of this column
    text: str | None = None  # hover label column (e.g. client names on the quadrant)
    low: str | None = None  # interval columns drawn as error bars around y[0]
    high: str | None = None
    y_format: str = ""  # ".0%" for rates


@dataclass
class Answer:
    key: str
    title: str
    question: str
    headline: dict[str, str]
    table: pd.DataFrame
    chart: Chart
    slicer: str | None = None  # a column of `table` the page filters on
    detail: pd.DataFrame | None = None  # rows behind a chart point: filtered by the clicked x (`chart.x`)
    notes: list[str] = field(default_factory=list)
    truth: dict | None = None  # on simulated worlds: what the answer is checked against


def wilson(successes, trials, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion (arrays in, arrays out; NaN where there are no trials)."""
    k, n = np.asarray(successes, float), np.asarray(trials, float)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def bootstrap(values: np.ndarray, statistic, draws: int, level: float, seed: int) -> tuple[float, float]:
    """Percentile bootstrap interval of `statistic(sample)` over rows of `values`."""
    rng = np.random.default_rng(seed)
    n = len(values)
    results = [statistic(values[rng.integers(0, n, n)]) for _ in range(draws)]
    return tuple(np.quantile(results, [0.5 - level / 2, 0.5 + level / 2]).tolist())


def money(value: float) -> str:
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:.2f}M"
    return f"{value / 1e3:.1f}k" if size >= 1e3 else f"{value:.0f}"
