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


def _run(model, config: Path | None, name: str, run, data: Path, as_of: str | None, out: Path | None):
    """Load the config and run the analysis; a bad config or missing table is one line and exit code 2."""
    try:
        return run(data, load_config(model, config, name), as_of, out)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None


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

    run = _run(ClientsConfig, config, "clients.yaml", run_clients, data, as_of, out)
    print_clients(run, console)
    from cvre.analytics.dashboards.clients_page import write_clients_page

    console.print(f"dashboard: {write_clients_page(run, pages or Path(data) / 'reports')}")
    _tracking()
    log_clients_run(run)


@analyse_app.command("recruitment")
def recruitment(
    data: DataOption = Path("data/recruitment"),
    as_of: AsOfOption = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: DATA/recruitment).")] = None,
    pages: Annotated[Path | None, typer.Option("--pages", help="Folder for the pages (default: DATA/reports).")] = None,
    config: ConfigOption = None,
) -> None:
    """Seed 001's CRM x back-office questions: one table and one page each (needs a jobs table)."""
    from cvre.analytics.dashboards.recruitment_pages import write_recruitment_pages
    from cvre.analytics.recruitment.config import RecruitmentConfig
    from cvre.analytics.recruitment.report import log_recruitment_run, print_recruitment
    from cvre.analytics.recruitment.run import run_recruitment

    run = _run(RecruitmentConfig, config, "recruitment.yaml", run_recruitment, data, as_of, out)
    print_recruitment(run, console)
    written = write_recruitment_pages(run.answers, pages or Path(data) / "reports",
                                      f"{len(run.answers)} questions, jobs opened up to {run.as_of.date()}")
    console.print(f"pages: {next(iter(written.values())).parent} ({len(written)} pages)")
    _tracking()
    log_recruitment_run(run)
