"""Seed 001's pages: one self-contained page per recruitment question (`cvre analyse recruitment`)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from cvre.analytics.dashboards.data import embed_json
from cvre.analytics.dashboards.pages import Page, Panel, render_page

PANELS = (Panel("chart", "Answer", note=True), Panel("answer-table", "The table behind it (filter, export)",
                                                    chart=False),
          Panel("detail", "Drill-down: click a bar or point to list its rows", chart=False, wide=True))


def _columns(frame: pd.DataFrame | None) -> dict | None:
    """A table as column arrays: numbers rounded, dates and categories as text, missing as null."""
    if frame is None:
        return None
    out = {}
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_bool_dtype(values):
            out[col] = values.astype(object).where(values.notna(), None).tolist()
        elif pd.api.types.is_numeric_dtype(values):
            v = values.astype(float).round(4)
            out[col] = [None if not np.isfinite(x) else x for x in v.tolist()]
        else:
            out[col] = values.astype(object).where(values.notna(), None).map(
                lambda x: x if x is None else str(x)).tolist()
    return out


def page_file(key: str) -> str:
    return f"recruitment_{key}.html"


def write_recruitment_pages(answers, out: Path, scope: str) -> dict[str, Path]:
    """One page per answer in `out`, each linking to all the others; returns key -> path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    links = {a.title.split(":")[0]: page_file(a.key) for a in answers}
    written = {}
    for a in answers:
        data = {"key": a.key, "headline": a.headline, "notes": a.notes, "truth": a.truth,
                "chart": asdict(a.chart), "slicer": a.slicer, "table": _columns(a.table),
                "detail": _columns(a.detail)}
        page = Page(a.key, page_file(a.key), a.title, a.question, PANELS)
        path = out / page.file
        path.write_text(render_page(page, embed_json(data), links, scope, script="recruitment.js"), encoding="utf-8")
        written[a.key] = path
    return written
