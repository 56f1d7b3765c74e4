"""The HTML pages: one template, plotly.js and the data inlined so each page opens offline."""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

ASSETS = Path(__file__).resolve().parent / "assets"


@dataclass(frozen=True)
class Panel:
    id: str
    title: str
    chart: bool = True
    wide: bool = False
    breakdown: bool = False  # carries the "break down by" selector
    note: bool = False  # carries a line of text under the chart


@dataclass(frozen=True)
class Page:
    key: str
    file: str
    title: str
    question: str
    panels: tuple[Panel, ...]


PAGES = (
    Page("health", "value_health.html", "Value health and leakage",
         "Is there a value problem? Where is revenue leaking? How trustworthy is the pipeline?",
         (Panel("waterfall", "From expected value to healthy EV (each deal's leak under its largest haircut)"),
          Panel("behaviours", "Leakage by behaviour"),
          Panel("segments", "Leakage by segment", breakdown=True),
          Panel("trust", "CRM trust score: its four shares"),
          Panel("top-deals", "Top leaking deals", chart=False, wide=True))),
    Page("recovery", "recovery_scenarios.html", "Recovery scenarios and decisions",
         "What rules should be enforced? How much does each recover? Where should enforcement start?",
         (Panel("scenarios", "EV recovered per scenario: causal estimate vs rule engine vs win model vs truth",
                note=True),
          Panel("roi", "Governance ROI per scenario (dotted: break-even)"),
          Panel("rulebook", "Rulebook, by priority (EV recovered, then deals affected)", chart=False, wide=True),
          Panel("start", "Where to start: recoverable EV", wide=True, breakdown=True))),
)


@cache
def asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


@cache
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def euros(value: float) -> str:
    """'EUR 27.9M', 'EUR 840k', 'EUR 512': the pages' script formats the same way."""
    size = abs(value)
    if size >= 1e9:
        return f"EUR {value / 1e9:.2f}B"
    if size >= 1e6:
        return f"EUR {value / 1e6:.1f}M"
    return f"EUR {value / 1e3:.0f}k" if size >= 1e3 else f"EUR {value:.0f}"


def _panel(panel: Panel) -> str:
    classes = "panel wide" if panel.wide else "panel"
    selector = ('<label class="note">Break down by <select id="breakdown"></select></label>'
                if panel.breakdown else "")
    body = f'<div id="{panel.id}" class="chart"></div>' if panel.chart else f'<div id="{panel.id}"></div>'
    note = f'<p id="{panel.id}-note" class="note"></p>' if panel.note else ""
    return f'<section class="{classes}"><h2>{html.escape(panel.title)}</h2>{selector}{body}{note}</section>'


def nav_links(links: dict[str, str]) -> str:
    return " ".join(f'<a href="{html.escape(href)}">{html.escape(text)}</a>' for text, href in links.items())


def render_page(page: Page, data_json: str, links: dict[str, str], scope: str, script: str = "dashboard.js") -> str:
    return Template(asset("page.html")).substitute(
        title=html.escape(page.title), question=html.escape(page.question), page=page.key,
        nav=nav_links(links), scope=html.escape(scope), panels="\n".join(_panel(p) for p in page.panels),
        style=asset("dashboard.css"), plotlyjs=plotly_js(), data=data_json, script=asset(script))


def render_index(headline: dict, links: dict[str, str], scope: str) -> str:
    cards = {"Pipeline expected value": euros(headline["ev"]),
             "Leaked EV": f"{euros(headline['leaked_ev'])} ({headline['leaked_share']:.1%})",
             "Recoverable EV": f"{euros(headline['recoverable_ev'])} "
                               f"({headline['recoverable_share_of_leakage']:.1%} of leakage)",
             "Governance ROI": f"{headline['governance_roi']:.1f}x",
             "CRM trust score": f"{headline['trust_score']:.1%}"}
    items = "".join(f'<div class="kpi"><div class="label">{k}</div><div class="value">{html.escape(v)}</div></div>'
                    for k, v in cards.items())
    pages = "".join(f'<li><a href="{html.escape(href)}">{html.escape(text)}</a></li>' for text, href in links.items())
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>CVRE dashboards</title>'
            f'<style>{asset("dashboard.css")}</style></head><body><header><h1>CRM Value Realisation Engine</h1>'
            f'<p class="scope">{html.escape(scope)}</p></header><section class="kpis">{items}</section>'
            f'<section class="panel"><h2>Pages</h2><ul>{pages}</ul></section></body></html>')
