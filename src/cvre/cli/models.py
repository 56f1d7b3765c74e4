"""`cvre models list|promote|rollback`: the registry's versions and its champion alias, by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cvre.cli.output import make_console

models_app = typer.Typer(help="List, promote and roll back registered models.", no_args_is_help=True)
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="Training YAML naming the store and the "
                                                   "models (default: configs/training.yaml)", exists=True,
                                                   dir_okay=False)]
ModelName = Annotated[str, typer.Argument(help="Registered model, e.g. cvre-win.")]


def console() -> Console:
    """Made per command, so the terminal's width (or COLUMNS) at that moment is used."""
    return make_console()


def _fail(message: str) -> typer.Exit:
    console().print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


def _client(config: Path | None):
    from mlflow import MlflowClient

    from cvre.core.config import ConfigError, load_config
    from cvre.training.config import TrainingConfig
    from cvre.training.tracking import setup_tracking

    try:
        cfg = load_config(TrainingConfig, config, "training.yaml")
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    setup_tracking(cfg.tracking)
    return MlflowClient(), cfg


@models_app.command("list")
def models_list(config: ConfigOption = None) -> None:
    """Registered versions with their aliases, test metric and run status."""
    from cvre.training.registry import list_models

    client, cfg = _client(config)
    rows = list_models(client, list(cfg.registry.names.values()))
    if not rows:
        console().print("no registered models in this store yet: `cvre train` registers them")
        return
    table = Table(title="Registered models")
    for col in ("model", "version", "aliases", "metric", "value", "run", "run_id"):
        table.add_column(col, overflow="fold")  # a cut run id or model name is useless
    for row in rows:
        value = "-" if row["value"] is None else f"{row['value']:.4f}"
        table.add_row(row["model"], row["version"], row["aliases"], row["metric"], value, row["run_status"],
                      row["run_id"])
    console().print(table)


@models_app.command("promote")
def models_promote(
    name: ModelName,
    version: Annotated[str, typer.Argument(help="Version to make champion.")],
    config: ConfigOption = None,
) -> None:
    """Make VERSION the champion by hand (the replaced champion is remembered for rollback)."""
    from cvre.training.registry import promote

    client, _ = _client(config)
    try:
        previous = promote(client, name, version)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    was = f" (was v{previous})" if previous and previous != version else ""
    console().print(f"{name}: champion -> v{version}{was}")


@models_app.command("rollback")
def models_rollback(name: ModelName, config: ConfigOption = None) -> None:
    """Give the champion alias back to the previous champion."""
    from cvre.training.registry import rollback

    client, _ = _client(config)
    try:
        version = rollback(client, name)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    console().print(f"{name}: champion rolled back to v{version}")
