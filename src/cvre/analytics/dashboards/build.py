"""`cvre report`: the leakage outputs as two self-contained HTML dashboards and an index."""

from __future__ import annotations

import os
from pathlib import Path

from cvre.analytics.config import LeakageConfig
from cvre.analytics.dashboards.config import ReportConfig
from cvre.analytics.dashboards.data import dashboard_rows, deal_context, embed_json, payload, read_leakage
from cvre.analytics.dashboards.engagement_pages import engagement_links
from cvre.analytics.dashboards.pages import PAGES, render_index, render_page
from cvre.core.config import load_config

EXPLAIN_REPORT = Path("explain") / "report.html"  # written by `cvre explain`, linked when present


def _check_rulebook(cfg: ReportConfig, scenarios: list[str]) -> None:
    unknown = sorted({r.scenario for r in cfg.rulebook if r.scenario} - set(scenarios))
    if unknown:
        raise ValueError(f"report config: rulebook scenarios {unknown} are not in the leakage run "
                         f"(it has {', '.join(scenarios)})")


def page_links(data: Path, out: Path) -> dict[str, str]:
    """Link text -> address relative to `out`: the overview, both pages, and the driver report when present."""
    links = {"Overview": "index.html", **{p.title: p.file for p in PAGES}}
    explain = Path(data) / EXPLAIN_REPORT
    if explain.exists():
        links["Driver report (SHAP)"] = os.path.relpath(explain.resolve(), Path(out).resolve())
    links.update({t: f for t, f in engagement_links().items() if (Path(out) / f).exists()})  # `cvre engagement`
    for title, file in (("Clients", "clients.html"), ("Recruitment (seed 001)", "recruitment_seasonality.html")):
        if (Path(out) / file).exists():  # written by `cvre clients` and `cvre analyse recruitment`
            links[title] = file
    return links


def build_reports(leakage_dir: Path, out: Path, cfg: ReportConfig, data: Path | None = None,
                  leakage_cfg: LeakageConfig | None = None) -> dict[str, Path]:
    """Write the dashboards to `out`; returns page name -> path ('index' first). `data` defaults to the parent."""
    leakage_dir, out = Path(leakage_dir), Path(out)
    data = Path(data) if data is not None else leakage_dir.parent
    outputs = read_leakage(leakage_dir)
    _check_rulebook(cfg, outputs.scenarios["scenario"].tolist())
    rules = (leakage_cfg or load_config(LeakageConfig, None, "leakage.yaml")).rules
    rows = dashboard_rows(outputs, deal_context(data, outputs.headline), cfg, rules)
    data_json = embed_json(payload(rows, outputs, cfg))
    h = outputs.headline
    scope = (f"{'Open pipeline' if h['scope'] == 'open' else 'All deals'}, {h['deals']:,} deals as of {h['as_of']}; "
             f"win probability from the {h['probability']}")
    links = page_links(data, out)
    out.mkdir(parents=True, exist_ok=True)
    written = {"index": out / "index.html"}
    written["index"].write_text(render_index(h, {k: v for k, v in links.items() if k != "Overview"}, scope),
                                encoding="utf-8")
    for page in PAGES:
        written[page.key] = out / page.file
        written[page.key].write_text(render_page(page, data_json, links, scope), encoding="utf-8")
    return written
