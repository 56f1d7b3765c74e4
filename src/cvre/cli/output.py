"""Output for people: a console that never cuts table cells, and third-party chatter kept in a log file.

Without `-v` the screen shows our summaries, our own warnings and progress bars; third-party warnings,
library logging (MLflow, Optuna, alembic, ...) go to `logs/cvre.log` in the project folder. With `-v`
they go to the screen as well, and an unexpected error prints its traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

from rich.console import Console

LOG_FILE = Path("logs") / "cvre.log"  # relative to the project folder (the working directory)
MLFLOW_COMMANDS = {"train", "leakage", "explain", "monitor", "models", "demo", "clients", "engagement"}
PIPED_WIDTH = 200  # a pipe or file has no width: wide enough that no table needs to cut a name
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def make_console() -> Console:
    """A terminal console; when stdout is piped, a wide one without colour codes, so tables stay whole."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return Console()
    return Console(width=PIPED_WIDTH, no_color=True, highlight=False)


def setup_logging(verbose: bool, log_file: Path = LOG_FILE) -> Path:
    """Route warnings and library logging to `log_file` (and to stderr with `verbose`); return the file."""
    os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")  # MLflow's own stderr handler: off, we route it
    if not verbose:
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # the download bars
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_cvre", False):
            root.removeHandler(handler)
    to_file = _LazyFileHandler(log_file, encoding="utf-8", delay=True)
    to_file.setFormatter(logging.Formatter(_FORMAT))
    to_screen = logging.StreamHandler(sys.stderr)
    to_screen.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if verbose:
        to_screen.addFilter(lambda record: not getattr(record, "file_only", False))
    else:  # our own warnings are for people; everything else only in the file
        to_screen.addFilter(lambda record: record.name.startswith("cvre") and record.levelno >= logging.WARNING)
    for handler in (to_file, to_screen):
        handler._cvre = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    _route_through_root("mlflow")  # imported before us (a host program, a test), MLflow kept its own handler
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    return log_file


def _route_through_root(name: str) -> None:
    """Drop a library logger's own handlers so its records reach ours (file, and screen with -v)."""
    library = logging.getLogger(name)
    for handler in list(library.handlers):
        library.removeHandler(handler)
    library.propagate = True


def quiet_mlflow_prints() -> None:
    """MLflow prints registry events ("Successfully registered model ...") straight to stderr, not through
    logging; without -v they are left out (the run and the registry keep the facts)."""
    from mlflow.utils.logging_utils import disable_logging

    disable_logging()


class _LazyFileHandler(logging.FileHandler):
    """Creates the log folder and file on the first record, so `--help` leaves nothing behind."""

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()
