"""Imports run one way: the import-linter contracts in .importlinter (docs/architecture.md) hold."""

from __future__ import annotations

import configparser

import pytest
from importlinter.cli import lint_imports

from tests.conftest import REPO

CONTRACTS = REPO / ".importlinter"


def test_contracts_cover_layers_simulator_and_cycles():
    parser = configparser.ConfigParser()
    parser.read(CONTRACTS)
    types = {parser[s]["type"] for s in parser.sections() if s.startswith("importlinter:contract:")}
    assert types == {"layers", "forbidden", "acyclic_siblings"}
    assert "cvre.simulation" in parser["importlinter:contract:simulator-only-for-demo"]["forbidden_modules"]


def test_imports_keep_every_contract(capsys):
    code = lint_imports(config_filename=str(CONTRACTS), no_cache=True)
    if code != 0:
        pytest.fail("import contracts broken (see docs/architecture.md):\n" + capsys.readouterr().out[-4000:])
