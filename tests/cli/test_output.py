"""Output for people: library warnings in the log file (screen with -v), whole tables when piped, tracebacks
only with -v."""

from __future__ import annotations

import logging
import subprocess
import sys
import warnings

import pytest
from rich.table import Table

from cvre.cli.output import make_console, quiet_mlflow_prints, setup_logging

CVRE = [sys.executable, "-c", "from cvre.cli.main import run; run()"]


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    logging.captureWarnings(False)  # an earlier in-process CLI call may have captured them under pytest's recorder
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logging.captureWarnings(False)


def test_library_warnings_go_to_the_log_file_not_the_screen(tmp_path, capsys, restore_logging):
    log = setup_logging(verbose=False, log_file=tmp_path / "logs" / "cvre.log")
    warnings.warn("a library's ExperimentalWarning", UserWarning, stacklevel=1)
    logging.getLogger("mlflow.store").info("Downloading artifacts")
    logging.getLogger("cvre.features").warning("feature skipped: field absent")
    for handler in logging.getLogger().handlers:
        handler.flush()
    screen = capsys.readouterr().err
    text = log.read_text()
    assert "ExperimentalWarning" in text and "Downloading artifacts" in text and "feature skipped" in text
    assert "ExperimentalWarning" not in screen and "Downloading" not in screen
    assert "feature skipped" in screen  # our own warnings are for people


def test_verbose_shows_library_warnings_on_screen(tmp_path, capsys, restore_logging):
    setup_logging(verbose=True, log_file=tmp_path / "cvre.log")
    warnings.warn("a library's notice", UserWarning, stacklevel=1)
    assert "a library's notice" in capsys.readouterr().err


def test_mlflow_registry_prints_are_quiet_without_v(capsys):
    from mlflow.utils.logging_utils import enable_logging, eprint

    quiet_mlflow_prints()
    try:
        eprint("Successfully registered model 'cvre-win'.")
        assert "registered" not in capsys.readouterr().err
    finally:
        enable_logging()
    eprint("Created version '1'")
    assert "Created version" in capsys.readouterr().err


def test_help_leaves_no_log_folder_behind(tmp_path):
    done = subprocess.run([*CVRE, "simulate", "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and "--deals" in done.stdout
    assert not (tmp_path / "logs").exists()


def test_piped_tables_keep_whole_names(monkeypatch, capsys):
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    console = make_console()
    table = Table(title="Governance scenarios (EUR)")
    for col in ("scenario", "recovered by the rules", "recovered by the model", "true recovery", "model vs truth"):
        table.add_column(col)
    table.add_row("activity_evidence_with_a_long_name", "1,234,567", "2,345,678", "3,456,789", "-32%")
    console.print(table)
    out = capsys.readouterr().out
    assert "…" not in out and "activity_evidence_with_a_long_name" in out and "recovered by the model" in out
    assert "\x1b[" not in out  # no colour codes in a file


def test_unexpected_error_is_one_line_and_its_traceback_needs_v(tmp_path):
    (tmp_path / "a-file").write_text("")
    args = ["simulate", "--deals", "100", "--out", "a-file/world", "--no-progress"]  # cannot be a folder
    plain = subprocess.run([*CVRE, *args], cwd=tmp_path, capture_output=True, text=True)
    assert plain.returncode != 0
    assert "error:" in plain.stdout and "Traceback" not in plain.stdout + plain.stderr
    assert "-v" in plain.stdout
    verbose = subprocess.run([*CVRE, "-v", *args], cwd=tmp_path, capture_output=True, text=True)
    assert verbose.returncode == plain.returncode
    assert (verbose.stdout + verbose.stderr).count("Traceback") == 1
    assert "Traceback" in (tmp_path / "logs" / "cvre.log").read_text()
