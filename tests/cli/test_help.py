"""Every command and subcommand of `cvre` documents itself: a help line, and help text on every option."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from cvre.cli.main import app

runner = CliRunner()


def walk(command, path: tuple[str, ...] = ()) -> list[tuple]:
    """(path, command) for the command and everything under it (typer ships its own click)."""
    found = [(path, command)]
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            found += walk(sub, (*path, name))
    return found


ROOT = typer.main.get_command(app)
COMMANDS = [(path, command) for path, command in walk(ROOT) if path]


def test_the_walk_finds_every_command_and_the_models_subcommands():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"simulate", "import", "features", "train", "serve", "leakage", "report", "explain", "monitor", "demo",
            "models list", "models promote", "models rollback"} <= names


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_and_option_has_help(path, command):
    assert (command.help or command.short_help or "").strip(), f"cvre {' '.join(path)} has no help line"
    missing = [param.name for param in command.params
               if param.name != "help" and not (getattr(param, "help", None) or "").strip()]
    assert not missing, f"cvre {' '.join(path)}: options/arguments without help text: {missing}"
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for param in command.params:
        if param.param_type_name == "option" and param.name != "help":
            assert param.opts[0] in result.output, f"cvre {' '.join(path)} --help does not list {param.opts[0]}"
