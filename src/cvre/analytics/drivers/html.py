"""One self-contained HTML driver report (tables inline, PNGs embedded as base64) for an analyst."""

from __future__ import annotations

import base64
import html
import numbers
from pathlib import Path

import pandas as pd

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}table{border-collapse:collapse;margin:.6em 0}
td,th{padding:.25em .7em;border-bottom:1px solid #eee;text-align:right}td:first-child,th:first-child{text-align:left}
.kpi{display:inline-block;margin:0 1.5em 1em 0}.kpi b{display:block;font-size:1.5em}.note{color:#666;font-size:.9em}
img{max-width:100%}"""


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame) -> str:
    """Shares and probabilities as percentages, other numbers with thousands separators."""
    percent = [("share" in str(c) or "probability" in str(c)) for c in frame.columns]

    def cell(v, pct: bool) -> str:
        if isinstance(v, float):
            return f"{v:.1%}" if pct else f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.2f}"
        return f"{v:,}" if isinstance(v, numbers.Integral) else html.escape(str(v))

    head = "".join(f"<th>{html.escape(str(c).replace('_eur', ' (EUR)').replace('_', ' '))}</th>"
                   for c in frame.columns)
    rows = "".join("<tr>" + "".join(f"<td>{cell(v, pct)}</td>" for v, pct in zip(row, percent, strict=True))
                   + "</tr>" for row in frame.itertuples(index=False))
    return f"<table><tr>{head}</tr>{rows}</table>"


def eur(value: float) -> str:
    return f"EUR {value:,.0f}"


def render(head: dict, by_group: pd.DataFrame, by_feature: pd.DataFrame, by_segment: pd.DataFrame,
           top: pd.DataFrame, plots: dict[str, Path], waterfalls: list[Path], segment_rows: int,
           max_display: int) -> str:
    """The report as one HTML string; every euro figure also sits in the run's tables."""
    sampled = head["method"] == "sample"
    margin = f" &plusmn; {1.96 * head['behaviour_cost_se_eur']:,.0f}" if sampled else ""
    kpis = [("deals explained", f"{head['deals']:,}"), ("expected value", eur(head["ev"])),
            ("shortfall vs base", eur(head["shortfall_eur"])),
            ("behaviours cost", eur(head["behaviour_cost_eur"]) + margin),
            (f"top behaviour: {head['top_behaviour']}", eur(head["top_behaviour_cost_eur"])),
            ("rule engine's leaked EV", eur(head["rule_leaked_ev"]))]
    parts = [f"<h1>Leakage drivers: what CRM behaviour costs the pipeline, {html.escape(str(head['as_of']))}</h1>",
             "".join(f'<div class="kpi">{html.escape(k)}<b>{v}</b></div>' for k, v in kpis),
             f"<p>{head['deals']:,} {html.escape(head['scope'])} deals scored by {html.escape(head['model'])}. "
             f"A deal's <b>shortfall</b> is its amount x (base probability {head['base_probability']:.1%} - its win "
             f"probability): the expected value it falls short of an average deal of the same size. TreeSHAP "
             f"(LightGBM pred_contrib, exact, every deal) splits the model's log-odds; each share is carried into "
             f"euros by the secant slope of the calibrated link, so a deal's driver euros add up to its shortfall "
             f"exactly (largest additivity error of TreeSHAP on the plotted deals: "
             f"{head['additivity_error']:.1e} log-odds). Positive euros cost the deal; negative ones add value.</p>",
             (f"<p><b>Sample:</b> {head['attributed_deals']:,} of {head['deals']:,} deals were attributed (seeded, "
              f"inclusion probability proportional to the amount, the top leaking deals always in); driver totals "
              f"are Horvitz-Thompson estimates, shown with their 95% margin (1.96 standard errors). Deal counts, "
              f"EV, shortfall and the rule engine's leaked EV are exact over all deals.</p>" if sampled else
              "<p>Every deal in scope was attributed: driver totals are exact sums.</p>"),
             "<h2>Driver groups</h2>", _img(plots["groups"], "driver groups"),
             _table(by_group[["group", "kind", "cost_eur", *(["cost_se_eur"] if sampled else []), "credit_eur",
                               "net_eur", "deals_costed", "share_of_cost"]]),
             "<h2>Top drivers (features)</h2>",
             _table(by_feature.head(max_display)[["label", "group", "cost_eur", "credit_eur", "net_eur",
                                                  "mean_abs_eur", "deals_costed"]]),
             f'<p class="note">Plots below: a seeded sample of {head["plot_sample"]:,} deals (tables: all deals). '
             f"Mean |EUR| of the plotted features in the sample is within {head['plot_sample_max_rel_error']:.1%} "
             f"of all deals'.</p>", _img(plots["bar"], "SHAP bar"), _img(plots["beeswarm"], "SHAP beeswarm"),
             "<h2>By segment</h2>"]
    for slicer, frame in by_segment.groupby("slicer", sort=False):
        parts += [f"<h3>{html.escape(str(slicer))}</h3>",
                  _table(frame.head(segment_rows)[["segment", "deals", "ev", "shortfall_eur", "top_driver",
                                                   "top_driver_eur"]])]
    parts += ["<h2>Top leaking deals</h2>", _table(top)]
    parts += [_img(path, path.stem) for path in waterfalls]
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>CVRE leakage drivers</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")
