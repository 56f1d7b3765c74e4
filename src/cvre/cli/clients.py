"""`cvre clients` and `cvre analyse recruitment`: client analytics commands (registered in cli/main.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cvre.core.config import ConfigError, load_config

console = Console()
analyse_app = typer.Typer(help="Cross-analyses of CRM and back office (seed 001).", no_args_is_help=True)

DataOption = Annotated[Path, typer.Option("--data", "-d", help="World folder (with export/) or import folder.")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Snapshot YYYY-MM-DD (default: the data's).")]
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file (default: configs/...)",
                                                    exists=True, dir_okay=False)]


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=2)


def _tracking() -> None:
    from cvre.training.config import TrainingConfig
    from cvre.training.tracking import setup_tracking

    setup_tracking(load_config(TrainingConfig, None, "training.yaml").tracking)


def clients(
    data: DataOption = Path("data/world"),
    as_of: AsOfOption = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: DATA/clients).")] = None,
    pages: Annotated[Path | None, typer.Option("--pages", help="Folder for the Clients dashboard page "
                                               "(default: DATA/reports).")] = None,
    config: ConfigOption = None,
) -> None:
    """KPI board, RFM segments, sales trends and categories, lifetime value and campaign target lists."""
    from cvre.analytics.clients.config import ClientsConfig
    from cvre.analytics.clients.report import log_clients_run, print_clients
    from cvre.analytics.clients.run import run_clients

    try:
        cfg = load_config(ClientsConfig, config, "clients.yaml")
        run = run_clients(data, cfg, as_of, out)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None
    print_clients(run, console)
    from cvre.analytics.dashboards.clients_page import write_clients_page

    console.print(f"dashboard: {write_clients_page(run, pages or Path(data) / 'reports')}")
    _tracking()
    log_clients_run(run)
