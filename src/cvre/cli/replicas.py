"""`cvre replicas nginx-config|reload`: several `cvre serve` processes behind nginx, reloaded in turn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cvre.cli.output import make_console

replicas_app = typer.Typer(help="Serving replicas behind nginx: its configuration, and a rolling reload after a "
                           "promotion (docs/team.md).", no_args_is_help=True)
Replicas = Annotated[list[str], typer.Option("--replica", "-r", help="A `cvre serve` replica, host:port (or its "
                                              "URL); repeat for each.")]


@replicas_app.command("nginx-config")
def nginx_config_cmd(
    replica: Replicas,
    listen: Annotated[str, typer.Option(help="host:port nginx listens on.")] = "127.0.0.1:8080",
    out: Annotated[Path, typer.Option("--out", "-o", help="nginx.conf to write; its folder also holds nginx's "
                                      "pid, logs and temp files.")] = Path("deploy/nginx/nginx.conf"),
    max_body_bytes: Annotated[int, typer.Option(min=1024, help="Largest request body (as serving.yaml's "
                                                "max_body_bytes).")] = 4 * 1024 * 1024,
) -> None:
    """Write an nginx configuration that spreads requests over the replicas (run: nginx -c OUT)."""
    from cvre.deploy.replicas import nginx_config

    try:
        text = nginx_config(replica, listen, out.parent.resolve(), max_body_bytes)
    except ValueError as exc:
        make_console().print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    make_console().print(f"{out}: {len(replica)} replica(s) behind {listen}; start it with: nginx -c "
                         f"{out.resolve()}")


@replicas_app.command("reload")
def reload_cmd(
    replica: Replicas,
    api_key_env: Annotated[str, typer.Option(help="Environment variable holding the API key (serving.yaml's "
                                             "api_key_env).")] = "CVRE_API_KEY",
    timeout: Annotated[float, typer.Option(min=1, help="Seconds one replica may take to reload.")] = 300.0,
) -> None:
    """Reload the champions on every replica, one at a time (the others keep serving); stop at the first that
    fails. Run it after `cvre models promote` or a training run that promoted a model. Exit 1 on a failure."""
    from cvre.deploy.replicas import rolling_reload

    done = rolling_reload(replica, os.environ.get(api_key_env), timeout)
    table = Table(title="Rolling reload")
    for col in ("replica", "result", "serving"):
        table.add_column(col, overflow="fold")
    for item in done:
        serving = ", ".join(f"{name} v{version}" for name, version in sorted(item.serving.items()))
        table.add_row(item.url, "reloaded" if item.ok else f"FAILED: {item.error}", serving or "-")
    for url in replica[len(done):]:
        table.add_row(url, "not reloaded (stopped at the failure above)", "-")
    make_console().print(table)
    if not all(item.ok for item in done) or len(done) < len(replica):
        raise typer.Exit(code=1)
