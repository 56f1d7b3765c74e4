"""Dashboards in place of seed 000's Power BI pages: self-contained HTML that re-filters in the browser."""

from cvre.analytics.dashboards.build import build_reports
from cvre.analytics.dashboards.config import ReportConfig

__all__ = ["ReportConfig", "build_reports"]
