"""`cvre engagement`: seed 003's insights over contacts, campaigns and the support team."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()


def engagement(
    data: Annotated[Path, typer.Option("--data", "-d", help="World folder (with export/) or import folder.")] = (
        Path("data/world")),
    as_of: Annotated[str | None, typer.Option("--as-of", help="Snapshot YYYY-MM-DD (default: the data's).")] = None,
    compare: Annotated[list[str] | None, typer.Option(
        "--compare", help="A campaign id to set side by side; give it twice (default: the last two sent).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: DATA/engagement).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file (default: "
                                                "configs/engagement.yaml)", exists=True, dir_okay=False)] = None,
    report: Annotated[Path | None, typer.Option("--report", "-r", help="Folder for the four Engagement pages "
                                                "(default: DATA/reports).")] = None,
    track: Annotated[bool, typer.Option(help="Log an MLflow run (experiment cvre-engagement).")] = True,
) -> None:
    """Audience, campaign funnels, A/B tests, best send hour, support operations and the Morning Coffee view."""
    from cvre.analytics.engagement.config import EngagementConfig
    from cvre.analytics.engagement.run import run_engagement
    from cvre.analytics.engagement.summary import log_engagement_run, print_summary
    from cvre.core.config import ConfigError, load_config

    try:
        cfg = load_config(EngagementConfig, config, "engagement.yaml")
        if compare and len(compare) != 2:
            raise ConfigError(f"--compare: give two campaign ids (--compare A --compare B), got {len(compare)}")
        cfg.campaigns.compare = compare or cfg.campaigns.compare
        result = run_engagement(data, cfg, as_of, out)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    print_summary(result, console)
    from cvre.analytics.dashboards.engagement_pages import write_engagement_pages

    pages = write_engagement_pages(result.tables, result.headline, report or Path(data) / "reports",
                                   cfg.campaigns.alpha)
    console.print(f"dashboards: {', '.join(str(p) for p in pages.values())}")
    if track:
        from cvre.training.config import TrainingConfig
        from cvre.training.tracking import setup_tracking

        setup_tracking(load_config(TrainingConfig, None, "training.yaml").tracking)
        log_engagement_run(result, cfg.experiment_name)
